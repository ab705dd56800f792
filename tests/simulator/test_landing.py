"""Tests for simulator.landing: files follow docs/data_contract.md and are written atomically."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from simulator import generate_orders, orders_path, write_master_data, write_orders

from .conftest import SEED

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "data_contract.md"
MONDAY = dt.date(2026, 3, 2)
SUNDAY = dt.date(2026, 3, 8)


def _contract_columns(file_name: str) -> list[str]:
    """Column names of one landing file, read from the table under its heading in the data contract."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split(f"### {file_name}", 1)[1].split("\n#", 1)[0]
    columns: list[str] = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in ("column", "") or set(cells[0]) <= {"-", " "}:
            continue
        columns.extend(name.strip() for name in cells[0].split(","))
    return columns


def _header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[0].split(",")


@pytest.mark.parametrize(
    ("file_name", "relative"),
    [
        ("master/depots.csv", "master/depots.csv"),
        ("master/vehicle_types.csv", "master/vehicle_types.csv"),
        ("master/vehicles.csv", "master/vehicles.csv"),
        ("orders/orders_YYYY-MM-DD.csv", "orders/orders_2026-03-02.csv"),
    ],
)
def test_files_have_exactly_the_contract_columns_in_order(small_world, tmp_path, file_name, relative):
    """Each landing file's header equals the column list of its table in docs/data_contract.md."""
    write_master_data(small_world, tmp_path)
    write_orders(small_world, MONDAY, tmp_path, SEED)
    expected = _contract_columns(file_name)
    assert len(expected) >= 6
    assert _header(tmp_path / relative) == expected


def test_master_data_paths_and_rows(small_world, tmp_path):
    """Master data goes to master/ with one row per depot, vehicle type and vehicle."""
    paths = write_master_data(small_world, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "master/depots.csv", "master/vehicle_types.csv", "master/vehicles.csv",
    ]
    depots, types, vehicles = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths)
    assert len(depots) == len(small_world.depots)
    assert len(types) == len(small_world.vehicle_types)
    assert len(vehicles) == len(small_world.vehicles)
    assert set(vehicles["vehicle_type"]) <= set(types["vehicle_type"])
    assert set(vehicles["depot_id"]) <= set(depots["depot_id"])
    assert depots["timezone"].eq("Europe/Vaduz").all()
    assert all(re.fullmatch(r"\d\d:\d\d", t) for t in [*vehicles["shift_start"], *depots["opens"]])
    assert set(" ".join(vehicles["work_days"]).split()) <= {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
    assert set(" ".join(types["skills"]).split()) == {"tail_lift", "refrigerated"}


def test_order_file_round_trips_to_the_generated_frame(small_world, tmp_path):
    """The order file holds exactly the generated orders; empty fields are written as nothing."""
    path = write_orders(small_world, MONDAY, tmp_path, SEED)
    assert path == orders_path(tmp_path, MONDAY) == tmp_path / "orders" / "orders_2026-03-02.csv"
    read = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = generate_orders(small_world, MONDAY, SEED)
    assert len(read) == len(frame) > 0
    assert read["order_id"].tolist() == frame["order_id"].tolist()
    assert (read["lat"].astype(float) == frame["lat"]).all()
    assert (read["window_start"] == frame["window_start"]).all()
    assert ",," in path.read_text(encoding="utf-8")


def test_rewriting_gives_byte_identical_files(small_world, tmp_path):
    """Writing the same world and date twice, even into another folder, gives the same bytes."""
    def write_all(folder: Path) -> list[Path]:
        return [*write_master_data(small_world, folder), write_orders(small_world, MONDAY, folder, SEED)]

    first, again = write_all(tmp_path / "a"), write_all(tmp_path / "b")
    for a, b in zip(first, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    overwritten = write_orders(small_world, MONDAY, tmp_path / "a", SEED)
    assert overwritten.read_bytes() == again[-1].read_bytes()


def test_different_seed_writes_different_orders(small_world, tmp_path):
    """Another seed writes another order file for the same date."""
    a = write_orders(small_world, MONDAY, tmp_path / "a", SEED)
    b = write_orders(small_world, MONDAY, tmp_path / "b", SEED + 1)
    assert a.read_bytes() != b.read_bytes()


def test_writes_leave_no_temporary_files_and_readable_files(small_world, tmp_path):
    """Atomic writes rename their temporary file: only the final files remain, readable by other users."""
    write_master_data(small_world, tmp_path)
    write_orders(small_world, MONDAY, tmp_path, SEED)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert names == [
        "master/depots.csv",
        "master/vehicle_types.csv",
        "master/vehicles.csv",
        "orders/orders_2026-03-02.csv",
    ]
    assert all(p.stat().st_mode & 0o444 == 0o444 for p in tmp_path.rglob("*.csv"))


def test_a_day_without_orders_still_gets_a_header_only_file(small_world, tmp_path):
    """A Sunday with no orders writes the header, so 'no orders' differs from 'file missing'."""
    path = write_orders(small_world, SUNDAY, tmp_path, SEED)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == _contract_columns("orders/orders_YYYY-MM-DD.csv")
    assert len(lines) - 1 <= 2
