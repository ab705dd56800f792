"""What-if plans (issue 8, docs/scenarios.md): a service date planned again under a :class:`ScenarioSpec`.

`whatif_plan` reads the date's problems as the morning plan does, applies the scenario (fleet per depot and type,
shifts, wider windows), solves every depot with PyVRP and stores the result as a plan version of kind ``whatif``
(never the date's current plan) with its spec in ``plans.whatif_scenarios``, validated as stored. For a past date
(one with actual deliveries in the warehouse) it then plays the what-if plan through the demo world's simulator
under the day's actual conditions (the world, seed and weather the day was played with) and stores the outcome in
``plans.whatif_outcomes``. The `whatif` job then publishes the serving snapshot.
"""

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence

import dagster as dg
import duckdb as duckdb_client
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.assets.planning import PLAN_TABLES
from orchestration.assets.replanning import _with_road_network
from orchestration.checks import plan_validity_check, validate_stored_plan
from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.plan_store import read_problems, set_plan_status, write_plan
from orchestration.planning_inputs import prepare_problems
from orchestration.resources import DemoWorld
from orchestration.scenarios import WHATIF_KIND, ScenarioSpec, apply_scenario, ensure_scenario_schema
from simulator import Vehicle as WorldVehicle
from simulator import World, build_world, execute_plan, simulate_weather
from simulator.execution import utc_base_s
from solver import Plan, Problem, SolveConfig, Vehicle, route_cost_eur, solve_many

# A what-if writes the plans.* tables like the morning plan, under asset keys of its own (one producer per key).
WHATIF_KEY = dg.AssetKey(["plans", "whatif", "plan_runs"])
OUTCOMES_KEY = dg.AssetKey(["plans", "whatif_outcomes"])
SIMULATED_ORDER_COLUMNS = ("order_id", "customer_id", "lat", "lon", "site_type", "parcels")
SIM_ROUTE_COLUMNS = (
    "route_id", "vehicle_id", "depot_id", "start_s", "end_s", "start_depot_id", "end_depot_id",
    "break_after_sequence", "break_s",
)  # fmt: skip
"""Route columns :func:`simulator.execute_plan` reads."""
SIM_STOP_COLUMNS = (
    "route_id", "vehicle_id", "sequence", "order_id", "lat", "lon", "arrival_s", "service_start_s", "departure_s",
    "tw_start_s", "tw_end_s", "tw2_start_s", "tw2_end_s", "trip", "leg_duration_s",
)  # fmt: skip
"""Stop columns :func:`simulator.execute_plan` reads."""


class WhatIfConfig(dg.Config):
    """Run configuration of a what-if plan: the fields of :class:`orchestration.scenarios.ScenarioSpec`, plus how
    to run the solve."""

    name: str
    """The scenario's name, shown in the app."""
    service_date: str = ""
    """ISO date to plan; empty: the run's partition (when given, it must be the partition)."""
    fleet: dict[str, int] = {}
    """'<depot_id>/<vehicle_type>' -> number of vehicles of that type at that depot (missing: as the date has)."""
    shift_start_s: int | None = None
    """Every vehicle's shift start, seconds after local midnight (None: as in the fleet master)."""
    shift_end_s: int | None = None
    """Every vehicle's shift end, seconds after local midnight (None: as in the fleet master)."""
    window_widen_min: int = 0
    """Every delivery window widened by this many minutes on both sides, clipped to the day."""
    time_budget_s: float = 10.0
    """Hard cap on solver wall time per depot, in seconds."""
    seed: int = 1
    """Seed of the solver's random stream."""
    processes: int = 2
    """Depots solved in parallel processes."""
    max_iters: int | None = None
    """Cap on search iterations per depot (default: scaled with the depot's size); a cap makes runs reproducible."""

    def spec(self, service_date: str) -> ScenarioSpec:
        """The validated spec of this config for the run's service date."""
        spec = ScenarioSpec(
            name=self.name,
            service_date=self.service_date or service_date,
            fleet=dict(self.fleet),
            shift_start_s=self.shift_start_s,
            shift_end_s=self.shift_end_s,
            window_widen_min=self.window_widen_min,
            time_budget_s=float(self.time_budget_s),
            seed=self.seed,
        )
        spec.validate()
        if spec.service_date != service_date:
            raise ValueError(f"service_date {spec.service_date} is not the run's partition {service_date}")
        return spec


