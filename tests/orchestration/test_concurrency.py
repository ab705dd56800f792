"""Concurrency: the dashboard keeps answering while the pipeline writes, and two runs on one warehouse queue.

(a) The dashboard's query functions (the ones its pages call, on the snapshot `CURRENT` names) run in a loop in a
    thread while a two-day backfill writes the warehouse and publishes twice in a child process.
(b) Two daily runs for different dates, started together on one Dagster instance and one warehouse, both finish:
    the `warehouse` pool runs their warehouse steps one at a time, so neither fails on DuckDB's file lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable

import dagster as dg
import duckdb
import pytest
import streamlit as st

from dashboard import queries
from dashboard.snapshot import current_snapshot
from orchestration.cli import WORKER_TAG, release_dead_runs, worker_tag
from tests.conftest import E2E_SEED, REPO_ROOT
from tests.orchestration._pipeline_process import ChildResult, DataFolder, follow, prime_dbt_parse, start_cli

pytestmark = pytest.mark.e2e

HISTORY_END = "2026-03-11"
HISTORY_DATES = ("2026-03-10", "2026-03-11")
WAIT_S = 600.0  # safety net for waits on a child process: a hang fails the test instead of stalling the suite


# --- (a) the app reads while a backfill writes ---------------------------------------------------------------------


def _page_views(key: str) -> int:
    """What the pages ask for on one rerun (Overview, Plan, Performance, Plan vs actual, Data health), on every
    date of the snapshot; returns the number of queries answered."""
    calls: list[Callable[[], object]] = [
        lambda: queries.kpis_by_date(key),
        lambda: queries.depots(key),
    ]
    for service_date in queries.service_dates(key):
        calls += [
            lambda d=service_date: queries.plan_summary(key, d),
            lambda d=service_date: queries.planned_stops(key, d),
            lambda d=service_date: queries.unassigned_orders(key, d),
        ]
        routes = queries.planned_routes(key, service_date)
        calls += [lambda r=r: queries.route_stops(key, r.plan_id, r.route_id) for r in routes.itertuples()]
    executed = queries.execution_dates(key)
    if executed:
        start, end = min(executed), max(executed)
        previous_start, previous_end = queries.previous_period(start, end)
        for function in (
            queries.performance_summary,
            queries.daily_kpis,
            queries.driver_performance,
            queries.on_time_by_hour,
            queries.failure_reasons,
        ):
            calls.append(lambda f=function: f(key, start, end))
        calls.append(lambda: queries.performance_summary(key, previous_start, previous_end))
    for service_date in executed:
        for function in (queries.day_route_days, queries.day_deliveries, queries.day_driven_paths):
            calls.append(lambda f=function, d=service_date: f(key, d))
    # The Data health page's queries, where this version of the dashboard has them.
    if hasattr(queries, "health_dates"):
        calls += [lambda: queries.freshness(key), lambda: queries.loads(key, None, None)]
        calls.append(lambda: queries.latest_plan_runs(key, 10))
        for service_date in queries.health_dates(key):
            for function in (queries.loads, queries.data_checks, queries.quarantined_rows, queries.quarantine_reasons):
                calls.append(lambda f=function, d=service_date: f(key, d, None))
    for call in calls:
        call()
    return len(calls)


class AppLoop(threading.Thread):
    """Reruns every page's queries on the snapshot `CURRENT` names, as the app does on each rerun, until stopped.

    Waits for the first publish before its first rerun (before it the app shows how to publish one). Query
    caches are cleared before every rerun so each one reads the Parquet files again.
    """

    def __init__(self, folder: DataFolder):
        super().__init__(daemon=True)
        self.folder = folder
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.snapshot_ids: list[str] = []
        self.queries = 0
        self.reruns = 0

    def rerun(self) -> None:
        try:
            snapshot = current_snapshot(self.folder.serving)
            st.cache_data.clear()
            self.queries += _page_views(snapshot.key)
            self.reruns += 1
            if snapshot.snapshot_id not in self.snapshot_ids:
                self.snapshot_ids.append(snapshot.snapshot_id)
        except Exception:  # every failure of the app counts, whatever its type
            self.errors.append(traceback.format_exc())

    def run(self) -> None:
        pointer = self.folder.serving / "CURRENT"
        while not pointer.exists() and not self.stop.wait(0.05):
            pass
        while not self.stop.is_set():
            self.rerun()


@pytest.fixture
def quiet_streamlit_cache():
    """Streamlit warns on every cache created outside a running app, which each cleared cache is: not news here."""
    logger = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_app_queries_never_fail_while_a_backfill_writes_and_publishes(tmp_path, quiet_streamlit_cache):
    """Zero errors in the app's queries over a whole backfill, and the app saw the snapshots change."""
    folder = DataFolder(tmp_path)
    prime_dbt_parse([folder], HISTORY_DATES[0])  # the first day's dbt builds skip parsing the project
    app = AppLoop(folder)
    app.start()
    log = tmp_path / "history.log"
    arguments = ["history", "--days", "2", "--end", HISTORY_END, "--scale", "small", "--seed", str(E2E_SEED),
                 "--budget", "60", "--max-iters", "100"]  # fmt: skip
    backfill = follow(start_cli(folder, arguments, log), log)
    app.stop.set()
    app.join(WAIT_S)
    app.rerun()  # the app's view once the backfill is done
    assert backfill.returncode == 0, "the backfill failed: " + "".join(backfill.lines[-30:])
    assert not app.errors, f"{len(app.errors)} of {app.reruns + len(app.errors)} reruns failed:\n{app.errors[0]}"
    assert len(app.snapshot_ids) > 1, f"the app saw only the snapshots {app.snapshot_ids}"
    final = current_snapshot(folder.serving)
    assert app.snapshot_ids[-1] == final.snapshot_id
    assert [d.isoformat() for d in queries.execution_dates(final.key)] == list(HISTORY_DATES)


