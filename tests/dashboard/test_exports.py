"""The exports (dashboard/exports.py): driver manifests as CSV and printable HTML, the routes as GeoJSON, the KPI
tables as CSV, and their file names, on small hand-made frames and on the demo snapshot's tables."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from dashboard import exports

from .conftest import DAY_1, DAY_2, demo_tables

PLAN = "plan-x"
DEPOTS = pd.DataFrame(
    [("D-A", "Alpha", 47.10, 9.50), ("D-B", "Beta", 47.20, 9.55)], columns=["depot_id", "name", "lat", "lon"]
)


def _h(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


# fmt: off
# (sequence, order, type, shipment, trip, window, second window, arrival, parcels, kg, litres, skills, priority, notes)
_STOPS = [
    (1, "O-1", "pickup", "S-9", 1, ("08:00", "10:00"), None, "08:10", 1, 2.5, 12.0, "", "normal", ""),
    (2, "O-2", "delivery", "", 1, ("09:00", "12:00"), ("14:00", "16:00"), "09:05", 3, 12.25, 40.5,
     "refrigerated tail_lift", "high", "Ring twice"),
    (3, "O-3", "delivery", "S-9", 2, None, None, "13:40", 1, 2.5, 12.0, "", "normal", "=HYPERLINK(\"x\")"),
    (4, "O-4", "delivery", "", 2, ("13:00", "17:00"), None, "14:20", 2, 4.0, 8.0, "", None, "<script>bad()</script>"),
]
# fmt: on


@pytest.fixture
def route() -> dict:
    """Route R1 of depot D-A: 4 stops in two trips (a reload at D-A before stop 3), a 30-min break after stop 2 at
    12:00, a pickup (stop 1) whose shipment is delivered at stop 3."""
    return {
        "plan_id": PLAN,
        "service_date": dt.date(2026, 11, 27),
        "depot_id": "D-A",
        "depot_name": "Alpha",
        "route_id": "R1",
        "vehicle_id": "V-1",
        "vehicle_type": "van",
        "n_stops": 4,
        "start_s": _h("07:30"),
        "end_s": _h("15:00"),
        "distance_m": 42_300,
        "duration_s": _h("07:30"),
        "weight_g": 21_250,
        "volume_cm3": 72_500,
        "cost_eur": 210.456,
        "start_depot_id": "D-A",
        "end_depot_id": "D-A",
        "n_reloads": 1,
        "break_after_sequence": 2,
        "break_start_s": _h("12:00"),
        "break_s": 1800,
    }


def _stop_frame(route_id: str = "R1", vehicle_id: str = "V-1", depot_id: str = "D-A") -> pd.DataFrame:
    rows = []
    for (
        sequence,
        order,
        kind,
        shipment,
        trip,
        window,
        window2,
        arrival,
        parcels,
        kg,
        litres,
        skills,
        prio,
        notes,
    ) in _STOPS:
        rows.append(
            {
                "plan_id": PLAN,
                "service_date": dt.date(2026, 11, 27),
                "depot_id": depot_id,
                "route_id": route_id,
                "vehicle_id": vehicle_id,
                "sequence": sequence,
                "order_id": f"{order}-{route_id}" if route_id != "R1" else order,
                "order_type": kind,
                "street": f"Strasse {sequence}",
                "postcode": "9490",
                "town": "Vaduz",
                "lat": 47.14 + sequence / 1000,
                "lon": 9.52 + sequence / 1000,
                "tw_start_s": _h(window[0]) if window else None,
                "tw_end_s": _h(window[1]) if window else None,
                "tw2_start_s": _h(window2[0]) if window2 else None,
                "tw2_end_s": _h(window2[1]) if window2 else None,
                "arrival_s": _h(arrival),
                "departure_s": _h(arrival) + 300,
                "parcels": parcels,
                "weight_g": int(kg * 1000),
                "volume_cm3": int(litres * 1000),
                "required_skills": skills or None,
                "priority": prio,
                "shipment_id": shipment or None,
                "trip": trip,
                "late_s": 0,
                "notes": notes or None,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def stops() -> pd.DataFrame:
    """The stops of :func:`route`, shuffled (the exports sort by sequence)."""
    return _stop_frame().sample(frac=1.0, random_state=7)


# --- driver manifest -------------------------------------------------------------------------------------------


def test_manifest_rows_are_the_stops_in_sequence_order(route, stops):
    """One row per stop, ordered by sequence whatever the input order, with the contract's columns."""
    manifest = exports.driver_manifest(stops, route)
    assert list(manifest.columns) == list(exports.MANIFEST_COLUMNS)
    assert manifest["Stop"].to_list() == [1, 2, 3, 4]
    assert manifest["Order"].to_list() == stops.sort_values("sequence")["order_id"].to_list()
    second = manifest.iloc[1]
    assert (second["Street"], second["Postcode"], second["Town"]) == ("Strasse 2", "9490", "Vaduz")
    assert second["Window"] == "09:00–12:00 or 14:00–16:00"
    assert second["Planned arrival"] == "09:05"
    assert (second["Parcels"], second["Weight (kg)"], second["Volume (l)"]) == (3, 12.2, 40.5)
    assert manifest.iloc[2]["Window"] == "any time"


