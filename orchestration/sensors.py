"""Triggers of a re-plan during the day (docs/replanning.md, section 4).

- ``order_changes_sensor``: a new ``order_changes_*.csv`` (reason ``new orders`` / ``cancellations`` /
  ``window changes``), or an ``events_*.csv`` with a ``breakdown`` (reason ``breakdown``) or else with a failed
  delivery of a reason the re-plan tries again the same day (``not_home``; reason ``failed delivery``), under
  ``landing/live/<date>/``;
- ``delay_sensor``: a new live state (``plans.live_vehicles``) in which a vehicle's re-timed ETAs miss their windows
  by more than ``$LASTMILE_DELAY_THRESHOLD_MIN`` minutes (default 15) in total (reason ``delay``), at most once per
  vehicle and 30 minutes of the day;
- ``weather_sensor``: a live weather drop (``weather_*.csv``) whose newest observation is worse than the forecast
  of its hour (heavy rain where the plan drove dry roads; reason ``weather``), once per date and condition;
- ``replan_request_sensor``: a request file of the app's "Re-plan now" button (``requests/replan_*.json`` under
  ``$LASTMILE_DATA_DIR``).

Each asks for one run of the ``replan`` job for the date. ``whatif_request_sensor`` asks for one run of the
``whatif`` job per what-if request of the scenario page (``requests/whatif_*.json``, docs/scenarios.md). A file
triggers once: the cursor holds the files seen (the live drops of the two newest dates, the request files still
present) and the run key names the file.
"""

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import dagster as dg
import duckdb as duckdb_client
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.jobs import replan_job, whatif_job
from orchestration.landing import live_drop_files
from orchestration.learning import WEATHER
from orchestration.live_state import has_stored_live_state
from orchestration.partitions import service_date_partitions
from orchestration.planning_inputs import has_table
from orchestration.requests import (
    ReplanRequest,
    pending_replan_requests,
    pending_whatif_requests,
    read_replan_request,
    read_whatif_request,
)
from orchestration.resources import LandingZone
from orchestration.scenarios import ScenarioSpec
from solver.replan import ReplanConfig

REPLAN_OP = "replan_plan"
WHATIF_OP = "whatif_plan"
DELAY_THRESHOLD_ENV = "LASTMILE_DELAY_THRESHOLD_MIN"
DEFAULT_DELAY_THRESHOLD_MIN = 15.0
DELAY_REPEAT_S = 30 * 60
"""A vehicle triggers a delay re-plan at most once in this long (of the day, by the live state's as_of)."""
RETRIED_FAILURES = ReplanConfig().retry_failed
"""Failure reasons a re-plan tries again the same day (the replan job's default rule): a failed delivery for one of
them triggers, so that the retry gets planned while its window is still open."""
LIVE_DATES_WATCHED = 2
"""The newest live dates the file sensor looks at: today's and, around midnight, yesterday's."""
CHANGE_REASONS = {"new": "new orders", "cancel": "cancellations", "window": "window changes"}
"""Reason of a re-plan by ``change_type`` of an order-changes file (several: joined in this order)."""
TRIGGER_TAG = "lastmile/trigger"
WEATHER_SEVERITY = {condition: rank for rank, condition in enumerate(WEATHER)}
"""How much a condition slows the roads, in the order of the travel model's conditions (dry, rain, heavy rain,
snow): a condition observed above its hour's forecast triggers."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def replan_run_request(
    service_date: str,
    reason: str,
    run_key: str,
    trigger: str,
    time_budget_s: float | None = None,
    tags: dict[str, str] | None = None,
) -> dg.RunRequest:
    """A RunRequest of the ``replan`` job for one date, with the reason (and budget) as the re-plan's config."""
    config: dict[str, object] = {"reason": reason}
    if time_budget_s is not None:
        config["time_budget_s"] = float(time_budget_s)
    return dg.RunRequest(
        run_key=run_key,
        partition_key=service_date,
        run_config={"ops": {REPLAN_OP: {"config": config}}},
        tags={TRIGGER_TAG: trigger, "lastmile/reason": reason, **(tags or {})},
    )


def _cursor(context: dg.SensorEvaluationContext) -> dict:
    return json.loads(context.cursor) if context.cursor else {}


def _is_partition(service_date: str) -> bool:
    return bool(_DATE.fullmatch(service_date)) and service_date_partitions.has_partition_key(service_date)


