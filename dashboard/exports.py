"""Exports of a plan: driver manifests (CSV and a printable HTML page), the routes as GeoJSON, KPI tables as CSV.

Pure functions from query DataFrames (:mod:`dashboard.queries`, :mod:`dashboard.manifest_queries`) to the bytes
of a download; nothing here imports Streamlit or reads the snapshot, so every export is unit-tested on small frames.

Times are seconds since local midnight of the service date, so a formatted time is the local time of the operation
(Europe/Vaduz); distances are metres, weights grams and volumes cm³ in, and km, kg and litres out.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from dashboard import layers
from dashboard.queries import DAILY_KPI_COLUMNS

# One row per planned stop, in stop order: what the driver reads (labels, local times, kg and litres).
MANIFEST_COLUMNS = (
    "Stop",
    "Order",
    "Street",
    "Postcode",
    "Town",
    "Window",
    "Planned arrival",
    "Parcels",
    "Weight (kg)",
    "Volume (l)",
    "Notes",
)
# The manifest of several routes in one file: which route each stop belongs to, then the route's manifest.
ROUTE_KEY_COLUMNS = ("Depot", "Vehicle", "Route")

PLAN_KPI_COLUMNS = (
    "service_date",
    "depot_id",
    "depot_name",
    "plan_id",
    "plan_kind",
    "plan_version",
    "routes",
    "stops",
    "distance_km",
    "duration_h",
    "cost_eur",
    "cost_per_delivery_eur",
    "unassigned",
)
# One row per period and depot: each published day, then the whole range (rates 0-1, money EUR, rating 1-5):
# the daily KPI columns with the day as a period.
DELIVERY_KPI_COLUMNS = ("period_start", "period_end", *DAILY_KPI_COLUMNS[DAILY_KPI_COLUMNS.index("service_date") + 1 :])
ALL_DEPOTS_LABEL = "all depots"

# A spreadsheet runs a cell that starts with one of these as a formula; order notes are customer text.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_COORDINATE_DIGITS = 6  # about 0.1 m: RFC 7946 advises no more precision than the data has


def _missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value).strip()


def _int_or_none(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    """A column as a list, or nulls when the frame predates it."""
    return frame[name].to_list() if name in frame else [None] * len(frame)


# --- driver manifests --------------------------------------------------------------------------------------------


def format_windows(tw_start_s: Any, tw_end_s: Any, tw2_start_s: Any = None, tw2_end_s: Any = None) -> str:
    """The order's delivery window(s) in local time, e.g. ``08:00–10:00 or 14:00–16:00``; ``any time`` without."""
    first = layers.format_window(tw_start_s, tw_end_s)
    if _missing(tw2_start_s) and _missing(tw2_end_s):
        return first
    return f"{first} or {layers.format_window(tw2_start_s, tw2_end_s)}"


def _break_note(route: Mapping[str, Any] | None, sequence: int, first_sequence: int) -> str:
    """The break note of a stop: the break follows it, or (``break_after_sequence`` 0) precedes the first stop."""
    if route is None:
        return ""
    after = _int_or_none(route.get("break_after_sequence"))
    start = _int_or_none(route.get("break_start_s"))
    if after is None or start is None:
        return ""
    length_s = _int_or_none(route.get("break_s"))
    length = f", {length_s // 60} min" if length_s else ""
    if after == sequence:
        return f"Break after this stop ({layers.format_clock(start)}{length})"
    if after == 0 and sequence == first_sequence:
        return f"Break at the depot before this stop ({layers.format_clock(start)}{length})"
    return ""


