"""The `whatif` job end to end (docs/scenarios.md) on the small demo world.

One past date (played out by the `demo_history_day` job: it has actual deliveries) and one future date (planned by
`demo_daily` only) in a fresh warehouse; then the real `whatif` job, in-process as ``python -m orchestration.cli
whatif`` runs it: two scenarios of the past date (only vans, three per depot; no vans at all) and one of the future date
(wider windows, an earlier shift).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.assets.whatif import play_plan
from orchestration.cli import run_day, run_whatif, whatif_summary
from orchestration.plan_store import current_plan_id, read_plan
from orchestration.planning_inputs import prepare_problems
from orchestration.scenarios import ScenarioSpec
from orchestration.serving import current_snapshot_id
from simulator import build_world

pytestmark = pytest.mark.e2e

PAST = "2026-03-03"  # a Tuesday
FUTURE = "2026-03-04"
SEED = 7
RUN = {"max_iters": 300, "processes": 1}
DEPOTS = ("D-SCHAAN", "D-TRIESEN")
VEHICLE_TYPES = ("van", "small_truck", "refrigerated_van")  # the small world has one of each per depot


@dataclass(frozen=True)
class WhatIfDays:
    """The warehouse, the current plans before the what-ifs, and each what-if's spec and run summary."""

    root: Path
    warehouse: Path
    serving: Path
    current_before: dict[str, str]
    current_after: dict[str, str]
    runs: dict[str, tuple[ScenarioSpec, dg.ExecuteInProcessResult, dict]]


@pytest.fixture(scope="module")
def whatif_days(tmp_path_factory, dbt_manifest) -> WhatIfDays:
    """PAST played out and FUTURE planned in a fresh data folder, then three what-ifs run by the `whatif` job."""
    root = tmp_path_factory.mktemp("whatif-job")
    warehouse, serving = root / "warehouse.duckdb", root / "serving"
    specs = {
        # Only vans, three per depot, on a one-hour shift with every window the whole day: one van per depot
        # cannot serve its depot's orders in time, so the added vans drive.
        "more": ScenarioSpec(
            "vans only, three per depot, one-hour shift", PAST,
            {f"{depot}/{kind}": 3 if kind == "van" else 0 for depot in DEPOTS for kind in VEHICLE_TYPES},
            shift_start_s=8 * 3600, shift_end_s=9 * 3600, window_widen_min=720, time_budget_s=2.0, seed=1,
        ),
        "no_vans": ScenarioSpec(
            "no vans", PAST, {"D-SCHAAN/van": 0, "D-TRIESEN/van": 0}, time_budget_s=2.0, seed=1
        ),
        "future": ScenarioSpec(
            "wide windows, early shift", FUTURE, shift_start_s=7 * 3600, shift_end_s=18 * 3600,
            window_widen_min=30, time_budget_s=2.0, seed=1,
        ),
    }  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "LASTMILE_DATA_DIR": root, "LASTMILE_LANDING_DIR": root / "landing", "LASTMILE_WAREHOUSE": warehouse,
            "LASTMILE_SERVING_DIR": serving, "LASTMILE_DEMO_SCALE": "small", "LASTMILE_DEMO_SEED": SEED,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "GX_ANALYTICS_ENABLED": "False",
        }.items():  # fmt: skip
            patch.setenv(name, str(value))
        patch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral instance per run
        patch.delenv("LASTMILE_ROAD_NETWORK", raising=False)
        assert run_day(PAST, 2.0, 0, "demo_history_day", max_iters=300, log_level="ERROR").success
        assert run_day(FUTURE, 2.0, 0, "demo_daily", max_iters=300, log_level="ERROR").success
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            before = {d: current_plan_id(conn, d) for d in (PAST, FUTURE)}
        runs = {}
        for key, spec in specs.items():
            with dg.DagsterInstance.ephemeral() as instance:
                result = run_whatif(spec, "ERROR", instance, **RUN)
            runs[key] = (spec, result, whatif_summary(result) if result.success else {})
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            after = {d: current_plan_id(conn, d) for d in (PAST, FUTURE)}
    return WhatIfDays(root, warehouse, serving, before, after, runs)


