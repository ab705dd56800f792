"""Fixtures for the dashboard tests: a serving snapshot on disk, a Streamlit server and a Chromium page.

``write_snapshot`` writes any set of serving tables in the layout of the data contract (section 3), so other
suites can build a snapshot without the pipeline. ``streamlit_server`` and ``chromium_page`` are reusable for
browser tests against any serving directory, including one the real pipeline published.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.serving import publish_snapshot

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_PATH = REPO_ROOT / "dashboard" / "app.py"
TRACKING_APP = REPO_ROOT / "dashboard" / "tracking_app.py"


def app_test(script: Path = APP_PATH, timeout_s: float = 30) -> AppTest:
    """An in-process test of the Streamlit app ``script`` (not yet run), with the garbage of earlier tests
    collected first, on this thread.

    AppTest runs the script on a thread of its own, and Streamlit parses each page there (``ast.parse``, for its
    "magic"). A collection that starts during that parse can run a finaliser that parses too: SQLAlchemy logs a
    connection that an earlier test's Dagster instance left behind, with a traceback, and Python 3.11's traceback
    parses source lines for its carets. The nested parse resets the AST constructor's depth count, and the page
    fails with ``SystemError: AST constructor recursion depth mismatch`` (CPython 3.11; a CI run failed on it).
    """
    gc.collect()
    return AppTest.from_file(str(script), default_timeout=timeout_s)


CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]

_UTC_TS = pa.timestamp("us", tz="UTC")
# Column names and Arrow types of every serving table, in the contract's order.
SERVING_SCHEMAS: dict[str, pa.Schema] = {
    "depots": pa.schema(
        [("depot_id", pa.string()), ("name", pa.string()), ("lat", pa.float64()), ("lon", pa.float64())]
    ),
    "plan_runs": pa.schema(
        [
            ("plan_id", pa.string()),
            ("service_date", pa.date32()),
            ("kind", pa.string()),
            ("version", pa.int64()),
            ("created_at_utc", _UTC_TS),
            ("seed", pa.int64()),
            ("time_budget_s", pa.float64()),
            ("runtime_s", pa.float64()),
            ("objective", pa.float64()),
            ("is_current", pa.bool_()),
        ]
    ),
    "planned_routes": pa.schema(
        [
            ("plan_id", pa.string()),
            ("service_date", pa.date32()),
            ("depot_id", pa.string()),
            ("route_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("vehicle_type", pa.string()),
            ("n_stops", pa.int64()),
            ("start_s", pa.int64()),
            ("end_s", pa.int64()),
            ("distance_m", pa.int64()),
            ("duration_s", pa.int64()),
            ("weight_g", pa.int64()),
            ("volume_cm3", pa.int64()),
            ("cost_eur", pa.float64()),
        ]
    ),
    "planned_stops": pa.schema(
        [
            ("plan_id", pa.string()),
            ("service_date", pa.date32()),
            ("depot_id", pa.string()),
            ("route_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("sequence", pa.int64()),
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("street", pa.string()),
            ("postcode", pa.string()),
            ("town", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("tw_start_s", pa.int64()),
            ("tw_end_s", pa.int64()),
            ("arrival_s", pa.int64()),
            ("service_start_s", pa.int64()),
            ("departure_s", pa.int64()),
            ("wait_s", pa.int64()),
            ("parcels", pa.int64()),
            ("weight_g", pa.int64()),
            ("volume_cm3", pa.int64()),
            ("notes", pa.string()),
        ]
    ),
    "unassigned": pa.schema(
        [
            ("plan_id", pa.string()),
            ("service_date", pa.date32()),
            ("depot_id", pa.string()),
            ("order_id", pa.string()),
            ("street", pa.string()),
            ("postcode", pa.string()),
            ("town", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("reason_code", pa.string()),
            ("reason", pa.string()),
        ]
    ),
    "plan_kpis": pa.schema(
        [
            ("service_date", pa.date32()),
            ("depot_id", pa.string()),
            ("plan_id", pa.string()),
            ("routes", pa.int64()),
            ("stops", pa.int64()),
            ("distance_km", pa.float64()),
            ("duration_h", pa.float64()),
            ("cost_eur", pa.float64()),
            ("cost_per_delivery_eur", pa.float64()),
            ("unassigned", pa.int64()),
        ]
    ),
}


# The optional execution tables (contract, section 4): written only when a test passes them.
EXECUTION_SCHEMAS: dict[str, pa.Schema] = {
    "deliveries": pa.schema(
        [
            ("service_date", pa.date32()),
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("depot_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("driver_id", pa.string()),
            ("route_id", pa.string()),
            ("postcode", pa.string()),
            ("town", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("tw_start_s", pa.int64()),
            ("tw_end_s", pa.int64()),
            ("is_all_day", pa.bool_()),
            ("planned_arrival_s", pa.int64()),
            ("actual_arrival_s", pa.int64()),
            ("actual_departure_s", pa.int64()),
            ("eta_error_s", pa.int64()),
            ("is_on_time", pa.bool_()),
            ("minutes_late", pa.float64()),
            ("outcome", pa.string()),
            ("failure_reason", pa.string()),
            ("attempt", pa.int64()),
            ("is_first_attempt_success", pa.bool_()),
            ("rating", pa.int64()),
            ("late_cause", pa.string()),
        ]
    ),
    "route_days": pa.schema(
        [
            ("service_date", pa.date32()),
            ("depot_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("vehicle_type", pa.string()),
            ("driver_id", pa.string()),
            ("route_id", pa.string()),
            ("planned_km", pa.float64()),
            ("actual_km", pa.float64()),
            ("planned_start_s", pa.int64()),
            ("planned_end_s", pa.int64()),
            ("actual_start_s", pa.int64()),
            ("actual_end_s", pa.int64()),
            ("departure_delay_min", pa.float64()),
            ("driving_h", pa.float64()),
            ("service_h", pa.float64()),
            ("idle_h", pa.float64()),
            ("shift_h", pa.float64()),
            ("stops_planned", pa.int64()),
            ("stops_attempted", pa.int64()),
            ("delivered", pa.int64()),
            ("failed", pa.int64()),
            ("planned_cost_eur", pa.float64()),
            ("actual_cost_eur", pa.float64()),
        ]
    ),
    "delivery_kpis": pa.schema(
        [
            ("service_date", pa.date32()),
            ("depot_id", pa.string()),
            ("dimension", pa.string()),
            ("dimension_value", pa.string()),
            ("orders", pa.int64()),
            ("attempted", pa.int64()),
            ("delivered", pa.int64()),
            ("failed", pa.int64()),
            ("on_time_rate", pa.float64()),
            ("cost_per_delivery_eur", pa.float64()),
            ("first_attempt_success_rate", pa.float64()),
            ("stops_per_hour", pa.float64()),
            ("km_per_stop", pa.float64()),
            ("vehicle_utilisation", pa.float64()),
            ("avg_rating", pa.float64()),
            ("ratings", pa.int64()),
        ]
    ),
    "driven_paths": pa.schema(
        [
            ("service_date", pa.date32()),
            ("depot_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("seq", pa.int64()),
            ("ts_utc", _UTC_TS),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
        ]
    ),
}


# Columns a plan made with the learned models adds to the plan tables (re-timing, preferred windows, model
# versions): a table may carry all of them after the contract's columns, or none (an older plan).
RETIMING_COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    "planned_stops": [("late_s", pa.int64()), ("in_preferred_window", pa.bool_())],
    "planned_routes": [("overtime_s", pa.int64())],
    "plan_runs": [
        ("travel_model_version", pa.string()),
        ("service_model_version", pa.string()),
        ("availability_model_version", pa.string()),
    ],
}

# The optional learned-model tables (contract, section 3; columns as in orchestration/model_store.py).
MODEL_SCHEMAS: dict[str, pa.Schema] = {
    "model_versions": pa.schema(
        [
            ("model", pa.string()),
            ("version", pa.string()),
            ("trained_from", pa.date32()),
            ("trained_through", pa.date32()),
            ("created_at_utc", _UTC_TS),
            ("n_samples", pa.int64()),
            ("fit_error", pa.float64()),
            ("baseline_error", pa.float64()),
            ("error_metric", pa.string()),
            ("parameters", pa.string()),
        ]
    ),
    "travel_time_factors": pa.schema(
        [
            ("version", pa.string()),
            ("term", pa.string()),
            ("key", pa.string()),
            ("factor", pa.float64()),
            ("n_samples", pa.int64()),
        ]
    ),
    "service_times": pa.schema(
        [
            ("version", pa.string()),
            ("level", pa.string()),
            ("site_type", pa.string()),
            ("zone", pa.string()),
            ("customer_id", pa.string()),
            ("n_samples", pa.int64()),
            ("median_s", pa.float64()),
            ("mean_s", pa.float64()),
            ("p90_s", pa.float64()),
            ("per_parcel_s", pa.float64()),
        ]
    ),
    "availability": pa.schema(
        [
            ("version", pa.string()),
            ("level", pa.string()),
            ("zone", pa.string()),
            ("customer_id", pa.string()),
            ("hour", pa.int32()),
            ("attempts", pa.int64()),
            ("successes", pa.int64()),
            ("success_rate", pa.float64()),
        ]
    ),
    "recommended_windows": pa.schema(
        [
            ("version", pa.string()),
            ("level", pa.string()),
            ("zone", pa.string()),
            ("customer_id", pa.string()),
            ("window_start_s", pa.int32()),
            ("window_end_s", pa.int32()),
            ("success_rate", pa.float64()),
            ("day_success_rate", pa.float64()),
            ("lift", pa.float64()),
            ("attempts", pa.int64()),
        ]
    ),
}


# The optional live tables (docs/replanning.md, section 6): written with the snapshot once a date has a live state
# or a re-plan; older snapshots have none, so they are written only when a test passes them.
LIVE_SCHEMAS: dict[str, pa.Schema] = {
    "live_vehicles": pa.schema(
        [
            ("service_date", pa.date32()),
            ("as_of_s", pa.int64()),
            ("depot_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("fix_at_utc", _UTC_TS),
            ("status", pa.string()),
            ("stops_done", pa.int64()),
            ("stops_failed", pa.int64()),
            ("stops_remaining", pa.int64()),
            ("next_order_id", pa.string()),
            ("next_eta_s", pa.int64()),
            ("late_stops", pa.int64()),
            ("late_s_total", pa.int64()),
        ]
    ),
    "live_stops": pa.schema(
        [
            ("service_date", pa.date32()),
            ("plan_id", pa.string()),
            ("depot_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("sequence", pa.int64()),
            ("order_id", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("status", pa.string()),
            ("morning_eta_s", pa.int64()),
            ("eta_s", pa.int64()),
            ("tw_start_s", pa.int64()),
            ("tw_end_s", pa.int64()),
            ("late_s", pa.int64()),
            ("at_risk", pa.bool_()),
            ("moved", pa.bool_()),
            ("previous_vehicle_id", pa.string()),
            ("eta_change_s", pa.int64()),
        ]
    ),
    "plan_versions": pa.schema(
        [
            ("plan_id", pa.string()),
            ("service_date", pa.date32()),
            ("kind", pa.string()),
            ("version", pa.int64()),
            ("created_at_utc", _UTC_TS),
            ("status", pa.string()),
            ("reason", pa.string()),
            ("as_of_s", pa.int64()),
            ("n_moved", pa.int64()),
            ("n_orders", pa.int64()),
            ("n_assigned", pa.int64()),
            ("n_unassigned", pa.int64()),
        ]
    ),
}


def _schema_of(name: str, frame: pd.DataFrame) -> pa.Schema:
    """The table's contract schema, with the re-timing columns when ``frame`` carries them."""
    schema = (SERVING_SCHEMAS | EXECUTION_SCHEMAS | MODEL_SCHEMAS | LIVE_SCHEMAS)[name]
    extras = RETIMING_COLUMNS.get(name, [])
    if extras and list(frame.columns) == schema.names + [column for column, _ in extras]:
        for column, data_type in extras:
            schema = schema.append(pa.field(column, data_type))
    return schema


