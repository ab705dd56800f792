"""Wall time of each stage of the daily run (ingest, dbt, matrix, solve, publish) at `default` and `large` scale.

Runs the real `demo_daily` Dagster job in-process for one service date per scale, in a temporary data folder,
reads step timings from Dagster's event log and solver timings from `plans.solves`, and writes the table to
docs/benchmarks.md. The baseline is the solver's own search: overhead = everything else, as a share of the
total wall time of the run (demo-world file generation excluded: a real operation receives those files).

    .venv/bin/python benchmarks/plan_day.py [--scales default large] [--date 2026-03-02] [--seed 7]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import use_data_dir, write_section  # noqa: E402

BUDGET_S = {"small": 5.0, "default": 20.0, "large": 60.0}
STAGES = {
    "landing_master_data": "generate",
    "landing_orders": "generate",
    "raw_master_data": "ingest",
    "raw__orders": "ingest",
    "raw_live": "ingest",
    "dbt_planning_inputs": "dbt",
    "dbt_live": "dbt",
    "dbt_plan_outputs": "dbt",
    "daily_plan": "plan",
    "serving_snapshot": "publish",
}


def _step_walls(instance, run_id: str) -> dict[str, float]:
    """Wall seconds per step, from STEP_START to STEP_SUCCESS in the run's event log."""
    started, walls = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            walls[event.step_key] = entry.timestamp - started[event.step_key]
    return walls


@contextlib.contextmanager
def manifest_for_this_warehouse(scratch: Path):
    """dbt's parse state for the benchmark's own warehouse path, as `make manifest` leaves it for a deployment's.

    dbt re-parses the whole project (about 3.5 s a call) when the profile's warehouse path differs from the one
    the saved parse state was made with; `make run` never pays that, so neither should the benchmark. The
    project's own parse state is restored afterwards.
    """
    target = Path(__file__).resolve().parent.parent / "dbt_project" / "target"
    saved = {name: scratch / name for name in ("partial_parse.msgpack", "manifest.json") if (target / name).exists()}
    for name, copy in saved.items():
        shutil.copy2(target / name, copy)
    dbt = str(Path(sys.executable).with_name("dbt"))
    subprocess.run(
        [dbt, "parse", "--quiet", "--profiles-dir", ".", "--project-dir", "."], cwd=target.parent, check=True
    )
    try:
        yield
    finally:
        for name, copy in saved.items():
            shutil.copy2(copy, target / name)


