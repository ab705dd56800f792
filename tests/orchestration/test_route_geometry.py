"""Tests of orchestration.route_geometry: the road polylines of planned routes, and plans.route_geometry."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from orchestration.route_geometry import GEOMETRY_COLUMNS, route_geometry, route_waypoints, write_route_geometry
from orchestration.serving import publish_snapshot
from solver import (
    Depot,
    GreatCircleTravelModel,
    MatrixTravelModel,
    Order,
    Plan,
    PlannedReload,
    PlannedRoute,
    PlannedStop,
    Problem,
    SolveStats,
)
from tests.solver.factories import HOUR, van

MONACO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "osm" / "monaco.osm.pbf"
needs_monaco = pytest.mark.skipif(not MONACO.is_file(), reason=f"OpenStreetMap extract {MONACO} is not there")

HOME = Depot("D-HOME", 43.7295, 7.4180, opens_s=6 * HOUR, closes_s=20 * HOUR)  # Fontvieille
OTHER = Depot("D-OTHER", 43.7455, 7.4350, opens_s=6 * HOUR, closes_s=20 * HOUR)  # Larvotto
PLACES = {
    "O-CASINO": (43.7394, 7.4283),
    "O-STATION": (43.7388, 7.4200),
    "O-PALACE": (43.7314, 7.4198),
    "O-HOSPITAL": (43.7370, 7.4130),
}


class StraightLines:
    """A fake travel model with ``paths``: every leg is the straight line; records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[float], list[float]]] = []

    def paths(self, lat, lon):
        self.calls.append((list(lat), list(lon)))
        return [[(lon[k], lat[k]), (lon[k + 1], lat[k + 1])] for k in range(len(lat) - 1)]


def _order(order_id: str) -> Order:
    lat, lon = PLACES[order_id]
    return Order(order_id, lat, lon, weight_g=1000, volume_cm3=1000, service_s=120, tw_start_s=0, tw_end_s=86_399)


def _route(route_id: str, order_ids: list[str], reload_after: tuple[int, ...] = (), end: str = "") -> PlannedRoute:
    stops = tuple(
        PlannedStop(order_id, k + 1, 8 * HOUR + 600 * k, 8 * HOUR + 600 * k, 8 * HOUR + 600 * k + 120, 0, 500, 60)
        for k, order_id in enumerate(order_ids)
    )
    reloads = tuple(PlannedReload(after, 9 * HOUR, 9 * HOUR + 900, 500, 60) for after in reload_after)
    return PlannedRoute(
        route_id=route_id,
        vehicle_id=route_id.removeprefix("D-HOME-"),
        vehicle_type="van",
        stops=stops,
        start_s=8 * HOUR,
        end_s=10 * HOUR,
        distance_m=5000,
        duration_s=2 * HOUR,
        weight_g=1000 * len(stops),
        volume_cm3=1000 * len(stops),
        cost_eur=50.0,
        end_depot_id=end,
        reloads=reloads,
    )


def _problem_and_plan(routes: tuple[PlannedRoute, ...]) -> tuple[Problem, Plan]:
    problem = Problem(
        depot=HOME,
        orders=tuple(_order(o) for o in PLACES),
        vehicles=(van("V-01", end_depot_id="D-OTHER", max_reloads=1), van("V-02")),
        depots=(OTHER,),
    )
    stats = SolveStats(0.1, 1, 0.0, True, len(PLACES), 2, "max_iters")
    return problem, Plan(HOME.depot_id, routes, (), stats)


