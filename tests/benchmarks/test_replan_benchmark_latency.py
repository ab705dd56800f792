"""benchmarks/replan.py, the lean re-plan path (issue 7 latency): the headline latency is the drivers' (the plan
written and validated), the dashboard refresh after it is reported apart, per depot the remaining stops and that
depot's latency; ``--section`` keeps a run in a section of its own."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import SimpleNamespace

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "replan.py"
_spec = importlib.util.spec_from_file_location("replan_benchmark_latency", SCRIPT)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


def _outcome() -> dict:
    return {"orders": 100, "on_time": 80, "delivered": 90, "failed": 4, "unserved": 10, "cancelled": 3, "km": 250.0}


def _record(latency_s: float, dashboard_s: float, dashboard_ok: bool = True, succeeded: bool = True):
    return bench.ReplanRecord(
        as_of_s=36_000,
        reason="new orders",
        trigger="order_changes",
        succeeded=succeeded,
        latency_s=latency_s,
        stages_s={"ingest": 1.0, "state": 0.5, "replan": latency_s - 1.5, "dashboard": dashboard_s},
        n_moved=2,
        depots={
            "D-A": {"remaining": 300, "unassigned": 0, "solve_s": 10.0, "kept": 0},
            "D-B": {"remaining": 90, "unassigned": 1, "solve_s": 4.0, "kept": 1},
        },
        plan_id="2026-03-03-replan-v1",
        dashboard_s=dashboard_s if dashboard_ok else float("nan"),
        job_s=latency_s + dashboard_s,
        dashboard_ok=dashboard_ok,
    )


def test_the_latency_is_the_drivers_and_the_dashboard_refresh_is_apart():
    records = [_record(13.0, 20.0), _record(14.0, 9.0), _record(50.0, 1.0, succeeded=False)]
    metrics = bench.arm_metrics(_outcome(), 1000.0, records)
    assert metrics["latency_s_max"] == 14.0  # the failed re-plan never reached the drivers
    assert metrics["dashboard_s_max"] == 20.0
    assert metrics["dashboard_failed"] == 0
    # A depot's latency: the drivers' latency outside the solver (14 - 10) plus its own solve.
    assert records[1].depot_latency_s() == {"D-A": 14.0, "D-B": 8.0}
    assert metrics["depot_latency_s_max"] == 14.0 and metrics["remaining_max"] == 300


def test_a_failed_dashboard_refresh_is_counted_but_the_plan_still_counts():
    records = [_record(12.0, 5.0, dashboard_ok=False)]
    metrics = bench.arm_metrics(_outcome(), 1000.0, records)
    assert metrics["replans"] == 1 and metrics["latency_s_max"] == 12.0
    assert metrics["dashboard_failed"] == 1 and math.isnan(metrics["dashboard_s_max"])


def test_the_report_shows_the_dashboard_refresh_and_each_depots_remaining_stops_and_latency():
    replans = [_record(13.0, 20.0)]
    arm = bench.arm_metrics(_outcome(), 1000.0)
    results = [
        {
            "scenario": "new_orders",
            "disruptions": {"new_orders": 3},
            "without": arm,
            "with": bench.arm_metrics(_outcome(), 1000.0, replans),
            "replans": replans,
        }
    ]
    figures = bench.headline(results)
    args = SimpleNamespace(
        scale="default", date="2026-03-03", seed=7, scenarios=["new_orders"], step_min=30, budget=10.0
    )
    text = bench.markdown(results, figures, args, 60.0)
    assert "latency to drivers s (max)" in text and "dashboard refresh s (max)" in text
    assert "13.0 s (ingest 1.0 + state 0.5 + replan 11.5), dashboard 20.0 s" in text
    assert "D-A 300/10.0/13.0" in text and "D-B 90/4.0/7.0 kept" in text
    assert figures["replan_latency_s_max"] == 13.0
    assert "replan_latency_s_max: 13.00" in text
    assert "--history-days" not in text
    with_history = bench.markdown(results, figures, SimpleNamespace(**vars(args), history_days=14), 60.0)
    assert "--budget 10 --history-days 14`" in with_history


def test_the_section_defaults_to_the_benchmarks_and_can_be_named():
    assert bench.parse_args([]).section == bench.SECTION
    named = bench.parse_args(["--section", "replan: default scale, lean path"])
    assert named.section == "replan: default scale, lean path"
