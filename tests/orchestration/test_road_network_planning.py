"""The planning asset drives on an OpenStreetMap road network when the operation supplies an extract.

Runs the real ``demo_daily`` job (small world, Liechtenstein) with ``LASTMILE_ROAD_NETWORK`` pointing at the
Liechtenstein extract in ``../shared/data/osm``: the stored plan records the road network's version, passes the
blocking validation against that network, and its legs inside the country are longer than the straight line;
every route's road polyline is stored in ``plans.route_geometry`` and published as ``route_geometry.parquet``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from orchestration.cli import run_day
from solver import haversine_m
from solver.roads import RoadTravelModel
from tests.conftest import E2E_SEED, _data_dirs

PBF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "osm" / "liechtenstein-latest.osm.pbf"
DATE = "2026-03-04"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not PBF.exists(), reason=f"OpenStreetMap extract {PBF} is not there"),
]


@pytest.fixture(scope="module")
def road_dirs(tmp_path_factory, dbt_manifest):
    dirs = _data_dirs(tmp_path_factory.mktemp("road-network"))
    dirs.dagster_home.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "LASTMILE_DATA_DIR": dirs.root,
            "LASTMILE_LANDING_DIR": dirs.landing,
            "LASTMILE_WAREHOUSE": dirs.warehouse,
            "LASTMILE_SERVING_DIR": dirs.serving,
            "LASTMILE_DEMO_SCALE": "small",
            "LASTMILE_DEMO_SEED": E2E_SEED,
            "DAGSTER_HOME": dirs.dagster_home,
            "GX_ANALYTICS_ENABLED": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "LASTMILE_ROAD_NETWORK": PBF,
        }.items():
            patch.setenv(name, str(value))
        result = run_day(DATE, time_budget_s=20, seed=0, job_name="demo_daily", max_iters=300)
        assert result.success
    return dirs


@pytest.fixture(scope="module")
def road_warehouse(road_dirs) -> Path:
    return road_dirs.warehouse


def test_the_plan_drives_on_the_road_network(road_warehouse):
    model = RoadTravelModel(str(PBF))
    with duckdb.connect(str(road_warehouse), read_only=True) as conn:
        status, version = conn.execute(
            "select status, travel_model_version from plans.plan_runs where service_date = ? order by version desc",
            [DATE],
        ).fetchone()
        legs = conn.execute(
            """select s.leg_distance_m, o.lat, o.lon, lag(o.lat) over w as prev_lat, lag(o.lon) over w as prev_lon
               from plans.stops s
               join plans.plan_runs r using (plan_id)
               join marts.fct_orders_to_plan o on o.order_id = s.order_id and o.service_date = r.service_date
               where r.service_date = ? and r.status = 'valid'
               window w as (partition by s.plan_id, s.route_id order by s.sequence)
               order by s.route_id, s.sequence""",
            [DATE],
        ).fetchdf()
    assert status == "valid"  # the blocking check validated the plan against the road network
    assert version == model.version and version.startswith("osm:liechtenstein")
    legs = legs.dropna()
    inside = legs[(legs.lon < 9.60) & (legs.prev_lon < 9.60) & (legs.lat > 47.05) & (legs.prev_lat > 47.05)]
    straight = haversine_m(inside.prev_lat, inside.prev_lon, inside.lat, inside.lon)
    far = np.asarray(straight) > 300
    assert far.sum() >= 5, "too few legs inside the extract to compare"
    ratio = np.asarray(inside.leg_distance_m)[far] / np.asarray(straight)[far]
    assert (ratio >= 1.0).all()
    assert np.median(ratio) > 1.05  # roads wind; the great-circle fallback would be exactly 1.3 everywhere
    assert not np.allclose(ratio, 1.3, atol=0.01)


def test_every_route_of_the_plan_has_its_road_polyline_from_depot_to_depot(road_warehouse):
    with duckdb.connect(str(road_warehouse), read_only=True) as conn:
        routes = conn.execute(
            """select r.plan_id, r.route_id, r.n_stops, s.lon as start_lon, s.lat as start_lat,
                      e.lon as end_lon, e.lat as end_lat
               from plans.routes r
               join plans.plan_runs p using (plan_id)
               join marts.dim_depots s on s.depot_id = coalesce(nullif(r.start_depot_id, ''), r.depot_id)
               join marts.dim_depots e on e.depot_id = coalesce(nullif(r.end_depot_id, ''), r.depot_id)
               where p.service_date = ? and p.status = 'valid'""",
            [DATE],
        ).fetchdf()
        geometry = conn.execute(
            """select g.plan_id, g.route_id, g.seq, g.lon, g.lat
               from plans.route_geometry g join plans.plan_runs p using (plan_id)
               where p.service_date = ? and p.status = 'valid'
               order by g.plan_id, g.route_id, g.seq""",
            [DATE],
        ).fetchdf()
    assert len(routes) >= 2
    lines = {key: group for key, group in geometry.groupby(["plan_id", "route_id"])}
    assert set(lines) == set(zip(routes.plan_id, routes.route_id, strict=True))
    for route in routes.itertuples():
        line = lines[(route.plan_id, route.route_id)]
        assert line.seq.tolist() == list(range(len(line)))
        assert (line.lon.iloc[0], line.lat.iloc[0]) == pytest.approx((route.start_lon, route.start_lat), abs=1e-9)
        assert (line.lon.iloc[-1], line.lat.iloc[-1]) == pytest.approx((route.end_lon, route.end_lat), abs=1e-9)
        assert len(line) > route.n_stops + 2, f"route {route.route_id} is drawn straight"


def test_the_published_snapshot_has_the_route_geometry(road_dirs):
    snapshot = road_dirs.serving / "snapshots" / (road_dirs.serving / "CURRENT").read_text().strip()
    published = pq.read_table(snapshot / "route_geometry.parquet").to_pandas()
    routes = pq.read_table(snapshot / "planned_routes.parquet").to_pandas()
    published_dates = {str(d) for d in published.service_date}
    assert DATE in published_dates
    today = routes[routes.service_date.astype(str) == DATE]
    assert set(zip(published.plan_id, published.route_id, strict=True)) >= set(
        zip(today.plan_id, today.route_id, strict=True)
    )
    assert len(published) > len(today)
