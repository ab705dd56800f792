"""Pure builders in dashboard.layers: map layers, view fitting, time formatting and display tables."""

import json
import math

import pandas as pd
import pytest

from dashboard import layers

from .conftest import DAY_2, demo_tables


@pytest.fixture
def day_two() -> dict[str, pd.DataFrame]:
    """Day 2 of the demo snapshot as query results: 3 routes (2 Schaan, 1 Triesen), 8 stops, 1 unassigned."""
    tables = demo_tables()
    routes = (
        tables["planned_routes"]
        .query("service_date == @DAY_2")
        .merge(tables["depots"][["depot_id", "name"]].rename(columns={"name": "depot_name"}), on="depot_id")
    )
    unassigned = tables["unassigned"].merge(
        tables["depots"][["depot_id", "name"]].rename(columns={"name": "depot_name"}), on="depot_id"
    )
    return {
        "routes": routes.reset_index(drop=True),
        "stops": tables["planned_stops"].query("service_date == @DAY_2").reset_index(drop=True),
        "depots": tables["depots"],
        "unassigned": unassigned,
    }


def _spec(deck) -> dict:
    return json.loads(deck.to_json())


def test_one_path_per_route(day_two):
    """The deck has one PathLayer for the plan, holding exactly one path per route."""
    spec = _spec(
        layers.build_deck(day_two["routes"], day_two["stops"], day_two["depots"], day_two["unassigned"])
    )
    path_layers = [layer for layer in spec["layers"] if layer["@@type"] == "PathLayer"]
    assert len(path_layers) == 1
    assert sorted(p["vehicle_id"] for p in path_layers[0]["data"]) == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]


def test_path_runs_depot_stops_in_sequence_depot(day_two):
    """Every path starts and ends at its depot and visits the route's stops in sequence order."""
    depot_at = {d.depot_id: [d.lon, d.lat] for d in day_two["depots"].itertuples()}
    shuffled = day_two["stops"].sample(frac=1, random_state=3)
    paths = layers.route_paths(day_two["routes"], shuffled, day_two["depots"])
    for route, path in zip(day_two["routes"].itertuples(), paths, strict=True):
        route_stops = day_two["stops"].query("route_id == @route.route_id").sort_values("sequence")
        assert path["path"][0] == path["path"][-1] == depot_at[route.depot_id]
        assert path["path"][1:-1] == [
            [lon, lat] for lon, lat in zip(route_stops.lon, route_stops.lat, strict=True)
        ]


def test_route_colours_distinct_and_shared_with_stops(day_two):
    """Routes get distinct palette colours in route order, and each stop wears its route's colour."""
    paths = layers.route_paths(day_two["routes"], day_two["stops"], day_two["depots"])
    colours = [tuple(p["color"]) for p in paths]
    assert colours == list(layers.PALETTE[: len(paths)])
    assert len(set(layers.PALETTE)) == len(layers.PALETTE)
    assert layers.UNASSIGNED_COLOR not in layers.PALETTE and layers.DEPOT_COLOR not in layers.PALETTE
    by_vehicle = {p["vehicle_id"]: p["color"] for p in paths}
    points = layers.stop_points(day_two["routes"], day_two["stops"])
    stop_vehicle = dict(zip(day_two["stops"].order_id, day_two["stops"].vehicle_id, strict=True))
    assert all(point["color"] == by_vehicle[stop_vehicle[point["order_id"]]] for point in points)


def test_route_table_colours_match_map(day_two):
    """The route table lists routes in map order with the map's colour of each route."""
    table = layers.route_table(day_two["routes"])
    paths = layers.route_paths(day_two["routes"], day_two["stops"], day_two["depots"])
    assert table["Vehicle"].to_list() == [p["vehicle_id"] for p in paths]
    assert table["Colour"].to_list() == ["#{:02x}{:02x}{:02x}".format(*p["color"]) for p in paths]
    assert list(table.columns) == list(layers.ROUTE_TABLE_COLUMNS)
    first = table.iloc[0]
    assert (first["Start–end"], first["km"], first["Load (kg)"]) == ("07:30–10:20", 18.0, 27.7)


