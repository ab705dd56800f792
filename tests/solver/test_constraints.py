"""Known-answer tests of the route constraints of issue 6, each on a tiny instance solved by :func:`solver.solve`.

The line world of :mod:`tests.solver.factories`: an order ``k`` km north of the depot at (0, 0) is ``1,300 * k`` m
away by road and the test van drives 10 m/s, so each answer follows by hand from the instance. Every plan must
also pass :func:`solver.validate`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from solver import Depot, Plan, Problem, SolveConfig, TimeDependentTravelModel, Vehicle, solve, validate
from tests.solver.factories import HOUR, depot, order_north, random_problem, van

MINUTE = 60
CONFIG = SolveConfig(time_budget_s=5, max_iters=300, seed=0)


def solved(problem: Problem, travel_model=None) -> Plan:
    """The plan of ``problem`` with the test config, checked by the validator."""
    plan = solve(problem, CONFIG, travel_model)
    assert validate(problem, plan, travel_model) == []
    return plan


def order_ids(plan: Plan) -> list[list[str]]:
    """Each route's order ids in visiting order."""
    return [[s.order_id for s in r.stops] for r in plan.routes]


def depot_north(depot_id: str, km: float) -> Depot:
    """A depot ``km`` km north of the test depot, open 06:00-20:00."""
    return Depot(depot_id=depot_id, lat=order_north("x", km).lat, lon=0.0, opens_s=6 * HOUR, closes_s=20 * HOUR)


def cargo_bike(vehicle_id: str = "B-01", **kwargs) -> Vehicle:
    """A cargo bike: 3 kg, 100 L, shift 08:00-18:00, 18 km/h (5 m/s), 0.05 EUR/km, 28 EUR/h, 20 EUR/day."""
    fields = dict(
        vehicle_type="cargo_bike",
        capacity_weight_g=3000,
        capacity_volume_cm3=100_000,
        shift_start_s=8 * HOUR,
        shift_end_s=18 * HOUR,
        speed_kmh=18.0,
        cost_per_km_eur=0.05,
        cost_per_hour_eur=28.0,
        cost_per_day_eur=20.0,
    )
    return Vehicle(vehicle_id=vehicle_id, **(fields | kwargs))


def test_route_from_one_depot_to_another():
    """A van starting at the test depot and ending at D-NORTH 20 km north serves the orders 5, 10 and 15 km north
    on its way: one route out of D-TEST into D-NORTH, 26 km (20 km x 1.3), nothing driven twice."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("A", 10), order_north("B", 15), order_north("C", 5)),
        vehicles=(van(end_depot_id="D-NORTH"),),
        depots=(depot_north("D-NORTH", 20),),
    )
    plan = solved(problem)
    assert plan.unassigned == ()
    (route,) = plan.routes
    assert (route.start_depot_id, route.end_depot_id) == ("D-TEST", "D-NORTH")
    assert [s.order_id for s in route.stops] == ["C", "A", "B"]
    assert route.distance_m == 26_000
    assert route.duration_s == 2600 + 3 * 60


def test_vans_start_and_end_at_their_own_depots():
    """Two vans at 10 EUR a day, one based at the test depot and one at D-NORTH 20 km north: each serves the
    order next to its own depot (1 km from either) and starts and ends there (14.50 EUR each, where one van for
    both would cost 85.30 EUR)."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("NEAR-SOUTH", 1), order_north("NEAR-NORTH", 19)),
        vehicles=(
            van("V-01", cost_per_day_eur=10.0),
            van("V-02", cost_per_day_eur=10.0, start_depot_id="D-NORTH", end_depot_id="D-NORTH"),
        ),
        depots=(depot_north("D-NORTH", 20),),
    )
    plan = solved(problem)
    assert [(r.vehicle_id, r.start_depot_id, r.end_depot_id) for r in plan.routes] == [
        ("V-01", "D-TEST", "D-TEST"),
        ("V-02", "D-NORTH", "D-NORTH"),
    ]
    assert order_ids(plan) == [["NEAR-SOUTH"], ["NEAR-NORTH"]]
    assert [r.distance_m for r in plan.routes] == [2600, 2600]
    assert [r.cost_eur for r in plan.routes] == pytest.approx([14.5, 14.5])