def test_manifest_notes_tell_the_driver_what_to_know(route, stops):
    """Pickup (and where its shipment goes), the delivery of that shipment, skills, priority, the break after
    stop 2, the reload before the first stop of trip 2 only, and the order's own notes."""
    notes = exports.driver_manifest(stops, route)["Notes"].to_list()
    assert notes[0] == "PICKUP: deliver at stop 3"
    assert "Needs: refrigerated, tail_lift" in notes[1]
    assert "High priority" in notes[1]
    assert "Break after this stop (12:00, 30 min)" in notes[1]
    assert notes[1].endswith("Ring twice")
    assert notes[2].startswith("Reload at depot D-A before this stop (trip 2)")
    assert "Delivers what was picked up at stop 1" in notes[2]
    assert "Reload" not in notes[3] and "Break" not in notes[3]
    assert sum("Reload" in note for note in notes) == 1


def test_break_at_the_depot_goes_on_the_first_stop(route, stops):
    """break_after_sequence 0 is a break at the start depot, before the first stop."""
    notes = exports.driver_manifest(stops, route | {"break_after_sequence": 0})["Notes"].to_list()
    assert notes[0].endswith("Break at the depot before this stop (12:00, 30 min)")
    assert not any("Break" in note for note in notes[1:])


def test_manifest_of_an_older_plan(stops):
    """A snapshot without order type, skills, priority, second window, shipment and trip (and no route row):
    the manifest still lists every stop, with only the order's notes."""
    old = stops.drop(
        columns=["order_type", "required_skills", "priority", "tw2_start_s", "tw2_end_s", "shipment_id", "trip"]
    )
    manifest = exports.driver_manifest(old)
    assert manifest["Order"].to_list() == ["O-1", "O-2", "O-3", "O-4"]
    assert manifest["Notes"].to_list() == ["", "Ring twice", '=HYPERLINK("x")', "<script>bad()</script>"]
    assert manifest.iloc[1]["Window"] == "09:00–12:00"


def _read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so spreadsheet programs read umlauts right"
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_manifest_csv_round_trips_and_defuses_formulas(route, stops):
    """The CSV reads back with the same columns and rows; a note that a spreadsheet would run as a formula is
    quoted; umlauts survive."""
    manifest = exports.driver_manifest(stops.assign(town="Schaanwald-Mühleholz"), route)
    table = _read_csv(exports.to_csv(manifest))
    assert list(table.columns) == list(exports.MANIFEST_COLUMNS)
    assert table["Order"].to_list() == ["O-1", "O-2", "O-3", "O-4"]
    assert table["Stop"].to_list() == ["1", "2", "3", "4"]
    assert set(table["Town"]) == {"Schaanwald-Mühleholz"}
    assert table["Notes"].iloc[2].startswith("Reload")  # the formula is not the cell's start here
    formula_only = exports.to_csv(pd.DataFrame({"Notes": ['=HYPERLINK("x")', "-5", "+1", "@x", "ok"]}))
    assert _read_csv(formula_only)["Notes"].to_list() == ['\'=HYPERLINK("x")', "'-5", "'+1", "'@x", "ok"]


