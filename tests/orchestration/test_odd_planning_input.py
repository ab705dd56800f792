"""Odd and infeasible planning input through the real `daily_planning` job: the plan is still produced, and every
order the dispatcher sent is either on a route or unassigned with the reason code that names its problem.

Hand-written landing files for three depots in Liechtenstein, in their own data folder:

* D-SCHAAN (one 800 kg van): four small orders, three 350 kg orders (one more than the van carries), an order
  in Zurich (76 km) and one in Vienna (527 km), an order of 1.2 t and one needing refrigeration.
* D-TRIESEN (two vans): two orders with windows no shift reaches (03:00-04:00, before the depot opens;
  22:00-23:00, after it closes) and one ordinary order.
* D-BALZERS: no vehicle in vehicles.csv. Its three orders go to the nearest depot with vehicles (Triesen) and are
  planned from there.

Tuesday 2026-03-03 is a working day; on Sunday 2026-03-08 no van works, so every order in the area is
NO_VEHICLE (and the Zurich and Vienna orders still OUTSIDE_AREA).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.checks import validate_stored_plan
from orchestration.cli import run_day
from orchestration.landing import LANDING_COLUMNS

pytestmark = pytest.mark.e2e

WORKDAY = "2026-03-03"  # a Tuesday
SUNDAY = "2026-03-08"
BUDGET_S = 10.0
SEED = 0
MAX_ITERS = 400  # deterministic: the iteration cap, not the time budget, ends each search

DEPOTS = [
    ("D-SCHAAN", "Verteilzentrum Schaan", "Industriestrasse 26", "9494", "Schaan", 47.159, 9.500),
    ("D-TRIESEN", "Verteilzentrum Triesen", "Industriestrasse 5", "9495", "Triesen", 47.112, 9.514),
    ("D-BALZERS", "Verteilzentrum Balzers", "Neugrütt 1", "9496", "Balzers", 47.066, 9.503),
]
VEHICLES = [
    ("V-SCH-01", "D-SCHAAN"),
    ("V-TRI-01", "D-TRIESEN"),
    ("V-TRI-02", "D-TRIESEN"),
]


@dataclass(frozen=True)
class LandingOrder:
    """One row of an order file; ``window`` in local HH:MM, None for any time."""

    order_id: str
    lat: float
    lon: float
    weight_kg: float = 5.0
    window: tuple[str, str] | None = None
    required_skills: str = ""


SCHAAN, TRIESEN, BALZERS = (47.163, 9.507), (47.108, 9.522), (47.064, 9.506)


def _near(spot: tuple[float, float], k: int) -> tuple[float, float]:
    return spot[0] + 0.002 * k, spot[1] - 0.002 * k


ORDERS = [
    *(LandingOrder(f"SMALL-{k}", *_near(SCHAAN, k)) for k in range(1, 5)),
    *(LandingOrder(f"LOAD-{k}", *_near(SCHAAN, k), weight_kg=350.0) for k in range(1, 4)),
    LandingOrder("ZURICH", 47.3769, 8.5417),
    LandingOrder("VIENNA", 48.2082, 16.3738),
    LandingOrder("PIANO", *_near(SCHAAN, 5), weight_kg=1200.0),
    LandingOrder("FRIDGE", *_near(SCHAAN, 6), required_skills="refrigerated"),
    LandingOrder("NIGHT", *_near(TRIESEN, 1), window=("03:00", "04:00")),
    LandingOrder("LATE", *_near(TRIESEN, 2), window=("22:00", "23:00")),
    LandingOrder("TRIESEN-1", *_near(TRIESEN, 3), window=("10:00", "12:00")),
    *(LandingOrder(f"BALZERS-{k}", *_near(BALZERS, k)) for k in range(1, 4)),
]

# Expected outcome per order on the working day: None = planned; LOAD-* are checked as a group.
EXPECTED_ON_WORKDAY = {
    "SMALL-1": None,
    "SMALL-2": None,
    "SMALL-3": None,
    "SMALL-4": None,
    "ZURICH": "OUTSIDE_AREA",
    "VIENNA": "OUTSIDE_AREA",
    "PIANO": "TOO_HEAVY",
    "FRIDGE": "NO_SKILLED_VEHICLE",
    "NIGHT": "WINDOW_UNREACHABLE",
    "LATE": "WINDOW_UNREACHABLE",
    "TRIESEN-1": None,
    "BALZERS-1": None,
    "BALZERS-2": None,
    "BALZERS-3": None,
}
LOADS = ("LOAD-1", "LOAD-2", "LOAD-3")


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_landing(landing: Path) -> None:
    _write_csv(
        landing / "master" / "depots.csv",
        LANDING_COLUMNS["depots"],
        [[*depot, "06:00", "21:30", "Europe/Vaduz"] for depot in DEPOTS],
    )
    _write_csv(
        landing / "master" / "vehicle_types.csv",
        LANDING_COLUMNS["vehicle_types"],
        [["van", "Delivery van, 3.5 t class", 800.0, 10000.0, 32.0, 0.32, 42.0, 45.0, ""]],
    )
    _write_csv(
        landing / "master" / "vehicles.csv",
        LANDING_COLUMNS["vehicles"],
        [
            [vehicle_id, depot_id, "van", "08:00", "17:00", "Mon Tue Wed Thu Fri Sat"]
            for vehicle_id, depot_id in VEHICLES
        ],
    )
    for service_date in (WORKDAY, SUNDAY):
        rows = []
        for n, order in enumerate(ORDERS, start=1):
            window = ("", "")
            if order.window:
                window = tuple(f"{service_date}T{hhmm}:00+01:00" for hhmm in order.window)
            rows.append(
                [
                    order.order_id,
                    f"C-{n:04d}",
                    service_date,
                    "delivery",
                    f"Teststrasse {n}",
                    "9490",
                    "Vaduz",
                    order.lat,
                    order.lon,
                    "house",
                    1,
                    order.weight_kg,
                    20.0,
                    *window,
                    "normal",
                    order.required_skills,
                    "",
                    "2026-03-01T12:00:00Z",
                ]
            )
        _write_csv(
            landing / "orders" / f"orders_{service_date}.csv",
            LANDING_COLUMNS["orders"],
            rows,
        )


@dataclass(frozen=True)
class OddRuns:
    """The `daily_planning` job run on the odd landing files for a working day and a Sunday."""

    warehouse: Path
    results: dict[str, object]


@pytest.fixture(scope="module")
def odd_runs(tmp_path_factory, dbt_manifest) -> OddRuns:
    """Own data folder and LASTMILE_* environment (as tests/conftest.py's pipeline_env), both dates planned."""
    root = tmp_path_factory.mktemp("odd-planning-input")
    landing, warehouse, serving, dagster_home = (
        root / "landing",
        root / "warehouse.duckdb",
        root / "serving",
        root / "dagster_home",
    )
    dagster_home.mkdir(parents=True)
    _write_landing(landing)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LASTMILE_DATA_DIR", str(root))
        patch.setenv("LASTMILE_LANDING_DIR", str(landing))
        patch.setenv("LASTMILE_WAREHOUSE", str(warehouse))
        patch.setenv("LASTMILE_SERVING_DIR", str(serving))
        patch.setenv("LASTMILE_DEMO_SCALE", "small")
        patch.setenv("LASTMILE_DEMO_SEED", "7")
        patch.setenv("DAGSTER_HOME", str(dagster_home))
        patch.setenv("GX_ANALYTICS_ENABLED", "False")
        patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        results = {
            service_date: run_day(service_date, BUDGET_S, SEED, job_name="daily_planning", max_iters=MAX_ITERS)
            for service_date in (WORKDAY, SUNDAY)
        }
    return OddRuns(warehouse, results)


def _outcomes(warehouse: Path, service_date: str) -> tuple[dict[str, str | None], dict[str, str]]:
    """Per order of the date's current plan: None when planned, else its reason code; and the reason texts."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        planned = conn.execute(
            "select order_id from marts.fct_planned_stops where service_date = ?", [service_date]
        ).fetchall()
        unassigned = conn.execute(
            "select order_id, reason_code, reason from marts.fct_plan_unassigned where service_date = ?",
            [service_date],
        ).fetchall()
    ids = [order_id for (order_id,) in planned] + [order_id for order_id, _, _ in unassigned]
    assert len(ids) == len(set(ids)), "an order is in the plan twice"
    outcome = {order_id: None for (order_id,) in planned}
    outcome.update({order_id: code for order_id, code, _ in unassigned})
    return outcome, {order_id: reason for order_id, _, reason in unassigned}


@pytest.mark.parametrize("service_date", [WORKDAY, SUNDAY])
def test_the_run_succeeds_and_the_stored_plan_is_valid(odd_runs, service_date):
    """The job succeeds, its blocking plan check passes, and the stored plan re-validates without a violation."""
    result = odd_runs.results[service_date]
    assert result.success
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert [c.passed for c in checks if c.check_name == "plan_is_valid"] == [True]
    with duckdb.connect(str(odd_runs.warehouse), read_only=True) as conn:
        plan_id, status = conn.execute(
            "select plan_id, status from plans.plan_runs where service_date = ? and kind = 'daily'", [service_date]
        ).fetchone()
        assert status == "valid"
        assert validate_stored_plan(conn, plan_id, service_date) == []


def test_every_order_of_the_file_is_planned_or_has_the_expected_reason(odd_runs):
    """Working day: far-away, too heavy, unskilled and unreachable orders carry their code; the rest is planned,
    except the one 350 kg order the full Schaan van cannot take (FLEET_CAPACITY)."""
    outcome, reasons = _outcomes(odd_runs.warehouse, WORKDAY)
    assert set(outcome) == {order.order_id for order in ORDERS}
    assert {order_id: outcome[order_id] for order_id in EXPECTED_ON_WORKDAY} == EXPECTED_ON_WORKDAY
    assert sorted(outcome[order_id] or "planned" for order_id in LOADS) == ["FLEET_CAPACITY", "planned", "planned"]
    assert all(reasons.values())
    assert "lies 527 km from depot D-SCHAAN" in reasons["VIENNA"]
    assert "check the address" in reasons["ZURICH"]


def test_a_depot_without_vehicles_hands_its_orders_to_the_nearest_depot_with_some(odd_runs):
    """Balzers has no vehicle in vehicles.csv: its orders are planned from Triesen, on Triesen's vans, and Balzers
    gets no solve of its own."""
    with duckdb.connect(str(odd_runs.warehouse), read_only=True) as conn:
        depots = conn.execute(
            "select order_id, depot_id from marts.fct_orders_to_plan where service_date = ? and order_id like 'BALZ%'",
            [WORKDAY],
        ).fetchall()
        vehicles = conn.execute(
            "select distinct vehicle_id from marts.fct_planned_stops where service_date = ? and order_id like 'BALZ%'",
            [WORKDAY],
        ).fetchall()
        solved = conn.execute(
            "select s.depot_id from plans.solves s join plans.plan_runs p using (plan_id) where p.service_date = ?",
            [WORKDAY],
        ).fetchall()
    assert sorted(depots) == [(f"BALZERS-{k}", "D-TRIESEN") for k in (1, 2, 3)]
    assert {vehicle_id for (vehicle_id,) in vehicles} <= {"V-TRI-01", "V-TRI-02"}
    assert sorted(depot_id for (depot_id,) in solved) == ["D-SCHAAN", "D-TRIESEN"]


def test_without_any_vehicle_every_order_is_no_vehicle(odd_runs):
    """Sunday: no van works, so every order stays with its nearest depot and is NO_VEHICLE, except the far
    away ones, which are OUTSIDE_AREA whatever the fleet."""
    outcome, reasons = _outcomes(odd_runs.warehouse, SUNDAY)
    far = {"ZURICH", "VIENNA"}
    assert outcome == {o.order_id: "OUTSIDE_AREA" if o.order_id in far else "NO_VEHICLE" for o in ORDERS}
    assert "depot D-BALZERS has no vehicles" in reasons["BALZERS-1"]
