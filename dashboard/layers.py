"""Pure builders for the dashboard: the pydeck map and the display tables, from query DataFrames.

Nothing here imports Streamlit or touches the snapshot, so every function can be unit-tested on small
DataFrames. Layer data is handed to pydeck as lists of plain dicts (not DataFrames), so the deck spec is
plain JSON whatever the pandas version. What a reason code of an unassigned order means, and what to do about it,
comes from the solver's one list (:data:`solver.diagnostics.REASON_CODES`, :data:`~solver.diagnostics.ACTIONS`).

Times are seconds since local midnight of the service date (Europe/Vaduz); distances metres, weights grams.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pydeck as pdk

from solver.diagnostics import ACTIONS, REASON_CODES

# Tableau 10 without its red and grey: red is kept for unassigned orders, grey vanishes on a light basemap.
# Two extra Tableau hues keep ten routes distinct before the palette repeats.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (78, 121, 167),  # blue
    (242, 142, 43),  # orange
    (89, 161, 79),  # green
    (176, 122, 161),  # purple
    (118, 183, 178),  # teal
    (237, 201, 72),  # yellow
    (156, 117, 95),  # brown
    (255, 157, 167),  # pink
    (73, 152, 148),  # dark teal
    (211, 114, 149),  # magenta
)
DEPOT_COLOR: tuple[int, int, int] = (33, 37, 41)
UNASSIGNED_COLOR: tuple[int, int, int] = (214, 39, 40)
# CARTO's Positron style: a light, token-free basemap.
MAP_STYLE = pdk.map_styles.CARTO_LIGHT
MAP_HEIGHT_PX = 560

MANIFEST_COLUMNS = (
    "Stop",
    "Order",
    "Address",
    "Window",
    "Planned arrival",
    "Parcels",
    "Weight (kg)",
    "Notes",
)
ROUTE_TABLE_COLUMNS = (
    "Colour",
    "Vehicle",
    "Type",
    "Depot",
    "Stops",
    "Start–end",
    "km",
    "Hours",
    "Load (kg)",
    "Cost (EUR)",
)
UNASSIGNED_COLUMNS = ("Order", "Depot", "Address", "Reason code", "Reason")
UNASSIGNED_GROUP_COLUMNS = ("Reason code", "Orders", "Meaning", "What to do")

# pydeck turns bare strings into data accessors ("@@=pixels"); a String stays a literal.
_PIXELS = pdk.types.String("pixels")
_SECONDS_PER_DAY = 86_400
# deck.gl (like MapLibre) draws the whole world 512 px wide at zoom 0.
_TILE_PX = 512
_MAX_ZOOM = 15.0


def _missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def format_clock(seconds: float | None) -> str:
    """Format seconds since local midnight as ``HH:MM`` (truncated to the minute).

    Times past midnight get a day suffix (``01:15+1``); a missing value gives ``""``.

    Raises
    ------
    ValueError
        If ``seconds`` is negative.
    """
    if _missing(seconds):
        return ""
    total = int(seconds)
    if total < 0:
        raise ValueError(f"time of day must not be negative, got {seconds} s")
    days, rest = divmod(total, _SECONDS_PER_DAY)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return f"{clock}+{days}" if days else clock


def format_window(start_s: float | None, end_s: float | None) -> str:
    """Format a delivery window, e.g. ``09:00–12:00``; no bounds means ``any time``."""
    start, end = format_clock(start_s), format_clock(end_s)
    if start and end:
        return f"{start}–{end}"
    if start:
        return f"from {start}"
    if end:
        return f"until {end}"
    return "any time"


def format_address(street: Any, postcode: Any, town: Any) -> str:
    """One-line address ``street, postcode town``, skipping missing parts."""
    locality = " ".join(str(part) for part in (postcode, town) if not _missing(part) and str(part))
    return ", ".join(part for part in (None if _missing(street) else str(street), locality) if part)


def route_key(plan_id: Any, route_id: Any) -> tuple[str, str]:
    """Identity of a route across plans (``route_id`` is only unique within a plan)."""
    return (str(plan_id), str(route_id))


def route_colors(routes: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Colour of each route, by its position in ``routes`` (the palette repeats after ten routes).

    Parameters
    ----------
    routes : DataFrame
        With ``plan_id`` and ``route_id``, in display order.
    """
    keys = [route_key(p, r) for p, r in zip(routes["plan_id"], routes["route_id"], strict=True)]
    return {key: PALETTE[position % len(PALETTE)] for position, key in enumerate(dict.fromkeys(keys))}


def hex_color(color: Sequence[int]) -> str:
    """An RGB colour as ``#rrggbb``."""
    return "#{:02x}{:02x}{:02x}".format(*color[:3])


def _lon_lat(lon: Any, lat: Any) -> list[float]:
    return [float(lon), float(lat)]


def _depot_positions(depots: pd.DataFrame) -> dict[str, list[float]]:
    """``[lon, lat]`` of each depot, by depot id."""
    return {str(d.depot_id): _lon_lat(d.lon, d.lat) for d in depots.itertuples(index=False)}