def test_deck_layers_tooltip_and_token_free_style(day_two):
    """Stops, unassigned orders and depots are separate layers; the basemap needs no token."""
    deck = layers.build_deck(day_two["routes"], day_two["stops"], day_two["depots"], day_two["unassigned"])
    spec = _spec(deck)
    by_id = {layer["id"]: layer for layer in spec["layers"]}
    assert len(by_id["stops"]["data"]) == 8
    assert [p["order_id"] for p in by_id["unassigned"]["data"]] == ["O-2009"]
    assert by_id["unassigned"]["getFillColor"] == list(layers.UNASSIGNED_COLOR)
    assert len(by_id["depots"]["data"]) == 2
    assert "mapbox" not in json.dumps(spec).lower() and not deck.mapbox_key
    assert spec["mapStyle"].startswith("https://basemaps.cartocdn.com/")
    tooltip = next(p["tooltip"] for p in by_id["stops"]["data"] if p["order_id"] == "O-2002")
    assert tooltip.splitlines() == [
        "Stop 2 of V-SCH-01 · order O-2002",
        "Essanestrasse 91, 9492 Eschen",
        "Window 09:00–12:00",
        "Planned arrival 08:20",
    ]


def _pixel(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    scale = 512 * 2**zoom  # deck.gl: the world is 512 px wide at zoom 0
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2
    return (lon + 180) / 360 * scale, y * scale


def test_view_fits_bounding_box():
    """Every corner of the data's bounding box lies inside the padded viewport the view was fitted for."""
    positions = [[9.47, 47.05], [9.56, 47.25], [9.50, 47.10]]
    width, height, padding = 900, 560, 40
    view = layers.fit_view(positions, width_px=width, height_px=height, padding_px=padding)
    centre_x, centre_y = _pixel(view.longitude, view.latitude, view.zoom)
    for lon in (9.47, 9.56):
        for lat in (47.05, 47.25):
            x, y = _pixel(lon, lat, view.zoom)
            assert abs(x - centre_x) <= width / 2 - padding + 1e-6
            assert abs(y - centre_y) <= height / 2 - padding + 1e-6
    # Tight: the limiting dimension (north-south here) fills the padded viewport.
    _, top = _pixel(9.5, 47.25, view.zoom)
    assert abs(top - centre_y) == pytest.approx(height / 2 - padding)


def test_view_of_single_point_is_capped():
    """One point gives a finite, capped zoom centred on it; no points gives a world view."""
    view = layers.fit_view([[9.52, 47.14]])
    assert (view.longitude, view.latitude, view.zoom) == (9.52, pytest.approx(47.14), 15.0)
    assert layers.fit_view([]).zoom == 1


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "00:00"),
        (8 * 3600 + 5 * 60 + 59, "08:05"),
        (86_399, "23:59"),
        (86_400 + 900, "00:15+1"),
        (None, ""),
    ],
)
def test_format_clock(seconds, expected):
    """Seconds since local midnight format as HH:MM, past midnight with a day suffix, missing as blank."""
    assert layers.format_clock(seconds) == expected


def test_format_clock_rejects_negative():
    """A negative time of day is a data error, not something to display."""
    with pytest.raises(ValueError, match="negative"):
        layers.format_clock(-1)


def test_format_window():
    """Windows show both bounds, one bound, or 'any time'."""
    assert layers.format_window(9 * 3600, 12 * 3600) == "09:00–12:00"
    assert layers.format_window(9 * 3600, float("nan")) == "from 09:00"
    assert layers.format_window(None, None) == "any time"


