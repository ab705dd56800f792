"""Pure builders for the Data health page: display tables, tile figures and ages, from query results.

Nothing here imports Streamlit or touches the snapshot. Sources are raw table names (``orders``,
``stop_events``, ...) and are shown by :func:`source_label`; times arrive in UTC and are shown local.
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from dashboard.layers import format_published

SOURCE_LABELS = {
    "depots": "Depots",
    "vehicle_types": "Vehicle types",
    "vehicles": "Vehicles",
    "orders": "Orders",
    "stop_events": "Stop events",
    "ratings": "Ratings",
    "weather_observations": "Weather observations",
    "weather_forecasts": "Weather forecasts",
    "pings": "Telematics pings",
}
SEVERITY_LABELS = {"critical": "Critical", "warning": "Warning"}

LOAD_TABLE_COLUMNS = ("Source", "File", "Loaded", "Accepted", "Quarantined", "Quarantined (%)", "Loaded at")
QUARANTINE_TABLE_COLUMNS = ("Source", "File", "Line", "Field", "Reason code", "Reason", "Line in the file")
REASON_TABLE_COLUMNS = ("Reason code", "Meaning", "Rows", "Sources")
CHECK_TABLE_COLUMNS = ("Severity", "Result", "Check", "Source", "Failed", "Expectations", "Message", "Data Docs")
FRESHNESS_TABLE_COLUMNS = ("Source", "Last load", "Age", "Last service date", "File", "Dates loaded")


def _missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _count(value: Any) -> int:
    return 0 if _missing(value) else int(value)


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def source_label(source: Any) -> str:
    """A raw table name for display: ``stop_events`` -> ``Stop events``; unknown names are spelled out."""
    name = _text(source)
    return SOURCE_LABELS.get(name, name.replace("_", " ").capitalize())


def format_age(age: dt.timedelta | pd.Timedelta | None) -> str:
    """A duration as ``45 s``, ``12 min``, ``3 h 05 min`` or ``2 d 4 h``; missing gives ``–``."""
    if _missing(age):
        return "–"
    seconds = max(0, int(pd.Timedelta(age).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def data_docs_url(path: Any) -> str | None:
    """A link to the Great Expectations Data Docs: web addresses as they are, absolute paths as ``file://``."""
    text = _text(path).strip()
    if not text:
        return None
    if text.startswith(("http://", "https://", "file://")):
        return text
    posix = PurePosixPath(text)
    return posix.as_uri() if posix.is_absolute() else text


def _loaded(loads: pd.DataFrame) -> pd.Series:
    # loaded = accepted + quarantined by definition; the ingest log states it, the sum stands in when it is absent.
    summed = loads["accepted_rows"].fillna(0).astype(int) + loads["quarantined_rows"].fillna(0).astype(int)
    return loads["loaded_rows"].fillna(summed).astype(int)


def load_table(loads: pd.DataFrame, *, with_dates: bool = False) -> pd.DataFrame:
    """One row per source file load (from :func:`dashboard.queries.loads`): rows loaded, accepted and quarantined;
    ``with_dates`` puts the service date first (for loads of several dates)."""
    loaded = _loaded(loads)
    quarantined = loads["quarantined_rows"].fillna(0).astype(int)
    table = pd.DataFrame(
        {
            "Source": [source_label(s) for s in loads["source"]],
            "File": [_text(f) for f in loads["source_file"]],
            "Loaded": loaded.to_list(),
            "Accepted": loads["accepted_rows"].fillna(0).astype(int).to_list(),
            "Quarantined": quarantined.to_list(),
            "Quarantined (%)": [round(q / n * 100, 1) if n else None for q, n in zip(quarantined, loaded, strict=True)],
            "Loaded at": [format_published(t) for t in loads["loaded_at_utc"]],
        },
        columns=list(LOAD_TABLE_COLUMNS),
    )
    if with_dates:
        table.insert(0, "Service date", [pd.Timestamp(d).date().isoformat() for d in loads["service_date"]])
    return table


def unbalanced_loads(loads: pd.DataFrame) -> list[str]:
    """Loads whose loaded rows differ from accepted + quarantined, as ``Source (file): n loaded, ...`` lines."""
    problems = []
    for row, loaded in zip(loads.itertuples(index=False), _loaded(loads), strict=True):
        accepted, quarantined = _count(row.accepted_rows), _count(row.quarantined_rows)
        if loaded != accepted + quarantined:
            problems.append(
                f"{source_label(row.source)} ({_text(row.source_file)}): {loaded:,} loaded, "
                f"{accepted:,} accepted, {quarantined:,} quarantined"
            )
    return problems


def quarantine_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Rejected source rows (from :func:`dashboard.queries.quarantined_rows`): file, line, field, reason and the
    line as it was in the file."""
    return pd.DataFrame(
        {
            "Source": [source_label(s) for s in rows["source"]],
            "File": [_text(f) for f in rows["source_file"]],
            "Line": [_count(n) for n in rows["line"]],
            "Field": [_text(f) or "(whole line)" for f in rows["field"]],
            "Reason code": [_text(c) for c in rows["reason_code"]],
            "Reason": [_text(r) for r in rows["reason"]],
            "Line in the file": [_text(r) for r in rows["raw_line"]],
        },
        columns=list(QUARANTINE_TABLE_COLUMNS),
    )


def reason_table(reasons: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per reason code (from :func:`dashboard.queries.quarantine_reasons`) with its meaning."""
    return pd.DataFrame(
        {
            "Reason code": [_text(c) for c in reasons["reason_code"]],
            "Meaning": [_text(d) for d in reasons["reason_description"]],
            "Rows": [_count(n) for n in reasons["rows"]],
            "Sources": [", ".join(source_label(s) for s in names) for names in reasons["sources"]],
        },
        columns=list(REASON_TABLE_COLUMNS),
    )


