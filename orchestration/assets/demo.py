"""The embedded demo world: it writes the landing files a real operation's systems would deliver.

With your own data, leave these two assets out (the `daily_planning` job does) and drop the files into the
landing folder yourself; see docs/data_contract.md.
"""

import datetime as dt

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.resources import DemoWorld, LandingZone
from simulator import build_world, execute_plan, simulate_weather, write_execution, write_master_data, write_orders


@dg.asset(
    group_name="demo",
    kinds={"python", "csv"},
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
)
def landing_master_data(context: dg.AssetExecutionContext, demo_world: DemoWorld, landing: LandingZone):
    """Demo fleet master data (depots, vehicle types, vehicles) written to landing/master/."""
    world = build_world(demo_world.scale, demo_world.seed)
    paths = write_master_data(world, landing.path)
    context.log.info(f"wrote {len(paths)} master-data files for the {demo_world.scale} world")
    return dg.MaterializeResult(
        metadata={
            "scale": demo_world.scale,
            "seed": demo_world.seed,
            "depots": len(world.depots),
            "vehicles": len(world.vehicles),
            "files": [str(p.relative_to(landing.path)) for p in paths],
        }
    )


@dg.asset(
    group_name="demo",
    kinds={"python", "csv"},
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
)
def landing_orders(context: dg.AssetExecutionContext, demo_world: DemoWorld, landing: LandingZone):
    """Demo order export for the service date, written to landing/orders/orders_YYYY-MM-DD.csv."""
    world = build_world(demo_world.scale, demo_world.seed)
    service_date = dt.date.fromisoformat(context.partition_key)
    path = write_orders(world, service_date, landing.path, demo_world.seed)
    with path.open(encoding="utf-8") as handle:
        n_orders = sum(1 for _ in handle) - 1
    context.log.info(f"wrote {n_orders} orders to {path.name}")
    return dg.MaterializeResult(metadata={"dagster/row_count": n_orders, "file": str(path.relative_to(landing.path))})


@dg.asset(
    group_name="demo",
    kinds={"python", "parquet", "csv"},
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    deps=[
        "landing_orders",
        dg.AssetKey(["marts", "fct_planned_routes"]),
        dg.AssetKey(["marts", "fct_planned_stops"]),
    ],
    pool="warehouse",  # reads the warehouse: a concurrent writer would hold DuckDB's lock
)
def landing_execution(
    context: dg.AssetExecutionContext, demo_world: DemoWorld, landing: LandingZone, duckdb: DuckDBResource
):
    """Demo execution of the date's current plan under the world's hidden truth (traffic peaks, weather, drivers,
    customers not at home): writes telematics pings, stop events, ratings, weather and the next day's forecast,
    as a fleet's systems would."""
    world = build_world(demo_world.scale, demo_world.seed)
    service_date = dt.date.fromisoformat(context.partition_key)
    with duckdb.get_connection() as conn:
        routes = conn.execute(
            "select route_id, vehicle_id, depot_id, start_s, end_s, start_depot_id, end_depot_id, "
            "break_after_sequence, break_s from marts.fct_planned_routes "
            "where service_date = cast(? as date) order by route_id",
            [context.partition_key],
        ).fetchdf()
        # A re-plan keeps a failed attempt next to the order's retry: the failed stop is history, not a visit.
        stops = conn.execute(
            "select s.route_id, s.vehicle_id, s.sequence, s.order_id, s.lat, s.lon, s.arrival_s, s.service_start_s, "
            "s.departure_s, s.tw_start_s, s.tw_end_s, s.tw2_start_s, s.tw2_end_s, s.trip, s.leg_duration_s "
            "from marts.fct_planned_stops as s left join plans.stops as p "
            "on p.plan_id = s.plan_id and p.route_id = s.route_id and p.sequence = s.sequence "
            "where s.service_date = cast(? as date) and coalesce(p.status, 'planned') <> 'failed' "
            "order by s.route_id, s.sequence",
            [context.partition_key],
        ).fetchdf()
    orders = pd.read_csv(landing.orders_file(context.partition_key), dtype=str, keep_default_na=False)
    weather = simulate_weather(world, service_date, demo_world.seed)
    execution = execute_plan(world, service_date, orders, routes, stops, demo_world.seed, weather=weather)
    paths = write_execution(landing.path, service_date, execution, weather)
    outcomes = execution.stop_events["event_type"].value_counts().to_dict()
    context.log.info(f"executed {len(routes)} routes: {len(execution.pings)} pings, events {outcomes}")
    return dg.MaterializeResult(
        metadata={
            "routes": len(routes),
            "pings": len(execution.pings),
            "delivered": int(outcomes.get("delivered", 0)),
            "failed": int(outcomes.get("failed", 0)),
            "ratings": len(execution.ratings),
            "files": [str(p.relative_to(landing.path)) for p in paths],
        }
    )
