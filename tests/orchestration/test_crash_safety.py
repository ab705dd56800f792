"""Crash safety: the daily run killed with SIGKILL at several points, re-run, ends identical to a clean run.

A reference folder gets one uninterrupted `demo_daily` run. A second folder gets the same run started again and
again in a child process, each attempt SIGKILLed (whole process group) at the next point: during ingestion, in
the middle of the dbt build, during the solve, and (after one attempt that runs to the end) at the publish. After
every kill the warehouse and the serving store must be consistent (every table either without the date or exactly
as in the reference; no unvalidated plan current; `CURRENT` naming a complete snapshot). A last uninterrupted
attempt must then leave every warehouse table and every serving table identical to the reference.

Identical means: equal rows (in any order) after leaving out what differs between two correct runs by nature
(see VOLATILE_COLUMNS, PLAN_VERSION_TABLES) and keeping, for tables that accumulate attempts, the rows that
describe the end state (see end_state_filter).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from dashboard.snapshot import current_snapshot
from orchestration.plan_store import abandon_pending_plans, ensure_plans_schema, set_plan_status, write_plan
from solver import Plan, SolveConfig, SolveStats
from tests.conftest import DBT_PROJECT_DIR, E2E_SEED
from tests.orchestration._pipeline_process import (
    ChildResult,
    DataFolder,
    follow,
    kill_group,
    prime_dbt_parse,
    start_cli,
    step_started,
)

pytestmark = pytest.mark.e2e

SERVICE_DATE = "2026-03-03"
# The iteration cap makes the plan reproducible; the time budget is only a cap far above what the cap needs.
MAX_ITERS = 200
BUDGET_S = 60.0
RUN_ARGUMENTS = [
    "run", "--date", SERVICE_DATE, "--scale", "small", "--seed", str(E2E_SEED), "--budget", str(BUDGET_S),
    "--max-iters", str(MAX_ITERS), "--log-level", "DEBUG",
]  # fmt: skip


def _dbt_created_table(line: str) -> bool:
    """dbt has just replaced its first mart table of the build: the others are still the old ones."""
    return "OK created sql table model" in line


# Where each attempt is killed, in the order the job reaches them (one attempt per point).
KILL_POINTS = {
    "ingestion": step_started("raw__orders"),  # master data loaded and committed, orders not yet
    "dbt build": _dbt_created_table,
    "solve": lambda line: "daily_plan - solving " in line,  # solver workers running, nothing written yet
    "publish": step_started("serving_snapshot"),
}

# Columns whose values differ between two correct runs by nature, left out of every comparison:
VOLATILE_COLUMNS = frozenset(
    {
        "loaded_at_utc",  # wall-clock time of a file load
        "checked_at_utc",  # wall-clock time of a data-quality check
        "runtime_s",  # solver wall time
        "build_s",  # solver model build time
        "search_s",  # solver search time
        "plan_id",  # names the version ("<date>-daily-v<n>"): a re-run adds versions
        "version",  # the same numbering
        "replaced_rows",  # how many rows a load replaced: zero on a first load, the date's rows on a re-load
        "token",  # a tracking link's token: secret random bits by design (which orders have one is compared)
        "updated_at_utc",  # when a tracking row was computed: the publish time
    }
)
# ... and the wall-clock time a plan version (or a tracking token) was stored, in the tables of plan versions and
# tokens (an order's created_at_utc is source data and compared).
PLAN_VERSION_TABLES = frozenset(
    {"plans.plan_runs", "marts.dim_plan_versions", "plan_runs", "plan_versions", "plans.tracking_tokens"}
)


def _volatile(table: str, column: str) -> bool:
    return column in VOLATILE_COLUMNS or (column == "created_at_utc" and table in PLAN_VERSION_TABLES)


SKIPPED_SCHEMAS = ("information_schema", "pg_catalog")
PLAN_RUNS_CURRENT = """
    plan_id in (
        select plan_id from plans.plan_runs where status = 'valid'
        qualify row_number() over (partition by service_date, kind order by version desc) = 1
    )"""


# The serving files that list every plan version keep the current one per date and kind (killed runs leave
# abandoned versions a clean run never has).
SERVING_END_STATE = {
    "plan_runs": "is_current",
    "plan_versions": (
        "status = 'valid' qualify row_number() over (partition by service_date, kind order by version desc) = 1"
    ),
}


def end_state_filter(schema: str, table: str, columns: set[str]) -> str:
    """Which rows of a table describe the end state, as a SQL condition (constants only, no input).

    Tables that accumulate one entry per attempt keep the entries that count: the current plan of each date
    (an interrupted run may have stored versions, valid or not, that a clean run never has) and the last
    load of each file (``raw.ingest_log`` is append-only).
    """
    if schema == "plans" and "plan_id" in columns:
        return PLAN_RUNS_CURRENT
    if (schema, table) == ("marts", "dim_plan_versions"):
        return "is_current"
    if (schema, table) == ("raw", "ingest_log"):
        return (
            "true qualify row_number() over (partition by table_name, service_date, source_file "
            "order by loaded_at_utc desc) = 1"
        )
    return "true"


class Content(NamedTuple):
    """A table's compared columns and its end-state rows, sorted."""

    columns: tuple[str, ...]
    rows: list[tuple]

    def by_source_table(self) -> dict[object, list[tuple]]:
        """Rows by their ``table_name`` column: logs and checks hold one unit per source table that a run writes
        in its own transaction (one group for tables without that column)."""
        if "table_name" not in self.columns:
            return {None: self.rows}
        position = self.columns.index("table_name")
        groups: dict[object, list[tuple]] = {}
        for row in self.rows:
            groups.setdefault(row[position], []).append(row)
        return groups


