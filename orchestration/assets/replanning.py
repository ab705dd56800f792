"""Re-planning during the day (issue 7): a new plan version of kind ``replan`` from the live state.

`replan_plan` reads the date's problems (as the morning plan does), its current plan and the live state per depot
(:func:`orchestration.live_state.read_live_states`: where each vehicle is, what is done, on board, cancelled, new
or re-windowed), re-plans every depot with :func:`solver.replan.replan` (depots in parallel processes), stores the
result as a plan version with its reason, parent plan, ``as_of`` and stops moved, and validates it as stored
(blocking). The `replan` job then rebuilds the plan marts and republishes the serving snapshot.
"""

import atexit
import dataclasses
import os
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat

import dagster as dg
import duckdb as duckdb_client
from dagster_duckdb import DuckDBResource

from orchestration.assets.planning import PLAN_TABLES, ROAD_NETWORK_ENV
from orchestration.checks import plan_validity_check, validate_stored_replan
from orchestration.learning import WEATHER_PRIOR_VERSION
from orchestration.live_state import has_stored_live_state, newest_live_s, parse_as_of, read_live_states
from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.plan_store import current_plan_id, read_plan, set_plan_status, write_plan
from orchestration.planning_inputs import PlanningInputs, prepare_problems
from solver import LiveState, Plan, Problem, Replan, ReplanConfig, SolveStats, replan
from solver.roads import RoadTravelModel
from solver.solve import KeptPool
from solver.travel import TravelModel

REPLAN_KIND = "replan"
# The re-plan writes the same plans.* tables as the morning plan, but Dagster gives every asset key one producer:
# its assets are plans/replan/<table>, the plan versions of kind replan in those tables.
REPLAN_KEY = dg.AssetKey(["plans", "replan", "plan_runs"])


class ReplanRunConfig(dg.Config):
    """Run configuration of a re-plan."""

    as_of: str | None = None
    """Local time of day the re-plan starts from, HH:MM or HH:MM:SS. Default: the live state's (the as_of the
    live_state asset wrote for the date), else the newest live fix, event or order change."""
    reason: str = "requested"
    """Why the day is re-planned (stored with the plan version: new orders, breakdown, delay, ...)."""
    time_budget_s: float = 10.0
    """Hard cap on solver wall time per depot, in seconds."""
    move_penalty_eur: float = ReplanConfig().move_penalty_eur
    """What moving a stop to another vehicle than in the current plan must save, EUR."""
    seed: int = 0
    """Seed of the solver's random stream."""
    processes: int = 2
    """Depots re-planned in parallel processes."""


def _empty_plan(depot_id: str) -> Plan:
    """A depot's current plan when the stored plan has none for it (no route, nothing unassigned)."""
    stats = SolveStats(
        runtime_s=0.0, iterations=0, objective=0, feasible=True, n_orders=0, n_vehicles=0, stopped_by="stored"
    )
    return Plan(depot_id=depot_id, routes=(), unassigned=(), stats=stats)


@dataclasses.dataclass(frozen=True)
class DepotReplan:
    """One depot's part of a re-plan: the re-plan, its wall time and, when the re-plan raised, the error.

    A depot whose re-plan raised keeps its current plan as it is (``replan.plan`` is ``current``, nothing moved,
    ``replan.plan.stats.stopped_by == "replan_failed"``): one depot's failure does not hold back the others' plans.
    """

    replan: Replan
    seconds: float
    error: str | None = None
    """``<exception type>: <message>`` of the failed re-plan, None when it succeeded."""
    trace: str | None = None
    """The failed re-plan's traceback, for the run's log."""


def _kept_as_is(current: Plan, seconds: float) -> Replan:
    """A depot's current plan kept unchanged, after its re-plan failed."""
    stats = dataclasses.replace(current.stats, runtime_s=seconds, stopped_by="replan_failed")
    reasons = dict(sorted(Counter(u.reason_code for u in current.unassigned).items()))
    return Replan(plan=dataclasses.replace(current, stats=stats), moved=(), cancelled=(), reasons=reasons)


def _replan_one(
    problem: Problem, current: Plan, state: LiveState, config: ReplanConfig, travel_model: TravelModel | None
) -> DepotReplan:
    started = time.perf_counter()
    try:
        result = replan(problem, current, state, config, travel_model)
    except Exception as error:  # noqa: BLE001 - any error of one depot's re-plan: that depot keeps its plan
        seconds = time.perf_counter() - started
        message = f"{type(error).__name__}: {error}"
        return DepotReplan(_kept_as_is(current, seconds), seconds, message, traceback.format_exc())
    # A worker process sends its result back pickled: read-only mappings (MappingProxyType) travel as dicts.
    return DepotReplan(dataclasses.replace(result, reasons=dict(result.reasons)), time.perf_counter() - started)


