"""End to end: the real Dagster job materialises the whole graph on the small demo world, twice.

Real parts only: simulator landing files, DuckDB file, `dbt build`, PyVRP solves, Parquet snapshot.
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.checks import validate_stored_plan
from orchestration.cli import format_summary, plan_summary
from orchestration.definitions import defs
from orchestration.serving import current_snapshot_id
from tests.conftest import E2E_SERVICE_DATE, RAW_AND_MART_TABLES

pytestmark = pytest.mark.e2e


def test_every_asset_of_the_graph_is_materialised(demo_pipeline):
    """One run materialises every asset from the demo landing files to the serving snapshot."""
    materialised = {
        event.asset_key for event in demo_pipeline.first.get_asset_materialization_events() if event.asset_key
    }
    expected = set(defs.resolve_job_def("demo_daily").asset_layer.executable_asset_keys)
    assert expected <= materialised, f"not materialised: {expected - materialised}"
    assert {("raw", "orders"), ("plans", "plan_runs"), ("serving_snapshot",)} <= {tuple(k.path) for k in materialised}


def test_plan_check_passes_and_the_stored_plan_validates(demo_pipeline):
    """The blocking plan check passed, and an independent re-validation of the stored plan finds nothing."""
    checks = [
        e.event_specific_data for e in demo_pipeline.first.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert checks and all(c.passed for c in checks if c.check_name == "plan_is_valid")
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        plan_ids = [r[0] for r in conn.execute("select plan_id from plans.plan_runs order by version").fetchall()]
        for plan_id in plan_ids:
            assert validate_stored_plan(conn, plan_id, E2E_SERVICE_DATE) == []


def test_every_order_is_routed_or_unassigned_exactly_once(demo_pipeline):
    """Orders in the landing file = orders to plan = planned stops + unassigned, with no order twice."""
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        raw = conn.execute("select count(*) from raw.orders where service_date = ?", [E2E_SERVICE_DATE]).fetchone()[0]
        to_plan = conn.execute(
            "select order_id from marts.fct_orders_to_plan where service_date = ?", [E2E_SERVICE_DATE]
        ).fetchall()
        placed = conn.execute(
            "select order_id from marts.fct_planned_stops where service_date = ? "
            "union all select order_id from marts.fct_plan_unassigned where service_date = ?",
            [E2E_SERVICE_DATE, E2E_SERVICE_DATE],
        ).fetchall()
    assert raw > 20
    assert len(to_plan) == raw
    assert sorted(placed) == sorted(to_plan)


def test_rerun_leaves_raw_and_marts_identical(demo_pipeline):
    """Running the same date twice leaves raw and mart tables exactly as they were: no duplicate rows, and the
    plan marts hold the same routes, stops and KPIs (now under the new plan version)."""
    for table in RAW_AND_MART_TABLES:
        assert demo_pipeline.after_second[table] == demo_pipeline.after_first[table], table
        if table != "marts.fct_plan_unassigned":  # the small world's ordinary day is fully served
            assert len(demo_pipeline.after_first[table]) > 0, table


def test_rerun_adds_a_plan_version_with_the_same_routes(demo_pipeline):
    """The second run adds version 2 (now current) whose routes and stops equal version 1's (same seed)."""
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        versions = conn.execute(
            "select version, status, is_current from marts.dim_plan_versions where service_date = ? order by version",
            [E2E_SERVICE_DATE],
        ).fetchall()
        routes = {
            v: conn.execute(
                "select route_id, vehicle_id, distance_m, start_s, end_s from plans.routes r join plans.plan_runs p "
                "using (plan_id) where p.version = ? order by route_id",
                [v],
            ).fetchall()
            for v in (1, 2)
        }
        stops = {
            v: conn.execute(
                "select route_id, sequence, order_id, service_start_s from plans.stops s join plans.plan_runs p "
                "using (plan_id) where p.version = ? order by route_id, sequence",
                [v],
            ).fetchall()
            for v in (1, 2)
        }
    assert versions == [(1, "valid", False), (2, "valid", True)]
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        assert conn.execute("select distinct plan_id from marts.fct_planned_stops").fetchall() == [
            (f"{E2E_SERVICE_DATE}-daily-v2",)
        ]
    assert routes[1] and routes[1] == routes[2]
    assert stops[1] == stops[2]


def test_snapshot_is_published_and_swapped(demo_pipeline):
    """Each run publishes a new complete snapshot; CURRENT points at the newest, holding the date's plan."""
    serving = demo_pipeline.dirs.serving
    current = current_snapshot_id(serving)
    assert current and current != demo_pipeline.snapshot_after_first
    stops = duckdb.sql(
        f"select count(*) from read_parquet('{serving / 'snapshots' / current / 'planned_stops.parquet'}')"
    ).fetchone()[0]
    assert stops == len(demo_pipeline.after_second["marts.fct_planned_stops"]) > 0


def test_summary_reports_each_depot(demo_pipeline):
    """The CLI summary lists every depot with routes, stops, km, cost per delivery and solve time."""
    summary = plan_summary(str(demo_pipeline.dirs.warehouse), E2E_SERVICE_DATE)
    assert len(summary) == 2
    assert all(row["routes"] > 0 and row["km"] > 0 and row["cost_per_delivery_eur"] > 0 for row in summary)
    text = format_summary(E2E_SERVICE_DATE, summary)
    assert all(row["depot"] in text for row in summary)


def test_the_daily_run_leaves_the_live_views_built_and_current(demo_pipeline):
    """The daily run builds the live views (over the date's still empty live tables) and stamps them, so the day's
    first re-plan finds them current and does not call dbt on its critical path (at default scale that first build
    took 11.9 s of the first re-plan's 26.4 s)."""
    from orchestration.assets.transform import _live_stamp_of, live_views_current
    from orchestration.dbt_project import lastmile_dbt_project

    stamp, relations = _live_stamp_of(lastmile_dbt_project.manifest_path)
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        assert live_views_current(conn, relations, stamp)
        # The views bind and read over the date's live tables (no drop yet: no position for any vehicle).
        positions = conn.execute("select count(fix_s) from intermediate.int_live_vehicles").fetchone()[0]
        assert positions == 0