def test_parcels_capacity_keeps_two_orders_apart():
    """Three light, small orders of 6 parcels and three vans holding 10 parcels: never two on one route, so each
    van takes one (although one van would carry all three by weight and volume)."""
    orders = tuple(order_north(f"O{k}", k, parcels=6) for k in (1, 2, 3))
    problem = Problem(
        depot=depot(), orders=orders, vehicles=tuple(van(f"V-0{k}", capacity_parcels=10) for k in (1, 2, 3))
    )
    plan = solved(problem)
    assert plan.unassigned == ()
    assert sorted(len(r.stops) for r in plan.routes) == [1, 1, 1]
    unlimited = solved(dataclasses.replace(problem, vehicles=tuple(van(f"V-0{k}") for k in (1, 2, 3))))
    assert [sorted(ids) for ids in order_ids(unlimited)] == [["O1", "O2", "O3"]]


def test_served_in_the_window_it_can_reach():
    """W 5 km north may be served 06:00-06:30 or 17:00-17:30; the van's shift starts 08:00, so only the evening
    window is reachable: served at 17:00 (the van arrives early and waits, or leaves late)."""
    w = order_north(
        "W",
        5,
        tw_start_s=6 * HOUR,
        tw_end_s=6 * HOUR + 30 * MINUTE,
        extra_windows=((17 * HOUR, 17 * HOUR + 30 * MINUTE),),
    )
    problem = Problem(depot=depot(), orders=(w,), vehicles=(van(),))
    plan = solved(problem)
    (route,) = plan.routes
    assert 17 * HOUR <= route.stops[0].service_start_s <= 17 * HOUR + 30 * MINUTE


