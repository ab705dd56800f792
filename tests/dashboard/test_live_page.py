"""The Live page (docs/replanning.md, section 6): the live queries and the pure builders on a hand-made snapshot,
the page in-process (AppTest) and in Chromium with the "Re-plan now" button."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import layers, queries
from dashboard.snapshot import current_snapshot

from .conftest import APP_PATH, DAY_1, DAY_2, LIVE_SCHEMAS, DemoSnapshot, app_test, demo_tables, write_snapshot

TIMEOUT_S = 30
LOAD_TIMEOUT_MS = 60_000
EXCEPTION_BOX = '[data-testid="stException"]'
LIVE = "app_pages/live.py"

REPLAN_ID = "plan-2026-11-27-replan-v3"
AS_OF_S = 10 * 3600 + 30 * 60


def _s(hh_mm: str | None) -> int | None:
    if hh_mm is None:
        return None
    hours, minutes = hh_mm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


# fmt: off
# Day 2 at 10:30, after a re-plan at 10:30 for V-SCH-02's breakdown at 08:50: V-SCH-01 started late and now also
# carries V-SCH-02's two orders (moved, both at risk); V-TRI-01 failed its first stop, is at its second and took a
# new order (a little late). O-2009 was cancelled.
# (depot, vehicle, sequence, order, lat, lon, status, morning ETA, ETA, window start, window end, previous vehicle)
_LIVE_STOPS = [
    ("D-SCHAAN", "V-SCH-01", 1, "O-2001", 47.1690, 9.5150, "delivered", "07:45", "10:25", "08:00", "10:00", None),
    ("D-SCHAAN", "V-SCH-01", 2, "O-2002", 47.2100, 9.5220, "committed", "08:20", "10:50", "09:00", "12:00", None),
    ("D-SCHAAN", "V-SCH-01", 3, "O-2003", 47.2200, 9.5080, "planned", "09:20", "11:30", "10:00", "14:00", None),
    ("D-SCHAAN", "V-SCH-01", 4, "O-2004", 47.1400, 9.5210, "planned", "07:45", "12:05", "09:00", "11:00", "V-SCH-02"),
    ("D-SCHAAN", "V-SCH-01", 5, "O-2005", 47.1380, 9.5190, "planned", "08:20", "12:25", "10:00", "12:00", "V-SCH-02"),
    ("D-TRIESEN", "V-TRI-01", 1, "O-2006", 47.1010, 9.5280, "failed", "07:45", "08:05", "08:00", "12:00", None),
    ("D-TRIESEN", "V-TRI-01", 2, "O-2007", 47.0660, 9.5020, "committed", "09:00", "10:20", "09:00", "12:00", None),
    ("D-TRIESEN", "V-TRI-01", 3, "O-2008", 47.0640, 9.4980, "planned", "11:00", "11:05", "11:00", "15:00", None),
    ("D-TRIESEN", "V-TRI-01", 4, "O-2010", 47.0700, 9.5050, "planned", None, "12:05", "10:00", "12:00", None),
    ("D-TRIESEN", None, None, "O-2009", 47.1030, 9.6090, "cancelled", None, None, "07:00", "07:30", None),
]
# (depot, vehicle, lat, lon, fix UTC, status)
_LIVE_VEHICLES = [
    ("D-SCHAAN", "V-SCH-01", 47.1950, 9.5180, "09:29", "driving"),
    ("D-SCHAAN", "V-SCH-02", 47.1550, 9.5200, "07:50", "broken_down"),
    ("D-TRIESEN", "V-TRI-01", 47.0660, 9.5020, "09:28", "at_stop"),
]
# fmt: on
AT_RISK_ORDERS = {"O-2004", "O-2005", "O-2010"}
MOVED = {"O-2004": ("V-SCH-02", "V-SCH-01"), "O-2005": ("V-SCH-02", "V-SCH-01")}


def live_tables() -> dict[str, pd.DataFrame]:
    """``live_stops``, ``live_vehicles`` and ``plan_versions`` of :data:`_LIVE_STOPS` (day 2 only): late_s is the
    ETA past the window end of the stops still to serve; the vehicles' counts are derived from the stops."""
    stop_rows = []
    for depot, vehicle, sequence, order, lat, lon, status, morning, eta, tw_a, tw_b, previous in _LIVE_STOPS:
        remaining = status in ("committed", "planned")
        late_s = max(0, _s(eta) - _s(tw_b)) if remaining else None
        stop_rows.append(
            {
                "service_date": DAY_2,
                "plan_id": REPLAN_ID,
                "depot_id": depot,
                "vehicle_id": vehicle,
                "sequence": sequence,
                "order_id": order,
                "lat": lat,
                "lon": lon,
                "status": status,
                "morning_eta_s": _s(morning),
                "eta_s": _s(eta),
                "tw_start_s": _s(tw_a),
                "tw_end_s": _s(tw_b),
                "late_s": late_s,
                "at_risk": bool(late_s and late_s > 0),
                "moved": previous is not None,
                "previous_vehicle_id": previous,
                "eta_change_s": _s(eta) - _s(morning) if remaining and morning else None,
            }
        )
    stops = pd.DataFrame(stop_rows, columns=LIVE_SCHEMAS["live_stops"].names)
    stops["sequence"] = stops["sequence"].astype("Int64")

    vehicle_rows = []
    for depot, vehicle, lat, lon, fix, status in _LIVE_VEHICLES:
        own = stops[stops["vehicle_id"] == vehicle]
        ahead = own[own["status"].isin(["committed", "planned"])].sort_values("sequence")
        late = ahead[ahead["late_s"] > 0]
        vehicle_rows.append(
            {
                "service_date": DAY_2,
                "as_of_s": AS_OF_S,
                "depot_id": depot,
                "vehicle_id": vehicle,
                "lat": lat,
                "lon": lon,
                "fix_at_utc": pd.Timestamp(f"{DAY_2} {fix}", tz="UTC"),
                "status": status,
                "stops_done": int((own["status"] == "delivered").sum()),
                "stops_failed": int((own["status"] == "failed").sum()),
                "stops_remaining": len(ahead),
                "next_order_id": ahead["order_id"].iloc[0] if len(ahead) else None,
                "next_eta_s": ahead["eta_s"].iloc[0] if len(ahead) else None,
                "late_stops": len(late),
                "late_s_total": int(late["late_s"].sum()),
            }
        )
    vehicles = pd.DataFrame(vehicle_rows, columns=LIVE_SCHEMAS["live_vehicles"].names)

    created = dt.datetime(2026, 11, 27, 4, 30, tzinfo=dt.UTC)
    versions = pd.DataFrame(
        [
            ("plan-2026-11-26-daily-v1", DAY_1, "daily", 1, created - dt.timedelta(days=1), "valid",
             None, None, None, 4, 4, 0),
            ("plan-2026-11-27-daily-v1", DAY_2, "daily", 1, created, "valid", None, None, None, 9, 8, 1),
            ("plan-2026-11-27-daily-v2", DAY_2, "daily", 2, created + dt.timedelta(hours=1), "valid",
             None, None, None, 9, 8, 1),
            (REPLAN_ID, DAY_2, "replan", 3, dt.datetime(2026, 11, 27, 9, 31, tzinfo=dt.UTC), "valid",
             "breakdown", AS_OF_S, len(MOVED), 10, 9, 0),
        ],
        columns=LIVE_SCHEMAS["plan_versions"].names,
    )  # fmt: skip
    return {"live_stops": stops, "live_vehicles": vehicles, "plan_versions": versions}


