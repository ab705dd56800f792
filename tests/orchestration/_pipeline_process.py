"""The pipeline's command line in a child process, for tests that kill it or run it next to something else.

The child gets its own data folder through the ``LASTMILE_*``, ``DAGSTER_HOME`` and ``DBT_TARGET_PATH`` variables,
runs in that folder (never writing into the working directory) and in its own session, so a kill takes its whole
process group: the Dagster run, the dbt subprocess and the solver's worker processes, as when a container or
machine dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import E2E_SEED, REPO_ROOT
from tests.conftest import prime_dbt_parse as prime_parse

# A child that never reaches its kill point nor ends is killed after this long, so a hang fails the test instead
# of stalling the suite (a safety net, not an assertion).
WATCHDOG_S = 600.0


@dataclass(frozen=True)
class DataFolder:
    """One pipeline's files: landing zone, warehouse, serving store and Dagster instance."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt-target"

    def env(self) -> dict[str, str]:
        """The environment of a pipeline process writing this folder (small demo world).

        dbt's per-invocation target folders go into this folder too (``DBT_TARGET_PATH``, which dagster-dbt
        honours), not into the project's ``target/``.
        """
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "LASTMILE_DATA_DIR": str(self.root),
            "LASTMILE_LANDING_DIR": str(self.landing),
            "LASTMILE_WAREHOUSE": str(self.warehouse),
            "LASTMILE_SERVING_DIR": str(self.serving),
            "LASTMILE_DEMO_SCALE": "small",
            "LASTMILE_DEMO_SEED": str(E2E_SEED),
            "DAGSTER_HOME": str(self.dagster_home),
            "DBT_TARGET_PATH": str(self.dbt_target),
            "GX_ANALYTICS_ENABLED": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
        }


@dataclass(frozen=True)
class ChildResult:
    """How a child ended: its exit code (negative: killed by that signal) and every line it wrote."""

    returncode: int
    lines: list[str]
    killed_at: str | None


def start_cli(folder: DataFolder, arguments: Sequence[str], log: Path) -> subprocess.Popen:
    """Start ``python -m orchestration.cli <arguments>`` on ``folder``; stdout and stderr go to one pipe."""
    command = [sys.executable, "-u", "-m", "orchestration.cli", *arguments]
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        command,
        cwd=folder.root,
        env=folder.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (no clean-up code of any process in it runs)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def follow(
    process: subprocess.Popen,
    log: Path,
    kill_when: Callable[[str], bool] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> ChildResult:
    """Read the child's output line by line into ``log``; SIGKILL its group at the first line ``kill_when`` accepts.

    Returns once the child is gone, with every line it wrote.
    """
    watchdog = threading.Timer(WATCHDOG_S, kill_group, [process])
    watchdog.start()
    lines: list[str] = []
    killed_at = None
    try:
        with log.open("a", encoding="utf-8") as sink:
            for line in process.stdout:
                lines.append(line)
                sink.write(line)
                if on_line is not None:
                    on_line(line)
                if kill_when is not None and killed_at is None and kill_when(line):
                    killed_at = line.strip()
                    sink.write("### SIGKILL to the process group here\n")
                    kill_group(process)
                    break
        returncode = process.wait()
        # The group may hold processes that outlived the leader (dbt, solver workers): none may keep writing.
        kill_group(process)
    finally:
        watchdog.cancel()
        process.stdout.close()
    return ChildResult(returncode, lines, killed_at)


def step_started(step_key: str) -> Callable[[str], bool]:
    """Matches Dagster's STEP_START log line of ``step_key`` (logged at DEBUG)."""
    marker = f'Started execution of step "{step_key}"'
    return lambda line: marker in line



def prime_dbt_parse(folders: Sequence[DataFolder], service_date: str) -> None:
    """:func:`tests.conftest.prime_dbt_parse` for the dbt builds of runs on these folders."""
    prime_parse([(folder.warehouse, folder.dbt_target) for folder in folders], service_date)