# --- the past day played again ------------------------------------------------------------------------------------


def _window_end_s(order) -> int:
    return max(end for _, end in order.windows)


def simulation_frames(problems: Sequence[Problem], plans: Sequence[Plan]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The routes and stops of solver plans in the simulator's input columns (:func:`simulator.execute_plan`),
    with each stop's windows as the plan's problem has them."""
    orders = {o.order_id: o for p in problems for o in p.orders}
    vehicles = {v.vehicle_id: v for p in problems for v in p.vehicles}
    route_rows, stop_rows = [], []
    for plan in plans:
        for route in plan.routes:
            if not route.stops:
                continue
            route_rows.append(
                {
                    "route_id": route.route_id,
                    "vehicle_id": route.vehicle_id,
                    "depot_id": plan.depot_id,
                    "start_s": route.start_s,
                    "end_s": route.end_s,
                    "start_depot_id": route.start_depot_id or None,
                    "end_depot_id": route.end_depot_id or None,
                    "break_after_sequence": route.break_after_sequence,
                    "break_s": vehicles[route.vehicle_id].break_s if route.break_after_sequence is not None else None,
                }
            )
            for stop in route.stops:
                order = orders[stop.order_id]
                second = order.extra_windows[0] if order.extra_windows else (np.nan, np.nan)
                stop_rows.append(
                    {
                        "route_id": route.route_id,
                        "vehicle_id": route.vehicle_id,
                        "sequence": stop.sequence,
                        "order_id": stop.order_id,
                        "lat": order.lat,
                        "lon": order.lon,
                        "arrival_s": stop.arrival_s,
                        "service_start_s": stop.service_start_s,
                        "departure_s": stop.departure_s,
                        "tw_start_s": order.tw_start_s,
                        "tw_end_s": order.tw_end_s,
                        "tw2_start_s": second[0],
                        "tw2_end_s": second[1],
                        "trip": stop.trip,
                        "leg_duration_s": stop.leg_duration_s,
                    }
                )
    routes = pd.DataFrame(route_rows, columns=list(SIM_ROUTE_COLUMNS))
    return routes, pd.DataFrame(stop_rows, columns=list(SIM_STOP_COLUMNS))


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def world_with_fleet(world: World, problems: Sequence[Problem]) -> World:
    """``world`` with the vehicles of ``problems`` it lacks (a scenario's added vehicles), each at its problem's
    depot; their drivers are drawn from the world's seed and their ids like every driver's."""
    known = {v.vehicle_id for v in world.vehicles}
    added = tuple(
        WorldVehicle(
            vehicle_id=v.vehicle_id,
            depot_id=p.depot.depot_id,
            vehicle_type=v.vehicle_type,
            shift_start=_hhmm(v.shift_start_s),
            shift_end=_hhmm(v.shift_end_s),
            work_days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
            start_depot_id=v.start_depot_id or "",
            end_depot_id=v.end_depot_id or "",
        )
        for p in problems
        for v in p.vehicles
        if v.vehicle_id not in known
    )
    return dataclasses.replace(world, vehicles=world.vehicles + added) if added else world


def play_plan(
    world: World,
    service_date: dt.date,
    orders: pd.DataFrame,
    problems: Sequence[Problem],
    plans: Sequence[Plan],
    seed: int,
    failed_attempt_eur: float,
) -> dict[str, float | int | None]:
    """Play solver plans through the simulator under the date's conditions and measure the outcome.

    The day is played as the history played it (:func:`simulator.execute_plan` with the world's seed and weather):
    the same traffic, weather, drivers and customers at home, so two plans of the date differ only by the plan.
    Counts mirror the actuals marts (``marts.fct_deliveries``, ``marts.fct_route_days``).

    Parameters
    ----------
    world
        The demo world the day was played in (vehicles a scenario adds are added to it).
    service_date
        The date.
    orders
        The date's orders with :data:`SIMULATED_ORDER_COLUMNS`.
    problems, plans
        The problems the plans were made from (their windows count for on time, their vehicles' rates for cost)
        and the plans, one per depot.
    seed
        The seed the day was played with (the demo world's).
    failed_attempt_eur
        Cost of a failed delivery attempt, EUR (``reference.cost_model``).

    Returns
    -------
    dict
        ``n_orders`` (of the problems), ``attempted``, ``delivered``, ``failed`` (last attempt failed),
        ``unserved`` (never attempted: not planned or not reached), ``on_time`` (attempted orders that arrived by
        the end of their last window), ``on_time_rate`` (of the attempted; None without any), ``vehicles_driven``,
        ``distance_km`` (the true km driven), ``cost_eur`` (route cost model on the true km, depot departure to
        return and the return after the shift's end, plus failed attempts x ``failed_attempt_eur``) and
        ``cost_per_delivery_eur`` (None without a delivery).
    """
    routes, stops = simulation_frames(problems, plans)
    played = world_with_fleet(world, problems)
    weather = simulate_weather(played, service_date, seed)
    execution = execute_plan(played, service_date, orders, routes, stops, seed, weather=weather)

    events = execution.stop_events
    stamps = pd.to_datetime(events["ts_utc"], utc=True, format="%Y-%m-%dT%H:%M:%SZ")
    local_s = stamps.map(lambda s: s.timestamp()).to_numpy(dtype=float) - utc_base_s(service_date, world.timezone)
    events = events.assign(local_s=local_s)
    visits = events[events["event_type"].isin(["delivered", "failed"])].sort_values("local_s", kind="stable")
    outcome = visits.groupby("order_id")["event_type"].last()
    arrivals = events[events["event_type"] == "arrived"].sort_values("local_s", kind="stable")
    arrival_s = arrivals.groupby("order_id")["local_s"].last()
    window_end = {o.order_id: _window_end_s(o) for p in problems for o in p.orders}
    on_time = int(sum(arrival_s[o] <= window_end[o] for o in arrival_s.index if o in window_end))

    vehicles: dict[str, Vehicle] = {v.vehicle_id: v for p in problems for v in p.vehicles}
    km = dict(zip(execution.truth["vehicle_id"], execution.truth["true_km"], strict=True))
    failed_by_vehicle = events[events["event_type"] == "failed"].groupby("vehicle_id").size()
    cost_eur, driven = 0.0, 0
    for vehicle_id, own in events.groupby("vehicle_id"):
        departed = own.loc[own["event_type"] == "depot_departure", "local_s"]
        if departed.empty or vehicle_id not in vehicles:
            continue
        returned = own.loc[own["event_type"] == "depot_return", "local_s"]
        start_s = float(departed.min())
        end_s = float(returned.max()) if not returned.empty else float(own["local_s"].max())
        vehicle = vehicles[vehicle_id]
        driven += 1
        cost_eur += route_cost_eur(
            vehicle,
            round(km.get(vehicle_id, 0.0) * 1000),
            round(end_s - start_s),
            round(max(end_s - vehicle.shift_end_s, 0.0)),
        )
        cost_eur += int(failed_by_vehicle.get(vehicle_id, 0)) * failed_attempt_eur
    n_orders = len(window_end)
    delivered = int((outcome == "delivered").sum())
    failed = int((outcome == "failed").sum())
    attempted = len(arrival_s)
    return {
        "n_orders": n_orders,
        "attempted": attempted,
        "delivered": delivered,
        "failed": failed,
        "unserved": n_orders - delivered - failed,
        "on_time": on_time,
        "on_time_rate": on_time / attempted if attempted else None,
        "vehicles_driven": driven,
        "distance_km": float(sum(km.values())),
        "cost_eur": round(cost_eur, 2),
        "cost_per_delivery_eur": round(cost_eur / delivered, 2) if delivered else None,
    }


# --- warehouse reads and writes ---------------------------------------------------------------------------------


def has_actuals(conn: duckdb_client.DuckDBPyConnection, service_date: str) -> bool:
    """Whether the date is a past day: ``marts.fct_deliveries`` has an order of it that was attempted."""
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'marts' and table_name = 'fct_deliveries'"
    ).fetchone()[0]
    if not exists:
        return False
    return bool(
        conn.execute(
            "select count(*) from marts.fct_deliveries "
            "where service_date = cast(? as date) and actual_arrival_s is not null",
            [service_date],
        ).fetchone()[0]
    )


def vehicle_templates(
    conn: duckdb_client.DuckDBPyConnection, spec: ScenarioSpec, problems: Sequence[Problem]
) -> dict[str, Vehicle]:
    """A vehicle of each type the spec asks for that no depot has on the date, from the newest date that has one
    (a type that does not work on the date's weekday); types found nowhere are left out."""
    on_date = {v.vehicle_type for p in problems for v in p.vehicles}
    wanted = sorted({vehicle_type for (_, vehicle_type), n in spec.fleet_counts().items() if n} - on_date)
    templates: dict[str, Vehicle] = {}
    for vehicle_type in wanted:
        row = conn.execute(
            "select cast(max(service_date) as varchar) from marts.fct_vehicle_days where vehicle_type = ?",
            [vehicle_type],
        ).fetchone()
        if row[0] is None:
            continue
        found = sorted(
            (v for p in read_problems(conn, row[0]) for v in p.vehicles if v.vehicle_type == vehicle_type),
            key=lambda v: v.vehicle_id,
        )
        templates[vehicle_type] = found[0]
    return templates


def _failed_attempt_eur(conn: duckdb_client.DuckDBPyConnection) -> float:
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'reference' and table_name = 'cost_model'"
    ).fetchone()[0]
    row = conn.execute("select failed_attempt_eur from reference.cost_model").fetchone() if exists else None
    return float(row[0]) if row else 0.0


def _simulated_orders(conn: duckdb_client.DuckDBPyConnection, service_date: str) -> pd.DataFrame:
    return conn.execute(
        "select order_id, customer_id, lat, lon, site_type, parcels from marts.fct_orders_to_plan "
        "where service_date = cast(? as date) order by order_id",
        [service_date],
    ).fetchdf()


def store_scenario(conn: duckdb_client.DuckDBPyConnection, plan_id: str, spec: ScenarioSpec) -> None:
    """Record the spec of a what-if plan version in ``plans.whatif_scenarios``."""
    ensure_scenario_schema(conn)
    conn.execute(
        "insert or replace into plans.whatif_scenarios (plan_id, service_date, name, spec_json, created_at_utc) "
        "values (?, cast(? as date), ?, ?, now())",
        [plan_id, spec.service_date, spec.name, spec.to_json()],
    )


def store_outcome(
    conn: duckdb_client.DuckDBPyConnection, plan_id: str, service_date: str, outcome: dict, world: DemoWorld
) -> None:
    """Record the simulated outcome of a what-if plan version in ``plans.whatif_outcomes``."""
    ensure_scenario_schema(conn)
    columns = (
        "n_orders", "attempted", "delivered", "failed", "unserved", "on_time", "on_time_rate", "vehicles_driven",
        "distance_km", "cost_eur", "cost_per_delivery_eur",
    )  # fmt: skip
    conn.execute(
        "insert or replace into plans.whatif_outcomes (plan_id, service_date, n_orders, attempted, delivered, failed, "
        "unserved, on_time, on_time_rate, vehicles_driven, distance_km, cost_eur, cost_per_delivery_eur, "
        "world_scale, world_seed, simulated_at_utc) "
        "values (?, cast(? as date), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [plan_id, service_date, *[outcome[c] for c in columns], world.scale, world.seed],
    )


def _describe(spec: ScenarioSpec) -> str:
    parts = [f"{key}={n}" for key, n in sorted(spec.fleet.items())]
    if spec.shift_start_s is not None or spec.shift_end_s is not None:
        start = "as is" if spec.shift_start_s is None else _hhmm(spec.shift_start_s)
        end = "as is" if spec.shift_end_s is None else _hhmm(spec.shift_end_s)
        parts.append(f"shift {start}-{end}")
    if spec.window_widen_min:
        parts.append(f"windows +/-{spec.window_widen_min} min")
    return ", ".join(parts) or "no change to the fleet, shifts or windows"


@dg.multi_asset(
    name="whatif_plan",
    specs=[
        *(
            dg.AssetSpec(
                ["plans", "whatif", table],
                group_name="scenarios",
                kinds={"pyvrp", "duckdb"},
                deps=[
                    dg.AssetKey(["marts", "fct_orders_to_plan"]),
                    dg.AssetKey(["marts", "fct_vehicle_days"]),
                    dg.AssetKey(["marts", "dim_depots"]),
                ],
                description=f"plans.{table}: part of each plan version of kind whatif (a what-if scenario).",
            )
            for table in PLAN_TABLES
        ),
        dg.AssetSpec(
            OUTCOMES_KEY,
            group_name="scenarios",
            kinds={"python", "duckdb"},
            deps=[dg.AssetKey(["marts", "fct_deliveries"])],
            description="plans.whatif_outcomes: a past date's what-if plan played through the simulator.",
        ),
    ],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    check_specs=[
        dg.AssetCheckSpec(
            "plan_is_valid",
            asset=WHATIF_KEY,
            blocking=True,
            description="Every order exactly once in a route or unassigned; capacity, windows and shifts of the "
            "scenario's problems hold.",
        )
    ],
    pool="warehouse",
    can_subset=False,
)
def whatif_plan(context: dg.AssetExecutionContext, config: WhatIfConfig, duckdb: DuckDBResource, demo_world: DemoWorld):
    """A what-if plan of the service date: the date's orders planned with PyVRP under a scenario (fleet per depot
    and vehicle type, shifts, wider delivery windows, solver budget and seed). Stored as kind `whatif`, never the
    date's current plan; for a past date also played through the simulator under that day's conditions, with the
    outcome in plans.whatif_outcomes."""
    service_date = context.partition_key
    try:
        spec = config.spec(service_date)
    except ValueError as error:
        raise dg.Failure(description=f"invalid scenario: {error}") from error
    started = time.perf_counter()
    with duckdb.get_connection() as conn:
        inputs = prepare_problems(conn, service_date)
        templates = vehicle_templates(conn, spec, inputs.problems)
        past = has_actuals(conn, service_date)
    if not any(p.orders for p in inputs.problems):
        raise dg.Failure(
            description=f"{service_date} has no orders in marts.fct_orders_to_plan: ingest the date's orders (the "
            "daily planning run does) before a what-if of it"
        )
    context.log.info(
        f"what-if '{spec.name}' for {service_date} ({'past' if past else 'future'} date): {_describe(spec)}"
    )
    try:
        problems = apply_scenario(inputs.problems, spec, templates)
    except ValueError as error:
        raise dg.Failure(description=f"scenario '{spec.name}' does not fit {service_date}: {error}") from error
    inputs = _with_road_network(context, dataclasses.replace(inputs, problems=problems))
    read_s = time.perf_counter() - started
    context.log.info(
        f"solving {len(problems)} depot(s): "
        + ", ".join(f"{p.depot.depot_id} {len(p.orders)} orders / {len(p.vehicles)} vehicles" for p in problems)
        + f"; budget {spec.time_budget_s:.0f} s per depot, seed {spec.seed}"
    )
    solve_config = SolveConfig(time_budget_s=spec.time_budget_s, seed=spec.seed, max_iters=config.max_iters)
    solve_started = time.perf_counter()
    plans = solve_many(problems, solve_config, processes=config.processes, travel_model=inputs.travel_model)
    solve_s = time.perf_counter() - solve_started

    with duckdb.get_connection() as conn:
        plan_id = write_plan(
            conn, service_date, WHATIF_KIND, plans, solve_config, runtime_s=solve_s,
            model_versions=inputs.model_versions, reason=spec.name,
        )  # fmt: skip
        store_scenario(conn, plan_id, spec)
        violations = validate_stored_plan(conn, plan_id, service_date, inputs)
        set_plan_status(conn, plan_id, "invalid" if violations else "valid")
        orders = _simulated_orders(conn, service_date) if past and not violations else None
        failed_attempt_eur = _failed_attempt_eur(conn)
    context.log.info(f"stored {plan_id} ({'invalid' if violations else 'valid'}), solve {solve_s:.1f} s")
    for violation in violations[:20]:
        context.log.error(violation)

    outcome: dict | None = None
    if orders is not None:
        context.log.info(
            f"playing {plan_id} through the {demo_world.scale} demo world (seed {demo_world.seed}) under "
            f"{service_date}'s conditions"
        )
        world = build_world(demo_world.scale, demo_world.seed)
        try:
            outcome = play_plan(
                world, dt.date.fromisoformat(service_date), orders, problems, plans, demo_world.seed,
                failed_attempt_eur,
            )  # fmt: skip
        except ValueError as error:  # orders or depots of a real operation are not in the demo world
            context.log.warning(f"{service_date} cannot be played in the demo world ({error}); no simulated outcome")
        if outcome is not None:
            with duckdb.get_connection() as conn:
                store_outcome(conn, plan_id, service_date, outcome, demo_world)
            context.log.info(f"simulated outcome of {plan_id}: {outcome}")
    elif not past:
        context.log.info(f"{service_date} has no actual deliveries: the plan is not simulated")

    per_depot = {}
    for plan in plans:
        stops = sum(len(r.stops) for r in plan.routes)
        cost = sum(r.cost_eur for r in plan.routes)
        per_depot[plan.depot_id] = {
            "routes": sum(1 for r in plan.routes if r.stops),
            "stops": stops,
            "km": round(sum(r.distance_m for r in plan.routes) / 1000, 1),
            "cost_per_delivery_eur": round(cost / stops, 2) if stops else None,
            "unassigned": len(plan.unassigned),
            "solve_s": round(plan.stats.runtime_s, 1),
            "stopped_by": plan.stats.stopped_by,
        }
        context.log.info(f"{plan.depot_id}: {per_depot[plan.depot_id]}")
    rows = {
        "solves": len(plans),
        "routes": sum(d["routes"] for d in per_depot.values()),
        "stops": sum(d["stops"] for d in per_depot.values()),
        "unassigned": sum(d["unassigned"] for d in per_depot.values()),
    }
    yield dg.MaterializeResult(
        asset_key=WHATIF_KEY,
        metadata={
            "plan_id": plan_id,
            "scenario": spec.name,
            "spec": dg.MetadataValue.json(spec.as_dict()),
            "past_date": past,
            "orders": sum(len(p.orders) for p in problems),
            "vehicles_available": sum(len(p.vehicles) for p in problems),
            "vehicles_used": len({r.vehicle_id for p in plans for r in p.routes if r.stops}),
            **rows,
            "per_depot": dg.MetadataValue.json(per_depot),
            "read_s": round(read_s, 2),
            "solve_s": round(solve_s, 2),
        },
        check_results=[plan_validity_check(WHATIF_KEY, violations)],
    )
    for table, count in rows.items():
        yield dg.MaterializeResult(
            asset_key=["plans", "whatif", table], metadata={"plan_id": plan_id, "dagster/row_count": count}
        )
    yield dg.MaterializeResult(
        asset_key=OUTCOMES_KEY,
        metadata={
            "plan_id": plan_id,
            "simulated": outcome is not None,
            "dagster/row_count": int(outcome is not None),
            **({f"sim_{k}": v for k, v in outcome.items() if v is not None} if outcome else {}),
        },
    )
