"""The customer tracking page in a real browser: ``streamlit run dashboard/tracking_app.py`` (its own server, like
``make tracking``) and headless Chromium through Playwright. A real tracking link shows its order; a
bogus one shows "not found"; neither shows an exception or any way to the ops pages. Screenshots are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard.tracking import NOT_FOUND_MESSAGE, NOT_FOUND_TITLE, tracking_url

from . import conftest as dashboard_conftest
from .conftest import TRACKING_APP
from .test_tracking import publish_with_tokens

pytestmark = pytest.mark.browser

EXCEPTION_BOX = '[data-testid="stException"]'
LOAD_TIMEOUT_MS = 60_000


@pytest.fixture
def tracking_server(streamlit_server, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], str]:
    """Factory: ``start(serving_dir) -> base URL`` of the tracking app (``dashboard/tracking_app.py``) on a free
    port: the shared ``streamlit_server`` fixture pointed at the tracking entry point instead of the ops app."""
    monkeypatch.setattr(dashboard_conftest, "APP_PATH", TRACKING_APP)
    return streamlit_server


def _no_way_to_the_ops_pages(page) -> None:
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.locator('[data-testid="stNavigation"], [data-testid="stTopNavLink"]').count() == 0
    assert page.locator(EXCEPTION_BOX).count() == 0


def test_tracking_links_in_chromium(tmp_path, tracking_server, chromium_page, screenshot_dir):
    """Open a real link (the customer's order, address and ETA window) and a bogus one ("not found")."""
    snapshot = publish_with_tokens(tmp_path)
    base_url = tracking_server(snapshot.serving_dir)
    page = chromium_page

    page.goto(tracking_url(snapshot.token("O-2004"), base_url=base_url), wait_until="domcontentloaded")
    page.get_by_text("Your delivery is planned").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_text("Städtle 15, 9490 Vaduz").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stMetric"]', has_text="Expected between").wait_for(timeout=LOAD_TIMEOUT_MS)
    body = page.locator("body").inner_text()
    assert "Zollstrasse" not in body and "O-2001" not in body
    _no_way_to_the_ops_pages(page)
    page.screenshot(path=screenshot_dir / "tracking_real_link.png", full_page=True)

    page.goto(tracking_url("B" * 43, base_url=base_url), wait_until="domcontentloaded")
    page.get_by_text(NOT_FOUND_MESSAGE).wait_for(timeout=LOAD_TIMEOUT_MS)
    assert page.locator("h1").first.inner_text().strip() == NOT_FOUND_TITLE
    _no_way_to_the_ops_pages(page)
    page.screenshot(path=screenshot_dir / "tracking_bogus_link.png", full_page=True)

    page.goto(base_url + "/?t=%27%20or%20%271%27%3D%271", wait_until="domcontentloaded")
    page.get_by_text(NOT_FOUND_MESSAGE).wait_for(timeout=LOAD_TIMEOUT_MS)
    _no_way_to_the_ops_pages(page)