_POOL = KeptPool()


def _worker_ready() -> int:
    """What a warming task runs in a worker: nothing but the imports its process has done (this module's)."""
    return os.getpid()


def replan_pool(processes: int) -> ProcessPoolExecutor:
    """The process's pool of ``spawn`` workers for re-planning depots, kept warm between re-plans.

    A spawned worker starts a Python and imports this module (the solver, dagster: seconds on a busy machine); a
    pool kept for the process's life pays that once, not at every re-plan. The pool is made again when its size
    changes or a worker died.

    Parameters
    ----------
    processes
        Workers (at least 1).
    """
    return _POOL.get(processes)


def warm_replan_pool(processes: int = 2) -> None:
    """Start the re-plan workers now, without waiting for them (the `replan` job calls it while the live drops
    load, so the workers import in the background)."""
    pool = replan_pool(processes)
    for _ in range(processes):
        pool.submit(_worker_ready)


@atexit.register
def _shutdown_pool() -> None:
    _POOL.drop(wait=True)


def replan_many(
    problems: list[Problem],
    currents: list[Plan],
    states: list[LiveState],
    config: ReplanConfig,
    travel_model: TravelModel | None = None,
    processes: int = 2,
) -> list[DepotReplan]:
    """Re-plan several depots, in parallel ``spawn`` processes when there are several (the warm pool of
    :func:`replan_pool`; made again once if a worker died).

    Returns
    -------
    list of DepotReplan
        Per depot, in the order of ``problems``: the re-plan and its wall time in seconds; a depot whose re-plan
        raised keeps its current plan, with the error.
    """
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    if processes == 1 or len(problems) <= 1:
        return [_replan_one(p, c, s, config, travel_model) for p, c, s in zip(problems, currents, states, strict=True)]
    states = [
        dataclasses.replace(s, failed=dict(s.failed), windows=dict(s.windows), success_by_hour=dict(s.success_by_hour))
        for s in states
    ]
    for attempt in (1, 2):
        pool = replan_pool(processes)
        try:
            return list(pool.map(_replan_one, problems, currents, states, repeat(config), repeat(travel_model)))
        except BrokenProcessPool:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _stored_as_of_s(conn: duckdb_client.DuckDBPyConnection, service_date: str) -> int | None:
    """The as_of of the live state stored for the date (``plans.live_vehicles``), None without one."""
    if not has_stored_live_state(conn):
        return None
    row = conn.execute(
        "select max(as_of_s) from plans.live_vehicles where service_date = cast(? as date)", [service_date]
    ).fetchone()
    return None if row[0] is None else int(row[0])


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dg.multi_asset(
    name="replan_plan",
    specs=[
        dg.AssetSpec(
            ["plans", "replan", table],
            group_name="replanning",
            kinds={"pyvrp", "duckdb"},
            deps=[
                dg.AssetKey(["plans", "live_vehicles"]),
                dg.AssetKey(["plans", "live_stops"]),
                dg.AssetKey(["intermediate", "int_live_orders"]),
                dg.AssetKey(["intermediate", "int_live_stop_status"]),
                dg.AssetKey(["intermediate", "int_live_vehicles"]),
            ],
            description=f"plans.{table}: part of each plan version of kind replan (a re-plan during the day).",
        )
        for table in PLAN_TABLES
    ],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    check_specs=[
        dg.AssetCheckSpec(
            "plan_is_valid",
            asset=REPLAN_KEY,
            blocking=True,
            description=(
                "The re-planned day keeps the finished stops and the committed stop, pins parcels on board to their "
                "van, every order exactly once in a route, unassigned or cancelled; the new part of each route "
                "holds capacity, windows and shifts."
            ),
        )
    ],
    pool="warehouse",
    can_subset=False,
)
def replan_plan(context: dg.AssetExecutionContext, config: ReplanRunConfig, duckdb: DuckDBResource):
    """A new version of the service date's plan made during the day from the live state: finished stops kept
    with their actual times, each van's committed stop next, parcels on board kept on their van, new orders,
    cancellations and changed windows taken in, the rest re-planned per depot with PyVRP (moving a stop to
    another van costs a penalty). Stored as kind `replan` with its reason, parent plan, as_of and stops moved;
    once valid it is the date's current plan. A depot whose search serves fewer of its remaining orders, fewer on
    time, or later than its current routes (re-timed, new orders inserted cheaply) keeps those, and the reason
    says so. A depot whose re-plan raises keeps its current plan unchanged (the error in the log, the reason and
    the `failed_depots` metadata) while the other depots' re-plans are published; the run fails only when every
    depot's re-plan raised."""
    service_date = context.partition_key
    replan_config = ReplanConfig(
        time_budget_s=config.time_budget_s, seed=config.seed, move_penalty_eur=config.move_penalty_eur
    )
    started = time.perf_counter()
    with duckdb.get_connection() as conn:
        parent_plan_id = current_plan_id(conn, service_date)
        if parent_plan_id is None:
            raise dg.Failure(description=f"{service_date} has no valid plan to re-plan: run the daily plan first")
        try:
            as_of_s = parse_as_of(config.as_of) if config.as_of else _stored_as_of_s(conn, service_date)
        except ValueError as error:
            raise dg.Failure(description=str(error)) from error
        if as_of_s is None:
            as_of_s = newest_live_s(conn, service_date)
        if as_of_s is None:
            raise dg.Failure(description=f"{service_date} has no live state and no as_of was given")
        inputs = prepare_problems(conn, service_date, as_of_s=as_of_s)  # the weather observed last: the nowcast
        stored = read_plan(conn, parent_plan_id)
        states = read_live_states(conn, service_date, as_of_s, [p.depot.depot_id for p in inputs.problems])
    inputs = _with_road_network(context, inputs)
    problems = inputs.problems
    currents = [stored.get(p.depot.depot_id) or _empty_plan(p.depot.depot_id) for p in problems]
    read_s = time.perf_counter() - started
    context.log.info(
        f"re-planning {service_date} at {_clock(as_of_s)} from {parent_plan_id} ({config.reason}): "
        + ", ".join(
            f"{p.depot.depot_id} {len(p.orders)} + {len(s.new_orders)} new orders, {len(s.cancelled)} cancelled, "
            f"{len(s.delivered)} delivered, {len(s.failed)} failed, "
            f"{sum(v.departed for v in s.vehicles)}/{len(p.vehicles)} vehicles out"
            for p, s in zip(problems, states, strict=True)
        )
        + f"; budget {config.time_budget_s:.0f} s per depot, seed {config.seed}"
    )

    solve_started = time.perf_counter()
    results = replan_many(problems, currents, states, replan_config, inputs.travel_model, config.processes)
    solve_s = time.perf_counter() - solve_started
    # A depot whose re-plan raised keeps its current plan unchanged; the others' re-plans are published. When
    # every depot failed there is nothing new to publish: the run fails and the current plan stays current.
    failed = {r.replan.plan.depot_id: r for r in results if r.error is not None}
    errors = {depot_id: failed[depot_id].error for depot_id in sorted(failed)}
    for depot_id, result in sorted(failed.items()):
        context.log.error(f"{depot_id}: the re-plan failed, the depot keeps its current plan:\n{result.trace}")
    if failed and len(failed) == len(results):
        raise dg.Failure(
            description="the re-plan failed for every depot: "
            + "; ".join(f"{depot_id}: {error}" for depot_id, error in errors.items()),
            metadata={"failed_depots": dg.MetadataValue.json(errors)},
        )
    replans = [r.replan for r in results]
    plans = [r.plan for r in replans]
    moved = sorted(order_id for r in replans for order_id in r.moved)
    # A depot whose search did worse than its current routes keeps them (solver.replan's guard), a depot whose
    # re-plan failed keeps its whole current plan: say so with the version's reason.
    kept = {r.plan.depot_id: r.kept_current for r in replans if r.kept_current}
    kept |= {depot_id: f"the re-plan failed ({error}): kept the current plan" for depot_id, error in errors.items()}
    reason = "; ".join([config.reason, *(f"{depot}: {why}" for depot, why in sorted(kept.items()))])

    write_started = time.perf_counter()
    with duckdb.get_connection() as conn:
        plan_id = write_plan(
            conn,
            service_date,
            REPLAN_KIND,
            plans,
            replan_config.search_config(),
            runtime_s=solve_s,
            model_versions=inputs.model_versions,
            reason=reason,
            parent_plan_id=parent_plan_id,
            as_of_s=as_of_s,
            n_moved=len(moved),
        )
        carried = {depot_id: r.replan.plan for depot_id, r in failed.items()}
        violations = validate_stored_replan(conn, plan_id, inputs, states, replan_config, carried=carried)
        set_plan_status(conn, plan_id, "invalid" if violations else "valid")
    write_s = time.perf_counter() - write_started
    latency_s = read_s + solve_s + write_s

    per_depot = {}
    for depot_result in results:
        result, seconds = depot_result.replan, depot_result.seconds
        plan = result.plan
        stops = [s for r in plan.routes for s in r.stops]
        per_depot[plan.depot_id] = {
            "routes": len(plan.routes),
            "stops_done": sum(s.status in ("delivered", "failed") for s in stops),
            "stops_planned": sum(s.status in ("committed", "planned") for s in stops),
            "moved": len(result.moved),
            "cancelled": len(result.cancelled),
            "unassigned": len(plan.unassigned),
            "unassigned_reasons": dict(result.reasons),
            "at_risk_stops": sum(1 for s in stops if s.status in ("committed", "planned") and s.late_s > 0),
            "solve_s": round(seconds, 2),
            "stopped_by": plan.stats.stopped_by,
            "kept_current": result.kept_current or "",
            "error": depot_result.error or "",
            "slowdown": round(result.slowdown, 3),
            "service_factor": round(result.service_factor, 3),
        }
        context.log.info(
            f"{plan.depot_id}: moved {len(result.moved)} stop(s) {list(result.moved)[:20]}; "
            f"unassigned {len(plan.unassigned)} {dict(result.reasons)}; {per_depot[plan.depot_id]}"
        )
    context.log.info(
        f"{plan_id}: state read {read_s:.2f} s, solve {solve_s:.2f} s, write and validate {write_s:.2f} s "
        f"(latency before publishing {latency_s:.2f} s)"
    )
    for violation in violations[:20]:
        context.log.error(violation)

    rows = {
        "solves": len(plans),
        "routes": sum(d["routes"] for d in per_depot.values()),
        "stops": sum(len(r.stops) for p in plans for r in p.routes),
        "unassigned": sum(d["unassigned"] for d in per_depot.values()),
    }
    yield dg.MaterializeResult(
        asset_key=REPLAN_KEY,
        metadata={
            "plan_id": plan_id,
            "parent_plan_id": parent_plan_id,
            "reason": reason,
            "kept_current_routes": dg.MetadataValue.json(sorted(kept)),
            "failed_depots": dg.MetadataValue.json(errors),
            "as_of": _clock(as_of_s),
            "as_of_s": as_of_s,
            "n_moved": len(moved),
            "moved": dg.MetadataValue.json(moved[:200]),
            **rows,
            "per_depot": dg.MetadataValue.json(per_depot),
            "read_s": round(read_s, 2),
            "solve_s": round(solve_s, 2),
            "write_and_validate_s": round(write_s, 2),
            "latency_s": round(latency_s, 2),
            "time_budget_s": config.time_budget_s,
            "move_penalty_eur": config.move_penalty_eur,
            "seed": config.seed,
            **{k: v or "none" for k, v in inputs.model_versions.items()},
        },
        check_results=[plan_validity_check(REPLAN_KEY, violations)],
    )
    for table, count in rows.items():
        yield dg.MaterializeResult(
            asset_key=["plans", "replan", table], metadata={"plan_id": plan_id, "dagster/row_count": count}
        )


def _with_road_network(context: dg.AssetExecutionContext, inputs: PlanningInputs) -> PlanningInputs:
    """The road network of ``$LASTMILE_ROAD_NETWORK`` as travel model when the date has no learned one, as the
    morning plan drives on (``daily_plan``). The road network's times then stand in for the constant speed the
    weather prior slows (``weather-prior``): that plan drives the network at its own speeds."""
    road_pbf = os.environ.get(ROAD_NETWORK_ENV) or None
    learned = inputs.travel_model is not None and getattr(inputs.travel_model, "version", "") != WEATHER_PRIOR_VERSION
    if not road_pbf or learned:
        return inputs
    road = RoadTravelModel(road_pbf)
    context.log.info(f"driving on the road network {road_pbf} ({road.version})")
    return dataclasses.replace(
        inputs, travel_model=road, model_versions={**inputs.model_versions, "travel_model_version": road.version}
    )