def test_a_route_visits_start_depot_stops_reload_and_its_end_depot_in_order():
    route = _route("D-HOME-V-01", ["O-CASINO", "O-STATION"], reload_after=(1,), end="D-OTHER")
    problem, plan = _problem_and_plan((route,))
    model = StraightLines()

    geometry = route_geometry([problem], [plan], model)

    assert list(geometry.columns) == list(GEOMETRY_COLUMNS)
    casino, station = PLACES["O-CASINO"], PLACES["O-STATION"]
    expected = [HOME, casino, HOME, station, OTHER]
    expected = [(p.lon, p.lat) if isinstance(p, Depot) else (p[1], p[0]) for p in expected]
    assert list(zip(geometry.lon, geometry.lat, strict=True)) == expected
    assert geometry.seq.tolist() == [0, 1, 2, 3, 4]
    assert set(geometry.route_id) == {"D-HOME-V-01"} and set(geometry.depot_id) == {"D-HOME"}
    assert len(model.calls) == 1  # one call per route
    assert route_waypoints(problem, route) == model.calls[0]


def test_routes_are_kept_apart_and_each_starts_its_own_seq():
    routes = (
        _route("D-HOME-V-01", ["O-CASINO"], end="D-OTHER"),
        _route("D-HOME-V-02", ["O-PALACE", "O-HOSPITAL"]),
    )
    problem, plan = _problem_and_plan(routes)

    geometry = route_geometry([problem], [plan], StraightLines())

    first = geometry[geometry.route_id == "D-HOME-V-01"]
    second = geometry[geometry.route_id == "D-HOME-V-02"]
    assert first.seq.tolist() == [0, 1, 2] and second.seq.tolist() == [0, 1, 2, 3]
    assert (first.lon.iloc[-1], first.lat.iloc[-1]) == (OTHER.lon, OTHER.lat)
    home = (HOME.lon, HOME.lat)
    assert (second.lon.iloc[0], second.lat.iloc[0]) == (second.lon.iloc[-1], second.lat.iloc[-1]) == home


@pytest.mark.parametrize("model", ["great_circle", "matrix", "none"])
def test_a_travel_model_without_paths_gives_no_geometry(model):
    problem, plan = _problem_and_plan((_route("D-HOME-V-02", ["O-PALACE"]),))
    lat, lon = problem.location_coordinates()
    n = len(lat)
    travel = {
        "great_circle": GreatCircleTravelModel(),
        "matrix": MatrixTravelModel(lat, lon, np.ones((n, n), dtype=np.int64), np.ones((n, n), dtype=np.int64)),
        "none": None,
    }[model]

    geometry = route_geometry([problem], [plan], travel)

    assert geometry.empty and list(geometry.columns) == list(GEOMETRY_COLUMNS)


def test_writing_replaces_the_rows_of_the_plan_only():
    problem, plan = _problem_and_plan((_route("D-HOME-V-02", ["O-PALACE", "O-HOSPITAL"]),))
    geometry = route_geometry([problem], [plan], StraightLines())
    with duckdb.connect(":memory:") as conn:
        assert write_route_geometry(conn, "p1", geometry) == 4
        assert write_route_geometry(conn, "p2", geometry.iloc[:2]) == 2
        assert write_route_geometry(conn, "p1", geometry.iloc[:3]) == 3  # again: replaces, no duplicates
        counts = dict(conn.execute("select plan_id, count(*) from plans.route_geometry group by 1").fetchall())
        first = conn.execute(
            "select depot_id, route_id, seq, lon, lat from plans.route_geometry where plan_id = 'p1' order by seq"
        ).fetchall()
    assert counts == {"p1": 3, "p2": 2}
    assert first == list(geometry.iloc[:3].itertuples(index=False, name=None))