def test_all_manifests_list_every_route(route, stops):
    """The manifests of two routes in one table: each route's rows are its stops in sequence order, tagged with
    depot, vehicle and route, in the order of the routes."""
    second = route | {"route_id": "R2", "vehicle_id": "V-2", "depot_id": "D-B", "break_after_sequence": None}
    routes = pd.DataFrame([second, route])
    both = pd.concat([stops, _stop_frame("R2", "V-2", "D-B")])
    table = exports.manifests(routes, both)
    assert list(table.columns) == [*exports.ROUTE_KEY_COLUMNS, *exports.MANIFEST_COLUMNS]
    assert table["Route"].to_list() == ["R2"] * 4 + ["R1"] * 4
    assert table["Vehicle"].to_list() == ["V-2"] * 4 + ["V-1"] * 4
    assert table["Depot"].to_list() == ["D-B"] * 4 + ["D-A"] * 4
    assert table["Stop"].to_list() == [1, 2, 3, 4, 1, 2, 3, 4]
    assert table["Order"].to_list()[:4] == ["O-1-R2", "O-2-R2", "O-3-R2", "O-4-R2"]
    assert not exports.manifests(routes.iloc[0:0], both).shape[0]


def test_route_header(route):
    """The header names vehicle, driver, depot, local start and end, km, stops in trips, load and break."""
    header = exports.route_header(route, "DR-ANNA", {"D-A": "Alpha"}, parcels=7)
    assert header["Service date"] == "Fri 27 Nov 2026"
    assert header["Vehicle"] == "V-1 (van)"
    assert header["Driver"] == "DR-ANNA"
    assert header["Depot"] == "Alpha (D-A)"
    assert header["Start–end"] == "07:30–15:00"
    assert header["Distance"] == "42.3 km"
    assert header["Stops"] == "4 in 2 trips"
    assert header["Load"] == "7 parcels, 21.2 kg, 72.5 l"
    assert header["Break"] == "12:00 (30 min)"
    away = exports.route_header(route | {"end_depot_id": "D-B"}, None, {"D-A": "Alpha", "D-B": "Beta"})
    assert away["Depot"] == "Alpha (D-A) → Beta (D-B)"
    assert away["Driver"] == ""


# --- printable page --------------------------------------------------------------------------------------------


