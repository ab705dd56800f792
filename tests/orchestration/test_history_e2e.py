"""End to end: demo history over two days, twice: plan -> execution -> ingestion -> actuals -> KPIs.

Real parts only (simulator files, DuckDB file, dbt build, PyVRP, Dagster job), on the small world.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.cli import run_history
from simulator import build_world, execute_plan, simulate_weather
from tests.conftest import E2E_SEED, table_rows
from tests.dashboard.conftest import APP_PATH, app_test
from tests.orchestration._pipeline_process import DataFolder, prime_dbt_parse

pytestmark = pytest.mark.e2e

HISTORY_END = dt.date(2026, 3, 11)  # a Wednesday; the two days are Tue 10 and Wed 11 March
HISTORY_DATES = ("2026-03-10", "2026-03-11")
ACTUALS_TABLES = (
    "raw.pings", "raw.stop_events", "raw.ratings", "raw.weather_observations", "raw.weather_forecasts",
    "marts.fct_deliveries", "marts.fct_route_days", "marts.fct_delivery_kpis",
    "marts.fct_travel_observations", "marts.fct_stop_attempts",
    "models.travel_time_factors", "models.service_times", "models.availability", "models.recommended_windows",
)  # fmt: skip


@pytest.fixture(scope="module")
def history(tmp_path_factory, dbt_manifest):
    """Two days of small-world history built twice into one fresh data folder; tables captured after each."""
    root = tmp_path_factory.mktemp("lastmile-history")
    warehouse = root / "warehouse.duckdb"
    env = {
        "LASTMILE_DATA_DIR": str(root),
        "LASTMILE_LANDING_DIR": str(root / "landing"),
        "LASTMILE_WAREHOUSE": str(warehouse),
        "LASTMILE_SERVING_DIR": str(root / "serving"),
        "LASTMILE_DEMO_SCALE": "small",
        "LASTMILE_DEMO_SEED": str(E2E_SEED),
        "DAGSTER_HOME": str(root / "dagster_home"),
        # dbt's target folders go into the data folder, where a saved parse lets the first day's dbt builds skip
        # parsing the project (see prime_dbt_parse); the second day's builds parse in full (other vars).
        "DBT_TARGET_PATH": str(root / "dbt-target"),
    }
    (root / "dagster_home").mkdir()
    prime_dbt_parse([DataFolder(root)], HISTORY_DATES[0])
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert run_history(2, HISTORY_END, time_budget_s=20.0, seed=0, max_iters=150) == 0
        first = {t: table_rows(warehouse, t) for t in ACTUALS_TABLES}
        assert run_history(2, HISTORY_END, time_budget_s=20.0, seed=0, max_iters=150) == 0
        second = {t: table_rows(warehouse, t) for t in ACTUALS_TABLES}
    return {"root": root, "warehouse": warehouse, "first": first, "second": second}


def test_backfilling_the_range_twice_gives_identical_tables(history):
    """Raw execution tables and the actuals marts are the same after the second backfill of the range."""
    for table in ACTUALS_TABLES:
        assert history["first"][table], f"{table} is empty"
        assert history["second"][table] == history["first"][table], table


def test_each_day_trains_model_versions_and_the_next_plan_uses_them(history):
    """Day 1 trains version @day1 of each model; day 2's plan records those versions and is re-timed with them;
    day 1's plan had no history and records none."""
    with duckdb.connect(str(history["warehouse"]), read_only=True) as conn:
        versions = conn.execute(
            "select model, version, n_samples from models.model_versions order by model, version"
        ).fetchall()
        plans = conn.execute(
            "select service_date::varchar, travel_model_version, service_model_version, availability_model_version "
            "from marts.dim_plan_versions where is_current order by service_date"
        ).fetchall()
        late = conn.execute(
            # Lateness counts from the end of the window service starts in (a second, evening window after the
            # first): the demo world gives about 5% of orders one.
            "select count(*) filter (where late_s <> case when service_start_s >= tw2_start_s "
            "then greatest(service_start_s - tw2_end_s, 0) else greatest(service_start_s - tw_end_s, 0) end) "
            "from marts.fct_planned_stops"
        ).fetchone()[0]
    assert [(m, v) for m, v, _ in versions] == [
        (model, f"{model}@{day}") for model in ("availability", "service_time", "travel_time") for day in HISTORY_DATES
    ]
    assert all(n > 0 for _, _, n in versions)
    day1, day2 = HISTORY_DATES
    assert plans == [
        (day1, None, None, None),
        (day2, f"travel_time@{day1}", f"service_time@{day1}", f"availability@{day1}"),
    ]
    assert late == 0  # every stop that misses its window after re-timing carries its exact lateness


