"""The Manifests & exports page: its queries (dashboard/manifest_queries.py) on the demo snapshot, the page in-process
(AppTest, with the downloads captured), the Plan page's manifest downloads, and the page in Chromium downloading a
manifest."""

from __future__ import annotations

import datetime as dt
import inspect
import io
import json
import secrets
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import exports, manifest_queries
from dashboard.snapshot import current_snapshot

from .conftest import APP_PATH, DAY_1, DAY_2, app_test, demo_tables, write_snapshot

TIMEOUT_S = 30
LOAD_TIMEOUT_MS = 60_000
EXCEPTION_BOX = '[data-testid="stException"]'
MANIFESTS = "app_pages/manifests.py"
# Day 2's extra order facts a newer plan publishes on planned_stops: O-2002 is a pickup needing a tail lift on the
# second trip of V-SCH-01; O-2004 has a second window.
ORDER_TYPES = {"O-2002": "pickup"}
SKILLS = {"O-2002": "tail_lift"}
TRIPS = {"O-2003": 2}
SECOND_WINDOWS = {"O-2004": (14 * 3600, 16 * 3600)}


def _newer_planned_stops(stops: pd.DataFrame) -> pd.DataFrame:
    """The demo planned_stops with the columns newer plans carry (order type, skills, priority, second window,
    trip)."""
    return stops.assign(
        order_type=[ORDER_TYPES.get(o, "delivery") for o in stops["order_id"]],
        required_skills=[SKILLS.get(o) for o in stops["order_id"]],
        priority="normal",
        tw2_start_s=pd.array([SECOND_WINDOWS.get(o, (None, None))[0] for o in stops["order_id"]], dtype="Int64"),
        tw2_end_s=pd.array([SECOND_WINDOWS.get(o, (None, None))[1] for o in stops["order_id"]], dtype="Int64"),
        trip=pd.array([TRIPS.get(o, 1) for o in stops["order_id"]], dtype="Int64"),
    )


def _tokens(orders: list[str]) -> dict[str, str]:
    return {order: secrets.token_urlsafe(32) for order in orders}


@pytest.fixture
def export_snapshot(serving_snapshot):
    """The demo snapshot (both days played out) with the newer planned_stops columns and a ``tracking`` table
    holding a token for every order of day 2 (written into the fixture's snapshot folder)."""
    stops = _newer_planned_stops(serving_snapshot.tables["planned_stops"])
    pq.write_table(
        pa.Table.from_pandas(stops, preserve_index=False), serving_snapshot.snapshot_dir / "planned_stops.parquet"
    )
    day_two = stops[stops["service_date"] == DAY_2]
    tokens = _tokens(day_two["order_id"].to_list())
    tracking = pd.DataFrame({"token": list(tokens.values()), "order_id": list(tokens), "service_date": DAY_2})
    pq.write_table(
        pa.Table.from_pandas(tracking, preserve_index=False), serving_snapshot.snapshot_dir / "tracking.parquet"
    )
    return serving_snapshot, tokens


@pytest.fixture
def key(serving_snapshot) -> str:
    return current_snapshot().key


# --- queries ---------------------------------------------------------------------------------------------------


def test_manifest_stops_of_an_older_plan(key, serving_snapshot):
    """The demo snapshot lacks the newer columns: every stop of the date comes back, those columns null."""
    stops = manifest_queries.manifest_stops(key, DAY_2)
    assert list(stops.columns) == list(manifest_queries.MANIFEST_STOP_COLUMNS)
    expected = serving_snapshot.tables["planned_stops"].query("service_date == @DAY_2")
    assert sorted(stops["order_id"]) == sorted(expected["order_id"])
    assert stops[["order_type", "required_skills", "trip", "tw2_start_s"]].isna().all().all()
    triesen = manifest_queries.manifest_stops(key, DAY_2, "D-TRIESEN")
    assert triesen["order_id"].to_list() == ["O-2006", "O-2007", "O-2008"]


def test_manifest_stops_carry_the_newer_columns(export_snapshot):
    """Order type, skills, trip and second window come through where the snapshot has them."""
    stops = manifest_queries.manifest_stops(current_snapshot().key, DAY_2, "D-SCHAAN").set_index("order_id")
    assert stops.loc["O-2002", "order_type"] == "pickup"
    assert stops.loc["O-2002", "required_skills"] == "tail_lift"
    assert stops.loc["O-2003", "trip"] == 2
    assert (stops.loc["O-2004", "tw2_start_s"], stops.loc["O-2004", "tw2_end_s"]) == SECOND_WINDOWS["O-2004"]


