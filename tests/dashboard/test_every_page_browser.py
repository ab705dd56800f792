"""Every page of the dashboard in a real browser, against each demo snapshot: the page list is read from
dashboard/app.py (as benchmarks/dashboard.py reads it), so a new page is opened without touching this test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("dashboard_benchmark", REPO_ROOT / "benchmarks" / "dashboard.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)

EXCEPTION_BOX = '[data-testid="stException"]'
TITLE = '[data-testid="stMain"] h1'
LOAD_TIMEOUT_MS = 60_000
# The script run has finished: Streamlit's run state on the app root, and no status widget.
RUN_FINISHED_JS = """
() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]')
        && !!document.querySelector('[data-testid="stMain"] h1');
}
"""


def _screenshot(page, path: Path) -> None:
    """Picture of the whole page: Streamlit scrolls inside its own container, so grow the viewport instead."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 4000))})
    page.wait_for_timeout(1_000)  # deck.gl and Vega redraw after the resize
    page.screenshot(path=path)
    page.set_viewport_size({"width": 1440, "height": 1000})


def test_the_page_list_is_read_from_the_app():
    """The parsed list holds every page the app routes to, the default page at the root URL."""
    pages = bench.app_pages()
    source = bench.APP_PATH.read_text(encoding="utf-8")
    assert len(pages) == source.count("st.Page(")
    assert [page.url_path for page in pages].count("") == 1
    assert all((bench.APP_PATH.parent / page.script).is_file() for page in pages)


@pytest.mark.parametrize("snapshot_fixture", ["serving_snapshot", "learned_snapshot", "health_snapshot"])
def test_every_page_renders_without_an_exception(
    snapshot_fixture, request, streamlit_server, chromium_page, screenshot_dir
):
    """Open each page by its URL, wait for the script run to finish: a title, no exception box; a screenshot of
    each page is kept under the test run's output."""
    snapshot = request.getfixturevalue(snapshot_fixture)
    serving_dir = snapshot if isinstance(snapshot, Path) else snapshot.serving_dir
    url = streamlit_server(serving_dir)
    page = chromium_page
    problems = []
    for app_page in bench.app_pages():
        page.goto(f"{url}/{app_page.url_path}", wait_until="domcontentloaded")
        page.wait_for_function(RUN_FINISHED_JS, timeout=LOAD_TIMEOUT_MS)
        title = page.locator(TITLE).first.inner_text().strip()
        _screenshot(page, screenshot_dir / f"every_page_{snapshot_fixture}_{app_page.name}.png")
        if not title:
            problems.append(f"{app_page.title}: no title")
        if page.locator(EXCEPTION_BOX).count():
            problems.append(f"{app_page.title}: {page.locator(EXCEPTION_BOX).first.inner_text()[:300]}")
    assert not problems, "\n".join(problems)
