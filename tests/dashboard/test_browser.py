"""The dashboard in a real browser: streamlit run + headless Chromium through Playwright."""

import pytest

pytestmark = pytest.mark.browser

EXCEPTION_BOX = '[data-testid="stException"]'
MAP_CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'
LOAD_TIMEOUT_MS = 60_000


def _choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox with widget key ``key``."""
    page.locator(f".st-key-{key} [role='combobox']").click()
    page.get_by_role("option", name=option, exact=True).click()


def _wait_for_metric(page, label: str, value: str) -> None:
    metric = page.locator('[data-testid="stMetric"]', has_text=label)
    metric.locator('[data-testid="stMetricValue"]', has_text=value).wait_for(timeout=LOAD_TIMEOUT_MS)


def _screenshot(page, path) -> None:
    """Picture of the whole page: Streamlit scrolls inside its own container, so grow the viewport instead."""
    page.locator("h1").first.click()  # move focus off the last widget
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 4000))})
    # deck.gl redraws after the resize; give it a moment before the picture is taken.
    page.wait_for_timeout(1_500)
    page.screenshot(path=path)
    page.set_viewport_size({"width": 1440, "height": 1000})


def _wait_until_idle(page) -> None:
    # Streamlit shows its status widget while a script run is in progress.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LOAD_TIMEOUT_MS
    )


def test_plan_page_in_chromium(serving_snapshot, streamlit_server, chromium_page, screenshot_dir):
    """Pick a date and a depot; the map renders, the tiles follow, no exception box; screenshots are kept."""
    url = streamlit_server(serving_snapshot.serving_dir)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _wait_for_metric(page, "Routes", "3")

    _choose(page, "plan_service_date", "Thu 26 Nov 2026")
    _wait_for_metric(page, "Stops", "4")
    _choose(page, "plan_depot", "Triesen (D-TRIESEN)")
    _wait_for_metric(page, "Stops", "2")
    _wait_until_idle(page)
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "plan_2026-11-26_triesen.png")

    _choose(page, "plan_service_date", "Fri 27 Nov 2026")
    _choose(page, "plan_depot", "All depots")
    _wait_for_metric(page, "Stops", "8")
    _wait_until_idle(page)
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "plan_2026-11-27_all_depots.png")

    page.get_by_role("link", name="Overview").click()
    page.get_by_role("heading", name="Overview").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "overview.png")


def _type_date_segment(page, key: str, segment: str, value: str) -> None:
    """Type ``value`` into one segment (e.g. ``day, Dates start date``) of the date input with key ``key``."""
    field = page.locator(f".st-key-{key}").get_by_role("spinbutton", name=segment, exact=True)
    field.click()
    page.keyboard.type(value)
    page.locator("h1").first.click()  # the date input sends its value when it loses focus


def test_performance_and_plan_vs_actual_in_chromium(serving_snapshot, streamlit_server, chromium_page, screenshot_dir):
    """Performance: pick one day and a depot, the tiles compare it with the day before; Plan vs actual: pick a
    day and depot, the map renders; no exception box on either; screenshots are kept."""
    url = streamlit_server(serving_snapshot.serving_dir)
    page = chromium_page
    page.goto(f"{url}/performance", wait_until="domcontentloaded")
    _wait_for_metric(page, "On-time rate", "63.6 %")
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "performance_all_days_all_depots.png")

    _type_date_segment(page, "performance_dates", "day, Dates start date", "27")
    _wait_for_metric(page, "On-time rate", "71.4 %")
    _choose(page, "performance_depot", "Schaan (D-SCHAAN)")
    _wait_for_metric(page, "On-time rate", "75.0 %")
    _wait_until_idle(page)
    page.locator('[data-testid="stMetricDelta"]').first.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "performance_2026-11-27_schaan.png")

    page.get_by_role("link", name="Plan vs actual").click()
    page.get_by_role("heading", name="Plan vs actual").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _wait_for_metric(page, "Late stops", "2")
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "plan_vs_actual_2026-11-27_all_depots.png")

    _choose(page, "actual_service_date", "Thu 26 Nov 2026")
    _choose(page, "actual_depot", "Triesen (D-TRIESEN)")
    _wait_for_metric(page, "Driven distance", "14.1 km")
    _wait_until_idle(page)
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "plan_vs_actual_2026-11-26_triesen.png")


def test_data_health_in_chromium(health_snapshot, streamlit_server, chromium_page, screenshot_dir):
    """Data health on a published warehouse: the latest date's counts and failing checks, then day 1 and one
    source; the chart renders; no exception box; screenshots are kept."""
    url = streamlit_server(health_snapshot)
    page = chromium_page
    page.goto(f"{url}/data_health", wait_until="domcontentloaded")
    _wait_for_metric(page, "Rows loaded", "516")
    _wait_for_metric(page, "Critical checks failing", "1")
    page.get_by_role("heading", name="Failing data checks (2)").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "data_health_2026-11-27_all_sources.png")
    page.get_by_role("tab", name="Loads").click()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "data_health_2026-11-27_loads.png")

    _choose(page, "health_service_date", "Thu 26 Nov 2026")
    _wait_for_metric(page, "Rows loaded", "20")
    _choose(page, "health_source", "Orders")
    _wait_for_metric(page, "Rows loaded", "5")
    _wait_for_metric(page, "Quarantined", "1")
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "data_health_2026-11-26_orders.png")


def test_data_health_without_its_tables_in_chromium(serving_snapshot, streamlit_server, chromium_page):
    """A snapshot without ingest log, quarantine and checks: the page explains what to run, no exception box."""
    url = streamlit_server(serving_snapshot.serving_dir)
    page = chromium_page
    page.goto(f"{url}/data_health", wait_until="domcontentloaded")
    page.get_by_role("heading", name="No data-health records yet").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0


def test_customers_and_learned_models_in_chromium(learned_snapshot, streamlit_server, chromium_page, screenshot_dir):
    """The Plan page rings the at-risk stops; Customers: the heatmap renders, a customer lookup follows the pick;
    Learned models: the charts and the slow-zone map render; no exception box anywhere; screenshots are kept."""
    url = streamlit_server(learned_snapshot.serving_dir)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _wait_for_metric(page, "At risk", "2")
    page.get_by_role("heading", name="At-risk stops (2)").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "plan_2026-11-27_at_risk.png")

    page.get_by_role("link", name="Customers").click()
    page.get_by_role("heading", name="Customers").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_for_metric(page, "Availability model", "av-2026-11-26")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "customers_zones.png")

    page.get_by_role("tab", name="Customer lookup").click()
    _wait_for_metric(page, "Recommended window", "08:00–10:00")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "customers_C-1001.png")

    _choose(page, "customers_customer", "C-2008")
    _wait_for_metric(page, "Recommended window", "08:00–11:00")
    _wait_for_metric(page, "Service time (median)", "3.5 min")
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "customers_C-2008.png")

    page.get_by_role("link", name="Learned models").click()
    page.get_by_role("heading", name="Learned models").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_for_metric(page, "Travel time", "tt-2026-11-26")
    page.get_by_role("tab", name="Speed, weather and zones").click()
    page.locator(MAP_CANVAS).first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stVegaLiteChart"]').nth(1).wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    _screenshot(page, screenshot_dir / "learned_models.png")


def test_learned_model_pages_without_models_in_chromium(serving_snapshot, streamlit_server, chromium_page):
    """A snapshot without model tables: both pages explain what to run, no exception box."""
    url = streamlit_server(serving_snapshot.serving_dir)
    page = chromium_page
    for path in ("customers", "models"):
        page.goto(f"{url}/{path}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="No learned models yet").wait_for(timeout=LOAD_TIMEOUT_MS)
        _wait_until_idle(page)
        assert page.locator(EXCEPTION_BOX).count() == 0
