"""benchmarks/replan.py: the metrics on hand-made outcomes, the rule that says re-planning improved a scenario, the
headline figures and the command line. (A whole scenario runs the real pipeline for minutes: not in the suite.)"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import math
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from solver.model import Vehicle

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "replan.py"
_spec = importlib.util.spec_from_file_location("replan_benchmark", SCRIPT)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)

DATE = dt.date(2026, 3, 3)  # winter: local = UTC + 1 h
HEADLINE = re.compile(r"^(\w+): (\S+)$")


def _outcome(orders=100, on_time=80, delivered=90, failed=4, unserved=10, cancelled=3, km=250.0) -> dict:
    """A day_outcome-shaped dict: the keys the benchmark reads."""
    return {
        "orders": orders,
        "on_time": on_time,
        "delivered": delivered,
        "failed": failed,
        "unserved": unserved,
        "cancelled": cancelled,
        "km": km,
    }


def _record(reason="new orders", succeeded=True, latency_s=14.0, n_moved=3, depots=None) -> bench.ReplanRecord:
    return bench.ReplanRecord(
        as_of_s=36_000,
        reason=reason,
        trigger="order_changes",
        succeeded=succeeded,
        latency_s=latency_s,
        n_moved=n_moved,
        depots=depots if depots is not None else {"D-A": {"remaining": 120, "unassigned": 0, "solve_s": 10.0}},
    )


def _vehicle(vehicle_id: str, shift_end_s: int = 17 * 3600, overtime_eur_h: float = 0.0) -> Vehicle:
    """A van at 0.30 EUR/km, 25 EUR/h and 40 EUR/day."""
    return Vehicle(
        vehicle_id=vehicle_id,
        vehicle_type="van",
        capacity_weight_g=1_000_000,
        capacity_volume_cm3=10_000_000,
        shift_start_s=8 * 3600,
        shift_end_s=shift_end_s,
        speed_kmh=40.0,
        cost_per_km_eur=0.30,
        cost_per_hour_eur=25.0,
        cost_per_day_eur=40.0,
        max_overtime_s=3600,
        overtime_cost_per_hour_eur=overtime_eur_h,
    )


def _arm(on_time_rate: float, unserved: int, orders: int = 100) -> dict:
    return {
        "on_time_rate": on_time_rate,
        "unserved": unserved,
        "orders": orders,
        "on_time": round(on_time_rate * orders),
    }


def test_the_on_time_rate_counts_undelivered_orders_against_it():
    """On time over the orders to serve (not over the delivered ones): 80 of 100, though 90 were delivered."""
    assert bench.on_time_rate(_outcome(orders=100, on_time=80, delivered=90)) == pytest.approx(0.80)
    assert math.isnan(bench.on_time_rate(_outcome(orders=0, on_time=0, delivered=0)))


def test_arm_metrics_add_up_the_successful_replans_only():
    """Stops moved and the latencies come from the re-plans that succeeded; every re-plan's reason is counted; cost
    per delivery divides the day's cost by the delivered orders."""
    replans = [
        _record("new orders", latency_s=12.0, n_moved=3),
        _record("delay", latency_s=18.0, n_moved=5),
        _record("breakdown", succeeded=False, latency_s=99.0, n_moved=40, depots={}),
    ]
    metrics = bench.arm_metrics(_outcome(delivered=90), cost_eur=900.0, replans=replans)
    assert metrics["stops_moved"] == 8
    assert metrics["replans"] == 2 and metrics["replans_failed"] == 1
    assert metrics["reasons"] == {"new orders": 1, "delay": 1, "breakdown": 1}
    assert metrics["latency_s_max"] == pytest.approx(18.0)
    assert metrics["cost_per_delivery_eur"] == pytest.approx(10.0)
    assert metrics["on_time_rate"] == pytest.approx(0.8)
    assert metrics["remaining_max"] == 120
    assert metrics["depot_replans_failed"] == 0


def test_a_depot_that_kept_its_plan_after_an_error_is_counted_once_per_published_replan():
    """A published re-plan with one of two depots failed counts one; a failed job's depots count nothing (the job
    is in replans_failed); the headline sums the scenarios."""
    ok = {"remaining": 80, "unassigned": 0, "solve_s": 4.0, "failed": 0}
    broken = {"remaining": 30, "unassigned": 0, "solve_s": 0.1, "failed": 1}
    replans = [
        _record(depots={"D-A": ok, "D-B": broken}),
        _record(depots={"D-A": ok, "D-B": ok}),
        _record(succeeded=False, depots={"D-A": broken, "D-B": broken}),
    ]
    metrics = bench.arm_metrics(_outcome(), 1.0, replans)
    assert metrics["depot_replans_failed"] == 1 and metrics["replans_failed"] == 1
    results = [{"without": {**_arm(0.8, 5, 100)}, "with": {**_arm(0.9, 2, 100), **metrics}}] * 2
    assert bench.headline(results)["depot_replans_failed"] == 2