def route_paths(
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    depots: pd.DataFrame,
    colors: dict[tuple[str, str], tuple[int, int, int]] | None = None,
    geometry: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """One path record per route: its road geometry when given, else straight lines from its start depot through
    its stops in sequence (back to the start depot between two trips) to its end depot.

    Parameters
    ----------
    routes, stops, depots : DataFrame
        Query results (serving columns). ``start_depot_id``/``end_depot_id`` of ``routes`` and ``trip`` of
        ``stops`` may be missing or null (snapshots of older plans): the route's own depot, one trip.
    colors : dict, optional
        Route colours by :func:`route_key`; default :func:`route_colors` of ``routes``. Pass the colours of the
        unfiltered routes to keep them when drawing a subset.
    geometry : DataFrame, optional
        Road polylines (``plan_id, route_id, seq, lon, lat``, :func:`dashboard.queries.route_geometry`). A route
        with rows there follows them; the others are drawn straight.

    Returns
    -------
    list of dict
        ``plan_id, route_id, vehicle_id, path`` (``[[lon, lat], ...]``), ``color`` (RGB) and ``tooltip``.

    Raises
    ------
    ValueError
        If a route drawn straight starts or ends at a depot that is not in ``depots``.
    """
    colors = route_colors(routes) if colors is None else colors
    depot_positions = _depot_positions(depots)
    stops_by_route = {
        route_key(*key): group.sort_values("sequence")
        for key, group in stops.groupby(["plan_id", "route_id"], sort=False)
    }
    roads = {}
    if geometry is not None and not geometry.empty:
        roads = {
            route_key(*key): [_lon_lat(lon, lat) for lon, lat in zip(group["lon"], group["lat"], strict=True)]
            for key, group in geometry.sort_values("seq").groupby(["plan_id", "route_id"], sort=False)
        }
    records = []
    for route in routes.itertuples(index=False):
        key = route_key(route.plan_id, route.route_id)
        path = roads.get(key)
        if path is None:
            path = _straight_path(route, stops_by_route.get(key, stops.iloc[0:0]), depot_positions)
        records.append(
            {
                "plan_id": str(route.plan_id),
                "route_id": str(route.route_id),
                "vehicle_id": str(route.vehicle_id),
                "path": path,
                "color": list(colors[key]),
                "tooltip": (
                    f"{route.vehicle_id} ({route.vehicle_type})\n"
                    f"{int(route.n_stops)} stops · {format_clock(route.start_s)}–{format_clock(route.end_s)}"
                    f" · {route.distance_m / 1000:.1f} km"
                ),
            }
        )
    return records


def _straight_path(route: Any, route_stops: pd.DataFrame, depot_positions: dict[str, list[float]]) -> list[list[float]]:
    """Start depot, the stops in sequence with the start depot between two trips, end depot."""
    start_id = _depot_or(route.depot_id, getattr(route, "start_depot_id", None))
    end_id = _depot_or(route.depot_id, getattr(route, "end_depot_id", None))
    for role, depot_id in (("starts", start_id), ("ends", end_id)):
        if depot_id not in depot_positions:
            raise ValueError(f"route {route.route_id} {role} at depot {depot_id}, which is not in depots")
    start = depot_positions[start_id]
    trips = route_stops["trip"] if "trip" in route_stops else [None] * len(route_stops)
    path, previous_trip = [start], None
    for lon, lat, trip in zip(route_stops["lon"], route_stops["lat"], trips, strict=True):
        trip = None if _missing(trip) else int(trip)
        if trip is not None and previous_trip is not None and trip > previous_trip:
            path.append(start)  # reload at the start depot before the next trip
        previous_trip = trip if trip is not None else previous_trip
        path.append(_lon_lat(lon, lat))
    path.append(depot_positions[end_id])
    return path


def route_depots(depots: pd.DataFrame, routes: pd.DataFrame, depot_id: str | None = None) -> pd.DataFrame:
    """The depots a map of ``routes`` draws: ``depot_id`` (all depots when None) and every depot where one of the
    routes starts or ends (a route may end at another depot)."""
    if depot_id is None:
        return depots
    wanted = {str(depot_id)}
    for column in ("start_depot_id", "end_depot_id"):
        if column in routes:
            wanted |= {_depot_or(home, other) for home, other in zip(routes["depot_id"], routes[column], strict=True)}
    return depots[depots["depot_id"].astype(str).isin(wanted)].reset_index(drop=True)


def stop_points(routes: pd.DataFrame, stops: pd.DataFrame) -> list[dict[str, Any]]:
    """One point record per planned stop, coloured like its route, with its tooltip text."""
    colors = route_colors(routes)
    records = []
    for stop in stops.itertuples(index=False):
        key = route_key(stop.plan_id, stop.route_id)
        if key not in colors:
            continue
        records.append(
            {
                "position": _lon_lat(stop.lon, stop.lat),
                "color": list(colors[key]),
                "order_id": str(stop.order_id),
                "tooltip": (
                    f"Stop {int(stop.sequence)} of {stop.vehicle_id} · order {stop.order_id}\n"
                    f"{format_address(stop.street, stop.postcode, stop.town)}\n"
                    f"Window {format_window(stop.tw_start_s, stop.tw_end_s)}\n"
                    f"Planned arrival {format_clock(stop.arrival_s)}"
                ),
            }
        )
    return records


def depot_points(depots: pd.DataFrame) -> list[dict[str, Any]]:
    """One point record per depot."""
    return [
        {"position": _lon_lat(d.lon, d.lat), "depot_id": str(d.depot_id), "tooltip": f"Depot {d.name}"}
        for d in depots.itertuples(index=False)
    ]


def _dot_layer(
    layer_id: str,
    data: list[dict[str, Any]],
    radius_px: int,
    line_width_px: int,
    fill_color: str | list[int] = "color",
    line_color: str | list[int] | None = None,
    **options: Any,
) -> pdk.Layer:
    """A pickable ScatterplotLayer of point records (``position``), outlined dots sized in pixels: filled from each
    record's ``color`` unless ``fill_color`` is given, outlined in white unless ``line_color`` is given (an RGB
    list or a record field); ``options`` are further pydeck layer arguments (``auto_highlight``)."""
    return pdk.Layer(
        "ScatterplotLayer",
        id=layer_id,
        data=data,
        get_position="position",
        get_fill_color=fill_color,
        get_line_color=[255, 255, 255] if line_color is None else line_color,
        get_radius=radius_px,
        radius_units=_PIXELS,
        stroked=True,
        line_width_min_pixels=line_width_px,
        pickable=True,
        **options,
    )


def depot_layer(depot_records: list[dict[str, Any]]) -> pdk.Layer:
    """The depots as large dark dots (from :func:`depot_points`), drawn above routes and stops."""
    return _dot_layer("depots", depot_records, radius_px=11, line_width_px=3, fill_color=list(DEPOT_COLOR))


def unassigned_points(unassigned: pd.DataFrame) -> list[dict[str, Any]]:
    """One point record per unassigned order that has coordinates."""
    return [
        {
            "position": _lon_lat(u.lon, u.lat),
            "order_id": str(u.order_id),
            "tooltip": (
                f"Unassigned order {u.order_id}\n"
                f"{format_address(u.street, u.postcode, u.town)}\n"
                f"{u.reason_code}: {u.reason}"
            ),
        }
        for u in unassigned.itertuples(index=False)
        if not (_missing(u.lat) or _missing(u.lon))
    ]


def _mercator_y(lat: float) -> float:
    """Web Mercator y in world units (0 at the top, 1 at the bottom)."""
    phi = math.radians(max(min(lat, 85.0511), -85.0511))
    return (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2


def _inverse_mercator_y(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


def fit_view(
    positions: Iterable[Sequence[float]],
    *,
    width_px: int = 700,
    height_px: int = MAP_HEIGHT_PX,
    padding_px: int = 40,
) -> pdk.ViewState:
    """A view state whose viewport shows every ``[lon, lat]`` position with some padding.

    Parameters
    ----------
    positions : iterable of [lon, lat]
        Points to fit; none gives a whole-world view.
    width_px, height_px : int
        Viewport size the zoom is computed for (err on the small side: a wider map shows more).
    padding_px : int
        Free margin on every side, in pixels.
    """
    points = [(float(lon), float(lat)) for lon, lat in positions]
    if not points:
        return pdk.ViewState(latitude=0.0, longitude=0.0, zoom=1)
    lons = [lon for lon, _ in points]
    ys = [_mercator_y(lat) for _, lat in points]
    span_x = (max(lons) - min(lons)) / 360
    span_y = max(ys) - min(ys)
    zoom = _MAX_ZOOM
    for span, size in ((span_x, width_px), (span_y, height_px)):
        if span > 0:
            zoom = min(zoom, math.log2((size - 2 * padding_px) / (_TILE_PX * span)))
    return pdk.ViewState(
        latitude=_inverse_mercator_y((max(ys) + min(ys)) / 2),
        longitude=(max(lons) + min(lons)) / 2,
        zoom=max(zoom, 0.0),
        pitch=0,
        bearing=0,
    )


def _path_layer(
    layer_id: str, data: list[dict[str, Any]], width_px: float, min_width_px: float, opacity: float, **options: Any
) -> pdk.Layer:
    """A pickable PathLayer of path records (``path``, ``color``) with rounded joints and caps, widths in pixels;
    ``options`` are further pydeck layer arguments (``auto_highlight``)."""
    return pdk.Layer(
        "PathLayer",
        id=layer_id,
        data=data,
        get_path="path",
        get_color="color",
        get_width=width_px,
        width_units=_PIXELS,
        width_min_pixels=min_width_px,
        joint_rounded=True,
        cap_rounded=True,
        opacity=opacity,
        pickable=True,
        **options,
    )


def _map_deck(layers: list[pdk.Layer], view: pdk.ViewState) -> pdk.Deck:
    """A deck of ``layers`` on the token-free CARTO basemap, with each record's ``tooltip`` on hover."""
    return pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider="carto",
        map_style=MAP_STYLE,
        tooltip={"text": "{tooltip}"},
    )


def build_deck(
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    depots: pd.DataFrame,
    unassigned: pd.DataFrame,
    geometry: pd.DataFrame | None = None,
) -> pdk.Deck:
    """The plan map: one PathLayer per plan (one path per route), stops, depots and unassigned orders.

    Parameters
    ----------
    routes, stops, unassigned : DataFrame
        Query results for one service date (columns as in the serving snapshot).
    depots : DataFrame
        The depots to draw (``depot_id, name, lat, lon``), including where the routes start and end.
    geometry : DataFrame, optional
        Road polylines of the routes (:func:`route_paths`); routes without are drawn straight.

    Returns
    -------
    pydeck.Deck
        With a token-free CARTO basemap and a view that fits depots, stops and unassigned orders.
    """
    paths = route_paths(routes, stops, depots, geometry=geometry)
    points = stop_points(routes, stops)
    depot_records = depot_points(depots)
    unassigned_records = unassigned_points(unassigned)

    layers = []
    for plan_id in dict.fromkeys(record["plan_id"] for record in paths):
        layers.append(
            _path_layer(
                f"routes-{plan_id}",
                [record for record in paths if record["plan_id"] == plan_id],
                width_px=4,
                min_width_px=3,
                opacity=0.85,
                auto_highlight=True,
            )
        )
    layers.append(_dot_layer("stops", points, radius_px=6, line_width_px=1, auto_highlight=True))
    layers.append(
        _dot_layer("unassigned", unassigned_records, radius_px=8, line_width_px=2, fill_color=list(UNASSIGNED_COLOR))
    )
    layers.append(depot_layer(depot_records))
    return _map_deck(layers, fit_view([r["position"] for r in (*points, *depot_records, *unassigned_records)]))


def driver_manifest(stops: pd.DataFrame) -> pd.DataFrame:
    """The driver's stop list for one route, in stop order.

    Parameters
    ----------
    stops : DataFrame
        Planned stops of one route (serving ``planned_stops`` columns).

    Returns
    -------
    DataFrame
        Columns :data:`MANIFEST_COLUMNS`: stop number, order id, address, window and planned arrival
        (``HH:MM`` local), parcels, weight in kg, driver notes.
    """
    ordered = stops.sort_values("sequence")
    return pd.DataFrame(
        {
            "Stop": ordered["sequence"].astype(int).to_list(),
            "Order": ordered["order_id"].astype(str).to_list(),
            "Address": [
                format_address(s, p, t)
                for s, p, t in zip(ordered["street"], ordered["postcode"], ordered["town"], strict=True)
            ],
            "Window": [format_window(a, b) for a, b in zip(ordered["tw_start_s"], ordered["tw_end_s"], strict=True)],
            "Planned arrival": [format_clock(s) for s in ordered["arrival_s"]],
            "Parcels": ordered["parcels"].astype(int).to_list(),
            "Weight (kg)": (ordered["weight_g"] / 1000).round(1).to_list(),
            "Notes": ["" if _missing(n) else str(n) for n in ordered["notes"]],
        },
        columns=list(MANIFEST_COLUMNS),
    )


def route_table(routes: pd.DataFrame) -> pd.DataFrame:
    """One display row per route, in the same order and colours as the map.

    Returns
    -------
    DataFrame
        Columns :data:`ROUTE_TABLE_COLUMNS`; ``Colour`` holds the route's hex colour. Then ``Trips``, ``Break``
        and ``Start → end depot`` when the routes carry them (see :func:`_with_trips_breaks_and_depots`).
    """
    colors = route_colors(routes)
    keys = [route_key(p, r) for p, r in zip(routes["plan_id"], routes["route_id"], strict=True)]
    table = pd.DataFrame(
        {
            "Colour": [hex_color(colors[key]) for key in keys],
            "Vehicle": routes["vehicle_id"].astype(str).to_list(),
            "Type": routes["vehicle_type"].astype(str).to_list(),
            "Depot": routes["depot_name"].fillna(routes["depot_id"]).astype(str).to_list(),
            "Stops": routes["n_stops"].astype(int).to_list(),
            "Start–end": [
                f"{format_clock(a)}–{format_clock(b)}" for a, b in zip(routes["start_s"], routes["end_s"], strict=True)
            ],
            "km": (routes["distance_m"] / 1000).round(1).to_list(),
            "Hours": (routes["duration_s"] / 3600).round(2).to_list(),
            "Load (kg)": (routes["weight_g"] / 1000).round(1).to_list(),
            "Cost (EUR)": routes["cost_eur"].astype(float).round(2).to_list(),
        },
        columns=list(ROUTE_TABLE_COLUMNS),
    )
    return _with_trips_breaks_and_depots(table, routes)


def _with_trips_breaks_and_depots(table: pd.DataFrame, routes: pd.DataFrame) -> pd.DataFrame:
    """The route table with ``Trips`` (1 + ``n_reloads``), ``Break`` (``break_start_s``, with its length when
    ``break_s`` is there) and ``Start → end depot`` (``start_depot_id``/``end_depot_id``, only when some route
    starts or ends away from its own depot). Snapshots that predate these columns, or hold no value in them, keep
    the table as it was."""
    table = table.copy()
    if "n_reloads" in routes and routes["n_reloads"].notna().any():
        trips = [None if _missing(n) else int(n) + 1 for n in routes["n_reloads"]]
        table["Trips"] = pd.array(trips, dtype="Int64")
    if "break_start_s" in routes and routes["break_start_s"].notna().any():
        lengths = routes["break_s"] if "break_s" in routes else [None] * len(routes)
        table["Break"] = [
            "" if _missing(start) else format_clock(start) + ("" if _missing(length) else f" ({int(length) // 60} min)")
            for start, length in zip(routes["break_start_s"], lengths, strict=True)
        ]
    if {"start_depot_id", "end_depot_id"} <= set(routes.columns):
        ends = [
            (_depot_or(home, start), _depot_or(home, end))
            for home, start, end in zip(
                routes["depot_id"], routes["start_depot_id"], routes["end_depot_id"], strict=True
            )
        ]
        if any(
            (start, end) != (str(home), str(home)) for (start, end), home in zip(ends, routes["depot_id"], strict=True)
        ):
            table["Start → end depot"] = [f"{start} → {end}" for start, end in ends]
    return table


def _depot_or(home: Any, depot_id: Any) -> str:
    """A route's start or end depot id; empty or missing means its own depot."""
    return str(home) if _missing(depot_id) or not str(depot_id) else str(depot_id)


def unassigned_groups(unassigned: pd.DataFrame) -> pd.DataFrame:
    """Unassigned orders grouped by reason code: how many, what the code means and what the dispatcher can do.

    Parameters
    ----------
    unassigned : DataFrame
        Serving ``unassigned`` rows (at least ``reason_code``).

    Returns
    -------
    DataFrame
        Columns :data:`UNASSIGNED_GROUP_COLUMNS`, one row per reason code, most orders first (ties by code). The
        meaning and action come from :data:`solver.diagnostics.REASON_CODES` and :data:`~solver.diagnostics.ACTIONS`;
        a code they do not know (an older plan) keeps its count with an empty meaning and action.
    """
    counts = unassigned["reason_code"].astype(str).value_counts()
    groups = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return pd.DataFrame(
        {
            "Reason code": [code for code, _ in groups],
            "Orders": [int(n) for _, n in groups],
            "Meaning": [REASON_CODES.get(code, "") for code, _ in groups],
            "What to do": [ACTIONS.get(code, "") for code, _ in groups],
        },
        columns=list(UNASSIGNED_GROUP_COLUMNS),
    )


def unassigned_table(unassigned: pd.DataFrame) -> pd.DataFrame:
    """One display row per unassigned order, with its reason code and reason."""
    return pd.DataFrame(
        {
            "Order": unassigned["order_id"].astype(str).to_list(),
            "Depot": unassigned["depot_name"].fillna(unassigned["depot_id"]).astype(str).to_list(),
            "Address": [
                format_address(s, p, t)
                for s, p, t in zip(unassigned["street"], unassigned["postcode"], unassigned["town"], strict=True)
            ],
            "Reason code": unassigned["reason_code"].astype(str).to_list(),
            "Reason": unassigned["reason"].astype(str).to_list(),
        },
        columns=list(UNASSIGNED_COLUMNS),
    )


def manifest_file_name(service_date: Any, vehicle_id: str) -> str:
    """Download name of a driver manifest, e.g. ``manifest_2026-11-27_V-SCH-01.csv``."""
    safe_vehicle = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(vehicle_id))
    return f"manifest_{pd.Timestamp(service_date).date().isoformat()}_{safe_vehicle}.csv"


def manifest_csv(manifest: pd.DataFrame) -> bytes:
    """A driver manifest as CSV bytes (UTF-8 with BOM, so spreadsheet programs read umlauts right)."""
    return manifest.to_csv(index=False).encode("utf-8-sig")


def format_published(created_at_utc: Any, timezone: str = "Europe/Vaduz") -> str:
    """A UTC timestamp as local ``YYYY-MM-DD HH:MM`` in the operation's time zone; ``""`` if missing."""
    return _format_local(created_at_utc, timezone, "%Y-%m-%d %H:%M")


def _format_local(instant_utc: Any, timezone: str, pattern: str) -> str:
    """A UTC instant (naive ones are taken as UTC) in ``timezone``, formatted by ``pattern``; ``""`` if missing."""
    if _missing(instant_utc) or instant_utc == "":
        return ""
    stamp = pd.Timestamp(instant_utc)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(timezone).strftime(pattern)


def kpi_table(kpis: pd.DataFrame) -> pd.DataFrame:
    """Plan KPIs per service date and depot for display (from :func:`dashboard.queries.kpis_by_date`)."""
    return pd.DataFrame(
        {
            "Service date": [pd.Timestamp(d).date().isoformat() for d in kpis["service_date"]],
            "Depot": kpis["depot_name"].fillna(kpis["depot_id"]).astype(str).to_list(),
            "Plan": [
                f"{kind} v{int(version)}" if not _missing(version) else str(plan_id)
                for plan_id, kind, version in zip(kpis["plan_id"], kpis["plan_kind"], kpis["plan_version"], strict=True)
            ],
            "Planned at": [format_published(t) for t in kpis["planned_at_utc"]],
            "Routes": kpis["routes"].astype(int).to_list(),
            "Stops": kpis["stops"].astype(int).to_list(),
            "Distance (km)": kpis["distance_km"].astype(float).round(1).to_list(),
            "Duration (h)": kpis["duration_h"].astype(float).round(1).to_list(),
            "Cost (EUR)": kpis["cost_eur"].astype(float).round(2).to_list(),
            "Cost per delivery (EUR)": kpis["cost_per_delivery_eur"].astype(float).round(2).to_list(),
            "Unassigned": kpis["unassigned"].astype(int).to_list(),
        }
    )


# --- plan versus actual --------------------------------------------------------------------------------------

# A traffic-light reading of each stop: green kept the promise, orange kept it late, red broke it, grey
# never got the chance.
STATUS_COLORS: dict[str, tuple[int, int, int]] = {
    "on_time": (44, 160, 44),
    "late": (255, 127, 14),
    "failed": (214, 39, 40),
    "not_attempted": (127, 127, 127),
}
STATUS_LABELS = {"on_time": "On time", "late": "Late", "failed": "Failed", "not_attempted": "Not attempted"}
LATE_CAUSE_LABELS = {
    "late_departure": "Late departure",
    "weather": "Weather",
    "long_service": "Long service",
    "traffic": "Traffic",
}
FAILURE_REASON_LABELS = {
    "not_home": "Not at home",
    "refused": "Refused",
    "address_not_found": "Address not found",
    "no_access": "No access",
    "unknown": "Unknown",
    "not_attempted": "Not attempted",
}
LATE_STOP_COLUMNS = ("Order", "Vehicle", "Window", "Planned arrival", "Actual arrival", "Minutes late", "Cause")
ROUTE_COMPARISON_COLUMNS = (
    "Colour",
    "Vehicle",
    "Driver",
    "Depot",
    "Stops",
    "Delivered",
    "Failed",
    "Planned km",
    "Driven km",
    "Planned start",
    "Actual start",
    "Planned end",
    "Actual end",
    "Planned cost (EUR)",
    "Actual cost (EUR)",
)
DRIVER_TABLE_COLUMNS = (
    "Driver",
    "Route days",
    "Deliveries",
    "On time (%)",
    "First-attempt success (%)",
    "Stops per hour",
    "km per stop",
    "Rating (1-5)",
    "Ratings",
)
# Driven tracks are drawn in the route's hue at this share of its brightness.
DRIVEN_SHADE = 0.6


def stop_status(outcome: Any, is_on_time: Any) -> str | None:
    """``on_time``, ``late``, ``failed`` or ``not_attempted``; None for an order no vehicle carried."""
    if outcome == "delivered":
        return "on_time" if not _missing(is_on_time) and bool(is_on_time) else "late"
    if outcome in ("failed", "not_attempted"):
        return str(outcome)
    return None


def darker(color: Sequence[int], factor: float = DRIVEN_SHADE) -> tuple[int, int, int]:
    """The same hue with each channel scaled by ``factor`` (0-1)."""
    red, green, blue = (int(round(channel * factor)) for channel in color[:3])
    return (red, green, blue)


def vehicle_colors(routes: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """Route colour by vehicle id, as on the Plan page (:func:`route_colors`)."""
    colors = route_colors(routes)
    return {
        str(vehicle): colors[route_key(plan, route)]
        for plan, route, vehicle in zip(routes["plan_id"], routes["route_id"], routes["vehicle_id"], strict=True)
    }


def _fallback_color(position: int) -> tuple[int, int, int]:
    return PALETTE[position % len(PALETTE)]


def driven_paths(tracks: pd.DataFrame, colors: dict[str, tuple[int, int, int]]) -> list[dict[str, Any]]:
    """One path record per vehicle from its telematics track, in a darker shade of the route colour.

    Parameters
    ----------
    tracks : DataFrame
        ``vehicle_id, seq, lat, lon`` (from :func:`dashboard.queries.day_driven_paths`).
    colors : dict
        Route colour by vehicle id; a vehicle without a planned route takes a palette colour.

    Returns
    -------
    list of dict
        ``vehicle_id, path`` (``[[lon, lat], ...]`` in ``seq`` order), ``color`` and ``tooltip``; vehicles with
        fewer than two fixes are left out.
    """
    records = []
    for position, (vehicle_id, track) in enumerate(tracks.groupby("vehicle_id", sort=True)):
        ordered = track.sort_values("seq")
        if len(ordered) < 2:
            continue
        color = colors.get(str(vehicle_id), _fallback_color(position))
        records.append(
            {
                "vehicle_id": str(vehicle_id),
                "path": [_lon_lat(lon, lat) for lon, lat in zip(ordered["lon"], ordered["lat"], strict=True)],
                "color": list(darker(color)),
                "tooltip": f"{vehicle_id}: driven track ({len(ordered)} fixes)",
            }
        )
    return records


def _minutes(value: Any) -> str:
    return "" if _missing(value) else f"{float(value):.0f} min"


def outcome_points(deliveries: pd.DataFrame) -> list[dict[str, Any]]:
    """One point record per order a vehicle carried, coloured by :func:`stop_status` (see :data:`STATUS_COLORS`)."""
    records = []
    for order in deliveries.itertuples(index=False):
        status = stop_status(order.outcome, order.is_on_time)
        if status is None or _missing(order.lat) or _missing(order.lon):
            continue
        detail = STATUS_LABELS[status]
        if status == "late":
            cause = LATE_CAUSE_LABELS.get(order.late_cause, "")
            detail += f" by {_minutes(order.minutes_late)}" + (f" ({cause.lower()})" if cause else "")
        elif status == "failed" and not _missing(order.failure_reason):
            detail += f": {FAILURE_REASON_LABELS.get(order.failure_reason, order.failure_reason)}"
        actual = format_clock(order.actual_arrival_s) or "–"
        records.append(
            {
                "position": _lon_lat(order.lon, order.lat),
                "color": list(STATUS_COLORS[status]),
                "status": status,
                "order_id": str(order.order_id),
                "vehicle_id": str(order.vehicle_id),
                "tooltip": (
                    f"Order {order.order_id} · {order.vehicle_id} · {detail}\n"
                    f"Window {format_window(order.tw_start_s, order.tw_end_s)}\n"
                    f"Planned {format_clock(order.planned_arrival_s)} · actual {actual}"
                ),
            }
        )
    return records


def build_plan_vs_actual_deck(
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    tracks: pd.DataFrame,
    deliveries: pd.DataFrame,
    depots: pd.DataFrame,
    vehicles: Iterable[str] | None = None,
    geometry: pd.DataFrame | None = None,
) -> pdk.Deck:
    """The plan-versus-actual map of one day: planned paths, driven tracks, stops by outcome, depots.

    Parameters
    ----------
    routes, stops : DataFrame
        The day's planned routes and stops (all vehicles, so colours match the Plan page).
    tracks : DataFrame
        Driven paths (``vehicle_id, seq, lat, lon``).
    deliveries : DataFrame
        The day's orders with outcome (:func:`dashboard.queries.day_deliveries`).
    depots : DataFrame
        The depots to draw.
    vehicles : iterable of str, optional
        Vehicles to draw; default all.
    geometry : DataFrame, optional
        Road polylines of the planned routes (:func:`route_paths`); routes without are drawn straight.

    Returns
    -------
    pydeck.Deck
        Layers, bottom to top: ``driven`` (thick, darker PathLayer), ``planned`` (thin PathLayer in the route
        colour), ``deliveries`` and ``depots``; the view fits stops, tracks and depots.
    """
    colors = route_colors(routes)
    by_vehicle = vehicle_colors(routes)
    if vehicles is not None:
        chosen = {str(v) for v in vehicles}
        routes = routes[routes["vehicle_id"].astype(str).isin(chosen)]
        stops = stops[stops["vehicle_id"].astype(str).isin(chosen)]
        tracks = tracks[tracks["vehicle_id"].astype(str).isin(chosen)]
        deliveries = deliveries[deliveries["vehicle_id"].astype(str).isin(chosen)]
    planned = route_paths(routes, stops, depots, colors, geometry=geometry)
    driven = driven_paths(tracks, by_vehicle)
    points = outcome_points(deliveries)
    depot_records = depot_points(depots)
    layers = [
        _path_layer("driven", driven, width_px=7, min_width_px=5, opacity=0.75),
        _path_layer("planned", planned, width_px=2.5, min_width_px=2, opacity=0.95),
        _dot_layer("deliveries", points, radius_px=7, line_width_px=2, auto_highlight=True),
        depot_layer(depot_records),
    ]
    positions = [r["position"] for r in (*points, *depot_records)]
    positions += [point for record in (*driven, *planned) for point in record["path"]]
    return _map_deck(layers, fit_view(positions))


def _late_mask(deliveries: pd.DataFrame) -> list[bool]:
    """Attempted stops (delivered or failed) reached after their window closed."""
    return [
        outcome in ("delivered", "failed") and not _missing(on_time) and not bool(on_time)
        for outcome, on_time in zip(deliveries["outcome"], deliveries["is_on_time"], strict=True)
    ]


def plan_vs_actual_summary(route_days: pd.DataFrame, deliveries: pd.DataFrame) -> dict[str, Any]:
    """Tile numbers of one day: planned and driven km, attempted, on time, late, failed, not attempted.

    On time and late count attempted stops (delivered or failed), as the on-time rate of
    ``marts.fct_delivery_kpis`` does.

    Returns
    -------
    dict
        ``planned_km``, ``actual_km`` (float), ``attempted``, ``on_time``, ``late``, ``failed``,
        ``not_attempted`` (int) and ``on_time_rate`` (0-1, None without attempted stops).
    """
    outcomes = deliveries["outcome"].to_list()
    attempted = sum(outcome in ("delivered", "failed") for outcome in outcomes)
    late = sum(_late_mask(deliveries))
    on_time = attempted - late
    return {
        "planned_km": float(pd.to_numeric(route_days["planned_km"]).sum()),
        "actual_km": float(pd.to_numeric(route_days["actual_km"]).sum()),
        "attempted": attempted,
        "on_time": on_time,
        "late": late,
        "failed": outcomes.count("failed"),
        "not_attempted": outcomes.count("not_attempted"),
        "on_time_rate": on_time / attempted if attempted else None,
    }


def late_stops_table(deliveries: pd.DataFrame) -> pd.DataFrame:
    """Attempted stops reached after their window closed, latest first: :data:`LATE_STOP_COLUMNS`, ``HH:MM``."""
    late = deliveries[_late_mask(deliveries)]
    late = late.assign(_late=pd.to_numeric(late["minutes_late"])).sort_values(
        ["_late", "order_id"], ascending=[False, True]
    )
    return pd.DataFrame(
        {
            "Order": late["order_id"].astype(str).to_list(),
            "Vehicle": late["vehicle_id"].astype(str).to_list(),
            "Window": [format_window(a, b) for a, b in zip(late["tw_start_s"], late["tw_end_s"], strict=True)],
            "Planned arrival": [format_clock(s) for s in late["planned_arrival_s"]],
            "Actual arrival": [format_clock(s) for s in late["actual_arrival_s"]],
            "Minutes late": late["_late"].round(0).astype(int).to_list(),
            "Cause": ["" if _missing(c) else LATE_CAUSE_LABELS.get(c, str(c)) for c in late["late_cause"]],
        },
        columns=list(LATE_STOP_COLUMNS),
    )


def route_comparison_table(route_days: pd.DataFrame, colors: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    """Planned versus actual per vehicle: columns :data:`ROUTE_COMPARISON_COLUMNS`.

    ``Colour`` is the route's hex colour from ``colors`` (by vehicle id); ``Stops`` reads attempted/planned.
    """
    return pd.DataFrame(
        {
            "Colour": [
                hex_color(colors.get(str(v), _fallback_color(i))) for i, v in enumerate(route_days["vehicle_id"])
            ],
            "Vehicle": route_days["vehicle_id"].astype(str).to_list(),
            "Driver": route_days["driver_id"].fillna("").astype(str).to_list(),
            "Depot": route_days["depot_name"].fillna(route_days["depot_id"]).astype(str).to_list(),
            "Stops": [
                f"{int(a)}/{int(p)}"
                for a, p in zip(route_days["stops_attempted"], route_days["stops_planned"], strict=True)
            ],
            "Delivered": route_days["delivered"].astype(int).to_list(),
            "Failed": route_days["failed"].astype(int).to_list(),
            "Planned km": pd.to_numeric(route_days["planned_km"]).round(1).to_list(),
            "Driven km": pd.to_numeric(route_days["actual_km"]).round(1).to_list(),
            "Planned start": [format_clock(s) for s in route_days["planned_start_s"]],
            "Actual start": [format_clock(s) for s in route_days["actual_start_s"]],
            "Planned end": [format_clock(s) for s in route_days["planned_end_s"]],
            "Actual end": [format_clock(s) for s in route_days["actual_end_s"]],
            "Planned cost (EUR)": pd.to_numeric(route_days["planned_cost_eur"]).round(2).to_list(),
            "Actual cost (EUR)": pd.to_numeric(route_days["actual_cost_eur"]).round(2).to_list(),
        },
        columns=list(ROUTE_COMPARISON_COLUMNS),
    )


def _percent(rate: Any) -> float | None:
    return None if _missing(rate) else round(float(rate) * 100, 1)


def _rounded(value: Any, digits: int) -> float | None:
    return None if _missing(value) else round(float(value), digits)


def driver_table(drivers: pd.DataFrame) -> pd.DataFrame:
    """One display row per driver (from :func:`dashboard.queries.driver_performance`): rates in percent."""
    return pd.DataFrame(
        {
            "Driver": drivers["driver_id"].astype(str).to_list(),
            "Route days": drivers["route_days"].astype(int).to_list(),
            "Deliveries": drivers["deliveries"].astype(int).to_list(),
            "On time (%)": [_percent(r) for r in drivers["on_time_rate"]],
            "First-attempt success (%)": [_percent(r) for r in drivers["first_attempt_success_rate"]],
            "Stops per hour": [_rounded(v, 2) for v in drivers["stops_per_hour"]],
            "km per stop": [_rounded(v, 1) for v in drivers["km_per_stop"]],
            "Rating (1-5)": [_rounded(v, 2) for v in drivers["avg_rating"]],
            "Ratings": drivers["ratings"].astype(int).to_list(),
        },
        columns=list(DRIVER_TABLE_COLUMNS),
    )


# --- the Live page (docs/replanning.md, section 6) --------------------------------------------------------------
#
# The live state of one service date: each vehicle at its last position, coloured by status, its remaining route
# in its own colour, at-risk stops in red rings, and, after a re-plan, the stops moved to another vehicle in
# purple rings. A remaining stop is one still to serve: ``committed`` (driving to it or serving it) or
# ``planned``; at risk means its re-timed ETA misses the window (``late_s > 0``).

LIVE_STATUS_COLORS: dict[str, tuple[int, int, int]] = {
    "not_started": (137, 137, 137),
    "driving": (31, 119, 180),
    "at_stop": (44, 160, 44),
    "at_depot": (23, 190, 207),
    "broken_down": (33, 37, 41),
    "finished": (199, 199, 199),
}
LIVE_STATUS_LABELS = {
    "not_started": "Not started",
    "driving": "Driving",
    "at_stop": "At a stop",
    "at_depot": "At the depot",
    "broken_down": "BROKEN DOWN",
    "finished": "Finished",
}
LIVE_STOP_STATUS_LABELS = {
    "delivered": "Delivered",
    "failed": "Failed",
    "committed": "Next (committed)",
    "planned": "Planned",
    "unassigned": "Unassigned",
    "cancelled": "Cancelled",
}
REMAINING_STOP_STATUSES = ("committed", "planned")
DONE_STOP_STATUSES = ("delivered", "failed")
BROKEN_DOWN_RING_COLOR: tuple[int, int, int] = (214, 39, 40)
LIVE_AT_RISK_COLOR: tuple[int, int, int] = (214, 39, 40)
MOVED_COLOR: tuple[int, int, int] = (148, 103, 189)
DONE_STOP_COLOR: tuple[int, int, int] = (170, 170, 170)

LIVE_VEHICLE_COLUMNS = (
    "Colour",
    "Vehicle",
    "Depot",
    "Status",
    "Done",
    "Failed",
    "Remaining",
    "Next stop",
    "Next ETA",
    "Late stops",
    "Minutes late",
    "Last fix",
)
LIVE_STOP_TABLE_COLUMNS = (
    "Vehicle",
    "Stop",
    "Order",
    "Status",
    "ETA",
    "Window",
    "Minutes late",
    "At risk",
    "Morning ETA",
    "Moved from",
)
PLAN_VERSION_TABLE_COLUMNS = (
    "Kind",
    "Version",
    "Created",
    "As of",
    "Reason",
    "Stops moved",
    "Orders",
    "Assigned",
    "Unassigned",
    "Status",
)
MOVED_STOP_COLUMNS = ("Order", "From vehicle", "To vehicle", "Stop", "ETA", "Window", "ETA change (min)")
ETA_CHANGE_COLUMNS = ("Order", "Vehicle", "Before", "Now", "ETA change (min)", "Window", "Minutes late")


def format_local_clock(instant_utc: Any, timezone: str = "Europe/Vaduz") -> str:
    """A UTC instant as local ``HH:MM`` in the operation's time zone; ``""`` if missing."""
    return _format_local(instant_utc, timezone, "%H:%M")


def late_minutes(late_s: Any) -> int | None:
    """Whole minutes late (rounded up, so 20 s reads 1 min); None when not late (missing or ``<= 0``)."""
    if _missing(late_s) or int(late_s) <= 0:
        return None
    return math.ceil(int(late_s) / 60)


def _flag(value: Any) -> bool:
    return not _missing(value) and bool(value)


def remaining_mask(stops: pd.DataFrame) -> pd.Series:
    """Which live stops are still to serve (status ``committed`` or ``planned``)."""
    return stops["status"].isin(REMAINING_STOP_STATUSES)


def at_risk_mask(stops: pd.DataFrame) -> pd.Series:
    """Which live stops are at risk: still to serve and ``late_s > 0`` (a stop already served late is history)."""
    late = pd.to_numeric(stops["late_s"], errors="coerce").fillna(0) > 0
    return remaining_mask(stops) & late


def moved_mask(stops: pd.DataFrame) -> pd.Series:
    """Which live stops the latest re-plan moved to another vehicle (``moved`` true)."""
    return pd.Series([_flag(m) for m in stops["moved"]], index=stops.index, dtype=bool)


def live_vehicle_colors(vehicles: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """Colour of each vehicle's remaining route, by its position in ``vehicles`` (depot, then vehicle order)."""
    ids = dict.fromkeys(str(v) for v in vehicles["vehicle_id"])
    return {vehicle: PALETTE[position % len(PALETTE)] for position, vehicle in enumerate(ids)}


def _vehicle_positions(vehicles: pd.DataFrame, depots: pd.DataFrame) -> dict[str, list[float]]:
    """Last fix of each vehicle; its depot when it has none yet (a vehicle that has not left)."""
    depot_positions = _depot_positions(depots)
    positions = {}
    for vehicle in vehicles.itertuples(index=False):
        if not (_missing(vehicle.lat) or _missing(vehicle.lon)):
            positions[str(vehicle.vehicle_id)] = _lon_lat(vehicle.lon, vehicle.lat)
        elif str(vehicle.depot_id) in depot_positions:
            positions[str(vehicle.vehicle_id)] = depot_positions[str(vehicle.depot_id)]
    return positions


def live_vehicle_points(
    vehicles: pd.DataFrame, depots: pd.DataFrame, colors: dict[str, tuple[int, int, int]] | None = None
) -> list[dict[str, Any]]:
    """One point record per vehicle at its last position (its depot before the first fix), filled with its status
    colour (:data:`LIVE_STATUS_COLORS`) and ringed in its route colour, or in red when it broke down.

    Returns
    -------
    list of dict
        ``position``, ``color``, ``line_color``, ``vehicle_id``, ``status``, ``broken_down``, ``label`` (map text)
        and ``tooltip``. A vehicle without a fix and without a known depot is left out.
    """
    colors = live_vehicle_colors(vehicles) if colors is None else colors
    positions = _vehicle_positions(vehicles, depots)
    records = []
    for vehicle in vehicles.itertuples(index=False):
        vehicle_id = str(vehicle.vehicle_id)
        if vehicle_id not in positions:
            continue
        status = str(vehicle.status)
        broken = status == "broken_down"
        has_fix = not (_missing(vehicle.lat) or _missing(vehicle.lon))
        fix = format_local_clock(vehicle.fix_at_utc)
        where = (f"last fix {fix}" if fix else "last fix") if has_fix else "at its depot, no fix yet"
        lines = [f"{vehicle_id} · {LIVE_STATUS_LABELS.get(status, status)} · {where}"]
        lines.append(
            f"{_count(vehicle.stops_done)} done · {_count(vehicle.stops_failed)} failed · "
            f"{_count(vehicle.stops_remaining)} remaining"
        )
        if not _missing(vehicle.next_order_id):
            lines.append(f"Next: order {vehicle.next_order_id}, ETA {format_clock(vehicle.next_eta_s)}")
        if _count(vehicle.late_stops):
            late = late_minutes(vehicle.late_s_total)
            lines.append(f"{_count(vehicle.late_stops)} late stops, {late} min late in total")
        records.append(
            {
                "position": positions[vehicle_id],
                "color": list(LIVE_STATUS_COLORS.get(status, LIVE_STATUS_COLORS["not_started"])),
                "line_color": list(BROKEN_DOWN_RING_COLOR if broken else colors.get(vehicle_id, DEPOT_COLOR)),
                "vehicle_id": vehicle_id,
                "status": status,
                "broken_down": broken,
                "label": f"{vehicle_id} BROKEN DOWN" if broken else vehicle_id,
                "tooltip": "\n".join(lines),
            }
        )
    return records


def _count(value: Any) -> int:
    return 0 if _missing(value) else int(value)


def live_route_paths(
    vehicles: pd.DataFrame,
    stops: pd.DataFrame,
    depots: pd.DataFrame,
    colors: dict[str, tuple[int, int, int]] | None = None,
) -> list[dict[str, Any]]:
    """One path record per vehicle with stops still to serve: from its last position (its depot before the first
    fix) through its remaining stops in sequence, committed stop first. A broken-down vehicle drives no further.

    Returns
    -------
    list of dict
        ``vehicle_id``, ``path`` (``[[lon, lat], ...]``), ``color`` and ``tooltip``.
    """
    colors = live_vehicle_colors(vehicles) if colors is None else colors
    positions = _vehicle_positions(vehicles, depots)
    status_by_vehicle = {str(v): str(s) for v, s in zip(vehicles["vehicle_id"], vehicles["status"], strict=True)}
    remaining = stops[remaining_mask(stops) & stops["vehicle_id"].notna()]
    records = []
    for vehicle_id, group in remaining.groupby("vehicle_id", sort=False):
        vehicle_id = str(vehicle_id)
        if status_by_vehicle.get(vehicle_id) == "broken_down" or vehicle_id not in positions:
            continue
        group = group.assign(_first=group["status"] != "committed").sort_values(["_first", "sequence"])
        located = group[group["lat"].notna() & group["lon"].notna()]
        path = [positions[vehicle_id]]
        path += [_lon_lat(lon, lat) for lon, lat in zip(located["lon"], located["lat"], strict=True)]
        records.append(
            {
                "vehicle_id": vehicle_id,
                "path": path,
                "color": list(colors.get(vehicle_id, DEPOT_COLOR)),
                "tooltip": f"{vehicle_id}: {len(group)} stops to go, last ETA {format_clock(group['eta_s'].max())}",
            }
        )
    return records


def _stop_tooltip(stop: Any) -> str:
    status = LIVE_STOP_STATUS_LABELS.get(str(stop.status), str(stop.status))
    vehicle = "" if _missing(stop.vehicle_id) else f" · {stop.vehicle_id}"
    sequence = "" if _missing(stop.sequence) else f", stop {int(stop.sequence)}"
    lines = [f"Order {stop.order_id}{vehicle}{sequence} · {status}"]
    eta = "Done at" if str(stop.status) in DONE_STOP_STATUSES else "ETA"
    lines.append(f"{eta} {format_clock(stop.eta_s) or '–'} · window {format_window(stop.tw_start_s, stop.tw_end_s)}")
    if str(stop.status) in REMAINING_STOP_STATUSES and late_minutes(stop.late_s):
        lines.append(f"AT RISK: {late_minutes(stop.late_s)} min after the window closes")
    if _flag(stop.moved):
        lines.append(f"MOVED from {stop.previous_vehicle_id} by the re-plan")
    return "\n".join(lines)


def live_stop_points(stops: pd.DataFrame, colors: dict[str, tuple[int, int, int]]) -> list[dict[str, Any]]:
    """One point record per stop with coordinates and a vehicle: remaining stops in their vehicle's colour, done
    stops (delivered, failed) in grey, with their tooltip; ``done`` tells them apart."""
    records = []
    for stop in stops.itertuples(index=False):
        if _missing(stop.lat) or _missing(stop.lon) or _missing(stop.vehicle_id):
            continue
        status = str(stop.status)
        if status not in (*REMAINING_STOP_STATUSES, *DONE_STOP_STATUSES):
            continue
        done = status in DONE_STOP_STATUSES
        records.append(
            {
                "position": _lon_lat(stop.lon, stop.lat),
                "color": list(DONE_STOP_COLOR if done else colors.get(str(stop.vehicle_id), DEPOT_COLOR)),
                "order_id": str(stop.order_id),
                "vehicle_id": str(stop.vehicle_id),
                "done": done,
                "tooltip": _stop_tooltip(stop),
            }
        )
    return records


def _ring_points(stops: pd.DataFrame, mask: pd.Series) -> list[dict[str, Any]]:
    chosen = stops[mask & stops["lat"].notna() & stops["lon"].notna()]
    return [
        {"position": _lon_lat(stop.lon, stop.lat), "order_id": str(stop.order_id), "tooltip": _stop_tooltip(stop)}
        for stop in chosen.itertuples(index=False)
    ]


def live_at_risk_points(stops: pd.DataFrame) -> list[dict[str, Any]]:
    """One point record per at-risk stop (:func:`at_risk_mask`) with coordinates: position, order id, tooltip."""
    return _ring_points(stops, at_risk_mask(stops))


def moved_stop_points(stops: pd.DataFrame) -> list[dict[str, Any]]:
    """One point record per stop the re-plan moved (:func:`moved_mask`) with coordinates."""
    return _ring_points(stops, moved_mask(stops))


def _ring_layer(layer_id: str, points: list[dict[str, Any]], color: Sequence[int], radius_px: int) -> pdk.Layer:
    return pdk.Layer(
        "ScatterplotLayer",
        id=layer_id,
        data=points,
        get_position="position",
        get_fill_color=[*color, 40],
        get_line_color=list(color),
        get_radius=radius_px,
        radius_units=_PIXELS,
        stroked=True,
        filled=True,
        line_width_min_pixels=3,
        pickable=True,
    )


def build_live_deck(vehicles: pd.DataFrame, stops: pd.DataFrame, depots: pd.DataFrame) -> pdk.Deck:
    """The live map: remaining routes, done and remaining stops, moved-stop and at-risk rings, depots, and the
    vehicles on top (broken-down ones dark with a red ring and a label).

    Parameters
    ----------
    vehicles, stops : DataFrame
        :func:`dashboard.queries.live_vehicles` and :func:`dashboard.queries.live_stops` of one date (and depot).
    depots : DataFrame
        The depots to draw (``depot_id, name, lat, lon``).

    Returns
    -------
    pydeck.Deck
        Layers ``live-routes``, ``live-stops``, ``moved``, ``at-risk``, ``depots``, ``vehicles``,
        ``vehicle-labels``; the view fits vehicles, stops and depots.
    """
    colors = live_vehicle_colors(vehicles)
    paths = live_route_paths(vehicles, stops, depots, colors)
    stop_records = live_stop_points(stops, colors)
    moved = moved_stop_points(stops)
    at_risk = live_at_risk_points(stops)
    depot_records = depot_points(depots)
    vehicle_records = live_vehicle_points(vehicles, depots, colors)
    layers = [
        _path_layer("live-routes", paths, width_px=4, min_width_px=3, opacity=0.85),
        _dot_layer("live-stops", stop_records, radius_px=6, line_width_px=1),
        _ring_layer("moved", moved, MOVED_COLOR, 16),
        _ring_layer("at-risk", at_risk, LIVE_AT_RISK_COLOR, 12),
        depot_layer(depot_records),
        _dot_layer("vehicles", vehicle_records, radius_px=10, line_width_px=4, line_color="line_color"),
        pdk.Layer(
            "TextLayer",
            id="vehicle-labels",
            data=vehicle_records,
            get_position="position",
            get_text="label",
            get_size=12,
            size_units=_PIXELS,
            get_color=[33, 37, 41],
            get_pixel_offset=[0, -20],
            font_weight=600,
            outline_width=2,
            outline_color=[255, 255, 255],
            font_settings={"sdf": True},
        ),
    ]
    return _map_deck(layers, fit_view([r["position"] for r in (*vehicle_records, *stop_records, *depot_records)]))


def live_vehicle_table(vehicles: pd.DataFrame, colors: dict[str, tuple[int, int, int]] | None = None) -> pd.DataFrame:
    """Progress per vehicle (:data:`LIVE_VEHICLE_COLUMNS`), in map order: status, stops done / failed /
    remaining, the next stop and its ETA (local ``HH:MM``), late stops and their minutes late in total, and the
    local time of the last fix; ``Colour`` is the vehicle's route colour on the map."""
    colors = live_vehicle_colors(vehicles) if colors is None else colors
    depot = vehicles["depot_name"] if "depot_name" in vehicles else vehicles["depot_id"]
    return pd.DataFrame(
        {
            "Colour": [hex_color(colors.get(str(v), DEPOT_COLOR)) for v in vehicles["vehicle_id"]],
            "Vehicle": vehicles["vehicle_id"].astype(str).to_list(),
            "Depot": depot.fillna(vehicles["depot_id"]).astype(str).to_list(),
            "Status": [LIVE_STATUS_LABELS.get(str(s), str(s)) for s in vehicles["status"]],
            "Done": [_count(v) for v in vehicles["stops_done"]],
            "Failed": [_count(v) for v in vehicles["stops_failed"]],
            "Remaining": [_count(v) for v in vehicles["stops_remaining"]],
            "Next stop": ["" if _missing(o) else str(o) for o in vehicles["next_order_id"]],
            "Next ETA": [format_clock(s) for s in vehicles["next_eta_s"]],
            "Late stops": [_count(v) for v in vehicles["late_stops"]],
            "Minutes late": pd.array([late_minutes(s) for s in vehicles["late_s_total"]], dtype="Int64"),
            "Last fix": [format_local_clock(t) for t in vehicles["fix_at_utc"]],
        },
        columns=list(LIVE_VEHICLE_COLUMNS),
    )


def live_stops_table(stops: pd.DataFrame) -> pd.DataFrame:
    """The stops still to serve (:data:`LIVE_STOP_TABLE_COLUMNS`), by vehicle and sequence, committed first: ETA
    and window as local ``HH:MM``, minutes late and the at-risk flag, the morning plan's ETA and, for a stop the
    re-plan moved, the vehicle it came from."""
    remaining = stops[remaining_mask(stops)]
    remaining = remaining.assign(
        _first=remaining["status"] != "committed", _at_risk=at_risk_mask(stops)[remaining.index]
    ).sort_values(["vehicle_id", "_first", "sequence"])
    return pd.DataFrame(
        {
            "Vehicle": remaining["vehicle_id"].astype(str).to_list(),
            "Stop": pd.array(remaining["sequence"].to_list(), dtype="Int64"),
            "Order": remaining["order_id"].astype(str).to_list(),
            "Status": [LIVE_STOP_STATUS_LABELS.get(str(s), str(s)) for s in remaining["status"]],
            "ETA": [format_clock(s) for s in remaining["eta_s"]],
            "Window": [
                format_window(a, b) for a, b in zip(remaining["tw_start_s"], remaining["tw_end_s"], strict=True)
            ],
            "Minutes late": pd.array([late_minutes(s) for s in remaining["late_s"]], dtype="Int64"),
            "At risk": remaining["_at_risk"].astype(bool).to_list(),
            "Morning ETA": [format_clock(s) for s in remaining["morning_eta_s"]],
            "Moved from": [
                str(p) if _flag(m) and not _missing(p) else ""
                for m, p in zip(remaining["moved"], remaining["previous_vehicle_id"], strict=True)
            ],
        },
        columns=list(LIVE_STOP_TABLE_COLUMNS),
    )


def has_replan(versions: pd.DataFrame) -> bool:
    """Whether the date has a plan version of kind ``replan``."""
    return bool((versions["kind"] == "replan").any()) if not versions.empty else False


def plan_versions_table(versions: pd.DataFrame) -> pd.DataFrame:
    """The plan versions of a date (:data:`PLAN_VERSION_TABLE_COLUMNS`), oldest first: when each was made (local
    ``HH:MM``), the live state it started from (``As of``), why, and how many stops it moved."""
    return pd.DataFrame(
        {
            "Kind": versions["kind"].astype(str).to_list(),
            "Version": pd.array(versions["version"].to_list(), dtype="Int64"),
            "Created": [format_local_clock(t) for t in versions["created_at_utc"]],
            "As of": [format_clock(s) for s in versions["as_of_s"]],
            "Reason": ["" if _missing(r) else str(r) for r in versions["reason"]],
            "Stops moved": pd.array([None if _missing(n) else int(n) for n in versions["n_moved"]], dtype="Int64"),
            "Orders": pd.array([None if _missing(n) else int(n) for n in versions["n_orders"]], dtype="Int64"),
            "Assigned": pd.array([None if _missing(n) else int(n) for n in versions["n_assigned"]], dtype="Int64"),
            "Unassigned": pd.array([None if _missing(n) else int(n) for n in versions["n_unassigned"]], dtype="Int64"),
            "Status": ["" if _missing(s) else str(s) for s in versions["status"]],
        },
        columns=list(PLAN_VERSION_TABLE_COLUMNS),
    )


def _eta_change_minutes(change_s: Any) -> int | None:
    """Signed whole minutes (rounded towards zero); None when missing."""
    return None if _missing(change_s) else int(int(change_s) / 60)


def moved_stops_table(stops: pd.DataFrame) -> pd.DataFrame:
    """The stops the latest re-plan moved to another vehicle (:data:`MOVED_STOP_COLUMNS`), by order id: from
    which vehicle to which, the new stop number and ETA, and how much the ETA changed (minutes, + = later)."""
    moved = stops[moved_mask(stops)].sort_values("order_id")
    return pd.DataFrame(
        {
            "Order": moved["order_id"].astype(str).to_list(),
            "From vehicle": ["" if _missing(v) else str(v) for v in moved["previous_vehicle_id"]],
            "To vehicle": ["" if _missing(v) else str(v) for v in moved["vehicle_id"]],
            "Stop": pd.array(moved["sequence"].to_list(), dtype="Int64"),
            "ETA": [format_clock(s) for s in moved["eta_s"]],
            "Window": [format_window(a, b) for a, b in zip(moved["tw_start_s"], moved["tw_end_s"], strict=True)],
            "ETA change (min)": pd.array([_eta_change_minutes(c) for c in moved["eta_change_s"]], dtype="Int64"),
        },
        columns=list(MOVED_STOP_COLUMNS),
    )


def eta_changes_table(stops: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The ``limit`` remaining stops whose ETA the latest re-plan changed most (:data:`ETA_CHANGE_COLUMNS`),
    largest change either way first (then by order id); stops without a change (0 or missing) are left out."""
    remaining = stops[remaining_mask(stops)]
    change = pd.to_numeric(remaining["eta_change_s"], errors="coerce")
    changed = remaining.assign(_size=change.abs())
    changed = changed[changed["_size"] > 0].sort_values(["_size", "order_id"], ascending=[False, True]).head(limit)
    before = [
        None if _missing(eta) or _missing(delta) else int(eta) - int(delta)
        for eta, delta in zip(changed["eta_s"], changed["eta_change_s"], strict=True)
    ]
    return pd.DataFrame(
        {
            "Order": changed["order_id"].astype(str).to_list(),
            "Vehicle": changed["vehicle_id"].astype(str).to_list(),
            "Before": [format_clock(s) for s in before],
            "Now": [format_clock(s) for s in changed["eta_s"]],
            "ETA change (min)": pd.array([_eta_change_minutes(c) for c in changed["eta_change_s"]], dtype="Int64"),
            "Window": [format_window(a, b) for a, b in zip(changed["tw_start_s"], changed["tw_end_s"], strict=True)],
            "Minutes late": pd.array([late_minutes(s) for s in changed["late_s"]], dtype="Int64"),
        },
        columns=list(ETA_CHANGE_COLUMNS),
    )
