"""Dagster resources: where the landing zone, the warehouse and the serving snapshots live.

Every location comes from an environment variable (``LASTMILE_*``, set by the Makefile or your deployment)
through ``dg.EnvVar``, so nothing is read at import time.
"""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import lastmile_dbt_project


class LandingZone(dg.ConfigurableResource):
    """The folder where source systems (or the demo world) drop their files."""

    landing_dir: str

    @property
    def path(self) -> Path:
        return Path(self.landing_dir)

    def orders_file(self, service_date: str) -> Path:
        return self.path / "orders" / f"orders_{service_date}.csv"

    def master_file(self, name: str) -> Path:
        return self.path / "master" / f"{name}.csv"

    def pings_file(self, service_date: str) -> Path:
        return self.path / "telematics" / f"pings_{service_date}.parquet"

    def execution_files(self, service_date: str) -> dict[str, Path]:
        """The driver-app, ratings and weather files of one service date, by raw table."""
        return {
            "stop_events": self.path / "events" / f"stop_events_{service_date}.csv",
            "ratings": self.path / "ratings" / f"ratings_{service_date}.csv",
            "weather_observations": self.path / "weather" / f"weather_{service_date}.csv",
            "weather_forecasts": self.path / "weather" / f"forecast_{service_date}.csv",
        }


class ServingStore(dg.ConfigurableResource):
    """The folder holding published serving snapshots, read by the dashboard."""

    serving_dir: str

    @property
    def path(self) -> Path:
        return Path(self.serving_dir)


class DemoWorld(dg.ConfigurableResource):
    """Size and seed of the embedded demo world (only the `demo` assets use it)."""

    scale: str = "default"
    seed: int = 7


class DataDocsSite(dg.ConfigurableResource):
    """Where the Great Expectations project lives: stored validation results and the Data Docs site."""

    data_dir: str

    @property
    def gx_dir(self) -> Path:
        return Path(self.data_dir) / "gx"


def dbt_executable() -> str:
    """dbt from this interpreter's environment (the venv), found without relying on PATH."""
    sibling = Path(sys.executable).with_name("dbt")
    return str(sibling) if sibling.exists() else "dbt"


def build_resources() -> dict[str, object]:
    """The resources of the one code location, each configured from ``LASTMILE_*`` environment variables."""
    return {
        "duckdb": DuckDBResource(database=dg.EnvVar("LASTMILE_WAREHOUSE")),
        "dbt": DbtCliResource(project_dir=lastmile_dbt_project, dbt_executable=dbt_executable()),
        "landing": LandingZone(landing_dir=dg.EnvVar("LASTMILE_LANDING_DIR")),
        "serving": ServingStore(serving_dir=dg.EnvVar("LASTMILE_SERVING_DIR")),
        "data_docs": DataDocsSite(data_dir=dg.EnvVar("LASTMILE_DATA_DIR")),
        "demo_world": DemoWorld(
            scale=dg.EnvVar("LASTMILE_DEMO_SCALE"),
            seed=dg.EnvVar.int("LASTMILE_DEMO_SEED"),
        ),
    }