def test_route_drivers_come_from_the_played_out_days(key, plan_only_snapshot):
    """Day 2's drivers by vehicle; a depot filter keeps its own; none without execution data."""
    assert manifest_queries.route_drivers(key, DAY_2) == {
        "V-SCH-01": "DR-ANNA",
        "V-SCH-02": "DR-CARL",
        "V-TRI-01": "DR-BEN",
    }
    assert manifest_queries.route_drivers(key, DAY_2, "D-TRIESEN") == {"V-TRI-01": "DR-BEN"}
    assert manifest_queries.route_drivers(key, dt.date(2026, 11, 28)) == {}
    assert manifest_queries.route_drivers(current_snapshot().key, DAY_2) == {}


def test_tracking_tokens_by_order(export_snapshot, plan_only_snapshot):
    """Tokens of the date's orders, none for another date, none without the table."""
    snapshot, tokens = export_snapshot
    assert manifest_queries.has_tracking(str(snapshot.snapshot_dir))
    assert manifest_queries.tracking_tokens(str(snapshot.snapshot_dir), DAY_2) == tokens
    assert manifest_queries.tracking_tokens(str(snapshot.snapshot_dir), DAY_1) == {}
    assert not manifest_queries.has_tracking(current_snapshot().key)
    assert manifest_queries.tracking_tokens(current_snapshot().key, DAY_2) == {}


def test_manifest_queries_bind_values(key):
    """A hostile depot id is a value, not SQL: no rows, no error; the module formats no SQL."""
    assert manifest_queries.manifest_stops(key, DAY_2, "D-SCHAAN' or '1'='1").empty
    assert manifest_queries.route_drivers(key, DAY_2, "x' or 1=1 --") == {}
    source = inspect.getsource(manifest_queries)
    assert 'f"""' not in source and "f'''" not in source
    assert ".format(" not in source and '""" %' not in source


# --- the page in-process ---------------------------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch) -> dict[str, tuple[str, bytes | str]]:
    """Every st.download_button the pages draw, by label: (file name, data, made now when deferred); the buttons
    still render."""
    captured: dict[str, tuple[str, bytes | str]] = {}
    original = st.download_button

    def capture(label, data, file_name=None, *args, **kwargs):
        captured[label] = (file_name, data() if callable(data) else data)
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", capture)
    return captured


def _open_manifests(downloads: dict | None = None) -> AppTest:
    """The app on the Manifests & exports page; ``downloads`` then holds that page's buttons only."""
    app = app_test(APP_PATH, TIMEOUT_S).run()
    if downloads is not None:
        downloads.clear()  # the first run drew the Plan page
    app.switch_page(MANIFESTS).run()
    return app


def _route_picker(app: AppTest):
    (picker,) = [box for box in app.selectbox if box.label == "Route"]
    return picker


def _csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_page_lists_the_routes_and_offers_every_export(serving_snapshot, downloads):
    """Day 2, all depots: the route picker holds the three routes, the first route's manifest is shown, and every
    download is offered with its file name and the content of the selection."""
    app = _open_manifests(downloads)
    assert not app.exception
    assert app.title[0].value == "Manifests & exports"
    assert _route_picker(app).options == [
        "V-SCH-01 · van · 3 stops · Schaan",
        "V-SCH-02 · cargo_bike · 2 stops · Schaan",
        "V-TRI-01 · van · 3 stops · Triesen",
    ]
    manifest = next(frame.value for frame in app.dataframe if "Planned arrival" in frame.value.columns)
    assert manifest["Order"].to_list() == ["O-2001", "O-2002", "O-2003"]
    assert "Tracking link" not in manifest.columns
    assert set(downloads) == {
        "Manifest (CSV)",
        "Printable (HTML)",
        "All 3 manifests (CSV)",
        "All 3 manifests (printable)",
        "Routes (GeoJSON)",
        "Plan KPIs (CSV)",
        "Delivery KPIs (CSV)",
    }
    name, data = downloads["Manifest (CSV)"]
    assert name == "manifest_2026-11-27_D-SCHAAN_V-SCH-01.csv"
    assert _csv(data)["Order"].to_list() == ["O-2001", "O-2002", "O-2003"]
    name, data = downloads["All 3 manifests (CSV)"]
    assert name == "manifests_2026-11-27_all-depots.csv"
    assert _csv(data)["Vehicle"].to_list() == ["V-SCH-01"] * 3 + ["V-SCH-02"] * 2 + ["V-TRI-01"] * 3
    name, data = downloads["All 3 manifests (printable)"]
    assert name == "manifests_2026-11-27_all-depots.html" and data.count('<section class="route"') == 3
    name, data = downloads["Routes (GeoJSON)"]
    collection = json.loads(data)
    assert name == "routes_2026-11-27_all-depots.geojson"
    assert sum(f["geometry"]["type"] == "LineString" for f in collection["features"]) == 3
    name, data = downloads["Plan KPIs (CSV)"]
    assert name == "plan_kpis_2026-11-27_all-depots.csv"
    assert _csv(data)["depot_id"].to_list() == ["D-SCHAAN", "D-TRIESEN"]
    name, data = downloads["Delivery KPIs (CSV)"]
    assert name == "delivery_kpis_2026-11-26_2026-11-27_all-depots.csv"
    kpis = _csv(data)
    assert kpis["period_start"].to_list()[-1] == "2026-11-26" and kpis["depot_id"].to_list()[-1] == "all"
    assert kpis["delivered"].to_list()[-1] == "9"  # 3 on day 1, 6 on day 2 (conftest.execution_tables)