@pytest.fixture
def live_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoSnapshot:
    """The demo snapshot (no execution data) plus the live tables of day 2 (:func:`live_tables`), with
    LASTMILE_SERVING_DIR set and LASTMILE_DATA_DIR a fresh folder under tmp_path."""
    serving_dir = tmp_path / "serving"
    tables = demo_tables(execution=False) | live_tables()
    snapshot_dir = write_snapshot(
        serving_dir,
        tables,
        snapshot_id="20261127T093500Z-live",
        created_at_utc=dt.datetime(2026, 11, 27, 9, 35, tzinfo=dt.UTC),
    )
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(tmp_path / "data"))
    return DemoSnapshot(serving_dir=serving_dir, snapshot_dir=snapshot_dir, tables=tables)


@pytest.fixture
def key(live_snapshot) -> str:
    return current_snapshot().key


# --- queries ---------------------------------------------------------------------------------------------------


def test_live_queries_read_the_date_and_depot(key):
    """Day 2 has three vehicles and ten stops in depot, vehicle, sequence order (the cancelled stop, without a
    vehicle, last in its depot); Triesen alone has its own; plan versions are the date's, oldest first."""
    assert queries.live_dates(key) == [DAY_2]
    vehicles = queries.live_vehicles(key, DAY_2)
    assert list(vehicles.columns) == list(queries.LIVE_VEHICLE_COLUMNS)
    assert vehicles["vehicle_id"].to_list() == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    assert vehicles["depot_name"].to_list() == ["Schaan", "Schaan", "Triesen"]
    stops = queries.live_stops(key, DAY_2)
    assert list(stops.columns) == list(queries.LIVE_STOP_COLUMNS)
    assert stops["order_id"].to_list() == [row[3] for row in _LIVE_STOPS]
    triesen = queries.live_stops(key, DAY_2, "D-TRIESEN")
    assert set(triesen["order_id"]) == {row[3] for row in _LIVE_STOPS if row[0] == "D-TRIESEN"}
    assert queries.live_vehicles(key, DAY_2, "D-TRIESEN")["vehicle_id"].to_list() == ["V-TRI-01"]
    versions = queries.plan_versions(key, DAY_2)
    assert versions["plan_id"].to_list() == [
        "plan-2026-11-27-daily-v1",
        "plan-2026-11-27-daily-v2",
        REPLAN_ID,
    ]