def _snapshot_table(days: WhatIfDays, name: str) -> pd.DataFrame:
    return pq.read_table(days.serving / "snapshots" / current_snapshot_id(days.serving) / f"{name}.parquet").to_pandas()


def test_each_whatif_run_stores_a_valid_whatif_version_and_the_current_plans_stay(whatif_days):
    """Every run succeeds and stores a valid plan of kind whatif with the scenario's name and spec; the current
    plan of both dates is the one before the what-ifs."""
    with duckdb.connect(str(whatif_days.warehouse), read_only=True) as conn:
        for spec, result, summary in whatif_days.runs.values():
            assert result.success, spec.name
            kind, status, reason = conn.execute(
                "select kind, status, reason from plans.plan_runs where plan_id = ?", [summary["plan_id"]]
            ).fetchone()
            assert (kind, status, reason) == ("whatif", "valid", spec.name)
            stored = conn.execute(
                "select spec_json from plans.whatif_scenarios where plan_id = ?", [summary["plan_id"]]
            ).fetchone()[0]
            assert ScenarioSpec.from_json(stored) == spec
    assert None not in whatif_days.current_before.values()
    assert whatif_days.current_after == whatif_days.current_before


def test_the_scenarios_table_compares_each_date_with_its_current_plan_and_simulates_only_the_past(whatif_days):
    """The published scenarios file has, per date, the current plan ('Current plan', no params) and its what-ifs;
    the past date's rows all carry a simulated or actual outcome, the future date's none."""
    table = _snapshot_table(whatif_days, "scenarios")
    table["service_date"] = table["service_date"].astype(str)
    plan_ids = {key: summary["plan_id"] for key, (_, _, summary) in whatif_days.runs.items()}
    for service_date, whatifs in ((PAST, {"more", "no_vans"}), (FUTURE, {"future"})):
        rows = table[table.service_date == service_date].set_index("plan_id")
        assert set(rows.index) == {whatif_days.current_before[service_date], *(plan_ids[k] for k in whatifs)}
        current = rows.loc[whatif_days.current_before[service_date]]
        assert current["name"] == "Current plan" and pd.isna(current["params_json"])
        assert current["kind"] in ("daily", "replan")
        for key in whatifs:
            assert rows.loc[plan_ids[key], "kind"] == "whatif"
            assert ScenarioSpec.from_json(rows.loc[plan_ids[key], "params_json"]) == whatif_days.runs[key][0]
        sim = rows[[c for c in rows.columns if c.startswith("sim_")]]
        if service_date == PAST:
            assert sim.notna().all().all(), sim
            assert (rows.sim_delivered + rows.sim_failed + rows.sim_unserved == rows.n_orders).all()
            assert rows.sim_on_time_rate.between(0, 1).all()
        else:
            assert sim.isna().all().all(), sim
    assert table.projected_on_time_rate.between(0, 1).all()
    assert (table.n_assigned + table.n_unassigned == table.n_orders).all()


def test_fewer_vans_use_fewer_vehicles_and_none_of_them_a_van(whatif_days):
    """With no vans the what-if has two vehicles fewer available than the current plan, uses fewer vehicles than the
    scenario with only vans, three per depot (as many as the current fleet), and none of its routes is a van's;
    in the other, an added van drives (and is played in the simulation: its outcome is in the table)."""
    table = _snapshot_table(whatif_days, "scenarios").set_index("plan_id")
    routes = _snapshot_table(whatif_days, "scenario_routes")
    more, fewer = (whatif_days.runs[k][2]["plan_id"] for k in ("more", "no_vans"))
    current = whatif_days.current_before[PAST]
    assert table.loc[fewer, "n_vehicles_available"] == table.loc[current, "n_vehicles_available"] - 2
    assert table.loc[more, "n_vehicles_available"] == table.loc[current, "n_vehicles_available"]
    assert table.loc[fewer, "vehicles_used"] < table.loc[more, "vehicles_used"]
    assert "van" not in set(routes[routes.plan_id == fewer].vehicle_type)
    assert set(routes[routes.plan_id == more].vehicle_type) == {"van"}
    assert routes[routes.plan_id == more].vehicle_id.str.contains("-X").any(), "an added van is used"


