"""Writers for the execution data of the landing zone (docs/data_contract.md section 4).

Like :mod:`simulator.landing`, every file is written to a hidden temporary name in its folder and renamed
over the final name, and the bytes are a pure function of the input, so a re-run rewrites identical files.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from simulator.execution import EVENT_COLUMNS, RATING_COLUMNS, Execution
from simulator.landing import _FILE_MODE, _write_csv_atomic
from simulator.telematics import PING_COLUMNS
from simulator.weather import FORECAST_COLUMNS, OBSERVATION_COLUMNS, Weather

__all__ = ["PING_SCHEMA", "execution_paths", "write_execution"]

PING_SCHEMA = pa.schema(
    [
        ("vehicle_id", pa.string()),
        ("ts_utc", pa.timestamp("us", tz="UTC")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("speed_kmh", pa.float64()),
        ("heading_deg", pa.float64()),
    ]
)
"""Parquet schema of ``telematics/pings_YYYY-MM-DD.parquet``."""


def execution_paths(landing_dir: str | os.PathLike, service_date: dt.date) -> dict[str, Path]:
    """Paths of a date's execution files, by kind: pings, stop_events, ratings, weather, forecast."""
    root = Path(landing_dir)
    day = service_date.isoformat()
    return {
        "pings": root / "telematics" / f"pings_{day}.parquet",
        "stop_events": root / "events" / f"stop_events_{day}.csv",
        "ratings": root / "ratings" / f"ratings_{day}.csv",
        "weather": root / "weather" / f"weather_{day}.csv",
        "forecast": root / "weather" / f"forecast_{day}.csv",
    }


def write_execution(
    landing_dir: str | os.PathLike, service_date: dt.date, execution: Execution, weather: Weather
) -> list[Path]:
    """Write the execution files of one service date.

    Parameters
    ----------
    landing_dir : path-like
        Root of the landing zone; the ``telematics/``, ``events/``, ``ratings/`` and ``weather/`` folders
        are created if missing.
    service_date : datetime.date
        Names the files.
    execution : Execution
        From :func:`simulator.execute_plan`.
    weather : Weather
        From :func:`simulator.simulate_weather` for the same date.

    Returns
    -------
    list of pathlib.Path
        Pings, stop events, ratings, weather observations, forecast, in that order.

    Raises
    ------
    ValueError
        If the weather is of another date.
    """
    if weather.service_date != service_date:
        raise ValueError(f"weather is of {weather.service_date}, not {service_date}")
    paths = execution_paths(landing_dir, service_date)
    return [
        _write_parquet_atomic(
            pa.Table.from_pandas(execution.pings[list(PING_COLUMNS)], schema=PING_SCHEMA, preserve_index=False)
            .replace_schema_metadata(None),
            paths["pings"],
        ),
        _write_csv_atomic(execution.stop_events[list(EVENT_COLUMNS)], paths["stop_events"]),
        _write_csv_atomic(execution.ratings[list(RATING_COLUMNS)], paths["ratings"]),
        _write_csv_atomic(weather.observations[list(OBSERVATION_COLUMNS)], paths["weather"]),
        _write_csv_atomic(weather.forecast_next_day[list(FORECAST_COLUMNS)], paths["forecast"]),
    ]


def _write_parquet_atomic(table: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A dot-prefixed temporary name never matches an ingester's ``pings_*.parquet`` glob.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