def test_live_queries_are_empty_without_live_data(key, plan_only_snapshot):
    """A date without live rows, and a snapshot without the live files at all (an older publisher), give empty
    results with the same columns."""
    assert queries.live_vehicles(key, DAY_1).empty
    assert queries.live_stops(key, DAY_1).empty
    older = current_snapshot().key
    assert older != key
    assert queries.live_dates(older) == []
    for frame, columns in (
        (queries.live_vehicles(older, DAY_2), queries.LIVE_VEHICLE_COLUMNS),
        (queries.live_stops(older, DAY_2), queries.LIVE_STOP_COLUMNS),
        (queries.plan_versions(older, DAY_2), queries.PLAN_VERSION_COLUMNS),
    ):
        assert frame.empty and list(frame.columns) == list(columns)


def test_live_queries_bind_the_depot(key):
    """A depot id that tries to break out of the SQL string matches nothing."""
    hostile = "D-SCHAAN' or '1'='1"
    assert queries.live_vehicles(key, DAY_2, hostile).empty
    assert queries.live_stops(key, DAY_2, hostile).empty


# --- pure builders ---------------------------------------------------------------------------------------------


@pytest.fixture
def day_two(key) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Vehicles, stops, depots and plan versions of day 2, all depots, as the page reads them."""
    return (
        queries.live_vehicles(key, DAY_2),
        queries.live_stops(key, DAY_2),
        queries.depots(key),
        queries.plan_versions(key, DAY_2),
    )


def test_at_risk_stops_are_exactly_those_with_late_s(day_two):
    """At risk = a stop still to serve whose ETA is past its window end (late_s > 0): the mask, the map's red
    rings and the table's flag all name the same orders, and they are the published at_risk ones."""
    _, stops, _, _ = day_two
    late = set(stops.loc[pd.to_numeric(stops["late_s"]).fillna(0) > 0, "order_id"])
    assert late == AT_RISK_ORDERS
    assert set(stops.loc[layers.at_risk_mask(stops), "order_id"]) == late
    assert set(stops.loc[stops["at_risk"].fillna(False).astype(bool), "order_id"]) == late
    assert {point["order_id"] for point in layers.live_at_risk_points(stops)} == late
    table = layers.live_stops_table(stops)
    assert set(table.loc[table["At risk"], "Order"]) == late
    minutes = dict(zip(table["Order"], table["Minutes late"], strict=True))
    assert minutes["O-2004"] == 65 and minutes["O-2005"] == 25 and minutes["O-2010"] == 5
    assert pd.isna(minutes["O-2003"])


