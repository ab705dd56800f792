# ruff: noqa: E501 (the corpus is a table: one fault per line)
"""The corpus: one entry per fault, with the exact outcome the loader must produce.

An outcome is either an error (a regex the :class:`~orchestration.landing.LandingFileError` message matches, and
nothing in the warehouse changes) or the quarantined rows ``{file line: (reason_code, field)}`` per source (the
other rows load, nothing else changes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.orchestration.broken_inputs.good_files import DATE, FILES, OTHER_DATE, csv_text, good_rows, pings_table

Breaker = Callable[[Path], None]
Quarantine = dict[int, tuple[str, str | None]]


@dataclass(frozen=True)
class Fault:
    """A broken input: which source, how it is broken, and what must happen."""

    name: str
    table: str
    breaks: Breaker
    error: str | None = None
    quarantined: dict[str, Quarantine] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()
    accepted: int | None = None  # accepted rows of the broken file, when not "the good rows minus the quarantined"


def _line(index: int) -> int:
    """File line of the good set's row ``index`` (0-based; line 1 is the header)."""
    return index + 2


def edit(table: str, index: int, **changes: str) -> Breaker:
    def breaks(landing: Path) -> None:
        rows = good_rows(table)
        rows[index].update(changes)
        (landing / FILES[table]).write_text(csv_text(table, rows), encoding="utf-8")

    return breaks


def append(table: str, copy_of: int, **changes: str) -> Breaker:
    def breaks(landing: Path) -> None:
        rows = good_rows(table)
        rows.append({**rows[copy_of], **changes})
        (landing / FILES[table]).write_text(csv_text(table, rows), encoding="utf-8")

    return breaks


def text(table: str, transform: Callable[[str], str]) -> Breaker:
    def breaks(landing: Path) -> None:
        (landing / FILES[table]).write_text(transform(csv_text(table)), encoding="utf-8")

    return breaks


def raw_bytes(table: str, transform: Callable[[bytes], bytes]) -> Breaker:
    def breaks(landing: Path) -> None:
        path = landing / FILES[table]
        path.write_bytes(transform(path.read_bytes()))

    return breaks


def pings(transform: Callable[[pa.Table], pa.Table]) -> Breaker:
    def breaks(landing: Path) -> None:
        pq.write_table(transform(pings_table()), landing / FILES["pings"])

    return breaks


def _set(table: pa.Table, column: str, index: int, value) -> pa.Table:
    values = table.column(column).to_pylist()
    values[index] = value
    return table.set_column(table.schema.get_field_index(column), column, pa.array(values, table.schema.field(column).type))


def _replace_line(number: int, new: str) -> Callable[[str], str]:
    def transform(content: str) -> str:
        lines = content.split("\n")
        lines[number - 1] = new
        return "\n".join(lines)

    return transform