def test_the_morning_plan_alone_has_no_replan_figures():
    metrics = bench.arm_metrics(_outcome(), cost_eur=500.0)
    assert metrics["replans"] == 0 and metrics["stops_moved"] == 0
    assert math.isnan(metrics["latency_s_max"]) and math.isnan(metrics["depot_latency_s_max"])


def test_a_depots_latency_is_the_time_outside_the_solver_plus_its_own_solve():
    """Two depots solved in parallel: the job (16 s) waited for the slower one (10 s); the faster depot (4 s) alone
    would have seen 6 + 4 s."""
    record = _record(
        latency_s=16.0,
        depots={
            "D-A": {"remaining": 300, "unassigned": 0, "solve_s": 10.0},
            "D-B": {"remaining": 80, "unassigned": 1, "solve_s": 4.0},
        },
    )
    assert record.depot_latency_s() == pytest.approx({"D-A": 16.0, "D-B": 10.0})
    assert bench.arm_metrics(_outcome(), 1.0, [record])["depot_latency_s_max"] == pytest.approx(16.0)


def test_day_cost_prices_km_hours_overtime_and_the_day_of_each_vehicle_that_drove():
    """V1: 100 km over 8 h inside its shift; V2: 50 km from 09:00 to 18:00, an hour past its 17:00 shift end at a
    10 EUR/h premium."""
    times = pd.DataFrame(
        {"km": [100.0, 50.0], "first_s": [8 * 3600.0, 9 * 3600.0], "last_s": [16 * 3600.0, 18 * 3600.0]},
        index=["V1", "V2"],
    )
    vehicles = {"V1": _vehicle("V1"), "V2": _vehicle("V2", overtime_eur_h=10.0), "V3": _vehicle("V3")}
    expected = (100 * 0.30 + 8 * 25.0 + 40.0) + (50 * 0.30 + 9 * 25.0 + 1 * 10.0 + 40.0)
    # The cost model's integer micro-euro rates round 25 EUR/h to 6944 micro-euro/s.
    assert bench.day_cost_eur(times, vehicles) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="V2"):
        bench.day_cost_eur(times, {"V1": _vehicle("V1")})