def change_reason(path: Path) -> str | None:
    """The re-plan reason of an order-changes file (its change types), None when it holds no known change."""
    changes = pd.read_csv(path, dtype=str, usecols=lambda c: c == "change_type")
    kinds = set(changes["change_type"].dropna().str.strip().str.lower()) if "change_type" in changes else set()
    reasons = [reason for kind, reason in CHANGE_REASONS.items() if kind in kinds]
    return ", ".join(reasons) or None


def read_events(path: Path) -> pd.DataFrame:
    """The columns of an events file the sensor judges by (``event_type``, ``vehicle_id``, ``order_id``,
    ``failure_reason``), as text, missing values as NaN."""
    wanted = ("event_type", "vehicle_id", "order_id", "failure_reason")
    return pd.read_csv(path, dtype=str, usecols=lambda c: c in wanted)


def breakdown_vehicles(events: pd.DataFrame) -> list[str]:
    """Vehicles an events file (:func:`read_events`) reports broken down (``event_type = breakdown``), sorted."""
    if "event_type" not in events:
        return []
    broken = events[events["event_type"].str.strip().str.lower() == "breakdown"]
    return sorted(set(broken.get("vehicle_id", pd.Series(dtype=str)).dropna()))


def retryable_failures(events: pd.DataFrame) -> list[str]:
    """Orders an events file (:func:`read_events`) reports failed (``event_type = failed``) for a reason in
    :data:`RETRIED_FAILURES`, sorted."""
    if not {"event_type", "order_id", "failure_reason"} <= set(events.columns):
        return []
    failed = events[
        (events["event_type"].str.strip().str.lower() == "failed")
        & events["failure_reason"].str.strip().str.lower().isin(RETRIED_FAILURES)
    ]
    return sorted(set(failed["order_id"].dropna()))


def _live_dates(live_dir: Path) -> list[str]:
    if not live_dir.is_dir():
        return []
    dates = sorted(p.name for p in live_dir.iterdir() if p.is_dir() and _DATE.fullmatch(p.name))
    return dates[-LIVE_DATES_WATCHED:]


@dg.sensor(
    job=replan_job,
    minimum_interval_seconds=30,
    description=(
        "Re-plan a date when a live drop brings order changes (new, cancelled, re-windowed), a breakdown, or a failed "
        "delivery that is tried again the same day."
    ),
)
def order_changes_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    """A RunRequest of ``replan`` per new ``order_changes_*.csv``, and per new ``events_*.csv`` with a breakdown
    or a retryable failed delivery, under ``landing/live/<date>/``; run key ``live/<date>/<file>``."""
    seen: dict[str, list[str]] = _cursor(context).get("seen", {})
    dates = _live_dates(landing.path / "live")
    requests = []
    for service_date in dates:
        done = set(seen.get(service_date, []))
        files = live_drop_files(landing.path, service_date)
        for path in [*files["order_changes"], *files["live_events"]]:
            if path.name in done:
                continue
            done.add(path.name)
            if not _is_partition(service_date):
                context.log.warning(f"{path}: {service_date} is not a service date of the pipeline; ignored")
                continue
            try:
                if path.name.startswith("order_changes_"):
                    reason, trigger = change_reason(path), "order_changes"
                else:
                    events = read_events(path)
                    if breakdown_vehicles(events):
                        reason, trigger = "breakdown", "breakdown"
                    else:
                        reason = "failed delivery" if retryable_failures(events) else None
                        trigger = "failed_delivery"
            except (ValueError, OSError) as error:  # pandas' parser errors are ValueErrors
                context.log.warning(f"{path}: not readable ({error}); ignored, the raw_live load will quarantine it")
                continue
            if reason:
                requests.append(replan_run_request(service_date, reason, f"live/{service_date}/{path.name}", trigger))
        seen[service_date] = sorted(done)
    cursor = json.dumps({"seen": {d: seen[d] for d in dates if d in seen}}, sort_keys=True)
    if not requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason("no new order changes, breakdowns or retryable failed deliveries"), cursor=cursor
        )
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def delay_threshold_s() -> int:
    """Total lateness of one vehicle's remaining stops above which it triggers a re-plan, seconds
    (``$LASTMILE_DELAY_THRESHOLD_MIN`` minutes, default 15)."""
    text = os.environ.get(DELAY_THRESHOLD_ENV, "").strip()
    try:
        minutes = float(text) if text else DEFAULT_DELAY_THRESHOLD_MIN
    except ValueError as error:
        raise ValueError(f"{DELAY_THRESHOLD_ENV} must be a number of minutes, got {text!r}") from error
    if minutes < 0:
        raise ValueError(f"{DELAY_THRESHOLD_ENV} must not be negative, got {minutes}")
    return round(minutes * 60)


