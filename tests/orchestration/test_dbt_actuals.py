"""dbt actuals: a hand-made execution day through `dbt build` into fct_deliveries, fct_route_days, fct_delivery_kpis.

A scratch warehouse gets master data, orders, a stored plan and what happened on the day (driver-app events,
GPS fixes with a duplicate and a spike, a rating, rain at 09:00); the real dbt project builds everything up to
the actuals marts, with its data tests and unit tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.landing import LANDING_COLUMNS, ensure_raw_schema
from orchestration.plan_store import ensure_plans_schema
from solver import Vehicle, route_cost_eur

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
DATE = "2026-03-10"  # a winter Tuesday (UTC + 1 h), not the unit-test fixture date: they must ignore the window
ACTUALS_MARTS = ("marts.fct_deliveries", "marts.fct_route_days", "marts.fct_delivery_kpis")

VAN = Vehicle(
    vehicle_id="V1",
    vehicle_type="van",
    capacity_weight_g=1_000_000,
    capacity_volume_cm3=5_000_000,
    shift_start_s=7 * 3600,
    shift_end_s=17 * 3600,
    speed_kmh=40.0,
    cost_per_km_eur=0.5,
    cost_per_hour_eur=30.0,
    cost_per_day_eur=50.0,
    skills=frozenset(),
)
FAILED_ATTEMPT_EUR = 4.5  # seeds/cost_model.csv
# One degree of latitude on the haversine sphere (R = 6371008.8 m), in km.
KM_PER_DEG_LAT = 6371008.8 * 3.141592653589793 / 180 / 1000


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Insert contract-shaped rows into ``raw.<table>`` (text columns, missing ones empty)."""
    columns = [c for c in LANDING_COLUMNS[table] if c != "service_date"]
    for line, row in enumerate(rows, start=1):
        values = [DATE] + [str(row.get(c, "")) for c in columns] + [f"{table}.csv", line]
        placeholders = ", ".join("?" for _ in values)
        conn.execute(
            f"insert into raw.{table} (service_date, {', '.join(columns)}, _source_file, _source_row) "
            f"values ({placeholders})",
            values,
        )


def _local(hhmm: str) -> str:
    """Local wall-clock time of the service date as ISO 8601 with the winter offset."""
    return f"{DATE}T{hhmm}:00+01:00"