def run_scale(scale: str, service_date: str, seed: int, processes: int, keep: Path | None = None) -> dict:
    """One daily run at ``scale`` in a fresh temporary data folder; returns stage timings and plan figures.

    With ``keep``, the run's data folder (warehouse, landing files, serving snapshot) is copied to ``keep/<scale>``
    for inspection.
    """
    import dagster as dg

    from orchestration.cli import run_day

    with tempfile.TemporaryDirectory(prefix=f"lastmile-bench-{scale}-") as tmp:
        root = Path(tmp)
        use_data_dir(root, scale, seed)
        print(f"[{scale}] running demo_daily for {service_date} (budget {BUDGET_S[scale]:.0f} s per depot)...")
        with manifest_for_this_warehouse(root):
            wall_started = time.perf_counter()
            result = run_day(service_date, BUDGET_S[scale], seed)
            wall = time.perf_counter() - wall_started
        if not result.success:
            raise SystemExit(f"[{scale}] run failed")
        with dg.DagsterInstance.get() as instance:
            steps = _step_walls(instance, result.run_id)
        plan_meta = {
            key: value.value
            for event in result.get_asset_materialization_events()
            if event.asset_key.path == ["plans", "plan_runs"]
            for key, value in event.materialization.metadata.items()
        }
        with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
            solves = conn.execute(
                "select depot_id, n_orders, build_s, search_s, stopped_by, iterations, feasible from plans.solves "
                "order by depot_id"
            ).fetchall()
            kpis = conn.execute(
                "select sum(orders), sum(routes), sum(stops), sum(unassigned), sum(distance_km), sum(cost_eur) "
                "from marts.fct_plan_kpis"
            ).fetchone()
            reasons = conn.execute(
                "select reason_code, count(*) from plans.unassigned group by reason_code order by 2 desc, 1"
            ).fetchall()
        if keep is not None:
            shutil.copytree(root, keep / scale, dirs_exist_ok=True)

    unknown = set(steps) - set(STAGES)
    if unknown:
        raise SystemExit(f"[{scale}] steps without a stage: {sorted(unknown)}")
    stage = defaultdict(float)
    for step, seconds in steps.items():
        stage[STAGES[step]] += seconds
    parallel = max(1, min(processes, len(solves)))
    matrix_s = sum(s[2] for s in solves) / parallel
    solve_wall = float(plan_meta["solve_s"])
    search_wall = max(solve_wall - matrix_s, 0.0)
    plan_io = stage["plan"] - solve_wall
    total = sum(v for k, v in stage.items() if k != "generate")
    return {
        "scale": scale,
        "orders": int(kpis[0]),
        "depots": len(solves),
        "routes": int(kpis[1]),
        "unassigned": int(kpis[3]),
        "km": float(kpis[4]),
        "ingest": stage["ingest"],
        "dbt": stage["dbt"],
        "matrix": matrix_s,
        "solve": search_wall,
        "plan_io": plan_io,
        "publish": stage["publish"],
        "generate": stage["generate"],
        "total": total,
        "job_wall": wall,
        "overhead_pct": 100.0 * (total - search_wall) / total,
        "stopped_by": ", ".join(
            f"{s[0]}: {s[4]} ({s[5]} iterations{'' if s[6] else ', best solution infeasible'})" for s in solves
        ),
        "unassigned_by_reason": ", ".join(f"{code} {n}" for code, n in reasons) or "none",
    }


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        "| scale | orders | depots | routes | unassigned | ingest s | dbt s | matrix s | solve s | plan I/O s "
        "| publish s | total s | overhead % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['scale']} | {r['orders']} | {r['depots']} | {r['routes']} | {r['unassigned']} | {r['ingest']:.1f} "
            f"| {r['dbt']:.1f} | {r['matrix']:.1f} | {r['solve']:.1f} | {r['plan_io']:.1f} | {r['publish']:.1f} "
            f"| {r['total']:.1f} | {r['overhead_pct']:.1f} |"
        )
    generated = ", ".join(f"{r['scale']}: {r['generate']:.1f} s" for r in rows)
    stopped = "; ".join(f"{r['scale']}: {r['stopped_by']}" for r in rows)
    unassigned = "; ".join(f"{r['scale']}: {r['unassigned_by_reason']}" for r in rows)
    budgets = ", ".join(f"{r['scale']} {BUDGET_S[r['scale']]:.0f} s" for r in rows)
    lines += [
        "",
        "Stages are Dagster step wall times of one `demo_daily` run: ingest = `raw_*` steps (the date's live tables "
        "too); dbt = the `dbt build` steps (planning inputs, the live views, the plan marts; with tests; dbt's "
        "parse state made for the run's warehouse first, as `make manifest` does); "
        "ingest includes the Great Expectations data checks of every raw asset; matrix = travel matrices + "
        "PyVRP data per depot (inside the solve processes, divided "
        "by the parallel processes); solve = PyVRP search wall time (the solver's own budget, the baseline); "
        "plan I/O = reading the marts, writing `plans.*` and validating; publish = serving snapshot. "
        "Overhead % = (total - solve) / total. Demo-world file generation is excluded "
        f"({generated}).",
        "",
        f"Solver stopping rule per depot: {stopped}. Budgets per depot: {budgets}.",
        "",
        f"Unassigned orders by reason code: {unassigned}.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["default", "large"], choices=sorted(BUDGET_S))
    parser.add_argument("--date", default="2026-03-02", help="service date (a Monday: the busiest weekday)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--keep", type=Path, default=None, help="copy each run's data folder to KEEP/<scale>")
    args = parser.parse_args()
    rows = [run_scale(scale, args.date, args.seed, processes=2, keep=args.keep) for scale in args.scales]
    table = markdown(rows, "make bench  # = .venv/bin/python benchmarks/plan_day.py")
    print(table)
    if not args.no_write:
        write_section("plan_day: stage timings of the daily run", table)
    headline = rows[-1]
    print(f"stage_overhead_pct: {headline['overhead_pct']:.2f}")
    print(f"total_s: {headline['total']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