class _Sections(HTMLParser):
    """Collects each route section's table rows (cell texts) and the page's style text."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[list[list[str]]] = []
        self.style = ""
        self.scripts: list[str] = []
        self._in_body = self._in_style = self._in_script = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and attributes.get("class") == "route":
            self.sections.append([])
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.sections[-1].append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif tag == "style":
            self._in_style = True
        elif tag == "script":
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.sections[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "style":
            self._in_style = False
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_style:
            self.style += data
        if self._in_script:
            self.scripts.append(data)


def _parse(document: str) -> _Sections:
    parser = _Sections()
    parser.feed(document)
    parser.close()
    return parser


def test_printable_page_has_every_stop_and_a_page_break_per_route(route, stops):
    """Two routes: two sections, each with its stops in order; print CSS breaks the page after each route (the last
    excepted) and repeats the table head; customer text is escaped, so the page runs no script of theirs."""
    second = route | {"route_id": "R2", "vehicle_id": "V-2"}
    both = pd.concat([stops, _stop_frame("R2", "V-2")])
    document = exports.manifest_html(pd.DataFrame([route, second]), both, {"V-1": "DR-ANNA"}, {"D-A": "Alpha"})
    assert document.startswith("<!DOCTYPE html>")
    page = _parse(document)
    assert len(page.sections) == 2
    for section, route_id in zip(page.sections, ("R1", "R2"), strict=True):
        expected = both[both["route_id"] == route_id].sort_values("sequence")["order_id"].to_list()
        assert [row[1] for row in section] == expected
        assert [row[0] for row in section] == ["1", "2", "3", "4"]
    assert re.search(r"@media print\s*{[^@]*\.route\s*{[^}]*break-after:\s*page", page.style)
    assert re.search(r"\.route:last-of-type\s*{[^}]*break-after:\s*auto", page.style)
    assert "thead { display: table-header-group; }" in page.style
    assert "<script>bad()" not in document and "&lt;script&gt;bad()&lt;/script&gt;" in document
    assert page.scripts == []  # the only script is the print button's onclick
    assert "DR-ANNA" in document and "Alpha (D-A)" in document
    assert document.count('class="blank"') == 1  # V-2's driver is unknown: a line to write it on
    assert document.count('<tr class="pickup">') == 2 and document.count('<tr class="reload">') == 2


def test_printable_page_of_one_route_without_stops(route, stops):
    """A route with no stops still gets its section, saying so."""
    page = _parse(exports.manifest_html(pd.DataFrame([route | {"n_stops": 0}]), stops.iloc[0:0]))
    assert len(page.sections) == 1
    assert page.sections[0] == [["No stops on this route."]]


# --- GeoJSON ---------------------------------------------------------------------------------------------------


def _check_rfc7946(collection: dict) -> None:
    """The structure RFC 7946 requires of what the export writes: a FeatureCollection of Features, each with a
    geometry (LineString of >= 2 positions, or Point) and a properties object; positions [lon, lat] in range."""
    assert set(collection) == {"type", "features"}
    assert collection["type"] == "FeatureCollection"
    for feature in collection["features"]:
        assert set(feature) == {"type", "geometry", "properties"}
        assert feature["type"] == "Feature" and isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert set(geometry) == {"type", "coordinates"}
        positions = geometry["coordinates"] if geometry["type"] == "LineString" else [geometry["coordinates"]]
        assert geometry["type"] in ("LineString", "Point")
        if geometry["type"] == "LineString":
            assert len(positions) >= 2
        for lon, lat in positions:
            assert isinstance(lon, float) and isinstance(lat, float)
            assert -180 <= lon <= 180 and -90 <= lat <= 90


def test_geojson_has_a_line_per_route_and_a_point_per_stop(route, stops):
    """Straight lines: depot, the stops in sequence with the depot between the two trips, depot; stop points at
    the stops' [lon, lat]; the depot as a point; strict JSON."""
    collection = exports.plan_geojson(pd.DataFrame([route]), stops, DEPOTS)
    _check_rfc7946(collection)
    decoded = json.loads(exports.geojson_bytes(collection))
    assert decoded == collection
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds == ["route", "stop", "stop", "stop", "stop", "depot"]
    (line,) = [f for f in collection["features"] if f["properties"]["kind"] == "route"]
    ordered = stops.sort_values("sequence")
    depot = [9.5, 47.1]
    stop_positions = [[round(lon, 6), round(lat, 6)] for lon, lat in zip(ordered["lon"], ordered["lat"], strict=True)]
    assert line["geometry"]["coordinates"] == [depot, *stop_positions[:2], depot, *stop_positions[2:], depot]
    assert line["properties"]["geometry_source"] == "straight"
    assert line["properties"]["distance_km"] == 42.3
    assert line["properties"]["stroke"].startswith("#")
    points = [f for f in collection["features"] if f["properties"]["kind"] == "stop"]
    assert [p["properties"]["order_id"] for p in points] == ordered["order_id"].to_list()
    assert [p["geometry"]["coordinates"] for p in points] == stop_positions
    assert points[1]["properties"]["window"] == "09:00–12:00 or 14:00–16:00"
    depot_point = collection["features"][-1]
    assert depot_point["geometry"]["coordinates"] == depot and depot_point["properties"]["depot_id"] == "D-A"