def test_mandatory_order_is_served_and_an_optional_one_dropped():
    """FAR, 20 km north, is mandatory with an unserved penalty of only 1 EUR: serving it costs 178.60 EUR, yet it
    is served. OPT, 30 km south and optional (100 EUR penalty), would add 117.60 EUR: left out as not worth it."""
    orders = (
        order_north("FAR", 20, priority="mandatory", unserved_penalty_eur=1.0),
        order_north("OPT", -30, priority="optional"),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    plan = solved(problem)
    assert order_ids(plan) == [["FAR"]]
    assert plan.routes[0].cost_eur == pytest.approx(0.5 * 52 + 36 * 5260 / 3600 + 100)
    assert [(u.order_id, u.reason_code) for u in plan.unassigned] == [("OPT", "NOT_WORTH_SERVING")]


def test_optional_order_is_served_when_it_is_cheap():
    """An optional order 1 km north adds less than its 100 EUR penalty to a route that runs anyway: served."""
    orders = (order_north("A", 2), order_north("OPT", 1, priority="optional"))
    plan = solved(Problem(depot=depot(), orders=orders, vehicles=(van(),)))
    assert [sorted(ids) for ids in order_ids(plan)] == [["A", "OPT"]]


@pytest.fixture
def break_problem() -> Problem:
    """A (2 km) due 11:30-11:45, B (3 km) 12:30-12:40, C (1 km) 13:00-13:30; the driver's 30 min break starts
    12:00-12:45. The hour between A and B holds the break, so it costs no time."""
    orders = (
        order_north("A", 2, tw_start_s=11 * HOUR + 30 * MINUTE, tw_end_s=11 * HOUR + 45 * MINUTE),
        order_north("B", 3, tw_start_s=12 * HOUR + 30 * MINUTE, tw_end_s=12 * HOUR + 40 * MINUTE),
        order_north("C", 1, tw_start_s=13 * HOUR, tw_end_s=13 * HOUR + 30 * MINUTE),
    )
    vehicle = van(break_s=30 * MINUTE, break_earliest_s=12 * HOUR, break_latest_s=12 * HOUR + 45 * MINUTE)
    return Problem(depot=depot(), orders=orders, vehicles=(vehicle,))


def test_break_is_taken_in_its_window_at_the_best_gap(break_problem):
    """The break follows A, from 12:00 to 12:30; B is still reached in its window (12:32:10) and C at 13:00."""
    plan = solved(break_problem)
    assert plan.unassigned == ()
    (route,) = plan.routes
    assert [s.order_id for s in route.stops] == ["A", "B", "C"]
    assert (route.break_after_sequence, route.break_start_s) == (1, 12 * HOUR)
    b, c = route.stops[1], route.stops[2]
    assert b.arrival_s == 12 * HOUR + 30 * MINUTE + 130
    assert c.service_start_s == 13 * HOUR
    for stop, order in zip(route.stops, break_problem.orders, strict=True):
        assert order.tw_start_s <= stop.service_start_s <= order.tw_end_s
    assert route.end_s == 13 * HOUR + MINUTE + 130


def test_break_under_learned_times_keeps_its_place(break_problem):
    """With a learned model at full speed except half speed 12:00-13:00, the re-timed route keeps the break after
    A, from 12:00; B is reached at 12:34:20 (260 s at 5 m/s), still in its window, and the plan is valid."""
    model = TimeDependentTravelModel(hour_factor=tuple(0.5 if h == 12 else 1.0 for h in range(24)), version="noon")
    plan = solved(break_problem, model)
    (route,) = plan.routes
    assert (route.break_after_sequence, route.break_start_s) == (1, 12 * HOUR)
    assert route.stops[1].arrival_s == 12 * HOUR + 30 * MINUTE + 260
    assert route.stops[1].late_s == 0


@pytest.mark.parametrize(("max_overtime_s", "served"), [(HOUR, True), (0, False)])
def test_paid_overtime(max_overtime_s, served):
    """X, 6 km north, takes 64 min on site: 780 + 3,840 + 780 s = 1.5 h from 08:00, 30 min past the shift end at
    09:00. With an hour of paid overtime it is served and the route costs the overtime premium (18 EUR/h on top);
    without, no route can take it."""
    vehicle = van(shift_end_s=9 * HOUR, max_overtime_s=max_overtime_s, overtime_cost_per_hour_eur=18.0)
    problem = Problem(depot=depot(), orders=(order_north("X", 6, service_s=3840),), vehicles=(vehicle,))
    plan = solved(problem)
    if not served:
        assert plan.routes == ()
        assert [u.order_id for u in plan.unassigned] == ["X"]
        return
    (route,) = plan.routes
    assert (route.start_s, route.end_s, route.overtime_s) == (8 * HOUR, 9 * HOUR + 30 * MINUTE, 30 * MINUTE)
    assert route.cost_eur == pytest.approx(0.5 * 15.6 + 36 * 1.5 + 18 * 0.5 + 100)
    assert plan.stats.objective == pytest.approx(route.cost_eur)


@pytest.mark.parametrize("limit", [{"max_distance_m": 20_000}, {"max_duration_s": 2000}])
def test_route_limits_split_the_orders(limit):
    """N and S, 5 km north and south: one van would serve both (26 km, 2,720 s; one day cost saved); with routes
    limited to 20 km or 2,000 s each van takes one (13 km, 1,360 s)."""
    orders = (order_north("N", 5), order_north("S", -5))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01"), van("V-02")))
    assert [sorted(ids) for ids in order_ids(solved(problem))] == [["N", "S"]]
    limited = dataclasses.replace(problem, vehicles=(van("V-01", **limit), van("V-02", **limit)))
    plan = solved(limited)
    assert sorted(map(tuple, order_ids(plan))) == [("N",), ("S",)]
    assert [(r.distance_m, r.duration_s) for r in plan.routes] == [(13_000, 1360), (13_000, 1360)]


def test_route_limit_leaves_an_order_out():
    """With one van limited to 20 km, only one of N and S fits; the other is unassigned."""
    orders = (order_north("N", 5), order_north("S", -5))
    plan = solved(Problem(depot=depot(), orders=orders, vehicles=(van(max_distance_m=20_000),)))
    assert len(plan.routes) == 1 and len(plan.routes[0].stops) == 1
    assert len(plan.unassigned) == 1


def test_cargo_bike_reloads_once_for_six_orders():
    """A bike carrying three 1 kg orders, six orders within 1 km, one reload allowed (5 min): one route of two
    trips of three orders with a reload at the depot between them."""
    orders = tuple(order_north(f"O{k}", 0.2 * k) for k in range(1, 7))
    problem = Problem(
        depot=dataclasses.replace(depot(), reload_s=5 * MINUTE),
        orders=orders,
        vehicles=(cargo_bike(max_reloads=1),),
    )
    plan = solved(problem)
    assert plan.unassigned == ()
    (route,) = plan.routes
    assert [s.trip for s in route.stops] == [1, 1, 1, 2, 2, 2]
    (reload,) = route.reloads
    assert reload.after_sequence == 3
    assert reload.departure_s - reload.arrival_s >= 5 * MINUTE
    no_reload = solved(dataclasses.replace(problem, vehicles=(cargo_bike(),)))
    assert sum(len(r.stops) for r in no_reload.routes) == 3
    assert len(no_reload.unassigned) == 3


def test_shipment_is_picked_up_then_delivered_on_one_route():
    """Shipment S1 (1 kg) goes from P, 2 km north, to D, 4 km north; X, 1 km north, weighs 2 kg and the van
    carries 2 kg: only X at the depot, then the shipment on board from P to D."""
    orders = (
        order_north("D", 4, shipment_id="S1"),
        order_north("P", 2, order_type="pickup", shipment_id="S1"),
        order_north("X", 1, weight_g=2000),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_weight_g=2000),))
    plan = solved(problem)
    assert plan.unassigned == ()
    assert order_ids(plan) == [["X", "P", "D"]]
    assert plan.routes[0].weight_g == 2000


