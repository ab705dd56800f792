"""The planning asset drives on an OpenStreetMap road network when the operation supplies an extract.

Runs the real ``demo_daily`` job (small world, Liechtenstein) with ``LASTMILE_ROAD_NETWORK`` pointing at the
Liechtenstein extract in ``../shared/data/osm``: the stored plan records the road network's version, passes the
blocking validation against that network, and its legs inside the country are longer than the straight line.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
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
def road_warehouse(tmp_path_factory, dbt_manifest) -> Path:
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
    return dirs.warehouse


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
