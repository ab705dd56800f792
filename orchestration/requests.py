"""Requests: how the app asks the pipeline for work without writing the warehouse.

The app's "Re-plan now" button writes ``requests/replan_<date>_<utc>.json`` under the data folder
(docs/replanning.md, section 4); the ``replan_request_sensor`` turns each file into one run of the ``replan`` job.
The scenario page writes ``requests/whatif_<date>_<utc>.json`` (docs/scenarios.md); the ``whatif_request_sensor``
turns each into one run of the ``whatif`` job. A request file is written once (temporary name, then rename), so
the sensor never reads half a file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestration.scenarios import ScenarioSpec

REQUESTS_DIR = "requests"
"""Folder of the request files, under the data folder (``$LASTMILE_DATA_DIR``)."""
_PREFIX = "replan_"
_WHATIF_PREFIX = "whatif_"


@dataclass(frozen=True)
class ReplanRequest:
    """One request file: which date to re-plan, why, and with what solver budget."""

    path: Path
    service_date: str
    reason: str
    requested_at_utc: str
    time_budget_s: float


def write_replan_request(data_dir: str | Path, service_date: str, reason: str, time_budget_s: float = 10.0) -> Path:
    """Ask for a re-plan of ``service_date``: write one request file atomically.

    Parameters
    ----------
    data_dir
        The data folder (``$LASTMILE_DATA_DIR``); the file goes to its ``requests/`` folder.
    service_date
        ISO date (``YYYY-MM-DD``) to re-plan.
    reason
        Why, in words (shown with the plan version, e.g. ``dispatcher: van 3 stuck in traffic``).
    time_budget_s
        Solver time budget per depot, seconds (> 0).

    Returns
    -------
    Path
        The request file, ``requests/replan_<date>_<utc>.json``.

    Raises
    ------
    ValueError
        If the date is not an ISO date or the budget is not positive.
    """
    dt.date.fromisoformat(service_date)  # raises ValueError on anything but YYYY-MM-DD
    if not time_budget_s > 0:
        raise ValueError(f"time_budget_s must be positive, got {time_budget_s}")
    now = dt.datetime.now(dt.UTC)
    folder = Path(data_dir) / REQUESTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    body = {
        "service_date": service_date,
        "reason": reason,
        "requested_at_utc": now.isoformat().replace("+00:00", "Z"),
        "time_budget_s": float(time_budget_s),
    }
    return _write_atomically(folder, f"{_PREFIX}{service_date}", body, now)


def _write_atomically(folder: Path, stem: str, body: dict, now: dt.datetime) -> Path:
    """Write ``body`` as ``<stem>_<utc>.json`` under ``folder``: a temporary file, synced, then renamed."""
    # Microseconds in the name: two clicks in the same second are two requests.
    target = folder / f"{stem}_{now.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    prefix = "." + stem.split("_", 1)[0] + "."
    with tempfile.NamedTemporaryFile("w", dir=folder, prefix=prefix, suffix=".tmp", delete=False) as handle:
        json.dump(body, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, target)
    return target


def read_replan_request(path: Path) -> ReplanRequest:
    """Read one request file.

    Raises
    ------
    ValueError
        If the file is not a request (not JSON, no service date, a bad budget).
    """
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        service_date = str(body["service_date"])
        dt.date.fromisoformat(service_date)
        time_budget_s = float(body.get("time_budget_s", 10.0))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path.name} is not a re-plan request: {error}") from error
    if not time_budget_s > 0:
        raise ValueError(f"{path.name}: time_budget_s must be positive, got {time_budget_s}")
    return ReplanRequest(
        path=path,
        service_date=service_date,
        reason=str(body.get("reason") or "requested"),
        requested_at_utc=str(body.get("requested_at_utc", "")),
        time_budget_s=time_budget_s,
    )


def pending_replan_requests(data_dir: str | Path) -> list[Path]:
    """The request files under ``data_dir/requests/``, oldest name first (the sensor keeps its own cursor).

    Temporary files of a write in progress are not listed.
    """
    return _pending(data_dir, _PREFIX)


def _pending(data_dir: str | Path, prefix: str) -> list[Path]:
    folder = Path(data_dir) / REQUESTS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{prefix}*.json") if p.is_file())


def write_whatif_request(data_dir: str | Path, spec: ScenarioSpec) -> Path:
    """Ask for a what-if plan: write the scenario as one request file, atomically.

    Parameters
    ----------
    data_dir
        The data folder (``$LASTMILE_DATA_DIR``); the file goes to its ``requests/`` folder.
    spec
        The scenario (validated here).

    Returns
    -------
    Path
        The request file, ``requests/whatif_<date>_<utc>.json``: the spec's fields (:meth:`ScenarioSpec.as_dict`)
        and ``requested_at_utc``.

    Raises
    ------
    ValueError
        If the spec is invalid (naming the field).
    """
    spec.validate()
    now = dt.datetime.now(dt.UTC)
    folder = Path(data_dir) / REQUESTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    body = {**spec.as_dict(), "requested_at_utc": now.isoformat().replace("+00:00", "Z")}
    return _write_atomically(folder, f"{_WHATIF_PREFIX}{spec.service_date}", body, now)


def read_whatif_request(path: Path) -> ScenarioSpec:
    """Read one what-if request file back into its scenario.

    Raises
    ------
    ValueError
        If the file is not a what-if request (not JSON, not an object, a missing or bad field).
    """
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as error:
        raise ValueError(f"{Path(path).name} is not a what-if request: {error}") from error
    if not isinstance(body, dict):
        raise ValueError(f"{Path(path).name} is not a what-if request: not a JSON object")
    body.pop("requested_at_utc", None)
    try:
        return ScenarioSpec.from_dict(body)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{Path(path).name} is not a valid what-if request: {error}") from error


def pending_whatif_requests(data_dir: str | Path) -> list[Path]:
    """The what-if request files under ``data_dir/requests/``, oldest name first; temporary files not listed."""
    return _pending(data_dir, _WHATIF_PREFIX)
