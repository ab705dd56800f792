"""Command line: ``python -m orchestration.cli run`` plans the next service date of the demo world end to end.

It runs the real Dagster job in-process against the instance in ``$DAGSTER_HOME`` (so the runs show in
``make dagster``), then prints a per-depot summary from the warehouse.

Runs started here on one instance share the `warehouse` pool (``orchestration/dagster.yaml``): the in-process
executor claims a pool slot per step from the instance's storage, so two runs that write the same DuckDB file
queue step by step instead of failing on its lock. A run killed outright (``kill -9``, OOM) cannot give its slot
back; the next run started here finds such runs by the worker process they name in their tags, reports them
failed and frees their slots (the job of Dagster's run monitoring daemon, which in-process runs do not have).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from orchestration.partitions import OPERATION_TIMEZONE
from orchestration.scenarios import ScenarioSpec

PLAN_OP = "daily_plan"
REPLAN_OP = "replan_plan"
WHATIF_OP = "whatif_plan"
# Tag on every run started here: host, pid and process start time of the process executing it in-process.
WORKER_TAG = "lastmile/worker"
IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def next_service_date(today: dt.date | None = None) -> dt.date:
    """Tomorrow in the operation's time zone."""
    today = today or dt.datetime.now(ZoneInfo(OPERATION_TIMEZONE)).date()
    return today + dt.timedelta(days=1)


def prepare_dagster_home() -> None:
    """Create ``$DAGSTER_HOME`` with the project's instance settings (warehouse pool) if it has none."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return
    Path(home).mkdir(parents=True, exist_ok=True)
    target = Path(home) / "dagster.yaml"
    if not target.exists():
        # Copy, then rename: a run starting at the same moment never reads a half-written file.
        with tempfile.NamedTemporaryFile(dir=home, prefix=".dagster.yaml.", delete=False) as handle:
            handle.write(Path(__file__).with_name("dagster.yaml").read_bytes())
        os.replace(handle.name, target)


def _process_started(pid: int) -> str | None:
    """Start time of process ``pid`` (clock ticks since boot, from /proc), or None if it has ended.

    Pid and start time together name one process: a pid reused by a later process has another start time.
    Without /proc (not Linux) a live pid is taken at its word.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "unknown"
    # Fields 3 (state) and 22 (starttime); the command name in field 2 may hold spaces, so count from its ")".
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]  # a zombie has ended, only its parent has not reaped it


def worker_tag() -> str:
    """This process as ``host:pid:start``, the value of :data:`WORKER_TAG`."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_started(pid)}"


def _worker_gone(tag: str) -> bool:
    host, _, rest = tag.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: not ours to judge
    now = _process_started(int(pid))
    return now is None or (now != "unknown" and started != "unknown" and now != started)


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the in-progress runs whose worker process is gone and free the pool slots they hold.

    Only runs started by :func:`run_day` (tagged with :data:`WORKER_TAG`) on this host are judged.

    Returns
    -------
    list of str
        Ids of the runs reported failed.
    """
    released = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        tag = run.tags.get(WORKER_TAG)
        if not tag or not _worker_gone(tag):
            continue
        instance.report_run_failed(run, message=f"the process running this run ({tag}) is gone, e.g. killed")
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


@contextlib.contextmanager
def run_instance(instance: dg.DagsterInstance | None = None) -> Iterator[dg.DagsterInstance]:
    """The instance runs started here execute on: ``instance``, else ``$DAGSTER_HOME``'s (prepared with the project's
    settings), else an ephemeral one; runs of it whose process died first give their pool slots back
    (:func:`release_dead_runs`). An instance made here is disposed of on leaving, so that its storage connections
    are not left to the garbage collector (which may free them on another thread, where SQLite refuses them)."""
    prepare_dagster_home()
    with contextlib.ExitStack() as stack:
        if instance is None:
            made = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
            instance = stack.enter_context(made)
        for run_id in release_dead_runs(instance):
            print(f"run {run_id} had been killed: marked failed, its warehouse pool slot freed", file=sys.stderr)
        yield instance