def _utc(hhmm_local: str) -> str:
    """The UTC instant of a local wall-clock time of the service date (winter: one hour earlier)."""
    hours, minutes = hhmm_local.split(":")[:2]
    seconds = hhmm_local.split(":")[2] if hhmm_local.count(":") == 2 else "00"
    return f"{DATE}T{int(hours) - 1:02d}:{minutes}:{seconds}Z"


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _load_hand_made_day(conn: duckdb.DuckDBPyConnection) -> None:
    """One depot, two vans, five orders, the current plan and the day as it happened.

    Plan: V1 serves O1 (09:00-11:00), O2 (09:00-09:30), O3; V2 serves O4; O5 is unassigned.
    Day: V1 leaves 5 min late, reaches O1 early (08:50, waits: on time), O2 at 09:45 (15 min late, raining),
    never gets to O3; V2 finds nobody home at O4. GPS: V1 has a duplicate fix and a spike on a 0.01 deg leg;
    V2 drives one 0.02 deg leg.
    """
    ensure_raw_schema(conn)
    ensure_plans_schema(conn)
    _insert(conn, "depots", [{
        "depot_id": "D-TEST", "name": "Test", "street": "Street 1", "postcode": "9490", "town": "Vaduz",
        "lat": "47.14", "lon": "9.52", "opens": "07:00", "closes": "19:00", "timezone": "Europe/Vaduz",
    }])  # fmt: skip
    _insert(conn, "vehicle_types", [{
        "vehicle_type": "van", "description": "Van", "capacity_kg": "1000", "capacity_l": "5000",
        "avg_speed_kmh": "40", "cost_per_km_eur": "0.5", "cost_per_hour_eur": "30", "cost_per_day_eur": "50",
        "skills": "",
    }])  # fmt: skip
    _insert(conn, "vehicles", [
        {"vehicle_id": v, "depot_id": "D-TEST", "vehicle_type": "van", "shift_start": "07:00",
         "shift_end": "17:00", "work_days": "Mon Tue Wed Thu Fri"}
        for v in ("V1", "V2")
    ])  # fmt: skip
    windows = {"O1": ("09:00", "11:00"), "O2": ("09:00", "09:30"), "O3": ("08:00", "12:00"),
               "O4": ("08:00", "10:00"), "O5": ("08:00", "12:00")}  # fmt: skip
    towns = {"O1": "Vaduz", "O2": "Vaduz", "O3": "Schaan", "O4": "Schaan", "O5": "Triesen"}
    _insert(conn, "orders", [
        {"order_id": o, "customer_id": f"C-{o}", "service_date": DATE, "order_type": "delivery",
         "street": "Street", "postcode": "9490", "town": towns[o], "lat": "47.141", "lon": "9.521",
         "site_type": "house", "parcels": "1", "weight_kg": "2", "volume_l": "10",
         "window_start": _local(start), "window_end": _local(end), "priority": "normal",
         "created_at_utc": f"{DATE}T05:00:00Z"}
        for o, (start, end) in windows.items()
    ])  # fmt: skip

    conn.execute(
        "insert into plans.plan_runs (plan_id, service_date, kind, version, created_at_utc, seed, time_budget_s, "
        "parameters, runtime_s, objective, n_orders, n_assigned, n_unassigned, status) "
        "values ('P1', ?, 'daily', 1, now(), 0, 5, '{}', 1, 0, 5, 4, 1, 'valid')",
        [DATE],
    )
    routes = [  # vehicle, n_stops, start, end, distance_m
        ("V1", 3, "08:00", "11:00", 20_000),
        ("V2", 1, "08:00", "10:00", 10_000),
    ]
    for vehicle_id, n_stops, start, end, distance_m in routes:
        duration_s = _seconds(end) - _seconds(start)
        conn.execute(
            "insert into plans.routes (plan_id, depot_id, route_id, vehicle_id, vehicle_type, n_stops, start_s, end_s, "
            "distance_m, duration_s, weight_g, volume_cm3, cost_eur) "
            "values ('P1', 'D-TEST', ?, ?, 'van', ?, ?, ?, ?, ?, 2000, 10000, ?)",
            [f"D-TEST-{vehicle_id}", vehicle_id, n_stops, _seconds(start), _seconds(end), distance_m,
             duration_s, route_cost_eur(VAN, distance_m, duration_s)],
        )  # fmt: skip
    stops = [  # vehicle, sequence, order, arrival, service start, departure
        ("V1", 1, "O1", "08:53", "09:00", "09:05"),
        ("V1", 2, "O2", "09:20", "09:20", "09:25"),
        ("V1", 3, "O3", "10:00", "10:00", "10:05"),
        ("V2", 1, "O4", "08:40", "08:40", "08:45"),
    ]
    for vehicle_id, sequence, order_id, arrival, start, departure in stops:
        conn.execute(
            "insert into plans.stops (plan_id, route_id, vehicle_id, sequence, order_id, arrival_s, service_start_s, "
            "departure_s, wait_s, leg_distance_m, leg_duration_s) values ('P1', ?, ?, ?, ?, ?, ?, ?, ?, 1000, 120)",
            [f"D-TEST-{vehicle_id}", vehicle_id, sequence, order_id, _seconds(arrival), _seconds(start),
             _seconds(departure), _seconds(start) - _seconds(arrival)],
        )  # fmt: skip
    conn.execute("insert into plans.unassigned values ('P1', 'D-TEST', 'O5', 'no_capacity', 'No capacity left')")

    events = [  # vehicle, driver, order, type, local time, failure reason
        ("V1", "DR1", "", "depot_departure", "08:05", ""),
        ("V1", "DR1", "O1", "arrived", "08:50", ""),
        ("V1", "DR1", "O1", "delivered", "09:05", ""),
        ("V1", "DR1", "O2", "arrived", "09:45", ""),
        ("V1", "DR1", "O2", "delivered", "09:48", ""),
        ("V1", "DR1", "", "depot_return", "11:30", ""),
        ("V2", "DR2", "", "depot_departure", "08:00", ""),
        ("V2", "DR2", "O4", "arrived", "08:40", ""),
        ("V2", "DR2", "O4", "failed", "08:42", "not_home"),
        ("V2", "DR2", "", "depot_return", "10:00", ""),
    ]
    _insert(conn, "stop_events", [
        {"event_id": f"E{i}", "service_date": DATE, "vehicle_id": v, "driver_id": d, "order_id": o,
         "event_type": t, "ts_utc": _utc(hhmm), "lat": "47.141", "lon": "9.521", "failure_reason": reason,
         "attempt": "1" if o else ""}
        for i, (v, d, o, t, hhmm, reason) in enumerate(events)
    ])  # fmt: skip
    _insert(conn, "ratings", [
        {"order_id": "O1", "customer_id": "C-O1", "rating": "5", "comment": "", "rated_at_utc": f"{DATE}T12:00:00Z"}
    ])  # fmt: skip
    _insert(conn, "weather_observations", [
        {"observed_at_utc": _utc(f"{h:02d}:00"), "temperature_c": "3", "precipitation_mm": "1.5" if h == 9 else "0",
         "wind_kmh": "10", "condition": "rain" if h == 9 else "dry"}
        for h in range(7, 13)
    ])  # fmt: skip

    pings = [  # vehicle, local time, lat, lon
        ("V1", "08:10:00", 47.14, 9.52),
        ("V1", "08:10:00", 47.14, 9.52),  # exact duplicate
        ("V1", "08:10:30", 47.14, 9.60),  # spike: 6 km east and back within a minute
        ("V1", "08:11:00", 47.15, 9.52),
        ("V2", "08:10:00", 47.14, 9.52),
        ("V2", "08:12:00", 47.16, 9.52),
    ]
    for vehicle_id, hhmmss, lat, lon in pings:
        conn.execute(
            "insert into raw.pings values (?, ?, cast(? as timestamptz), ?, ?, 30, 0)",
            [DATE, vehicle_id, _utc(hhmmss), lat, lon],
        )


