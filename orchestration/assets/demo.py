"""The embedded demo world: it writes the landing files a real operation's systems would deliver.

With your own data, leave these two assets out (the `daily_planning` job does) and drop the files into the
landing folder yourself; see docs/data_contract.md.
"""

import datetime as dt

import dagster as dg

from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.resources import DemoWorld, LandingZone
from simulator import build_world, write_master_data, write_orders


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
    return dg.MaterializeResult(
        metadata={"dagster/row_count": n_orders, "file": str(path.relative_to(landing.path))}
    )