def _execute(
    job_name: str,
    partition_key: str,
    ops: dict,
    log_level: str,
    instance: dg.DagsterInstance | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Run job ``job_name`` for one partition in-process on :func:`run_instance`'s instance, tagged with this
    worker (:data:`WORKER_TAG`) and ``tags``; a failed run is returned, not raised."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    with run_instance(instance) as run_on:
        return job.execute_in_process(
            partition_key=partition_key,
            instance=run_on,
            tags={WORKER_TAG: worker_tag(), **(tags or {})},
            run_config={"ops": ops, "loggers": {"console": {"config": {"log_level": log_level}}}},
            raise_on_error=False,
        )


def run_day(
    service_date: str,
    time_budget_s: float,
    seed: int,
    job_name: str = "demo_daily",
    max_iters: int | None = None,
    log_level: str = "INFO",
) -> dg.ExecuteInProcessResult:
    """Materialise every asset of ``job_name`` for one service date, in-process, on the configured instance.

    Steps that write the warehouse wait for the instance's `warehouse` pool; runs of this instance whose process
    died first give their slots back (:func:`release_dead_runs`).
    """
    config = {"time_budget_s": time_budget_s, "seed": seed, "max_iters": max_iters}
    return _execute(job_name, service_date, {PLAN_OP: {"config": config}}, log_level)


def run_replan(
    service_date: str,
    as_of: str | None = None,
    reason: str = "requested",
    time_budget_s: float = 10.0,
    seed: int = 0,
    log_level: str = "INFO",
    instance: dg.DagsterInstance | None = None,
    processes: int = 2,
) -> dg.ExecuteInProcessResult:
    """Run the ``replan`` job for one service date in-process on the configured instance, as :func:`run_day` does:
    live drops -> live state (at ``as_of``, local ``HH:MM[:SS]``; default the newest live data) -> re-plan -> plan
    marts -> serving snapshot. ``processes``: depots re-planned in parallel (1: in this process)."""
    config = {"as_of": as_of, "reason": reason, "time_budget_s": time_budget_s, "seed": seed, "processes": processes}
    ops = {"live_state": {"config": {"as_of": as_of}}, REPLAN_OP: {"config": config}}
    tags = {"lastmile/trigger": "cli", "lastmile/reason": reason}
    return _execute("replan", service_date, ops, log_level, instance, tags)


def replan_summary(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance) -> dict:
    """What a ``replan`` run made: the new plan id, its parent, the stops moved and the latencies, in seconds.

    ``latency_s`` is the re-plan's own (state read + solve + write and validate); ``drivers_latency_s`` runs from
    the run's first step (the live drops ingested) to the end of the re-plan step, when the plan is in ``plans.*``
    and valid, where drivers get it; ``publish_latency_s`` runs from the start of the live state to the end of the
    serving snapshot (the dashboard refresh: plan marts rebuilt and published).
    """
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == dg.AssetKey(["plans", "replan", "plan_runs"]):
            metadata = {k: v.value for k, v in materialization.metadata.items()}
    logs = [e for e in instance.all_logs(result.run_id) if e.dagster_event is not None]
    starts = [e.timestamp for e in logs if e.dagster_event.is_step_start and e.step_key in ("live_state", REPLAN_OP)]
    ends = [e.timestamp for e in logs if e.dagster_event.is_step_success and e.step_key == "serving_snapshot"]
    first = [e.timestamp for e in logs if e.dagster_event.is_step_start]
    planned = [e.timestamp for e in logs if e.dagster_event.is_step_success and e.step_key == REPLAN_OP]
    return {
        "plan_id": metadata.get("plan_id"),
        "parent_plan_id": metadata.get("parent_plan_id"),
        "reason": metadata.get("reason"),
        "as_of": metadata.get("as_of"),
        "n_moved": metadata.get("n_moved"),
        "moved": metadata.get("moved") or [],
        "unassigned": metadata.get("unassigned"),
        "latency_s": metadata.get("latency_s"),
        "drivers_latency_s": round(max(planned) - min(first), 2) if first and planned else None,
        "publish_latency_s": round(max(ends) - min(starts), 2) if starts and ends else None,
    }


def format_replan(service_date: str, summary: dict) -> str:
    moved = ", ".join(summary["moved"][:20]) + (" ..." if len(summary["moved"]) > 20 else "")
    publish, drivers = summary["publish_latency_s"], summary.get("drivers_latency_s")
    return "\n".join(
        [
            f"Re-plan of {service_date} at {summary['as_of']} ({summary['reason']}): {summary['plan_id']}, "
            f"replacing {summary['parent_plan_id']}",
            f"moved stops: {summary['n_moved']}{f' ({moved})' if moved else ''}; unassigned: {summary['unassigned']}",
            f"latency: {summary['latency_s']} s (state read + solve + write); "
            f"{'-' if drivers is None else drivers} s from the run's start to the plan out to the drivers; "
            f"{'-' if publish is None else publish} s from the live state to the published snapshot",
        ]
    )


def run_whatif(
    spec: ScenarioSpec,
    log_level: str = "INFO",
    instance: dg.DagsterInstance | None = None,
    max_iters: int | None = None,
    processes: int = 2,
) -> dg.ExecuteInProcessResult:
    """Run the ``whatif`` job for the spec's date in-process on the configured instance, as :func:`run_day` does:
    what-if plan (simulated when the date is past) -> serving snapshot."""
    spec.validate()
    ops = {WHATIF_OP: {"config": {**spec.as_dict(), "max_iters": max_iters, "processes": processes}}}
    tags = {"lastmile/trigger": "cli", "lastmile/scenario": spec.name[:200]}
    return _execute("whatif", spec.service_date, ops, log_level, instance, tags)


def whatif_summary(result: dg.ExecuteInProcessResult) -> dict:
    """What a ``whatif`` run made: the plan id, its figures, and the simulated outcome (empty for a future date)."""
    plan, outcome = {}, {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        values = {k: v.value for k, v in materialization.metadata.items()}
        if materialization.asset_key == dg.AssetKey(["plans", "whatif", "plan_runs"]):
            plan = values
        elif materialization.asset_key == dg.AssetKey(["plans", "whatif_outcomes"]):
            outcome = {k.removeprefix("sim_"): v for k, v in values.items() if k.startswith("sim_")}
    return {**plan, "outcome": outcome}


def format_whatif(spec: ScenarioSpec, summary: dict) -> str:
    per_depot = summary.get("per_depot") or {}
    km = sum(d["km"] for d in per_depot.values())
    lines = [
        f"What-if '{spec.name}' for {spec.service_date}: {summary.get('plan_id')}",
        f"vehicles used {summary.get('vehicles_used')} of {summary.get('vehicles_available')}, "
        f"routes {summary.get('routes')}, stops {summary.get('stops')}, unassigned {summary.get('unassigned')}, "
        f"{km:.1f} km",
    ]
    outcome = summary["outcome"]
    if outcome:
        cpd = outcome.get("cost_per_delivery_eur")
        lines.append(
            f"simulated on the day: delivered {outcome.get('delivered')}, failed {outcome.get('failed')}, "
            f"unserved {outcome.get('unserved')}, on time {_pct(outcome.get('on_time_rate'))}, "
            f"{outcome.get('distance_km', 0):.1f} km, EUR/delivery {'-' if cpd is None else f'{cpd:.2f}'}"
        )
    else:
        lines.append("not simulated (the date has no actual deliveries)")
    return "\n".join(lines)


def parse_vehicles(items: list[str]) -> dict[str, int]:
    """``["D-X/van=3", ...]`` as the fleet of a :class:`ScenarioSpec`.

    Raises
    ------
    ValueError
        On an item that is not ``<depot_id>/<vehicle_type>=<count>``.
    """
    fleet = {}
    for item in items:
        key, sep, count = item.partition("=")
        if not sep or "/" not in key or not count.strip().isdigit():
            raise ValueError(f"--vehicles takes <depot_id>/<vehicle_type>=<count>, got {item!r}")
        fleet[key.strip()] = int(count)
    return fleet


def parse_shift(text: str) -> tuple[int, int]:
    """``"07:00-17:00"`` as (shift_start_s, shift_end_s), seconds after local midnight.

    Raises
    ------
    ValueError
        On text that is not ``HH:MM-HH:MM``.
    """
    try:
        start, end = text.split("-")
        return tuple(int(h) * 3600 + int(m) * 60 for h, m in (part.strip().split(":") for part in (start, end)))
    except ValueError as error:
        raise ValueError(f"--shift takes HH:MM-HH:MM, got {text!r}") from error


def plan_summary(warehouse: str, service_date: str) -> list[dict]:
    """Per-depot figures of the date's current plan, read from the marts."""
    with duckdb.connect(warehouse, read_only=True) as conn:
        rows = conn.execute(
            """select k.depot_id, k.routes, k.stops, k.distance_km, k.cost_per_delivery_eur, k.unassigned,
                      s.runtime_s, s.stopped_by, k.plan_id
               from marts.fct_plan_kpis k
               left join plans.solves s on s.plan_id = k.plan_id and s.depot_id = k.depot_id
               where k.service_date = cast(? as date) order by k.depot_id""",
            [service_date],
        ).fetchall()
    columns = [
        "depot",
        "routes",
        "stops",
        "km",
        "cost_per_delivery_eur",
        "unassigned",
        "solve_s",
        "stopped_by",
        "plan_id",
    ]
    return [dict(zip(columns, row, strict=True)) for row in rows]


def format_summary(service_date: str, summary: list[dict]) -> str:
    header = (
        f"{'depot':<12} {'routes':>6} {'stops':>6} {'km':>8} {'EUR/delivery':>12} {'unassigned':>10} {'solve s':>8}"
    )
    lines = [f"Plan for {service_date} ({summary[0]['plan_id'] if summary else 'no plan'})", header]
    for row in summary:
        cpd = f"{row['cost_per_delivery_eur']:.2f}" if row["cost_per_delivery_eur"] is not None else "-"
        solve = f"{row['solve_s']:.1f}" if row["solve_s"] is not None else "-"
        lines.append(
            f"{row['depot']:<12} {row['routes']:>6} {row['stops']:>6} {row['km']:>8.1f} {cpd:>12} "
            f"{row['unassigned']:>10} {solve:>8}"
        )
    return "\n".join(lines)


def history_day_summary(warehouse: str, service_date: str) -> dict:
    """What happened on one demo day, over all depots: orders, deliveries, on-time, cost, first attempt, rating."""
    with duckdb.connect(warehouse, read_only=True) as conn:
        row = conn.execute(
            """select count(*), count(*) filter (outcome = 'delivered'), avg(is_on_time::int),
                      avg(is_first_attempt_success::int) filter (outcome in ('delivered', 'failed')), avg(rating)
               from marts.fct_deliveries where service_date = cast(? as date)""",
            [service_date],
        ).fetchone()
        cost = conn.execute(
            "select sum(actual_cost_eur) / nullif(sum(delivered), 0) from marts.fct_route_days "
            "where service_date = cast(? as date)",
            [service_date],
        ).fetchone()[0]
    orders, delivered, on_time, first_attempt, rating = row
    return {
        "date": service_date,
        "orders": orders,
        "delivered": delivered,
        "on_time": on_time,
        "first_attempt": first_attempt,
        "cost_per_delivery_eur": cost,
        "rating": rating,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def run_history(days: int, end: dt.date, time_budget_s: float, seed: int, max_iters: int) -> int:
    """Build ``days`` days of demo history ending at ``end``: per day orders -> plan -> execution -> ingestion ->
    actuals -> publish (the `demo_history_day` job), with a progress bar and a per-day summary line."""
    from tqdm import tqdm

    dates = [(end - dt.timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]
    warehouse = os.environ["LASTMILE_WAREHOUSE"]
    print(f"{'date':<11} {'orders':>6} {'delivered':>9} {'on-time':>8} {'1st att.':>8} {'EUR/del.':>8} {'rating':>6}")
    with tqdm(dates, unit="day", desc="history") as progress:
        for service_date in progress:
            result = run_day(service_date, time_budget_s, seed, "demo_history_day", max_iters, "ERROR")
            if not result.success:
                for line in failure_report(result):
                    progress.write(line)
                progress.write(f"{service_date}: run failed (see `make dagster` for the run's logs)")
                return 1
            day = history_day_summary(warehouse, service_date)
            cost = "-" if day["cost_per_delivery_eur"] is None else f"{day['cost_per_delivery_eur']:.2f}"
            rating = "-" if day["rating"] is None else f"{day['rating']:.2f}"
            progress.write(
                f"{service_date:<11} {day['orders']:>6} {day['delivered']:>9} {_pct(day['on_time']):>8} "
                f"{_pct(day['first_attempt']):>8} {cost:>8} {rating:>6}"
            )
    return 0


def failure_report(result: dg.ExecuteInProcessResult) -> list[str]:
    """Why a run failed, in words: the messages of failed blocking data checks, then of failed steps."""
    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            message = evaluation.metadata.get("message")
            text = message.value if message is not None else ""
            lines.append(f"blocked by data check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}:")
            lines += [f"  {line}" for line in text.replace("\n\n", "\n").splitlines() if line.strip()]
    for event in result.all_events:
        if event.is_step_failure:
            # A dg.Failure raised by the step says why in its description (e.g. a scenario that does not fit).
            failure = event.step_failure_data.user_failure_data
            why = f" {failure.description}" if failure is not None and failure.description else ""
            lines.append(f"step {event.step_key} failed: {event.message}{why}")
    return lines


def _common_arguments(command: argparse.ArgumentParser, budget: float) -> None:
    command.add_argument(
        "--scale", default=os.environ.get("LASTMILE_DEMO_SCALE", "default"), choices=["small", "default", "large"]
    )
    command.add_argument(
        "--seed",
        type=int,
        default=int(os.environ.get("LASTMILE_DEMO_SEED", "7")),
        help="seed of the demo world and of the solver",
    )
    command.add_argument("--budget", type=float, default=budget, help="solver time budget per depot, seconds (a cap)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build the demo world and plan one service date end to end")
    run.add_argument("--date", help="service date YYYY-MM-DD (default: tomorrow, operation time zone)")
    run.add_argument(
        "--max-iters", type=int, default=None, help="cap on search iterations per depot (reproducible plans)"
    )
    run.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="Dagster console log level"
    )
    _common_arguments(run, budget=60.0)
    history = sub.add_parser("history", help="build N past days of demo history: plan, execute, ingest, KPIs")
    history.add_argument("--days", type=int, default=14)
    history.add_argument("--end", help="last service date YYYY-MM-DD (default: today, operation time zone)")
    history.add_argument(
        "--max-iters", type=int, default=300, help="search iterations per depot: fast and reproducible backfills"
    )
    _common_arguments(history, budget=30.0)
    replan = sub.add_parser("replan", help="re-plan a service date from its live state (the `replan` job)")
    replan.add_argument("--date", help="service date YYYY-MM-DD (default: today, operation time zone)")
    replan.add_argument("--as-of", help="local time HH:MM[:SS] of the live state (default: the newest live data)")
    replan.add_argument("--reason", default="requested", help="why (stored with the plan version)")
    replan.add_argument("--budget", type=float, default=10.0, help="solver time budget per depot, seconds (a cap)")
    replan.add_argument("--seed", type=int, default=0, help="seed of the solver")
    replan.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="Dagster console log level"
    )
    whatif = sub.add_parser("whatif", help="plan a service date under a what-if scenario (the `whatif` job)")
    whatif.add_argument("--date", help="service date YYYY-MM-DD (default: tomorrow, operation time zone)")
    whatif.add_argument("--name", required=True, help="the scenario's name (shown in the app)")
    whatif.add_argument(
        "--vehicles",
        action="append",
        default=[],
        metavar="DEPOT/TYPE=N",
        help="vehicles of a type at a depot, e.g. D-SCHAAN/van=3 (repeat; 0 = none; default: the date's fleet)",
    )
    whatif.add_argument("--shift", help="every vehicle's shift, HH:MM-HH:MM local (default: as in the fleet master)")
    whatif.add_argument("--widen-min", type=int, default=0, help="widen every delivery window by N minutes each side")
    whatif.add_argument("--budget", type=float, default=10.0, help="solver time budget per depot, seconds (a cap)")
    whatif.add_argument("--seed", type=int, default=1, help="seed of the solver")
    whatif.add_argument("--max-iters", type=int, default=None, help="cap on search iterations per depot")
    whatif.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="Dagster console log level"
    )
    args = parser.parse_args(argv)

    for name in ("LASTMILE_DATA_DIR", "LASTMILE_WAREHOUSE", "LASTMILE_LANDING_DIR", "LASTMILE_SERVING_DIR"):
        if not os.environ.get(name):
            parser.error(f"{name} is not set (the Makefile sets it; see README)")
    if args.command == "replan":
        service_date = args.date or (next_service_date() - dt.timedelta(days=1)).isoformat()
        os.environ.setdefault("LASTMILE_DEMO_SCALE", "default")
        os.environ.setdefault("LASTMILE_DEMO_SEED", "7")
        with run_instance() as instance:
            result = run_replan(service_date, args.as_of, args.reason, args.budget, args.seed, args.log_level, instance)
            if _failed(result, f"re-plan of {service_date}"):
                return 1
            print()
            print(format_replan(service_date, replan_summary(result, instance)))
            return 0
    if args.command == "whatif":
        return _whatif_command(parser, args)
    os.environ["LASTMILE_DEMO_SCALE"] = args.scale
    os.environ["LASTMILE_DEMO_SEED"] = str(args.seed)

    if args.command == "history":
        end = dt.date.fromisoformat(args.end) if args.end else next_service_date() - dt.timedelta(days=1)
        return run_history(args.days, end, args.budget, args.seed, args.max_iters)

    service_date = args.date or next_service_date().isoformat()
    started = time.perf_counter()
    result = run_day(service_date, args.budget, args.seed, max_iters=args.max_iters, log_level=args.log_level)
    if _failed(result, f"run for {service_date}"):
        return 1
    print()
    print(format_summary(service_date, plan_summary(os.environ["LASTMILE_WAREHOUSE"], service_date)))
    print(f"total wall time {time.perf_counter() - started:.1f} s; dashboard: make dashboard; UI: make dagster")
    return 0


def _failed(result: dg.ExecuteInProcessResult, what: str) -> bool:
    """Whether the run failed; if so, its failure report and ``<what> failed`` go to stderr."""
    if result.success:
        return False
    for line in failure_report(result):
        print(line, file=sys.stderr)
    print(f"{what} failed", file=sys.stderr)
    return True


def _whatif_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        shift = parse_shift(args.shift) if args.shift else (None, None)
        spec = ScenarioSpec(
            name=args.name,
            service_date=args.date or next_service_date().isoformat(),
            fleet=parse_vehicles(args.vehicles),
            shift_start_s=shift[0],
            shift_end_s=shift[1],
            window_widen_min=args.widen_min,
            time_budget_s=args.budget,
            seed=args.seed,
        )
        spec.validate()
    except ValueError as error:
        parser.error(str(error))
    os.environ.setdefault("LASTMILE_DEMO_SCALE", "default")
    os.environ.setdefault("LASTMILE_DEMO_SEED", "7")
    result = run_whatif(spec, args.log_level, max_iters=args.max_iters)
    if _failed(result, f"what-if '{spec.name}' for {spec.service_date}"):
        return 1
    print()
    print(format_whatif(spec, whatif_summary(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
