"""Quarantine rules for the constraint columns of issue 6, and old files and warehouses without them.

Each test loads the hand-made constraint landing set of test_constraints_flow with one fault and checks which
rows went to quarantine with which reason code and field; the rest of the set must still be accepted.
"""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest

from orchestration.landing import OPTIONAL_COLUMNS, ensure_raw_schema, load_partition
from orchestration.quality.expectations import check_partition
from orchestration.quality.rules import QUARANTINE_REASONS
from tests.orchestration.test_constraints_flow import (
    DATE,
    DEPOTS,
    MASTER,
    ORDERS,
    VEHICLE_TYPES,
    VEHICLES,
    load_constraint_landing,
    write_csv,
)

SOURCES = {"depots": DEPOTS, "vehicle_types": VEHICLE_TYPES, "vehicles": VEHICLES, "orders": ORDERS}
PATHS = {
    "depots": "master/depots.csv",
    "vehicle_types": "master/vehicle_types.csv",
    "vehicles": "master/vehicles.csv",
    "orders": f"orders/orders_{DATE}.csv",
}


def _load(landing: Path, rows: dict[str, list[dict[str, str]]], drop: tuple[str, ...] = ()):
    """Write the set (with ``drop`` columns left out) and load it into a new in-memory warehouse."""
    files = {table: write_csv(landing / PATHS[table], table_rows, drop) for table, table_rows in rows.items()}
    conn = duckdb.connect()
    load_partition(conn, {t: files[t] for t in MASTER}, DATE, landing)
    load_partition(conn, {"orders": files["orders"]}, DATE, landing)
    return conn


def _quarantined(conn, table: str) -> list[tuple[str, str, str]]:
    key = {"depots": "depot_id", "vehicle_types": "vehicle_type", "vehicles": "vehicle_id", "orders": "order_id"}
    return conn.execute(
        f"select {key[table]}, reason_code, field from quarantine.{table} order by _source_row"
    ).fetchall()


def _with(table: str, key: str, **fields: str) -> dict[str, list[dict[str, str]]]:
    """The constraint set with one row (first column = ``key``) of ``table`` changed."""
    rows = copy.deepcopy(SOURCES)
    (row,) = [r for r in rows[table] if next(iter(r.values())) == key]
    row.update(fields)
    return rows


def test_the_constraint_set_loads_clean_and_passes_every_suite(tmp_path):
    """Baseline: nothing quarantined, every Great Expectations suite met (so each fault below is the only one)."""
    with duckdb.connect() as conn:
        load_constraint_landing(conn, tmp_path / "landing")
        for table in SOURCES:
            assert _quarantined(conn, table) == [], table
            outcome = check_partition(conn, table, DATE)
            assert outcome.passed, outcome.message()


def test_files_without_the_optional_columns_stay_valid(tmp_path):
    """An export from before issue 6 (no optional column at all) loads every row, with the new columns empty."""
    optional = tuple(c for columns in OPTIONAL_COLUMNS.values() for c in columns)
    conn = _load(tmp_path / "landing", SOURCES, drop=optional)
    for table in SOURCES:
        assert _quarantined(conn, table) == [], table
        assert conn.execute(f"select count(*) from raw.{table}").fetchone()[0] == len(SOURCES[table])
    assert conn.execute(
        "select count(*) from raw.orders where window2_start is not null or shipment_id is not null "
        "or unserved_penalty_eur is not null"
    ).fetchone() == (0,)
    assert conn.execute("select count(*) from raw.vehicles where end_depot_id is not null").fetchone() == (0,)


def test_an_old_warehouse_gains_the_optional_columns(tmp_path):
    """raw and quarantine tables created before issue 6 get the new columns (empty) on the next load."""
    with duckdb.connect() as conn:
        conn.execute("create schema raw")
        conn.execute(
            "create table raw.depots (service_date date not null, depot_id varchar, name varchar, street varchar, "
            "postcode varchar, town varchar, lat varchar, lon varchar, opens varchar, closes varchar, "
            "timezone varchar, _source_file varchar not null, _source_row integer not null)"
        )
        conn.execute("insert into raw.depots values ('2026-03-02', 'D-OLD', 'Old', '', '', '', '47.1', '9.5', "
                     "'06:00', '21:30', 'Europe/Vaduz', 'master/depots.csv', 1)")  # fmt: skip
        ensure_raw_schema(conn)
        columns = {r[0] for r in conn.execute("describe raw.depots").fetchall()}
        assert "reload_min" in columns
        assert conn.execute("select depot_id, reload_min from raw.depots").fetchall() == [("D-OLD", None)]
        quarantine = {r[0] for r in conn.execute("describe quarantine.vehicle_types").fetchall()}
        assert set(OPTIONAL_COLUMNS["vehicle_types"]) <= quarantine


def test_a_lone_shipment_end_is_quarantined(tmp_path):
    """The delivery of S-1 renamed to S-2: both shipments have one end only, both rows go, nothing else."""
    conn = _load(tmp_path / "landing", _with("orders", "O-SHIP-DELIVERY", shipment_id="S-2"))
    assert _quarantined(conn, "orders") == [
        ("O-SHIP-PICKUP", "BAD_SHIPMENT", "shipment_id"),
        ("O-SHIP-DELIVERY", "BAD_SHIPMENT", "shipment_id"),
    ]
    assert conn.execute("select count(*) from raw.orders").fetchone()[0] == len(ORDERS) - 2
    reason = conn.execute("select reason from quarantine.orders where order_id = 'O-SHIP-PICKUP'").fetchone()[0]
    assert reason.startswith("shipment_id 'S-1' has 1 pickup(s) and 0 delivery(ies)")