def _stop_records(stops: pd.DataFrame, route: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One record per stop of one route, in sequence order: the manifest values plus the flags the printable page
    marks (``pickup``, ``reload``, ``break``)."""
    ordered = stops.sort_values("sequence")
    sequences = [int(s) for s in ordered["sequence"]]
    order_types = [_text(t).lower() for t in _column(ordered, "order_type")]
    shipments = [_text(s) for s in _column(ordered, "shipment_id")]
    trips = [_int_or_none(t) for t in _column(ordered, "trip")]
    # A shipment picked up and delivered on this route: each end names the other's stop.
    shipment_stops: dict[tuple[str, str], int] = {
        (shipment, kind): sequence
        for shipment, kind, sequence in zip(shipments, order_types, sequences, strict=True)
        if shipment
    }
    depot = "" if route is None else _text(route.get("start_depot_id")) or _text(route.get("depot_id"))
    records, previous_trip = [], None
    for stop, sequence, kind, shipment, trip in zip(
        ordered.to_dict("records"), sequences, order_types, shipments, trips, strict=True
    ):
        reload = trip is not None and previous_trip is not None and trip > previous_trip
        previous_trip = trip if trip is not None else previous_trip
        notes = []
        if reload:
            notes.append(f"Reload at {f'depot {depot}' if depot else 'the depot'} before this stop (trip {trip})")
        if kind == "pickup":
            partner = shipment_stops.get((shipment, "delivery"))
            notes.append("PICKUP" + (f": deliver at stop {partner}" if partner else ": bring back to the depot"))
        elif shipment and (shipment, "pickup") in shipment_stops:
            notes.append(f"Delivers what was picked up at stop {shipment_stops[(shipment, 'pickup')]}")
        skills = " ".join(_text(stop.get("required_skills")).replace(",", " ").split())
        if skills:
            notes.append(f"Needs: {', '.join(skills.split())}")
        if _text(stop.get("priority")).lower() == "high":
            notes.append("High priority")
        break_note = _break_note(route, sequence, sequences[0])
        if break_note:
            notes.append(break_note)
        if _text(stop.get("notes")):
            notes.append(_text(stop.get("notes")))
        volume = stop.get("volume_cm3")
        records.append(
            {
                "Stop": sequence,
                "Order": _text(stop.get("order_id")),
                "Street": _text(stop.get("street")),
                "Postcode": _text(stop.get("postcode")),
                "Town": _text(stop.get("town")),
                "Window": format_windows(
                    stop.get("tw_start_s"), stop.get("tw_end_s"), stop.get("tw2_start_s"), stop.get("tw2_end_s")
                ),
                "Planned arrival": layers.format_clock(stop.get("arrival_s")),
                "Parcels": _int_or_none(stop.get("parcels")),
                "Weight (kg)": None if _missing(stop.get("weight_g")) else round(stop["weight_g"] / 1000, 1),
                "Volume (l)": None if _missing(volume) else round(volume / 1000, 1),
                "Notes": " · ".join(notes),
                "pickup": kind == "pickup",
                "reload": reload,
                "break": bool(break_note),
            }
        )
    return records


def driver_manifest(stops: pd.DataFrame, route: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The driver manifest of one route: one row per stop, in sequence order.

    Parameters
    ----------
    stops : DataFrame
        The route's planned stops (:func:`dashboard.manifest_queries.manifest_stops` columns; ``order_type``,
        ``required_skills``, ``priority``, ``shipment_id``, ``tw2_*``, ``trip`` and ``volume_cm3`` may be missing).
    route : mapping, optional
        The route's row of :func:`dashboard.queries.planned_routes`: its break and start depot go into the notes.

    Returns
    -------
    DataFrame
        :data:`MANIFEST_COLUMNS`: window(s) and planned arrival as local ``HH:MM``, weight in kg, volume in litres;
        ``Notes`` joins what the driver must know (a reload at the depot before the stop, pickup and its
        delivery stop, required skills, high priority, the break) with the order's own notes.
    """
    return pd.DataFrame(
        [{column: record[column] for column in MANIFEST_COLUMNS} for record in _stop_records(stops, route)],
        columns=list(MANIFEST_COLUMNS),
    )


def _route_stops(stops: pd.DataFrame, route: Mapping[str, Any]) -> pd.DataFrame:
    mask = (stops["plan_id"].astype(str) == str(route["plan_id"])) & (
        stops["route_id"].astype(str) == str(route["route_id"])
    )
    return stops[mask]


def manifests(routes: pd.DataFrame, stops: pd.DataFrame) -> pd.DataFrame:
    """The manifests of several routes in one table: :data:`ROUTE_KEY_COLUMNS` then :data:`MANIFEST_COLUMNS`, the
    routes in the order of ``routes`` and each route's stops in sequence order."""
    frames = []
    for route in routes.to_dict("records"):
        manifest = driver_manifest(_route_stops(stops, route), route)
        for position, (column, value) in enumerate(
            zip(ROUTE_KEY_COLUMNS, (route["depot_id"], route["vehicle_id"], route["route_id"]), strict=True)
        ):
            manifest.insert(position, column, str(value))
        frames.append(manifest)
    columns = [*ROUTE_KEY_COLUMNS, *MANIFEST_COLUMNS]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, quoted so it shows as text (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(table: pd.DataFrame) -> bytes:
    """A table as CSV bytes: UTF-8 with BOM (spreadsheet programs then read umlauts right), text cells that would
    run as formulas quoted, missing values empty."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_spreadsheet_safe)
    return safe.to_csv(index=False).encode("utf-8-sig")


def route_header(
    route: Mapping[str, Any],
    driver_id: str | None = None,
    depot_names: Mapping[str, str] | None = None,
    parcels: int | None = None,
) -> dict[str, str]:
    """The header of a route's manifest, label -> text: service date, vehicle, driver (empty when not known),
    depot(s), start and end (local), distance, stops and trips, load (parcels, kg, litres), break, plan.

    Parameters
    ----------
    route : mapping
        A row of :func:`dashboard.queries.planned_routes`.
    driver_id : str, optional
        Who drives it, when known (a played-out date's ``route_days``).
    depot_names : mapping, optional
        Depot name by id, to name the depot(s).
    parcels : int, optional
        Parcels on the route (the sum over its stops).
    """
    names = depot_names or {}

    def depot(depot_id: Any) -> str:
        key = _text(depot_id)
        return f"{names[key]} ({key})" if key in names else key

    home = _text(route.get("depot_id"))
    start = _text(route.get("start_depot_id")) or home
    end = _text(route.get("end_depot_id")) or home
    header = {
        "Service date": pd.Timestamp(route["service_date"]).strftime("%a %d %b %Y"),
        "Vehicle": f"{route['vehicle_id']} ({route['vehicle_type']})",
        "Driver": _text(driver_id),
        "Depot": depot(home) if (start, end) == (home, home) else f"{depot(start)} → {depot(end)}",
        "Start–end": f"{layers.format_clock(route.get('start_s'))}–{layers.format_clock(route.get('end_s'))}",
        "Distance": f"{float(route['distance_m']) / 1000:.1f} km",
    }
    trips = 1 + (_int_or_none(route.get("n_reloads")) or 0)
    header["Stops"] = f"{int(route['n_stops'])}" + (f" in {trips} trips" if trips > 1 else "")
    load = [] if parcels is None else [f"{parcels} parcel{'' if parcels == 1 else 's'}"]
    if not _missing(route.get("weight_g")):
        load.append(f"{float(route['weight_g']) / 1000:.1f} kg")
    if not _missing(route.get("volume_cm3")):
        load.append(f"{float(route['volume_cm3']) / 1000:.1f} l")
    if load:
        header["Load"] = ", ".join(load)
    break_start = _int_or_none(route.get("break_start_s"))
    if break_start is not None:
        length_s = _int_or_none(route.get("break_s"))
        header["Break"] = layers.format_clock(break_start) + (f" ({length_s // 60} min)" if length_s else "")
    header["Plan"] = _text(route.get("plan_id"))
    return header


_PRINT_CSS = """
@page { size: A4 landscape; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; margin: 0 16px; }
h1 { font-size: 14pt; margin: 8px 0; }
h2 { font-size: 13pt; margin: 0 0 6px; }
.route { margin: 0 0 28px; }
.header { display: grid; grid-template-columns: repeat(5, auto); gap: 2px 18px; margin: 0 0 8px; }
.header div { white-space: nowrap; }
.header b { font-weight: 600; color: #444; margin-right: 4px; }
.blank { display: inline-block; min-width: 30mm; border-bottom: 1px solid #111; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
td.time, td.id { white-space: nowrap; }
tr.pickup td { background: #fff4d6; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
tr.reload td { border-top: 3px double #111; }
tr.break td.notes { font-weight: 600; }
.tick { width: 10mm; }
.footer { color: #555; font-size: 8pt; margin-top: 4px; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
@media print {
  .no-print { display: none; }
  body { margin: 0; }
  .route { margin: 0; break-after: page; page-break-after: always; }
  .route:last-of-type { break-after: auto; page-break-after: auto; }
}
"""

_HTML_COLUMNS = (
    ("Stop", "num"),
    ("Order", "id"),
    ("Street", ""),
    ("Postcode", "id"),
    ("Town", ""),
    ("Window", "time"),
    ("Planned arrival", "time"),
    ("Parcels", "num"),
    ("Weight (kg)", "num"),
    ("Volume (l)", "num"),
    ("Notes", "notes"),
)


def _cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return html.escape(str(value))


def _route_section(
    route: Mapping[str, Any], stops: pd.DataFrame, driver_id: str | None, depot_names: Mapping[str, str]
) -> str:
    parcels = int(stops["parcels"].fillna(0).sum()) if "parcels" in stops and len(stops) else None
    header = route_header(route, driver_id, depot_names, parcels)
    items = []
    for label, value in header.items():
        shown = html.escape(value) if value else '<span class="blank"></span>'
        items.append(f"<div><b>{html.escape(label)}</b>{shown}</div>")
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in _HTML_COLUMNS) + '<th class="tick">✓</th>'
    rows = []
    for record in _stop_records(stops, route):
        classes = " ".join(flag for flag in ("pickup", "reload", "break") if record[flag])
        cells = "".join(
            f'<td class="{css}">{_cell(record[label])}</td>' if css else f"<td>{_cell(record[label])}</td>"
            for label, css in _HTML_COLUMNS
        )
        rows.append(f'<tr class="{classes}">{cells}<td></td></tr>' if classes else f"<tr>{cells}<td></td></tr>")
    body = "".join(rows) or f'<tr><td colspan="{len(_HTML_COLUMNS) + 1}">No stops on this route.</td></tr>'
    title = f"{route['vehicle_id']} · route {route['route_id']}"
    return (
        f'<section class="route" data-route-id="{html.escape(str(route["route_id"]))}">'
        f"<h2>Driver manifest · {html.escape(title)}</h2>"
        f'<div class="header">{"".join(items)}</div>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        '<p class="footer">Times are local (Europe/Vaduz). Pickup rows are shaded; a double line marks a reload at '
        "the depot.</p></section>"
    )


def manifest_html(
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    drivers: Mapping[str, str] | None = None,
    depot_names: Mapping[str, str] | None = None,
    title: str = "Driver manifests",
) -> str:
    """A self-contained printable HTML page of the manifests of ``routes``: one section per route (header and stop
    table with a tick column), each printed on a page of its own (CSS page breaks, A4 landscape, the table head
    repeated on every printed page), and a print button that does not print.

    Parameters
    ----------
    routes : DataFrame
        Rows of :func:`dashboard.queries.planned_routes`, in print order.
    stops : DataFrame
        Their stops (:func:`dashboard.manifest_queries.manifest_stops`).
    drivers : mapping, optional
        Driver id by vehicle id (:func:`dashboard.manifest_queries.route_drivers`); unknown drivers get a blank.
    depot_names : mapping, optional
        Depot name by id.
    title : str
        The document title.

    Returns
    -------
    str
        The HTML document; every value from the data is HTML-escaped.
    """
    drivers = drivers or {}
    sections = [
        _route_section(route, _route_stops(stops, route), drivers.get(str(route["vehicle_id"])), depot_names or {})
        for route in routes.to_dict("records")
    ]
    content = "".join(sections) or "<p>No routes.</p>"
    escaped_title = html.escape(title)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escaped_title}</title><style>{_PRINT_CSS}</style></head><body>"
        f'<div class="no-print"><h1>{escaped_title}</h1>'
        '<button type="button" onclick="window.print()">Print</button></div>'
        f"{content}</body></html>"
    )


# --- GeoJSON ---------------------------------------------------------------------------------------------------


def _position(lon: Any, lat: Any, what: str) -> list[float]:
    """A GeoJSON position ``[lon, lat]`` (RFC 7946, 3.1.1), rounded to :data:`_COORDINATE_DIGITS` decimals."""
    if _missing(lon) or _missing(lat):
        raise ValueError(f"{what} has no coordinates")
    lon_f, lat_f = float(lon), float(lat)
    if not (math.isfinite(lon_f) and math.isfinite(lat_f) and -180 <= lon_f <= 180 and -90 <= lat_f <= 90):
        raise ValueError(f"{what} has coordinates out of range: lon {lon}, lat {lat}")
    return [round(lon_f, _COORDINATE_DIGITS), round(lat_f, _COORDINATE_DIGITS)]


def _json_value(value: Any) -> Any:
    """A property value as plain JSON: numpy scalars unwrapped, missing values null, dates ISO strings."""
    if _missing(value):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _properties(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in values.items()}


def plan_geojson(
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    depots: pd.DataFrame,
    geometry: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """All routes of a plan as an RFC 7946 GeoJSON FeatureCollection.

    One ``LineString`` per route, following its road geometry where ``geometry`` has rows for it, else straight
    from its start depot through its stops (back to the depot between trips) to its end depot; one ``Point`` per
    stop; one ``Point`` per depot the routes use. Positions are ``[lon, lat]`` (WGS 84). Every feature has
    ``properties.kind`` (``route``, ``stop`` or ``depot``); routes carry ``stroke`` (their map colour, simplestyle).

    Parameters
    ----------
    routes : DataFrame
        :func:`dashboard.queries.planned_routes` rows.
    stops : DataFrame
        Their stops (:func:`dashboard.manifest_queries.manifest_stops` or :func:`dashboard.queries.planned_stops`).
    depots : DataFrame
        :func:`dashboard.queries.depots` rows (``depot_id, name, lat, lon``).
    geometry : DataFrame, optional
        :func:`dashboard.queries.route_geometry` rows (``plan_id, route_id, seq, lon, lat``).

    Returns
    -------
    dict
        The FeatureCollection; serialise it with :func:`geojson_bytes`.

    Raises
    ------
    ValueError
        If a stop or a depot has no coordinates or coordinates out of range, or a route starts or ends at a depot
        that is not in ``depots``.
    """
    for stop in stops.to_dict("records"):  # a clear error before the lines are drawn through the stops
        _position(stop["lon"], stop["lat"], f"stop {stop['order_id']}")
    colors = layers.route_colors(routes)
    road_keys: set[tuple[str, str]] = set()
    if geometry is not None and not geometry.empty:
        road_keys = {layers.route_key(p, r) for p, r in zip(geometry["plan_id"], geometry["route_id"], strict=True)}
    paths = {
        layers.route_key(record["plan_id"], record["route_id"]): record["path"]
        for record in layers.route_paths(routes, stops, depots, colors=colors, geometry=geometry)
    }
    features: list[dict[str, Any]] = []
    used_depots: set[str] = set()
    for route in routes.to_dict("records"):
        key = layers.route_key(route["plan_id"], route["route_id"])
        what = f"route {route['route_id']}"
        line = [_position(lon, lat, what) for lon, lat in paths[key]]
        if len(line) == 1:  # a LineString needs two positions (RFC 7946, 3.1.4)
            line.append(list(line[0]))
        home = _text(route.get("depot_id"))
        used_depots |= {home, _text(route.get("start_depot_id")) or home, _text(route.get("end_depot_id")) or home}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": _properties(
                    {
                        "kind": "route",
                        "plan_id": route["plan_id"],
                        "service_date": route["service_date"],
                        "depot_id": route["depot_id"],
                        "route_id": route["route_id"],
                        "vehicle_id": route["vehicle_id"],
                        "vehicle_type": route["vehicle_type"],
                        "n_stops": route["n_stops"],
                        "start": layers.format_clock(route.get("start_s")),
                        "end": layers.format_clock(route.get("end_s")),
                        "distance_km": round(float(route["distance_m"]) / 1000, 3),
                        "duration_h": round(float(route["duration_s"]) / 3600, 3),
                        "cost_eur": None if _missing(route.get("cost_eur")) else round(float(route["cost_eur"]), 2),
                        "weight_kg": None if _missing(route.get("weight_g")) else float(route["weight_g"]) / 1000,
                        "geometry_source": "road" if key in road_keys else "straight",
                        "stroke": layers.hex_color(colors[key]),
                    }
                ),
            }
        )
    route_ids = {layers.route_key(p, r) for p, r in zip(routes["plan_id"], routes["route_id"], strict=True)}
    ordered = stops.sort_values(["plan_id", "route_id", "sequence"]) if len(stops) else stops
    for stop in ordered.to_dict("records"):
        if layers.route_key(stop["plan_id"], stop["route_id"]) not in route_ids:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": _position(stop["lon"], stop["lat"], f"stop {stop['order_id']}"),
                },
                "properties": _properties(
                    {
                        "kind": "stop",
                        "plan_id": stop["plan_id"],
                        "route_id": stop["route_id"],
                        "vehicle_id": stop["vehicle_id"],
                        "sequence": stop["sequence"],
                        "order_id": stop["order_id"],
                        "order_type": stop.get("order_type"),
                        "address": layers.format_address(stop.get("street"), stop.get("postcode"), stop.get("town")),
                        "window": format_windows(
                            stop.get("tw_start_s"), stop.get("tw_end_s"), stop.get("tw2_start_s"), stop.get("tw2_end_s")
                        ),
                        "planned_arrival": layers.format_clock(stop.get("arrival_s")),
                        "parcels": stop.get("parcels"),
                        "weight_kg": None if _missing(stop.get("weight_g")) else float(stop["weight_g"]) / 1000,
                    }
                ),
            }
        )
    for depot in depots.to_dict("records"):
        if str(depot["depot_id"]) not in used_depots:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": _position(depot["lon"], depot["lat"], f"depot {depot['depot_id']}"),
                },
                "properties": _properties({"kind": "depot", "depot_id": depot["depot_id"], "name": depot.get("name")}),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def geojson_bytes(collection: Mapping[str, Any]) -> bytes:
    """A GeoJSON object as UTF-8 bytes (strict JSON: NaN or infinity raise ValueError)."""
    return json.dumps(collection, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


# --- KPI tables ---------------------------------------------------------------------------------------------------


def plan_kpis_table(kpis: pd.DataFrame) -> pd.DataFrame:
    """Plan KPIs, one row per service date and depot (:func:`dashboard.queries.kpis_by_date` rows), as
    :data:`PLAN_KPI_COLUMNS`: dates ISO, km, hours and EUR rounded."""
    return pd.DataFrame(
        {
            "service_date": [pd.Timestamp(d).date().isoformat() for d in kpis["service_date"]],
            "depot_id": kpis["depot_id"].astype(str).to_list(),
            "depot_name": [_text(n) for n in kpis["depot_name"]],
            "plan_id": kpis["plan_id"].astype(str).to_list(),
            "plan_kind": [_text(k) for k in _column(kpis, "plan_kind")],
            "plan_version": pd.array([_int_or_none(v) for v in _column(kpis, "plan_version")], dtype="Int64"),
            "routes": kpis["routes"].astype(int).to_list(),
            "stops": kpis["stops"].astype(int).to_list(),
            "distance_km": kpis["distance_km"].astype(float).round(3).to_list(),
            "duration_h": kpis["duration_h"].astype(float).round(3).to_list(),
            "cost_eur": kpis["cost_eur"].astype(float).round(2).to_list(),
            "cost_per_delivery_eur": kpis["cost_per_delivery_eur"].astype(float).round(2).to_list(),
            "unassigned": kpis["unassigned"].astype(int).to_list(),
        },
        columns=list(PLAN_KPI_COLUMNS),
    )


def _rate(value: Any) -> float | None:
    return None if _missing(value) else round(float(value), 4)


def _money(value: Any) -> float | None:
    return None if _missing(value) else round(float(value), 2)


def delivery_kpis_table(
    daily: pd.DataFrame,
    summary: Mapping[str, Any] | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    depot_id: str | None = None,
    depot_name: str | None = None,
) -> pd.DataFrame:
    """Delivery KPIs as :data:`DELIVERY_KPI_COLUMNS`: one row per day and depot (the published ``delivery_kpis``,
    :func:`dashboard.queries.daily_kpis`), then, with ``summary``, one row for the whole range.

    Parameters
    ----------
    daily : DataFrame
        :data:`dashboard.queries.DAILY_KPI_COLUMNS` rows.
    summary : mapping, optional
        :func:`dashboard.queries.performance_summary` of the range (ratios of sums, so exact over the range).
    period : tuple of date, optional
        The range (first, last day); required with ``summary``.
    depot_id, depot_name : str, optional
        The depot of the summary row; None for all depots.

    Returns
    -------
    DataFrame
        Rates as fractions 0-1 (on time = attempted stops reached before the window closed / attempted;
        first-attempt success = delivered at the first attempt / attempted), cost per delivery in EUR (actual
        route cost / delivered), average rating 1-5 over ``ratings`` rated orders.

    Raises
    ------
    ValueError
        If ``summary`` is given without ``period``.
    """
    rows = [
        {
            "period_start": pd.Timestamp(day["service_date"]).date().isoformat(),
            "period_end": pd.Timestamp(day["service_date"]).date().isoformat(),
            "depot_id": str(day["depot_id"]),
            "depot_name": _text(day["depot_name"]),
            "orders": _int_or_none(day["orders"]),
            "attempted": _int_or_none(day["attempted"]),
            "delivered": _int_or_none(day["delivered"]),
            "on_time_rate": _rate(day["on_time_rate"]),
            "cost_per_delivery_eur": _money(day["cost_per_delivery_eur"]),
            "first_attempt_success_rate": _rate(day["first_attempt_success_rate"]),
            "avg_rating": None if _missing(day["avg_rating"]) else round(float(day["avg_rating"]), 2),
            "ratings": _int_or_none(day["ratings"]),
        }
        for day in daily.to_dict("records")
    ]
    if summary is not None:
        if period is None:
            raise ValueError("the summary row needs its period (first day, last day)")
        rows.append(
            {
                "period_start": period[0].isoformat(),
                "period_end": period[1].isoformat(),
                "depot_id": depot_id or "all",
                "depot_name": depot_name or (depot_id or ALL_DEPOTS_LABEL),
                "orders": _int_or_none(summary.get("orders")),
                "attempted": _int_or_none(summary.get("attempted")),
                "delivered": _int_or_none(summary.get("deliveries")),
                "on_time_rate": _rate(summary.get("on_time_rate")),
                "cost_per_delivery_eur": _money(summary.get("cost_per_delivery_eur")),
                "first_attempt_success_rate": _rate(summary.get("first_attempt_success_rate")),
                "avg_rating": None if _missing(summary.get("avg_rating")) else round(float(summary["avg_rating"]), 2),
                "ratings": _int_or_none(summary.get("ratings")),
            }
        )
    table = pd.DataFrame(rows, columns=list(DELIVERY_KPI_COLUMNS))
    for column in ("orders", "attempted", "delivered", "ratings"):
        table[column] = pd.array(table[column].to_list(), dtype="Int64")
    return table


# --- file names ---------------------------------------------------------------------------------------------------


def _safe(part: Any) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(part))


def _date(service_date: Any) -> str:
    return pd.Timestamp(service_date).date().isoformat()


def _scope(depot_id: str | None) -> str:
    return _safe(depot_id) if depot_id else "all-depots"


def manifest_file_name(service_date: Any, depot_id: str, vehicle_id: str, extension: str = "csv") -> str:
    """Download name of one route's manifest, e.g. ``manifest_2026-11-27_D-SCHAAN_V-SCH-01.csv`` (the vehicle names
    the route: one route per vehicle and plan)."""
    return f"manifest_{_date(service_date)}_{_safe(depot_id)}_{_safe(vehicle_id)}.{extension}"


def manifests_file_name(service_date: Any, depot_id: str | None, extension: str = "csv") -> str:
    """Download name of every manifest of a date, e.g. ``manifests_2026-11-27_all-depots.html``."""
    return f"manifests_{_date(service_date)}_{_scope(depot_id)}.{extension}"


def geojson_file_name(service_date: Any, depot_id: str | None) -> str:
    """Download name of a plan's routes, e.g. ``routes_2026-11-27_D-SCHAAN.geojson``."""
    return f"routes_{_date(service_date)}_{_scope(depot_id)}.geojson"


def plan_kpis_file_name(service_date: Any, depot_id: str | None) -> str:
    """Download name of a date's plan KPIs, e.g. ``plan_kpis_2026-11-27_all-depots.csv``."""
    return f"plan_kpis_{_date(service_date)}_{_scope(depot_id)}.csv"


def delivery_kpis_file_name(start_date: Any, end_date: Any, depot_id: str | None) -> str:
    """Download name of a range's delivery KPIs, e.g. ``delivery_kpis_2026-11-01_2026-11-27_D-SCHAAN.csv``."""
    return f"delivery_kpis_{_date(start_date)}_{_date(end_date)}_{_scope(depot_id)}.csv"
