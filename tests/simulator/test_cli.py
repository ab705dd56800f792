"""Tests for the command line ``python -m simulator``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from simulator.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_world_command_writes_master_data(tmp_path, capsys):
    """``world`` writes the three master files and prints each with its row count."""
    assert main(["world", "--scale", "small", "--seed", "7", "--landing", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("depots.csv", "vehicle_types.csv", "vehicles.csv"):
        assert (tmp_path / "master" / name).is_file()
        assert name in out
    assert "(2 rows)" in out and "(6 rows)" in out


def test_orders_command_writes_one_file_per_day(tmp_path, capsys):
    """``orders --days 3`` writes three consecutive order files and prints the total."""
    args = ["orders", "--scale", "small", "--seed", "7", "--landing", str(tmp_path), "--start", "2026-11-27"]
    assert main([*args, "--days", "3"]) == 0
    files = sorted(p.name for p in (tmp_path / "orders").iterdir())
    assert files == ["orders_2026-11-27.csv", "orders_2026-11-28.csv", "orders_2026-11-29.csv"]
    assert "3 order file(s)" in capsys.readouterr().out


def test_bad_arguments_fail_with_exit_code_2(tmp_path, capsys):
    """A negative seed or zero days is refused before anything is written."""
    base = ["--scale", "small", "--landing", str(tmp_path)]
    assert main(["world", *base, "--seed", "-1"]) == 2
    assert main(["orders", *base, "--start", "2026-11-27", "--days", "0"]) == 2
    assert not any(tmp_path.iterdir())


def test_python_dash_m_simulator_runs(tmp_path):
    """The module entry point works as a subprocess and writes the order file for the date."""
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "orders", "--scale", "small", "--seed", "7",
         "--landing", str(tmp_path), "--start", "2026-07-15"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "orders" / "orders_2026-07-15.csv").is_file()
    assert "orders_2026-07-15.csv" in result.stdout
