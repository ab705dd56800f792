"""The dashboard on the snapshot the real pipeline published (small demo world): AppTest and Chromium.

No fakes: `demo_pipeline` runs the Dagster job end to end; these tests read what its serving asset wrote.
"""

import datetime as dt
import json

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import E2E_SERVICE_DATE

from .conftest import APP_PATH, app_test
from .test_browser import EXCEPTION_BOX, LOAD_TIMEOUT_MS, MAP_CANVAS, _choose, _screenshot, _wait_until_idle

pytestmark = pytest.mark.e2e

# True once exactly one "Route" picker is on the page (the previous selection's is gone) and it shows a route
# whose label starts with the given prefix.
ROUTE_PICKER_SHOWS = """prefix => {
    const pickers = [...document.querySelectorAll('[data-testid="stSelectbox"]')]
        .filter(box => box.querySelector('label')?.innerText.trim() === 'Route');
    return pickers.length === 1 && pickers[0].querySelector('input').value.startsWith(prefix);
}"""


def _deck_paths(app: AppTest) -> list[dict]:
    (chart,) = app.get("deck_gl_json_chart")
    spec = json.loads(chart.proto.json)
    return [path for layer in spec["layers"] if layer["@@type"] == "PathLayer" for path in layer["data"]]


def test_plan_page_shows_the_pipeline_plan(demo_pipeline):
    """KPI tiles equal the plan marts, and the map holds one depot-to-depot path per planned route."""
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        routes, stops, unassigned = conn.execute(
            "select sum(routes), sum(stops), sum(unassigned) from marts.fct_plan_kpis where service_date = ?",
            [E2E_SERVICE_DATE],
        ).fetchone()
        depot_lonlat = {
            depot_id: [lon, lat]
            for depot_id, lon, lat in conn.execute(
                "select depot_id, lon, lat from marts.dim_depots"
            ).fetchall()
        }
        stops_per_route = dict(
            conn.execute(
                "select vehicle_id, n_stops from marts.fct_planned_routes where service_date = ?",
                [E2E_SERVICE_DATE],
            ).fetchall()
        )
    app = app_test(APP_PATH, 60).run()
    assert not app.exception
    assert app.selectbox(key="plan_service_date").value == dt.date.fromisoformat(E2E_SERVICE_DATE)
    tiles = {metric.label: metric.value for metric in app.metric}
    assert (tiles["Routes"], tiles["Stops"], tiles["Unassigned"]) == (
        str(routes),
        str(stops),
        str(unassigned),
    )

    paths = _deck_paths(app)
    assert sorted(p["vehicle_id"] for p in paths) == sorted(stops_per_route)
    for path in paths:
        coordinates = path["path"]
        assert len(coordinates) == stops_per_route[path["vehicle_id"]] + 2  # depot, stops, depot
        assert coordinates[0] == coordinates[-1]
        assert any(coordinates[0] == pytest.approx(lonlat) for lonlat in depot_lonlat.values())


@pytest.mark.browser
def test_plan_page_in_chromium_on_pipeline_snapshot(
    demo_pipeline, streamlit_server, chromium_page, screenshot_dir
):
    """Open the app on the pipeline's snapshot, pick the date and a depot, and keep a screenshot of the map."""
    url = streamlit_server(demo_pipeline.dirs.serving)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _choose(page, "plan_service_date", dt.date.fromisoformat(E2E_SERVICE_DATE).strftime("%a %d %b %Y"))
    _choose(page, "plan_depot", "Verteilzentrum Triesen (D-TRIESEN)")
    _wait_until_idle(page)
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    assert page.locator(EXCEPTION_BOX).count() == 0
    # Regression: the manifest's route picker kept showing a Schaan vehicle after switching to Triesen.
    page.wait_for_function(ROUTE_PICKER_SHOWS, arg="V-TRI-", timeout=LOAD_TIMEOUT_MS)
    _screenshot(page, screenshot_dir / "pipeline_plan_triesen.png")


def test_data_health_page_matches_the_ingest_log(demo_pipeline):
    """The Data health page on the pipeline's snapshot: its tiles sum the latest load of every source for the
    date, each load shows loaded = accepted + quarantined, and the failing checks are the warehouse's."""
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        loaded, accepted, quarantined = conn.execute(
            "select sum(coalesce(loaded_rows, rows)), sum(rows), sum(coalesce(quarantined_rows, 0)) from ("
            "select * from raw.ingest_log where service_date = ? "
            "qualify row_number() over (partition by table_name order by loaded_at_utc desc) = 1)",
            [E2E_SERVICE_DATE],
        ).fetchone()
        checks = conn.execute(
            "select count(*) filter (where not passed and severity = 'critical') from quality.data_checks "
            "where service_date = ?",
            [E2E_SERVICE_DATE],
        ).fetchone()[0]
    app = app_test(APP_PATH, 60)
    app.switch_page("app_pages/data_health.py").run()
    assert not app.exception
    app.selectbox(key="health_service_date").set_value(dt.date.fromisoformat(E2E_SERVICE_DATE)).run()
    assert not app.exception
    tiles = {metric.label: metric.value for metric in app.metric}
    assert (tiles["Rows loaded"], tiles["Accepted"], tiles["Quarantined"]) == (
        f"{loaded:,}",
        f"{accepted:,}",
        f"{quarantined:,}",
    )
    assert tiles["Critical checks failing"] == str(checks)
    app.session_state["health_tab"] = "Loads"  # a lazy tab: its table runs only once opened
    app.run()
    assert not app.exception
    loads = next(frame.value for frame in app.dataframe if "Accepted" in frame.value.columns)
    assert (loads["Loaded"] == loads["Accepted"] + loads["Quarantined"]).all()


@pytest.mark.browser
def test_data_health_in_chromium_on_pipeline_snapshot(demo_pipeline, streamlit_server, chromium_page, screenshot_dir):
    """The Data health page renders the pipeline's own ingest log, quarantine and checks without an exception."""
    url = streamlit_server(demo_pipeline.dirs.serving)
    page = chromium_page
    page.goto(f"{url}/data_health", wait_until="domcontentloaded")
    page.locator('[data-testid="stMetric"]', has_text="Rows loaded").wait_for(timeout=LOAD_TIMEOUT_MS)
    _choose(page, "health_service_date", dt.date.fromisoformat(E2E_SERVICE_DATE).strftime("%a %d %b %Y"))
    _wait_until_idle(page)
    page.get_by_role("tab", name="Loads").click()  # a lazy tab: its content runs only once opened
    page.get_by_role("heading", name="Loads by source").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "pipeline_data_health.png")
