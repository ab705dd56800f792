"""Writers for the landing zone (docs/data_contract.md section 1): master data and daily order files.

Files are written atomically: the content goes to a hidden temporary file in the target folder, which is
then renamed over the final name, so an ingester never sees a half-written file. The output is a pure
function of its input, so re-writing a file gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pandas as pd

from simulator.orders import ORDER_COLUMNS, generate_orders
from simulator.world import World

__all__ = [
    "DEPOT_COLUMNS",
    "VEHICLE_COLUMNS",
    "VEHICLE_TYPE_COLUMNS",
    "orders_path",
    "write_master_data",
    "write_orders",
]

DEPOT_COLUMNS: tuple[str, ...] = (
    "depot_id", "name", "street", "postcode", "town", "lat", "lon", "opens", "closes", "timezone", "reload_min",
)
VEHICLE_TYPE_COLUMNS: tuple[str, ...] = (
    "vehicle_type", "description", "capacity_kg", "capacity_l", "avg_speed_kmh", "cost_per_km_eur",
    "cost_per_hour_eur", "cost_per_day_eur", "skills", "capacity_parcels", "max_reloads", "max_route_km",
    "max_route_hours", "max_overtime_min", "overtime_cost_per_hour_eur", "break_min", "break_after_h",
)
_FILE_MODE = 0o644

VEHICLE_COLUMNS: tuple[str, ...] = (
    "vehicle_id", "depot_id", "vehicle_type", "shift_start", "shift_end", "work_days", "start_depot_id",
    "end_depot_id",
)


def orders_path(landing_dir: str | os.PathLike, service_date: dt.date) -> Path:
    """Path of the order file of a service date: ``<landing>/orders/orders_YYYY-MM-DD.csv``."""
    return Path(landing_dir) / "orders" / f"orders_{service_date.isoformat()}.csv"


def write_master_data(world: World, landing_dir: str | os.PathLike) -> list[Path]:
    """Write ``master/depots.csv``, ``master/vehicle_types.csv`` and ``master/vehicles.csv``.

    Parameters
    ----------
    world : World
        The world whose fleet master data to write.
    landing_dir : path-like
        Root of the landing zone; ``master/`` is created if missing.

    Returns
    -------
    list of pathlib.Path
        The three files, in the order above.
    """
    master = Path(landing_dir) / "master"
    depots = pd.DataFrame([_fields(d, DEPOT_COLUMNS) for d in world.depots], columns=list(DEPOT_COLUMNS))
    vehicle_types = pd.DataFrame(
        [{**_fields(vt, VEHICLE_TYPE_COLUMNS), "skills": " ".join(vt.skills)} for vt in world.vehicle_types],
        columns=list(VEHICLE_TYPE_COLUMNS),
    ).astype({"capacity_parcels": "Int64"})  # whole parcels; empty = no limit (not "200.0" and "nan")
    vehicles = pd.DataFrame(
        [{**_fields(v, VEHICLE_COLUMNS), "work_days": " ".join(v.work_days)} for v in world.vehicles],
        columns=list(VEHICLE_COLUMNS),
    )
    return [
        _write_csv_atomic(depots, master / "depots.csv"),
        _write_csv_atomic(vehicle_types, master / "vehicle_types.csv"),
        _write_csv_atomic(vehicles, master / "vehicles.csv"),
    ]


def write_orders(
    world: World, service_date: dt.date, landing_dir: str | os.PathLike, seed: int
) -> Path:
    """Generate the orders of one service date and write ``orders/orders_YYYY-MM-DD.csv``.

    A date without orders (a Sunday, usually) still gets a file with the header only, so the ingester can
    tell "no orders" from "file not delivered yet".

    Parameters
    ----------
    world : World
        The demo world.
    service_date : datetime.date
        The service date; it names the file.
    landing_dir : path-like
        Root of the landing zone; ``orders/`` is created if missing.
    seed : int
        Seed for :func:`simulator.generate_orders`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    frame = generate_orders(world, service_date, seed)
    return _write_csv_atomic(frame[list(ORDER_COLUMNS)], orders_path(landing_dir, service_date))


def _fields(record: object, columns: tuple[str, ...]) -> dict[str, object]:
    return {col: getattr(record, col) for col in columns}


def _write_csv_atomic(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="")
    # A dot-prefixed temporary name never matches an ingester's ``orders_*.csv`` glob.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file private (0600); landing files are meant to be read by other processes.
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
