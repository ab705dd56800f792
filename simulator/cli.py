"""Command line of the demo world: ``python -m simulator world|orders ...``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from simulator.landing import write_master_data, write_orders
from simulator.scales import SCALES
from simulator.world import build_world

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Write the lastmile demo world's landing files (docs/data_contract.md, section 1).",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--scale", choices=sorted(SCALES), default="default", help="world size (default: default)"
    )
    common.add_argument("--seed", type=int, default=7, help="non-negative seed (default: 7)")
    common.add_argument("--landing", type=Path, default=Path("data/landing"), help="landing directory")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("world", parents=[common], help="write master data: depots, vehicle types, vehicles")
    orders = sub.add_parser("orders", parents=[common], help="write one order file per service date")
    orders.add_argument("--start", type=dt.date.fromisoformat, required=True, help="first date, YYYY-MM-DD")
    orders.add_argument("--days", type=int, default=1, help="number of consecutive dates (default: 1)")
    return parser


def _count_rows(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.
    """
    args = _parser().parse_args(argv)
    if args.seed < 0:
        print("error: --seed must be non-negative", file=sys.stderr)
        return 2
    world = build_world(args.scale, args.seed)
    if args.command == "world":
        for path in write_master_data(world, args.landing):
            print(f"wrote {path} ({_count_rows(path)} rows)")
        return 0

    if args.days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return 2
    dates = [args.start + dt.timedelta(days=i) for i in range(args.days)]
    written = []
    for day in tqdm(dates, desc="orders", unit="day", disable=len(dates) == 1):
        path = write_orders(world, day, args.landing, args.seed)
        written.append((path, _count_rows(path)))
    for path, rows in written:
        print(f"wrote {path} ({rows} rows)")
    print(f"{len(written)} order file(s), {sum(rows for _, rows in written)} orders")
    return 0