def test_two_ends_of_the_same_type_quarantine_the_whole_shipment(tmp_path):
    """Two deliveries for S-1 and no pickup: both rows are quarantined."""
    conn = _load(tmp_path / "landing", _with("orders", "O-SHIP-PICKUP", order_type="delivery"))
    assert _quarantined(conn, "orders") == [
        ("O-SHIP-PICKUP", "BAD_SHIPMENT", "shipment_id"),
        ("O-SHIP-DELIVERY", "BAD_SHIPMENT", "shipment_id"),
    ]


def test_an_end_quarantined_for_another_fault_takes_its_partner_along(tmp_path):
    """The delivery has no coordinates (BAD_COORDINATES); its pickup, alone now, is BAD_SHIPMENT."""
    conn = _load(tmp_path / "landing", _with("orders", "O-SHIP-DELIVERY", lat=""))
    assert _quarantined(conn, "orders") == [
        ("O-SHIP-PICKUP", "BAD_SHIPMENT", "shipment_id"),
        ("O-SHIP-DELIVERY", "BAD_COORDINATES", "lat/lon"),
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"window2_end": ""}, "window2_start/window2_end"),
        ({"window2_start": "15:00"}, "window2_start"),
        ({"window2_start": "2026-03-03T10:30:00+01:00"}, "window2_start"),  # overlaps the first window
        ({"window2_start": "2026-03-04T15:00:00+01:00", "window2_end": "2026-03-04T16:00:00+01:00"}, "window2_start"),
        ({"window2_end": "2026-03-03T14:00:00+01:00"}, "window2_end"),  # ends before it starts
        ({"window_start": "", "window_end": ""}, "window2_start"),  # a second window without a first
    ],
)
def test_a_bad_second_window_is_quarantined(tmp_path, fields, field):
    conn = _load(tmp_path / "landing", _with("orders", "O-TWO-WINDOWS", **fields))
    expected_code = "BAD_TIMESTAMP" if fields.get("window2_start") == "15:00" else "BAD_WINDOW"
    assert _quarantined(conn, "orders") == [("O-TWO-WINDOWS", expected_code, field)]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"priority": "urgent"}, "BAD_ENUM", "priority"),
        ({"unserved_penalty_eur": "-1"}, "OUT_OF_RANGE", "unserved_penalty_eur"),
        ({"unserved_penalty_eur": "12,50"}, "BAD_NUMBER", "unserved_penalty_eur"),
    ],
)
def test_bad_priority_and_penalty_are_quarantined(tmp_path, fields, code, field):
    conn = _load(tmp_path / "landing", _with("orders", "O-OPTIONAL", **fields))
    assert _quarantined(conn, "orders") == [("O-OPTIONAL", code, field)]


def test_priorities_are_case_insensitive(tmp_path):
    """'Mandatory' and ' OPTIONAL ' are the contract values written differently: accepted."""
    rows = _with("orders", "O-MANDATORY", priority="Mandatory")
    (optional,) = [r for r in rows["orders"] if r["order_id"] == "O-OPTIONAL"]
    optional["priority"] = " OPTIONAL "
    conn = _load(tmp_path / "landing", rows)
    assert _quarantined(conn, "orders") == []


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"capacity_parcels": "2.5"}, "BAD_NUMBER", "capacity_parcels"),
        ({"capacity_parcels": "0"}, "OUT_OF_RANGE", "capacity_parcels"),
        ({"max_reloads": "-1"}, "BAD_NUMBER", "max_reloads"),
        ({"max_route_km": "0"}, "NON_POSITIVE", "max_route_km"),
        ({"max_route_hours": "30"}, "OUT_OF_RANGE", "max_route_hours"),
        ({"max_overtime_min": "sixty"}, "BAD_NUMBER", "max_overtime_min"),
        ({"overtime_cost_per_hour_eur": "-5"}, "OUT_OF_RANGE", "overtime_cost_per_hour_eur"),
        ({"break_min": "30", "break_after_h": ""}, "MISSING_VALUE", "break_after_h"),
    ],
)
def test_bad_vehicle_type_constraints_are_quarantined(tmp_path, fields, code, field):
    """A broken cargo-bike type: its row is quarantined, and its vehicle with it (unknown type)."""
    conn = _load(tmp_path / "landing", _with("vehicle_types", "cargo_bike", **fields))
    assert _quarantined(conn, "vehicle_types") == [("cargo_bike", code, field)]
    assert _quarantined(conn, "vehicles") == [("V-BIKE", "UNKNOWN_VEHICLE_TYPE", "vehicle_type")]


@pytest.mark.parametrize("column", ["start_depot_id", "end_depot_id"])
def test_a_route_end_at_an_unknown_depot_is_quarantined(tmp_path, column):
    conn = _load(tmp_path / "landing", _with("vehicles", "V-VAN", **{column: "D-NOWHERE"}))
    assert _quarantined(conn, "vehicles") == [("V-VAN", "UNKNOWN_DEPOT", column)]
    outcome = check_partition(conn, "vehicles", DATE)
    assert outcome.blocking, "master data tolerates no quarantined row"


def test_a_bad_reload_time_is_quarantined(tmp_path):
    conn = _load(tmp_path / "landing", _with("depots", "D-A", reload_min="15.5"))
    assert _quarantined(conn, "depots") == [("D-A", "BAD_NUMBER", "reload_min")]


def test_the_new_reason_code_is_explained():
    assert "BAD_SHIPMENT" in QUARANTINE_REASONS