def test_page_follows_date_depot_and_route(export_snapshot, downloads):
    """Schaan on day 2, route V-SCH-01: the manifest notes the pickup, its skill and the reload; the header names
    the driver; the tracking link column holds each order's link; the downloads follow the choice."""
    _, tokens = export_snapshot
    app = _open_manifests(downloads)
    app.selectbox(key="manifests_depot").set_value("D-SCHAAN").run()
    _route_picker(app).set_value("V-SCH-01 · van · 3 stops · Schaan").run()
    assert not app.exception
    manifest = next(frame.value for frame in app.dataframe if "Planned arrival" in frame.value.columns)
    assert manifest["Order"].to_list() == ["O-2001", "O-2002", "O-2003"]
    notes = manifest.set_index("Order")["Notes"]
    assert notes["O-2002"].startswith("PICKUP") and "Needs: tail_lift" in notes["O-2002"]
    assert notes["O-2003"].startswith("Reload at depot D-SCHAAN")
    links = manifest.set_index("Order")["Tracking link"]
    assert all(links[order].endswith("/?t=" + tokens[order]) for order in manifest["Order"])
    assert any("**Driver** DR-ANNA" in element.value for element in app.markdown)
    name, data = downloads["Manifest (CSV)"]
    assert name == "manifest_2026-11-27_D-SCHAAN_V-SCH-01.csv"
    assert "Tracking link" not in _csv(data).columns  # tokens stay off the driver's paper
    assert downloads["Routes (GeoJSON)"][0] == "routes_2026-11-27_D-SCHAAN.geojson"

    app.selectbox(key="manifests_service_date").set_value(DAY_1).run()
    assert not app.exception
    assert _route_picker(app).options == ["V-SCH-01 · van · 2 stops · Schaan"]
    name, data = downloads["Manifest (CSV)"]
    assert name == "manifest_2026-11-26_D-SCHAAN_V-SCH-01.csv"
    assert _csv(data)["Order"].to_list() == ["O-1001", "O-1002"]


def test_page_shows_the_printable_page(serving_snapshot):
    """The printable page is shown in the app: the chosen route's, or every route of the selection on request."""
    app = _open_manifests()
    (preview,) = app.get("iframe")
    assert preview.proto.srcdoc.count('<section class="route"') == 1
    assert "O-2001" in preview.proto.srcdoc and "O-2006" not in preview.proto.srcdoc
    app.toggle(key="manifests_preview_all").set_value(True).run()
    assert not app.exception
    (preview,) = app.get("iframe")
    assert preview.proto.srcdoc.count('<section class="route"') == 3
    assert all(order in preview.proto.srcdoc for order in ("O-2001", "O-2004", "O-2008"))


def test_page_without_routes_for_the_selection(tmp_path, monkeypatch):
    """A depot whose plan for the date has no routes gets an empty state that says what to do, and no downloads."""
    tables = demo_tables(execution=False)
    for name in ("planned_routes", "planned_stops"):
        frame = tables[name]
        tables[name] = frame[~((frame["service_date"] == DAY_2) & (frame["depot_id"] == "D-TRIESEN"))]
    serving_dir = tmp_path / "serving"
    write_snapshot(serving_dir, tables, snapshot_id="no-triesen-routes")
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    app = _open_manifests()
    app.selectbox(key="manifests_depot").set_value("D-TRIESEN").run()
    assert not app.exception
    assert [element.value for element in app.subheader] == ["No plan for this selection"]
    assert "Triesen on 27 Nov 2026" in app.markdown[0].value
    assert not app.get("download_button")


