"""What-if scenarios in the app: the queries over the snapshot's scenario tables and the pure builders of the
Scenarios page (the fleet editor, the request's parameters, the comparison table, the maps).

The pipeline writes the tables (``orchestration/scenarios.py``, ``scenario_queries``): ``scenarios`` (one row per
what-if plan and one per current plan of every date that has a what-if), ``scenario_routes``, ``scenario_stops``
and ``fleet`` (the newest fleet master). A snapshot published before what-ifs existed has none of them, and every
query then returns an empty frame with its columns. Values, the Parquet paths included, reach DuckDB as bound
parameters; nothing here formats user input into SQL.

The builders take and return DataFrames and plain dicts; they do not import Streamlit's widgets, so they are
unit-tested on small frames. Times are seconds after local midnight (Europe/Vaduz), rates fractions 0..1, money
EUR.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboard import layers

OPERATION_TIMEZONE = "Europe/Vaduz"
CACHE_TTL = "10m"
DATE_FORMAT = "%a %d %b %Y"
CURRENT_PLAN_NAME = "Current plan"
WHATIF_KIND = "whatif"
WINDOW_POLICIES: dict[int, str] = {
    0: "As ordered",
    15: "Widen by 15 min",
    30: "Widen by 30 min",
    60: "Widen by 60 min",
}
"""Delivery-window policies of the form: minutes each window is widened by on both sides, and their label."""

SCENARIO_TABLES = ("scenarios", "scenario_routes", "scenario_stops", "fleet")
SCENARIO_COLUMNS = (
    "plan_id",
    "service_date",
    "kind",
    "name",
    "created_at_utc",
    "params_json",
    "n_vehicles_available",
    "vehicles_used",
    "n_routes",
    "n_orders",
    "n_assigned",
    "n_unassigned",
    "distance_km",
    "duration_h",
    "cost_eur",
    "cost_per_delivery_eur",
    "projected_on_time_rate",
    "sim_on_time_rate",
    "sim_delivered",
    "sim_failed",
    "sim_unserved",
    "sim_cost_eur",
    "sim_cost_per_delivery_eur",
    "sim_distance_km",
)
SCENARIO_ROUTE_COLUMNS = (
    "plan_id",
    "depot_id",
    "route_id",
    "vehicle_id",
    "vehicle_type",
    "n_stops",
    "distance_m",
    "duration_s",
    "cost_eur",
    "start_s",
    "end_s",
)
SCENARIO_STOP_COLUMNS = ("plan_id", "route_id", "sequence", "order_id", "lat", "lon", "arrival_s", "late_s")
FLEET_COLUMNS = (
    "depot_id",
    "vehicle_type",
    "n_vehicles",
    "capacity_weight_kg",
    "shift_start_s",
    "shift_end_s",
    "cost_per_km_eur",
    "cost_per_hour_eur",
    "fixed_cost_eur",
)
FLEET_EDITOR_COLUMNS = ("Depot", "Depot name", "Vehicle type", "Capacity (kg)", "Shift", "In fleet", "Vehicles")
"""The fleet editor's columns: one row per depot and vehicle type; only ``Vehicles`` is edited."""

# --- queries ---------------------------------------------------------------------------------------------------

_SCENARIO_DATES_SQL = """
select distinct cast(service_date as date) as service_date
from read_parquet($scenarios)
where kind = $whatif
order by service_date
"""

# The current plan first, then the what-ifs oldest first.
_SCENARIOS_SQL = """
select
    plan_id,
    cast(service_date as date) as service_date,
    kind,
    name,
    created_at_utc,
    params_json,
    n_vehicles_available,
    vehicles_used,
    n_routes,
    n_orders,
    n_assigned,
    n_unassigned,
    distance_km,
    duration_h,
    cost_eur,
    cost_per_delivery_eur,
    projected_on_time_rate,
    sim_on_time_rate,
    sim_delivered,
    sim_failed,
    sim_unserved,
    sim_cost_eur,
    sim_cost_per_delivery_eur,
    sim_distance_km
from read_parquet($scenarios)
where cast(service_date as date) = $service_date
order by kind = $whatif, created_at_utc, plan_id
"""

_ROUTES_SQL = """
select plan_id, depot_id, route_id, vehicle_id, vehicle_type, n_stops, distance_m, duration_s, cost_eur, start_s, end_s
from read_parquet($scenario_routes)
where list_contains($plan_ids, plan_id)
order by plan_id, depot_id, vehicle_id, route_id
"""

