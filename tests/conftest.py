"""Shared fixtures: an isolated data folder per test session and the real pipeline run on the small world."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    return DataDirs(root, root / "landing", root / "warehouse.duckdb", root / "serving", root / "dagster_home")


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest, built by `dbt parse` as in `make manifest` (dagster-dbt loads it at import)."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet", "--profiles-dir", ".", "--project-dir", "."],
        cwd=DBT_PROJECT_DIR,
        env=env,
        check=True,
    )
    return DBT_PROJECT_DIR / "target" / "manifest.json"


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
        patch.setenv("GX_ANALYTICS_ENABLED", "False")
        patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        yield dirs
