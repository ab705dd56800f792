"""ETA accuracy and on-time rate: the constant-speed planner against the planner with learned models, same days.

Runs the real `demo_history_day` Dagster job for N training days and then M test days in a temporary data folder
(each day: orders -> plan -> execution in the simulated world -> ingestion -> actuals -> learned models), so every
plan of day D uses the models trained on the days before D. On each test day, in the same run:
  (a) baseline: the day's problems as the marts give them (site-type service priors, no preferred windows),
      solved with the constant-speed great-circle model, the pre-learning planner;
  (b) learned: the plan the pipeline made and stored for the day (learned travel times re-timed by hour, weekday,
      forecast weather, zone and driver; learned service times; preferred windows from customer availability).
Both plans are solved with the same solver settings and seed and played out by the execution simulator under the
same hidden truth, weather and seed. Reported per arm: mean absolute error of planned against actual arrival over
the stops reached, on-time rate (arrival no later than the window's end, as in marts.fct_deliveries) over the
stops reached and over all orders (an unassigned order is not on time: the headline), first-attempt success,
routes and unassigned orders with their reasons.

    .venv/bin/python benchmarks/eta_accuracy.py [--scale default] [--train-days 14] [--test-days 5] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_day import manifest_for_this_warehouse  # noqa: E402
from report import use_data_dir, write_section  # noqa: E402

from simulator import build_world, execute_plan, simulate_weather  # noqa: E402
from simulator.execution import utc_base_s  # noqa: E402
from solver import SolveConfig, solve_many  # noqa: E402

BUDGET_S = 20.0


def _plan_frames(plans, problems) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Routes and stops of solver plans in the simulator's input format."""
    orders = {o.order_id: o for p in problems for o in p.orders}
    routes, stops = [], []
    for plan in plans:
        for route in plan.routes:
            routes.append((route.route_id, route.vehicle_id, plan.depot_id, route.start_s, route.end_s))
            for s in route.stops:
                o = orders[s.order_id]
                stops.append((route.route_id, route.vehicle_id, s.sequence, s.order_id, o.lat, o.lon, s.arrival_s,
                              s.service_start_s, s.departure_s, o.tw_start_s, o.tw_end_s))
    return (
        pd.DataFrame(routes, columns=["route_id", "vehicle_id", "depot_id", "start_s", "end_s"]),
        pd.DataFrame(stops, columns=["route_id", "vehicle_id", "sequence", "order_id", "lat", "lon", "arrival_s",
                                     "service_start_s", "departure_s", "tw_start_s", "tw_end_s"]),
    )


