"""Learning marts on real pipeline output: one small-world history day through the `demo_history_day` job.

fct_travel_observations (one row per leg driven) and fct_stop_attempts (one row per order attempted) are checked
against the plan the simulator drove, the deliveries mart and the route days; Dagster then builds the two marts for
the date once more (their part of the dbt actuals step), which must replace, not duplicate, the rows.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.cli import failure_report, run_day
from tests.conftest import DBT_PROJECT_DIR, E2E_SEED, prime_dbt_parse

pytestmark = pytest.mark.e2e

SERVICE_DATE = "2026-03-10"  # a winter Tuesday: weekday 1
LEARNING_MARTS = ("marts.fct_travel_observations", "marts.fct_stop_attempts")
ROAD_FACTOR = 1.3  # the planner's detour factor on great-circle metres
DBT = Path(sys.executable).with_name("dbt")
COVER_TEST = "assert_learning_legs_cover_route_days"


@dataclass(frozen=True)
class HistoryDay:
    """The warehouse after one history day, the learning marts after it and after a re-run of their dbt models,
    and whether the leg-cover check passed in each run."""

    root: Path
    warehouse: Path
    first: dict[str, list[tuple]]
    second: dict[str, list[tuple]]
    cover_checks: list[bool]


def _rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)  # fixed table names


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def history_day(tmp_path_factory, dbt_manifest) -> HistoryDay:
    """One small-world history day in a fresh data folder, then the date's learning marts built once more."""
    root = tmp_path_factory.mktemp("lastmile-learning")
    warehouse = root / "warehouse.duckdb"
    (root / "dagster_home").mkdir()
    env = {
        "LASTMILE_DATA_DIR": str(root),
        "LASTMILE_LANDING_DIR": str(root / "landing"),
        "LASTMILE_WAREHOUSE": str(warehouse),
        "LASTMILE_SERVING_DIR": str(root / "serving"),
        "LASTMILE_DEMO_SCALE": "small",
        "LASTMILE_DEMO_SEED": str(E2E_SEED),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "DBT_TARGET_PATH": str(root / "dbt-target"),
    }
    # The day's dbt builds and the rebuild of the marts (all for SERVICE_DATE) reuse one saved parse.
    prime_dbt_parse([(warehouse, root / "dbt-target")], SERVICE_DATE)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        day = run_day(SERVICE_DATE, 5.0, 0, "demo_history_day", 150, "ERROR")
        # the marts are built by the dbt actuals step; later steps (learned models, serving) are not under test here
        assert day.is_node_success("dbt_actuals"), failure_report(day)
        first = {t: _rows(warehouse, t) for t in LEARNING_MARTS}
        # imported here: dagster-dbt reads the manifest at import, which the dbt_manifest fixture has just built
        from orchestration.definitions import defs

        with dg.DagsterInstance.get() as instance:
            rerun = defs.resolve_job_def("demo_history_day").execute_in_process(
                partition_key=SERVICE_DATE,
                instance=instance,
                asset_selection=[dg.AssetKey(t.split(".")) for t in LEARNING_MARTS],
                raise_on_error=False,
            )
        assert rerun.success, failure_report(rerun)
        second = {t: _rows(warehouse, t) for t in LEARNING_MARTS}
    cover_checks = [
        evaluation.passed
        for result in (day, rerun)
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == COVER_TEST
    ]
    return HistoryDay(root, warehouse, first, second, cover_checks)


def test_rerunning_the_date_replaces_the_rows(history_day):
    """The second build of the date gives the same rows, and no leg or attempt appears twice."""
    for table in LEARNING_MARTS:
        assert history_day.first[table], f"{table} is empty"
        assert history_day.second[table] == history_day.first[table], table
    [(legs, distinct_legs)] = _query(
        history_day.warehouse,
        "select count(*), count(distinct (service_date, vehicle_id, leg_seq)) from marts.fct_travel_observations",
    )
    [(attempts, distinct_attempts)] = _query(
        history_day.warehouse, "select count(*), count(distinct (service_date, order_id)) from marts.fct_stop_attempts"
    )
    assert legs == distinct_legs > 0 and attempts == distinct_attempts > 0


