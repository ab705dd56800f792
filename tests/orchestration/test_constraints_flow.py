"""Issue 6: every new solver constraint flows from the landing files through dbt to the plan and back.

A hand-made landing set for one Tuesday: two depots (D-A reloads in 15 min), a cargo bike at D-A that holds six
parcels and may reload once, a van that starts at D-A and ends at D-B with a break rule and paid overtime, a
shipment (pickup in Vaduz, delivery near D-B), an order with two windows, a mandatory and an optional order.
It goes through the real `load_partition` and the real `dbt build`; `read_problems` must hand the solver exactly
those constraints. Then the plan the solver makes is stored with `write_plan` and read back with `read_plan`:
trips, reloads, the break and the route's depots must survive the round trip.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.landing import load_partition
from orchestration.plan_store import ensure_plans_schema, read_plan, read_problems, write_plan
from solver import Plan, Problem, SolveConfig

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
DATE = "2026-03-03"  # a Tuesday in winter: offsets +01:00
MASTER = ("depots", "vehicle_types", "vehicles")

DEPOTS = [
    dict(depot_id="D-A", name="Depot A", street="Weg 1", postcode="9494", town="Schaan", lat="47.159", lon="9.5",
         opens="06:00", closes="21:30", timezone="Europe/Vaduz", reload_min="15"),
    dict(depot_id="D-B", name="Depot B", street="Weg 2", postcode="9495", town="Triesen", lat="47.112",
         lon="9.514", opens="06:00", closes="21:30", timezone="Europe/Vaduz", reload_min=""),
]  # fmt: skip
VEHICLE_TYPES = [
    dict(vehicle_type="van", description="Van, 3.5 t", capacity_kg="800", capacity_l="10000", avg_speed_kmh="32",
         cost_per_km_eur="0.32", cost_per_hour_eur="42", cost_per_day_eur="45", skills="", capacity_parcels="",
         max_reloads="", max_route_km="150", max_route_hours="10", max_overtime_min="60",
         overtime_cost_per_hour_eur="21", break_min="30", break_after_h="5"),
    dict(vehicle_type="cargo_bike", description="Cargo bike", capacity_kg="150", capacity_l="1000",
         avg_speed_kmh="16", cost_per_km_eur="0.04", cost_per_hour_eur="34", cost_per_day_eur="10",
         skills="pedestrian_zone", capacity_parcels="6", max_reloads="1", max_route_km="", max_route_hours="",
         max_overtime_min="", overtime_cost_per_hour_eur="", break_min="", break_after_h=""),
]  # fmt: skip
VEHICLES = [
    dict(vehicle_id="V-BIKE", depot_id="D-A", vehicle_type="cargo_bike", shift_start="08:00", shift_end="17:30",
         work_days="Mon Tue Wed Thu Fri", start_depot_id="", end_depot_id=""),
    dict(vehicle_id="V-VAN", depot_id="D-A", vehicle_type="van", shift_start="07:00", shift_end="16:00",
         work_days="Mon Tue Wed Thu Fri", start_depot_id="", end_depot_id="D-B"),
]  # fmt: skip


def _order(order_id: str, lat: float, lon: float, **fields: str) -> dict[str, str]:
    row = dict(
        order_id=order_id, customer_id=f"C-{order_id}", service_date=DATE, order_type="delivery",
        street="Landstrasse 1", postcode="9490", town="Vaduz", lat=str(lat), lon=str(lon), site_type="house",
        parcels="1", weight_kg="2", volume_l="10", window_start="", window_end="", priority="", required_skills="",
        notes="", created_at_utc="2026-03-02T10:00:00Z", window2_start="", window2_end="", shipment_id="",
        unserved_penalty_eur="",
    )  # fmt: skip
    row.update(fields)
    return row


def _at(hhmm: str) -> str:
    return f"{DATE}T{hhmm}:00+01:00"


# Bike-only orders (pedestrian zone) hold 2 + 3 + 2 + 2 = 9 parcels: the bike (6 parcels) must reload once.
ORDERS = [
    _order("O-TWO-WINDOWS", 47.1410, 9.5215, parcels="2", required_skills="pedestrian_zone",
           window_start=_at("09:00"), window_end=_at("11:00"), window2_start=_at("15:00"), window2_end=_at("16:00")),
    _order("O-MANDATORY", 47.1395, 9.5230, parcels="3", required_skills="pedestrian_zone", priority="mandatory"),
    _order("O-BIKE-1", 47.1420, 9.5200, parcels="2", required_skills="pedestrian_zone"),
    _order("O-BIKE-2", 47.1385, 9.5245, parcels="2", required_skills="pedestrian_zone"),
    _order("O-OPTIONAL", 47.1650, 9.5080, priority="optional", unserved_penalty_eur="5.5"),
    # Too heavy for the bike; its window keeps the van out past noon, when its break window opens.
    _order("O-NOON", 47.1500, 9.5150, weight_kg="200", volume_l="400", window_start=_at("12:30"),
           window_end=_at("13:30"), priority="high"),
    # A shipment: picked up in Vaduz, delivered near D-B; the pair goes to the pickup's depot (D-A).
    _order("O-SHIP-PICKUP", 47.1380, 9.5190, order_type="pickup", shipment_id="S-1", weight_kg="20"),
    _order("O-SHIP-DELIVERY", 47.1100, 9.5170, shipment_id="S-1", weight_kg="20"),
]  # fmt: skip


def write_csv(path: Path, rows: list[dict[str, str]], drop: tuple[str, ...] = ()) -> Path:
    """Write rows as a landing CSV (columns in ``drop`` left out, as an older export would)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [c for c in rows[0] if c not in drop]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_constraint_landing(landing: Path) -> dict[str, Path]:
    """The hand-made landing set of this module under ``landing``; table -> file."""
    return {
        "depots": write_csv(landing / "master" / "depots.csv", DEPOTS),
        "vehicle_types": write_csv(landing / "master" / "vehicle_types.csv", VEHICLE_TYPES),
        "vehicles": write_csv(landing / "master" / "vehicles.csv", VEHICLES),
        "orders": write_csv(landing / "orders" / f"orders_{DATE}.csv", ORDERS),
    }