def _normalise(value: object, root: str) -> object:
    # Paths inside the data folder (Data Docs, source files) differ only by the folder.
    if isinstance(value, str):
        return value.replace(root, "<data>")
    # DuckDB may add up a float aggregate in another order from one run to the next (parallel hash aggregates):
    # the last bits differ, so floats count as equal to 12 significant digits.
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


def warehouse_tables(conn: duckdb.DuckDBPyConnection, base_tables_only: bool = False) -> dict[tuple[str, str], str]:
    """Every table and view of the warehouse, (schema, name) -> table type, from information_schema."""
    rows = conn.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = current_database() and table_schema not in (?, ?)",
        list(SKIPPED_SCHEMAS),
    ).fetchall()
    return {(s, t): kind for s, t, kind in rows if not base_tables_only or kind == "BASE TABLE"}


def table_content(conn: duckdb.DuckDBPyConnection, schema: str, table: str, root: Path) -> Content:
    """The end-state rows of one warehouse table without its volatile columns, sorted, paths normalised."""
    columns = [
        c
        for (c,) in conn.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]
    kept = tuple(c for c in columns if not _volatile(f"{schema}.{table}", c))
    selected = ", ".join(f'"{c}"' for c in kept)
    condition = end_state_filter(schema, table, set(columns))
    rows = conn.execute(f'select {selected} from "{schema}"."{table}" where {condition}').fetchall()
    return Content(kept, sorted((tuple(_normalise(v, str(root)) for v in row) for row in rows), key=repr))


def warehouse_content(
    folder: DataFolder, base_tables_only: bool = False, root: Path | None = None
) -> dict[str, Content]:
    """Every table (and view) of the folder's warehouse as end-state rows, by ``schema.table``; paths inside
    ``root`` (default: the folder) are normalised."""
    with duckdb.connect(str(folder.warehouse), read_only=True) as conn:
        return {
            f"{schema}.{table}": table_content(conn, schema, table, root or folder.root)
            for schema, table in sorted(warehouse_tables(conn, base_tables_only))
        }


def serving_content(folder: DataFolder) -> dict[str, Content]:
    """Every Parquet table of the current snapshot as end-state rows, by table name."""
    snapshot = folder.serving / "snapshots" / (folder.serving / "CURRENT").read_text(encoding="utf-8").strip()
    content = {}
    with duckdb.connect() as conn:
        for path in sorted(snapshot.glob("*.parquet")):
            kept = tuple(c for c in pq.read_schema(path).names if not _volatile(path.stem, c))
            selected = ", ".join(f'"{c}"' for c in kept)
            condition = SERVING_END_STATE.get(path.stem, "true")
            rows = conn.execute(f"select {selected} from read_parquet(?) where {condition}", [str(path)]).fetchall()
            normalised = sorted((tuple(_normalise(v, str(folder.root)) for v in r) for r in rows), key=repr)
            content[path.stem] = Content(kept, normalised)
    return content


