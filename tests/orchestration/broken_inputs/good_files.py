"""A small, valid landing set for one service date: every source, a few rows each, nothing to quarantine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.landing import LANDING_COLUMNS

DATE = "2026-03-03"
OTHER_DATE = "2026-03-04"

# Relative landing path of each source's file for DATE.
FILES = {
    "depots": "master/depots.csv",
    "vehicle_types": "master/vehicle_types.csv",
    "vehicles": "master/vehicles.csv",
    "orders": f"orders/orders_{DATE}.csv",
    "stop_events": f"events/stop_events_{DATE}.csv",
    "ratings": f"ratings/ratings_{DATE}.csv",
    "weather_observations": f"weather/weather_{DATE}.csv",
    "weather_forecasts": f"weather/forecast_{DATE}.csv",
    "pings": f"telematics/pings_{DATE}.parquet",
}
# Files load in groups, as the raw assets load them (one transaction per group).
GROUPS = (
    ("depots", "vehicle_types", "vehicles"),
    ("orders",),
    ("stop_events", "ratings", "weather_observations", "weather_forecasts"),
    ("pings",),
)
N_ORDERS = 20


def _rows(table: str) -> list[dict[str, str]]:
    if table == "depots":
        return [
            dict(depot_id="D-A", name="Depot A", street="Weg 1", postcode="9494", town="Schaan", lat="47.159",
                 lon="9.5", opens="06:00", closes="21:30", timezone="Europe/Vaduz"),
            dict(depot_id="D-B", name="Depot B", street="Weg 2", postcode="9495", town="Triesen", lat="47.112",
                 lon="9.514", opens="06:00", closes="21:30", timezone="Europe/Vaduz"),
        ]  # fmt: skip
    if table == "vehicle_types":
        return [
            dict(vehicle_type="van", description="Van, 3.5 t", capacity_kg="800", capacity_l="10000",
                 avg_speed_kmh="32", cost_per_km_eur="0.32", cost_per_hour_eur="42", cost_per_day_eur="45", skills=""),
            dict(vehicle_type="truck", description="7.5 t truck", capacity_kg="2500", capacity_l="30000",
                 avg_speed_kmh="28", cost_per_km_eur="0.55", cost_per_hour_eur="46", cost_per_day_eur="90",
                 skills="tail_lift"),
        ]  # fmt: skip
    if table == "vehicles":
        return [
            dict(vehicle_id=v, depot_id=d, vehicle_type=t, shift_start="07:00", shift_end="16:00",
                 work_days="Mon Tue Wed Thu Fri")
            for v, d, t in (("V1", "D-A", "van"), ("V2", "D-A", "truck"), ("V3", "D-B", "van"))
        ]  # fmt: skip
    if table == "orders":
        return [
            dict(order_id=f"O{i:02d}", customer_id=f"C{i:02d}", service_date=DATE, order_type="delivery",
                 street=f"Strasse {i}", postcode="9494", town="Schaan", lat=f"{47.14 + i * 0.002:.4f}",
                 lon=f"{9.50 + i * 0.001:.4f}", site_type="house", parcels="1", weight_kg=f"{1 + i / 10:.1f}",
                 volume_l="10", window_start=f"{DATE}T09:00:00+01:00" if i % 2 else "",
                 window_end=f"{DATE}T12:00:00+01:00" if i % 2 else "", priority="normal", required_skills="",
                 notes="", created_at_utc="2026-03-01T10:00:00Z")
            for i in range(1, N_ORDERS + 1)
        ]  # fmt: skip
    if table == "stop_events":
        events = []
        for n, (order, kind, minute) in enumerate(
            (("", "depot_departure", 0), ("O01", "arrived", 10), ("O01", "delivered", 12), ("O02", "arrived", 20),
             ("O02", "failed", 22), ("O03", "arrived", 30), ("O03", "delivered", 33), ("", "depot_return", 50)),
            start=1,
        ):  # fmt: skip
            events.append(
                dict(event_id=f"E{n:02d}", service_date=DATE, vehicle_id="V1", driver_id="DRV-1", order_id=order,
                     event_type=kind, ts_utc=f"{DATE}T07:{minute:02d}:00Z", lat="47.15", lon="9.51",
                     failure_reason="not_home" if kind == "failed" else "",
                     attempt="1" if order else "")
            )  # fmt: skip
        return events
    if table == "ratings":
        return [
            dict(order_id=o, customer_id=c, rating=r, comment="", rated_at_utc=f"{DATE}T15:00:00Z")
            for o, c, r in (("O01", "C01", "5"), ("O03", "C03", "4"), ("O05", "C05", "2"))
        ]
    if table == "weather_observations":
        return [
            dict(observed_at_utc=f"{DATE}T{h:02d}:00:00Z", temperature_c=f"{2 + h / 4:.1f}", precipitation_mm="0.0",
                 wind_kmh="8", condition="dry")
            for h in range(24)
        ]  # fmt: skip
    if table == "weather_forecasts":
        return [
            dict(issued_at_utc=f"{DATE}T17:00:00Z", valid_at_utc=f"{OTHER_DATE}T{h:02d}:00:00Z",
                 temperature_c="3.0", precipitation_mm="0.0", precipitation_probability="0.1", condition="dry")
            for h in range(24)
        ]  # fmt: skip
    raise KeyError(table)


def csv_text(table: str, rows: list[dict[str, str]] | None = None) -> str:
    """The contract CSV of ``table`` (header + rows), as the good set writes it."""
    columns = LANDING_COLUMNS[table]
    lines = [",".join(columns)]
    for row in _rows(table) if rows is None else rows:
        lines.append(",".join(_quote(row.get(c, "")) for c in columns))
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value or '"' in value else value


def good_rows(table: str) -> list[dict[str, str]]:
    """Fresh copies of the good rows of a CSV source (mutate freely)."""
    return [dict(r) for r in _rows(table)]


def pings_table(service_date: str = DATE, n: int = 40, vehicle: str = "V1") -> pa.Table:
    """``n`` fixes of one vehicle every 30 s from 07:00 UTC of the date, moving north-east near Schaan."""
    start = dt.datetime.combine(dt.date.fromisoformat(service_date), dt.time(7), tzinfo=dt.UTC)
    return pa.table(
        {
            "vehicle_id": pa.array([vehicle] * n, pa.string()),
            "ts_utc": pa.array([start + dt.timedelta(seconds=30 * i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "lat": pa.array([47.15 + i * 1e-4 for i in range(n)], pa.float64()),
            "lon": pa.array([9.50 + i * 1e-4 for i in range(n)], pa.float64()),
            "speed_kmh": pa.array([30.0] * n, pa.float64()),
            "heading_deg": pa.array([45.0] * n, pa.float64()),
        }
    )


def write_good_landing(landing: Path) -> dict[str, Path]:
    """Write the whole good set under ``landing``; returns source -> path."""
    paths = {}
    for table, relative in FILES.items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if table == "pings":
            pq.write_table(pings_table(), path)
        else:
            path.write_text(csv_text(table), encoding="utf-8")
        paths[table] = path
    return paths