def _late_vehicles(warehouse: str, threshold_s: int) -> list[tuple[str, int, str, int]]:
    """(service date, as_of_s, vehicle, late_s_total) of the vehicles above the threshold in the stored live states
    of the newest dates; empty without a live state."""
    with duckdb_client.connect(warehouse, read_only=True) as conn:
        if not has_stored_live_state(conn):
            return []
        rows = conn.execute(
            """select cast(service_date as varchar), as_of_s, vehicle_id, late_s_total
               from plans.live_vehicles
               where service_date in (
                   select distinct service_date from plans.live_vehicles order by service_date desc limit ?)
               and late_s_total > ?
               order by service_date, vehicle_id""",
            [LIVE_DATES_WATCHED, threshold_s],
        ).fetchall()
    return [(d, int(a), v, int(late)) for d, a, v, late in rows]


def _states(warehouse: str) -> dict[str, int]:
    """The as_of of the stored live state of the newest dates, by date."""
    with duckdb_client.connect(warehouse, read_only=True) as conn:
        if not has_stored_live_state(conn):
            return {}
        rows = conn.execute(
            "select cast(service_date as varchar), max(as_of_s) from plans.live_vehicles group by service_date "
            "order by service_date desc limit ?",
            [LIVE_DATES_WATCHED],
        ).fetchall()
    return {d: int(a) for d, a in rows}


def delay_requests(
    late: Iterable[tuple[str, int, str, int]], states: dict[str, int], cursor: dict
) -> tuple[list[dg.RunRequest], dict]:
    """The delay re-plans a set of live states asks for, and the cursor after them.

    A date's state is looked at once (its ``as_of`` in the cursor); a late vehicle counts if it has not triggered
    in the last :data:`DELAY_REPEAT_S` of the day. One RunRequest per date with such vehicles, run key
    ``delay/<date>/<as_of_s>``.
    """
    looked: dict[str, int] = cursor.get("as_of", {})
    triggered: dict[str, dict[str, int]] = cursor.get("triggered", {})
    late_by_date: dict[str, list[tuple[str, int]]] = {}
    for service_date, _as_of_s, vehicle_id, late_s in late:
        late_by_date.setdefault(service_date, []).append((vehicle_id, late_s))
    requests = []
    for service_date, as_of_s in sorted(states.items()):
        if looked.get(service_date) == as_of_s:
            continue
        looked[service_date] = as_of_s
        last = triggered.setdefault(service_date, {})
        due = [
            (vehicle_id, late_s)
            for vehicle_id, late_s in late_by_date.get(service_date, [])
            if vehicle_id not in last or not 0 <= as_of_s - last[vehicle_id] < DELAY_REPEAT_S
        ]
        if not due or not _is_partition(service_date):
            continue
        for vehicle_id, _ in due:
            last[vehicle_id] = as_of_s
        vehicles = ", ".join(f"{v} {late_s // 60} min" for v, late_s in due)
        requests.append(
            replan_run_request(
                service_date, "delay", f"delay/{service_date}/{as_of_s}", "delay", tags={"lastmile/late": vehicles}
            )
        )
    kept = set(states)
    cursor = {
        "as_of": {d: a for d, a in looked.items() if d in kept},
        "triggered": {d: t for d, t in triggered.items() if d in kept},
    }
    return requests, cursor


@dg.sensor(
    job=replan_job,
    minimum_interval_seconds=60,
    description="Re-plan a date when its live state shows a vehicle's remaining stops late by more than the threshold.",
)
def delay_sensor(context: dg.SensorEvaluationContext, duckdb: DuckDBResource):
    """After each new live state (``plans.live_vehicles``, written by the ``live_state`` asset): a RunRequest of
    ``replan`` (reason ``delay``) for a date where a vehicle's re-timed ETAs miss their windows by more than
    ``$LASTMILE_DELAY_THRESHOLD_MIN`` minutes in total, at most once per vehicle and 30 minutes."""
    warehouse = duckdb.database
    if not Path(warehouse).exists():
        return dg.SkipReason(f"no warehouse at {warehouse} yet")
    threshold_s = delay_threshold_s()
    try:
        states = _states(warehouse)
        late = _late_vehicles(warehouse, threshold_s) if states else []
    except duckdb_client.IOException as error:  # a run holds the warehouse's write lock: look again at the next tick
        return dg.SkipReason(f"warehouse busy: {error}")
    requests, cursor = delay_requests(late, states, _cursor(context))
    cursor_text = json.dumps(cursor, sort_keys=True)
    if not requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"no new live state with a vehicle over {threshold_s // 60} min late"),
            cursor=cursor_text,
        )
    return dg.SensorResult(run_requests=requests, cursor=cursor_text)


