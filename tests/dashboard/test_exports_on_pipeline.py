"""The exports on the snapshot the real pipeline published (small demo world): manifests, printable page and GeoJSON
hold exactly the planned routes and stops of the plan marts, and tell the driver about pickups, reloads and breaks.

No fakes: `demo_pipeline` runs the Dagster job end to end; these tests read what its serving asset wrote.
"""

import datetime as dt
import json

import duckdb
import pytest

from dashboard import exports, manifest_queries, queries
from dashboard.snapshot import current_snapshot
from tests.conftest import E2E_SERVICE_DATE

pytestmark = pytest.mark.e2e

SERVICE_DATE = dt.date.fromisoformat(E2E_SERVICE_DATE)


@pytest.fixture(scope="module")
def plan(demo_pipeline):
    """The published plan of the e2e date (routes, manifest stops, depots, geometry) and the marts' own rows."""
    key = current_snapshot().key
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        mart_stops = conn.execute(
            "select vehicle_id, sequence, order_id, order_type from marts.fct_planned_stops "
            "where service_date = ? order by depot_id, vehicle_id, route_id, sequence",
            [SERVICE_DATE],
        ).fetchall()
        mart_routes = conn.execute(
            "select vehicle_id, n_reloads, break_start_s is not null from marts.fct_planned_routes "
            "where service_date = ? order by depot_id, vehicle_id, route_id",
            [SERVICE_DATE],
        ).fetchall()
    return {
        "routes": queries.planned_routes(key, SERVICE_DATE),
        "stops": manifest_queries.manifest_stops(key, SERVICE_DATE),
        "depots": queries.depots(key),
        "geometry": queries.route_geometry(key, SERVICE_DATE),
        "mart_stops": mart_stops,
        "mart_routes": mart_routes,
    }


def test_manifests_hold_every_planned_stop_in_order(plan):
    """One manifest row per planned stop, routes in depot and vehicle order, stops by sequence; a pickup is
    marked; a route that reloads says so once per reload; a route with a break says so once."""
    table = exports.manifests(plan["routes"], plan["stops"])
    assert len(table) == len(plan["mart_stops"]) > 0
    assert list(zip(table["Vehicle"], table["Stop"], table["Order"], strict=True)) == [
        (vehicle, sequence, order) for vehicle, sequence, order, _ in plan["mart_stops"]
    ]
    pickups = {order for _, _, order, kind in plan["mart_stops"] if kind == "pickup"}
    assert {order for order, note in zip(table["Order"], table["Notes"], strict=True) if "PICKUP" in note} == pickups
    for vehicle, n_reloads, has_break in plan["mart_routes"]:
        notes = table.loc[table["Vehicle"] == vehicle, "Notes"]
        assert notes.str.contains("Reload at").sum() == n_reloads, vehicle
        assert notes.str.contains("Break ").sum() == int(has_break), vehicle
    csv = exports.to_csv(table)
    assert csv.decode("utf-8-sig").count("\n") == len(table) + 1


def test_printable_page_has_a_section_per_route(plan):
    """One page section per route, and every planned order on the page."""
    document = exports.manifest_html(plan["routes"], plan["stops"])
    assert document.count('<section class="route"') == len(plan["mart_routes"])
    assert all(f">{order}<" in document for _, _, order, _ in plan["mart_stops"])


def test_geojson_of_the_pipeline_plan(plan):
    """A line per route (along the roads where the snapshot has road geometry), a point per stop, strict JSON."""
    collection = json.loads(
        exports.geojson_bytes(exports.plan_geojson(plan["routes"], plan["stops"], plan["depots"], plan["geometry"]))
    )
    kinds = [feature["properties"]["kind"] for feature in collection["features"]]
    assert kinds.count("route") == len(plan["mart_routes"])
    assert kinds.count("stop") == len(plan["mart_stops"])
    sources = {f["properties"]["geometry_source"] for f in collection["features"] if f["properties"]["kind"] == "route"}
    assert sources == ({"road"} if not plan["geometry"].empty else {"straight"})