def test_routes_and_stops_are_published_for_every_compared_plan_with_coordinates(whatif_days):
    """scenario_routes and scenario_stops hold every plan of the scenarios file; each stop has coordinates and is
    on a route of its plan; the fleet file lists the small world's fleet master."""
    table = _snapshot_table(whatif_days, "scenarios")
    routes = _snapshot_table(whatif_days, "scenario_routes")
    stops = _snapshot_table(whatif_days, "scenario_stops")
    assert set(routes.plan_id) == set(table.plan_id) == set(stops.plan_id)
    assert stops[["lat", "lon"]].notna().all().all()
    assert set(zip(stops.plan_id, stops.route_id, strict=True)) <= set(
        zip(routes.plan_id, routes.route_id, strict=True)
    )
    per_plan = stops.groupby("plan_id").size()
    assert (per_plan == table.set_index("plan_id").n_assigned.reindex(per_plan.index)).all()
    fleet = _snapshot_table(whatif_days, "fleet")
    world = build_world("small", SEED)
    expected = pd.Series([(v.depot_id, v.vehicle_type) for v in world.vehicles]).value_counts().sort_index()
    assert fleet.set_index(["depot_id", "vehicle_type"]).n_vehicles.sort_index().to_dict() == expected.to_dict()


def test_playing_the_current_plan_again_reproduces_the_days_actual_deliveries(whatif_days):
    """play_plan, the what-if simulation, plays the day under the conditions the history played it in: the current
    plan played again delivers and fails exactly the orders the day's actuals show."""
    with duckdb.connect(str(whatif_days.warehouse), read_only=True) as conn:
        problems = prepare_problems(conn, PAST).problems
        plans = list(read_plan(conn, whatif_days.current_before[PAST]).values())
        orders = conn.execute(
            "select order_id, customer_id, lat, lon, site_type, parcels from marts.fct_orders_to_plan "
            "where service_date = cast(? as date)",
            [PAST],
        ).fetchdf()
        actual = dict(
            conn.execute(
                "select outcome, count(*) from marts.fct_deliveries where service_date = cast(? as date) group by 1",
                [PAST],
            ).fetchall()
        )
    outcome = play_plan(build_world("small", SEED), dt.date.fromisoformat(PAST), orders, problems, plans, SEED, 0.0)
    assert (outcome["delivered"], outcome["failed"]) == (actual.get("delivered", 0), actual.get("failed", 0))


def test_rebuilt_plan_marts_never_make_a_whatif_current(whatif_days, tmp_path):
    """The newest valid what-if of a date is not its current plan once the plan marts are rebuilt: only daily and
    replan versions are ever current (it was marked current among the what-ifs, and showed as such on Data health)."""
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(whatif_days.warehouse.read_bytes())
    dbt_project = Path(__file__).resolve().parents[2] / "dbt_project"
    command = [
        str(Path(sys.executable).with_name("dbt")), "build", "--quiet", "--select", "dim_plan_versions",
        "--profiles-dir", ".", "--project-dir", ".", "--target-path", str(tmp_path / "target"),
        "--log-path", str(tmp_path / "logs"),
    ]  # fmt: skip
    env = {**os.environ, "LASTMILE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    dbt = subprocess.run(command, cwd=dbt_project, env=env, capture_output=True, text=True)
    assert dbt.returncode == 0, dbt.stdout[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select service_date::varchar, kind, plan_id from marts.dim_plan_versions where is_current"
        ).fetchall()
        n_whatif = conn.execute("select count(*) from marts.dim_plan_versions where kind = 'whatif'").fetchone()[0]
    assert n_whatif == sum(result.success for _, result, _ in whatif_days.runs.values())
    assert {kind for _, kind, _ in rows} <= {"daily", "replan"}
    assert {date: plan_id for date, _, plan_id in rows} == whatif_days.current_before
