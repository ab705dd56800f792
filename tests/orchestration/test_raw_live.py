"""raw_live: the live drops of a date (docs/replanning.md section 1) through the real loader into raw.live_*.

The small demo world's master data and orders of one date are loaded as the daily assets load them; hand-written
drops (two of each kind, with a bad row each and a file still being written) go through `raw_live` materialised
with Dagster into a real DuckDB file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.assets.live import raw_live
from orchestration.landing import load_partition
from orchestration.resources import LandingZone
from simulator import build_world, write_master_data, write_orders
from tests.orchestration._live_day import (
    DATE,
    SEED,
    drop_dir,
    event,
    local_iso,
    utc,
    write_changes,
    write_events,
    write_pings,
    write_weather,
)

LIVE_TABLES = ("live_pings", "live_events", "order_changes", "live_weather")


@dataclass(frozen=True)
class RawLive:
    """The scratch warehouse and landing folder after one raw_live run, and what the drops held."""

    warehouse: Path
    landing: Path
    resources: dict
    written: dict[str, int]
    vehicle_ids: list[str]
    order_ids: list[str]


def _materialize(resources: dict, date: str = DATE) -> dg.ExecuteInProcessResult:
    result = dg.materialize([raw_live], partition_key=date, resources=resources)
    assert result.success
    return result


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def raw_day(tmp_path_factory) -> RawLive:
    """Master data and orders of the small world loaded for DATE; two drops of each kind; raw_live run once."""
    root = tmp_path_factory.mktemp("raw-live")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    world = build_world("small", SEED)
    master = {path.stem: path for path in write_master_data(world, landing)}
    orders = write_orders(world, dt.date.fromisoformat(DATE), landing, SEED)
    with duckdb.connect(str(warehouse)) as conn:
        load_partition(conn, {t: master[t] for t in ("depots", "vehicle_types", "vehicles")}, DATE, landing)
        load_partition(conn, {"orders": orders}, DATE, landing)
        vehicle_ids = [r[0] for r in conn.execute("select vehicle_id from raw.vehicles order by 1").fetchall()]
        order_rows = conn.execute("select * from raw.orders order by order_id").fetchdf()
    order_ids = list(order_rows.order_id)
    van = vehicle_ids[0]
    template = order_rows.iloc[0].to_dict()

    folder = drop_dir(landing)
    events_1 = [
        event("E1", van, "depot_departure", 8 * 3600),
        event("E2", van, "arrived", 8 * 3600 + 900, order_ids[0]),
        event("E3", van, "delivered", 8 * 3600 + 1000, order_ids[0]),
        {**event("E4", van, "arrived", 8 * 3600 + 1500, order_ids[1]), "ts_utc": "yesterday at nine"},
        event("E5", van, "arrived", 9 * 3600, "N-1"),  # an order placed during the day (a new change)
    ]
    events_2 = [
        event("E6", van, "delivered", 9 * 3600 + 120, "N-1"),
        event("E7", van, "failed", 9 * 3600 + 900, "NO-SUCH-ORDER", failure_reason="not_home"),
        event("E8", van, "breakdown", 10 * 3600),
    ]
    write_events(folder / "events_090000.csv", events_1)
    write_events(folder / "events_100000.csv", events_2)
    write_events(folder / ".events_110000.csv.tmp", [event("E9", van, "depot_return", 11 * 3600)])
    pings_1 = [(van, 8 * 3600 + 60, 47.16, 9.51), (van, 8 * 3600 + 80, 47.161, 9.51), ("V-NOBODY", 8 * 3600, 47, 9)]
    pings_2 = [(van, 9 * 3600 + 60, 47.17, 9.52)]
    write_pings(folder / "pings_090000.parquet", pings_1)
    write_pings(folder / "pings_100000.parquet", pings_2)
    new_order = {
        **{k: v for k, v in template.items() if isinstance(v, str)},
        "change_id": "C1", "order_id": "N-1", "change_type": "new", "received_at_utc": utc(8 * 3600),
        "service_date": DATE,
        "window_start": local_iso(12 * 3600), "window_end": local_iso(14 * 3600), "window2_start": "",
        "window2_end": "", "shipment_id": "",
    }  # fmt: skip
    changes_1 = [
        new_order,
        {"change_id": "C2", "order_id": order_ids[2], "change_type": "window", "received_at_utc": utc(8 * 3600),
         "window_start": local_iso(15 * 3600), "window_end": local_iso(16 * 3600)},
        {"change_id": "C3", "order_id": order_ids[3], "change_type": "reschedule", "received_at_utc": utc(8 * 3600)},
    ]  # fmt: skip
    changes_2 = [
        {"change_id": "C4", "order_id": order_ids[4], "change_type": "cancel", "received_at_utc": utc(9 * 3600)},
        {"change_id": "C5", "order_id": "NOT-AN-ORDER", "change_type": "cancel", "received_at_utc": utc(9 * 3600)},
    ]  # fmt: skip
    write_changes(folder / "order_changes_090000.csv", changes_1)
    write_changes(folder / "order_changes_100000.csv", changes_2)
    observation = {"temperature_c": "4.5", "precipitation_mm": "0.0", "wind_kmh": "12", "condition": "dry"}
    weather_1 = [{**observation, "observed_at_utc": utc(h * 3600)} for h in range(6, 9)]
    weather_2 = [
        {**observation, "observed_at_utc": utc(9 * 3600), "precipitation_mm": "7.1", "condition": "heavy_rain"},
        {**observation, "observed_at_utc": utc(10 * 3600), "condition": "hail"},
    ]
    write_weather(folder / "weather_090000.csv", weather_1)
    write_weather(folder / "weather_100000.csv", weather_2)
    written = {
        "live_events": len(events_1) + len(events_2),
        "live_pings": len(pings_1) + len(pings_2),
        "order_changes": len(changes_1) + len(changes_2),
        "live_weather": len(weather_1) + len(weather_2),
    }
    resources = {
        "duckdb": DuckDBResource(database=str(warehouse)),
        "landing": LandingZone(landing_dir=str(landing)),
    }
    _materialize(resources)
    return RawLive(warehouse, landing, resources, written, vehicle_ids, order_ids)


def test_every_drop_row_is_loaded_or_quarantined_and_the_log_reconciles(raw_day):
    """Per table: accepted + quarantined = rows in the drops (the temporary file is not read); the ingest log
    has one row per table and date with loaded = accepted + quarantined."""
    for table in LIVE_TABLES:
        accepted = _query(raw_day.warehouse, f"select count(*) from raw.{table}")[0][0]
        quarantined = _query(raw_day.warehouse, f"select count(*) from quarantine.{table}")[0][0]
        assert accepted + quarantined == raw_day.written[table], table
        assert quarantined >= 1, table
        log = _query(
            raw_day.warehouse,
            "select loaded_rows, rows, quarantined_rows, source_file from raw.ingest_log where table_name = ?",
            [table],
        )
        assert len(log) == 1
        loaded, rows, in_quarantine, source = log[0]
        assert (loaded, rows, in_quarantine) == (raw_day.written[table], accepted, quarantined)
        assert source.startswith(f"live/{DATE}/")


def test_bad_rows_carry_their_reason_code(raw_day):
    """A bad timestamp, an unknown vehicle, an unknown change type, an unknown order, a weather condition the
    planner does not know: each quarantined with its
    code, its drop file and its row; an event of an order placed during the day is accepted."""
    reasons = {
        table: dict(_query(raw_day.warehouse, f"select reason_code, count(*) from quarantine.{table} group by 1"))
        for table in LIVE_TABLES
    }
    assert reasons["live_events"] == {"BAD_TIMESTAMP": 1, "UNKNOWN_ORDER": 1}
    assert reasons["live_pings"] == {"UNKNOWN_VEHICLE": 1}
    assert reasons["order_changes"] == {"BAD_ENUM": 1, "UNKNOWN_ORDER": 1}
    assert reasons["live_weather"] == {"BAD_ENUM": 1}
    hail = _query(raw_day.warehouse, "select _source_file, _source_row, field from quarantine.live_weather")
    assert hail == [(f"live/{DATE}/weather_100000.csv", 2, "condition")]
    bad_time = _query(raw_day.warehouse, "select _source_file, _source_row, field from quarantine.live_events "
                      "where reason_code = 'BAD_TIMESTAMP'")  # fmt: skip
    assert bad_time == [(f"live/{DATE}/events_090000.csv", 4, "ts_utc")]
    accepted_new = _query(raw_day.warehouse, "select event_type from raw.live_events where order_id = 'N-1' order by 1")
    assert accepted_new == [("arrived",), ("delivered",)]
    assert _query(raw_day.warehouse, "select count(*) from raw.live_events where event_type = 'breakdown'") == [(1,)]


def test_rows_name_their_drop_file_and_row(raw_day):
    """Every raw row keeps the drop it came from and its row there; both drops of each kind are in."""
    for table in LIVE_TABLES:
        files = _query(raw_day.warehouse, f"select distinct _source_file from raw.{table} order by 1")
        assert len(files) == 2, table
        rows = _query(
            raw_day.warehouse, f"select count(*), count(distinct (_source_file, _source_row)) from raw.{table}"
        )
        assert rows[0][0] == rows[0][1]


def test_a_rerun_with_a_new_drop_replaces_the_date(raw_day):
    """The next run sees one more drop: the date holds every drop's rows once, not the first run's twice."""
    folder = drop_dir(raw_day.landing)
    van = raw_day.vehicle_ids[0]
    write_events(folder / "events_110000.csv", [event("E10", van, "depot_return", 11 * 3600)])
    before = _query(raw_day.warehouse, "select count(*) from raw.live_events")[0][0]
    _materialize(raw_day.resources)
    after = _query(raw_day.warehouse, "select count(*) from raw.live_events")[0][0]
    assert after == before + 1
    assert _query(raw_day.warehouse, "select count(*) from raw.ingest_log where table_name = 'live_events'") == [(2,)]
    assert _query(raw_day.warehouse, "select count(*) from raw.live_pings")[0][0] == raw_day.written["live_pings"] - 1


def test_a_date_without_drops_gets_empty_tables(raw_day):
    """Another date has no live folder: the run succeeds and writes nothing for it."""
    _materialize(raw_day.resources, "2026-03-04")
    for table in LIVE_TABLES:
        rows = _query(raw_day.warehouse, f"select count(*) from raw.{table} where service_date = '2026-03-04'")
        assert rows == [(0,)]