def test_a_stop_served_late_is_not_at_risk(day_two):
    """A delivered stop with a late_s (served after its window) is history, not at risk."""
    _, stops, _, _ = day_two
    served_late = stops.assign(late_s=stops["late_s"].where(stops["order_id"] != "O-2001", 1_500))
    assert set(served_late.loc[layers.at_risk_mask(served_late), "order_id"]) == AT_RISK_ORDERS


def test_remaining_stops_table_lists_what_is_left_committed_first(day_two):
    """Only committed and planned stops, by vehicle with the committed one first; ETA and window as HH:MM; a
    moved stop names its old vehicle."""
    _, stops, _, _ = day_two
    table = layers.live_stops_table(stops)
    assert list(table.columns) == list(layers.LIVE_STOP_TABLE_COLUMNS)
    assert table["Order"].to_list() == ["O-2002", "O-2003", "O-2004", "O-2005", "O-2007", "O-2008", "O-2010"]
    assert table["Status"].to_list()[0] == "Next (committed)"
    first = table.iloc[0]
    assert (first["ETA"], first["Window"], first["Morning ETA"]) == ("10:50", "09:00–12:00", "08:20")
    assert dict(zip(table["Order"], table["Moved from"], strict=True))["O-2004"] == "V-SCH-02"


def test_moved_stops_are_listed_with_their_vehicles(day_two):
    """The moved stops, each from its old to its new vehicle, with the ETA change in minutes (+ = later)."""
    _, stops, _, _ = day_two
    moved = layers.moved_stops_table(stops)
    assert list(moved.columns) == list(layers.MOVED_STOP_COLUMNS)
    assert {o: (a, b) for o, a, b in zip(moved["Order"], moved["From vehicle"], moved["To vehicle"], strict=True)} == (
        MOVED
    )
    assert dict(zip(moved["Order"], moved["ETA change (min)"], strict=True)) == {"O-2004": 260, "O-2005": 245}
    assert {point["order_id"] for point in layers.moved_stop_points(stops)} == set(MOVED)


def test_eta_changes_largest_first(day_two):
    """Largest change first; the before time is the ETA minus the change; done stops and stops without a
    change are left out; ``limit`` keeps the top ones."""
    _, stops, _, _ = day_two
    changes = layers.eta_changes_table(stops)
    assert changes["Order"].to_list() == ["O-2004", "O-2005", "O-2002", "O-2003", "O-2007", "O-2008"]
    first = changes.iloc[0]
    assert (first["Before"], first["Now"], first["ETA change (min)"]) == ("07:45", "12:05", 260)
    assert layers.eta_changes_table(stops, limit=2)["Order"].to_list() == ["O-2004", "O-2005"]


def test_vehicle_table_shows_progress(day_two):
    """Per vehicle: status, done / failed / remaining, next stop and ETA, late stops and minutes late, last fix in
    local time (UTC+1 in November)."""
    vehicles, _, _, _ = day_two
    table = layers.live_vehicle_table(vehicles)
    assert list(table.columns) == list(layers.LIVE_VEHICLE_COLUMNS)
    table = table.set_index("Vehicle")
    late = table.loc["V-SCH-01"]
    assert (late["Status"], late["Done"], late["Failed"], late["Remaining"]) == ("Driving", 1, 0, 4)
    assert (late["Next stop"], late["Next ETA"], late["Late stops"], late["Minutes late"]) == ("O-2002", "10:50", 2, 90)
    assert late["Last fix"] == "10:29"
    broken = table.loc["V-SCH-02"]
    assert (broken["Status"], broken["Remaining"], broken["Next stop"]) == ("BROKEN DOWN", 0, "")
    assert pd.isna(broken["Minutes late"])
    assert (table.loc["V-TRI-01", "Failed"], table.loc["V-TRI-01", "Minutes late"]) == (1, 5)