def test_legs_follow_each_planned_route_from_depot_to_depot(history_day):
    """Per vehicle: one leg into every attempted stop plus one back per route; in leg order the vehicle goes from
    its depot through the planned stop sequence (the simulator drives the plan) and back to the depot."""
    legs = _query(
        history_day.warehouse,
        "select vehicle_id, from_order_id, to_order_id from marts.fct_travel_observations "
        "where service_date = ? order by vehicle_id, leg_seq",
        [SERVICE_DATE],
    )
    planned = _query(
        history_day.warehouse,
        "select vehicle_id, order_id from marts.fct_planned_stops where service_date = ? order by vehicle_id, sequence",
        [SERVICE_DATE],
    )
    routes = Counter(
        r[0]
        for r in _query(
            history_day.warehouse,
            "select vehicle_id from marts.fct_planned_routes where service_date = ?",
            [SERVICE_DATE],
        )
    )
    attempted = Counter(
        r[0]
        for r in _query(
            history_day.warehouse,
            "select vehicle_id from marts.fct_deliveries where service_date = ? and outcome in ('delivered', 'failed')",
            [SERVICE_DATE],
        )
    )
    by_vehicle: dict[str, list[tuple]] = defaultdict(list)
    for vehicle_id, from_order, to_order in legs:
        by_vehicle[vehicle_id].append((from_order, to_order))
    stops: dict[str, list[str]] = defaultdict(list)
    for vehicle_id, order_id in planned:
        stops[vehicle_id].append(order_id)

    assert set(by_vehicle) == set(routes) and routes
    for vehicle_id, vehicle_legs in by_vehicle.items():
        assert len(vehicle_legs) == attempted[vehicle_id] + routes[vehicle_id], vehicle_id
        path = [vehicle_legs[0][0]] + [to_order for _, to_order in vehicle_legs]
        assert path == [None, *stops[vehicle_id], None], vehicle_id
        assert all(a[1] == b[0] for a, b in itertools.pairwise(vehicle_legs)), vehicle_id


def test_legs_use_planning_coordinates_and_the_calendar_of_the_date(history_day):
    """Ends sit on the orders' geocodes and the vehicle's depot, not the events' GPS; weekday 1 (Tuesday)."""
    mismatched = _query(
        history_day.warehouse,
        """
        select legs.vehicle_id, legs.leg_seq
        from marts.fct_travel_observations as legs
        left join marts.fct_orders_to_plan as orders
            on legs.service_date = orders.service_date and legs.to_order_id = orders.order_id
        left join marts.dim_depots as depots on legs.depot_id = depots.depot_id
        where legs.service_date = ?
            and (legs.to_lat, legs.to_lon) is distinct from
                (coalesce(orders.lat, depots.lat), coalesce(orders.lon, depots.lon))
        """,
        [SERVICE_DATE],
    )
    assert mismatched == []
    weekdays = _query(
        history_day.warehouse,
        "select distinct weekday from marts.fct_travel_observations union select distinct weekday "
        "from marts.fct_stop_attempts",
    )
    assert weekdays == [(1,)]