def failing_checks(checks: pd.DataFrame) -> pd.DataFrame:
    """The checks (from :func:`dashboard.queries.data_checks`) that did not pass; a missing result counts as
    failed, since nothing shows the data is fine."""
    failed = [_missing(passed) or not bool(passed) for passed in checks["passed"]]
    return checks.loc[pd.Series(failed, index=checks.index, dtype=bool)]


def check_table(checks: pd.DataFrame) -> pd.DataFrame:
    """Data checks for display, in the query's order: severity, result, counts, message and Data Docs link."""
    return pd.DataFrame(
        {
            "Severity": [SEVERITY_LABELS.get(_text(s), _text(s).capitalize()) for s in checks["severity"]],
            "Result": ["Passed" if not _missing(p) and bool(p) else "Failed" for p in checks["passed"]],
            "Check": [_text(c) for c in checks["check_name"]],
            "Source": [source_label(s) for s in checks["table_name"]],
            "Failed": [_count(n) for n in checks["failed_expectations"]],
            "Expectations": [_count(n) for n in checks["evaluated_expectations"]],
            "Message": [_text(m) for m in checks["message"]],
            "Data Docs": [data_docs_url(p) for p in checks["data_docs_path"]],
        },
        columns=list(CHECK_TABLE_COLUMNS),
    )


def check_counts(checks: pd.DataFrame) -> dict[str, int]:
    """``checks``, ``failing`` and the failing ones by severity (``critical``, ``warning``)."""
    failing = failing_checks(checks)
    severity = failing["severity"].astype(str)
    return {
        "checks": len(checks),
        "failing": len(failing),
        "critical": int((severity == "critical").sum()),
        "warning": int((severity == "warning").sum()),
    }


def load_totals(loads: pd.DataFrame) -> dict[str, int]:
    """``sources``, ``loaded``, ``accepted`` and ``quarantined`` rows over the loads given."""
    return {
        "sources": int(loads["source"].nunique()),
        "loaded": int(_loaded(loads).sum()),
        "accepted": int(loads["accepted_rows"].fillna(0).astype(int).sum()),
        "quarantined": int(loads["quarantined_rows"].fillna(0).astype(int).sum()),
    }


def freshness_table(freshness: pd.DataFrame, now_utc: dt.datetime) -> pd.DataFrame:
    """One row per source (from :func:`dashboard.queries.freshness`): last load (local), its age at
    ``now_utc``, the newest service date loaded and its file."""
    now = pd.Timestamp(now_utc)
    now = now.tz_localize("UTC") if now.tzinfo is None else now

    def age(loaded_at: Any) -> str:
        if _missing(loaded_at):
            return "–"
        stamp = pd.Timestamp(loaded_at)
        return format_age(now - (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp))

    return pd.DataFrame(
        {
            "Source": [source_label(s) for s in freshness["source"]],
            "Last load": [format_published(t) for t in freshness["last_loaded_at_utc"]],
            "Age": [age(t) for t in freshness["last_loaded_at_utc"]],
            "Last service date": [
                "" if _missing(d) else pd.Timestamp(d).date().isoformat() for d in freshness["last_service_date"]
            ],
            "File": [_text(f) for f in freshness["last_source_file"]],
            "Dates loaded": [_count(n) for n in freshness["dates_loaded"]],
        },
        columns=list(FRESHNESS_TABLE_COLUMNS),
    )


# Columns of plan_runs beyond the contract's (the pipeline's publisher writes them): shown when present.
_PLAN_RUN_EXTRAS = {
    "status": "Status",
    "n_orders": "Orders",
    "n_assigned": "Assigned",
    "n_unassigned": "Unassigned",
}


def plan_runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Plan runs (from :func:`dashboard.queries.latest_plan_runs`) for display, newest first."""
    table = pd.DataFrame(
        {
            "Created": [format_published(t) for t in runs["created_at_utc"]],
            "Service date": [pd.Timestamp(d).date().isoformat() for d in runs["service_date"]],
            "Plan": [f"{kind} v{_count(version)}" for kind, version in zip(runs["kind"], runs["version"], strict=True)],
            "Current": [not _missing(c) and bool(c) for c in runs["is_current"]],
        }
    )
    for column, title in _PLAN_RUN_EXTRAS.items():
        if column in runs.columns:
            table[title] = [_text(v) if column == "status" else _count(v) for v in runs[column]]
    table["Runtime (s)"] = [None if _missing(v) else round(float(v), 1) for v in runs["runtime_s"]]
    table["Budget (s)"] = [None if _missing(v) else round(float(v), 1) for v in runs["time_budget_s"]]
    table["Seed"] = [_count(v) for v in runs["seed"]]
    return table