def test_deliveries_reconcile_with_the_orders(history):
    """fct_deliveries holds every order of each day exactly once, and each outcome is one of the four."""
    with duckdb.connect(str(history["warehouse"]), read_only=True) as conn:
        for service_date in HISTORY_DATES:
            orders = conn.execute(
                "select order_id from marts.fct_orders_to_plan where service_date = ? order by 1", [service_date]
            ).fetchall()
            deliveries = conn.execute(
                "select order_id from marts.fct_deliveries where service_date = ? order by 1", [service_date]
            ).fetchall()
            assert orders and deliveries == orders
        outcomes = {r[0] for r in conn.execute("select distinct outcome from marts.fct_deliveries").fetchall()}
    assert outcomes <= {"delivered", "failed", "not_attempted", "unassigned"} and "delivered" in outcomes


def test_kpis_exist_for_every_day_and_depot(history):
    """The KPI mart has a depot row per day and depot, with rates between 0 and 1."""
    with duckdb.connect(str(history["warehouse"]), read_only=True) as conn:
        rows = conn.execute(
            "select service_date::varchar, depot_id, on_time_rate, first_attempt_success_rate, cost_per_delivery_eur "
            "from marts.fct_delivery_kpis where dimension = 'depot' order by 1, 2"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(d, depot) for d in HISTORY_DATES for depot in ("D-SCHAAN", "D-TRIESEN")]
    for _, _, on_time, first_attempt, cost in rows:
        assert 0 <= on_time <= 1 and 0 <= first_attempt <= 1 and cost > 0


def test_actual_km_from_pings_is_within_two_percent_of_the_true_km(history):
    """Despite jitter, outliers, gaps, duplicates and disorder, km from cleaned pings match the truth within 2%."""
    service_date = HISTORY_DATES[0]
    world = build_world("small", E2E_SEED)
    landing = Path(os.fspath(history["root"])) / "landing"
    with duckdb.connect(str(history["warehouse"]), read_only=True) as conn:
        routes = conn.execute(
            "select route_id, vehicle_id, depot_id, start_s, end_s from marts.fct_planned_routes "
            "where service_date = ? order by route_id",
            [service_date],
        ).fetchdf()
        stops = conn.execute(
            "select route_id, vehicle_id, sequence, order_id, lat, lon, arrival_s, service_start_s, departure_s, "
            "tw_start_s, tw_end_s from marts.fct_planned_stops where service_date = ? order by route_id, sequence",
            [service_date],
        ).fetchdf()
        actual = dict(
            conn.execute(
                "select vehicle_id, actual_km from marts.fct_route_days where service_date = ?", [service_date]
            ).fetchall()
        )
    orders = pd.read_csv(landing / "orders" / f"orders_{service_date}.csv", dtype=str, keep_default_na=False)
    day = dt.date.fromisoformat(service_date)
    weather = simulate_weather(world, day, E2E_SEED)
    truth = execute_plan(world, day, orders, routes, stops, E2E_SEED, weather=weather).truth
    assert len(truth) == len(routes) > 0
    for row in truth.itertuples(index=False):
        assert actual[row.vehicle_id] == pytest.approx(row.true_km, rel=0.02), row.vehicle_id


def _open_page(page: str) -> AppTest:
    app = app_test(APP_PATH, 60).run()
    app.switch_page(page).run()
    return app


def test_performance_page_shows_the_history_kpis(history):
    """On the snapshot the history run published, the Performance page covers both days and its deliveries
    tile equals the delivered orders in fct_deliveries."""
    with duckdb.connect(str(history["warehouse"]), read_only=True) as conn:
        delivered = conn.execute("select count(*) from marts.fct_deliveries where outcome = 'delivered'").fetchone()[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LASTMILE_SERVING_DIR", str(history["root"] / "serving"))
        app = _open_page("app_pages/performance.py")
    assert not app.exception
    assert app.date_input(key="performance_dates").value == tuple(dt.date.fromisoformat(d) for d in HISTORY_DATES)
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Deliveries"] == str(delivered)


def test_plan_vs_actual_page_draws_planned_and_driven_paths(history):
    """The Plan vs actual page on the history snapshot draws a planned and a driven path for each vehicle."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LASTMILE_SERVING_DIR", str(history["root"] / "serving"))
        app = _open_page("app_pages/plan_vs_actual.py")
    assert not app.exception
    (chart,) = app.get("deck_gl_json_chart")
    spec = json.loads(chart.proto.json)
    paths = {layer["id"]: layer["data"] for layer in spec["layers"] if layer["@@type"] == "PathLayer"}
    planned = sorted(p["vehicle_id"] for p in paths["planned"])
    driven = sorted(p["vehicle_id"] for p in paths["driven"])
    assert planned and planned == driven