def write_snapshot(
    serving_dir: Path,
    tables: dict[str, pd.DataFrame],
    *,
    snapshot_id: str | None = None,
    created_at_utc: dt.datetime | None = None,
) -> Path:
    """Write a serving snapshot in the contract's layout and point ``CURRENT`` at it.

    Parameters
    ----------
    serving_dir : Path
        The serving directory (what ``$LASTMILE_SERVING_DIR`` names); created if missing.
    tables : dict of DataFrame
        One DataFrame per serving table (all of :data:`SERVING_SCHEMAS`), with exactly the contract's columns
        (plan tables optionally followed by their :data:`RETIMING_COLUMNS`), and optionally any of the execution
        tables (:data:`EXECUTION_SCHEMAS`), model tables (:data:`MODEL_SCHEMAS`) and live tables
        (:data:`LIVE_SCHEMAS`); those left out are not written.
    snapshot_id : str, optional
        Directory name; default derived from ``created_at_utc``.
    created_at_utc : datetime, optional
        Publication time written to the manifest; default now.

    Returns
    -------
    Path
        The snapshot directory.

    Raises
    ------
    ValueError
        If a table is missing or its columns differ from the contract.
    """
    missing = sorted(set(SERVING_SCHEMAS) - set(tables))
    if missing:
        raise ValueError(f"serving tables missing: {', '.join(missing)}")
    unknown = sorted(
        set(tables) - set(SERVING_SCHEMAS) - set(EXECUTION_SCHEMAS) - set(MODEL_SCHEMAS) - set(LIVE_SCHEMAS)
    )
    if unknown:
        raise ValueError(f"not serving tables: {', '.join(unknown)}")
    created = created_at_utc or dt.datetime.now(dt.UTC)
    snapshot_id = snapshot_id or created.strftime("%Y%m%dT%H%M%S%fZ")
    snapshot_dir = serving_dir / "snapshots" / snapshot_id
    snapshot_dir.mkdir(parents=True, exist_ok=False)
    row_counts = {}
    for name in SERVING_SCHEMAS | EXECUTION_SCHEMAS | MODEL_SCHEMAS | LIVE_SCHEMAS:
        if name not in tables:
            continue
        frame = tables[name]
        schema = _schema_of(name, frame)
        if list(frame.columns) != schema.names:
            raise ValueError(f"{name}: columns {list(frame.columns)} differ from the contract's {schema.names}")
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        pq.write_table(table, snapshot_dir / f"{name}.parquet")
        row_counts[name] = table.num_rows
    dates = sorted({pd.Timestamp(d).date().isoformat() for d in tables["plan_kpis"]["service_date"]})
    manifest = {
        "snapshot_id": snapshot_id,
        "created_at_utc": created.isoformat().replace("+00:00", "Z"),
        "tables": row_counts,
        "service_dates": dates,
    }
    (snapshot_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    # The pointer is swapped by rename, as the publisher does, so a reader never sees a half-written file.
    pointer_tmp = serving_dir / "CURRENT.tmp"
    pointer_tmp.write_text(snapshot_id + "\n", encoding="utf-8")
    pointer_tmp.replace(serving_dir / "CURRENT")
    return snapshot_dir


# --- the demo snapshot ------------------------------------------------------------------------------------

DAY_1 = dt.date(2026, 11, 26)
DAY_2 = dt.date(2026, 11, 27)
PLAN_DAY_1 = "plan-2026-11-26-daily-v1"
PLAN_DAY_2 = "plan-2026-11-27-daily-v2"

# fmt: off
_DEPOTS = [
    ("D-SCHAAN", "Schaan", 47.1650, 9.5090),
    ("D-TRIESEN", "Triesen", 47.1080, 9.5260),
]
# (plan, date, depot, route, vehicle, type, cost per km, cost per hour, cost per day, stops)
# stops: (order, street, postcode, town, lat, lon, window start h, window end h, parcels, weight kg, notes)
_ROUTES = [
    (PLAN_DAY_1, DAY_1, "D-SCHAAN", "R1", "V-SCH-01", "van", [
        ("O-1001", "Landstrasse 12", "9494", "Schaan", 47.1710, 9.5120, 8, 12, 2, 7.5, ""),
        ("O-1002", "Feldkircher Strasse 40", "9494", "Schaan", 47.1802, 9.5060, 9, 13, 1, 2.0, "Ring twice"),
    ]),
    (PLAN_DAY_1, DAY_1, "D-TRIESEN", "R2", "V-TRI-01", "van", [
        ("O-1003", "Landstrasse 300", "9495", "Triesen", 47.0950, 9.5300, 8, 11, 3, 12.0, ""),
        ("O-1004", "Poskahalde 5", "9497", "Triesenberg", 47.1180, 9.5440, None, None, 1, 1.2, "Steep drive"),
    ]),
    (PLAN_DAY_2, DAY_2, "D-SCHAAN", "R1", "V-SCH-01", "van", [
        ("O-2001", "Zollstrasse 2", "9494", "Schaan", 47.1690, 9.5150, 8, 10, 2, 6.0, ""),
        ("O-2002", "Essanestrasse 91", "9492", "Eschen", 47.2100, 9.5220, 9, 12, 4, 18.4, "Dock at rear"),
        ("O-2003", "Haldenstrasse 7", "9487", "Gamprin-Bendern", 47.2200, 9.5080, 10, 14, 1, 3.3, ""),
    ]),
    (PLAN_DAY_2, DAY_2, "D-SCHAAN", "R2", "V-SCH-02", "cargo_bike", [
        ("O-2004", "Städtle 15", "9490", "Vaduz", 47.1400, 9.5210, 9, 11, 1, 1.5, "Pedestrian zone"),
        ("O-2005", "Aeulestrasse 30", "9490", "Vaduz", 47.1380, 9.5190, 10, 12, 2, 4.0, ""),
    ]),
    (PLAN_DAY_2, DAY_2, "D-TRIESEN", "R3", "V-TRI-01", "van", [
        ("O-2006", "Dorfstrasse 24", "9495", "Triesen", 47.1010, 9.5280, 8, 12, 1, 2.5, ""),
        ("O-2007", "Balzner Strasse 8", "9496", "Balzers", 47.0660, 9.5020, 9, 12, 3, 9.9, ""),
        ("O-2008", "Fürst-Johannes-Strasse 3", "9496", "Balzers", 47.0640, 9.4980, 11, 15, 2, 5.0, ""),
    ]),
]
_UNASSIGNED = [
    (PLAN_DAY_2, DAY_2, "D-TRIESEN", "O-2009", "Malbun 40", "9497", "Triesenberg", 47.1030, 9.6090,
     "TW_INFEASIBLE", "Window 07:00-07:30 closes before any vehicle can arrive"),
]
# fmt: on
_SHIFT_START_S = 7 * 3600 + 30 * 60
_SERVICE_S = 300
_LEG_S = 900
_LEG_M = 4_500


@dataclass(frozen=True)
class DemoSnapshot:
    """The demo snapshot on disk and the numbers the dashboard should show for it."""

    serving_dir: Path
    snapshot_dir: Path
    tables: dict[str, pd.DataFrame]

    def kpis(self, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
        """The published plan_kpis rows of one date (and depot)."""
        kpis = self.tables["plan_kpis"]
        mask = kpis["service_date"] == service_date
        if depot_id is not None:
            mask &= kpis["depot_id"] == depot_id
        return kpis[mask]


def demo_tables(*, execution: bool = True) -> dict[str, pd.DataFrame]:
    """A small, consistent snapshot: 2 dates, 2 depots (Schaan, Triesen), 5 routes, 1 unassigned order.

    Legs are 4.5 km and 15 min each, service 5 min per stop, shifts start 07:30; costs are a van-like
    0.40 EUR/km + 30 EUR/h + 20 EUR/day. Day 1 (2026-11-26) has one route per depot; day 2 (2026-11-27)
    has two Schaan routes, one Triesen route and one unassigned Triesen order.

    With ``execution`` (the default) both days were also played out: see :func:`execution_tables`.
    """
    depot_rows = pd.DataFrame(_DEPOTS, columns=["depot_id", "name", "lat", "lon"])
    route_rows, stop_rows = [], []
    for plan_id, service_date, depot_id, route_id, vehicle_id, vehicle_type, stops in _ROUTES:
        clock = _SHIFT_START_S
        for sequence, (
            order_id,
            street,
            postcode,
            town,
            lat,
            lon,
            tw_a,
            tw_b,
            parcels,
            kg,
            notes,
        ) in enumerate(stops, start=1):
            clock += _LEG_S
            tw_start = None if tw_a is None else tw_a * 3600
            wait = max(0, (tw_start or 0) - clock)
            stop_rows.append(
                {
                    "plan_id": plan_id,
                    "service_date": service_date,
                    "depot_id": depot_id,
                    "route_id": route_id,
                    "vehicle_id": vehicle_id,
                    "sequence": sequence,
                    "order_id": order_id,
                    "customer_id": "C-" + order_id[2:],
                    "street": street,
                    "postcode": postcode,
                    "town": town,
                    "lat": lat,
                    "lon": lon,
                    "tw_start_s": tw_start,
                    "tw_end_s": None if tw_b is None else tw_b * 3600,
                    "arrival_s": clock,
                    "service_start_s": clock + wait,
                    "departure_s": clock + wait + _SERVICE_S,
                    "wait_s": wait,
                    "parcels": parcels,
                    "weight_g": int(round(kg * 1000)),
                    "volume_cm3": parcels * 20_000,
                    "notes": notes or None,
                }
            )
            clock += wait + _SERVICE_S
        end = clock + _LEG_S
        distance_m = _LEG_M * (len(stops) + 1)
        duration_s = end - _SHIFT_START_S
        route_rows.append(
            {
                "plan_id": plan_id,
                "service_date": service_date,
                "depot_id": depot_id,
                "route_id": route_id,
                "vehicle_id": vehicle_id,
                "vehicle_type": vehicle_type,
                "n_stops": len(stops),
                "start_s": _SHIFT_START_S,
                "end_s": end,
                "distance_m": distance_m,
                "duration_s": duration_s,
                "weight_g": sum(int(round(s[9] * 1000)) for s in stops),
                "volume_cm3": sum(s[8] * 20_000 for s in stops),
                "cost_eur": round(0.40 * distance_m / 1000 + 30 * duration_s / 3600 + 20, 2),
            }
        )
    routes = pd.DataFrame(route_rows, columns=SERVING_SCHEMAS["planned_routes"].names)
    stops_frame = pd.DataFrame(stop_rows, columns=SERVING_SCHEMAS["planned_stops"].names)
    unassigned = pd.DataFrame(_UNASSIGNED, columns=SERVING_SCHEMAS["unassigned"].names)

    kpi_rows = []
    for (service_date, depot_id, plan_id), group in routes.groupby(["service_date", "depot_id", "plan_id"]):
        n_unassigned = int(((unassigned["service_date"] == service_date) & (unassigned["depot_id"] == depot_id)).sum())
        stops_count = int(group["n_stops"].sum())
        cost = float(group["cost_eur"].sum())
        kpi_rows.append(
            {
                "service_date": service_date,
                "depot_id": depot_id,
                "plan_id": plan_id,
                "routes": len(group),
                "stops": stops_count,
                "distance_km": group["distance_m"].sum() / 1000,
                "duration_h": group["duration_s"].sum() / 3600,
                "cost_eur": cost,
                "cost_per_delivery_eur": cost / stops_count,
                "unassigned": n_unassigned,
            }
        )
    kpis = pd.DataFrame(kpi_rows, columns=SERVING_SCHEMAS["plan_kpis"].names)

    created = dt.datetime(2026, 11, 26, 4, 30, tzinfo=dt.UTC)
    plan_runs = pd.DataFrame(
        [
            (PLAN_DAY_1, DAY_1, "daily", 1, created - dt.timedelta(days=1), 7, 20.0, 18.2, 512.3, True),
            ("plan-2026-11-27-daily-v1", DAY_2, "daily", 1, created, 7, 20.0, 19.1, 640.0, False),
            (PLAN_DAY_2, DAY_2, "daily", 2, created + dt.timedelta(hours=1), 7, 20.0, 19.7, 601.5, True),
        ],
        columns=SERVING_SCHEMAS["plan_runs"].names,
    )
    tables = {
        "depots": depot_rows,
        "plan_runs": plan_runs,
        "planned_routes": routes,
        "planned_stops": stops_frame,
        "unassigned": unassigned,
        "plan_kpis": kpis,
    }
    return tables | execution_tables(tables) if execution else tables


# --- the demo snapshot's execution data ---------------------------------------------------------------------

# (date, vehicle) -> (driver, driven km, departure delay in minutes, actual cost EUR)
_ROUTE_DAYS = {
    (DAY_1, "V-SCH-01"): ("DR-ANNA", 15.2, 0, 84.00),
    (DAY_1, "V-TRI-01"): ("DR-BEN", 14.1, 5, 63.00),
    (DAY_2, "V-SCH-01"): ("DR-ANNA", 19.8, 20, 118.00),
    (DAY_2, "V-SCH-02"): ("DR-CARL", 12.9, 0, 108.00),
    (DAY_2, "V-TRI-01"): ("DR-BEN", 17.0, 0, 138.00),
}
# order -> (outcome, actual arrival HH:MM, failure reason, attempt, rating, late cause)
_OUTCOMES = {
    "O-1001": ("delivered", "08:10", None, 1, 5, None),
    "O-1002": ("delivered", "13:18", None, 1, 3, "traffic"),
    "O-1003": ("delivered", "11:04", None, 1, 4, "weather"),
    "O-1004": ("failed", "11:30", "not_home", 1, None, None),
    "O-2001": ("delivered", "10:25", None, 1, 2, "late_departure"),
    "O-2002": ("delivered", "10:50", None, 1, 5, None),
    "O-2003": ("delivered", "11:30", None, 2, None, None),
    "O-2004": ("delivered", "09:10", None, 1, 5, None),
    "O-2005": ("not_attempted", None, None, None, None, None),
    "O-2006": ("delivered", "08:15", None, 1, 4, None),
    "O-2007": ("delivered", "12:07", None, 1, 3, "long_service"),
    "O-2008": ("failed", "12:40", "refused", 1, None, None),
}
# Every driver's scheduled shift; route hours (depot departure to return) are what stops per hour divide by.
_SHIFT_H = 8.0
# Driven tracks run a little east of the planned stops, so both lines stay visible on the map.
_TRACK_OFFSET_DEG = 0.0012


def _clock_s(hh_mm: str | None) -> int | None:
    if hh_mm is None:
        return None
    hours, minutes = hh_mm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def execution_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Execution data of both demo days, played out from the plan in ``tables`` (see :func:`demo_tables`).

    Day 1: 4 orders, 4 attempted (2 on time: O-1002 is 18 min late, O-1003 4 min), 3 delivered, 1 failed
    (not_home, reached in time); actual cost 147 EUR. Day 2: 9 orders, 7 attempted (5 on time: O-2001 is 25 min
    late, O-2007 7 min), 6 delivered (O-2003 at its second attempt), 1 failed (refused, in time), 1 not attempted
    (O-2005), 1 unassigned (O-2009); actual cost 364 EUR. Ratings 5, 3, 4 on day 1 and 2, 5, 5, 4, 3 on day 2.
    Drivers: DR-ANNA (V-SCH-01), DR-BEN (V-TRI-01), DR-CARL (V-SCH-02, day 2 only); shifts are 8 h.
    """
    depots = tables["depots"].set_index("depot_id")
    routes = tables["planned_routes"]
    delivery_rows = []
    for stop in tables["planned_stops"].itertuples(index=False):
        outcome, arrival_hh_mm, failure_reason, attempt, rating, late_cause = _OUTCOMES[stop.order_id]
        arrival = _clock_s(arrival_hh_mm)
        delivered = outcome == "delivered"
        attempted = arrival is not None
        tw_end = None if pd.isna(stop.tw_end_s) else int(stop.tw_end_s)
        minutes_late = max(0, arrival - tw_end) / 60 if attempted and tw_end is not None else 0.0
        driver = _ROUTE_DAYS[(stop.service_date, stop.vehicle_id)][0]
        delivery_rows.append(
            {
                "service_date": stop.service_date,
                "order_id": stop.order_id,
                "customer_id": stop.customer_id,
                "depot_id": stop.depot_id,
                "vehicle_id": stop.vehicle_id,
                "driver_id": driver,
                "route_id": stop.route_id,
                "postcode": stop.postcode,
                "town": stop.town,
                "lat": stop.lat,
                "lon": stop.lon,
                "tw_start_s": stop.tw_start_s,
                "tw_end_s": stop.tw_end_s,
                "is_all_day": pd.isna(stop.tw_start_s),
                "planned_arrival_s": stop.arrival_s,
                "actual_arrival_s": arrival,
                "actual_departure_s": None if arrival is None else arrival + _SERVICE_S,
                "eta_error_s": None if arrival is None else arrival - int(stop.arrival_s),
                "is_on_time": (minutes_late == 0) if attempted else None,
                "minutes_late": minutes_late if attempted else None,
                "outcome": outcome,
                "failure_reason": failure_reason,
                "attempt": attempt,
                "is_first_attempt_success": (delivered and attempt == 1) if attempted else None,
                "rating": rating,
                "late_cause": late_cause,
            }
        )
    for order in tables["unassigned"].itertuples(index=False):
        delivery_rows.append(
            {
                "service_date": order.service_date,
                "order_id": order.order_id,
                "customer_id": "C-" + order.order_id[2:],
                "depot_id": order.depot_id,
                "postcode": order.postcode,
                "town": order.town,
                "lat": order.lat,
                "lon": order.lon,
                "is_all_day": False,
                "outcome": "unassigned",
            }
        )
    deliveries = pd.DataFrame(delivery_rows, columns=EXECUTION_SCHEMAS["deliveries"].names)

    route_rows, track_rows = [], []
    for route in routes.itertuples(index=False):
        driver, actual_km, delay_min, actual_cost = _ROUTE_DAYS[(route.service_date, route.vehicle_id)]
        visits = deliveries[
            (deliveries["service_date"] == route.service_date)
            & (deliveries["vehicle_id"] == route.vehicle_id)
            & deliveries["outcome"].isin(["delivered", "failed"])
        ].sort_values("actual_arrival_s")
        actual_start = int(route.start_s) + delay_min * 60
        actual_end = int(visits["actual_departure_s"].max()) + _LEG_S
        route_h = (actual_end - actual_start) / 3600
        driving_h = actual_km / 30
        service_h = len(visits) * _SERVICE_S / 3600
        route_rows.append(
            {
                "service_date": route.service_date,
                "depot_id": route.depot_id,
                "vehicle_id": route.vehicle_id,
                "vehicle_type": route.vehicle_type,
                "driver_id": driver,
                "route_id": route.route_id,
                "planned_km": route.distance_m / 1000,
                "actual_km": actual_km,
                "planned_start_s": route.start_s,
                "planned_end_s": route.end_s,
                "actual_start_s": actual_start,
                "actual_end_s": actual_end,
                "departure_delay_min": float(delay_min),
                "driving_h": driving_h,
                "service_h": service_h,
                "idle_h": max(0.0, route_h - driving_h - service_h),
                "shift_h": _SHIFT_H,
                "stops_planned": route.n_stops,
                "stops_attempted": len(visits),
                "delivered": int((visits["outcome"] == "delivered").sum()),
                "failed": int((visits["outcome"] == "failed").sum()),
                "planned_cost_eur": route.cost_eur,
                "actual_cost_eur": actual_cost,
            }
        )
        depot = depots.loc[route.depot_id]
        points = [
            (actual_start, depot.lat, depot.lon),
            *((int(v.actual_arrival_s), v.lat, v.lon + _TRACK_OFFSET_DEG) for v in visits.itertuples(index=False)),
            (actual_end, depot.lat, depot.lon),
        ]
        local_midnight = pd.Timestamp(route.service_date).tz_localize("Europe/Vaduz")
        for seq, (clock_s, lat, lon) in enumerate(points):
            track_rows.append(
                {
                    "service_date": route.service_date,
                    "depot_id": route.depot_id,
                    "vehicle_id": route.vehicle_id,
                    "seq": seq,
                    "ts_utc": (local_midnight + pd.Timedelta(seconds=clock_s)).tz_convert("UTC"),
                    "lat": lat,
                    "lon": lon,
                }
            )
    route_days = pd.DataFrame(route_rows, columns=EXECUTION_SCHEMAS["route_days"].names)
    driven_paths = pd.DataFrame(track_rows, columns=EXECUTION_SCHEMAS["driven_paths"].names)
    return {
        "deliveries": deliveries,
        "route_days": route_days,
        "delivery_kpis": _delivery_kpis(deliveries, route_days),
        "driven_paths": driven_paths,
    }


def _delivery_kpis(deliveries: pd.DataFrame, route_days: pd.DataFrame) -> pd.DataFrame:
    """fct_delivery_kpis of the demo days, by the dashboard's definitions (see ``dashboard.queries``)."""
    hour = (deliveries["actual_arrival_s"] // 3600).map(lambda h: None if pd.isna(h) else f"{int(h):02d}")
    keyed = deliveries.assign(
        depot=deliveries["depot_id"], driver=deliveries["driver_id"], zone=deliveries["town"], hour=hour
    )
    shifts = route_days.assign(depot=route_days["depot_id"], driver=route_days["driver_id"])
    rows = []
    for dimension in ("depot", "driver", "zone", "hour"):
        for (service_date, depot_id, value), group in keyed.dropna(subset=[dimension]).groupby(
            ["service_date", "depot_id", dimension]
        ):
            delivered = group[group["outcome"] == "delivered"]
            attempted = group[group["outcome"].isin(["delivered", "failed"])]
            routes = (
                shifts[(shifts["service_date"] == service_date) & (shifts[dimension] == value)]
                if dimension in ("depot", "driver")
                else None
            )
            has_routes = routes is not None and len(routes) > 0
            route_h = (routes["actual_end_s"] - routes["actual_start_s"]) / 3600 if has_routes else None
            rows.append(
                {
                    "service_date": service_date,
                    "depot_id": depot_id,
                    "dimension": dimension,
                    "dimension_value": value,
                    "orders": len(group),
                    "attempted": len(attempted),
                    "delivered": len(delivered),
                    "failed": int((group["outcome"] == "failed").sum()),
                    "on_time_rate": attempted["is_on_time"].astype(bool).mean() if len(attempted) else None,
                    "cost_per_delivery_eur": (
                        routes["actual_cost_eur"].sum() / len(delivered) if has_routes and len(delivered) else None
                    ),
                    "first_attempt_success_rate": (
                        attempted["is_first_attempt_success"].astype(bool).mean() if len(attempted) else None
                    ),
                    "stops_per_hour": routes["stops_attempted"].sum() / route_h.sum() if has_routes else None,
                    "km_per_stop": (
                        routes["actual_km"].sum() / routes["stops_attempted"].sum() if has_routes else None
                    ),
                    "vehicle_utilisation": (route_h.sum() / routes["shift_h"].sum() if has_routes else None),
                    "avg_rating": group["rating"].mean() if group["rating"].notna().any() else None,
                    "ratings": int(group["rating"].notna().sum()),
                }
            )
    return pd.DataFrame(rows, columns=EXECUTION_SCHEMAS["delivery_kpis"].names)


# --- the demo snapshot with learned models -------------------------------------------------------------------

TT_VERSION = "tt-2026-11-26"
ST_VERSION = "st-2026-11-26"
AV_VERSION = "av-2026-11-26"
# fmt: off
# What the fits' errors measure, as orchestration.learning words it.
_TRAVEL_METRIC = "MAE of leg duration on the newest day, trained without it (s)"
_SERVICE_METRIC = "MAE of time on site on the newest day, trained without it (s)"
_AV_METRIC = "Brier score of first-attempt success on the newest day, trained without it"
# (model, version, trained from, trained through, created at UTC, samples, fit error, baseline error, metric)
_MODEL_VERSIONS = [
    ("travel_time", "tt-2026-11-25", "2026-10-27", "2026-11-25", "2026-11-26 03:00", 410, 61.2, 95.0, _TRAVEL_METRIC),
    ("travel_time", TT_VERSION, "2026-10-28", "2026-11-26", "2026-11-27 03:00", 452, 58.4, 96.1, _TRAVEL_METRIC),
    ("service_time", ST_VERSION, "2026-10-28", "2026-11-26", "2026-11-27 03:05", 180, 41.0, 66.0, _SERVICE_METRIC),
    ("availability", "av-2026-11-24", "2026-10-26", "2026-11-24", "2026-11-25 03:10", 150, 0.191, 0.221, _AV_METRIC),
    ("availability", AV_VERSION, "2026-10-28", "2026-11-26", "2026-11-27 03:10", 170, 0.182, 0.224, _AV_METRIC),
]
_HOUR_FACTORS = (0.97, 0.82, 0.9, 1.0, 1.02, 0.95, 0.98, 1.0, 0.96, 0.85, 0.8, 0.93)  # 07:00 .. 18:00
_WEEKDAY_FACTORS = {"Mon": 0.96, "Tue": 1.0, "Wed": 1.0, "Thu": 0.98, "Fri": 0.92, "Sat": 1.05}  # no Sunday legs
# Travel-time factors of the newest version: (term, key, factor, legs).
_TRAVEL_FACTORS = [
    *(("hour", str(hour), factor, 30) for hour, factor in enumerate(_HOUR_FACTORS, start=7)),
    *(("weekday", day, factor, 60) for day, factor in _WEEKDAY_FACTORS.items()),
    ("weather", "dry", 1.0, 300), ("weather", "rain", 0.92, 90), ("weather", "heavy_rain", 0.81, 40),
    ("weather", "snow", 0.7, 22),
    # Speed-zone cells "i:j" (south-west corner i * 0.01, j * 0.01): Vaduz centre, Schaan, Triesen, Balzers, Eschen.
    ("zone", "4714:952", 0.62, 48), ("zone", "4716:951", 0.75, 51), ("zone", "4710:952", 0.88, 33),
    ("zone", "4706:950", 0.9, 21), ("zone", "4721:952", 1.05, 27),
    ("vehicle", "V-SCH-01", 0.95, 120), ("vehicle", "V-SCH-02", 1.08, 60), ("vehicle", "V-TRI-01", 0.9, 110),
]
# Service times: (level, site type, zone, customer, stops, median s, mean s, p90 s, per parcel s).
_SERVICE_TIMES = [
    ("site_type", "house", None, None, 90, 150.0, 170.0, 300.0, 20.0),
    ("site_type", "apartment", None, None, 60, 240.0, 260.0, 480.0, 25.0),
    ("site_type", "business", None, None, 30, 120.0, 130.0, 200.0, 15.0),
    ("site_zone", "house", "Schaan", None, 30, 140.0, 160.0, 280.0, 20.0),
    ("site_zone", "house", "Balzers", None, 20, 165.0, 180.0, 320.0, 20.0),
    ("site_zone", "apartment", "Vaduz", None, 25, 250.0, 270.0, 500.0, 25.0),
    ("site_zone", "business", "Eschen", None, 15, 110.0, 118.0, 190.0, 15.0),
    ("customer", "house", "Schaan", "C-1001", 6, 95.0, 101.0, 160.0, 20.0),
    ("customer", "house", "Balzers", "C-2008", 5, 210.0, 220.0, 360.0, 20.0),
]
# Zone availability: zone -> success by hour 8..17 (smoothed), 12 attempts per hour.
_ZONE_SUCCESS = {
    "Schaan": (0.55, 0.8, 0.84, 0.82, 0.6, 0.5, 0.52, 0.58, 0.62, 0.66),
    "Vaduz": (0.5, 0.52, 0.55, 0.6, 0.62, 0.68, 0.8, 0.85, 0.83, 0.7),
    "Balzers": (0.78, 0.81, 0.79, 0.6, 0.55, 0.5, 0.52, 0.5, 0.58, 0.6),
}
# Customer availability: customer -> (zone, first hour, success by hour), 3 attempts per hour.
_CUSTOMER_SUCCESS = {
    "C-1001": ("Schaan", 8, (0.9, 0.88, 0.7, 0.6)),
    "C-2008": ("Balzers", 9, (0.7, 0.75, 0.5)),
    "C-2006": ("Triesen", 10, (0.4, 0.45)),
}
# Recommended windows: (level, zone, customer, start h, end h, success in window, over the day, attempts).
_WINDOWS = [
    ("zone", "Schaan", None, 9, 12, 0.82, 0.649, 120),
    ("zone", "Vaduz", None, 14, 17, 0.827, 0.665, 120),
    ("zone", "Balzers", None, 8, 11, 0.793, 0.623, 120),
    ("customer", "Schaan", "C-1001", 8, 10, 0.89, 0.77, 12),
]
# At-risk stops of day 2's plan (the last stop of two routes): order -> seconds late.
AT_RISK_LATE_S = {"O-2003": 1_500, "O-2008": 420}
# fmt: on


def model_tables() -> dict[str, pd.DataFrame]:
    """The learned-model tables of a snapshot: two travel-time and availability versions (the newest trained
    through day 1), one service-time version; the model tables hold the newest version of each.

    Availability: zones Schaan (window 09:00-12:00), Vaduz (14:00-17:00) and Balzers (08:00-11:00), hours 8-17;
    customers C-1001 (Schaan, own window 08:00-10:00, own service time 95 s), C-2008 (Balzers: the zone's
    window, own service time 210 s) and C-2006 (Triesen: no window, no service time).
    """
    versions = pd.DataFrame(
        [
            (
                model,
                version,
                dt.date.fromisoformat(start),
                dt.date.fromisoformat(end),
                dt.datetime.fromisoformat(created).replace(tzinfo=dt.UTC),
                *rest,
                "{}",
            )
            for model, version, start, end, created, *rest in _MODEL_VERSIONS
        ],
        columns=MODEL_SCHEMAS["model_versions"].names,
    )
    factors = pd.DataFrame(
        [(TT_VERSION, *f) for f in _TRAVEL_FACTORS], columns=MODEL_SCHEMAS["travel_time_factors"].names
    )
    service = pd.DataFrame([(ST_VERSION, *t) for t in _SERVICE_TIMES], columns=MODEL_SCHEMAS["service_times"].names)
    availability_rows = [
        (AV_VERSION, "zone", zone, None, hour, 12, round(rate * 12), rate)
        for zone, rates in _ZONE_SUCCESS.items()
        for hour, rate in zip(range(8, 18), rates, strict=True)
    ]
    availability_rows += [
        (AV_VERSION, "customer", zone, customer, first + offset, 3, round(rate * 3), rate)
        for customer, (zone, first, rates) in _CUSTOMER_SUCCESS.items()
        for offset, rate in enumerate(rates)
    ]
    windows = pd.DataFrame(
        [
            (AV_VERSION, level, zone, customer, start * 3600, end * 3600, rate, day, round(rate - day, 3), attempts)
            for level, zone, customer, start, end, rate, day, attempts in _WINDOWS
        ],
        columns=MODEL_SCHEMAS["recommended_windows"].names,
    )
    return {
        "model_versions": versions,
        "travel_time_factors": factors,
        "service_times": service,
        "availability": pd.DataFrame(availability_rows, columns=MODEL_SCHEMAS["availability"].names),
        "recommended_windows": windows,
    }


def learned_tables() -> dict[str, pd.DataFrame]:
    """The demo snapshot (:func:`demo_tables`, with execution data) planned with the learned models: the model
    tables of :func:`model_tables`, and the re-timing columns on the plan tables.

    Day 2's plan used the newest versions and has two at-risk stops (:data:`AT_RISK_LATE_S`: O-2003 25 min and
    O-2008 7 min late; their arrivals moved to the window's end plus that), O-2001 planned inside its preferred
    window and O-2002 outside it; V-SCH-01 runs 10 min over its shift. Day 1 was planned without learned models
    (null versions, no lateness).
    """
    tables = demo_tables()
    stops = tables["planned_stops"].copy()
    stops["late_s"] = pd.array(
        [
            AT_RISK_LATE_S.get(order, 0) if service_date == DAY_2 else None
            for order, service_date in zip(stops["order_id"], stops["service_date"], strict=True)
        ],
        dtype="Int64",
    )
    for index in stops.index[stops["order_id"].isin(list(AT_RISK_LATE_S))]:
        arrival = int(stops.at[index, "tw_end_s"]) + AT_RISK_LATE_S[stops.at[index, "order_id"]]
        stops.loc[index, ["arrival_s", "service_start_s", "departure_s"]] = [arrival, arrival, arrival + _SERVICE_S]
    stops["in_preferred_window"] = pd.array(stops["order_id"].map({"O-2001": True, "O-2002": False}), dtype="boolean")
    routes = tables["planned_routes"].copy()
    routes["overtime_s"] = pd.array(
        [
            (600 if vehicle == "V-SCH-01" else 0) if service_date == DAY_2 else None
            for service_date, vehicle in zip(routes["service_date"], routes["vehicle_id"], strict=True)
        ],
        dtype="Int64",
    )
    runs = tables["plan_runs"].copy()
    for column, version in (
        ("travel_model_version", TT_VERSION),
        ("service_model_version", ST_VERSION),
        ("availability_model_version", AV_VERSION),
    ):
        runs[column] = [version if plan_id == PLAN_DAY_2 else None for plan_id in runs["plan_id"]]
    return tables | {"planned_stops": stops, "planned_routes": routes, "plan_runs": runs} | model_tables()


@pytest.fixture
def learned_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoSnapshot:
    """The demo snapshot planned with learned models (see :func:`learned_tables`), LASTMILE_SERVING_DIR set."""
    serving_dir = tmp_path / "serving"
    tables = learned_tables()
    snapshot_dir = write_snapshot(
        serving_dir,
        tables,
        snapshot_id="20261127T053000Z-learned",
        created_at_utc=dt.datetime(2026, 11, 27, 5, 30, tzinfo=dt.UTC),
    )
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    return DemoSnapshot(serving_dir=serving_dir, snapshot_dir=snapshot_dir, tables=tables)


@pytest.fixture
def serving_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoSnapshot:
    """The demo snapshot (see :func:`demo_tables`) published under tmp_path, with LASTMILE_SERVING_DIR set."""
    serving_dir = tmp_path / "serving"
    tables = demo_tables()
    snapshot_dir = write_snapshot(
        serving_dir,
        tables,
        snapshot_id="20261127T053000Z",
        created_at_utc=dt.datetime(2026, 11, 27, 5, 30, tzinfo=dt.UTC),
    )
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    return DemoSnapshot(serving_dir=serving_dir, snapshot_dir=snapshot_dir, tables=tables)


@pytest.fixture
def plan_only_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoSnapshot:
    """The demo snapshot without any execution table (as an older publisher wrote it), LASTMILE_SERVING_DIR set."""
    serving_dir = tmp_path / "serving"
    tables = demo_tables(execution=False)
    snapshot_dir = write_snapshot(serving_dir, tables, snapshot_id="plan-only")
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    return DemoSnapshot(serving_dir=serving_dir, snapshot_dir=snapshot_dir, tables=tables)


@pytest.fixture
def empty_serving_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A serving directory where nothing has been published yet, with LASTMILE_SERVING_DIR set."""
    serving_dir = tmp_path / "serving"
    serving_dir.mkdir()
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    return serving_dir


# --- browser test helpers ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"streamlit not healthy after {timeout_s} s:\n{log_path.read_text()}")


@pytest.fixture
def streamlit_server(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """Factory: ``start(serving_dir) -> base URL`` of ``streamlit run dashboard/app.py`` on a free port.

    The server reads the given serving directory; every server started is stopped at teardown and its log is
    kept under tmp_path.
    """
    processes: list[subprocess.Popen] = []

    def start(serving_dir: Path, timeout_s: float = 60.0) -> str:
        port = _free_port()
        log_path = tmp_path / f"streamlit_{port}.log"
        env = os.environ | {
            "LASTMILE_SERVING_DIR": str(serving_dir),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP_PATH),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, log_path, timeout_s)
        return url

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """/usr/bin/chromium; skips when it is missing, but fails under CI (env CI set)."""
    if CHROMIUM_PATH.is_file():
        return CHROMIUM_PATH
    message = f"{CHROMIUM_PATH} not found: install it with `make browser` (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def chromium_page(chromium_executable: Path):
    """A fresh Playwright page in headless Chromium (1440x1000), closed at teardown."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests save screenshots: $LASTMILE_TEST_OUTPUT, else <pytest basetemp>/screenshots."""
    configured = os.environ.get("LASTMILE_TEST_OUTPUT")
    directory = Path(configured) if configured else tmp_path_factory.getbasetemp() / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# --- a snapshot the publisher wrote from a warehouse with data-health tables -------------------------------

# The marts the publisher reads, filled from the demo tables (contract, sections 2 and 4).
_MART_OF_TABLE = {
    "planned_routes": "fct_planned_routes",
    "planned_stops": "fct_planned_stops",
    "unassigned": "fct_plan_unassigned",
    "plan_kpis": "fct_plan_kpis",
    "deliveries": "fct_deliveries",
    "route_days": "fct_route_days",
    "delivery_kpis": "fct_delivery_kpis",
    "driven_paths": "fct_driven_paths",
}
DATA_DOCS_PATH = "/srv/lastmile/great_expectations/uncommitted/data_docs/local_site/index.html"


def _utc(day: dt.date, hh_mm: str) -> dt.datetime:
    hours, minutes = hh_mm.split(":")
    return dt.datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=dt.UTC)


# fmt: off
# raw.ingest_log, append-only: (table, date, file, accepted rows, loaded rows, quarantined rows, loaded at UTC).
# Day 2's orders were loaded twice: the second load (11 rows, 9 accepted, 2 quarantined) is the one that counts.
HEALTH_INGEST_LOG = [
    ("depots", DAY_1, "master/depots.csv", 2, 2, 0, _utc(DAY_1, "04:00")),
    ("orders", DAY_1, "orders/orders_2026-11-26.csv", 4, 5, 1, _utc(DAY_1, "04:05")),
    ("stop_events", DAY_1, "events/stop_events_2026-11-26.csv", 12, 13, 1, _utc(DAY_1, "19:00")),
    ("depots", DAY_2, "master/depots.csv", 2, 2, 0, _utc(DAY_2, "03:55")),
    ("orders", DAY_2, "orders/orders_2026-11-27.csv", 7, 10, 3, _utc(DAY_2, "03:00")),
    ("orders", DAY_2, "orders/orders_2026-11-27.csv", 9, 11, 2, _utc(DAY_2, "04:00")),
    ("pings", DAY_2, "telematics/pings_2026-11-27.parquet", 500, 503, 3, _utc(DAY_2, "19:00")),
]
# quarantine.<table>: (date, file, data row, reason code, field, reason); each table also has a source column.
HEALTH_QUARANTINE = {
    "orders": [
        (DAY_1, "orders/orders_2026-11-26.csv", 3, "BAD_COORDINATES", "lat",
         "lat '147.2' is outside [-90, 90]"),
        (DAY_2, "orders/orders_2026-11-27.csv", 4, "DUPLICATE_ID", "order_id",
         "order_id 'O-2002' appeared earlier in the file (row 2)"),
        (DAY_2, "orders/orders_2026-11-27.csv", 9, "BAD_WINDOW", "tw_start",
         "window '14:00'-'10:00' ends before it starts"),
    ],
    "stop_events": [
        (DAY_1, "events/stop_events_2026-11-26.csv", 7, "UNKNOWN_ORDER", "order_id",
         "order_id 'O-9999' is not among the orders of 2026-11-26"),
    ],
    "pings": [
        (DAY_2, "telematics/pings_2026-11-27.parquet", 17, "BAD_COORDINATES", "lat", "lat 0.0 and lon 0.0"),
        (DAY_2, "telematics/pings_2026-11-27.parquet", 18, "BAD_COORDINATES", "lat", "lat 0.0 and lon 0.0"),
        (DAY_2, "telematics/pings_2026-11-27.parquet", 240, "MALFORMED_LINE", None,
         "the record has no timestamp"),
    ],
    "ratings": [],
}
# quality.data_checks: (check, table, date, severity, passed, failed, evaluated, message, Data Docs path).
HEALTH_CHECKS = [
    ("orders_coordinates_in_area", "orders", DAY_1, "critical", True, 0, 4, "all orders lie in the service area",
     DATA_DOCS_PATH),
    ("orders_windows_long_enough", "orders", DAY_1, "warning", True, 0, 2, "every window is at least 30 min", None),
    ("orders_coordinates_in_area", "orders", DAY_2, "critical", True, 0, 4, "all orders lie in the service area",
     DATA_DOCS_PATH),
    ("orders_windows_long_enough", "orders", DAY_2, "warning", False, 1, 2,
     "orders/orders_2026-11-27.csv line 6, field tw_end: window 09:00-09:15 is shorter than 30 min",
     DATA_DOCS_PATH),
    ("pings_speed_plausible", "pings", DAY_2, "critical", False, 1, 3,
     "telematics/pings_2026-11-27.parquet row 120, field speed_kmh: 260 km/h is above 200 km/h",
     DATA_DOCS_PATH),
]
# fmt: on


def write_health_warehouse(path: Path, *, data_health: bool = True) -> None:
    """A DuckDB warehouse file with the demo marts and, with ``data_health``, the data-quality tables above.

    The marts hold the demo tables (:func:`demo_tables`); ``raw.ingest_log``, ``quarantine.orders``,
    ``quarantine.stop_events``, ``quarantine.pings``, ``quarantine.ratings`` (empty) and
    ``quality.data_checks`` follow the lead engineer's data-quality spec.
    """
    tables = demo_tables()
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema marts")
        depots = (
            tables["depots"]
            .rename(columns={"name": "depot_name"})
            .assign(
                street="Landstrasse 1",
                postcode="9494",
                town=tables["depots"]["name"],
                opens_s=25_200,
                closes_s=68_400,
                timezone="Europe/Vaduz",
            )
        )
        runs = tables["plan_runs"].assign(n_orders=9, n_assigned=8, n_unassigned=1, status="valid")
        for column in ("travel_model_version", "service_model_version", "availability_model_version"):
            if column not in runs:
                runs[column] = pd.Series([None] * len(runs), index=runs.index, dtype="string")
        frames = {"dim_depots": depots, "dim_plan_versions": runs}
        frames |= {mart: tables[name] for name, mart in _MART_OF_TABLE.items()}
        for mart, frame in frames.items():
            conn.register("frame", frame)
            conn.execute(f"create table marts.{mart} as select * from frame")
            conn.unregister("frame")
        if not data_health:
            return
        conn.execute("create schema raw")
        conn.execute(
            "create table raw.ingest_log (table_name varchar, service_date date, source_file varchar, "
            "sha256 varchar, rows integer, replaced_rows integer, loaded_at_utc timestamptz, loaded_rows integer, "
            "quarantined_rows integer)"
        )
        conn.executemany(
            "insert into raw.ingest_log values (?, ?, ?, 'sha', ?, 0, ?, ?, ?)",
            [
                (t, d, f, accepted, at, loaded, quarantined)
                for t, d, f, accepted, loaded, quarantined, at in HEALTH_INGEST_LOG
            ],
        )
        conn.execute("create schema quarantine")
        for table, rows in HEALTH_QUARANTINE.items():
            # As the landing writes them: CSV sources keep the raw line, pings are typed and have none.
            source_columns = (
                "vehicle_id varchar, lat double" if table == "pings" else "order_id varchar, _raw_line varchar"
            )
            conn.execute(
                f"create table quarantine.{table} (service_date date, {source_columns}, reason_code varchar, "
                "field varchar, reason varchar, _source_file varchar, _source_row bigint)"
            )
            for day, file, row, code, field, reason in rows:
                source_values = [None, 0.0] if table == "pings" else ["O-x", f"O-x,line {row + 1}"]
                conn.execute(
                    f"insert into quarantine.{table} values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [day, *source_values, code, field, reason, file, row],
                )
        conn.execute("create schema quality")
        conn.execute(
            "create table quality.data_checks (check_name varchar, table_name varchar, service_date date, "
            "severity varchar, passed boolean, failed_expectations integer, evaluated_expectations integer, "
            "message varchar, data_docs_path varchar, checked_at_utc timestamptz)"
        )
        conn.executemany(
            "insert into quality.data_checks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*check, _utc(check[2], "05:00")) for check in HEALTH_CHECKS],
        )


@pytest.fixture
def health_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The serving directory of a snapshot published (by the real publisher) from :func:`write_health_warehouse`,
    with LASTMILE_SERVING_DIR set."""
    warehouse = tmp_path / "warehouse.duckdb"
    write_health_warehouse(warehouse)
    serving_dir = tmp_path / "serving"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        publish_snapshot(conn, serving_dir)
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    return serving_dir