def test_shipment_delivery_comes_after_its_pickup_even_when_it_is_nearer():
    """The pickup P is 4 km north and its delivery D 2 km north: the van goes out to P and delivers D on the way
    back (10.4 km), never D first."""
    orders = (
        order_north("D", 2, shipment_id="S1"),
        order_north("P", 4, order_type="pickup", shipment_id="S1"),
    )
    plan = solved(Problem(depot=depot(), orders=orders, vehicles=(van(),)))
    assert order_ids(plan) == [["P", "D"]]
    assert plan.routes[0].distance_m == 10_400


def test_return_fits_only_after_the_deliveries():
    """Two 1 kg deliveries 1 km north and 1 km east and a 2 kg return 1 km south, a van carrying 2 kg: the
    round trip and its reverse are equally long, but only the one picking the return up last fits."""
    east = dataclasses.replace(order_north("D2", 0), order_id="D2", lon=order_north("x", 1).lat)
    orders = (order_north("D1", 1), east, order_north("R", -1, weight_g=2000, order_type="pickup"))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_weight_g=2000),))
    plan = solved(problem)
    assert plan.unassigned == ()
    (route,) = plan.routes
    assert route.stops[-1].order_id == "R"
    assert route.weight_g == 2000


def test_skilled_order_goes_to_the_van_with_the_skill():
    """The pallet needs a tail lift, which only V-02 has: V-02 serves it although V-01 would be as good."""
    orders = (order_north("PALLET", 2, required_skills=frozenset({"tail_lift"})),)
    problem = Problem(
        depot=depot(), orders=orders, vehicles=(van("V-01"), van("V-02", skills=frozenset({"tail_lift"})))
    )
    plan = solved(problem)
    assert [(r.vehicle_id, [s.order_id for s in r.stops]) for r in plan.routes] == [("V-02", ["PALLET"])]


def _every_constraint(seed: int) -> Problem:
    """A 40-order demo-like depot with every constraint at once: a second depot (one van based there, one ending
    there), second windows, parcels, all four priorities, two shipments, breaks, paid overtime, route limits and
    cargo bikes that reload."""
    base = random_problem(40, 3, seed=seed, n_bikes=2)
    rng = np.random.default_rng(seed)
    other = Depot("D-OTHER", base.depot.lat + 0.05, base.depot.lon + 0.05, 7 * HOUR, 19 * HOUR, reload_s=300)
    orders = []
    for k, o in enumerate(base.orders):
        changes: dict = {"parcels": int(rng.integers(1, 5))}
        changes["priority"] = str(rng.choice(["optional", "normal", "high", "mandatory"], p=[0.2, 0.6, 0.15, 0.05]))
        if rng.random() < 0.15:
            changes |= {"tw_start_s": 8 * HOUR, "tw_end_s": 10 * HOUR, "extra_windows": ((16 * HOUR, 18 * HOUR),)}
        if k < 4:  # two shipments, open all day
            kind = "pickup" if k % 2 == 0 else "delivery"
            changes |= {"order_type": kind, "shipment_id": f"S{k // 2}", "tw_start_s": 0, "tw_end_s": 24 * HOUR}
            changes["priority"] = "normal"
        orders.append(dataclasses.replace(o, **changes))
    vehicles = []
    for k, v in enumerate(base.vehicles):
        changes = dict(capacity_parcels=60, break_s=30 * MINUTE, break_earliest_s=11 * HOUR, break_latest_s=13 * HOUR)
        changes |= [
            {"start_depot_id": "D-OTHER", "end_depot_id": "D-OTHER"},
            {"end_depot_id": "D-OTHER", "max_overtime_s": HOUR, "overtime_cost_per_hour_eur": 20.0},
            {"max_distance_m": 60_000, "max_duration_s": 6 * HOUR},
            {"max_reloads": 2, "capacity_parcels": 10},
            {"max_reloads": 2, "capacity_parcels": 10},
        ][k]
        vehicles.append(dataclasses.replace(v, **changes))
    return Problem(dataclasses.replace(base.depot, reload_s=600), tuple(orders), tuple(vehicles), depots=(other,))


@pytest.mark.parametrize("seed", [0, 1])
def test_every_constraint_at_once_gives_a_valid_plan(seed):
    """On a 40-order depot mixing every constraint, the plan is valid under the great-circle model and under a
    learned model with slow rush hours, every order is on a route or explained, and the bikes reload."""
    problem = _every_constraint(seed)
    model = TimeDependentTravelModel(hour_factor=tuple(0.7 if h in (7, 8, 16, 17) else 1.1 for h in range(24)))
    for travel_model in (None, model):
        plan = solved(problem, travel_model)
        assert sum(len(r.stops) for r in plan.routes) + len(plan.unassigned) == 40
        assert any(r.reloads for r in plan.routes)