def test_geojson_follows_the_road_geometry(route, stops):
    """A route with road geometry is drawn along it, in seq order; the others stay straight."""
    second = route | {"route_id": "R2", "vehicle_id": "V-2", "n_reloads": 0}
    both = pd.concat([stops, _stop_frame("R2", "V-2").assign(trip=1)])
    road = pd.DataFrame(
        {"plan_id": PLAN, "route_id": "R1", "seq": [2, 0, 1], "lon": [9.53, 9.5, 9.51], "lat": [47.15, 47.1, 47.12]}
    )
    collection = exports.plan_geojson(pd.DataFrame([route, second]), both, DEPOTS, road)
    _check_rfc7946(collection)
    lines = {f["properties"]["route_id"]: f for f in collection["features"] if f["properties"]["kind"] == "route"}
    assert lines["R1"]["geometry"]["coordinates"] == [[9.5, 47.1], [9.51, 47.12], [9.53, 47.15]]
    assert lines["R1"]["properties"]["geometry_source"] == "road"
    assert lines["R2"]["properties"]["geometry_source"] == "straight"
    assert len(lines["R2"]["geometry"]["coordinates"]) == 4 + 2
    assert sum(f["properties"]["kind"] == "stop" for f in collection["features"]) == 8


def test_geojson_of_the_demo_plan_is_valid():
    """The demo snapshot's day-2 plan: 3 routes, 8 stops, 2 depots, every position in Liechtenstein as [lon, lat]."""
    tables = demo_tables(execution=False)
    routes = tables["planned_routes"].query("service_date == @DAY_2")
    stops = tables["planned_stops"].query("service_date == @DAY_2")
    collection = exports.plan_geojson(routes, stops, tables["depots"])
    _check_rfc7946(collection)
    kinds = pd.Series([f["properties"]["kind"] for f in collection["features"]]).value_counts().to_dict()
    assert kinds == {"route": 3, "stop": 8, "depot": 2}
    for feature in collection["features"]:
        coordinates = feature["geometry"]["coordinates"]
        for lon, lat in coordinates if feature["geometry"]["type"] == "LineString" else [coordinates]:
            assert 9.4 < lon < 9.7 and 47.0 < lat < 47.3  # lon first: Liechtenstein lies at 9.5 E, 47.1 N


@pytest.mark.parametrize(("lon", "lat"), [(None, 47.1), (9.5, math.nan), (190.0, 47.1), (9.5, -91.0)])
def test_geojson_refuses_a_stop_without_valid_coordinates(route, stops, lon, lat):
    """A stop without coordinates, or with coordinates out of range, is an error naming the order."""
    broken = stops.sort_values("sequence").reset_index(drop=True)
    broken["lon"] = broken["lon"].astype(object)
    broken.loc[1, ["lon", "lat"]] = [lon, lat]
    with pytest.raises(ValueError, match="O-2"):
        exports.plan_geojson(pd.DataFrame([route | {"n_reloads": 0}]), broken.assign(trip=1), DEPOTS)


# --- KPI tables ------------------------------------------------------------------------------------------------


def test_plan_kpi_csv_is_the_published_kpis():
    """One row per date and depot with the published figures; the CSV reads back the same."""
    tables = demo_tables(execution=False)
    kpis = tables["plan_kpis"].merge(tables["depots"][["depot_id", "name"]], on="depot_id")
    kpis = kpis.rename(columns={"name": "depot_name"}).assign(plan_kind="daily", plan_version=[1, 1, 2, 2])
    table = exports.plan_kpis_table(kpis)
    assert list(table.columns) == list(exports.PLAN_KPI_COLUMNS)
    assert table["service_date"].to_list() == [DAY_1.isoformat()] * 2 + [DAY_2.isoformat()] * 2
    assert table["cost_per_delivery_eur"].to_list() == kpis["cost_per_delivery_eur"].round(2).to_list()
    assert table["stops"].to_list() == kpis["stops"].to_list()
    back = pd.read_csv(io.BytesIO(exports.to_csv(table)), encoding="utf-8-sig")
    assert list(back.columns) == list(exports.PLAN_KPI_COLUMNS)
    assert back["distance_km"].to_list() == pytest.approx(kpis["distance_km"].to_list())


