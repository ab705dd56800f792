"""Telematics ingestion speed: 30 days of pings at `default` scale into raw.pings, against a bare DuckDB copy.

Generates the days with the demo world and its execution simulator (plans from the naive sweep planner in
`simulator.sweep_plan`: this benchmark is about ingestion, not routing), then, in the same run:
  (a) ingestion: `orchestration.landing.load_pings` over the 30 dates, the code path of the `raw/pings` asset
      in a backfill (its backfill policy is one run for the range): file checks, sha256 per file, one
      transaction that deletes the dates and inserts every file with its date and source, ingest log;
  (b) bare copy: `create table as select * from read_parquet([all files])` into a fresh DuckDB file;
  (c) for reference, the asset run once per date (`load_pings` with one file, 30 transactions).
Reports rows/s and the ratio (a)/(b), and writes them to docs/benchmarks.md.

    .venv/bin/python benchmarks/ingest_telematics.py [--days 30] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section  # noqa: E402

from orchestration.landing import load_partition, load_pings  # noqa: E402
from simulator import build_world, execute_plan, generate_orders, simulate_weather, write_execution  # noqa: E402
from simulator.landing import write_master_data  # noqa: E402
from simulator.sweep_plan import nearest_neighbour_plan  # noqa: E402

REPEATS = 5  # each method runs this many times into a fresh database file; the median is reported


def generate_days(landing: Path, start: dt.date, days: int, seed: int) -> list[tuple[str, Path]]:
    """Write `days` days of execution files for the default world; returns (date, pings file) pairs."""
    world = build_world("default", seed)
    write_master_data(world, landing)
    files = []
    for offset in tqdm(range(days), desc="simulating days", unit="day"):
        day = start + dt.timedelta(days=offset)
        orders = generate_orders(world, day, seed)
        if orders.empty:
            continue
        routes, stops = nearest_neighbour_plan(world, day, orders)
        weather = simulate_weather(world, day, seed)
        execution = execute_plan(world, day, orders, routes, stops, seed, weather=weather)
        write_execution(landing, day, execution, weather)
        files.append((day.isoformat(), landing / "telematics" / f"pings_{day.isoformat()}.parquet"))
    return files


def load_fleet(conn: duckdb.DuckDBPyConnection, landing: Path, days: list[str]) -> None:
    """The fleet master data of every date (untimed: pings are checked against the date's vehicles)."""
    master = {table: landing / "master" / f"{table}.csv" for table in ("depots", "vehicle_types", "vehicles")}
    for day in days:
        load_partition(conn, master, day, landing)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", default="2026-03-02")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lastmile-ingest-bench-") as tmp:
        root = Path(tmp)
        files = generate_days(root / "landing", dt.date.fromisoformat(args.start), args.days, args.seed)

        landing = root / "landing"
        paths = [str(p) for _, p in files]
        ingest_times, bare_times, per_day_times = [], [], []
        for attempt in tqdm(range(REPEATS), desc="timing", unit="round"):
            with duckdb.connect(str(root / f"ingest_{attempt}.duckdb")) as conn:
                load_fleet(conn, landing, [day for day, _ in files])  # fixes of unknown vehicles are quarantined
                started = time.perf_counter()
                results = load_pings(conn, dict(files), landing)
                ingest_times.append(time.perf_counter() - started)
                rows = sum(r.loaded_rows for r in results)
                quarantined = sum(r.quarantined_rows for r in results)
            with duckdb.connect(str(root / f"bare_{attempt}.duckdb")) as conn:
                started = time.perf_counter()
                conn.execute("create table bare as select * from read_parquet(?)", [paths])
                bare_times.append(time.perf_counter() - started)
                bare_rows = conn.execute("select count(*) from bare").fetchone()[0]
            with duckdb.connect(str(root / f"per_day_{attempt}.duckdb")) as conn:
                load_fleet(conn, landing, [day for day, _ in files])
                started = time.perf_counter()
                for day, path in files:
                    load_pings(conn, {day: path}, landing)
                per_day_times.append(time.perf_counter() - started)
        ingest_s, bare_s, per_day_s = (statistics.median(t) for t in (ingest_times, bare_times, per_day_times))

    if bare_rows != rows:
        raise SystemExit(f"row counts differ: ingested {rows}, bare copy {bare_rows}")
    ingest_rate, bare_rate, per_day_rate = rows / ingest_s, rows / bare_s, rows / per_day_s
    ratio = ingest_rate / bare_rate
    table = "\n".join(
        [
            "Command: `.venv/bin/python benchmarks/ingest_telematics.py`",
            "",
            f"{len(files)} service days of the `default` world ({rows:,} pings, {quarantined} quarantined, plans "
            "from the sweep baseline); "
            f"median of {REPEATS} runs of each method, each into a fresh DuckDB file.",
            "",
            "| method | seconds | rows/s | vs bare copy |",
            "| --- | ---: | ---: | ---: |",
            f"| ingestion, backfill of the range (`load_pings`, one transaction) | {ingest_s:.2f} | {ingest_rate:,.0f} "
            f"| {ratio:.2f} |",
            f"| bare `create table as select * from read_parquet([all files])` "
            f"| {bare_s:.2f} | {bare_rate:,.0f} | 1.00 |",
            f"| ingestion day by day (30 runs of one date) | {per_day_s:.2f} | {per_day_rate:,.0f} "
            f"| {per_day_rate / bare_rate:.2f} |",
            "",
            "Ingestion adds: a sha256 per file, the row rules on every fix (position, day, vehicle of the date's "
            "fleet) with the split into raw.pings and quarantine.pings, the delete of the dates' old rows, the "
            "service date on every row, and ingest-log rows, in one transaction. Day by day pays a transaction "
            "and a commit per date. The data check (Great Expectations) runs after the load and is not timed here.",
        ]
    )
    print(table)
    if not args.no_write:
        write_section("ingest_telematics: pings ingestion vs a bare DuckDB copy", table)
    print(f"ingest_rows_per_s: {ingest_rate:.1f}")
    print(f"ingest_vs_bare_ratio: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