@pytest.mark.parametrize("priority", ["normal", "mandatory"])
def test_a_route_after_the_break_window_needs_no_break(priority):
    """Regression (break placement used to drop this order as SEARCH_LIMIT): a van on duty 07:00-17:00 with a
    30-min break starting 11:00-13:00 and routes of at most 2 h, one order 1 km out due 15:00-15:30. The route
    leaves after the break window has closed, so it takes no break, and serves the order in its window."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("A", 1, tw_start_s=15 * HOUR, tw_end_s=15 * HOUR + 30 * MINUTE, priority=priority),),
        vehicles=(
            van(
                shift_start_s=7 * HOUR,
                shift_end_s=17 * HOUR,
                break_s=30 * MINUTE,
                break_earliest_s=11 * HOUR,
                break_latest_s=13 * HOUR,
                max_duration_s=2 * HOUR,
            ),
        ),
    )
    plan = solved(problem)
    assert plan.unassigned == ()
    (route,) = plan.routes
    assert route.start_s > 13 * HOUR
    assert route.break_start_s is None and route.break_after_sequence is None
    assert route.duration_s <= 2 * HOUR


def test_an_order_that_leaves_no_gap_for_the_break_is_explained():
    """A van on duty 08:00-16:00 with a 60-min break starting 11:00-11:30, and two orders 1 km out due exactly at
    11:00-11:05 and 11:40-11:45: serving both leaves no hour for the break in its window, so one is unassigned as
    FLEET_TIME (never the unexplained SEARCH_LIMIT), and the route that remains takes its break in the window."""
    problem = Problem(
        depot=depot(),
        orders=(
            order_north("A", 1, tw_start_s=11 * HOUR, tw_end_s=11 * HOUR + 5 * MINUTE),
            order_north("B", 1.2, tw_start_s=11 * HOUR + 40 * MINUTE, tw_end_s=11 * HOUR + 45 * MINUTE),
        ),
        vehicles=(
            van(
                shift_start_s=8 * HOUR,
                shift_end_s=16 * HOUR,
                break_s=60 * MINUTE,
                break_earliest_s=11 * HOUR,
                break_latest_s=11 * HOUR + 30 * MINUTE,
            ),
        ),
    )
    plan = solved(problem)
    assert [u.reason_code for u in plan.unassigned] == ["FLEET_TIME"]
    for route in plan.routes:
        if route.break_start_s is not None:
            assert 11 * HOUR <= route.break_start_s <= 11 * HOUR + 30 * MINUTE


def test_an_order_ready_late_at_the_depot_is_served_in_a_window_that_closes_after_it_is_ready():
    """Orders ready at the depot at 12:00 (a broken-down van's parcels back at the depot): LATER has windows
    08:00-10:00 and 14:00-16:00 and is served in the second; PREF has a learned preferred window 09:00-10:00 inside
    08:00-18:00 and is served after 12:00 without it; GONE closes at 11:00 and is unassigned as unreachable. PyVRP
    raised "release_time must be <= tw_late" on each of the first two before."""
    ready = 12 * HOUR
    orders = (
        order_north("LATER", 2, tw_start_s=8 * HOUR, tw_end_s=10 * HOUR, extra_windows=((14 * HOUR, 16 * HOUR),),
                    release_s=ready),  # fmt: skip
        order_north("PREF", 3, tw_start_s=8 * HOUR, tw_end_s=18 * HOUR, preferred_tw_start_s=9 * HOUR,
                    preferred_tw_end_s=10 * HOUR, preferred_bonus_eur=5.0, release_s=ready),  # fmt: skip
        order_north("GONE", 4, tw_start_s=8 * HOUR, tw_end_s=11 * HOUR, release_s=ready),
        order_north("EARLY", 1, tw_start_s=8 * HOUR, tw_end_s=9 * HOUR),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01"), van("V-02")))
    plan = solved(problem)
    starts = {s.order_id: s.service_start_s for r in plan.routes for s in r.stops}
    assert 14 * HOUR <= starts["LATER"] <= 16 * HOUR
    assert starts["PREF"] >= ready
    assert starts["EARLY"] <= 9 * HOUR
    (gone,) = plan.unassigned
    assert (gone.order_id, gone.reason_code) == ("GONE", "WINDOW_UNREACHABLE")
    assert "ready at the depot at 12:00" in gone.reason
