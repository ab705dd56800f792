"""Planning: one PyVRP solve per depot for the service date, stored as a new plan version in ``plans.*``."""

import dataclasses
import os
import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.checks import plan_validity_check, validate_stored_plan
from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.plan_store import set_plan_status, write_plan
from orchestration.planning_inputs import prepare_problems
from orchestration.route_geometry import route_geometry, write_route_geometry
from solver import SolveConfig, solve_many
from solver.roads import RoadTravelModel

ROAD_NETWORK_ENV = "LASTMILE_ROAD_NETWORK"
"""Environment variable naming the OpenStreetMap extract (.osm.pbf) of the delivery area, when the operation has one."""

PLAN_TABLES = ("plan_runs", "solves", "routes", "stops", "unassigned")
PLAN_KEY = dg.AssetKey(["plans", "plan_runs"])


class PlanningConfig(dg.Config):
    """Run configuration of a planning run."""

    time_budget_s: float = 20.0
    """Hard cap on solver wall time per depot, in seconds."""
    seed: int = 0
    """Seed of the solver's random stream: the same inputs and seed give the same plan."""
    processes: int = 2
    """Depots solved in parallel processes."""
    max_iters: int | None = None
    """Cap on search iterations per depot (default: scaled with the depot's size). A low cap makes backfills
    fast and, unlike the time budget, keeps them reproducible."""
    max_depot_distance_m: int | None = SolveConfig().max_depot_distance_m
    """Delivery area per depot, metres in a straight line (default 50 km): farther orders are not routed but
    unassigned as OUTSIDE_AREA, since such an address is usually mistyped or wrongly geocoded. None: no limit."""
    use_learned_models: bool = True
    """Plan with the newest learned travel-time, service-time and availability models trained before the date
    (where they exist); False plans with constant speeds and the site-type service priors."""
    service_time_estimate: str = "mean_s"
    """Which learned service-time estimate plans use: mean_s (arrivals add up expected times), median_s or p90_s."""
    preferred_window_min_lift: float = 0.1
    """An order without a fixed window gets its customer's recommended window as a soft preference when that
    window raises first-attempt success by at least this much (0.1 = 10 percentage points)."""
    road_network_pbf: str | None = None
    """OpenStreetMap extract (.osm.pbf) of the delivery area; default: $LASTMILE_ROAD_NETWORK, else none. With
    one, plans drive on its road graph (great circle outside it) unless a learned travel-time model exists for
    the date, which still wins: the two are not combined yet."""