@needs_monaco
def test_on_the_monaco_roads_a_route_has_more_vertices_than_stops_and_ends_at_its_depots():
    from solver.roads import RoadTravelModel

    route = _route("D-HOME-V-01", ["O-CASINO", "O-STATION", "O-PALACE"], reload_after=(1,), end="D-OTHER")
    problem, plan = _problem_and_plan((route,))

    geometry = route_geometry([problem], [plan], RoadTravelModel(str(MONACO)))

    assert len(geometry) > 3 * (len(route.stops) + 3)  # roads bend between every two of the 6 waypoints
    assert (geometry.lon.iloc[0], geometry.lat.iloc[0]) == (HOME.lon, HOME.lat)
    assert (geometry.lon.iloc[-1], geometry.lat.iloc[-1]) == (OTHER.lon, OTHER.lat)
    points = set(zip(geometry.lon, geometry.lat, strict=True))
    assert all((PLACES[s.order_id][1], PLACES[s.order_id][0]) in points for s in route.stops)
    # the reload passes the home depot a second time, between casino and station
    at_home = np.flatnonzero((geometry.lon == HOME.lon) & (geometry.lat == HOME.lat))
    casino = np.flatnonzero(geometry.lon == PLACES["O-CASINO"][1])[0]
    station = np.flatnonzero(geometry.lon == PLACES["O-STATION"][1])[0]
    assert at_home.tolist()[0] == 0 and any(casino < k < station for k in at_home)
    assert geometry.seq.tolist() == list(range(len(geometry)))


def _serving_warehouse(conn, *, with_geometry: bool) -> None:
    """Marts of one current plan p2 (p1 is an older version of the date), and plans.route_geometry of both."""
    conn.execute("create schema marts")
    conn.execute(
        "create table marts.dim_depots as select 'D-HOME' as depot_id, 'Home' as depot_name, 's' as street, "
        "'98000' as postcode, 'Monaco' as town, 43.7 as lat, 7.4 as lon, 21600 as opens_s, 72000 as closes_s, "
        "'Europe/Monaco' as timezone"
    )
    conn.execute(
        "create table marts.dim_plan_versions as select * from (values "
        "('p1', date '2026-03-03', 'daily', 1, now(), 0, 5.0, 1.0, 1.0, 1, 1, 0, 'valid', false), "
        "('p2', date '2026-03-03', 'daily', 2, now(), 0, 5.0, 1.0, 1.0, 1, 1, 0, 'valid', true)) as t(plan_id, "
        "service_date, kind, version, created_at_utc, seed, time_budget_s, runtime_s, objective, n_orders, "
        "n_assigned, n_unassigned, status, is_current)"
    )
    for name in ("fct_planned_routes", "fct_planned_stops", "fct_plan_unassigned", "fct_plan_kpis"):
        conn.execute(
            f"create table marts.{name} as select 'p2' as plan_id, date '2026-03-03' as service_date, "
            "'D-HOME' as depot_id, 'D-HOME-V-02' as route_id, 1 as sequence, 'O-PALACE' as order_id"
        )
    if with_geometry:
        problem, plan = _problem_and_plan((_route("D-HOME-V-02", ["O-PALACE", "O-HOSPITAL"]),))
        geometry = route_geometry([problem], [plan], StraightLines())
        write_route_geometry(conn, "p1", geometry.iloc[:2])
        write_route_geometry(conn, "p2", geometry)


def test_the_snapshot_publishes_the_geometry_of_the_current_plans(tmp_path):
    with duckdb.connect(":memory:") as conn:
        _serving_warehouse(conn, with_geometry=True)
        published = publish_snapshot(conn, tmp_path)
    table = pq.read_table(published.path / "route_geometry.parquet").to_pandas()
    assert list(table.columns) == ["plan_id", "service_date", "depot_id", "route_id", *GEOMETRY_COLUMNS[2:]]
    assert set(table.plan_id) == {"p2"} and table.seq.tolist() == [0, 1, 2, 3]
    assert str(table.service_date.iloc[0]) == "2026-03-03"
    assert published.row_counts["route_geometry"] == 4


def test_a_warehouse_without_geometry_publishes_no_geometry_file(tmp_path):
    with duckdb.connect(":memory:") as conn:
        _serving_warehouse(conn, with_geometry=False)
        published = publish_snapshot(conn, tmp_path)
    assert not (published.path / "route_geometry.parquet").exists()
    assert "route_geometry" not in published.row_counts
