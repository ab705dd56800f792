"""Intraday re-planning against the morning plan alone, per disruption scenario (docs/replanning.md, section 7).

The real `demo_daily` Dagster job plans the service date once, in a temporary data folder. Each seeded scenario
(simulator.disruptions) then plays the same day twice on a copy of that folder, with the same world, orders,
weather and disruptions:

(a) morning plan only: the live simulator (simulator.live.LiveDay) gets the morning plan at the start and plays
    to the end of the day;
(b) with re-planning through the real pipeline: the simulated clock advances in steps; after each step the drop is
    written into the landing zone, the sensors of orchestration/sensors.py are evaluated (the cursor carried from
    one evaluation to the next), the `refresh_live_state` job runs every simulated hour (the delay sensor reads
    the live state it writes) and after each re-plan, and every RunRequest runs the `replan` job in-process. The
    new plan version is read from `plans.*` and published to the simulator at `as_of + latency`: simulated time
    stands still while the pipeline works. The plan reaches the drivers when `replan_plan` has written it to
    `plans.*` and its blocking `plan_is_valid` check passed: that is the re-plan's latency (the headline); the plan
    marts and the serving snapshot the job refreshes afterwards are the dashboard refresh, reported apart.

Both arms are scored the same way from the simulator's outcome (simulator.live.day_outcome): on-time rate, failed
and unserved orders, cost per delivery (solver/costs.py on the km and hours actually driven), stops moved and the
latency of each re-plan. Writes a section of docs/benchmarks.md and ends with one `name: value` line per headline.

    .venv/bin/python benchmarks/replan.py [--scale default] [--date 2026-03-03] [--seed 7]
        [--scenarios new_orders,cancellations,...] [--step-min 30] [--budget 10] [--no-write]
        [--section "replan: ..."] [--history-days 0] [--morning-iters 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_day import BUDGET_S, _step_walls, manifest_for_this_warehouse  # noqa: E402
from report import use_data_dir, write_section  # noqa: E402

DEFAULT_SCENARIOS = (
    "new_orders",
    "cancellations",
    "window_changes",
    "breakdown",
    "heavy_rain",
    "late_start",
    "mixed",
)
COMMAND = ".venv/bin/python benchmarks/replan.py"
SECTION = "replan: intraday re-planning against the morning plan"
HISTORY_MAX_ITERS = 300
"""Search iterations per depot of each history day's plan (``--history-days``), as ``make history``."""
MORNING_MAX_ITERS = 1000
"""Search iterations per depot of the morning plan (``--morning-iters``): the count, not the clock, ends its search,
so both arms start from the same plan however busy the machine is. At default scale the time budget ended D-SCHAAN's
search after 1,318 iterations on an idle machine and after 740 with a second benchmark alongside, before it had
found a feasible plan (13 orders unassigned, arm (a) 466 -> 481 unserved). Small days stop earlier, after 200-250
iterations without improvement."""
MORNING_BUDGET_FACTOR = 4
"""The morning plan's time budget, times ``BUDGET_S`` of the scale: only a cap for a machine far slower than ours."""
LIVE_STATE_EVERY_S = 3600
"""The `refresh_live_state` job runs at every full simulated hour (what the delay sensor reads)."""
DAY_END_SLACK_S = 2 * 3600
"""The stepped part of the day runs this long past the latest planned route end; ``finish`` plays the rest."""
REPLAN_JOB = "replan"
LIVE_STATE_JOB = "refresh_live_state"
REPLAN_OP = "replan_plan"
REPLAN_STAGES = {
    "raw_live": "ingest",
    "dbt_live": "ingest",
    "live_state": "state",
    REPLAN_OP: "replan",
    "dbt_plan_outputs": "dashboard",
    "serving_snapshot": "dashboard",
}
"""Steps of the `replan` job by stage: ingest the live drops, build the live state, re-plan (read + solve + write
+ validate: the plan is then in plans.* for the drivers), dashboard refresh (plan marts + serving snapshot)."""
HEADLINES = (
    "replan_latency_s_max",
    "on_time_without_replan",
    "on_time_with_replan",
    "unserved_without_replan",
    "unserved_with_replan",
    "scenarios_improved",
    "scenarios_total",
    "scenarios_better_on_both",
    "replans_failed",
    "depot_replans_failed",
)


