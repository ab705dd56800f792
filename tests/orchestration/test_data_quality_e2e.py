"""Data checks in the real `daily_planning` job: a broken order export blocks planning with a message naming
file, line and field; a slightly broken one is planned without its quarantined rows, and the counts reconcile.

The demo world (small scale) writes the landing files into this module's own data folder; the test breaks the
order file in place and runs the job on it, as an operator would after a bad export.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import failure_report, run_day
from simulator.landing import write_master_data, write_orders
from simulator.world import build_world

pytestmark = pytest.mark.e2e

SERVICE_DATE = "2026-03-05"
SEED = 7


@pytest.fixture(scope="module")
def quality_env(tmp_path_factory, dbt_manifest):
    """LASTMILE_* variables pointing at a fresh data folder holding the demo world's landing files for the date."""
    root = tmp_path_factory.mktemp("quality-e2e")
    landing = root / "landing"
    world = build_world("small", SEED)
    write_master_data(world, landing)
    orders = write_orders(world, dt.date.fromisoformat(SERVICE_DATE), landing, SEED)
    (root / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "LASTMILE_DATA_DIR": root,
            "LASTMILE_LANDING_DIR": landing,
            "LASTMILE_WAREHOUSE": root / "warehouse.duckdb",
            "LASTMILE_SERVING_DIR": root / "serving",
            "LASTMILE_DEMO_SCALE": "small",
            "LASTMILE_DEMO_SEED": str(SEED),
            "DAGSTER_HOME": root / "dagster_home",
            "GX_ANALYTICS_ENABLED": "False",
        }.items():
            patch.setenv(name, str(value))
        yield root, orders


def _break_weights(orders: Path, original: list[dict], every: int) -> list[tuple[int, str]]:
    """Write the original rows with the weight of every ``every``-th order replaced by text; returns (line, id)."""
    broken = []
    rows = [dict(r) for r in original]
    for index in range(0, len(rows), every):
        rows[index]["weight_kg"] = "heavy"
        broken.append((index + 2, rows[index]["order_id"]))
    with orders.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(original[0]))
        writer.writeheader()
        writer.writerows(rows)
    return broken


def _check_evaluation(result, table: str):
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.asset_key.path == ["raw", table]]
    return evaluation


def test_broken_export_blocks_planning_and_a_mostly_good_one_is_planned(quality_env):
    """10% unreadable weights: the orders check fails (critical), the plan step never runs, the message and the
    stored check name the file, line and field; then with one bad row the day is planned without it."""
    root, orders = quality_env
    with orders.open(encoding="utf-8", newline="") as handle:
        original = list(csv.DictReader(handle))
    broken = _break_weights(orders, original, every=10)

    blocked = run_day(SERVICE_DATE, 5.0, 0, job_name="daily_planning", max_iters=200)
    assert not blocked.success
    evaluation = _check_evaluation(blocked, "orders")
    assert not evaluation.passed and evaluation.severity.value == "ERROR"
    message = evaluation.metadata["message"].value
    first_line, _ = broken[0]
    assert f"orders/orders_{SERVICE_DATE}.csv line {first_line}: BAD_NUMBER: weight_kg 'heavy' is not a number" in (
        message
    )
    report = "\n".join(failure_report(blocked))  # what `python -m orchestration.cli run` prints
    assert "blocked by data check gx_expectations on raw/orders:" in report
    assert f"orders_{SERVICE_DATE}.csv line {first_line}: BAD_NUMBER: weight_kg 'heavy'" in report
    assert "daily_plan" not in {e.step_key for e in blocked.all_events if e.event_type_value == "STEP_SUCCESS"}
    docs = Path(evaluation.metadata["data_docs"].value.removeprefix("file://"))
    assert docs.is_file() and docs.is_relative_to(root)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        assert not _has_plans(conn) or conn.execute("select count(*) from plans.plan_runs").fetchone()[0] == 0
        stored = conn.execute(
            "select passed, severity, message from quality.data_checks where table_name = 'orders'"
        ).fetchone()
        assert stored[:2] == (False, "critical") and f"line {first_line}" in stored[2]

    # One bad row of the export (under the 5% tolerance): planned without it, and the counts reconcile.
    (line, order_id), *_ = _break_weights(orders, original, every=len(original))
    planned = run_day(SERVICE_DATE, 5.0, 0, job_name="daily_planning", max_iters=200)
    assert planned.success
    materialization = next(
        m for m in planned.get_asset_materialization_events() if m.asset_key.path == ["raw", "orders"]
    ).materialization
    meta = {k: v.value for k, v in materialization.metadata.items()}
    assert (meta["loaded_rows"], meta["accepted_rows"], meta["quarantined_rows"]) == (
        len(original),
        len(original) - 1,
        1,
    )
    assert Path(meta["data_docs"].removeprefix("file://")).is_file()  # Data Docs linked from the asset too
    assert _check_evaluation(planned, "orders").passed
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute(
            "select _source_row + 1, order_id, reason_code, field from quarantine.orders"
        ).fetchall() == [(line, order_id, "BAD_NUMBER", "weight_kg")]
        routed = conn.execute(
            "select count(*) from marts.fct_planned_stops where service_date = ? and order_id = ?",
            [SERVICE_DATE, order_id],
        ).fetchone()[0]
        unassigned = conn.execute(
            "select count(*) from marts.fct_plan_unassigned where service_date = ?", [SERVICE_DATE]
        ).fetchone()[0]
        stops = conn.execute(
            "select count(*) from marts.fct_planned_stops where service_date = ?", [SERVICE_DATE]
        ).fetchone()[0]
        assert routed == 0
        assert stops + unassigned == len(original) - 1  # every accepted order is planned or explained


def _has_plans(conn) -> bool:
    return bool(
        conn.execute(
            "select count(*) from duckdb_tables() where schema_name = 'plans' and table_name = 'plan_runs'"
        ).fetchone()[0]
    )