# --- (b) two runs on one warehouse -----------------------------------------------------------------------------------

POOL = "warehouse"
RUN_DATES = ("2026-03-03", "2026-03-04")
HOLDER_RUN_ID = "test-holds-the-warehouse-pool"
BLOCKED = f"Step blocked by limit for pool {POOL}"


def _pool_steps() -> set[str]:
    """Step keys of the daily job that are in the warehouse pool."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("demo_daily")
    return {node.name for node in job.graph.nodes if node.definition.pool == POOL}


def _step_intervals(instance: dg.DagsterInstance, run_id: str, steps: set[str]) -> list[tuple[float, float, str]]:
    """(start, end, step) of every pool step of a run, from the run's event log."""
    started, ended = {}, {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key not in steps:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = record.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            ended[event.step_key] = record.timestamp
    return sorted((started[s], ended[s], s) for s in started)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, dbt_manifest):
    """Two `demo_daily` runs for different dates started together on one instance and one warehouse.

    The test holds the pool's only slot until both runs wait for it, so they do meet at the pool (whatever the
    timing of the two processes), then lets them go.
    """
    folder = DataFolder(tmp_path_factory.mktemp("two-runs"))
    folder.dagster_home.mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / "orchestration" / "dagster.yaml", folder.dagster_home / "dagster.yaml")
    # The first date's dbt builds (which hold the pool's slot) skip parsing the project; the second's parse in full.
    prime_dbt_parse([folder], RUN_DATES[0])
    with dg.DagsterInstance.from_config(str(folder.dagster_home)) as instance:
        storage = instance.event_log_storage
        assert storage.supports_global_concurrency_limits
        storage.initialize_concurrency_limit_to_default(POOL)
        assert storage.claim_concurrency_slot(POOL, HOLDER_RUN_ID, "test").is_claimed

        blocked = {day: threading.Event() for day in RUN_DATES}
        results: dict[str, ChildResult] = {}
        threads = []
        for day in RUN_DATES:
            arguments = ["run", "--date", day, "--scale", "small", "--seed", str(E2E_SEED), "--budget", "60",
                         "--max-iters", "100", "--log-level", "DEBUG"]  # fmt: skip
            log = folder.root / f"run-{day}.log"
            process = start_cli(folder, arguments, log)

            def watch(day=day, process=process, log=log):
                def on_line(line: str) -> None:
                    if BLOCKED in line:
                        blocked[day].set()

                results[day] = follow(process, log, on_line=on_line)

            threads.append(threading.Thread(target=watch, daemon=True))
            threads[-1].start()
        both_waited = all(blocked[day].wait(WAIT_S) for day in RUN_DATES)
        wrote_while_held = folder.warehouse.exists()
        storage.free_concurrency_slot_for_step(HOLDER_RUN_ID, "test")
        for thread in threads:
            thread.join(WAIT_S)
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="demo_daily"))
        steps = _pool_steps()
        intervals = {run.tags[WORKER_TAG]: _step_intervals(instance, run.run_id, steps) for run in runs}
        statuses = [run.status for run in runs]
    return {
        "folder": folder,
        "results": results,
        "both_waited": both_waited,
        "wrote_while_held": wrote_while_held,
        "intervals": intervals,
        "statuses": statuses,
    }


