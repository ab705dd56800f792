"""Command line: ``python -m orchestration.cli run`` plans the next service date of the demo world end to end.

It runs the real Dagster job in-process against the instance in ``$DAGSTER_HOME`` (so the runs show in
``make dagster``), then prints a per-depot summary from the warehouse.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from orchestration.partitions import OPERATION_TIMEZONE

PLAN_OP = "daily_plan"


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
        shutil.copyfile(Path(__file__).with_name("dagster.yaml"), target)


def run_day(
    service_date: str, time_budget_s: float, seed: int, job_name: str = "demo_daily"
) -> dg.ExecuteInProcessResult:
    """Materialise every asset of ``job_name`` for one service date, in-process, on the configured instance."""
    from orchestration.definitions import defs

    prepare_dagster_home()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(
        partition_key=service_date,
        instance=instance,
        run_config={
            "ops": {PLAN_OP: {"config": {"time_budget_s": time_budget_s, "seed": seed}}},
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
        raise_on_error=False,
    )


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build the demo world and plan one service date end to end")
    run.add_argument("--date", help="service date YYYY-MM-DD (default: tomorrow, operation time zone)")
    run.add_argument(
        "--scale",
        default=os.environ.get("LASTMILE_DEMO_SCALE", "default"),
        choices=["small", "default", "large"],
    )
    run.add_argument(
        "--seed",
        type=int,
        default=int(os.environ.get("LASTMILE_DEMO_SEED", "7")),
        help="seed of the demo world and of the solver",
    )
    run.add_argument("--budget", type=float, default=20.0, help="solver time budget per depot, seconds")
    args = parser.parse_args(argv)

    for name in ("LASTMILE_WAREHOUSE", "LASTMILE_LANDING_DIR", "LASTMILE_SERVING_DIR"):
        if not os.environ.get(name):
            parser.error(f"{name} is not set (the Makefile sets it; see README)")
    os.environ["LASTMILE_DEMO_SCALE"] = args.scale
    os.environ["LASTMILE_DEMO_SEED"] = str(args.seed)
    service_date = args.date or next_service_date().isoformat()

    started = time.perf_counter()
    result = run_day(service_date, args.budget, args.seed)
    if not result.success:
        for event in result.all_events:
            if event.is_failure:
                print(event.message, file=sys.stderr)
        print(f"run for {service_date} failed", file=sys.stderr)
        return 1
    print()
    print(format_summary(service_date, plan_summary(os.environ["LASTMILE_WAREHOUSE"], service_date)))
    print(
        f"total wall time {time.perf_counter() - started:.1f} s; dashboard: make dashboard; UI: make dagster"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