def _stored_frames(conn: duckdb.DuckDBPyConnection, service_date: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    routes = conn.execute(
        "select route_id, vehicle_id, depot_id, start_s, end_s from marts.fct_planned_routes "
        "where service_date = cast(? as date) order by route_id", [service_date]).fetchdf()
    stops = conn.execute(
        "select route_id, vehicle_id, sequence, order_id, lat, lon, arrival_s, service_start_s, departure_s, "
        "tw_start_s, tw_end_s from marts.fct_planned_stops where service_date = cast(? as date) "
        "order by route_id, sequence", [service_date]).fetchdf()
    return routes, stops


def play(world, service_date: str, orders: pd.DataFrame, routes: pd.DataFrame, stops: pd.DataFrame,
         seed: int) -> dict:
    """Execute a plan in the simulator and compare planned with actual arrivals."""
    day = dt.date.fromisoformat(service_date)
    weather = simulate_weather(world, day, seed)
    execution = execute_plan(world, day, orders, routes, stops, seed, weather=weather)
    events = execution.stop_events
    base = utc_base_s(day, world.timezone)
    arrived = events[events["event_type"] == "arrived"][["order_id", "ts_utc"]].copy()
    stamps = pd.to_datetime(arrived["ts_utc"], utc=True)
    arrived["actual_s"] = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds() - base
    outcome = events[events["event_type"].isin(["delivered", "failed"])][["order_id", "event_type"]]
    joined = stops.merge(arrived, on="order_id").merge(outcome, on="order_id")
    error = (joined["actual_s"] - joined["arrival_s"]).astype(float)
    return {
        "stops": len(joined),
        "mae_s": float(error.abs().mean()),
        "bias_s": float(error.mean()),
        "on_time": float((joined["actual_s"] <= joined["tw_end_s"]).mean()),
        "first_attempt": float((joined["event_type"] == "delivered").mean()),
        "routes": int(routes["route_id"].isin(stops["route_id"]).sum()),
    }


def run(scale: str, train_days: int, test_days: int, start: dt.date, seed: int, max_iters: int,
        keep: Path | None = None) -> dict:
    from orchestration.cli import run_day
    from orchestration.planning_inputs import prepare_problems

    world = build_world(scale, seed)
    dates = [(start + dt.timedelta(days=k)).isoformat() for k in range(train_days + test_days)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="lastmile-eta-") as tmp:
        root = keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        use_data_dir(root, scale, seed)
        warehouse = str(root / "warehouse.duckdb")
        with manifest_for_this_warehouse(root):
            for k, service_date in enumerate(tqdm(dates, unit="day", desc=f"{scale} history")):
                started = time.perf_counter()
                result = run_day(service_date, BUDGET_S, seed, "demo_history_day", max_iters, "ERROR")
                if not result.success:
                    raise SystemExit(f"{service_date}: the demo_history_day run failed")
                if k < train_days:
                    continue
                orders = pd.read_csv(root / "landing" / "orders" / f"orders_{service_date}.csv", dtype=str,
                                     keep_default_na=False)
                with duckdb.connect(warehouse, read_only=True) as conn:
                    baseline = prepare_problems(conn, service_date, use_learned=False)
                    learned_routes, learned_stops = _stored_frames(conn, service_date)
                    versions = conn.execute(
                        "select travel_model_version, service_model_version, availability_model_version, "
                        "n_unassigned from marts.dim_plan_versions where service_date = cast(? as date) "
                        "and is_current and kind = 'daily'", [service_date]).fetchone()
                    at_risk = conn.execute(
                        "select count(*) filter (where late_s > 0), count(*) filter (where in_preferred_window), "
                        "count(in_preferred_window) from marts.fct_planned_stops "
                        "where service_date = cast(? as date)", [service_date]).fetchone()
                    reasons_b = dict(conn.execute(
                        "select reason_code, count(*) from marts.fct_plan_unassigned "
                        "where service_date = cast(? as date) group by 1 order by 1", [service_date]).fetchall())
                    pipeline_mae = conn.execute(
                        "select avg(abs(eta_error_s)) from marts.fct_deliveries "
                        "where service_date = cast(? as date)", [service_date]).fetchone()[0]
                config = SolveConfig(time_budget_s=BUDGET_S, seed=seed, max_iters=max_iters)
                base_plans = solve_many(baseline.problems, config, processes=2)
                base_routes, base_stops = _plan_frames(base_plans, baseline.problems)
                a = play(world, service_date, orders, base_routes, base_stops, seed)
                b = play(world, service_date, orders, learned_routes, learned_stops, seed)
                a["unassigned"] = sum(len(p.unassigned) for p in base_plans)
                b["unassigned"] = int(versions[3])
                a["reasons"] = dict(Counter(u.reason_code for p in base_plans for u in p.unassigned))
                b["reasons"] = reasons_b
                for arm in (a, b):  # over every order of the day: an unassigned order is not on time
                    arm["orders"] = arm["stops"] + arm["unassigned"]
                    arm["on_time_all"] = arm["on_time"] * arm["stops"] / arm["orders"]
                b["at_risk"], b["in_preferred"], b["with_preferred"] = (int(x) for x in at_risk)
                rows.append({"date": service_date, "a": a, "b": b, "versions": versions[:3],
                             "pipeline_mae_s": pipeline_mae, "wall_s": time.perf_counter() - started})
                tqdm.write(f"{service_date}: MAE {a['mae_s']:.0f} s -> {b['mae_s']:.0f} s, on-time (all orders) "
                           f"{a['on_time_all']:.1%} -> {b['on_time_all']:.1%}, unassigned {a['unassigned']} -> "
                           f"{b['unassigned']} {b['reasons']}")
            with duckdb.connect(warehouse, read_only=True) as conn:
                models = conn.execute(
                    "select model, version, n_samples, fit_error, baseline_error, error_metric "
                    "from models.model_versions where trained_through = cast(? as date) order by model",
                    [dates[train_days - 1]]).fetchall()
    return {"rows": rows, "models": models, "scale": scale, "train_days": train_days, "dates": dates}


def summary(result: dict) -> dict:
    rows = result["rows"]

    def pooled(arm: str, key: str, weight: str = "stops") -> float:
        weights = np.array([r[arm][weight] for r in rows], dtype=float)
        return float(np.average([r[arm][key] for r in rows], weights=weights))

    s = {f"{key}_{arm}": pooled(arm, key) for arm in ("a", "b") for key in ("mae_s", "on_time", "first_attempt",
                                                                             "bias_s")}
    for arm in ("a", "b"):
        s[f"on_time_all_{arm}"] = pooled(arm, "on_time_all", "orders")
    s["reduction"] = 1 - s["mae_s_b"] / s["mae_s_a"]
    return s


def markdown(result: dict, s: dict, command: str) -> str:
    rows = result["rows"]
    lines = [
        f"Command: `{command}`",
        "",
        f"Scale `{result['scale']}`; trained on {result['train_days']} days ({result['dates'][0]} to "
        f"{result['dates'][result['train_days'] - 1]}), tested on the {len(rows)} following days, each plan using "
        "the models trained on the days before it. (a) constant speed and site-type service priors; (b) learned "
        "models. Same solver settings, seed, simulated truth and weather for both.",
        "",
        "| date | stops a / b | MAE a s | MAE b s | bias a s | bias b s | on-time a | on-time b | on-time of all "
        "orders a | on-time of all orders b | 1st attempt a | 1st attempt b | routes a / b | unassigned a / b "
        "| at risk b | preferred window b |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for r in rows:
        a, b = r["a"], r["b"]
        lines.append(
            f"| {r['date']} | {a['stops']} / {b['stops']} | {a['mae_s']:.0f} | {b['mae_s']:.0f} | {a['bias_s']:.0f} "
            f"| {b['bias_s']:.0f} | {a['on_time']:.1%} | {b['on_time']:.1%} | {a['on_time_all']:.1%} "
            f"| {b['on_time_all']:.1%} | {a['first_attempt']:.1%} "
            f"| {b['first_attempt']:.1%} | {a['routes']} / {b['routes']} | {a['unassigned']} / {b['unassigned']} "
            f"| {b['at_risk']} | {b['in_preferred']} of {b['with_preferred']} |"
        )
    lines.append(
        f"| **all** | | **{s['mae_s_a']:.0f}** | **{s['mae_s_b']:.0f}** | {s['bias_s_a']:.0f} | {s['bias_s_b']:.0f} "
        f"| {s['on_time_a']:.1%} | {s['on_time_b']:.1%} | **{s['on_time_all_a']:.1%}** | **{s['on_time_all_b']:.1%}** "
        f"| {s['first_attempt_a']:.1%} | {s['first_attempt_b']:.1%} | | | | |"
    )
    reasons = "; ".join(
        f"{r['date']}: a {r['a']['reasons'] or 'none'}, b {r['b']['reasons'] or 'none'}" for r in rows
    )
    lines += ["", f"ETA error reduction: **{s['reduction']:.1%}**. Bias = mean(actual - planned), s. MAE, bias and "
              "on-time are over the stops reached; on-time of all orders counts an unassigned order as not on time "
              f"(the headline on-time figures). Unassigned reasons: {reasons}.", "",
              "Models at the end of training (fit error on the newest day, trained without it):", "",
              "| model | version | samples | fit error | baseline error | metric |",
              "| --- | --- | ---: | ---: | ---: | --- |"]
    for model, version, n, fit, baseline, metric in result["models"]:
        lines.append(f"| {model} | {version} | {n} | {fit:.4g} | {baseline:.4g} | {metric} |")
    check = "; ".join(f"{r['date']} {r['pipeline_mae_s']:.0f} s" for r in rows if r["pipeline_mae_s"] is not None)
    lines += ["", f"Cross-check, MAE of (b) from `marts.fct_deliveries.eta_error_s` (the pipeline's own execution of "
              f"the same plan): {check}."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="default", choices=["small", "default", "large"])
    parser.add_argument("--train-days", type=int, default=14)
    parser.add_argument("--test-days", type=int, default=5)
    parser.add_argument("--start", default="2026-03-02", help="first training day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-iters", type=int, default=1000, help="search iterations per depot (reproducible)")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--keep", type=Path, help="build the data folder here (kept) instead of a temporary one")
    args = parser.parse_args()
    if args.train_days < 2 or args.test_days < 1:
        parser.error("need at least 2 training days and 1 test day")
    result = run(args.scale, args.train_days, args.test_days, dt.date.fromisoformat(args.start), args.seed,
                 args.max_iters, args.keep)
    s = summary(result)
    command = (f".venv/bin/python benchmarks/eta_accuracy.py --scale {args.scale} --train-days {args.train_days} "
               f"--test-days {args.test_days} --start {args.start} --seed {args.seed} --max-iters {args.max_iters}")
    table = markdown(result, s, command)
    print(table)
    if not args.no_write:
        write_section("eta_accuracy: learned travel and service times against constant speed", table)
    print(f"eta_mae_baseline_s: {s['mae_s_a']:.1f}")
    print(f"eta_mae_learned_s: {s['mae_s_b']:.1f}")
    print(f"eta_error_reduction: {s['reduction']:.3f}")
    print(f"on_time_baseline: {s['on_time_all_a']:.4f}")
    print(f"on_time_learned: {s['on_time_all_b']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