def assert_serving_consistent(folder: DataFolder) -> None:
    """`CURRENT` is absent (nothing published yet) or names a complete snapshot: manifest = Parquet files."""
    pointer = folder.serving / "CURRENT"
    if not pointer.exists():
        return
    snapshot = folder.serving / "snapshots" / pointer.read_text(encoding="utf-8").strip()
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    files = {p.stem: pq.read_metadata(p).num_rows for p in snapshot.glob("*.parquet")}
    assert files == manifest["tables"], f"snapshot {snapshot.name}: manifest and Parquet files disagree"
    assert current_snapshot(folder.serving).snapshot_id == snapshot.name, "the dashboard resolves another snapshot"
    with duckdb.connect() as conn:
        unvalidated = conn.execute(
            "select plan_id from read_parquet(?) where is_current and status <> 'valid'",
            [str(snapshot / "plan_runs.parquet")],
        ).fetchall()
    assert not unvalidated, f"snapshot {snapshot.name} serves plan versions that are not valid: {unvalidated}"


def assert_consistent(folder: DataFolder, reference: dict[str, Content], point: str, root: Path | None = None) -> None:
    """After a kill: every base table (per source table, where it has several) either lacks the date or equals
    the reference; no unvalidated plan is current; the serving store is sound. ``folder`` may be a copy of the
    killed folder (see :func:`_keep_state`), ``root`` the killed folder's own root (for path normalisation)."""
    if not folder.warehouse.exists():
        return  # killed before the first write: nothing to be inconsistent
    killed = warehouse_content(folder, base_tables_only=True, root=root)
    for table, content in killed.items():
        assert table in reference, f"kill at {point}: {table} exists, but not in the reference run"
        assert content.columns == reference[table].columns, f"kill at {point}: {table} has other columns"
        expected = reference[table].by_source_table()
        for source, rows in content.by_source_table().items():
            assert rows in ([], expected.get(source)), (
                f"kill at {point}: {table} ({source or 'all rows'}) is half written: {len(rows)} rows, "
                f"reference {len(expected.get(source, []))}"
            )
    with duckdb.connect(str(folder.warehouse), read_only=True) as conn:
        tables = warehouse_tables(conn)
        if ("plans", "plan_runs") in tables:
            statuses = {s for (s,) in conn.execute("select distinct status from plans.plan_runs").fetchall()}
            assert statuses <= {"pending", "valid", "invalid", "abandoned"}, statuses
        if ("marts", "dim_plan_versions") in tables:
            unvalidated = conn.execute(
                "select plan_id, status from marts.dim_plan_versions where is_current and status <> 'valid'"
            ).fetchall()
            assert not unvalidated, f"kill at {point}: current plan versions that are not valid: {unvalidated}"
    assert_serving_consistent(folder)


def _run_to_the_end(folder: DataFolder, name: str) -> ChildResult:
    log = folder.root / f"{name}.log"
    result = follow(start_cli(folder, RUN_ARGUMENTS, log), log)
    assert result.returncode == 0, f"{name} run failed: " + "".join(result.lines[-30:])
    return result


def _keep_state(folder: DataFolder, copy: DataFolder) -> DataFolder:
    """A copy of what a killed attempt left in the warehouse (with its WAL) and the serving store, byte for byte,
    for :func:`assert_consistent` once the reference run is done (the next attempt changes the folder)."""
    for path in folder.root.glob(f"{folder.warehouse.name}*"):
        shutil.copy2(path, copy.root / path.name)
    if folder.serving.exists():
        shutil.copytree(folder.serving, copy.serving, symlinks=True)
    return copy


class _Background(threading.Thread):
    """A child followed to its end in a thread (see :func:`follow`)."""

    def __init__(self, folder: DataFolder, name: str):
        super().__init__(daemon=True)
        self.log = folder.root / f"{name}.log"
        self.process = start_cli(folder, RUN_ARGUMENTS, self.log)
        self.result: ChildResult | None = None

    def run(self) -> None:
        self.result = follow(self.process, self.log)


