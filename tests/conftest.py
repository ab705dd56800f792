"""Shared fixtures: an isolated data folder per test session and the real pipeline run on the small world."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import run_day
from orchestration.serving import current_snapshot_id

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# A Tuesday in winter: a full weekday of orders, CET offsets.
E2E_SERVICE_DATE = "2026-03-03"
E2E_SEED = 7


@dataclass(frozen=True)
class DataDirs:
    """Where one test session's pipeline keeps its files."""

    root: Path
    landing: Path
    warehouse: Path
    serving: Path
    dagster_home: Path


def _data_dirs(root: Path) -> DataDirs:
    return DataDirs(
        root, root / "landing", root / "warehouse.duckdb", root / "serving", root / "dagster_home"
    )


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest, built by `dbt parse` as in `make manifest` (dagster-dbt loads it at import)."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "parse",
            "--quiet",
            "--profiles-dir",
            ".",
            "--project-dir",
            ".",
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        check=True,
    )
    return DBT_PROJECT_DIR / "target" / "manifest.json"


def prime_dbt_parse(targets: Sequence[tuple[Path, Path]], service_date: str) -> None:
    """Save a dbt parse of the project into each ``(warehouse, DBT_TARGET_PATH)``'s target folder, for the dbt
    builds of the pipeline runs on that warehouse.

    dagster-dbt gives every dbt invocation its own target folder under ``DBT_TARGET_PATH`` and copies the
    ``partial_parse.msgpack`` it finds there into it; a fresh folder has none (nor does the project's own
    ``target/``, parsed without vars), so each dbt build of a run parsed the whole project again (5-10 s of every
    build). dbt reuses a saved parse only for the same command-line vars and connection (the warehouse path), so
    this parses once per warehouse (in parallel) with the vars a run's dbt builds pass for ``service_date``; a build
    for another date parses in full as before. The builds themselves are unchanged: a reused parse is dbt's own,
    checked against the project's files.
    """
    dbt_vars = json.dumps({"min_date": service_date, "max_date": service_date})
    processes = []
    for warehouse, target in targets:
        command = [
            str(Path(sys.executable).with_name("dbt")), "parse", "--quiet", "--vars", dbt_vars,
            "--profiles-dir", ".", "--project-dir", ".",
            "--target-path", str(target), "--log-path", str(target / "parse-logs"),
        ]  # fmt: skip
        env = {**os.environ, "LASTMILE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
        processes.append(subprocess.Popen(command, cwd=DBT_PROJECT_DIR, env=env))
    for (_, target), process in zip(targets, processes, strict=True):
        assert process.wait() == 0, f"dbt parse into {target} failed"


@pytest.fixture(scope="session")
def pipeline_env(tmp_path_factory, dbt_manifest) -> DataDirs:
    """Environment of the session's pipeline: LASTMILE_* variables pointing into a temporary folder."""
    dirs = _data_dirs(tmp_path_factory.mktemp("lastmile-data"))
    dirs.dagster_home.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LASTMILE_DATA_DIR", str(dirs.root))
        patch.setenv("LASTMILE_LANDING_DIR", str(dirs.landing))
        patch.setenv("LASTMILE_WAREHOUSE", str(dirs.warehouse))
        patch.setenv("LASTMILE_SERVING_DIR", str(dirs.serving))
        patch.setenv("LASTMILE_DEMO_SCALE", "small")
        patch.setenv("LASTMILE_DEMO_SEED", str(E2E_SEED))
        patch.setenv("DAGSTER_HOME", str(dirs.dagster_home))
        # dbt's per-invocation target folders go into the data folder, not the project's target/ (see
        # prime_dbt_parse)
        patch.setenv("DBT_TARGET_PATH", str(dirs.root / "dbt-target"))
        patch.setenv("GX_ANALYTICS_ENABLED", "False")
        patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        yield dirs


INPUT_TABLES = (
    "raw.orders",
    "raw.depots",
    "raw.vehicle_types",
    "raw.vehicles",
    "marts.fct_orders_to_plan",
    "marts.fct_vehicle_days",
    "marts.dim_depots",
)
# Plan marts show the date's current plan: after a re-run the same routes under the new version's plan_id.
PLAN_MARTS = (
    "marts.fct_planned_routes",
    "marts.fct_planned_stops",
    "marts.fct_plan_unassigned",
    "marts.fct_plan_kpis",
)
RAW_AND_MART_TABLES = INPUT_TABLES + PLAN_MARTS
E2E_BUDGET_S = 5.0
E2E_SOLVER_SEED = 0


def table_rows(warehouse: Path, table: str) -> list[tuple]:
    """All rows of a warehouse table, sorted; plan marts without their plan_id."""
    columns = "* exclude (plan_id)" if table in PLAN_MARTS else "*"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return sorted(conn.execute(f"select {columns} from {table}").fetchall(), key=repr)


@dataclass(frozen=True)
class DemoPipeline:
    """Two runs of the real demo job for the same date and seed, with the tables captured after each."""

    dirs: DataDirs
    first: object
    second: object
    after_first: dict[str, list[tuple]]
    after_second: dict[str, list[tuple]]
    snapshot_after_first: str | None


@pytest.fixture(scope="session")
def demo_pipeline(pipeline_env: DataDirs) -> DemoPipeline:
    """The `demo_daily` job materialised in-process on the small world, twice (the second is a re-run)."""
    prime_dbt_parse([(pipeline_env.warehouse, pipeline_env.root / "dbt-target")], E2E_SERVICE_DATE)
    first = run_day(E2E_SERVICE_DATE, E2E_BUDGET_S, E2E_SOLVER_SEED)
    assert first.success, "first run failed"
    after_first = {t: table_rows(pipeline_env.warehouse, t) for t in RAW_AND_MART_TABLES}
    snapshot_after_first = current_snapshot_id(pipeline_env.serving)
    second = run_day(E2E_SERVICE_DATE, E2E_BUDGET_S, E2E_SOLVER_SEED)
    assert second.success, "second run failed"
    after_second = {t: table_rows(pipeline_env.warehouse, t) for t in RAW_AND_MART_TABLES}
    return DemoPipeline(pipeline_env, first, second, after_first, after_second, snapshot_after_first)