def test_both_runs_wait_for_the_pool_and_write_nothing_before(two_runs):
    """In-process runs claim the pool's slot per step: while it is taken, both wait and the warehouse stays
    untouched."""
    assert two_runs["both_waited"], "a run never waited for the warehouse pool (see run-*.log)"
    assert not two_runs["wrote_while_held"], "a run wrote the warehouse while the pool's slot was taken"


def test_both_runs_succeed(two_runs):
    """Neither run fails on the DuckDB lock: both finish."""
    for day, result in two_runs["results"].items():
        assert result.returncode == 0, f"run for {day} failed: " + "".join(result.lines[-40:])
    assert two_runs["statuses"] == [dg.DagsterRunStatus.SUCCESS] * 2


def test_warehouse_steps_of_the_two_runs_never_overlap(two_runs):
    """No step of one run that writes the warehouse ran while such a step of the other run was running."""
    first, second = two_runs["intervals"].values()
    assert len(first) == len(second) == len(_pool_steps())
    for start_a, end_a, step_a in first:
        for start_b, end_b, step_b in second:
            assert end_a <= start_b or end_b <= start_a, f"{step_a} and {step_b} of the two runs overlapped"


def test_both_dates_are_planned_and_published(two_runs):
    """Each date has a valid current plan in the marts, and the last snapshot holds both dates."""
    folder = two_runs["folder"]
    with duckdb.connect(str(folder.warehouse), read_only=True) as conn:
        current = conn.execute(
            "select cast(service_date as varchar), status from marts.dim_plan_versions where is_current order by 1"
        ).fetchall()
        kpi_dates = conn.execute("select distinct cast(service_date as varchar) from marts.fct_plan_kpis order by 1")
        assert kpi_dates.fetchall() == [(d,) for d in RUN_DATES]
    assert current == [(d, "valid") for d in RUN_DATES]
    snapshot = current_snapshot(folder.serving)
    assert snapshot.service_dates == RUN_DATES
    assert queries.service_dates(snapshot.key) == [dt.date.fromisoformat(d) for d in RUN_DATES]


def _started_run(instance: dg.DagsterInstance, tag: str) -> str:
    """A run recorded as started by the CLI process ``tag``, holding the warehouse pool's slot for one step."""
    run = instance.add_run(
        dg.DagsterRun(job_name="demo_daily", status=dg.DagsterRunStatus.STARTED, tags={WORKER_TAG: tag})
    )
    assert instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "raw__orders").is_claimed
    return run.run_id


def test_a_run_whose_process_is_gone_is_failed_and_frees_its_slot(tmp_path):
    """The CLI's clean-up before a run: a started run whose worker process is gone is reported failed and its
    pool slot is freed; a run of a live process (this one) and a run of another host are left alone."""
    shutil.copyfile(REPO_ROOT / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 3)
        dead = _started_run(instance, f"{socket.gethostname()}:{gone.stdout.strip()}:1")
        alive = _started_run(instance, worker_tag())
        elsewhere = _started_run(instance, "another-host:1:1")

        assert release_dead_runs(instance) == [dead]
        assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
        assert (
            instance.get_run_by_id(alive).status
            == instance.get_run_by_id(elsewhere).status
            == dg.DagsterRunStatus.STARTED
        )
        assert instance.event_log_storage.get_concurrency_run_ids() == {alive, elsewhere}
        assert release_dead_runs(instance) == [], "a failed run is not released twice"


def test_the_cli_disposes_of_the_instance_it_made_and_only_that_one(tmp_path, monkeypatch):
    """``run_instance`` makes ``$DAGSTER_HOME``'s instance when given none and disposes of it on leaving, also when
    the run raised: its connections are not left to the garbage collector (a CI run failed on one freed on another
    thread). An instance the caller gave stays the caller's."""
    from orchestration.cli import run_instance

    disposed = []
    dispose = dg.DagsterInstance.dispose
    monkeypatch.setattr(dg.DagsterInstance, "dispose", lambda self: disposed.append(self) or dispose(self))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))

    with run_instance() as made:
        assert made.get_runs() == []
    assert disposed == [made]
    with pytest.raises(RuntimeError, match="the run broke"), run_instance() as broken:
        raise RuntimeError("the run broke")
    assert disposed == [made, broken]
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as given:
        with run_instance(given) as used:
            assert used is given
        assert disposed == [made, broken]
    assert disposed == [made, broken, given]