def test_page_without_execution_data(plan_only_snapshot, downloads):
    """A snapshot with plans only: the manifests are there, delivery KPIs explain how to get them."""
    app = _open_manifests(downloads)
    assert not app.exception
    assert "Delivery KPIs (CSV)" not in downloads and "Manifest (CSV)" in downloads
    assert any("make history" in element.value for element in app.info)


def test_page_without_a_snapshot(empty_serving_dir):
    """Nothing published: the page explains it and says to run `make run`."""
    app = _open_manifests()
    assert not app.exception
    assert [element.value for element in app.subheader] == ["No plan published yet"]
    assert [code.value for code in app.code] == ["make run"]


def test_plan_page_downloads_the_manifest(export_snapshot, downloads):
    """The Plan page offers the chosen route's manifest as CSV and as a printable page, from the same exports."""
    app = app_test(APP_PATH, TIMEOUT_S).run()
    next(box for box in app.selectbox if box.label == "Route").set_value("V-TRI-01 · van · 3 stops").run()
    assert not app.exception
    name, data = downloads["Download CSV"]
    assert name == "manifest_2026-11-27_D-TRIESEN_V-TRI-01.csv"
    assert list(_csv(data).columns) == list(exports.MANIFEST_COLUMNS)
    assert _csv(data)["Order"].to_list() == ["O-2006", "O-2007", "O-2008"]
    name, data = downloads["Printable"]
    assert name == "manifest_2026-11-27_D-TRIESEN_V-TRI-01.html"
    assert data.count('<section class="route"') == 1 and "DR-BEN" in data
    assert all(order in data for order in ("O-2006", "O-2007", "O-2008"))


# --- the page in Chromium --------------------------------------------------------------------------------------


def _choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key} [role='combobox']").click()
    page.get_by_role("option", name=option, exact=True).click()


def _wait_until_idle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LOAD_TIMEOUT_MS)


@pytest.mark.browser
def test_manifest_download_in_chromium(export_snapshot, streamlit_server, chromium_page, screenshot_dir):
    """In a real browser: open Manifests & exports, pick day 2, Schaan and the cargo bike's route, download its
    manifest CSV: the file holds that route's two stops in order; the depot's GeoJSON downloads too; no exception
    box; a screenshot is kept."""
    snapshot, _ = export_snapshot
    url = streamlit_server(snapshot.serving_dir)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("link", name="Manifests & exports").click()
    page.get_by_role("heading", name="Driver manifest").wait_for(timeout=LOAD_TIMEOUT_MS)

    _choose(page, "manifests_service_date", "Fri 27 Nov 2026")
    _choose(page, "manifests_depot", "Schaan (D-SCHAAN)")
    _wait_until_idle(page)
    _choose(page, "manifests_route_2026-11-27_D-SCHAAN", "V-SCH-02 · cargo_bike · 2 stops · Schaan")
    _wait_until_idle(page)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    page.get_by_text("DR-CARL").first.wait_for(timeout=LOAD_TIMEOUT_MS)

    with page.expect_download(timeout=LOAD_TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Manifest (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "manifest_2026-11-27_D-SCHAAN_V-SCH-02.csv"
    saved = Path(screenshot_dir) / download.suggested_filename
    download.save_as(saved)
    manifest = _csv(saved.read_bytes())
    assert list(manifest.columns) == list(exports.MANIFEST_COLUMNS)
    assert manifest["Order"].to_list() == ["O-2004", "O-2005"]
    assert manifest["Stop"].to_list() == ["1", "2"]
    assert manifest["Window"].to_list() == ["09:00–11:00 or 14:00–16:00", "10:00–12:00"]
    assert manifest["Notes"].to_list() == ["Pedestrian zone", ""]

    # The whole plan's files are made when clicked (deferred): Schaan's two routes and five stops.
    with page.expect_download(timeout=LOAD_TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Routes (GeoJSON)").click()
    assert download_info.value.suggested_filename == "routes_2026-11-27_D-SCHAAN.geojson"
    collection = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    kinds = [feature["properties"]["kind"] for feature in collection["features"]]
    assert (kinds.count("route"), kinds.count("stop")) == (2, 5)

    assert page.locator(EXCEPTION_BOX).count() == 0
    page.locator("h1").first.click()
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 4000))})
    page.wait_for_timeout(500)
    page.screenshot(path=screenshot_dir / "manifests_2026-11-27_schaan_v-sch-02.png")