def test_driver_manifest_columns_and_order(day_two):
    """The manifest has the contract's columns in order, stops in sequence, units converted for the driver."""
    route_stops = day_two["stops"].query("vehicle_id == 'V-SCH-01'").iloc[::-1]
    manifest = layers.driver_manifest(route_stops)
    assert list(manifest.columns) == [
        "Stop",
        "Order",
        "Address",
        "Window",
        "Planned arrival",
        "Parcels",
        "Weight (kg)",
        "Notes",
    ]
    assert manifest["Stop"].to_list() == [1, 2, 3]
    assert manifest["Order"].to_list() == ["O-2001", "O-2002", "O-2003"]
    second = manifest.iloc[1]
    assert second["Address"] == "Essanestrasse 91, 9492 Eschen"
    assert (second["Window"], second["Planned arrival"]) == ("09:00–12:00", "08:20")
    assert (second["Parcels"], second["Weight (kg)"], second["Notes"]) == (4, 18.4, "Dock at rear")
    assert manifest.iloc[0]["Notes"] == ""


def test_manifest_csv_and_file_name():
    """The CSV keeps umlauts readable in spreadsheets and the file name carries date and vehicle."""
    manifest = pd.DataFrame({"Address": ["Städtle 15, 9490 Vaduz"]})
    data = layers.manifest_csv(manifest)
    assert data.startswith(b"\xef\xbb\xbf") and "Städtle".encode() in data
    assert layers.manifest_file_name(DAY_2, "V-SCH-01") == "manifest_2026-11-27_V-SCH-01.csv"
    assert layers.manifest_file_name(DAY_2, "V/1 x") == "manifest_2026-11-27_V_1_x.csv"


def test_format_published_is_local_time():
    """Publication times are shown in Europe/Vaduz local time (UTC+1 in November)."""
    assert layers.format_published("2026-11-27T05:30:00Z") == "2026-11-27 06:30"
    assert layers.format_published("") == ""


def test_unassigned_table_keeps_reason(day_two):
    """Unassigned orders list their reason code and reason."""
    table = layers.unassigned_table(day_two["unassigned"])
    assert table.to_dict("records") == [
        {
            "Order": "O-2009",
            "Depot": "Triesen",
            "Address": "Malbun 40, 9497 Triesenberg",
            "Reason code": "TW_INFEASIBLE",
            "Reason": "Window 07:00-07:30 closes before any vehicle can arrive",
        }
    ]


def test_only_accessors_are_expressions(day_two):
    """Regression: unit props stay literals; pydeck turned a bare "pixels" into an accessor expression,
    which made deck.gl draw the depots as circles covering the whole map."""
    spec = _spec(
        layers.build_deck(day_two["routes"], day_two["stops"], day_two["depots"], day_two["unassigned"])
    )
    for layer in spec["layers"]:
        for prop, value in layer.items():
            if isinstance(value, str) and value.startswith("@@="):
                assert prop.startswith("get"), f"{layer['id']}.{prop} = {value}"
        for prop in ("radiusUnits", "widthUnits"):
            assert layer.get(prop, "pixels") == "pixels"


# --- plan versus actual --------------------------------------------------------------------------------------


@pytest.fixture
def day_two_actual(day_two) -> dict[str, pd.DataFrame]:
    """Day 2's execution as query results: 9 orders (2 late, 1 failed, 1 not attempted, 1 unassigned),
    3 route days, 3 driven tracks; plus day 2's planned routes and stops."""
    tables = demo_tables()
    route_days = (
        tables["route_days"]
        .query("service_date == @DAY_2")
        .merge(tables["depots"][["depot_id", "name"]].rename(columns={"name": "depot_name"}), on="depot_id")
    )
    return day_two | {
        "deliveries": tables["deliveries"].query("service_date == @DAY_2").reset_index(drop=True),
        "route_days": route_days.reset_index(drop=True),
        "tracks": tables["driven_paths"].query("service_date == @DAY_2").reset_index(drop=True),
    }


