"""Pure builders for what the fleet's history taught: the Customers and Learned models pages, and the Plan page's
at-risk stops.

Nothing here imports Streamlit or touches the snapshot; inputs are query results (:mod:`dashboard.queries`).
Hours are local hours 0-23 (of the start of service, or of departure for travel); windows and times of day are
seconds since local midnight; rates are shares 0-1, shown in percent; lifts in percentage points; speed factors
multiply the planning speed (0.8 = 20 % slower than planned).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pydeck as pdk

from dashboard.layers import (
    FAILURE_REASON_LABELS,
    MAP_STYLE,
    STATUS_LABELS,
    fit_view,
    format_clock,
    format_published,
    format_window,
)

MODEL_LABELS = {
    "travel_time": "Travel time",
    "service_time": "Service time",
    "availability": "Customer availability",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEATHER_LABELS = {"dry": "Dry", "rain": "Rain", "heavy_rain": "Heavy rain", "snow": "Snow"}
SERVICE_LEVEL_LABELS = {"customer": "this customer", "site_zone": "site type in the zone", "site_type": "site type"}
# Speed-zone cells are 0.01 degree squares; cell "i:j" has its south-west corner at (i * 0.01, j * 0.01).
CELL_DEG = 0.01
AT_RISK_COLOR: tuple[int, int, int] = (214, 39, 40)
_PIXELS = pdk.types.String("pixels")
_DAY_S = 86_400

MODEL_SUMMARY_COLUMNS = (
    "Model",
    "Version",
    "Trained through",
    "Samples",
    "Fit error",
    "Baseline error",
    "Better than baseline (%)",
    "Error metric",
)
VERSION_HISTORY_COLUMNS = ("Version", "Trained from", "Trained through", "Created", "Samples", "Fit error", "Baseline")
WINDOW_TABLE_COLUMNS = ("Zone", "Window", "Success in window (%)", "Success all day (%)", "Lift (pp)", "Attempts")
CUSTOMER_HISTORY_COLUMNS = ("Date", "Order", "Window", "Arrived", "Outcome", "Attempt", "Minutes late", "Rating")
SLOW_ZONE_COLUMNS = ("Zone cell", "Lat", "Lon", "Speed factor", "Slower than planned (%)", "Legs")
VEHICLE_PACE_COLUMNS = ("Vehicle", "Pace factor", "Legs")
AT_RISK_COLUMNS = ("Order", "Vehicle", "Stop", "Window", "Planned arrival", "Minutes late")


# --- formatting --------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def format_hour_window(start_s: Any, end_s: Any) -> str:
    """A recommended window as ``09:00–12:00`` local; a window that ends at midnight ends at ``24:00``."""
    if _missing(start_s) or _missing(end_s):
        return ""
    end = "24:00" if int(end_s) == _DAY_S else format_clock(end_s)
    return f"{format_clock(start_s)}–{end}"


def _percent(rate: Any) -> float | None:
    return None if _missing(rate) else round(float(rate) * 100, 1)


def _rounded(value: Any, digits: int) -> float | None:
    return None if _missing(value) else round(float(value), digits)


def _count(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def error_metric_label(metric: Any) -> str:
    """What a model's errors measure (the fitting code says it in words), ``–`` when missing."""
    return "–" if _missing(metric) or not str(metric).strip() else str(metric)


# --- model versions ----------------------------------------------------------------------------------------


def latest_versions(versions: pd.DataFrame) -> pd.DataFrame:
    """The newest version of each model (largest trained_through, the latest created on a tie), in the order of
    :data:`MODEL_LABELS` (unknown models after them, by name)."""
    if versions.empty:
        return versions
    ordered = versions.sort_values(["model", "trained_through", "created_at_utc", "version"])
    newest = ordered.groupby("model", sort=False).tail(1)
    rank = {model: position for position, model in enumerate(MODEL_LABELS)}
    key = newest["model"].map(lambda m: (rank.get(m, len(rank)), m))
    return newest.assign(_rank=key).sort_values("_rank").drop(columns="_rank").reset_index(drop=True)


def _improvement(fit: Any, baseline: Any) -> float | None:
    if _missing(fit) or _missing(baseline) or float(baseline) == 0:
        return None
    return round((float(baseline) - float(fit)) / float(baseline) * 100, 1)


