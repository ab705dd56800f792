"""Shared by the benchmark scripts: describe the machine and update one section of docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEach section is written by its script in `benchmarks/`; re-run the command to refresh it.\n"


def machine_description() -> str:
    """CPU model, cores, memory and Python of this machine, on one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def write_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section ``## <name>`` of the benchmarks page with ``body``."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    stamp = f"_Machine: {machine_description()}. Date: {dt.date.today().isoformat()}._\n\n"
    section = f"## {name}\n\n{stamp}{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n", encoding="utf-8")


def use_data_dir(root: Path, scale: str, seed: int) -> None:
    """Point every lastmile setting of this process (data folder, warehouse, serving, Dagster home, demo world)
    at ``root``, as the Makefile does for ``data/``."""
    os.environ.update(
        LASTMILE_DATA_DIR=str(root),
        LASTMILE_LANDING_DIR=str(root / "landing"),
        LASTMILE_WAREHOUSE=str(root / "warehouse.duckdb"),
        LASTMILE_SERVING_DIR=str(root / "serving"),
        LASTMILE_DEMO_SCALE=scale,
        LASTMILE_DEMO_SEED=str(seed),
        DAGSTER_HOME=str(root / "dagster_home"),
        GX_ANALYTICS_ENABLED="False",
    )
