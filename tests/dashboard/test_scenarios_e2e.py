"""The Scenarios page the whole way on the real pipeline (small demo world): a past day played out by the
`demo_history_day` job; in Chromium the form asks for a what-if of that day; the real `whatif_request_sensor` turns
the request file into a run of the real `whatif` job (solve, simulate the past day, publish); the page then compares
the what-if with the current plan, with the simulated and actual outcomes and both maps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from orchestration.serving import current_snapshot_id

from .test_scenarios import EXCEPTION_BOX, LOAD_TIMEOUT_MS, _wait_for_two_maps, _wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAST = dt.date(2026, 3, 3)  # a Tuesday
SEED = 7
RUN = {"max_iters": 300, "processes": 1}


@dataclass(frozen=True)
class PastDay:
    """The data folder of a pipeline that has played out :data:`PAST`."""

    root: Path
    serving: Path


@pytest.fixture(scope="module")
def past_day(tmp_path_factory, dbt_manifest) -> Iterator[PastDay]:
    """:data:`PAST` planned, executed and published by the real `demo_history_day` job in a fresh data folder; the
    pipeline's environment stays set for the module's tests (the app server and the sensor read it)."""
    from orchestration.cli import run_day

    root = tmp_path_factory.mktemp("scenarios-e2e")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "LASTMILE_DATA_DIR": root, "LASTMILE_LANDING_DIR": root / "landing",
            "LASTMILE_WAREHOUSE": root / "warehouse.duckdb", "LASTMILE_SERVING_DIR": root / "serving",
            "LASTMILE_DEMO_SCALE": "small", "LASTMILE_DEMO_SEED": SEED,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "GX_ANALYTICS_ENABLED": "False",
        }.items():  # fmt: skip
            patch.setenv(name, str(value))
        patch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral instance per run
        patch.delenv("LASTMILE_ROAD_NETWORK", raising=False)
        assert run_day(PAST.isoformat(), 2.0, 0, "demo_history_day", max_iters=300, log_level="ERROR").success
        yield PastDay(root=root, serving=root / "serving")


def _run_requested_whatifs() -> list[dg.ExecuteInProcessResult]:
    """What the Dagster daemon does with the request files: evaluate ``whatif_request_sensor`` and launch the
    ``whatif`` job of each RunRequest (with a small iteration cap so the test is quick)."""
    from orchestration.definitions import defs
    from orchestration.sensors import WHATIF_OP, whatif_request_sensor

    with dg.build_sensor_context() as context:
        result = whatif_request_sensor(context)
    job = defs.resolve_job_def("whatif")
    runs = []
    for request in result.run_requests:
        config = request.run_config["ops"][WHATIF_OP]["config"]
        with dg.DagsterInstance.ephemeral() as instance:  # disposed: no connection left to the garbage collector
            runs.append(
                job.execute_in_process(
                    partition_key=request.partition_key,
                    instance=instance,
                    tags=request.tags,
                    run_config={"ops": {WHATIF_OP: {"config": {**config, **RUN}}}},
                    raise_on_error=False,
                )
            )
    return runs


def test_scenarios_page_the_whole_way(past_day, streamlit_server, chromium_page, screenshot_dir):
    """No what-if yet: the empty state. Ask for one of the past day in the form (windows widened by 30 min, 2 s
    budget); the sensor runs it; after the publish the page compares it with the current plan: the name as a
    column, the outcome rows of a past day, two maps, no exception box."""
    url = streamlit_server(past_day.serving)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("link", name="Scenarios").click()
    page.get_by_role("heading", name=f"No what-if yet for {PAST:%a %d %b %Y}").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)

    page.locator(".st-key-scenario_date [role='combobox']").click()
    page.get_by_role("option", name=f"{PAST:%a %d %b %Y}", exact=True).click()
    page.locator(".st-key-scenario_name input").fill("wider windows")
    page.locator(".st-key-scenario_widen [role='combobox']").click()
    page.get_by_role("option", name="Widen by 30 min", exact=True).click()
    page.locator(".st-key-scenario_budget input").fill("2")
    page.get_by_role("button", name="Run what-if").click()
    page.get_by_text("whatif_request_sensor").wait_for(timeout=LOAD_TIMEOUT_MS)
    (request,) = (past_day.root / "requests").glob("whatif_*.json")
    assert request.name.startswith(f"whatif_{PAST.isoformat()}_")

    before = current_snapshot_id(past_day.serving)
    (run,) = _run_requested_whatifs()
    assert run.success
    snapshot = current_snapshot_id(past_day.serving)
    assert snapshot != before
    scenarios = pq.read_table(past_day.serving / "snapshots" / snapshot / "scenarios.parquet").to_pandas()
    assert sorted(scenarios["name"]) == ["Current plan", "wider windows"]
    assert scenarios["sim_on_time_rate"].notna().all()

    page.reload(wait_until="domcontentloaded")
    page.get_by_role("heading", name="Compare plans").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_for_two_maps(page)
    page.get_by_text("Delivery windows: widened by 30 min on both sides").wait_for(timeout=LOAD_TIMEOUT_MS)
    # The table is drawn on a canvas; its caption says when it has the outcome rows.
    page.get_by_text("Outcome rows: the day's actual outcome", exact=False).wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 4000))})
    page.wait_for_timeout(1_500)  # deck.gl redraws after the resize
    page.screenshot(path=screenshot_dir / f"scenarios_e2e_{PAST.isoformat()}.png")