def newest_observation(paths: Iterable[Path]) -> tuple[str, str] | None:
    """(observed_at_utc, condition) of the newest observation in weather drop files; None when they hold none."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths]
    frames = [f for f in frames if {"observed_at_utc", "condition"} <= set(f.columns) and len(f)]
    if not frames:
        return None
    rows = pd.concat(frames, ignore_index=True)
    stamps = pd.to_datetime(rows["observed_at_utc"], utc=True, errors="coerce")
    known = rows["condition"].str.strip().str.lower().isin(list(WEATHER_SEVERITY)) & stamps.notna()
    if not known.any():
        return None
    newest = stamps[known].idxmax()
    return stamps[newest].strftime("%Y-%m-%dT%H:%M:%SZ"), rows.at[newest, "condition"].strip().lower()


def _forecast_condition(warehouse: str, observed_at_utc: str) -> str | None:
    """The newest forecast's condition for the hour of an observation (``staging.stg_weather_forecasts``)."""
    with duckdb_client.connect(warehouse, read_only=True) as conn:
        if not has_table(conn, "staging", "stg_weather_forecasts"):
            return None
        row = conn.execute(
            "select arg_max(condition, issued_at_utc) from staging.stg_weather_forecasts "
            "where valid_at_utc = cast(? as timestamptz)",
            [observed_at_utc],
        ).fetchone()
    return row[0] if row else None


def weather_request(
    service_date: str, observed: tuple[str, str], forecast: str | None, acted: str | None, drop_name: str
) -> tuple[dg.RunRequest | None, str | None]:
    """Whether a date's newest weather observation asks for a re-plan, and the condition acted on after it.

    It does when the observed condition is worse than the forecast of its hour (:data:`WEATHER_SEVERITY`; no
    forecast counts as dry) and is not the condition the date's last weather re-plan already acted on; the
    weather back at or below the forecast ends the episode (the next worse observation triggers again).
    Run key ``weather/<date>/<drop file>``.
    """
    observed_at, condition = observed
    expected = forecast if forecast in WEATHER_SEVERITY else "dry"
    if WEATHER_SEVERITY[condition] <= WEATHER_SEVERITY[expected]:
        return None, None
    if condition == acted:
        return None, acted
    request = replan_run_request(
        service_date,
        "weather",
        f"weather/{service_date}/{drop_name}",
        "weather",
        tags={"lastmile/weather": f"{condition} observed at {observed_at}, forecast {forecast or 'none'}"},
    )
    return request, condition


@dg.sensor(
    job=replan_job,
    minimum_interval_seconds=30,
    description="Re-plan a date when the live weather is worse than the forecast its plan drove on.",
)
def weather_sensor(context: dg.SensorEvaluationContext, landing: LandingZone, duckdb: DuckDBResource):
    """A RunRequest of ``replan`` (reason ``weather``) when a new ``weather_*.csv`` under ``landing/live/<date>/``
    brings an observation worse than the forecast of its hour (:func:`weather_request`). The re-plan then drives
    the next hours at the observed weather (``orchestration.planning_inputs.nowcast_by_hour``)."""
    cursor = _cursor(context)
    seen: dict[str, list[str]] = cursor.get("seen", {})
    acted: dict[str, str | None] = cursor.get("acted", {})
    dates = _live_dates(landing.path / "live")
    requests = []
    for service_date in dates:
        done = set(seen.get(service_date, []))
        new = [p for p in live_drop_files(landing.path, service_date)["live_weather"] if p.name not in done]
        if not new:
            continue
        try:
            observed = newest_observation(new)
        except (ValueError, OSError) as error:
            context.log.warning(f"{', '.join(map(str, new))}: not readable ({error}); the raw_live load will tell")
            observed = None
        if observed is not None and _is_partition(service_date):
            try:
                forecast = _forecast_condition(duckdb.database, observed[0]) if Path(duckdb.database).exists() else None
            except duckdb_client.IOException as error:  # a run holds the write lock: look again at the next tick
                return dg.SkipReason(f"warehouse busy: {error}")
            request, acted[service_date] = weather_request(
                service_date, observed, forecast, acted.get(service_date), new[-1].name
            )
            if request is not None:
                requests.append(request)
        seen[service_date] = sorted(done | {p.name for p in new})
    cursor_text = json.dumps(
        {"seen": {d: seen[d] for d in dates if d in seen}, "acted": {d: acted[d] for d in dates if d in acted}},
        sort_keys=True,
    )
    if not requests:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new weather worse than forecast"), cursor=cursor_text)
    return dg.SensorResult(run_requests=requests, cursor=cursor_text)