@dataclass(frozen=True)
class ReplanRecord:
    """One re-plan of arm (b).

    Attributes
    ----------
    as_of_s
        Simulated local time the re-plan started from, seconds since midnight.
    reason
        The sensor's reason (``new orders``, ``breakdown``, ``delay``, ...).
    trigger
        Which sensor asked (``order_changes``, ``breakdown``, ``delay``, ``request``).
    succeeded
        Whether its plan version became the date's current plan (written and valid): the drivers have it.
    latency_s
        Latency to the drivers, seconds: from the job's start to the end of `replan_plan` (live ingestion, state
        build, solve, plan written to plans.* and validated).
    stages_s
        Stage -> wall seconds of the job's steps (:data:`REPLAN_STAGES`).
    n_moved
        Stops moved to another vehicle.
    depots
        Depot -> ``{"remaining": committed + planned stops of the new plan, "unassigned": ..., "solve_s": ...,
        "kept": 1 when the depot kept its current routes (the re-plan's guard), else 0}``.
    plan_id
        The new plan version (None when the job failed before writing it).
    dashboard_s
        The dashboard refresh after the plan was out, seconds (plan marts and serving snapshot), NaN when it did
        not finish.
    job_s
        Wall time of the whole `replan` job, seconds.
    dashboard_ok
        Whether the dashboard refresh succeeded too.
    """

    as_of_s: int
    reason: str
    trigger: str
    succeeded: bool
    latency_s: float
    stages_s: Mapping[str, float] = field(default_factory=dict)
    n_moved: int = 0
    depots: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    plan_id: str | None = None
    dashboard_s: float = float("nan")
    job_s: float = float("nan")
    dashboard_ok: bool = True

    def depot_latency_s(self) -> dict[str, float]:
        """Latency to the drivers as one depot of this size sees it, seconds: the time to the drivers outside the
        solver plus that depot's own solve (the depots are solved in parallel processes, so the job waits for the
        slowest)."""
        solve_wall_s = max((d["solve_s"] for d in self.depots.values()), default=0.0)
        outside_s = max(self.latency_s - solve_wall_s, 0.0)
        return {depot: outside_s + d["solve_s"] for depot, d in self.depots.items()}


# -- metrics (pure functions of the simulator's outcome) ---------------------------------------------------------


def on_time_rate(outcome: Mapping[str, float]) -> float:
    """Orders delivered within the window in force, over the orders to serve (morning plus new, minus cancelled).

    Unlike ``day_outcome``'s ``on_time_rate`` (of the delivered ones), an order never delivered counts against it.
    """
    orders = outcome["orders"]
    return outcome["on_time"] / orders if orders else float("nan")


def vehicle_route_times(execution, service_date: dt.date, timezone: str) -> pd.DataFrame:
    """Per vehicle that drove: ``first_s`` (first depot departure) and ``last_s`` (last depot return or breakdown),
    local seconds, from the driver-app events; ``km`` from the true paths (``truth.true_km``)."""
    from simulator.execution import utc_base_s

    events = execution.stop_events
    depot = events[events["event_type"].isin(["depot_departure", "depot_return", "breakdown"])]
    stamps = pd.to_datetime(depot["ts_utc"], utc=True, format="%Y-%m-%dT%H:%M:%SZ")
    local_s = np.array([s.timestamp() for s in stamps], dtype=float) - utc_base_s(service_date, timezone)
    spans = pd.Series(local_s, index=depot["vehicle_id"].to_numpy()).groupby(level=0).agg(["min", "max"])
    km = execution.truth.groupby("vehicle_id")["true_km"].sum()
    frame = pd.DataFrame({"km": km}).join(spans.rename(columns={"min": "first_s", "max": "last_s"}), how="left")
    return frame.fillna({"first_s": 0.0, "last_s": 0.0})


def day_cost_eur(route_times: pd.DataFrame, vehicles: Mapping[str, object]) -> float:
    """What the day cost under the one cost model (:func:`solver.costs.route_cost_eur`).

    Parameters
    ----------
    route_times
        Per vehicle id (index): ``km`` driven, ``first_s`` and ``last_s`` (see :func:`vehicle_route_times`).
    vehicles
        Vehicle id -> :class:`solver.model.Vehicle` (rates, shift end).

    Returns
    -------
    float
        EUR: per vehicle that drove, km x rate + hours on route x rate + overtime past its shift end x premium +
        its day rate.

    Raises
    ------
    ValueError
        If a vehicle that drove is not in ``vehicles``.
    """
    from solver.costs import route_cost_eur

    unknown = sorted(set(route_times.index) - set(vehicles))
    if unknown:
        raise ValueError(f"vehicle(s) drove without master data: {', '.join(map(str, unknown))}")
    total = 0.0
    for vehicle_id, row in route_times.iterrows():
        vehicle = vehicles[vehicle_id]
        duration_s = max(round(row["last_s"] - row["first_s"]), 0)
        overtime_s = max(round(row["last_s"]) - vehicle.shift_end_s, 0)
        total += route_cost_eur(vehicle, round(row["km"] * 1000), duration_s, overtime_s)
    return total