def test_usable_legs_drive_about_the_planning_speed(history_day):
    """The implied speed of the usable legs (straight line x 1.3 over the duration) has a median within 0.5 .. 1.5
    of the vehicle type's planning speed, overall and per vehicle type; most legs are usable."""
    rows = _query(
        history_day.warehouse,
        "select vehicle_type, straight_m, duration_s, planning_speed_kmh, exclusion_reason "
        "from marts.fct_travel_observations where service_date = ?",
        [SERVICE_DATE],
    )
    ratios: dict[str, list[float]] = defaultdict(list)
    for vehicle_type, straight_m, duration_s, speed_kmh, reason in rows:
        if reason is None:
            ratios[vehicle_type].append(straight_m * ROAD_FACTOR / duration_s / (speed_kmh / 3.6))
    usable = [ratio for values in ratios.values() for ratio in values]
    assert len(usable) >= 0.8 * len(rows)
    assert 0.5 <= statistics.median(usable) <= 1.5
    for vehicle_type, values in ratios.items():
        assert 0.5 <= statistics.median(values) <= 1.5, vehicle_type


def test_driving_and_time_on_site_fill_each_route_day(history_day):
    """Per vehicle: the legs' durations plus time on site (waiting included) equal depot return - departure."""
    rows = _query(
        history_day.warehouse,
        """
        with legs as (
            select vehicle_id, sum(duration_s) as driving_s from marts.fct_travel_observations
            where service_date = ? group by vehicle_id
        ),
        on_site as (
            select vehicle_id, sum(completion_s - arrival_s) as on_site_s from marts.fct_stop_attempts
            where service_date = ? group by vehicle_id
        )
        select route_days.vehicle_id, legs.driving_s + on_site.on_site_s,
            route_days.actual_end_s - route_days.actual_start_s
        from marts.fct_route_days as route_days
        inner join legs using (vehicle_id)
        inner join on_site using (vehicle_id)
        where route_days.service_date = ?
        """,
        [SERVICE_DATE] * 3,
    )
    assert rows
    for vehicle_id, accounted_s, route_s in rows:
        assert accounted_s == route_s, vehicle_id


def test_stop_attempts_are_the_attempted_deliveries(history_day):
    """One attempt per order fct_deliveries shows as delivered or failed, with its outcome; service starts at
    arrival or when the window opens; every attempt was planned, so it has a planned stop time."""
    attempts = _query(
        history_day.warehouse,
        "select order_id, outcome, arrival_s, service_start_s, tw_start_s, planned_stop_s, is_success "
        "from marts.fct_stop_attempts where service_date = ? order by order_id",
        [SERVICE_DATE],
    )
    deliveries = _query(
        history_day.warehouse,
        "select order_id, outcome, is_first_attempt_success from marts.fct_deliveries "
        "where service_date = ? and outcome in ('delivered', 'failed') order by order_id",
        [SERVICE_DATE],
    )
    assert [(a[0], a[1], a[6]) for a in attempts] == deliveries and deliveries
    for order_id, _, arrival_s, service_start_s, tw_start_s, planned_stop_s, _ in attempts:
        assert service_start_s == max(arrival_s, tw_start_s), order_id
        assert planned_stop_s is not None and planned_stop_s > 0, order_id


def test_the_cover_check_passes_on_the_day_and_warns_when_an_event_is_lost(history_day, tmp_path):
    """assert_learning_legs_cover_route_days, a Dagster check of fct_travel_observations, passes in both runs of the
    day; once a delivered event is gone (the leg from that stop disappears) it warns, and the build still succeeds."""
    assert history_day.cover_checks == [True, True]
    copy = tmp_path / "copy" / "warehouse.duckdb"  # same file name: the views name the database
    copy.parent.mkdir()
    shutil.copy(history_day.warehouse, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute(
            "delete from raw.stop_events where event_id = "
            "(select min(event_id) from raw.stop_events where service_date = ? and event_type = 'delivered')",
            [SERVICE_DATE],
        )
    env = {**os.environ, "LASTMILE_WAREHOUSE": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    window = json.dumps({"min_date": SERVICE_DATE, "max_date": SERVICE_DATE})
    result = subprocess.run(
        [str(DBT), "build", "--select", "fct_travel_observations", COVER_TEST, "--vars", window,
         "--profiles-dir", ".", "--project-dir", ".",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    assert statuses[COVER_TEST] == "warn"