@dg.sensor(
    job=replan_job,
    minimum_interval_seconds=15,
    description="Re-plan a date when the app's 'Re-plan now' button asks for it (requests/replan_*.json).",
)
def replan_request_sensor(context: dg.SensorEvaluationContext):
    """A RunRequest of ``replan`` per new request file under ``$LASTMILE_DATA_DIR/requests/``, with the request's
    reason and time budget; run key ``request/<file>``."""
    data_dir = os.environ.get("LASTMILE_DATA_DIR")
    if not data_dir:
        return dg.SkipReason("LASTMILE_DATA_DIR is not set")
    return _request_runs(
        context,
        pending_replan_requests(data_dir),
        read_replan_request,
        lambda path, request: replan_run_request(
            request.service_date, request.reason, f"request/{path.name}", "request", request.time_budget_s
        ),
        "no new re-plan request",
    )


def _request_runs(
    context: dg.SensorEvaluationContext,
    files: list[Path],
    read: Callable[[Path], ReplanRequest | ScenarioSpec],
    run_request: Callable[[Path, ReplanRequest | ScenarioSpec], dg.RunRequest],
    nothing_new: str,
) -> dg.SensorResult:
    """One RunRequest per request file not seen before (a file ``read`` rejects, or of a date that is no partition,
    is logged and skipped); the cursor keeps the names of the files still present, so a cleaned-up folder does not
    keep it growing."""
    done = set(_cursor(context).get("seen", []))
    requests = []
    for path in files:
        if path.name in done:
            continue
        done.add(path.name)
        try:
            request = read(path)
        except ValueError as error:
            context.log.warning(f"{error}; ignored")
            continue
        if not _is_partition(request.service_date):
            context.log.warning(f"{path.name}: {request.service_date} is not a service date of the pipeline; ignored")
            continue
        requests.append(run_request(path, request))
    cursor = json.dumps({"seen": sorted(done & {p.name for p in files})})
    if not requests:
        return dg.SensorResult(skip_reason=dg.SkipReason(nothing_new), cursor=cursor)
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def whatif_run_request(spec: ScenarioSpec, run_key: str, trigger: str = "request") -> dg.RunRequest:
    """A RunRequest of the ``whatif`` job for the spec's date, the spec's fields as the ``whatif_plan`` config."""
    return dg.RunRequest(
        run_key=run_key,
        partition_key=spec.service_date,
        run_config={"ops": {WHATIF_OP: {"config": spec.as_dict()}}},
        tags={TRIGGER_TAG: trigger, "lastmile/scenario": spec.name[:200]},
    )


@dg.sensor(
    job=whatif_job,
    minimum_interval_seconds=15,
    description="Plan a what-if scenario when the app's scenario page asks for one (requests/whatif_*.json).",
)
def whatif_request_sensor(context: dg.SensorEvaluationContext):
    """A RunRequest of ``whatif`` per new request file ``whatif_*.json`` under ``$LASTMILE_DATA_DIR/requests/``,
    with the scenario as run config; run key ``whatif/<file>``. A file that is not a valid scenario is logged and
    skipped."""
    data_dir = os.environ.get("LASTMILE_DATA_DIR")
    if not data_dir:
        return dg.SkipReason("LASTMILE_DATA_DIR is not set")
    return _request_runs(
        context,
        pending_whatif_requests(data_dir),
        read_whatif_request,
        lambda path, spec: whatif_run_request(spec, f"whatif/{path.name}"),
        "no new what-if request",
    )