def load_constraint_landing(conn: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Load the set as the raw assets do: master data first, then the orders."""
    files = write_constraint_landing(landing)
    load_partition(conn, {t: files[t] for t in MASTER}, DATE, landing)
    load_partition(conn, {"orders": files["orders"]}, DATE, landing)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, dbt_manifest) -> Path:
    """The hand-made set loaded and built by the real dbt planning-input models (with their tests)."""
    root = tmp_path_factory.mktemp("constraints")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        load_constraint_landing(conn, root / "landing")
        quarantined = conn.execute(
            "select count(*) from (select reason from quarantine.orders union all select reason from "
            "quarantine.vehicles union all select reason from quarantine.vehicle_types union all "
            "select reason from quarantine.depots)"
        ).fetchone()[0]
        assert quarantined == 0
        ensure_plans_schema(conn)
    env = {**os.environ, "LASTMILE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    build = subprocess.run(
        [str(DBT), "build", "--select", "+fct_orders_to_plan +fct_vehicle_days +dim_depots",
         "--indirect-selection", "cautious", "--vars", json.dumps({"min_date": DATE, "max_date": DATE}),
         "--profiles-dir", ".", "--project-dir", ".", "--target-path", str(root / "target"),
         "--log-path", str(root / "logs")],
        cwd=REPO / "dbt_project", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-6000:]
    return warehouse


@pytest.fixture(scope="module")
def problems(warehouse) -> dict[str, Problem]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {p.depot.depot_id: p for p in read_problems(conn, DATE)}


def test_depots_arrive_with_their_reload_time_and_the_van_brings_its_end_depot(problems):
    """One problem (D-B has no vehicle, so its orders go to D-A); D-B is in it as the van's end depot."""
    assert list(problems) == ["D-A"]
    problem = problems["D-A"]
    assert problem.depot.reload_s == 900
    assert [(d.depot_id, d.reload_s, d.opens_s, d.closes_s) for d in problem.depots] == [("D-B", 0, 21600, 77400)]


def test_vehicle_constraints_arrive_in_solver_units(problems):
    """Van: ends at D-B, 10 h / 150 km at most, 60 min overtime at 21 EUR/h, a 30-min break 12:00-14:00 (shift
    07:00 + 5 h, closing 2 h later). Bike: 6 parcels, 1 reload, no break (its type has none), no overtime."""
    vehicles = {v.vehicle_id: v for v in problems["D-A"].vehicles}
    van, bike = vehicles["V-VAN"], vehicles["V-BIKE"]
    assert (van.start_depot_id, van.end_depot_id) == (None, "D-B")
    assert (van.max_duration_s, van.max_distance_m) == (36_000, 150_000)
    assert (van.max_overtime_s, van.overtime_cost_per_hour_eur) == (3600, 21.0)
    assert (van.break_s, van.break_earliest_s, van.break_latest_s) == (1800, 43_200, 50_400)
    assert (van.capacity_parcels, van.max_reloads) == (None, 0)
    assert (bike.capacity_parcels, bike.max_reloads) == (6, 1)
    assert (bike.start_depot_id, bike.end_depot_id) == (None, None)
    assert (bike.break_s, bike.break_earliest_s, bike.break_latest_s) == (0, None, None)
    assert (bike.max_duration_s, bike.max_distance_m, bike.max_overtime_s) == (None, None, 0)
    assert bike.overtime_cost_per_hour_eur == 0.0


def test_order_constraints_arrive_in_solver_units(problems):
    """Second window 15:00-16:00 local, priorities, the own penalty, parcels, and the shipment at one depot."""
    orders = {o.order_id: o for o in problems["D-A"].orders}
    assert set(orders) == {o["order_id"] for o in ORDERS}
    two = orders["O-TWO-WINDOWS"]
    assert (two.tw_start_s, two.tw_end_s, two.extra_windows) == (32_400, 39_600, ((54_000, 57_600),))
    assert two.parcels == 2
    assert orders["O-MANDATORY"].priority == "mandatory"
    assert (orders["O-OPTIONAL"].priority, orders["O-OPTIONAL"].unserved_penalty_eur) == ("optional", 5.5)
    assert orders["O-NOON"].extra_windows == ()
    assert orders["O-NOON"].unserved_penalty_eur is None
    pickup, delivery = orders["O-SHIP-PICKUP"], orders["O-SHIP-DELIVERY"]
    assert (pickup.shipment_id, pickup.order_type) == ("S-1", "pickup")
    assert (delivery.shipment_id, delivery.order_type) == ("S-1", "delivery")
    assert orders["O-BIKE-1"].shipment_id is None


def test_the_shipment_delivery_goes_with_its_pickup_not_to_its_nearest_depot(warehouse):
    """The delivery lies 0.5 km from D-B and 5.4 km from D-A; the pair is planned from the pickup's depot."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        depot, distance = conn.execute(
            "select depot_id, depot_distance_m from marts.fct_orders_to_plan where order_id = 'O-SHIP-DELIVERY'"
        ).fetchone()
    assert depot == "D-A"
    assert 5_000 < distance < 6_000


@pytest.fixture(scope="module")
def solved(problems) -> dict[str, Plan]:
    from solver import solve_many

    config = SolveConfig(time_budget_s=5.0, seed=0, max_iters=2_000)
    return {plan.depot_id: plan for plan in solve_many(list(problems.values()), config)}


def test_a_plan_with_trips_reloads_a_break_and_two_depots_survives_the_round_trip(warehouse, solved, tmp_path):
    """write_plan -> read_plan gives back every route field the constraints added, exactly."""
    plan = solved["D-A"]
    routes = {r.vehicle_id: r for r in plan.routes}
    assert routes["V-BIKE"].reloads, "the bike must reload to carry 9 parcels in a 6-parcel box"
    assert {s.trip for s in routes["V-BIKE"].stops} == {1, 2}
    assert routes["V-VAN"].break_after_sequence is not None
    assert routes["V-VAN"].end_depot_id == "D-B"
    copy = tmp_path / "copy.duckdb"
    with duckdb.connect(str(copy)) as conn:
        plan_id = write_plan(conn, DATE, "daily", [plan], SolveConfig(), 1.0)
        (back,) = read_plan(conn, plan_id).values()
    assert back.routes == plan.routes
    assert back.unassigned == plan.unassigned


def test_stored_routes_and_reloads_carry_the_new_columns(solved, tmp_path):
    """plans.routes keeps the depots, reload count and break; plans.reloads one row per reload."""
    plan = solved["D-A"]
    with duckdb.connect(str(tmp_path / "stored.duckdb")) as conn:
        plan_id = write_plan(conn, DATE, "daily", [plan], SolveConfig(), 1.0)
        stored = conn.execute(
            "select vehicle_id, start_depot_id, end_depot_id, n_reloads, break_after_sequence, break_start_s "
            "from plans.routes where plan_id = ? order by vehicle_id",
            [plan_id],
        ).fetchall()
        reloads = conn.execute("select count(*) from plans.reloads where plan_id = ?", [plan_id]).fetchone()[0]
    expected = [
        (r.vehicle_id, r.start_depot_id, r.end_depot_id, len(r.reloads), r.break_after_sequence, r.break_start_s)
        for r in sorted(plan.routes, key=lambda r: r.vehicle_id)
    ]
    assert stored == expected
    assert reloads == sum(len(r.reloads) for r in plan.routes)


def test_the_round_trip_keeps_hand_made_routes_exactly(tmp_path):
    """Independent of the solver: a route with two trips, a reload, a break and another end depot."""
    from solver import PlannedReload, PlannedRoute, PlannedStop, SolveStats, Unassigned

    stops = (
        PlannedStop("O-1", 1, 30_000, 32_400, 32_600, 2_400, 1_200, 150, trip=1),
        PlannedStop("O-2", 2, 33_000, 33_000, 33_200, 0, 900, 400, late_s=0, in_preferred_window=True, trip=1),
        PlannedStop("O-3", 3, 35_000, 35_000, 35_300, 0, 2_000, 500, trip=2),
    )
    route = PlannedRoute(
        "D-A-V-BIKE", "V-BIKE", "cargo_bike", stops, 29_000, 37_000, 8_000, 8_000, 5_000, 20_000, 80.5,
        overtime_s=0, start_depot_id="", end_depot_id="D-B",
        reloads=(PlannedReload(after_sequence=2, arrival_s=33_600, departure_s=34_500, leg_distance_m=1_100,
                               leg_duration_s=400),),
        break_after_sequence=2, break_start_s=33_200,
    )  # fmt: skip
    plain = dataclasses.replace(
        route, route_id="D-A-V-CAR", vehicle_id="V-CAR", reloads=(), end_depot_id="", break_after_sequence=None,
        break_start_s=None, stops=tuple(dataclasses.replace(s, order_id=s.order_id + "b") for s in stops),
    )  # fmt: skip
    stats = SolveStats(0.0, 0, 0, True, 0, 0, "stored")
    plan = Plan("D-A", (route, plain), (Unassigned("O-9", "NO_VEHICLE", "no vehicle"),), stats)
    with duckdb.connect(str(tmp_path / "hand.duckdb")) as conn:
        plan_id = write_plan(conn, DATE, "daily", [plan], SolveConfig(), 1.0)
        (back,) = read_plan(conn, plan_id).values()
    assert back.routes == plan.routes
    assert back.unassigned == plan.unassigned


OLD_PLANS_DDL = (
    "create schema plans",
    "create table plans.plan_runs (plan_id varchar primary key, service_date date not null, kind varchar not null, "
    "version integer not null, created_at_utc timestamptz not null, seed integer, time_budget_s double, "
    "parameters varchar, runtime_s double, objective double, n_orders integer, n_assigned integer, "
    "n_unassigned integer, status varchar not null)",
    "create table plans.solves (plan_id varchar, depot_id varchar, n_orders integer, n_vehicles integer, "
    "runtime_s double, iterations bigint, objective double, feasible boolean, stopped_by varchar, build_s double, "
    "search_s double)",
    "create table plans.routes (plan_id varchar, depot_id varchar, route_id varchar, vehicle_id varchar, "
    "vehicle_type varchar, n_stops integer, start_s integer, end_s integer, distance_m bigint, duration_s bigint, "
    "weight_g bigint, volume_cm3 bigint, cost_eur double)",
    "create table plans.stops (plan_id varchar, route_id varchar, vehicle_id varchar, sequence integer, "
    "order_id varchar, arrival_s integer, service_start_s integer, departure_s integer, wait_s integer, "
    "leg_distance_m bigint, leg_duration_s bigint)",
    "create table plans.unassigned (plan_id varchar, depot_id varchar, order_id varchar, reason_code varchar, "
    "reason varchar)",
)


def test_a_plan_from_before_the_constraints_reads_back_as_one_trip_without_a_break(tmp_path):
    """A warehouse from before issues 5 and 6 (no reloads table, no trip, break or depot columns): read_plan gives
    single-trip routes at the plan's depot; the next write_plan adds the columns and stores a new plan in full."""
    from solver import PlannedRoute, PlannedStop

    with duckdb.connect(str(tmp_path / "old.duckdb")) as conn:
        for statement in OLD_PLANS_DDL:
            conn.execute(statement)
        conn.execute("insert into plans.solves (plan_id, depot_id) values ('P-OLD', 'D-A')")
        conn.execute(
            "insert into plans.routes values ('P-OLD', 'D-A', 'D-A-V1', 'V1', 'van', 1, 28800, 30000, 2000, 1200, "
            "1000, 5000, 12.5)"
        )
        conn.execute("insert into plans.stops values ('P-OLD', 'D-A-V1', 'V1', 1, 'O-1', 29000, 29000, 29300, 0, "
                     "1000, 200)")  # fmt: skip
        (old,) = read_plan(conn, "P-OLD").values()
        assert old.routes == (
            PlannedRoute("D-A-V1", "V1", "van", (PlannedStop("O-1", 1, 29000, 29000, 29300, 0, 1000, 200),), 28800,
                         30000, 2000, 1200, 1000, 5000, 12.5),
        )  # fmt: skip
        route = dataclasses.replace(old.routes[0], end_depot_id="D-B", break_after_sequence=1, break_start_s=29300)
        new_id = write_plan(conn, DATE, "daily", [dataclasses.replace(old, routes=(route,))], SolveConfig(), 1.0)
        (new,) = read_plan(conn, new_id).values()
        assert new.routes == (route,)
        assert conn.execute("select n_reloads, trip from plans.routes join plans.stops using (plan_id, route_id) "
                            "where plan_id = 'P-OLD'").fetchall() == [(0, 1)]  # fmt: skip