FAULTS: tuple[Fault, ...] = (
    # --- file-level faults: a clear error, nothing written ---
    Fault("orders_empty_file", "orders", raw_bytes("orders", lambda b: b""), error=r"orders_2026-03-03\.csv: the file is empty \(0 bytes\)"),
    Fault("orders_missing_column", "orders", text("orders", lambda t: t.replace(",weight_kg", "", 1).replace(",1.1,", ",", 1)), error=r"orders_2026-03-03\.csv: missing column\(s\) weight_kg \(found: order_id"),
    Fault("orders_renamed_column", "orders", text("orders", lambda t: t.replace("volume_l", "volume_litres", 1)), error=r"missing column\(s\) volume_l .*'volume_litres' looks like volume_l \(renamed\?\)"),
    Fault("orders_semicolon_delimiter", "orders", text("orders", lambda t: t.replace(",", ";")), error=r"orders_2026-03-03\.csv: the header is separated by semicolons, not commas"),
    Fault("orders_latin1_encoding", "orders", raw_bytes("orders", lambda b: b.replace(b"Strasse 3,", "Straße 3,".encode("latin-1"))), error=r"orders_2026-03-03\.csv: not UTF-8 text: byte 0xdf on line 4"),
    Fault("orders_file_of_another_date", "orders", text("orders", lambda t: t.replace(DATE, OTHER_DATE)), error=r"field service_date must be 2026-03-03: line 2 has '2026-03-04'.*another date"),
    Fault("orders_duplicate_header", "orders", text("orders", lambda t: t.replace("notes", "town", 1)), error=r"column\(s\) town appear more than once"),
    Fault("orders_header_only", "orders", text("orders", lambda t: t.split("\n")[0] + "\n"), accepted=0),
    Fault("master_vehicles_missing_file", "vehicles", lambda landing: (landing / FILES["vehicles"]).unlink(), error=r"master/vehicles\.csv: file not found"),
    Fault("pings_truncated_parquet", "pings", raw_bytes("pings", lambda b: b[: len(b) // 2]), error=r"pings_2026-03-03\.parquet: not a readable Parquet file"),
    Fault("pings_csv_named_parquet", "pings", raw_bytes("pings", lambda b: b"vehicle_id,ts_utc\nV1,2026-03-03T07:00:00Z\n"), error=r"pings_2026-03-03\.parquet: not a readable Parquet file"),
    Fault("pings_missing_column", "pings", pings(lambda t: t.drop(["lat"])), error=r"pings_2026-03-03\.parquet: missing column\(s\) lat"),
    Fault("pings_file_of_another_date", "pings", pings(lambda t: pings_table(OTHER_DATE)), error=r"pings_2026-03-03\.parquet: holds no fix of 2026-03-03 \(the first is at 2026-03-04 07:00:00"),
    Fault("pings_empty_file", "pings", raw_bytes("pings", lambda b: b""), error=r"pings_2026-03-03\.parquet: the file is empty"),
    # --- row-level faults: the row is quarantined with its reason, the rest loads ---
    Fault("orders_duplicate_id", "orders", edit("orders", 4, order_id="O02"), quarantined={"orders": {_line(4): ("DUPLICATE_ID", "order_id")}}),
    Fault("orders_missing_id", "orders", edit("orders", 0, order_id=""), quarantined={"orders": {_line(0): ("MISSING_VALUE", "order_id")}}),
    Fault("orders_decimal_comma", "orders", edit("orders", 2, weight_kg="1,5"), quarantined={"orders": {_line(2): ("BAD_NUMBER", "weight_kg")}}),
    Fault("orders_negative_weight", "orders", edit("orders", 3, weight_kg="-2"), quarantined={"orders": {_line(3): ("NON_POSITIVE", "weight_kg")}}),
    Fault("orders_missing_volume", "orders", edit("orders", 5, volume_l=""), quarantined={"orders": {_line(5): ("MISSING_VALUE", "volume_l")}}),
    Fault("orders_coordinates_null_island", "orders", edit("orders", 6, lat="0", lon="0"), quarantined={"orders": {_line(6): ("BAD_COORDINATES", "lat/lon")}}),
    Fault("orders_latitude_out_of_range", "orders", edit("orders", 7, lat="147.2"), quarantined={"orders": {_line(7): ("BAD_COORDINATES", "lat/lon")}}),
    Fault("orders_window_ends_before_start", "orders", edit("orders", 8, window_start=f"{DATE}T12:00:00+01:00", window_end=f"{DATE}T09:00:00+01:00"), quarantined={"orders": {_line(8): ("BAD_WINDOW", "window_end")}}),
    Fault("orders_window_half_given", "orders", edit("orders", 9, window_start=f"{DATE}T09:00:00+01:00", window_end=""), quarantined={"orders": {_line(9): ("BAD_WINDOW", "window_start/window_end")}}),
    Fault("orders_window_on_another_day", "orders", edit("orders", 10, window_start=f"{OTHER_DATE}T09:00:00+01:00", window_end=f"{OTHER_DATE}T12:00:00+01:00"), quarantined={"orders": {_line(10): ("BAD_WINDOW", "window_start")}}),
    Fault("orders_window_time_without_date", "orders", edit("orders", 11, window_start="09:00", window_end="12:00"), quarantined={"orders": {_line(11): ("BAD_TIMESTAMP", "window_start")}}),
    Fault("orders_unknown_order_type", "orders", edit("orders", 12, order_type="delivry"), quarantined={"orders": {_line(12): ("BAD_ENUM", "order_type")}}),
    Fault("orders_one_row_of_another_date", "orders", edit("orders", 13, service_date=OTHER_DATE), quarantined={"orders": {_line(13): ("WRONG_DATE", "service_date")}}),
    Fault("orders_parcels_not_a_number", "orders", edit("orders", 14, parcels="two"), quarantined={"orders": {_line(14): ("BAD_NUMBER", "parcels")}}),
    Fault("orders_stray_field", "orders", text("orders", _replace_line(_line(15), csv_text("orders").split("\n")[_line(15) - 1] + ",extra")), quarantined={"orders": {_line(15): ("MALFORMED_LINE", None)}}),
    Fault("orders_unknown_extra_column", "orders", text("orders", lambda t: t.replace("\n", ",x\n")), ignored_columns=("x",)),
    Fault("orders_utf8_byte_order_mark", "orders", raw_bytes("orders", lambda b: b"\xef\xbb\xbf" + b)),
    Fault("orders_blank_lines_and_crlf", "orders", text("orders", lambda t: t.replace("\n", "\r\n", 3) + "\n\n")),
    Fault("depots_bad_timezone_cascades_to_vehicles", "depots", edit("depots", 1, timezone="CET+1"), quarantined={"depots": {_line(1): ("BAD_TIMEZONE", "timezone")}, "vehicles": {_line(2): ("UNKNOWN_DEPOT", "depot_id")}}),
    Fault("depots_closing_before_opening", "depots", edit("depots", 0, opens="21:30", closes="06:00"), quarantined={"depots": {_line(0): ("BAD_WINDOW", "closes")}, "vehicles": {_line(0): ("UNKNOWN_DEPOT", "depot_id"), _line(1): ("UNKNOWN_DEPOT", "depot_id")}}),
    Fault("vehicle_types_zero_capacity", "vehicle_types", edit("vehicle_types", 1, capacity_kg="0"), quarantined={"vehicle_types": {_line(1): ("NON_POSITIVE", "capacity_kg")}, "vehicles": {_line(1): ("UNKNOWN_VEHICLE_TYPE", "vehicle_type")}}),
    Fault("vehicles_unknown_type", "vehicles", edit("vehicles", 2, vehicle_type="hovercraft"), quarantined={"vehicles": {_line(2): ("UNKNOWN_VEHICLE_TYPE", "vehicle_type")}}),
    Fault("vehicles_shift_ends_before_start", "vehicles", edit("vehicles", 0, shift_start="16:00", shift_end="07:00"), quarantined={"vehicles": {_line(0): ("BAD_WINDOW", "shift_end")}}),
    Fault("vehicles_work_days_misspelt", "vehicles", edit("vehicles", 1, work_days="Mo Di Mi"), quarantined={"vehicles": {_line(1): ("BAD_ENUM", "work_days")}}),
    Fault("vehicles_shift_time_malformed", "vehicles", edit("vehicles", 2, shift_start="7h"), quarantined={"vehicles": {_line(2): ("BAD_TIME", "shift_start")}}),
    Fault("stop_event_for_unknown_order", "stop_events", edit("stop_events", 3, order_id="O99"), quarantined={"stop_events": {_line(3): ("UNKNOWN_ORDER", "order_id")}}),
    Fault("stop_event_of_unknown_vehicle", "stop_events", edit("stop_events", 1, vehicle_id="V9"), quarantined={"stop_events": {_line(1): ("UNKNOWN_VEHICLE", "vehicle_id")}}),
    Fault("stop_event_on_another_day", "stop_events", edit("stop_events", 2, ts_utc="2026-03-05T07:12:00Z"), quarantined={"stop_events": {_line(2): ("OUT_OF_DAY", "ts_utc")}}),
    Fault("stop_event_unknown_type", "stop_events", edit("stop_events", 4, event_type="teleported"), quarantined={"stop_events": {_line(4): ("BAD_ENUM", "event_type")}}),
    Fault("stop_event_timestamp_without_zone", "stop_events", edit("stop_events", 5, ts_utc=f"{DATE} 07:30"), quarantined={"stop_events": {_line(5): ("BAD_TIMESTAMP", "ts_utc")}}),
    Fault("rating_out_of_scale", "ratings", edit("ratings", 0, rating="7"), quarantined={"ratings": {_line(0): ("OUT_OF_RANGE", "rating")}}),
    Fault("rating_for_unknown_order", "ratings", edit("ratings", 1, order_id="O77"), quarantined={"ratings": {_line(1): ("UNKNOWN_ORDER", "order_id")}}),
    Fault("rating_given_twice", "ratings", append("ratings", 2, rating="1"), quarantined={"ratings": {_line(3): ("DUPLICATE_ID", "order_id")}}),
    Fault("weather_temperature_not_a_number", "weather_observations", edit("weather_observations", 5, temperature_c="warm"), quarantined={"weather_observations": {_line(5): ("BAD_NUMBER", "temperature_c")}}),
    Fault("weather_negative_precipitation", "weather_observations", edit("weather_observations", 6, precipitation_mm="-1"), quarantined={"weather_observations": {_line(6): ("OUT_OF_RANGE", "precipitation_mm")}}),
    Fault("weather_hour_reported_twice", "weather_observations", append("weather_observations", 7, temperature_c="9.9"), quarantined={"weather_observations": {_line(24): ("DUPLICATE_ID", "observed_at_utc")}}),
    Fault("forecast_probability_in_percent", "weather_forecasts", edit("weather_forecasts", 3, precipitation_probability="45"), quarantined={"weather_forecasts": {_line(3): ("OUT_OF_RANGE", "precipitation_probability")}}),
    Fault("pings_fix_at_null_island", "pings", pings(lambda t: _set(_set(t, "lat", 5, 0.0), "lon", 5, 0.0)), quarantined={"pings": {6: ("BAD_COORDINATES", "lat/lon")}}),
    Fault("pings_fix_without_position", "pings", pings(lambda t: _set(t, "lat", 7, None)), quarantined={"pings": {8: ("BAD_COORDINATES", "lat/lon")}}),
    Fault("pings_unknown_vehicle", "pings", pings(lambda t: _set(t, "vehicle_id", 9, "V-GHOST")), quarantined={"pings": {10: ("UNKNOWN_VEHICLE", "vehicle_id")}}),
    Fault("pings_fix_without_timestamp", "pings", pings(lambda t: _set(t, "ts_utc", 11, None)), quarantined={"pings": {12: ("BAD_TIMESTAMP", "ts_utc")}}),
)  # fmt: skip
"""Every fault of the corpus. For pings the 'line' is the 1-based row of the Parquet file."""