def model_summary_table(versions: pd.DataFrame) -> pd.DataFrame:
    """One display row per model, its newest version (:data:`MODEL_SUMMARY_COLUMNS`).

    ``Better than baseline (%)`` is how much smaller the fit error is than the baseline's (the plan's prior
    assumption), on days the version did not train on; negative means the model does worse.
    """
    newest = latest_versions(versions)
    return pd.DataFrame(
        {
            "Model": [MODEL_LABELS.get(m, str(m)) for m in newest["model"]],
            "Version": newest["version"].astype(str).to_list(),
            "Trained through": [pd.Timestamp(d).date().isoformat() for d in newest["trained_through"]],
            "Samples": newest["n_samples"].astype(int).to_list(),
            "Fit error": [_rounded(v, 3) for v in newest["fit_error"]],
            "Baseline error": [_rounded(v, 3) for v in newest["baseline_error"]],
            "Better than baseline (%)": [
                _improvement(f, b) for f, b in zip(newest["fit_error"], newest["baseline_error"], strict=True)
            ],
            "Error metric": [error_metric_label(m) for m in newest["error_metric"]],
        },
        columns=list(MODEL_SUMMARY_COLUMNS),
    )


def version_history_table(versions: pd.DataFrame, model: str) -> pd.DataFrame:
    """Every version of one model, newest first (:data:`VERSION_HISTORY_COLUMNS`; ``Created`` local time)."""
    rows = versions[versions["model"] == model].sort_values(
        ["trained_through", "created_at_utc", "version"], ascending=False
    )
    return pd.DataFrame(
        {
            "Version": rows["version"].astype(str).to_list(),
            "Trained from": ["" if _missing(d) else pd.Timestamp(d).date().isoformat() for d in rows["trained_from"]],
            "Trained through": [pd.Timestamp(d).date().isoformat() for d in rows["trained_through"]],
            "Created": [format_published(t) for t in rows["created_at_utc"]],
            "Samples": rows["n_samples"].astype(int).to_list(),
            "Fit error": [_rounded(v, 3) for v in rows["fit_error"]],
            "Baseline": [_rounded(v, 3) for v in rows["baseline_error"]],
        },
        columns=list(VERSION_HISTORY_COLUMNS),
    )


# --- customer availability ---------------------------------------------------------------------------------


def _in_window(hour: int, start_s: Any, end_s: Any) -> bool:
    """Whether the whole hour ``hour:00``-``hour+1:00`` lies inside the window."""
    if _missing(start_s) or _missing(end_s):
        return False
    return int(start_s) <= hour * 3600 and (hour + 1) * 3600 <= int(end_s)