def test_route_times_run_from_the_first_departure_to_the_last_return_or_breakdown():
    """V1 leaves at 08:00, is back at 12:00, leaves again and is back at 16:30; V2 breaks down at 11:15. Stop
    events do not count; km is summed per vehicle from the truth."""

    def utc(local_h: float) -> str:
        return (dt.datetime(2026, 3, 3) + dt.timedelta(hours=local_h - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    events = pd.DataFrame(
        [
            ("V1", "depot_departure", utc(8)),
            ("V1", "delivered", utc(7)),  # not a depot event (and earlier): ignored
            ("V1", "depot_return", utc(12)),
            ("V1", "depot_departure", utc(13)),
            ("V1", "depot_return", utc(16.5)),
            ("V2", "depot_departure", utc(9)),
            ("V2", "breakdown", utc(11.25)),
        ],
        columns=["vehicle_id", "event_type", "ts_utc"],
    )
    truth = pd.DataFrame({"vehicle_id": ["V1", "V2"], "true_km": [80.0, 20.0]})
    execution = SimpleNamespace(stop_events=events, truth=truth)
    times = bench.vehicle_route_times(execution, DATE, "Europe/Vaduz")
    assert times.loc["V1", "first_s"] == 8 * 3600 and times.loc["V1", "last_s"] == 16.5 * 3600
    assert times.loc["V2", "last_s"] - times.loc["V2", "first_s"] == pytest.approx(2.25 * 3600)
    assert times.loc["V1", "km"] == 80.0


@pytest.mark.parametrize(
    ("without", "with_replan", "expected"),
    [
        (_arm(0.80, 10), _arm(0.85, 10), True),  # more on time, as many unserved
        (_arm(0.80, 10), _arm(0.80, 4), True),  # as on time, fewer unserved
        (_arm(0.80, 10), _arm(0.80, 10), False),  # a tie is no improvement
        (_arm(0.80, 10), _arm(0.90, 11), False),  # one more unserved spoils a better on-time rate
        (_arm(0.80, 10), _arm(0.79, 0), False),  # a lower on-time rate spoils fewer unserved
    ],
)
def test_improved_needs_no_worse_on_both_and_better_on_one(without, with_replan, expected):
    assert bench.improved(without, with_replan) is expected


@pytest.mark.parametrize(
    ("without", "with_replan", "expected"),
    [
        (_arm(0.80, 10), _arm(0.85, 9), True),  # better on both
        (_arm(0.80, 10), _arm(0.85, 10), False),  # as many unserved: improved, but not on both
        (_arm(0.80, 10), _arm(0.80, 4), False),  # as on time: improved, but not on both
        (_arm(0.80, 10), _arm(0.90, 11), False),
    ],
)
def test_better_on_both_needs_a_higher_on_time_rate_and_fewer_unserved(without, with_replan, expected):
    assert bench.better_on_both(without, with_replan) is expected
    assert bench._verdict(without, with_replan) == ("both" if expected else "yes" if bench.improved(
        without, with_replan) else "no")  # fmt: skip


def test_headline_pools_on_time_over_scenarios_and_sums_unserved():
    """Scenario 1: 80/100 -> 90/100; scenario 2: 150/300 -> 210/300, so pooled 230/400 -> 300/400 (not the mean of
    rates); unserved totals; the slowest re-plan; one of two scenarios improved."""
    results = [
        {
            "without": {**_arm(0.80, 5, 100), "latency_s_max": float("nan"), "replans": 0},
            "with": {**_arm(0.90, 2, 100), "latency_s_max": 12.5, "replans": 3, "replans_failed": 1},
        },
        {
            "without": {**_arm(0.50, 7, 300), "latency_s_max": float("nan"), "replans": 0},
            "with": {**_arm(0.70, 9, 300), "latency_s_max": 20.0, "replans": 1, "replans_failed": 0},
        },
    ]
    figures = bench.headline(results)
    assert figures["on_time_without_replan"] == pytest.approx(230 / 400)
    assert figures["on_time_with_replan"] == pytest.approx(300 / 400)
    assert figures["unserved_without_replan"] == 12 and figures["unserved_with_replan"] == 11
    assert figures["replan_latency_s_max"] == pytest.approx(20.0)
    assert figures["scenarios_improved"] == 1 and figures["scenarios_total"] == 2
    assert figures["scenarios_better_on_both"] == 1 and figures["replans_failed"] == 1

    lines = bench.format_headline(figures)
    assert [HEADLINE.match(line).group(1) for line in lines] == list(bench.HEADLINES)
    assert all(float(HEADLINE.match(line).group(2)) == pytest.approx(figures[n], abs=1e-4) for line, n in zip(
        lines, bench.HEADLINES, strict=True))  # fmt: skip


def test_arguments_default_to_the_issues_run():
    args = bench.parse_args([])
    assert (args.scale, args.date, args.seed, args.step_min, args.budget) == ("default", DATE, 7, 30, 10.0)
    assert args.scenarios == list(bench.DEFAULT_SCENARIOS) and not args.no_write
    assert args.history_days == 0
    assert args.morning_iters == bench.MORNING_MAX_ITERS


def test_arguments_take_a_list_of_scenarios_and_the_run_settings():
    args = bench.parse_args(
        ["--scale", "small", "--scenarios", "breakdown, new_orders", "--step-min", "15", "--budget", "5", "--no-write"]
    )
    assert args.scenarios == ["breakdown", "new_orders"]
    assert (args.scale, args.step_min, args.budget, args.no_write) == ("small", 15, 5.0, True)
    assert bench.parse_args(["--history-days", "14"]).history_days == 14
    assert bench.parse_args(["--morning-iters", "400"]).morning_iters == 400


@pytest.mark.parametrize(
    "argv",
    [
        ["--scenarios", "tornado"],
        ["--scenarios", "breakdown,breakdown"],
        ["--scenarios", ""],
        ["--step-min", "45"],  # does not divide the hour the live state runs at
        ["--step-min", "0"],
        ["--budget", "-1"],
        ["--seed", "-3"],
        ["--date", "2026-13-01"],
        ["--history-days", "-1"],
        ["--morning-iters", "0"],
    ],
)
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)
    assert "error" in capsys.readouterr().err


def test_scenario_names_are_checked_against_the_simulators():
    with pytest.raises(argparse.ArgumentTypeError, match="tornado"):
        bench.scenario_list("new_orders,tornado")