def test_live_map_marks_vehicles_routes_and_breakdowns(day_two):
    """Each vehicle at its last fix in its status colour; the broken-down one dark, ringed red, labelled and with
    no route onward; the others' paths start at the vehicle and run through their remaining stops, committed
    first."""
    vehicles, stops, depots, _ = day_two
    deck = layers.build_live_deck(vehicles, stops, depots)
    by_id = {layer.id: layer for layer in deck.layers}
    assert list(by_id) == ["live-routes", "live-stops", "moved", "at-risk", "depots", "vehicles", "vehicle-labels"]
    points = {p["vehicle_id"]: p for p in by_id["vehicles"].data}
    assert points["V-SCH-01"]["position"] == [9.5180, 47.1950]
    assert points["V-SCH-01"]["color"] == list(layers.LIVE_STATUS_COLORS["driving"])
    broken = points["V-SCH-02"]
    assert broken["broken_down"] and broken["color"] == list(layers.LIVE_STATUS_COLORS["broken_down"])
    assert broken["line_color"] == list(layers.BROKEN_DOWN_RING_COLOR) and "BROKEN DOWN" in broken["label"]
    paths = {p["vehicle_id"]: p["path"] for p in by_id["live-routes"].data}
    assert set(paths) == {"V-SCH-01", "V-TRI-01"}
    assert paths["V-SCH-01"][0] == [9.5180, 47.1950]
    assert paths["V-SCH-01"][1:] == [
        [row[5], row[4]] for row in _LIVE_STOPS if row[1] == "V-SCH-01" and row[6] in ("committed", "planned")
    ]
    assert {p["order_id"] for p in by_id["at-risk"].data} == AT_RISK_ORDERS
    assert {p["order_id"] for p in by_id["moved"].data} == set(MOVED)
    done = {p["order_id"] for p in by_id["live-stops"].data if p["done"]}
    assert done == {"O-2001", "O-2006"}


def test_a_vehicle_without_a_fix_waits_at_its_depot(day_two):
    """A vehicle that has not left (no fix yet) is drawn at its depot, and its route starts there."""
    vehicles, stops, depots, _ = day_two
    waiting = vehicles.assign(
        lat=vehicles["lat"].where(vehicles["vehicle_id"] != "V-TRI-01"),
        lon=vehicles["lon"].where(vehicles["vehicle_id"] != "V-TRI-01"),
        status=vehicles["status"].where(vehicles["vehicle_id"] != "V-TRI-01", "not_started"),
    )
    triesen = depots.set_index("depot_id").loc["D-TRIESEN"]
    (point,) = [p for p in layers.live_vehicle_points(waiting, depots) if p["vehicle_id"] == "V-TRI-01"]
    assert point["position"] == [triesen["lon"], triesen["lat"]]
    assert "no fix yet" in point["tooltip"]
    (path,) = [p["path"] for p in layers.live_route_paths(waiting, stops, depots) if p["vehicle_id"] == "V-TRI-01"]
    assert path[0] == [triesen["lon"], triesen["lat"]]


def test_plan_versions_table_and_replan_flag(day_two):
    """The versions of the date with local creation time, as-of, reason and stops moved; a date with only daily
    plans has no re-plan."""
    _, _, _, versions = day_two
    assert layers.has_replan(versions)
    assert not layers.has_replan(versions[versions["kind"] == "daily"])
    assert not layers.has_replan(versions.iloc[0:0])
    table = layers.plan_versions_table(versions)
    assert list(table.columns) == list(layers.PLAN_VERSION_TABLE_COLUMNS)
    replan = table.iloc[-1]
    assert (replan["Kind"], replan["Version"], replan["Created"], replan["As of"]) == ("replan", 3, "10:31", "10:30")
    assert (replan["Reason"], replan["Stops moved"]) == ("breakdown", 2)
    assert table["Kind"].to_list() == ["daily", "daily", "replan"]