_STOPS_SQL = """
select plan_id, route_id, sequence, order_id, lat, lon, arrival_s, late_s
from read_parquet($scenario_stops)
where list_contains($plan_ids, plan_id)
order by plan_id, route_id, sequence
"""

_FLEET_SQL = """
select
    depot_id,
    vehicle_type,
    n_vehicles,
    capacity_weight_kg,
    shift_start_s,
    shift_end_s,
    cost_per_km_eur,
    cost_per_hour_eur,
    fixed_cost_eur
from read_parquet($fleet)
order by depot_id, vehicle_type
"""


def _table_file(snapshot_key: str, table: str) -> Path:
    if table not in SCENARIO_TABLES:
        raise ValueError(f"unknown scenario table {table!r}; expected one of {', '.join(SCENARIO_TABLES)}")
    return Path(snapshot_key) / f"{table}.parquet"


def _frame(sql: str, snapshot_key: str, table: str, columns: Sequence[str], **params: Any) -> pd.DataFrame:
    """Run ``sql`` over one scenario table of the snapshot on a fresh in-memory connection (the path and
    ``params`` bound by name); an empty frame with ``columns`` when the snapshot lacks the table."""
    path = _table_file(snapshot_key, table)
    if not path.is_file():
        return pd.DataFrame(columns=list(columns))
    with duckdb.connect(":memory:") as connection:
        return connection.execute(sql, {table: str(path), **params}).df()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def scenario_dates(snapshot_key: str) -> list[dt.date]:
    """Service dates with at least one what-if plan, oldest first; none without the ``scenarios`` table."""
    dates = _frame(_SCENARIO_DATES_SQL, snapshot_key, "scenarios", ("service_date",), whatif=WHATIF_KIND)
    return [pd.Timestamp(value).date() for value in dates["service_date"]]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def scenarios(snapshot_key: str, service_date: dt.date) -> pd.DataFrame:
    """The plans of ``service_date`` in the ``scenarios`` table (:data:`SCENARIO_COLUMNS`): the current plan
    first, then the what-ifs oldest first."""
    return _frame(
        _SCENARIOS_SQL, snapshot_key, "scenarios", SCENARIO_COLUMNS, service_date=service_date, whatif=WHATIF_KIND
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def scenario_routes(snapshot_key: str, plan_ids: tuple[str, ...]) -> pd.DataFrame:
    """The routes of the given plans (:data:`SCENARIO_ROUTE_COLUMNS`), by plan, depot and vehicle."""
    return _frame(_ROUTES_SQL, snapshot_key, "scenario_routes", SCENARIO_ROUTE_COLUMNS, plan_ids=list(plan_ids))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def scenario_stops(snapshot_key: str, plan_ids: tuple[str, ...]) -> pd.DataFrame:
    """The stops of the given plans (:data:`SCENARIO_STOP_COLUMNS`), by plan, route and sequence."""
    return _frame(_STOPS_SQL, snapshot_key, "scenario_stops", SCENARIO_STOP_COLUMNS, plan_ids=list(plan_ids))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def fleet(snapshot_key: str) -> pd.DataFrame:
    """The newest fleet master (:data:`FLEET_COLUMNS`), one row per depot and vehicle type."""
    return _frame(_FLEET_SQL, snapshot_key, "fleet", FLEET_COLUMNS)


# --- dates -----------------------------------------------------------------------------------------------------


def local_today() -> dt.date:
    """Today in the operation's time zone (Europe/Vaduz)."""
    return dt.datetime.now(ZoneInfo(OPERATION_TIMEZONE)).date()


def format_date(day: dt.date) -> str:
    """A service date as the app writes it: ``Thu 26 Nov 2026``."""
    return day.strftime(DATE_FORMAT)


def scenario_date_options(snapshot_dates: Sequence[dt.date], today: dt.date) -> list[dt.date]:
    """The dates a what-if can be run for: tomorrow first, then the snapshot's dates before it, newest first
    (today's plan included: a past day once it has been played out)."""
    tomorrow = today + dt.timedelta(days=1)
    return [tomorrow, *sorted({d for d in snapshot_dates if d < tomorrow}, reverse=True)]


def scenario_date_label(day: dt.date, today: dt.date) -> str:
    """``Fri 27 Nov 2026 (tomorrow)``, ``Thu 26 Nov 2026 (today)`` or the plain date."""
    suffix = {today + dt.timedelta(days=1): " (tomorrow)", today: " (today)"}.get(day, "")
    return format_date(day) + suffix


# --- the fleet editor and the request ---------------------------------------------------------------------------


def fleet_key(depot_id: Any, vehicle_type: Any) -> str:
    """The key of one depot's vehicle type in ``ScenarioSpec.fleet``: ``<depot_id>/<vehicle_type>``."""
    return f"{depot_id}/{vehicle_type}"


def fleet_editor_rows(
    fleet_master: pd.DataFrame, depot_names: dict[str, str] | None = None, overrides: dict[str, int] | None = None
) -> pd.DataFrame:
    """The fleet editor's rows (:data:`FLEET_EDITOR_COLUMNS`): one per depot and vehicle type of the fleet master,
    ``In fleet`` its number of vehicles and ``Vehicles`` the scenario's (``overrides`` by :func:`fleet_key`, else
    as in the fleet).

    Raises
    ------
    ValueError
        If ``overrides`` names a depot and vehicle type that is not in the fleet master.
    """
    depot_names = depot_names or {}
    overrides = dict(overrides or {})
    rows = []
    for vehicle in fleet_master.itertuples(index=False):
        key = fleet_key(vehicle.depot_id, vehicle.vehicle_type)
        in_fleet = int(vehicle.n_vehicles)
        rows.append(
            {
                "Depot": str(vehicle.depot_id),
                "Depot name": depot_names.get(str(vehicle.depot_id), ""),
                "Vehicle type": str(vehicle.vehicle_type),
                "Capacity (kg)": float(vehicle.capacity_weight_kg),
                "Shift": layers.format_window(vehicle.shift_start_s, vehicle.shift_end_s),
                "In fleet": in_fleet,
                "Vehicles": int(overrides.pop(key, in_fleet)),
            }
        )
    if overrides:
        raise ValueError(f"fleet: {', '.join(sorted(overrides))} is not a depot and vehicle type of the fleet master")
    return pd.DataFrame(rows, columns=list(FLEET_EDITOR_COLUMNS))


def fleet_overrides(rows: pd.DataFrame) -> dict[str, int]:
    """``ScenarioSpec.fleet`` from the edited rows: the depot and vehicle types whose ``Vehicles`` differ from
    ``In fleet`` (the others stay as in the fleet master), by :func:`fleet_key`.

    Raises
    ------
    ValueError
        If a row's ``Vehicles`` is empty, negative or not a whole number.
    """
    overrides = {}
    for row in rows.to_dict("records"):
        key = fleet_key(row["Depot"], row["Vehicle type"])
        wanted = row["Vehicles"]
        if wanted is None or pd.isna(wanted) or float(wanted) < 0 or float(wanted) != int(float(wanted)):
            raise ValueError(f"fleet: vehicles for {key} must be a whole number of 0 or more, got {wanted!r}")
        if int(float(wanted)) != int(row["In fleet"]):
            overrides[key] = int(float(wanted))
    return overrides


def seconds_of_day(clock: dt.time) -> int:
    """A local time of day as seconds after midnight."""
    return clock.hour * 3600 + clock.minute * 60 + clock.second


def time_of_day(seconds: int) -> dt.time:
    """Seconds after midnight (within the day) as a local time of day."""
    return dt.time(seconds // 3600 % 24, seconds % 3600 // 60, seconds % 60)


def default_shift(fleet_master: pd.DataFrame) -> tuple[dt.time, dt.time]:
    """The form's starting shift: the fleet's earliest start and latest end, else 07:00-17:00."""
    starts = pd.to_numeric(fleet_master["shift_start_s"], errors="coerce").dropna()
    ends = pd.to_numeric(fleet_master["shift_end_s"], errors="coerce").dropna()
    if starts.empty or ends.empty:
        return dt.time(7, 0), dt.time(17, 0)
    return time_of_day(int(starts.min())), time_of_day(int(min(ends.max(), 86_399)))


def scenario_params(
    name: str,
    service_date: dt.date,
    fleet_changes: dict[str, int],
    shift: tuple[dt.time, dt.time] | None,
    window_widen_min: int,
    time_budget_s: float,
    seed: int,
) -> dict[str, Any]:
    """The fields of a ``ScenarioSpec`` (``orchestration.scenarios``) from the form's values: the name
    stripped, the date as ISO, the shift override (None: every vehicle's own shift) in seconds after midnight."""
    shift_start_s, shift_end_s = (None, None) if shift is None else (seconds_of_day(shift[0]), seconds_of_day(shift[1]))
    return {
        "name": name.strip(),
        "service_date": service_date.isoformat(),
        "fleet": dict(fleet_changes),
        "shift_start_s": shift_start_s,
        "shift_end_s": shift_end_s,
        "window_widen_min": int(window_widen_min),
        "time_budget_s": float(time_budget_s),
        "seed": int(seed),
    }


def cli_command(params: dict[str, Any]) -> str:
    """The shell command that runs the same what-if by hand (``python -m orchestration.cli whatif``), every
    value quoted for the shell."""
    words = ["python", "-m", "orchestration.cli", "whatif", "--date", params["service_date"], "--name", params["name"]]
    for key, count in sorted((params.get("fleet") or {}).items()):
        words += ["--vehicles", f"{key}={int(count)}"]
    if params.get("shift_start_s") is not None and params.get("shift_end_s") is not None:
        words += [
            "--shift",
            f"{layers.format_clock(params['shift_start_s'])}-{layers.format_clock(params['shift_end_s'])}",
        ]
    if params.get("window_widen_min"):
        words += ["--widen-min", str(int(params["window_widen_min"]))]
    words += ["--budget", f"{float(params.get('time_budget_s', 10.0)):g}", "--seed", str(int(params.get("seed", 1)))]
    return " ".join(shlex.quote(word) for word in words)


def parse_params(params_json: Any) -> dict[str, Any] | None:
    """A scenario's parameters from ``scenarios.params_json`` (the ScenarioSpec as JSON); None for the current
    plan (null) or a value that is not a JSON object."""
    if params_json is None or (isinstance(params_json, float) and math.isnan(params_json)):
        return None
    try:
        params = json.loads(params_json) if isinstance(params_json, str) else params_json
    except json.JSONDecodeError:
        return None
    return params if isinstance(params, dict) else None


def describe_params(params: dict[str, Any] | None, fleet_master: pd.DataFrame | None = None) -> list[str]:
    """A scenario's parameters in words, one line each: fleet, shifts, windows, solve budget and seed. The
    current plan (``params`` None) is described as the plan in force.

    Parameters
    ----------
    params : dict or None
        The ScenarioSpec fields (:func:`parse_params`).
    fleet_master : DataFrame, optional
        The ``fleet`` table, to say how many vehicles of a changed type the fleet has.
    """
    if params is None:
        return ["The plan in force for the day (the newest daily plan or re-plan), with the fleet, shifts and "
                "windows as they are."]  # fmt: skip
    in_fleet = {}
    if fleet_master is not None:
        in_fleet = {
            fleet_key(d, t): int(n)
            for d, t, n in zip(
                fleet_master["depot_id"], fleet_master["vehicle_type"], fleet_master["n_vehicles"], strict=True
            )
        }
    changes = params.get("fleet") or {}
    if changes:
        parts = []
        for key, count in sorted(changes.items()):
            depot_id, _, vehicle_type = key.partition("/")
            was = f" (fleet: {in_fleet[key]})" if key in in_fleet else ""
            parts.append(f"{depot_id} {vehicle_type}: {int(count)} vehicle{'' if int(count) == 1 else 's'}{was}")
        fleet_line = "Fleet: " + "; ".join(parts) + "; the rest as in the fleet master"
    else:
        fleet_line = "Fleet: as in the fleet master"
    start_s, end_s = params.get("shift_start_s"), params.get("shift_end_s")
    if start_s is None and end_s is None:
        shift_line = "Shifts: every vehicle's own"
    else:
        shift_line = f"Shifts: {layers.format_window(start_s, end_s)} for every vehicle"
    widen = int(params.get("window_widen_min") or 0)
    window_line = f"Delivery windows: widened by {widen} min on both sides" if widen else "Delivery windows: as ordered"
    budget = float(params.get("time_budget_s", 10.0))
    return [
        fleet_line,
        shift_line,
        window_line,
        f"Solve budget: {budget:g} s per depot · seed {int(params.get('seed', 1))}",
    ]


# --- the comparison ----------------------------------------------------------------------------------------------

# (label with its unit, column, scale, decimals, which way is better: +1 higher, -1 lower, 0 neither)
PLAN_METRICS: tuple[tuple[str, str, float, int, int], ...] = (
    ("Vehicles used", "vehicles_used", 1, 0, -1),
    ("Vehicles available", "n_vehicles_available", 1, 0, 0),
    ("Distance (km)", "distance_km", 1, 1, -1),
    ("Route time (h)", "duration_h", 1, 2, -1),
    ("Cost (EUR)", "cost_eur", 1, 2, -1),
    ("Cost per delivery (EUR)", "cost_per_delivery_eur", 1, 2, -1),
    ("Projected on-time (%)", "projected_on_time_rate", 100, 1, 1),
    ("Assigned orders", "n_assigned", 1, 0, 1),
    ("Unassigned orders", "n_unassigned", 1, 0, -1),
)
OUTCOME_METRICS: tuple[tuple[str, str, float, int, int], ...] = (
    ("Outcome: on-time (%)", "sim_on_time_rate", 100, 1, 1),
    ("Outcome: delivered", "sim_delivered", 1, 0, 1),
    ("Outcome: failed", "sim_failed", 1, 0, -1),
    ("Outcome: unserved", "sim_unserved", 1, 0, -1),
    ("Outcome: distance (km)", "sim_distance_km", 1, 1, -1),
    ("Outcome: cost (EUR)", "sim_cost_eur", 1, 2, -1),
    ("Outcome: cost per delivery (EUR)", "sim_cost_per_delivery_eur", 1, 2, -1),
)
DELTA_PREFIX = "Δ "


def is_current(plan: Any) -> bool:
    """Whether a ``scenarios`` row (a namedtuple or Series) is the date's current plan, not a what-if."""
    return str(plan.kind) != WHATIF_KIND


def plan_labels(plans: pd.DataFrame) -> dict[str, str]:
    """A unique display name per plan id: the scenario's name, with its creation time (local) when two plans share
    a name."""
    counts = plans["name"].astype(str).value_counts()
    labels = {}
    for plan in plans.itertuples(index=False):
        label = str(plan.name)
        if counts[label] > 1:
            label += f" · {layers.format_local_clock(plan.created_at_utc)}"
        if label in labels.values():
            label += f" · {plan.plan_id}"
        labels[str(plan.plan_id)] = label
    return labels


def baseline_plan_id(plans: pd.DataFrame) -> str | None:
    """The plan the others are compared with: the current plan, else the first one."""
    if plans.empty:
        return None
    current = [str(p.plan_id) for p in plans.itertuples(index=False) if is_current(p)]
    return current[0] if current else str(plans["plan_id"].iloc[0])


def has_outcome(plans: pd.DataFrame) -> bool:
    """Whether any of the plans has a simulated or actual outcome (a past date)."""
    columns = [column for _, column, *_ in OUTCOME_METRICS]
    return bool(plans[columns].notna().any().any())


def _metric_value(value: Any, scale: float, decimals: int) -> float:
    if value is None or pd.isna(value):
        return math.nan
    return round(float(value) * scale, decimals)


def comparison_table(plans: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """Side by side: one row per metric (its unit in the label), one column per plan (by :func:`plan_labels`), then
    one ``Δ <label>`` column per other plan: its value minus the baseline's (percentage points for rates).

    The outcome rows (simulated for a what-if, actual for the current plan) are there only when a plan has an
    outcome (a past date). Values are rounded for display: counts whole, km and % to 0.1, h and EUR to 0.01;
    missing values are NaN.

    Parameters
    ----------
    plans : DataFrame
        Rows of :func:`scenarios`, in display order.
    baseline : str, optional
        Plan id the deltas are taken against; default :func:`baseline_plan_id`.

    Returns
    -------
    DataFrame
        ``Metric``, the plans' columns, the delta columns; the ``better`` direction of each row is in
        ``DataFrame.attrs["better"]`` (+1 higher is better, -1 lower, 0 neither), by metric label.

    Raises
    ------
    ValueError
        If ``baseline`` is not one of the plans.
    """
    baseline = baseline or baseline_plan_id(plans)
    plan_ids = [str(p) for p in plans["plan_id"]]
    if plans.empty:
        return pd.DataFrame(columns=["Metric"])
    if baseline not in plan_ids:
        raise ValueError(f"baseline plan {baseline!r} is not among the plans compared ({', '.join(plan_ids)})")
    labels = plan_labels(plans)
    metrics = PLAN_METRICS + (OUTCOME_METRICS if has_outcome(plans) else ())
    by_id = plans.assign(plan_id=plans["plan_id"].astype(str)).set_index("plan_id")
    rows, better = [], {}
    for label, column, scale, decimals, direction in metrics:
        values = {pid: _metric_value(by_id.at[pid, column], scale, decimals) for pid in plan_ids}
        row = {"Metric": label} | {labels[pid]: values[pid] for pid in plan_ids}
        for pid in plan_ids:
            if pid != baseline:
                row[DELTA_PREFIX + labels[pid]] = round(values[pid] - values[baseline], decimals)
        rows.append(row)
        better[label] = direction
    table = pd.DataFrame(rows)
    table.attrs["better"] = better
    return table


def delta_colour(value: Any, direction: int) -> str:
    """CSS for a delta cell: green when the change is better, red when worse, plain otherwise."""
    if value is None or pd.isna(value) or value == 0 or direction == 0:
        return ""
    return "color: #2e7d32" if (value > 0) == (direction > 0) else "color: #c62828"


def metric_decimals() -> dict[str, int]:
    """Decimals each metric row is shown with, by label."""
    return {label: decimals for label, _, _, decimals, _ in PLAN_METRICS + OUTCOME_METRICS}


# --- the maps ----------------------------------------------------------------------------------------------------


def vehicle_colours(routes: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """One colour per vehicle id over all the plans compared (by depot, then vehicle), so a vehicle has the same
    colour on every map (the Plan page's palette)."""
    ordered = routes.sort_values(["depot_id", "vehicle_id"])["vehicle_id"].astype(str)
    return {vehicle: layers.PALETTE[i % len(layers.PALETTE)] for i, vehicle in enumerate(dict.fromkeys(ordered))}


def stop_points(routes: pd.DataFrame, stops: pd.DataFrame, colours: dict[str, tuple[int, int, int]]) -> list[dict]:
    """One point record per stop of the plans in ``routes``, in its vehicle's colour, with a tooltip (stop,
    vehicle, order, planned arrival, minutes late)."""
    vehicles = {
        layers.route_key(p, r): str(v)
        for p, r, v in zip(routes["plan_id"], routes["route_id"], routes["vehicle_id"], strict=True)
    }
    records = []
    for stop in stops.itertuples(index=False):
        vehicle = vehicles.get(layers.route_key(stop.plan_id, stop.route_id))
        if vehicle is None or pd.isna(stop.lat) or pd.isna(stop.lon):
            continue
        late = layers.late_minutes(stop.late_s)
        records.append(
            {
                "position": [float(stop.lon), float(stop.lat)],
                "color": list(colours[vehicle]),
                "order_id": str(stop.order_id),
                "tooltip": (
                    f"Stop {int(stop.sequence)} of {vehicle} · order {stop.order_id}\n"
                    f"Planned arrival {layers.format_clock(stop.arrival_s)}" + (f" · {late} min late" if late else "")
                ),
            }
        )
    return records


def scenario_deck(
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    depots: pd.DataFrame,
    colours: dict[str, tuple[int, int, int]] | None = None,
    width_px: int = 560,
    height_px: int = layers.MAP_HEIGHT_PX,
) -> pdk.Deck:
    """The map of one plan: its routes as lines from the depot through the stops back to the depot, one colour
    per vehicle, the stops and the depots, in a view fitted to them.

    Parameters
    ----------
    routes, stops : DataFrame
        One plan's rows of :func:`scenario_routes` and :func:`scenario_stops`.
    depots : DataFrame
        ``depot_id, name, lat, lon`` of every depot the routes use.
    colours : dict, optional
        Colour by vehicle id (:func:`vehicle_colours` of every plan compared); default this plan's.
    width_px, height_px : int
        Size the view is fitted for (a map beside another is narrower than the page).
    """
    colours = vehicle_colours(routes) if colours is None else colours
    route_colours = {
        layers.route_key(p, r): colours[str(v)]
        for p, r, v in zip(routes["plan_id"], routes["route_id"], routes["vehicle_id"], strict=True)
    }
    paths = layers.route_paths(routes, stops, depots, colors=route_colours)
    points = stop_points(routes, stops, colours)
    depot_records = layers.depot_points(depots)
    deck_layers = [
        layers._path_layer("scenario-routes", paths, width_px=4, min_width_px=3, opacity=0.85, auto_highlight=True),
        layers._dot_layer("scenario-stops", points, radius_px=6, line_width_px=1, auto_highlight=True),
        layers.depot_layer(depot_records),
    ]
    positions = [r["position"] for r in (*points, *depot_records)] + [p for r in paths for p in r["path"]]
    return layers._map_deck(deck_layers, layers.fit_view(positions, width_px=width_px, height_px=height_px))