def _actual_deck(data: dict[str, pd.DataFrame], vehicles=None) -> dict:
    return _spec(
        layers.build_plan_vs_actual_deck(
            data["routes"], data["stops"], data["tracks"], data["deliveries"], data["depots"], vehicles=vehicles
        )
    )


def _layer(spec: dict, layer_id: str) -> dict:
    (layer,) = [layer for layer in spec["layers"] if layer["id"] == layer_id]
    return layer


@pytest.mark.parametrize(
    ("outcome", "is_on_time", "status"),
    [
        ("delivered", True, "on_time"),
        ("delivered", False, "late"),
        ("delivered", None, "late"),
        ("failed", None, "failed"),
        ("not_attempted", None, "not_attempted"),
        ("unassigned", None, None),
    ],
)
def test_stop_status(outcome, is_on_time, status):
    """A delivered order is on time only when the mart says so; an unassigned order has no stop."""
    assert layers.stop_status(outcome, is_on_time) == status


def test_plan_vs_actual_deck_draws_planned_and_driven_per_vehicle(day_two_actual):
    """Planned and driven PathLayers hold one path per vehicle; the driven one is thicker and a darker shade
    of the same route colour; stops are coloured by outcome and unassigned orders are left out."""
    spec = _actual_deck(day_two_actual)
    assert [layer["id"] for layer in spec["layers"]] == ["driven", "planned", "deliveries", "depots"]
    planned, driven = _layer(spec, "planned"), _layer(spec, "driven")
    assert planned["@@type"] == driven["@@type"] == "PathLayer"
    assert [p["vehicle_id"] for p in planned["data"]] == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    assert [p["vehicle_id"] for p in driven["data"]] == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    assert driven["getWidth"] > planned["getWidth"]
    for plan, track in zip(planned["data"], driven["data"], strict=True):
        assert track["color"] == list(layers.darker(plan["color"]))
    statuses = {p["order_id"]: p["status"] for p in _layer(spec, "deliveries")["data"]}
    assert statuses == {
        "O-2001": "late",
        "O-2002": "on_time",
        "O-2003": "on_time",
        "O-2004": "on_time",
        "O-2005": "not_attempted",
        "O-2006": "on_time",
        "O-2007": "late",
        "O-2008": "failed",
    }


def test_plan_vs_actual_deck_keeps_colours_when_filtering_vehicles(day_two_actual):
    """Choosing vehicles keeps only theirs, in the colours they have with every vehicle shown."""
    every = {p["vehicle_id"]: p["color"] for p in _layer(_actual_deck(day_two_actual), "planned")["data"]}
    spec = _actual_deck(day_two_actual, vehicles=["V-TRI-01"])
    (planned,) = _layer(spec, "planned")["data"]
    (driven,) = _layer(spec, "driven")["data"]
    assert planned["vehicle_id"] == driven["vehicle_id"] == "V-TRI-01"
    assert planned["color"] == every["V-TRI-01"]
    assert {p["vehicle_id"] for p in _layer(spec, "deliveries")["data"]} == {"V-TRI-01"}


def test_driven_paths_follow_seq_and_skip_single_fixes():
    """A track is drawn in fix order; a vehicle with one fix has no line to draw."""
    tracks = pd.DataFrame(
        {
            "vehicle_id": ["A", "A", "A", "B"],
            "seq": [2, 0, 1, 0],
            "lat": [47.2, 47.0, 47.1, 47.3],
            "lon": [9.2, 9.0, 9.1, 9.3],
        }
    )
    (record,) = layers.driven_paths(tracks, {"A": (100, 50, 200)})
    assert record["path"] == [[9.0, 47.0], [9.1, 47.1], [9.2, 47.2]]
    assert record["color"] == [60, 30, 120]