def test_builders_take_a_date_without_stops(day_two):
    """Vehicles but no stop rows (every stop filtered out): empty tables with their columns, a map of vehicles."""
    vehicles, stops, depots, _ = day_two
    none = stops.iloc[0:0]
    assert list(layers.live_stops_table(none).columns) == list(layers.LIVE_STOP_TABLE_COLUMNS)
    assert layers.moved_stops_table(none).empty and layers.eta_changes_table(none).empty
    deck = layers.build_live_deck(vehicles, none, depots)
    assert len(next(layer for layer in deck.layers if layer.id == "vehicles").data) == len(vehicles)


def test_late_minutes_round_up():
    """20 s late reads 1 min; on time or missing is no value."""
    assert layers.late_minutes(20) == 1 and layers.late_minutes(3_900) == 65
    assert layers.late_minutes(0) is None and layers.late_minutes(None) is None


# --- the page in-process ---------------------------------------------------------------------------------------


def _open_live() -> AppTest:
    app = app_test(APP_PATH, TIMEOUT_S).run()
    app.switch_page(LIVE).run()
    return app


def test_live_page_shows_vehicles_stops_and_what_changed(live_snapshot):
    """Day 2, all depots: the tiles count the at-risk stops and the broken-down vehicle, the vehicles and
    remaining stops are listed, and the re-plan's versions, moved stops and ETA changes are shown."""
    app = _open_live()
    assert not app.exception
    assert app.title[0].value == "Live"
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["At risk"] == str(len(AT_RISK_ORDERS))
    assert tiles["Broken down"] == "1"
    assert tiles["Remaining"] == "7"
    assert tiles["On the road"] == "2 of 3"
    assert any("V-SCH-02" in error.value for error in app.error)
    subheaders = [el.value for el in app.subheader]
    assert subheaders == ["Vehicles (3)", "Remaining stops (7)", "What changed"]
    frames = [frame.value for frame in app.dataframe]
    vehicles = next(f for f in frames if "Next ETA" in f.columns)
    assert vehicles["Vehicle"].to_list() == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    moved = next(f for f in frames if "From vehicle" in f.columns)
    assert set(moved["Order"]) == set(MOVED)
    assert len(app.get("deck_gl_json_chart")) == 1


def test_live_page_follows_the_depot(live_snapshot):
    """Triesen alone: one vehicle, three stops to go, one at risk; no broken-down vehicle."""
    app = _open_live()
    app.selectbox(key="live_depot").set_value("D-TRIESEN").run()
    assert not app.exception
    tiles = {metric.label: metric.value for metric in app.metric}
    assert (tiles["At risk"], tiles["Broken down"], tiles["Failed"]) == ("1", "0", "1")
    assert [el.value for el in app.subheader][:2] == ["Vehicles (1)", "Remaining stops (3)"]
    assert not app.error


def test_live_page_without_live_data_says_how_to_get_it(live_snapshot):
    """Day 1 has a plan but no live state: the page says so and names the live drops and the live_state job."""
    app = _open_live()
    app.selectbox(key="live_service_date").set_value(DAY_1).run()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["No live data for this date"]
    text = app.markdown[0].value
    assert "landing/live/2026-11-26/" in text and "live_state" in text
    assert "replan" in app.code[0].value and "2026-11-26" in app.code[0].value
    assert not app.metric and not app.dataframe
    assert not app.button


def test_live_page_keeps_the_plan_pages_choice(live_snapshot):
    """The Live page starts from the date and depot picked on the Plan page: Triesen on day 1, its empty state."""
    app = app_test(APP_PATH, TIMEOUT_S).run()
    app.selectbox(key="plan_service_date").set_value(DAY_1)
    app.selectbox(key="plan_depot").set_value("D-TRIESEN").run()
    app.switch_page(LIVE).run()
    assert not app.exception
    assert app.selectbox(key="live_service_date").value == DAY_1
    assert app.selectbox(key="live_depot").value == "D-TRIESEN"
    assert [el.value for el in app.subheader] == ["No live data for this date"]
    assert "Triesen on 26 Nov 2026" in app.markdown[0].value