@pytest.fixture(scope="module")
def crash_runs(tmp_path_factory, dbt_manifest):
    """The reference run, then the killed attempts and the final run in a second folder.

    Before the kill at the publish one attempt runs to the end, so that kill meets a published snapshot (and a
    current plan) that must stay intact.

    The reference run shares nothing with the killed folder (its own data folder, Dagster instance and process
    group), so it runs alongside the killed attempts instead of before them; what each kill left is copied at once
    and checked against the reference when that is done (the same checks on the same bytes as checking at once).
    """
    reference = DataFolder(tmp_path_factory.mktemp("crash-reference"))
    folder = DataFolder(tmp_path_factory.mktemp("crash-killed"))
    prime_dbt_parse([reference, folder], SERVICE_DATE)
    reference_run = _Background(reference, "reference")
    reference_run.start()

    try:
        kills = {}
        kept_states = {}
        published_before_kill = None
        for point, kill_when in KILL_POINTS.items():
            if point == "publish":
                _run_to_the_end(folder, "complete")
                published_before_kill = current_snapshot(folder.serving).snapshot_id
            slug = point.replace(" ", "-")
            log = folder.root / f"killed-at-{slug}.log"
            killed = follow(start_cli(folder, RUN_ARGUMENTS, log), log, kill_when=kill_when)
            assert killed.killed_at, f"the run never reached the kill point '{point}' (see {log})"
            assert killed.returncode < 0, f"kill at {point}: the child ended with {killed.returncode}"
            kept_states[point] = _keep_state(folder, DataFolder(tmp_path_factory.mktemp(f"crash-after-{slug}")))
            kills[point] = killed
        snapshot_after_kills = current_snapshot(folder.serving).snapshot_id
        final = _run_to_the_end(folder, "final")
    except BaseException:
        kill_group(reference_run.process)  # a failed sequence leaves no reference run behind
        raise

    reference_run.join()
    assert reference_run.result is not None and reference_run.result.returncode == 0, (
        "reference run failed: " + "".join(reference_run.result.lines[-30:] if reference_run.result else [])
    )
    reference_tables = warehouse_content(reference, base_tables_only=True)
    for point, kept in kept_states.items():
        assert_consistent(kept, reference_tables, point, root=folder.root)
    return {
        "reference": reference,
        "folder": folder,
        "kills": kills,
        "final": final,
        "published_before_kill": published_before_kill,
        "snapshot_after_kills": snapshot_after_kills,
    }


def test_every_kill_point_was_reached(crash_runs):
    """Each attempt was killed at its own point, in the job's order, and the re-run after them succeeded."""
    assert list(crash_runs["kills"]) == list(KILL_POINTS)
    assert all(k.returncode == -9 for k in crash_runs["kills"].values())


def test_a_killed_publish_leaves_the_published_snapshot_current(crash_runs):
    """The snapshot published before the kill at the publish is still the one `CURRENT` names after it."""
    assert crash_runs["published_before_kill"] is not None
    assert crash_runs["snapshot_after_kills"] == crash_runs["published_before_kill"]


def test_rerun_after_kills_releases_the_dead_runs(crash_runs):
    """Every killed run held or waited for a `warehouse` pool slot; the next attempt marked it failed and freed it
    (without that, the next attempt would wait for the slot forever)."""
    released = [line for line in crash_runs["final"].lines if "had been killed" in line]
    assert len(released) == 1, "the final run should release exactly the attempt killed before it"
    with dg.DagsterInstance.from_config(str(crash_runs["folder"].dagster_home)) as instance:
        statuses = [run.status for run in instance.get_runs()]
        assert statuses.count(dg.DagsterRunStatus.FAILURE) == len(KILL_POINTS)
        assert statuses.count(dg.DagsterRunStatus.SUCCESS) == 2  # the complete attempt and the final run
        assert instance.event_log_storage.get_concurrency_run_ids() == set()


def test_every_warehouse_table_equals_the_uninterrupted_run(crash_runs):
    """Raw, quarantine, quality, staging, intermediate, marts and plans: the same tables with the same rows."""
    reference = warehouse_content(crash_runs["reference"])
    after_kills = warehouse_content(crash_runs["folder"])
    assert sorted(after_kills) == sorted(reference)
    assert reference["raw.orders"].rows and reference["marts.fct_planned_stops"].rows, "the reference planned nothing"
    different = [table for table in reference if after_kills[table] != reference[table]]
    assert not different, f"tables that differ from the uninterrupted run: {different}"


