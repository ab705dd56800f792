"""The learned travel-time model follows the world it learns from, with no code change.

Two demo worlds differ only in hidden truth: world B's rush hour is at 10:00-12:00 instead of 07:00-08:00 and
16:00-18:00, and its March is far rainier. Each world plays three days of naive plans in the execution simulator;
the landing files go through the real ingestion (`load_partition`) and the real dbt learning marts; the travel-time
model is fitted from `marts.fct_travel_observations` exactly as the model asset does. The learned peaks and the
learned rain must move the way the truth moved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.landing import load_partition
from orchestration.learning import factor_lookup, fit_travel_time
from orchestration.plan_store import ensure_plans_schema
from simulator import DEFAULT_CLIMATE, build_world, execute_plan, generate_orders, simulate_weather, write_execution
from simulator.landing import write_master_data, write_orders
from simulator.sweep_plan import nearest_neighbour_plan

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
DAYS = [dt.date(2026, 3, 3) + dt.timedelta(days=k) for k in range(3)]
SEED = 11

# World B: a late-morning peak and free-flowing evenings; three rain episodes a day in March instead of 0.5.
LATE_MORNING_PEAK = tuple(0.6 if 10 <= h < 12 else 1.0 for h in range(24))
RAINY_MARCH = DEFAULT_CLIMATE.with_month(3, 3.0)


def _learn(root: Path, world, climate) -> dict[str, dict[str, float]]:
    landing = root / "landing"
    write_master_data(world, landing)
    for day in DAYS:
        write_orders(world, day, landing, SEED)
        orders = generate_orders(world, day, SEED)
        routes, stops = nearest_neighbour_plan(world, day, orders)
        weather = simulate_weather(world, day, SEED, climate)
        execution = execute_plan(world, day, orders, routes, stops, SEED, weather=weather)
        write_execution(landing, day, execution, weather)

    warehouse = root / "warehouse.duckdb"
    master = {t: landing / "master" / f"{t}.csv" for t in ("depots", "vehicle_types", "vehicles")}
    with duckdb.connect(str(warehouse)) as conn:
        ensure_plans_schema(conn)
        for day in DAYS:
            iso = day.isoformat()
            # In the order of the pipeline's raw assets: references resolve against what is already loaded.
            load_partition(conn, master, iso, landing)
            load_partition(conn, {"orders": landing / "orders" / f"orders_{iso}.csv"}, iso, landing)
            execution = {
                "stop_events": landing / "events" / f"stop_events_{iso}.csv",
                "weather_observations": landing / "weather" / f"weather_{iso}.csv",
            }
            load_partition(conn, execution, iso, landing)
    env = {**os.environ, "LASTMILE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    window = json.dumps({"min_date": DAYS[0].isoformat(), "max_date": DAYS[-1].isoformat()})
    build = subprocess.run(
        [str(DBT), "build", "--select", "+fct_travel_observations", "--indirect-selection", "cautious",
         "--vars", window, "--profiles-dir", ".", "--project-dir", ".",
         "--target-path", str(root / "target"), "--log-path", str(root / "logs")],
        cwd=REPO / "dbt_project", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-6000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        legs = conn.execute("select * from marts.fct_travel_observations").fetchdf()
    factors = fit_travel_time(legs).tables["travel_time_factors"]
    weather_n = factors[factors["term"] == "weather"].set_index("key")["n_samples"].to_dict()
    return {
        "hour": factor_lookup(factors, "hour"),
        "weather": factor_lookup(factors, "weather"),
        "weather_n": {k: float(v) for k, v in weather_n.items()},
    }


@pytest.fixture(scope="module")
def learned(tmp_path_factory) -> dict[str, dict]:
    base = build_world("default", SEED)
    shifted = dataclasses.replace(base, truth=dataclasses.replace(base.truth, speed_factor_by_hour=LATE_MORNING_PEAK))
    return {
        "a": _learn(tmp_path_factory.mktemp("world-a"), base, DEFAULT_CLIMATE),
        "b": _learn(tmp_path_factory.mktemp("world-b"), shifted, RAINY_MARCH),
    }


def test_the_learned_rush_hours_move_with_the_world(learned):
    """World A is slowest at 07-08 and 17; world B at 10-11. The learned hour factors say the same."""
    a, b = learned["a"]["hour"], learned["b"]["hour"]
    # Truth: A at 10-11 is 1.0 / 0.95, B 0.6; A at 17 is 0.72, B 1.0.
    assert np.mean([b["10"], b["11"]]) < np.mean([a["10"], a["11"]]) - 0.15
    assert a["17"] < b["17"] - 0.1
    slowest_b = min(range(8, 19), key=lambda h: b[str(h)])
    assert slowest_b in (10, 11)
    slowest_a = min(range(8, 19), key=lambda h: a[str(h)])
    assert slowest_a in (16, 17, 18)


def test_a_rainier_month_is_learned_as_slower_and_better_supported(learned):
    """More rain hours in world B: more rain samples, and rain learned as clearly slower than dry (truth 0.87)."""
    a, b = learned["a"], learned["b"]
    assert b["weather_n"].get("rain", 0) > 2 * a["weather_n"].get("rain", 0)
    assert b["weather"]["rain"] < b["weather"]["dry"] * 0.95