def test_live_page_on_a_snapshot_without_live_files(plan_only_snapshot):
    """An older snapshot (no live files) gives the empty state, not an error."""
    app = _open_live()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["No live data for this date"]


def test_replan_button_writes_a_request(live_snapshot, tmp_path):
    """The button writes one request for the chosen date with the typed reason, under LASTMILE_DATA_DIR, and
    confirms with the file name; the snapshot is not touched."""
    app = _open_live()
    app.text_input(key=f"live_replan_reason_{DAY_2}").input("customer moved the window")
    app.button(key="live_replan_now").click().run()
    assert not app.exception
    (request,) = (tmp_path / "data" / "requests").glob("replan_*.json")
    body = json.loads(request.read_text(encoding="utf-8"))
    assert body["service_date"] == DAY_2.isoformat()
    assert body["reason"] == "manual: customer moved the window"
    (confirmation,) = [el.value for el in app.success if "Re-plan" in el.value]
    assert request.name in confirmation and "replan_request_sensor" in confirmation


def test_no_what_changed_before_a_replan(tmp_path, monkeypatch):
    """With only daily plan versions for the date, the page has no "What changed" section."""
    tables = demo_tables(execution=False) | live_tables()
    tables["plan_versions"] = tables["plan_versions"].query("kind == 'daily'")
    serving_dir = tmp_path / "serving"
    write_snapshot(serving_dir, tables, snapshot_id="no-replan")
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    app = _open_live()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["Vehicles (3)", "Remaining stops (7)"]


def test_replan_button_explains_an_unwritable_data_dir(live_snapshot, tmp_path, monkeypatch):
    """A data folder that cannot hold the request (here: a file) gives a message, not a traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(blocker))
    app = _open_live()
    app.button(key="live_replan_now").click().run()
    assert not app.exception
    assert any("Could not write the re-plan request" in el.value for el in app.error)


def test_replan_button_default_reason(live_snapshot, tmp_path):
    """Without a typed reason the request says 'manual: Re-plan now'."""
    app = _open_live()
    app.button(key="live_replan_now").click().run()
    (request,) = (tmp_path / "data" / "requests").glob("replan_*.json")
    assert json.loads(request.read_text(encoding="utf-8"))["reason"] == "manual: Re-plan now"


# --- the page in Chromium -----------------------------------------------------------------------------------------


@pytest.mark.browser
def test_live_page_in_chromium(live_snapshot, tmp_path, streamlit_server, chromium_page, screenshot_dir):
    """In a real browser: open Live, see the vehicles table and the at-risk count, click "Re-plan now": a request
    for day 2 appears in the data folder and the page confirms it; no exception box; a screenshot is kept."""
    url = streamlit_server(live_snapshot.serving_dir)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("link", name="Live").click()
    page.get_by_role("heading", name="Vehicles (3)").wait_for(timeout=LOAD_TIMEOUT_MS)
    at_risk = page.locator('[data-testid="stMetric"]', has_text="At risk")
    at_risk.locator('[data-testid="stMetricValue"]', has_text=str(len(AT_RISK_ORDERS))).wait_for(
        timeout=LOAD_TIMEOUT_MS
    )
    page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    # The tables render after the metrics: wait for the second one rather than counting at once.
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)

    page.get_by_role("button", name="Re-plan now").click()
    page.get_by_text("replan_request_sensor").wait_for(timeout=LOAD_TIMEOUT_MS)
    (request,) = (tmp_path / "data" / "requests").glob("replan_*.json")
    assert json.loads(request.read_text(encoding="utf-8"))["service_date"] == DAY_2.isoformat()
    assert request.name in page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LOAD_TIMEOUT_MS)
    assert page.locator(EXCEPTION_BOX).count() == 0
    # Streamlit scrolls inside its own container: grow the viewport to the page's height for the picture.
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 4000))})
    page.wait_for_timeout(1_500)  # deck.gl redraws after the resize
    page.screenshot(path=screenshot_dir / "live_2026-11-27.png")