@dg.multi_asset(
    name="daily_plan",
    specs=[
        dg.AssetSpec(
            ["plans", table],
            group_name="planning",
            kinds={"pyvrp", "duckdb"},
            deps=[
                dg.AssetKey(["marts", "fct_orders_to_plan"]),
                dg.AssetKey(["marts", "fct_vehicle_days"]),
                dg.AssetKey(["marts", "dim_depots"]),
            ],
            description=f"plans.{table}: part of each plan version written by the daily solve.",
        )
        for table in PLAN_TABLES
    ],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    check_specs=[
        dg.AssetCheckSpec(
            "plan_is_valid",
            asset=PLAN_KEY,
            blocking=True,
            description="Every order exactly once in a route or unassigned; capacity, windows and shifts hold.",
        )
    ],
    pool="warehouse",
)
def daily_plan(context: dg.AssetExecutionContext, config: PlanningConfig, duckdb: DuckDBResource):
    """The service date's delivery plan, solved per depot with PyVRP: routes per vehicle with planned times,
    and unassigned orders with a reason code. Each run adds a plan version; the newest valid version is the
    date's current plan."""
    service_date = context.partition_key
    started = time.perf_counter()
    with duckdb.get_connection() as conn:
        inputs = prepare_problems(
            conn,
            service_date,
            use_learned=config.use_learned_models,
            service_statistic=config.service_time_estimate,
            min_lift=config.preferred_window_min_lift,
        )
    road_pbf = config.road_network_pbf or os.environ.get(ROAD_NETWORK_ENV) or None
    if road_pbf and inputs.travel_model is None:
        road = RoadTravelModel(road_pbf)
        inputs = dataclasses.replace(
            inputs,
            travel_model=road,
            model_versions={**inputs.model_versions, "travel_model_version": road.version},
        )
        context.log.info(f"driving on the road network {road_pbf} ({road.version})")
    elif road_pbf:
        context.log.info(f"road network {road_pbf} not used: the learned travel model of the date wins")
    problems = inputs.problems
    read_s = time.perf_counter() - started
    solve_config = SolveConfig(
        time_budget_s=config.time_budget_s,
        seed=config.seed,
        max_iters=config.max_iters,
        max_depot_distance_m=config.max_depot_distance_m,
    )
    context.log.info(
        f"solving {len(problems)} depot(s) for {service_date}: "
        + ", ".join(f"{p.depot.depot_id} {len(p.orders)} orders / {len(p.vehicles)} vehicles" for p in problems)
        + f"; budget {config.time_budget_s:.0f} s per depot, seed {config.seed}"
    )
    used = ", ".join(f"{k.removesuffix('_model_version')} {v or 'none'}" for k, v in inputs.model_versions.items())
    context.log.info(f"learned models: {used}; {inputs.preferred} orders with a preferred window")
    solve_started = time.perf_counter()
    plans = solve_many(problems, solve_config, processes=config.processes, travel_model=inputs.travel_model)
    solve_s = time.perf_counter() - solve_started
    geometry = route_geometry(problems, plans, inputs.travel_model)  # road paths for the map; empty without roads

    write_started = time.perf_counter()
    with duckdb.get_connection() as conn:
        plan_id = write_plan(
            conn, service_date, "daily", plans, solve_config, runtime_s=solve_s, model_versions=inputs.model_versions
        )
        if len(geometry):
            write_route_geometry(conn, plan_id, geometry)
        context.log.info(f"route geometry: {len(geometry)} vertices")
        violations = validate_stored_plan(conn, plan_id, service_date, inputs)
        set_plan_status(conn, plan_id, "invalid" if violations else "valid")
    write_s = time.perf_counter() - write_started

    per_depot = {}
    for plan in plans:
        stops = sum(len(r.stops) for r in plan.routes)
        cost = sum(r.cost_eur for r in plan.routes)
        per_depot[plan.depot_id] = {
            "routes": len(plan.routes),
            "stops": stops,
            "km": round(sum(r.distance_m for r in plan.routes) / 1000, 1),
            "cost_per_delivery_eur": round(cost / stops, 2) if stops else None,
            "unassigned": len(plan.unassigned),
            "at_risk_stops": sum(1 for r in plan.routes for s in r.stops if s.late_s > 0),
            "solve_s": round(plan.stats.runtime_s, 1),
            "stopped_by": plan.stats.stopped_by,
        }
        context.log.info(f"{plan.depot_id}: {per_depot[plan.depot_id]}")
    for violation in violations[:20]:
        context.log.error(violation)

    rows = {
        "solves": len(plans),
        "routes": sum(d["routes"] for d in per_depot.values()),
        "stops": sum(d["stops"] for d in per_depot.values()),
        "unassigned": sum(d["unassigned"] for d in per_depot.values()),
    }
    yield dg.MaterializeResult(
        asset_key=PLAN_KEY,
        metadata={
            "plan_id": plan_id,
            "orders": sum(len(p.orders) for p in problems),
            **rows,
            "per_depot": dg.MetadataValue.json(per_depot),
            "read_s": round(read_s, 2),
            "solve_s": round(solve_s, 2),
            "write_and_validate_s": round(write_s, 2),
            "time_budget_s": config.time_budget_s,
            "seed": config.seed,
            "max_depot_distance_m": config.max_depot_distance_m,
            **{k: v or "none" for k, v in inputs.model_versions.items()},
            "preferred_windows": inputs.preferred,
            "route_geometry_vertices": len(geometry),
        },
        check_results=[plan_validity_check(PLAN_KEY, violations)],
    )
    for table, count in rows.items():
        yield dg.MaterializeResult(
            asset_key=["plans", table], metadata={"plan_id": plan_id, "dagster/row_count": count}
        )
