"""End to end: the real Dagster job materialises the whole graph on the small demo world, twice.

Real parts only: simulator landing files, DuckDB file, `dbt build`, PyVRP solves, Parquet snapshot.
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.checks import validate_stored_plan
from orchestration.cli import format_summary, plan_summary, run_day
from orchestration.definitions import defs
from orchestration.serving import current_snapshot_id
from tests.conftest import E2E_SERVICE_DATE

pytestmark = pytest.mark.e2e

INPUT_TABLES = (
    "raw.orders", "raw.depots", "raw.vehicle_types", "raw.vehicles",
    "marts.fct_orders_to_plan", "marts.fct_vehicle_days", "marts.dim_depots",
)
# Plan marts show the date's current plan: after a re-run the same routes under the new version's plan_id.
PLAN_MARTS = ("marts.fct_planned_routes", "marts.fct_planned_stops", "marts.fct_plan_unassigned", "marts.fct_plan_kpis")
RAW_AND_MART_TABLES = INPUT_TABLES + PLAN_MARTS
BUDGET_S = 5.0
SEED = 0


def _table_rows(warehouse, table: str) -> list[tuple]:
    """All rows of a table, sorted; plan marts without their plan_id."""
    columns = "* exclude (plan_id)" if table in PLAN_MARTS else "*"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return sorted(conn.execute(f"select {columns} from {table}").fetchall(), key=repr)


@pytest.fixture(scope="module")
def two_runs(pipeline_env):
    """The demo job run twice for the same date and seed; table contents captured after each run."""
    first = run_day(E2E_SERVICE_DATE, BUDGET_S, SEED)
    assert first.success, "first run failed"
    after_first = {t: _table_rows(pipeline_env.warehouse, t) for t in RAW_AND_MART_TABLES}
    snapshot_after_first = current_snapshot_id(pipeline_env.serving)
    second = run_day(E2E_SERVICE_DATE, BUDGET_S, SEED)
    assert second.success, "second run failed"
    after_second = {t: _table_rows(pipeline_env.warehouse, t) for t in RAW_AND_MART_TABLES}
    return {
        "first": first, "second": second, "after_first": after_first, "after_second": after_second,
        "snapshot_after_first": snapshot_after_first, "env": pipeline_env,
    }


def test_every_asset_of_the_graph_is_materialised(two_runs):
    """One run materialises every asset from the demo landing files to the serving snapshot."""
    materialised = {
        event.asset_key for event in two_runs["first"].get_asset_materialization_events() if event.asset_key
    }
    expected = set(defs.resolve_job_def("demo_daily").asset_layer.executable_asset_keys)
    assert expected <= materialised, f"not materialised: {expected - materialised}"
    assert {("raw", "orders"), ("plans", "plan_runs"), ("serving_snapshot",)} <= {tuple(k.path) for k in materialised}


def test_plan_check_passes_and_the_stored_plan_validates(two_runs):
    """The blocking plan check passed, and an independent re-validation of the stored plan finds nothing."""
    checks = [
        e.event_specific_data for e in two_runs["first"].all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert checks and all(c.passed for c in checks if c.check_name == "plan_is_valid")
    with duckdb.connect(str(two_runs["env"].warehouse), read_only=True) as conn:
        plan_ids = [r[0] for r in conn.execute("select plan_id from plans.plan_runs order by version").fetchall()]
        for plan_id in plan_ids:
            assert validate_stored_plan(conn, plan_id, E2E_SERVICE_DATE) == []


def test_every_order_is_routed_or_unassigned_exactly_once(two_runs):
    """Orders in the landing file = orders to plan = planned stops + unassigned, with no order twice."""
    with duckdb.connect(str(two_runs["env"].warehouse), read_only=True) as conn:
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


def test_rerun_leaves_raw_and_marts_identical(two_runs):
    """Running the same date twice leaves raw and mart tables exactly as they were: no duplicate rows, and the
    plan marts hold the same routes, stops and KPIs (now under the new plan version)."""
    for table in RAW_AND_MART_TABLES:
        assert two_runs["after_second"][table] == two_runs["after_first"][table], table
        if table != "marts.fct_plan_unassigned":  # the small world's ordinary day is fully served
            assert len(two_runs["after_first"][table]) > 0, table


def test_rerun_adds_a_plan_version_with_the_same_routes(two_runs):
    """The second run adds version 2 (now current) whose routes and stops equal version 1's (same seed)."""
    with duckdb.connect(str(two_runs["env"].warehouse), read_only=True) as conn:
        versions = conn.execute(
            "select version, status, is_current from marts.dim_plan_versions where service_date = ? order by version",
            [E2E_SERVICE_DATE],
        ).fetchall()
        routes = {
            v: conn.execute(
                "select route_id, vehicle_id, distance_m, start_s, end_s from plans.routes r join plans.plan_runs p "
                "using (plan_id) where p.version = ? order by route_id", [v]
            ).fetchall()
            for v in (1, 2)
        }
        stops = {
            v: conn.execute(
                "select route_id, sequence, order_id, service_start_s from plans.stops s join plans.plan_runs p "
                "using (plan_id) where p.version = ? order by route_id, sequence", [v]
            ).fetchall()
            for v in (1, 2)
        }
    assert versions == [(1, "valid", False), (2, "valid", True)]
    with duckdb.connect(str(two_runs["env"].warehouse), read_only=True) as conn:
        assert conn.execute("select distinct plan_id from marts.fct_planned_stops").fetchall() == [
            (f"{E2E_SERVICE_DATE}-daily-v2",)
        ]
    assert routes[1] and routes[1] == routes[2]
    assert stops[1] == stops[2]


def test_snapshot_is_published_and_swapped(two_runs):
    """Each run publishes a new complete snapshot; CURRENT points at the newest, holding the date's plan."""
    serving = two_runs["env"].serving
    current = current_snapshot_id(serving)
    assert current and current != two_runs["snapshot_after_first"]
    stops = duckdb.sql(
        f"select count(*) from read_parquet('{serving / 'snapshots' / current / 'planned_stops.parquet'}')"
    ).fetchone()[0]
    assert stops == len(two_runs["after_second"]["marts.fct_planned_stops"]) > 0


def test_summary_reports_each_depot(two_runs):
    """The CLI summary lists every depot with routes, stops, km, cost per delivery and solve time."""
    summary = plan_summary(str(two_runs["env"].warehouse), E2E_SERVICE_DATE)
    assert len(summary) == 2
    assert all(row["routes"] > 0 and row["km"] > 0 and row["cost_per_delivery_eur"] > 0 for row in summary)
    text = format_summary(E2E_SERVICE_DATE, summary)
    assert all(row["depot"] in text for row in summary)