def test_delivery_kpi_csv_has_the_days_then_the_range():
    """Daily rows as published, then the range's row from the summary (deliveries -> delivered)."""
    daily = pd.DataFrame(
        {
            "service_date": [DAY_1, DAY_2],
            "depot_id": ["D-A", "D-A"],
            "depot_name": ["Alpha", "Alpha"],
            "orders": [4, 5],
            "attempted": [4, 4],
            "delivered": [3, 4],
            "on_time_rate": [0.5, 0.75],
            "cost_per_delivery_eur": [42.0, 56.456],
            "first_attempt_success_rate": [0.75, 1.0],
            "avg_rating": [4.0, None],
            "ratings": [2, 0],
        }
    )
    summary = {
        "orders": 9,
        "attempted": 8,
        "deliveries": 7,
        "on_time_rate": 0.625,
        "cost_per_delivery_eur": 50.123,
        "first_attempt_success_rate": 0.875,
        "avg_rating": 4.0,
        "ratings": 2,
    }
    table = exports.delivery_kpis_table(daily, summary, (DAY_1, DAY_2), "D-A", "Alpha")
    assert list(table.columns) == list(exports.DELIVERY_KPI_COLUMNS)
    assert table["period_start"].to_list() == ["2026-11-26", "2026-11-27", "2026-11-26"]
    assert table["period_end"].to_list() == ["2026-11-26", "2026-11-27", "2026-11-27"]
    assert table["delivered"].to_list() == [3, 4, 7]
    assert table["cost_per_delivery_eur"].to_list() == [42.0, 56.46, 50.12]
    assert table["on_time_rate"].to_list() == [0.5, 0.75, 0.625]
    back = pd.read_csv(io.BytesIO(exports.to_csv(table)), encoding="utf-8-sig", keep_default_na=False)
    assert back["avg_rating"].astype(str).to_list() == ["4.0", "", "4.0"]
    everywhere = exports.delivery_kpis_table(daily, summary, (DAY_1, DAY_2))
    assert everywhere.iloc[-1][["depot_id", "depot_name"]].to_list() == ["all", "all depots"]
    assert len(exports.delivery_kpis_table(daily)) == 2
    with pytest.raises(ValueError, match="period"):
        exports.delivery_kpis_table(daily, summary)


def test_file_names():
    """Date, depot (or all-depots) and vehicle in the name; characters a file system dislikes replaced."""
    assert exports.manifest_file_name(DAY_2, "D-VADUZ", "V-VAD-03") == "manifest_2026-11-27_D-VADUZ_V-VAD-03.csv"
    assert exports.manifest_file_name(DAY_2, "D-VADUZ", "V/03 x", "html") == "manifest_2026-11-27_D-VADUZ_V_03_x.html"
    assert exports.manifests_file_name(DAY_2, None, "html") == "manifests_2026-11-27_all-depots.html"
    assert exports.geojson_file_name(DAY_2, "D-A") == "routes_2026-11-27_D-A.geojson"
    assert exports.plan_kpis_file_name(DAY_2, None) == "plan_kpis_2026-11-27_all-depots.csv"
    assert exports.delivery_kpis_file_name(DAY_1, DAY_2, "D-A") == "delivery_kpis_2026-11-26_2026-11-27_D-A.csv"


@pytest.mark.browser
def test_printable_page_prints_one_page_per_route(route, stops, chromium_page, screenshot_dir):
    """Printed by Chromium (A4 landscape), three short routes give three pages: each route starts a new page and
    the last one adds no blank page."""
    routes = pd.DataFrame([route, route | {"route_id": "R2", "vehicle_id": "V-2"}, route | {"route_id": "R3"}])
    all_stops = pd.concat([stops, _stop_frame("R2", "V-2"), _stop_frame("R3")])
    chromium_page.set_content(exports.manifest_html(routes, all_stops, {"V-1": "DR-ANNA"}, {"D-A": "Alpha"}))
    chromium_page.screenshot(path=screenshot_dir / "manifest_printable.png", full_page=True)
    pdf = chromium_page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 3
