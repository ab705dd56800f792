"""Hand-written live drops (docs/replanning.md section 1) for the live-state tests, on the small demo world.

Times are local seconds since midnight of :data:`DATE` (a winter Tuesday: UTC = local - 1 h).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.landing import LANDING_COLUMNS, OPTIONAL_COLUMNS

DATE = "2026-03-03"
SEED = 7
EVENT_COLUMNS = LANDING_COLUMNS["live_events"]
CHANGE_COLUMNS = LANDING_COLUMNS["order_changes"] + OPTIONAL_COLUMNS["order_changes"]


def utc(seconds: float, date: str = DATE) -> str:
    """ISO 8601 UTC instant of a local time of the date (CET, one hour ahead of UTC)."""
    instant = dt.datetime.fromisoformat(date) + dt.timedelta(seconds=seconds - 3600)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_iso(seconds: int, date: str = DATE) -> str:
    """ISO 8601 local time with the winter offset, as in the orders file's windows."""
    instant = dt.datetime.fromisoformat(date) + dt.timedelta(seconds=seconds)
    return instant.strftime("%Y-%m-%dT%H:%M:%S+01:00")


def hhmmss(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def drop_dir(landing: Path, date: str = DATE) -> Path:
    folder = landing / "live" / date
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_events(path: Path, rows: list[dict]) -> Path:
    """An events drop: contract columns, missing fields empty."""
    return _write_csv(path, EVENT_COLUMNS, rows)


def write_changes(path: Path, rows: list[dict]) -> Path:
    """An order-changes drop: change columns then every order column, missing fields empty."""
    return _write_csv(path, CHANGE_COLUMNS, rows)


def write_weather(path: Path, rows: list[dict]) -> Path:
    """A live weather drop (the columns of the daily observations file)."""
    return _write_csv(path, LANDING_COLUMNS["live_weather"], rows)


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def write_pings(path: Path, rows: list[tuple[str, float, float, float]]) -> Path:
    """A pings drop: (vehicle_id, local seconds, lat, lon) per fix."""
    stamps = [dt.datetime.fromisoformat(utc(s).replace("Z", "+00:00")) for _, s, _, _ in rows]
    table = pa.table(
        {
            "vehicle_id": pa.array([r[0] for r in rows], pa.string()),
            "ts_utc": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "lat": pa.array([r[2] for r in rows], pa.float64()),
            "lon": pa.array([r[3] for r in rows], pa.float64()),
            "speed_kmh": pa.array([30.0] * len(rows), pa.float64()),
            "heading_deg": pa.array([90.0] * len(rows), pa.float64()),
        }
    )
    pq.write_table(table, path)
    return path


def event(event_id: str, vehicle_id: str, event_type: str, at_s: int, order_id: str = "", **extra) -> dict:
    """One driver-app event row of the date."""
    return {
        "event_id": event_id, "service_date": DATE, "vehicle_id": vehicle_id, "driver_id": f"DR-{vehicle_id}",
        "order_id": order_id, "event_type": event_type, "ts_utc": utc(at_s), "lat": extra.pop("lat", ""),
        "lon": extra.pop("lon", ""), "attempt": "1" if order_id else "", **extra,
    }  # fmt: skip