def availability_heatmap_frame(availability: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """One row per zone and hour with history: smoothed success and whether the hour is in the zone's
    recommended window.

    Parameters
    ----------
    availability : DataFrame
        Zone-level rows of :func:`dashboard.queries.availability`.
    windows : DataFrame
        Zone-level rows of :func:`dashboard.queries.recommended_windows`; a zone without one marks no hour.

    Returns
    -------
    DataFrame
        ``zone, hour, hour_label`` (``09:00``), ``success_rate`` (0-1), ``attempts``, ``successes``,
        ``in_window`` (bool), by zone and hour.
    """
    bounds = {
        str(zone): (start, end)
        for zone, start, end in zip(windows["zone"], windows["window_start_s"], windows["window_end_s"], strict=True)
    }
    rows = availability.sort_values(["zone", "hour"])
    return pd.DataFrame(
        {
            "zone": rows["zone"].astype(str).to_list(),
            "hour": rows["hour"].astype(int).to_list(),
            "hour_label": [f"{int(h):02d}:00" for h in rows["hour"]],
            "success_rate": rows["success_rate"].astype(float).to_list(),
            "attempts": rows["attempts"].astype(int).to_list(),
            "successes": rows["successes"].astype(int).to_list(),
            "in_window": [
                _in_window(int(h), *bounds.get(str(z), (None, None)))
                for z, h in zip(rows["zone"], rows["hour"], strict=True)
            ],
        }
    )


def window_table(windows: pd.DataFrame) -> pd.DataFrame:
    """The recommended window per zone (:data:`WINDOW_TABLE_COLUMNS`): ``09:00–12:00`` local, success in the
    window and over the whole day in percent, the lift in percentage points, attempts, by zone."""
    rows = windows.sort_values("zone")
    return pd.DataFrame(
        {
            "Zone": rows["zone"].astype(str).to_list(),
            "Window": [
                format_hour_window(a, b) for a, b in zip(rows["window_start_s"], rows["window_end_s"], strict=True)
            ],
            "Success in window (%)": [_percent(r) for r in rows["success_rate"]],
            "Success all day (%)": [_percent(r) for r in rows["day_success_rate"]],
            "Lift (pp)": [_percent(r) for r in rows["lift"]],
            "Attempts": rows["attempts"].astype(int).to_list(),
        },
        columns=list(WINDOW_TABLE_COLUMNS),
    )


@dataclass(frozen=True)
class WindowChoice:
    """The window to recommend to one customer, and whose history it comes from (``customer`` or ``zone``)."""

    start_s: int
    end_s: int
    success_rate: float
    day_success_rate: float
    lift: float
    attempts: int
    source: str

    @property
    def label(self) -> str:
        """``09:00–12:00``."""
        return format_hour_window(self.start_s, self.end_s)


def _window_choice(row: Any, source: str) -> WindowChoice:
    return WindowChoice(
        start_s=int(row.window_start_s),
        end_s=int(row.window_end_s),
        success_rate=float(row.success_rate),
        day_success_rate=float(row.day_success_rate),
        lift=float(row.lift),
        attempts=int(row.attempts),
        source=source,
    )


def best_window(
    customer_id: str, zone: str | None, customer_windows: pd.DataFrame, zone_windows: pd.DataFrame
) -> WindowChoice | None:
    """The customer's own recommended window, else their zone's, else None.

    Parameters
    ----------
    customer_id : str
    zone : str or None
        The customer's zone (town), when known.
    customer_windows, zone_windows : DataFrame
        Customer-level and zone-level rows of :func:`dashboard.queries.recommended_windows`.
    """
    own = customer_windows[customer_windows["customer_id"].astype(str) == str(customer_id)]
    if not own.empty:
        return _window_choice(next(own.itertuples(index=False)), "customer")
    if zone is not None:
        local = zone_windows[zone_windows["zone"].astype(str) == str(zone)]
        if not local.empty:
            return _window_choice(next(local.itertuples(index=False)), "zone")
    return None


@dataclass(frozen=True)
class ServiceEstimate:
    """Time on site for a one-parcel stop (seconds) and the level it comes from (``customer``, ``site_zone``,
    ``site_type``); ``per_parcel_s`` is added for each further parcel."""

    median_s: float
    p90_s: float
    per_parcel_s: float
    n_samples: int
    level: str

    @property
    def basis(self) -> str:
        """Whose history the estimate comes from, in words."""
        return SERVICE_LEVEL_LABELS.get(self.level, self.level)


def service_estimate(
    service_times: pd.DataFrame, customer_id: str, site_type: str | None, zone: str | None
) -> ServiceEstimate | None:
    """The customer's own service time, else their site type's in their zone, else their site type's, else None.

    Parameters
    ----------
    service_times : DataFrame
        Rows of :func:`dashboard.queries.service_times` of any levels.
    customer_id : str
    site_type, zone : str or None
        The customer's site type and zone, when known; without them the fallbacks that need them are skipped.
    """
    levels = service_times["level"].astype(str)
    candidates = [(levels == "customer") & (service_times["customer_id"].astype(str) == str(customer_id))]
    if site_type is not None and zone is not None:
        candidates.append(
            (levels == "site_zone")
            & (service_times["site_type"].astype(str) == str(site_type))
            & (service_times["zone"].astype(str) == str(zone))
        )
    if site_type is not None:
        candidates.append((levels == "site_type") & (service_times["site_type"].astype(str) == str(site_type)))
    for mask in candidates:
        match = service_times[mask]
        if not match.empty:
            row = next(match.itertuples(index=False))
            return ServiceEstimate(
                median_s=float(row.median_s),
                p90_s=float(row.p90_s),
                per_parcel_s=float(row.per_parcel_s),
                n_samples=int(row.n_samples),
                level=str(row.level),
            )
    return None


def _first_present(*columns: pd.Series) -> str | None:
    for column in columns:
        values = column.dropna()
        if not values.empty:
            return str(values.iloc[0])
    return None


def customer_site(
    customer_times: pd.DataFrame,
    customer_availability: pd.DataFrame,
    customer_windows: pd.DataFrame,
    deliveries: pd.DataFrame,
) -> tuple[str | None, str | None]:
    """The customer's site type and zone, from the first of their model rows or past orders that names them.

    All frames hold one customer's rows; ``deliveries`` (:func:`dashboard.queries.customer_deliveries`) names
    the zone as ``town``.
    """
    site_type = _first_present(customer_times["site_type"])
    zone = _first_present(
        customer_times["zone"], customer_availability["zone"], customer_windows["zone"], deliveries["town"]
    )
    return site_type, zone


def hourly_success_frame(customer_availability: pd.DataFrame, zone_availability: pd.DataFrame) -> pd.DataFrame:
    """The customer's smoothed success by hour next to their zone's, for every hour either has.

    Returns
    -------
    DataFrame
        ``hour, hour_label, customer_rate, customer_attempts, zone_rate`` (rates 0-1; missing where that level
        has no row for the hour), by hour.
    """
    own = {int(h): (float(r), int(a)) for h, r, a in customer_availability[["hour", "success_rate", "attempts"]].values}
    zone = {int(h): float(r) for h, r in zone_availability[["hour", "success_rate"]].values}
    hours = sorted(set(own) | set(zone))
    return pd.DataFrame(
        {
            "hour": hours,
            "hour_label": [f"{h:02d}:00" for h in hours],
            "customer_rate": [own[h][0] if h in own else None for h in hours],
            "customer_attempts": [own[h][1] if h in own else 0 for h in hours],
            "zone_rate": [zone.get(h) for h in hours],
        }
    )


def _outcome_label(outcome: Any, failure_reason: Any) -> str:
    if _missing(outcome):
        return ""
    label = STATUS_LABELS.get(str(outcome), str(outcome).replace("_", " ").capitalize())
    if outcome == "failed" and not _missing(failure_reason):
        label += f": {FAILURE_REASON_LABELS.get(str(failure_reason), str(failure_reason))}"
    return label


def customer_history_table(deliveries: pd.DataFrame) -> pd.DataFrame:
    """A customer's past orders for display (:data:`CUSTOMER_HISTORY_COLUMNS`), in the order given."""
    return pd.DataFrame(
        {
            "Date": [pd.Timestamp(d).date().isoformat() for d in deliveries["service_date"]],
            "Order": deliveries["order_id"].astype(str).to_list(),
            "Window": [
                format_window(a, b) for a, b in zip(deliveries["tw_start_s"], deliveries["tw_end_s"], strict=True)
            ],
            "Arrived": [format_clock(s) for s in deliveries["actual_arrival_s"]],
            "Outcome": [
                _outcome_label(o, r) for o, r in zip(deliveries["outcome"], deliveries["failure_reason"], strict=True)
            ],
            "Attempt": [_count(a) for a in deliveries["attempt"]],
            "Minutes late": [_rounded(m, 0) for m in deliveries["minutes_late"]],
            "Rating": [_count(r) for r in deliveries["rating"]],
        },
        columns=list(CUSTOMER_HISTORY_COLUMNS),
    )


def service_time_frame(site_zone_times: pd.DataFrame) -> pd.DataFrame:
    """Service time per site type and zone in minutes, for the chart: ``site_type, zone, label``
    (``house · Vaduz``), ``median_min``, ``p90_min``, ``n_samples``, by site type and zone."""
    rows = site_zone_times.sort_values(["site_type", "zone"])
    return pd.DataFrame(
        {
            "site_type": rows["site_type"].astype(str).to_list(),
            "zone": rows["zone"].astype(str).to_list(),
            "label": [f"{s} · {z}" for s, z in zip(rows["site_type"], rows["zone"], strict=True)],
            "median_min": (rows["median_s"].astype(float) / 60).round(2).to_list(),
            "p90_min": (rows["p90_s"].astype(float) / 60).round(2).to_list(),
            "n_samples": rows["n_samples"].astype(int).to_list(),
        }
    )


# --- travel time -------------------------------------------------------------------------------------------


def _term(factors: pd.DataFrame, term: str) -> pd.DataFrame:
    return factors[factors["term"] == term]


def speed_profile_frame(factors: pd.DataFrame) -> pd.DataFrame:
    """The speed factor of every weekday and hour: ``factor(hour) * factor(weekday)``.

    Parameters
    ----------
    factors : DataFrame
        :func:`dashboard.queries.travel_time_factors` (terms ``hour`` with keys ``'0'``..``'23'`` and
        ``weekday`` with keys ``'Mon'``..``'Sun'``; other terms are ignored).

    Returns
    -------
    DataFrame
        ``weekday`` (``Mon``..), ``hour``, ``hour_label``, ``factor``, for the weekdays and hours that both
        have a factor, Monday first and by hour. Empty when either term is missing.
    """
    hours = {int(k): float(f) for k, f in _term(factors, "hour")[["key", "factor"]].values}
    weekdays = {str(k): float(f) for k, f in _term(factors, "weekday")[["key", "factor"]].values}
    rows = [
        (day, hour, f"{hour:02d}:00", weekdays[day] * hours[hour])
        for day in WEEKDAYS
        if day in weekdays
        for hour in sorted(hours)
    ]
    return pd.DataFrame(rows, columns=["weekday", "hour", "hour_label", "factor"])


def weather_frame(factors: pd.DataFrame) -> pd.DataFrame:
    """The weather factors: ``condition`` (key), ``label``, ``factor``, ``n_samples``; dry, rain, heavy rain,
    snow first, then any other condition by name."""
    rows = _term(factors, "weather")
    rank = {condition: position for position, condition in enumerate(WEATHER_LABELS)}
    rows = rows.assign(_rank=[(rank.get(k, len(rank)), k) for k in rows["key"]]).sort_values("_rank")
    return pd.DataFrame(
        {
            "condition": rows["key"].astype(str).to_list(),
            "label": [WEATHER_LABELS.get(k, str(k).replace("_", " ")) for k in rows["key"]],
            "factor": rows["factor"].astype(float).to_list(),
            "n_samples": rows["n_samples"].astype(int).to_list(),
        }
    )


def parse_cell(cell_id: str) -> tuple[float, float]:
    """The centre ``(lat, lon)`` of a speed-zone cell ``"i:j"`` (south-west corner ``i * 0.01, j * 0.01``).

    Raises
    ------
    ValueError
        If ``cell_id`` is not two integers separated by a colon.
    """
    parts = str(cell_id).split(":")
    try:
        i, j = (int(part) for part in parts)
    except ValueError:
        raise ValueError(f"zone cell id {cell_id!r} is not 'i:j' with integers i and j") from None
    return round(i * CELL_DEG + CELL_DEG / 2, 6), round(j * CELL_DEG + CELL_DEG / 2, 6)


def slowest_zones(factors: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The ``limit`` zone cells with the lowest speed factor: ``cell, lat, lon`` (centre), ``factor``,
    ``n_samples``, slowest first (by cell id on a tie). Cells whose id is not ``i:j`` are left out."""
    rows = _term(factors, "zone").sort_values(["factor", "key"]).head(limit)
    records = []
    for key, factor, samples in rows[["key", "factor", "n_samples"]].values:
        try:
            lat, lon = parse_cell(key)
        except ValueError:
            continue
        records.append((str(key), lat, lon, float(factor), int(samples)))
    return pd.DataFrame(records, columns=["cell", "lat", "lon", "factor", "n_samples"])


def slow_zone_table(zones: pd.DataFrame) -> pd.DataFrame:
    """Display rows of :func:`slowest_zones` (:data:`SLOW_ZONE_COLUMNS`)."""
    return pd.DataFrame(
        {
            "Zone cell": zones["cell"].to_list(),
            "Lat": zones["lat"].round(3).to_list(),
            "Lon": zones["lon"].round(3).to_list(),
            "Speed factor": zones["factor"].round(2).to_list(),
            "Slower than planned (%)": [round((1 - f) * 100, 1) for f in zones["factor"]],
            "Legs": zones["n_samples"].astype(int).to_list(),
        },
        columns=list(SLOW_ZONE_COLUMNS),
    )


def _slowness_color(factor: float) -> list[int]:
    """Red for the slowest cells, fading to yellow as the factor nears (or passes) 1."""
    share = min(max((1.0 - factor) / 0.5, 0.0), 1.0)
    return [int(round(255 - 41 * share)), int(round(200 - 161 * share)), int(round(60 - 20 * share)), 170]


def zone_cells(zones: pd.DataFrame) -> list[dict[str, Any]]:
    """One polygon record per zone cell of :func:`slowest_zones`: the cell's square, colour and tooltip."""
    records = []
    for cell, lat, lon, factor, samples in zones[["cell", "lat", "lon", "factor", "n_samples"]].values:
        south, west = lat - CELL_DEG / 2, lon - CELL_DEG / 2
        north, east = south + CELL_DEG, west + CELL_DEG
        records.append(
            {
                "cell": str(cell),
                "polygon": [[west, south], [east, south], [east, north], [west, north]],
                "color": _slowness_color(float(factor)),
                "tooltip": f"Cell {cell}: speed x {float(factor):.2f} ({int(samples)} legs)",
            }
        )
    return records


def zone_deck(zones: pd.DataFrame) -> pdk.Deck:
    """A map of the slowest zone cells (:func:`slowest_zones`) as coloured squares on the token-free basemap."""
    cells = zone_cells(zones)
    layer = pdk.Layer(
        "PolygonLayer",
        id="slow-zones",
        data=cells,
        get_polygon="polygon",
        get_fill_color="color",
        get_line_color=[120, 20, 20],
        line_width_min_pixels=1,
        stroked=True,
        pickable=True,
        auto_highlight=True,
    )
    corners = [point for cell in cells for point in cell["polygon"]]
    return pdk.Deck(
        layers=[layer],
        initial_view_state=fit_view(corners, height_px=360),
        map_provider="carto",
        map_style=MAP_STYLE,
        tooltip={"text": "{tooltip}"},
    )


def vehicle_pace_table(factors: pd.DataFrame) -> pd.DataFrame:
    """The drivers' pace per vehicle (:data:`VEHICLE_PACE_COLUMNS`), slowest first (by vehicle on a tie)."""
    rows = _term(factors, "vehicle").sort_values(["factor", "key"])
    return pd.DataFrame(
        {
            "Vehicle": rows["key"].astype(str).to_list(),
            "Pace factor": rows["factor"].astype(float).round(3).to_list(),
            "Legs": rows["n_samples"].astype(int).to_list(),
        },
        columns=list(VEHICLE_PACE_COLUMNS),
    )


# --- the plan's at-risk stops ------------------------------------------------------------------------------


def _late(late_s: Any) -> bool:
    return not _missing(late_s) and int(late_s) > 0


def minutes_late(late_s: Any) -> int | None:
    """Whole minutes a stop is at risk of being late (rounded up, so 20 s late reads 1 min); None when it is not."""
    return math.ceil(int(late_s) / 60) if _late(late_s) else None


def at_risk_count(stops: pd.DataFrame) -> int | None:
    """Stops whose re-timed arrival misses the window (``late_s > 0``); None when the plans were made without
    re-timing (no ``late_s`` at all)."""
    if "late_s" not in stops.columns or stops.empty or stops["late_s"].isna().all():
        return None
    return sum(_late(v) for v in stops["late_s"])


def preferred_window_counts(stops: pd.DataFrame) -> tuple[int, int]:
    """``(inside, with_preferred)``: stops planned inside their customer's preferred window, of the stops whose
    order has one (``in_preferred_window`` not null)."""
    if "in_preferred_window" not in stops.columns:
        return 0, 0
    flags = stops["in_preferred_window"].dropna()
    return int(sum(bool(f) for f in flags)), len(flags)


def at_risk_points(stops: pd.DataFrame) -> list[dict[str, Any]]:
    """One point record per at-risk stop (``late_s > 0``) with coordinates: position and tooltip."""
    if "late_s" not in stops.columns:
        return []
    return [
        {
            "position": [float(s.lon), float(s.lat)],
            "order_id": str(s.order_id),
            "tooltip": (
                f"AT RISK: order {s.order_id} ({s.vehicle_id}, stop {int(s.sequence)})\n"
                f"Arrives {format_clock(s.arrival_s)}, {minutes_late(s.late_s)} min after the window "
                f"{format_window(s.tw_start_s, s.tw_end_s)} closes"
            ),
        }
        for s in stops.itertuples(index=False)
        if _late(s.late_s) and not (_missing(s.lat) or _missing(s.lon))
    ]


def at_risk_layer(points: list[dict[str, Any]]) -> pdk.Layer:
    """At-risk stops as large red rings around their stop dots (from :func:`at_risk_points`)."""
    return pdk.Layer(
        "ScatterplotLayer",
        id="at-risk",
        data=points,
        get_position="position",
        get_fill_color=[*AT_RISK_COLOR, 40],
        get_line_color=list(AT_RISK_COLOR),
        get_radius=12,
        radius_units=_PIXELS,
        stroked=True,
        filled=True,
        line_width_min_pixels=3,
        pickable=True,
    )


def with_at_risk(deck: pdk.Deck, stops: pd.DataFrame) -> pdk.Deck:
    """``deck`` (the plan map of :func:`dashboard.layers.build_deck`) with the at-risk rings drawn above the
    stops and below the depots; unchanged when no stop is at risk."""
    points = at_risk_points(stops)
    if points:
        depots_at = next((i for i, layer in enumerate(deck.layers) if layer.id == "depots"), len(deck.layers))
        deck.layers.insert(depots_at, at_risk_layer(points))
    return deck


def manifest_with_at_risk(manifest: pd.DataFrame, route_stops: pd.DataFrame) -> pd.DataFrame:
    """The driver manifest (:func:`dashboard.layers.driver_manifest`) with an ``At risk`` column after
    ``Planned arrival``: minutes late for at-risk stops, empty otherwise (matched by stop number)."""
    late_by_stop = (
        {int(q): minutes_late(v) for q, v in zip(route_stops["sequence"], route_stops["late_s"], strict=True)}
        if "late_s" in route_stops.columns
        else {}
    )
    table = manifest.copy()
    table.insert(
        table.columns.get_loc("Planned arrival") + 1,
        "At risk",
        pd.array([late_by_stop.get(int(stop)) for stop in table["Stop"]], dtype="Int64"),
    )
    return table


def at_risk_table(stops: pd.DataFrame) -> pd.DataFrame:
    """The at-risk stops (:data:`AT_RISK_COLUMNS`), latest first (then by order id)."""
    at_risk = [_late(v) for v in stops["late_s"]] if "late_s" in stops.columns else [False] * len(stops)
    late = stops[at_risk]
    late = late.assign(_late=pd.to_numeric(late["late_s"]) if len(late) else 0).sort_values(
        ["_late", "order_id"], ascending=[False, True]
    )
    return pd.DataFrame(
        {
            "Order": late["order_id"].astype(str).to_list(),
            "Vehicle": late["vehicle_id"].astype(str).to_list(),
            "Stop": late["sequence"].astype(int).to_list(),
            "Window": [format_window(a, b) for a, b in zip(late["tw_start_s"], late["tw_end_s"], strict=True)],
            "Planned arrival": [format_clock(s) for s in late["arrival_s"]],
            "Minutes late": [minutes_late(v) for v in late["late_s"]],
        },
        columns=list(AT_RISK_COLUMNS),
    )


def overtime_minutes(routes: pd.DataFrame) -> list[int | None] | None:
    """Minutes each route runs past its shift or the depot's closing (``overtime_s``, rounded up; None for a
    route without overtime), in the order of ``routes``; None when no route has overtime."""
    if "overtime_s" not in routes.columns or not any(_late(v) for v in routes["overtime_s"]):
        return None
    return [minutes_late(v) for v in routes["overtime_s"]]


def model_versions_caption(plan_versions: pd.DataFrame) -> str:
    """Which learned models the shown plans used, from :func:`dashboard.queries.plan_model_versions`.

    Each model lists its distinct versions over the depots' plans; a plan without learned models reads
    "planned without learned models".
    """
    columns = {
        "travel time": "travel_model_version",
        "service time": "service_model_version",
        "availability": "availability_model_version",
    }
    parts = []
    for label, column in columns.items():
        used = sorted({str(v) for v in plan_versions[column].dropna()}) if column in plan_versions else []
        if used:
            parts.append(f"{label} {', '.join(f'`{v}`' for v in used)}")
    if not parts:
        return "Planned without learned models (planning speeds and prior service times)"
    unversioned = sum(plan_versions[list(columns.values())].isna().all(axis=1))
    note = f" · {unversioned} depot plan(s) without learned models" if unversioned else ""
    return "Learned models used: " + " · ".join(parts) + note