def arm_metrics(outcome: Mapping[str, float], cost_eur: float, replans: Sequence[ReplanRecord] = ()) -> dict:
    """The figures of one arm of one scenario.

    Parameters
    ----------
    outcome
        :func:`simulator.live.day_outcome` of the played day.
    cost_eur
        :func:`day_cost_eur` of the day.
    replans
        The re-plans made (none for the morning plan alone).

    Returns
    -------
    dict
        ``orders, delivered, on_time, on_time_rate, failed, unserved, cancelled, cost_eur,
        cost_per_delivery_eur, km, replans, replans_failed, depot_replans_failed`` (depots of a published re-plan
        whose own re-plan raised, so they kept their plan) ``, reasons, stops_moved, latency_s_max (to the drivers),
        depot_latency_s_max, remaining_max`` (the largest remaining stops of a depot at a re-plan),
        ``dashboard_s_max`` (the slowest dashboard refresh after a re-plan) and ``dashboard_failed``.
    """
    done = [r for r in replans if r.succeeded]
    depot_latencies = [(s, r.depots[d]["remaining"]) for r in done for d, s in r.depot_latency_s().items()]
    delivered = outcome["delivered"]
    return {
        "orders": int(outcome["orders"]),
        "delivered": int(delivered),
        "on_time": int(outcome["on_time"]),
        "on_time_rate": on_time_rate(outcome),
        "failed": int(outcome["failed"]),
        "unserved": int(outcome["unserved"]),
        "cancelled": int(outcome["cancelled"]),
        "cost_eur": float(cost_eur),
        "cost_per_delivery_eur": cost_eur / delivered if delivered else float("nan"),
        "km": float(outcome["km"]),
        "replans": len(done),
        "replans_failed": len(replans) - len(done),
        "depot_replans_failed": sum(d.get("failed", 0) for r in done for d in r.depots.values()),
        "reasons": dict(Counter(r.reason for r in replans)),
        "stops_moved": sum(r.n_moved for r in done),
        "latency_s_max": max((r.latency_s for r in done), default=float("nan")),
        "depot_latency_s_max": max((s for s, _ in depot_latencies), default=float("nan")),
        "remaining_max": int(max((n for _, n in depot_latencies), default=0)),
        "dashboard_s_max": max((r.dashboard_s for r in done if r.dashboard_s == r.dashboard_s), default=float("nan")),
        "dashboard_failed": sum(not r.dashboard_ok for r in done),
    }


def improved(without: Mapping[str, float], with_replan: Mapping[str, float]) -> bool:
    """Whether re-planning beat the morning plan: on-time rate not lower, unserved not higher, one strictly better."""
    on_time_a, on_time_b = without["on_time_rate"], with_replan["on_time_rate"]
    unserved_a, unserved_b = without["unserved"], with_replan["unserved"]
    no_worse = on_time_b >= on_time_a and unserved_b <= unserved_a
    return no_worse and (on_time_b > on_time_a or unserved_b < unserved_a)


def better_on_both(without: Mapping[str, float], with_replan: Mapping[str, float]) -> bool:
    """Whether re-planning beat the morning plan on both figures: a higher on-time rate and fewer unserved orders
    (the strict reading of the target; :func:`improved` is the lenient one)."""
    return with_replan["on_time_rate"] > without["on_time_rate"] and with_replan["unserved"] < without["unserved"]


def headline(results: Sequence[Mapping]) -> dict[str, float]:
    """The headline figures over scenarios.

    ``on_time_*`` pool the scenarios (on-time deliveries over orders to serve, summed over scenarios);
    ``unserved_*`` are totals over scenarios; ``replan_latency_s_max`` is the slowest re-plan of any scenario to
    reach the drivers (job start to the plan written and validated, wall time; NaN without re-plans).
    """

    def pooled(arm: str) -> float:
        orders = sum(r[arm]["orders"] for r in results)
        return sum(r[arm]["on_time"] for r in results) / orders if orders else float("nan")

    latencies = [r["with"]["latency_s_max"] for r in results if r["with"]["replans"]]
    return {
        "replan_latency_s_max": max(latencies) if latencies else float("nan"),
        "on_time_without_replan": pooled("without"),
        "on_time_with_replan": pooled("with"),
        "unserved_without_replan": sum(r["without"]["unserved"] for r in results),
        "unserved_with_replan": sum(r["with"]["unserved"] for r in results),
        "scenarios_improved": sum(improved(r["without"], r["with"]) for r in results),
        "scenarios_total": len(results),
        "scenarios_better_on_both": sum(better_on_both(r["without"], r["with"]) for r in results),
        "replans_failed": sum(r["with"]["replans_failed"] for r in results),
        "depot_replans_failed": sum(r["with"].get("depot_replans_failed", 0) for r in results),
    }


# -- arguments ---------------------------------------------------------------------------------------------------


