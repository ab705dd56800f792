"""Resolve the published serving snapshot (data contract, section 3).

The publisher writes a complete ``snapshots/<snapshot_id>/`` directory and then swaps the ``CURRENT`` file to
name it, so a reader that resolves ``CURRENT`` once and keeps the directory sees one consistent snapshot.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SERVING_DIR_ENV = "LASTMILE_SERVING_DIR"
DEFAULT_SERVING_DIR = Path(__file__).resolve().parents[1] / "data" / "serving"
TABLES = ("depots", "plan_runs", "planned_routes", "planned_stops", "unassigned", "plan_kpis")
# Execution data (contract, section 4): a snapshot published before any day was played out, or by an older
# publisher, lacks these files, and readers treat a missing one as an empty table.
OPTIONAL_TABLES = ("deliveries", "route_days", "delivery_kpis", "driven_paths")
# Data health (contract, section 3): present once the warehouse has an ingest log, quarantine tables or data
# checks; readers treat a missing one as an empty table too.
DATA_HEALTH_TABLES = ("ingest_log", "quarantined_rows", "data_checks")


class SnapshotUnavailableError(LookupError):
    """No usable snapshot: nothing published yet, or ``CURRENT`` names something that is not there.

    The message is written for the person looking at the dashboard: it says what to run.
    """


@dataclass(frozen=True)
class Snapshot:
    """One published serving snapshot.

    Attributes
    ----------
    snapshot_id : str
        Name of the snapshot directory, as written in ``CURRENT``.
    path : Path
        The snapshot directory.
    created_at_utc : str
        When the snapshot was published (ISO 8601 UTC, from ``manifest.json``).
    service_dates : tuple of str
        Service dates the snapshot covers (``YYYY-MM-DD``, from ``manifest.json``).
    """

    snapshot_id: str
    path: Path
    created_at_utc: str
    service_dates: tuple[str, ...]

    @property
    def key(self) -> str:
        """Cache key for query results: the snapshot directory, which embeds the snapshot id.

        A snapshot directory is never rewritten after publication, so results keyed by it stay valid, and a
        new publish gives a new key.
        """
        return str(self.path)


def serving_dir() -> Path:
    """The serving directory: ``$LASTMILE_SERVING_DIR`` (read per call), else the repo's ``data/serving``."""
    configured = os.environ.get(SERVING_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_SERVING_DIR


def current_snapshot(directory: Path | None = None) -> Snapshot:
    """Resolve the snapshot that ``CURRENT`` points at.

    Parameters
    ----------
    directory : Path, optional
        Serving directory; defaults to :func:`serving_dir`.

    Returns
    -------
    Snapshot

    Raises
    ------
    SnapshotUnavailableError
        If nothing has been published yet or the published snapshot is incomplete.
    """
    root = directory if directory is not None else serving_dir()
    pointer = root / "CURRENT"
    if not pointer.is_file():
        raise SnapshotUnavailableError(
            f"No plan has been published yet: there is no snapshot pointer at {pointer}. "
            "Run `make run` to build the demo world, plan the next service date and publish it, "
            f"or set {SERVING_DIR_ENV} to the serving directory of an existing pipeline."
        )
    snapshot_id = pointer.read_text(encoding="utf-8").strip()
    if not snapshot_id or Path(snapshot_id).name != snapshot_id or snapshot_id in {".", ".."}:
        raise SnapshotUnavailableError(
            f"{pointer} does not name a snapshot directory (found {snapshot_id!r}). "
            "Run `make run` to publish a fresh snapshot."
        )
    path = root / "snapshots" / snapshot_id
    manifest_path = path / "manifest.json"
    missing = [f"{name}.parquet" for name in TABLES if not (path / f"{name}.parquet").is_file()]
    if not manifest_path.is_file():
        missing.insert(0, "manifest.json")
    if missing:
        raise SnapshotUnavailableError(
            f"Snapshot {snapshot_id!r} in {root} is incomplete (missing {', '.join(missing)}). "
            "Run `make run` to publish a fresh snapshot."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SnapshotUnavailableError(
            f"Snapshot {snapshot_id!r} has an unreadable manifest.json ({exc}). "
            "Run `make run` to publish a fresh snapshot."
        ) from exc
    return Snapshot(
        snapshot_id=snapshot_id,
        path=path,
        created_at_utc=str(manifest.get("created_at_utc", "")),
        service_dates=tuple(str(d) for d in manifest.get("service_dates", [])),
    )


def table_path(snapshot_key: str, table: str) -> str:
    """Path of one Parquet table in a snapshot directory.

    Raises
    ------
    ValueError
        If ``table`` is not one of the contract's serving tables, optional execution tables or data-health tables.
    """
    known_tables = (*TABLES, *OPTIONAL_TABLES, *DATA_HEALTH_TABLES)
    if table not in known_tables:
        known = ", ".join(known_tables)
        raise ValueError(f"unknown serving table {table!r}; expected one of {known}")
    return str(Path(snapshot_key) / f"{table}.parquet")


def has_table(snapshot_key: str, table: str) -> bool:
    """Whether the snapshot holds ``table`` (always true for the required tables of a resolved snapshot)."""
    return Path(table_path(snapshot_key, table)).is_file()