def test_every_serving_table_equals_the_uninterrupted_run(crash_runs):
    """The published snapshot holds the same tables and rows as the uninterrupted run's."""
    reference = serving_content(crash_runs["reference"])
    after_kills = serving_content(crash_runs["folder"])
    assert sorted(after_kills) == sorted(reference)
    assert reference["planned_stops"].rows, "the reference published no stops"
    different = [table for table in reference if after_kills[table] != reference[table]]
    assert not different, f"serving tables that differ from the uninterrupted run: {different}"


def test_only_valid_plans_were_ever_current(crash_runs):
    """After the kills and the final run, the current plan is the final run's version and valid."""
    with duckdb.connect(str(crash_runs["folder"].warehouse), read_only=True) as conn:
        current = conn.execute(
            "select status, version = (select max(version) from plans.plan_runs) from marts.dim_plan_versions "
            "where is_current"
        ).fetchall()
    assert current == [("valid", True)]


# --- what a re-run does with a version a killed run left pending -------------------------------------------------


def _plan(depot_id: str) -> Plan:
    """An empty plan of one depot (no orders, no vehicles): enough to store a version."""
    stats = SolveStats(runtime_s=0.0, iterations=0, objective=0, feasible=True, n_orders=0, n_vehicles=0,
                       stopped_by="no_orders")  # fmt: skip
    return Plan(depot_id=depot_id, routes=(), unassigned=(), stats=stats)


def _statuses(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(conn.execute("select plan_id, status from plans.plan_runs order by plan_id").fetchall())


def test_writing_a_version_abandons_versions_left_pending():
    """A version still `pending` when the next one of its date and kind is written was never validated (its run
    died between storing and marking it): the write marks it `abandoned`, so it can never become current."""
    config = SolveConfig(time_budget_s=1.0, seed=0)
    with duckdb.connect() as conn:
        ensure_plans_schema(conn)
        killed = write_plan(conn, SERVICE_DATE, "daily", [_plan("D-1")], config, runtime_s=0.1)
        other_date = write_plan(conn, "2026-03-04", "daily", [_plan("D-1")], config, runtime_s=0.1)
        other_kind = write_plan(conn, SERVICE_DATE, "whatif", [_plan("D-1")], config, runtime_s=0.1)
        rerun = write_plan(conn, SERVICE_DATE, "daily", [_plan("D-1")], config, runtime_s=0.1)
        statuses = _statuses(conn)
        assert statuses[killed] == "abandoned"
        assert statuses[rerun] == "pending"
        assert statuses[other_date] == statuses[other_kind] == "pending", "other dates and kinds are not touched"
        set_plan_status(conn, rerun, "valid")
        newer = write_plan(conn, SERVICE_DATE, "daily", [_plan("D-1")], config, runtime_s=0.1)
        assert _statuses(conn)[rerun] == "valid", "a marked version keeps its status"
        assert _statuses(conn)[newer] == "pending"


def test_abandoning_when_nothing_is_pending_changes_nothing():
    """Without pending versions the call reports none and leaves every status as it was."""
    with duckdb.connect() as conn:
        ensure_plans_schema(conn)
        plan_id = write_plan(conn, SERVICE_DATE, "daily", [_plan("D-1")], SolveConfig(), runtime_s=0.0)
        set_plan_status(conn, plan_id, "invalid")
        assert abandon_pending_plans(conn, SERVICE_DATE, "daily") == []
        assert _statuses(conn) == {plan_id: "invalid"}


def test_plan_marts_build_with_an_abandoned_version(crash_runs, tmp_path):
    """The plan marts (and their tests) build on a warehouse where a killed run's pending version was abandoned."""
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(crash_runs["folder"].warehouse.read_bytes())
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "insert into plans.plan_runs (plan_id, service_date, kind, version, created_at_utc, status) "
            "values ('2026-03-03-daily-v99', cast(? as date), 'daily', 99, ?, 'pending')",
            [SERVICE_DATE, datetime.now(UTC)],
        )
        assert abandon_pending_plans(conn, SERVICE_DATE, "daily") == ["2026-03-03-daily-v99"]
    command = [
        str(Path(sys.executable).with_name("dbt")), "build", "--quiet", "--select", "tag:plan_outputs",
        "--profiles-dir", ".", "--project-dir", ".", "--target-path", str(tmp_path / "target"),
        "--log-path", str(tmp_path / "logs"),
    ]  # fmt: skip
    dbt = subprocess.run(
        command,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "LASTMILE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
        capture_output=True,
        text=True,
    )
    assert dbt.returncode == 0, dbt.stdout[-2000:]