def test_plan_vs_actual_summary(day_two_actual):
    """Day 2: 49.5 km planned, 49.7 km driven, 5 of 7 attempted stops on time (the failed one was reached in
    time), 2 late, 1 failed, 1 not attempted."""
    summary = layers.plan_vs_actual_summary(day_two_actual["route_days"], day_two_actual["deliveries"])
    assert summary["planned_km"] == pytest.approx(49.5)
    assert summary["actual_km"] == pytest.approx(49.7)
    assert (summary["attempted"], summary["on_time"], summary["late"]) == (7, 5, 2)
    assert (summary["failed"], summary["not_attempted"]) == (1, 1)
    assert summary["on_time_rate"] == pytest.approx(5 / 7)
    empty = layers.plan_vs_actual_summary(day_two_actual["route_days"].iloc[0:0], day_two_actual["deliveries"][0:0])
    assert empty["on_time_rate"] is None and empty["late"] == 0


def test_late_stops_table_latest_first(day_two_actual):
    """Late stops are listed most minutes late first, with window and arrivals as local HH:MM."""
    table = layers.late_stops_table(day_two_actual["deliveries"])
    assert table.to_dict("records") == [
        {
            "Order": "O-2001",
            "Vehicle": "V-SCH-01",
            "Window": "08:00–10:00",
            "Planned arrival": "07:45",
            "Actual arrival": "10:25",
            "Minutes late": 25,
            "Cause": "Late departure",
        },
        {
            "Order": "O-2007",
            "Vehicle": "V-TRI-01",
            "Window": "09:00–12:00",
            "Planned arrival": "08:20",
            "Actual arrival": "12:07",
            "Minutes late": 7,
            "Cause": "Long service",
        },
    ]


def test_route_comparison_table(day_two_actual):
    """One row per vehicle: planned against actual km, start, end and cost, in the route's colour."""
    colors = layers.vehicle_colors(day_two_actual["routes"])
    table = layers.route_comparison_table(day_two_actual["route_days"], colors)
    assert list(table.columns) == list(layers.ROUTE_COMPARISON_COLUMNS)
    first = table.iloc[0].to_dict()
    assert first["Colour"] == layers.hex_color(layers.PALETTE[0])
    assert (first["Vehicle"], first["Driver"], first["Depot"], first["Stops"]) == (
        "V-SCH-01",
        "DR-ANNA",
        "Schaan",
        "3/3",
    )
    assert (first["Planned km"], first["Driven km"]) == (18.0, 19.8)
    assert (first["Planned start"], first["Actual start"]) == ("07:30", "07:50")
    assert first["Actual end"] == "11:50"
    assert first["Actual cost (EUR)"] == 118.0
    assert table["Stops"].to_list() == ["3/3", "1/2", "3/3"]


def test_driver_table_shows_percent_and_keeps_missing():
    """Rates become percent with one decimal; a driver without ratings keeps an empty rating."""
    drivers = pd.DataFrame(
        {
            "driver_id": ["DR-A", "DR-B"],
            "route_days": [2, 1],
            "deliveries": [5, 0],
            "on_time_rate": [0.6, None],
            "first_attempt_success_rate": [0.8, None],
            "stops_per_hour": [0.4934, 0.5],
            "km_per_stop": [7.0, None],
            "avg_rating": [3.75, None],
            "ratings": [4, 0],
        }
    )
    table = layers.driver_table(drivers)
    assert list(table.columns) == list(layers.DRIVER_TABLE_COLUMNS)
    assert table.iloc[0].to_dict() == {
        "Driver": "DR-A",
        "Route days": 2,
        "Deliveries": 5,
        "On time (%)": 60.0,
        "First-attempt success (%)": 80.0,
        "Stops per hour": 0.49,
        "km per stop": 7.0,
        "Rating (1-5)": 3.75,
        "Ratings": 4,
    }
    assert pd.isna(table.iloc[1]["Rating (1-5)"]) and pd.isna(table.iloc[1]["On time (%)"])