def scenario_list(text: str) -> list[str]:
    """Comma-separated scenario names, checked against :data:`simulator.disruptions.SCENARIO_NAMES`."""
    from simulator.disruptions import SCENARIO_NAMES

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIO_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SCENARIO_NAMES)}"
        )
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a scenario is named twice in {text!r}")
    return names


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="default", choices=sorted(BUDGET_S))
    parser.add_argument("--date", default="2026-03-03", type=dt.date.fromisoformat, help="service date YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=7, help="seed of the demo world, the day and the scenarios")
    parser.add_argument(
        "--scenarios", type=scenario_list, default=list(DEFAULT_SCENARIOS), help="comma-separated scenario names"
    )
    parser.add_argument("--step-min", type=_positive(int), default=30, help="simulated minutes between live drops")
    parser.add_argument("--budget", type=_positive(float), default=10.0, help="re-plan solve budget per depot, s")
    parser.add_argument(
        "--morning-iters",
        type=_positive(int),
        default=MORNING_MAX_ITERS,
        help="search iterations per depot of the morning plan (a count, so the plan does not depend on the load)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument(
        "--section",
        default=SECTION,
        help="heading of the docs/benchmarks.md section to write (another heading keeps another run's section)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="copy each scenario's data folder to KEEP/<scenario>")
    parser.add_argument(
        "--history-days",
        type=int,
        default=0,
        help="demo days played before the date (demo_history_day, 300 iterations per depot), so the morning plan "
        "and the re-plans use learned travel, service and availability models as in an operation with history; "
        "default 0: the first day of an operation",
    )
    args = parser.parse_args(argv)
    if args.history_days < 0:
        parser.error(f"--history-days must be non-negative, got {args.history_days}")
    if args.seed < 0:
        parser.error(f"--seed must be non-negative, got {args.seed}")
    if args.step_min * 60 > LIVE_STATE_EVERY_S or LIVE_STATE_EVERY_S % (args.step_min * 60):
        parser.error(f"--step-min must divide an hour (the live state runs hourly), got {args.step_min}")
    return args


# -- playing the day ---------------------------------------------------------------------------------------------


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def read_morning(warehouse: Path, service_date: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The morning plan's routes and stops as ``landing_execution`` reads them, and the vehicles of the date."""
    from orchestration.plan_store import read_problems

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        routes = conn.execute(
            "select route_id, vehicle_id, depot_id, start_s, end_s, start_depot_id, end_depot_id, "
            "break_after_sequence, break_s from marts.fct_planned_routes "
            "where service_date = cast(? as date) order by route_id",
            [service_date],
        ).fetchdf()
        stops = conn.execute(
            "select route_id, vehicle_id, sequence, order_id, lat, lon, arrival_s, service_start_s, departure_s, "
            "tw_start_s, tw_end_s, tw2_start_s, tw2_end_s, trip, leg_duration_s from marts.fct_planned_stops "
            "where service_date = cast(? as date) order by route_id, sequence",
            [service_date],
        ).fetchdf()
        vehicles = {v.vehicle_id: v for p in read_problems(conn, service_date) for v in p.vehicles}
    return routes, stops, vehicles


def read_plan_version(warehouse: Path, service_date: str, plan_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A plan version as the drivers get it, from ``plans.*`` (not the plan marts, which the dashboard refresh
    rebuilds after): its routes (``plans.routes``, break lengths from ``marts.fct_vehicle_days``) and stops with
    their status (``plans.stops``; places and windows as the orders stand now, intraday orders included, from
    ``intermediate.int_live_orders``).

    Raises
    ------
    RuntimeError
        If ``plan_id`` is not the date's current plan (written and valid).
    """
    from orchestration.plan_store import current_plan_id

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        current = current_plan_id(conn, service_date)
        routes = conn.execute(
            """select r.route_id, r.vehicle_id, r.depot_id, r.start_s, r.end_s, r.start_depot_id, r.end_depot_id,
                      r.break_after_sequence,
                      case when r.break_start_s is not null then v.break_s end as break_s
               from plans.routes r
               left join marts.fct_vehicle_days v
                 on v.vehicle_id = r.vehicle_id and v.service_date = cast(? as date)
               where r.plan_id = ?
               order by r.route_id""",
            [service_date, plan_id],
        ).fetchdf()
        stops = conn.execute(
            """select s.route_id, s.vehicle_id, s.sequence, s.order_id, o.lat, o.lon, s.arrival_s,
                      s.service_start_s, s.departure_s, o.tw_start_s, o.tw_end_s, o.tw2_start_s, o.tw2_end_s,
                      coalesce(s.trip, 1) as trip, s.leg_duration_s, coalesce(s.status, 'planned') as status
               from plans.stops s
               join intermediate.int_live_orders o
                 on o.order_id = s.order_id and o.service_date = cast(? as date)
               where s.plan_id = ?
               order by s.route_id, s.sequence""",
            [service_date, plan_id],
        ).fetchdf()
        n_stops = conn.execute("select count(*) from plans.stops where plan_id = ?", [plan_id]).fetchone()[0]
    if current != plan_id:
        raise RuntimeError(f"the current plan of {service_date} is {current}, not the new plan {plan_id}")
    if len(stops) != n_stops:
        raise RuntimeError(f"{plan_id}: {n_stops - len(stops)} stop(s) name orders missing from int_live_orders")
    return routes, stops


def _day_steps(routes: pd.DataFrame, step_s: int) -> list[int]:
    """Times of the live drops: every step from the step before the first route start to the latest route end plus
    :data:`DAY_END_SLACK_S`, within the day."""
    first = int(routes["start_s"].min()) // step_s * step_s
    last = min(int(routes["end_s"].max()) + DAY_END_SLACK_S, 24 * 3600 - 1)
    return list(range(first + step_s, last + step_s, step_s))


@dataclass
class Pipeline:
    """The benchmark's Dagster side of arm (b): the instance, the jobs and the sensors with their cursors."""

    instance: object
    service_date: str
    landing: Path
    warehouse: Path
    budget_s: float
    seed: int
    cursors: dict = field(default_factory=dict)
    run_keys: set = field(default_factory=set)

    def __post_init__(self) -> None:
        from orchestration.definitions import defs

        self.replan_job = defs.resolve_job_def(REPLAN_JOB)
        self.live_state_job = defs.resolve_job_def(LIVE_STATE_JOB)

    def refresh_live_state(self, as_of_s: int) -> None:
        """Run `refresh_live_state` at ``as_of_s``."""
        result = self.live_state_job.execute_in_process(
            partition_key=self.service_date,
            instance=self.instance,
            run_config={
                "ops": {"live_state": {"config": {"as_of": _clock(as_of_s)}}},
                "loggers": {"console": {"config": {"log_level": "ERROR"}}},
            },
            tags={"lastmile/trigger": "benchmark"},
            raise_on_error=False,
        )
        if not result.success:
            raise RuntimeError(f"{LIVE_STATE_JOB} at {_clock(as_of_s)} failed: {_failure(result)}")

    def sensor_requests(self) -> list:
        """Evaluate the four sensors once (cursors carried); the RunRequests not seen before (by run key)."""
        import dagster as dg
        from dagster_duckdb import DuckDBResource

        from orchestration.resources import LandingZone
        from orchestration.sensors import delay_sensor, order_changes_sensor, replan_request_sensor, weather_sensor

        resources = {
            "landing": LandingZone(landing_dir=str(self.landing)),
            "duckdb": DuckDBResource(database=str(self.warehouse)),
        }
        requests = []
        for sensor in (order_changes_sensor, delay_sensor, weather_sensor, replan_request_sensor):
            with dg.build_sensor_context(
                cursor=self.cursors.get(sensor.name), resources=resources, instance=self.instance
            ) as context:
                result = sensor(context)
            if isinstance(result, dg.SkipReason):
                continue
            if result.cursor is not None:
                self.cursors[sensor.name] = result.cursor
            for request in result.run_requests or []:
                if request.run_key not in self.run_keys:
                    self.run_keys.add(request.run_key)
                    requests.append(request)
        return requests

    def replan(self, request, as_of_s: int) -> ReplanRecord:
        """Run the `replan` job for a RunRequest at simulated time ``as_of_s``; what it made and how long it took."""
        import dagster as dg

        ops = dict(request.run_config.get("ops", {}))
        replan_config = {**ops.get(REPLAN_OP, {}).get("config", {})}
        reason = str(replan_config.get("reason", "requested"))
        replan_config.update(as_of=_clock(as_of_s), time_budget_s=self.budget_s, seed=self.seed)
        ops[REPLAN_OP] = {"config": replan_config}
        ops["live_state"] = {"config": {"as_of": _clock(as_of_s)}}
        started, started_epoch = time.perf_counter(), time.time()
        result = self.replan_job.execute_in_process(
            partition_key=request.partition_key or self.service_date,
            instance=self.instance,
            run_config={**request.run_config, "ops": ops, "loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            tags={**request.tags, "lastmile/trigger": request.tags.get("lastmile/trigger", "benchmark")},
            raise_on_error=False,
        )
        job_s = time.perf_counter() - started
        stages: dict[str, float] = {}
        for step, seconds in _step_walls(self.instance, result.run_id).items():
            stage = REPLAN_STAGES.get(step, "other")
            stages[stage] = stages.get(stage, 0.0) + seconds
        # To the drivers: from the job's start to the end of replan_plan (plan written and validated); the rest of
        # the job is the dashboard refresh.
        planned_at = _step_ends(self.instance, result.run_id).get(REPLAN_OP)
        latency_s = planned_at - started_epoch if planned_at is not None else job_s
        dashboard_ok = bool(result.success)
        metadata = {}
        for event in result.get_asset_materialization_events():
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key == dg.AssetKey(["plans", "replan", "plan_runs"]):
                metadata = {k: v.value for k, v in materialization.metadata.items()}
        depots = {
            depot: {
                "remaining": int(d["stops_planned"]),
                "unassigned": int(d["unassigned"]),
                "solve_s": float(d["solve_s"]),
                "kept": 1 if d.get("kept_current") else 0,
                "failed": 1 if d.get("error") else 0,
            }
            for depot, d in (metadata.get("per_depot") or {}).items()
        }
        # The plan counts as out when it was written and its blocking plan_is_valid check passed (the replan_plan
        # step succeeded); a failed dashboard refresh after that does not take it back.
        succeeded = planned_at is not None and bool(metadata.get("plan_id"))
        record = ReplanRecord(
            as_of_s=as_of_s,
            reason=reason,
            trigger=request.tags.get("lastmile/trigger", ""),
            succeeded=succeeded,
            latency_s=latency_s,
            stages_s=stages,
            n_moved=int(metadata.get("n_moved") or 0),
            depots=depots,
            plan_id=metadata.get("plan_id"),
            dashboard_s=stages.get("dashboard", float("nan")) if dashboard_ok else float("nan"),
            job_s=job_s,
            dashboard_ok=dashboard_ok,
        )
        if not result.success:
            what = "dashboard refresh" if succeeded else "re-plan"
            print(f"  {what} at {_clock(as_of_s)} ({reason}) failed: {_failure(result)}", file=sys.stderr)
        return record


def _verdict(without: Mapping[str, float], with_replan: Mapping[str, float]) -> str:
    """The improved column: ``both`` (better on on-time rate and unserved), ``yes`` (:func:`improved`) or ``no``."""
    if better_on_both(without, with_replan):
        return "both"
    return "yes" if improved(without, with_replan) else "no"


def _step_ends(instance, run_id: str) -> dict[str, float]:
    """Epoch seconds at which each step of the run succeeded (STEP_SUCCESS in its event log)."""
    ends = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.event_type_value == "STEP_SUCCESS":
            ends[event.step_key] = entry.timestamp
    return ends


def _failure(result) -> str:
    from orchestration.cli import failure_report

    return "; ".join(failure_report(result)[:5]) or "see the run's logs"


def play_without(world, service_date: dt.date, orders, scenario, seed: int, routes, stops):
    """Arm (a): the morning plan published at the start, played to the end."""
    from simulator.live import LiveDay

    live = LiveDay(world, service_date, orders, scenario, seed)
    live.publish(routes, stops, 0)
    return live.finish()


def play_with(
    world, service_date: dt.date, orders, scenario, seed: int, routes, stops, step_s: int, pipeline: Pipeline, progress
):
    """Arm (b): the day in steps through the real sensors and jobs; returns the execution and the re-plans."""
    from simulator.live import LiveDay

    live = LiveDay(world, service_date, orders, scenario, seed)
    live.publish(routes, stops, 0)
    records: list[ReplanRecord] = []
    published_s = 0
    for to_s in _day_steps(routes, step_s):
        progress.set_postfix_str(f"{scenario.name} {_clock(to_s)[:5]}, {len(records)} re-plans")
        drop = live.advance(to_s)
        live.write_drop(pipeline.landing, drop)
        if to_s % LIVE_STATE_EVERY_S == 0:
            pipeline.refresh_live_state(to_s)
        clock_s = float(to_s)  # the simulated time stands still while the pipeline works
        replanned = False
        for request in pipeline.sensor_requests():
            record = pipeline.replan(request, to_s)
            records.append(record)
            # The drivers have the plan once it is written and valid; the next job starts after this whole one.
            out_s = clock_s + record.latency_s
            clock_s += record.job_s if record.job_s == record.job_s else record.latency_s
            if not record.succeeded:
                continue
            new_routes, new_stops = read_plan_version(pipeline.warehouse, service_date.isoformat(), record.plan_id)
            published_s = max(math.ceil(out_s), published_s)
            live.publish(new_routes, new_stops, published_s)
            replanned = True
        if replanned and (to_s + step_s) % LIVE_STATE_EVERY_S:
            # The live state against the new plan, for the app and the delay sensor's next look (the replan job's
            # own live state was made against the old plan). Before an hourly step the refresh there does it.
            pipeline.refresh_live_state(to_s)
        progress.update(1)
    return live.finish(), records


def run_scenario(name: str, args, morning_dir: Path, run_dir: Path, world, orders, plan, progress) -> dict:
    """Both arms of one scenario on a fresh copy of the morning's data folder."""
    import dagster as dg

    from simulator.disruptions import scenario as draw_scenario
    from simulator.live import day_outcome

    routes, stops, vehicles = plan
    service_date = args.date
    day = draw_scenario(world, service_date, name, args.seed, orders=orders, routes=routes)

    def score(execution, replans=()):
        outcome = day_outcome(execution, orders, day, world.timezone)
        cost = day_cost_eur(vehicle_route_times(execution, service_date, world.timezone), vehicles)
        return arm_metrics(outcome, cost, replans)

    without = score(play_without(world, service_date, orders, day, args.seed, routes, stops))

    if run_dir.exists():
        shutil.rmtree(run_dir)
    shutil.copytree(morning_dir, run_dir)
    with dg.DagsterInstance.get() as instance:
        pipeline = Pipeline(
            instance,
            service_date.isoformat(),
            run_dir / "landing",
            run_dir / "warehouse.duckdb",
            args.budget,
            args.seed,
        )
        execution, records = play_with(
            world, service_date, orders, day, args.seed, routes, stops, args.step_min * 60, pipeline, progress
        )
    if args.keep is not None:
        shutil.copytree(run_dir, args.keep / name, dirs_exist_ok=True)
    return {
        "scenario": name,
        "disruptions": dict(Counter(d.kind for d in day.disruptions)),
        "without": without,
        "with": score(execution, records),
        "replans": records,
    }


# -- report ------------------------------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return "-" if value != value else f"{100 * value:.1f}%"


def _s(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"


def markdown(results: Sequence[Mapping], figures: Mapping[str, float], args, wall_s: float) -> str:
    """The docs section: one row per scenario and arm, the re-plans, the definitions and the headline figures."""
    command = (
        f"{COMMAND} --scale {args.scale} --date {args.date} --seed {args.seed} --scenarios {','.join(args.scenarios)} "
        f"--step-min {args.step_min} --budget {args.budget:g}"
    )
    if getattr(args, "history_days", 0):
        command += f" --history-days {args.history_days}"
    if getattr(args, "morning_iters", MORNING_MAX_ITERS) != MORNING_MAX_ITERS:
        command += f" --morning-iters {args.morning_iters}"
    if getattr(args, "section", SECTION) != SECTION:
        command += f' --section "{args.section}"'

    lines = [
        f"Command: `{command}` ({wall_s / 60:.0f} min wall time).",
        "",
        "| scenario | arm | orders | on time | on-time rate | failed | unserved | EUR / delivery | km "
        "| re-plans | stops moved | latency to drivers s (max) | depot latency s (max) | remaining stops (max) "
        "| dashboard refresh s (max) | improved |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| --- |",
    ]
    for r in results:
        a, b = r["without"], r["with"]
        failed = f" (+{b['replans_failed']} failed)" if b["replans_failed"] else ""
        if b.get("depot_replans_failed"):
            failed += f" ({b['depot_replans_failed']} depot(s) kept their plan after an error)"
        dashboard_failed = f" ({b['dashboard_failed']} failed)" if b["dashboard_failed"] else ""
        lines.append(
            f"| {r['scenario']} | (a) morning plan | {a['orders']} | {a['on_time']} | {_pct(a['on_time_rate'])} "
            f"| {a['failed']} | {a['unserved']} | {a['cost_per_delivery_eur']:.2f} | {a['km']:.0f} "
            "| - | - | - | - | - | - | |"
        )
        lines.append(
            f"| {r['scenario']} | (b) re-planning | {b['orders']} | {b['on_time']} | {_pct(b['on_time_rate'])} "
            f"| {b['failed']} | {b['unserved']} | {b['cost_per_delivery_eur']:.2f} | {b['km']:.0f} "
            f"| {b['replans']}{failed} "
            f"| {b['stops_moved']} | {_s(b['latency_s_max'])} | {_s(b['depot_latency_s_max'])} | {b['remaining_max']} "
            f"| {_s(b['dashboard_s_max'])}{dashboard_failed} | {_verdict(a, b)} |"
        )
    lines += ["", "Re-plans (simulated time, reason, latency to the drivers in wall seconds with its stages, then the "
              "dashboard refresh after it, stops moved, per depot remaining stops / solve s / that depot's latency "
              "s, `kept` where the guard kept the depot's current routes):", ""]  # fmt: skip
    for r in results:
        parts = []
        for rec in r["replans"]:
            stages = " + ".join(f"{k} {v:.1f}" for k, v in rec.stages_s.items() if k != "dashboard")
            depot_s = rec.depot_latency_s()
            depots = ", ".join(
                f"{d} {v['remaining']}/{v['solve_s']:.1f}/{depot_s[d]:.1f}{' kept' if v.get('kept') else ''}"
                for d, v in sorted(rec.depots.items())
            )
            status = "" if rec.succeeded else " FAILED"
            dashboard = f"{rec.dashboard_s:.1f} s" if rec.dashboard_ok else "FAILED"
            parts.append(
                f"{_clock(rec.as_of_s)[:5]} {rec.reason}{status}: {rec.latency_s:.1f} s ({stages}), dashboard "
                f"{dashboard}, moved {rec.n_moved}, {depots}"
            )
        shown = "; ".join(parts) if parts else "none"
        disruptions = ", ".join(f"{k} {n}" for k, n in sorted(r["disruptions"].items()))
        lines.append(f"- {r['scenario']} ({disruptions}): {shown}")
    lines += [
        "",
        "Both arms play the same day in the live simulator (`simulator.live.LiveDay`: same world, orders, hidden "
        "truth, weather and disruptions, drawn from the seed). (a) gets the morning plan of the real `demo_daily` "
        "run and nothing else (cancelled stops are skipped by the driver app, new orders stay unserved). (b) writes "
        f"a live drop every {args.step_min} simulated minutes, evaluates the real sensors (`order_changes_sensor`, "
        "`delay_sensor`, `weather_sensor`, `replan_request_sensor`, cursors carried) and runs the real `replan` job "
        "in-process for "
        f"each RunRequest (as_of = the simulated time, {args.budget:g} s solve budget per depot); "
        "`refresh_live_state` runs every simulated hour and after a re-plan (unless an hourly one follows next). "
        "A re-plan is published to the "
        "simulator at as_of + its latency (simulated time stands still while the pipeline works).",
        "",
        "On-time rate = orders delivered while a window in force was open (the latest window change received by "
        "the arrival, else the order's windows; all-day orders are on time) / orders to serve (all orders of the "
        "day, new ones included, minus cancelled). Unserved = orders to serve never delivered (failed at the last "
        "attempt or never attempted). EUR / delivery = the cost model of `solver/costs.py` on the km and hours "
        "actually driven (first depot departure to last return or breakdown, overtime past the shift end) plus "
        "the day rate of each vehicle that drove, over delivered orders. Latency (to the drivers) = wall time from "
        "the start of the `replan` job to the new plan written to `plans.*` and validated (blocking "
        "`plan_is_valid`), where the simulator and a driver app read it: live drops ingested, live state built, "
        "solve, write and validate. Dashboard refresh = the rest of the job, after the plan is out: the plan "
        "marts rebuilt (with their tests) and the serving snapshot published. Depot latency = the latency to the "
        "drivers outside the solver plus that depot's own solve (depots are solved in parallel processes); "
        "remaining stops = committed and planned stops of the depot in the new plan.",
        "",
        "Improved: `both` when (b) has a higher on-time rate and fewer unserved orders than (a) (the strict "
        "reading of the target, counted by `scenarios_better_on_both`); `yes` when (b) has an on-time rate at least "
        "(a)'s and no more unserved orders than (a), and is strictly better in at least one of the two (counted by "
        "`scenarios_improved`, which includes `both`). `replans_failed`: re-plan jobs that did not publish a plan "
        "(each is listed as FAILED below); `depot_replans_failed`: depots of a published re-plan whose own re-plan "
        "raised, so they kept their plan. Headline: `on_time_*` pool all scenarios (on-time deliveries summed "
        "over scenarios / orders to serve summed over scenarios); `unserved_*` are totals over scenarios; "
        "`replan_latency_s_max` is the slowest re-plan of any scenario to reach the drivers (not counting the "
        "dashboard refresh).",
        "",
        "```",
        *format_headline(figures),
        "```",
    ]
    return "\n".join(lines)


def format_headline(figures: Mapping[str, float]) -> list[str]:
    """One ``name: value`` line per headline figure, in :data:`HEADLINES` order."""
    lines = []
    for name in HEADLINES:
        value = figures[name]
        if isinstance(value, int | np.integer):
            lines.append(f"{name}: {int(value)}")
        elif name.startswith("on_time"):
            lines.append(f"{name}: {value:.4f}")
        else:
            lines.append(f"{name}: {value:.2f}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from tqdm import tqdm

    from orchestration.cli import run_day, run_history
    from simulator import build_world

    started = time.perf_counter()
    service_date = args.date.isoformat()
    world = build_world(args.scale, args.seed)
    with tempfile.TemporaryDirectory(prefix=f"lastmile-bench-replan-{args.scale}-") as tmp:
        run_dir, morning_dir = Path(tmp) / "day", Path(tmp) / "morning"
        use_data_dir(run_dir, args.scale, args.seed)
        with manifest_for_this_warehouse(Path(tmp)):
            if args.history_days:
                print(f"[{args.scale}] history: {args.history_days} days before {service_date}")
                if run_history(args.history_days, args.date - dt.timedelta(days=1), BUDGET_S[args.scale], args.seed,
                               HISTORY_MAX_ITERS):  # fmt: skip
                    raise SystemExit("the history failed")
            cap_s = BUDGET_S[args.scale] * MORNING_BUDGET_FACTOR
            print(f"[{args.scale}] morning plan: demo_daily for {service_date} ({args.morning_iters} iterations)")
            result = run_day(service_date, cap_s, args.seed, max_iters=args.morning_iters, log_level="ERROR")
            if not result.success:
                print("\n".join(_failure(result).split("; ")), file=sys.stderr)
                raise SystemExit("the morning plan failed")
            shutil.copytree(run_dir, morning_dir)
            orders = pd.read_csv(
                run_dir / "landing" / "orders" / f"orders_{service_date}.csv", dtype=str, keep_default_na=False
            )
            plan = read_morning(run_dir / "warehouse.duckdb", service_date)
            step_s = args.step_min * 60
            total = len(args.scenarios) * len(_day_steps(plan[0], step_s))
            results = []
            with tqdm(total=total, unit="step", desc="replan") as progress:
                for name in args.scenarios:
                    results.append(run_scenario(name, args, morning_dir, run_dir, world, orders, plan, progress))
                    r = results[-1]
                    progress.write(
                        f"{name}: on time {_pct(r['without']['on_time_rate'])} -> {_pct(r['with']['on_time_rate'])}, "
                        f"unserved {r['without']['unserved']} -> {r['with']['unserved']}, "
                        f"{r['with']['replans']} re-plans, latency max {_s(r['with']['latency_s_max'])} s"
                    )
    wall_s = time.perf_counter() - started
    figures = headline(results)
    table = markdown(results, figures, args, wall_s)
    print(table)
    if not args.no_write:
        write_section(args.section, table)
    print(f"wall time {wall_s:.0f} s")
    for line in format_headline(figures):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