def _dbt(args: list[str], env: dict[str, str], target: Path) -> subprocess.CompletedProcess:
    """Run dbt in the project with its own target and log folders (nothing written into the repository)."""
    return subprocess.run(
        [str(DBT), *args, "--profiles-dir", ".", "--project-dir", ".",
         "--target-path", str(target / "target"), "--log-path", str(target / "logs")],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)


@dataclass(frozen=True)
class ActualsBuild:
    """The scratch warehouse after a full build and after a re-run of the date's window."""

    warehouse: Path
    first: dict[str, list[tuple]]
    second: dict[str, list[tuple]]


@pytest.fixture(scope="module")
def actuals_build(tmp_path_factory) -> ActualsBuild:
    """The hand-made day built by `dbt build --select +tag:actuals`, then re-run for the date's window."""
    root = tmp_path_factory.mktemp("dbt-actuals")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        _load_hand_made_day(conn)
    env = {**os.environ, "LASTMILE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    first_run = _dbt(["build"], env, root)
    assert first_run.returncode == 0, first_run.stdout[-6000:]
    first = {t: _rows(warehouse, t) for t in ACTUALS_MARTS}
    window = json.dumps({"min_date": DATE, "max_date": DATE})
    second_run = _dbt(["build", "--vars", window], env, root)
    assert second_run.returncode == 0, second_run.stdout[-6000:]
    second = {t: _rows(warehouse, t) for t in ACTUALS_MARTS}
    return ActualsBuild(warehouse, first, second)


def _query(build: ActualsBuild, sql: str) -> list[tuple]:
    with duckdb.connect(str(build.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_every_order_appears_exactly_once_with_its_outcome(actuals_build):
    """All five orders are in fct_deliveries once: delivered, delivered, not attempted, failed, unassigned."""
    rows = _query(actuals_build, "select order_id, outcome from marts.fct_deliveries order by order_id")
    assert rows == [
        ("O1", "delivered"), ("O2", "delivered"), ("O3", "not_attempted"), ("O4", "failed"), ("O5", "unassigned"),
    ]  # fmt: skip


def test_on_time_minutes_late_and_late_cause(actuals_build):
    """O1 arrived early and waited: on time. O2 arrived 15 min after its window closed, in the rain, after a
    5 min late departure (too small to explain it): weather. O4 failed inside its window: on time."""
    rows = _query(
        actuals_build,
        "select order_id, is_on_time, minutes_late, late_cause, eta_error_s, is_first_attempt_success, rating, "
        "driver_id, route_id from marts.fct_deliveries where order_id in ('O1', 'O2', 'O4') order by order_id",
    )
    assert rows == [
        ("O1", True, 0.0, None, -180, True, 5, "DR1", "D-TEST-V1"),
        ("O2", False, 15.0, "weather", 1500, True, None, "DR1", "D-TEST-V1"),
        ("O4", True, 0.0, None, 0, False, None, "DR2", "D-TEST-V2"),
    ]


def test_route_days_km_from_cleaned_pings_and_cost(actuals_build):
    """V1's km ignore the duplicate and the spike (one 0.01 deg leg); planned cost is the solver's route cost;
    actual cost = the same model on driven km and route time, plus the failed attempt for V2."""
    rows = _query(
        actuals_build,
        "select vehicle_id, actual_km, planned_km, departure_delay_min, stops_planned, stops_attempted, delivered, "
        "failed, planned_cost_eur, actual_cost_eur from marts.fct_route_days order by vehicle_id",
    )
    v1, v2 = rows
    assert v1[:8] == ("V1", round(0.01 * KM_PER_DEG_LAT, 3), 20.0, 5.0, 3, 2, 2, 0)
    assert v2[:8] == ("V2", round(0.02 * KM_PER_DEG_LAT, 3), 10.0, 0.0, 1, 1, 0, 1)
    assert v1[8] == pytest.approx(route_cost_eur(VAN, 20_000, 3 * 3600), abs=1e-9)
    assert v1[9] == pytest.approx(route_cost_eur(VAN, round(v1[1] * 1000), _seconds("11:30") - _seconds("08:05")))
    assert v2[9] == pytest.approx(route_cost_eur(VAN, round(v2[1] * 1000), 2 * 3600) + FAILED_ATTEMPT_EUR)


def test_depot_kpis(actuals_build):
    """Depot: 5 orders, 3 attempted, 2 delivered; on time 2 of 3; first-attempt success 2 of 3; cost per delivery
    = both vans' actual cost / 2 deliveries; one rating of 5."""
    (depot,) = _query(
        actuals_build,
        "select orders, attempted, delivered, failed, on_time_rate, first_attempt_success_rate, "
        "cost_per_delivery_eur, avg_rating, ratings from marts.fct_delivery_kpis where dimension = 'depot'",
    )
    (route_cost,) = _query(actuals_build, "select sum(actual_cost_eur) from marts.fct_route_days")[0]
    assert depot[:4] == (5, 3, 2, 1)
    assert depot[4] == pytest.approx(2 / 3) and depot[5] == pytest.approx(2 / 3)
    assert depot[6] == pytest.approx(route_cost / 2)
    assert depot[7:] == (5.0, 1)
    dimensions = _query(
        actuals_build,
        "select dimension, sum(orders) from marts.fct_delivery_kpis group by dimension order by dimension",
    )
    assert dimensions == [("depot", 5), ("driver", 5), ("hour", 5), ("zone", 5)]


def test_rerun_leaves_the_actuals_marts_identical(actuals_build):
    """Re-running the date's window (incremental: delete the window, insert again) gives the same rows."""
    for table in ACTUALS_MARTS:
        assert actuals_build.second[table] == actuals_build.first[table], table
        assert actuals_build.first[table], table
