"""Tests of solver.diagnostics: every reason code comes out of solve for the situation it names."""

from __future__ import annotations

import numpy as np
import pytest

from solver import (
    REASON_CODES,
    Depot,
    GreatCircleTravelModel,
    Order,
    Problem,
    SolveConfig,
    TravelMatrices,
    solve,
    validate,
)
from solver.diagnostics import (
    ACTIONS,
    PRESOLVE_CODES,
    clock,
    diagnose_left_out,
    presolve,
    reachable_alone,
    working_window,
)
from solver.model import PlannedReload, PlannedRoute, PlannedStop
from tests.solver.factories import HOUR, METRES_PER_DEGREE_LAT, depot, order_north, van


def _reasons(problem: Problem, config: SolveConfig) -> dict[str, tuple[str, str]]:
    plan = solve(problem, config)
    assert validate(problem, plan) == []
    return {u.order_id: (u.reason_code, u.reason) for u in plan.unassigned}


def test_every_code_has_a_description():
    """The one list of reason codes covers the pre-solve codes and the post-solve ones."""
    assert set(PRESOLVE_CODES) <= set(REASON_CODES)
    assert {"FLEET_CAPACITY", "FLEET_TIME", "NOT_WORTH_SERVING"} <= set(REASON_CODES)
    assert all(text.endswith(".") for text in REASON_CODES.values())


def test_no_vehicle(fast_config):
    """A depot without vehicles leaves every order unassigned as NO_VEHICLE."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1),), vehicles=())
    assert _reasons(problem, fast_config)["A"][0] == "NO_VEHICLE"


def test_invalid_window_does_not_raise(fast_config):
    """A window ending before it starts is accepted by Problem and reported as INVALID_WINDOW."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("A", 1, tw_start_s=10 * HOUR, tw_end_s=9 * HOUR),),
        vehicles=(van(),),
    )
    code, reason = _reasons(problem, fast_config)["A"]
    assert code == "INVALID_WINDOW"
    assert "09:00" in reason and "10:00" in reason


def test_no_skilled_vehicle(fast_config):
    """An order needing refrigeration at a depot without a refrigerated vehicle is NO_SKILLED_VEHICLE."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("A", 1, required_skills=frozenset({"refrigerated"})),),
        vehicles=(van(skills=frozenset({"tail_lift"})),),
    )
    code, reason = _reasons(problem, fast_config)["A"]
    assert code == "NO_SKILLED_VEHICLE"
    assert "refrigerated" in reason


def test_too_heavy_names_both_weights(fast_config):
    """An 850 kg order for a 700 kg van: 'weighs 850 kg; the largest vehicle carries 700 kg'."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1, weight_g=850_000),), vehicles=(van(),))
    assert _reasons(problem, fast_config)["A"] == (
        "TOO_HEAVY",
        "weighs 850 kg; the largest vehicle carries 700 kg",
    )


def test_too_bulky(fast_config):
    """A 12 m3 order for a 10 m3 van is TOO_BULKY, naming both volumes."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1, volume_cm3=12_000_000),), vehicles=(van(),))
    code, reason = _reasons(problem, fast_config)["A"]
    assert code == "TOO_BULKY"
    assert "12000 L" in reason and "10000 L" in reason


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(order_north("A", 40, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 1800), id="too-far-for-window"),
        pytest.param(order_north("A", 1, tw_start_s=17 * HOUR + 3590, tw_end_s=18 * HOUR), id="no-time-to-return"),
        pytest.param(order_north("A", 1, tw_start_s=5 * HOUR, tw_end_s=7 * HOUR), id="window-before-shift"),
    ],
)
def test_window_unreachable(order, fast_config):
    """Windows no vehicle can serve from the depot within its 08:00-18:00 shift are WINDOW_UNREACHABLE."""
    problem = Problem(depot=depot(), orders=(order,), vehicles=(van(),))
    assert _reasons(problem, fast_config)["A"][0] == "WINDOW_UNREACHABLE"


def test_depot_hours_limit_the_shift(fast_config):
    """A van on shift until 18:00 at a depot closing at 12:00 cannot serve an afternoon window."""
    order = order_north("A", 1, tw_start_s=14 * HOUR, tw_end_s=15 * HOUR)
    problem = Problem(depot=depot(closes_s=12 * HOUR), orders=(order,), vehicles=(van(),))
    assert _reasons(problem, fast_config)["A"][0] == "WINDOW_UNREACHABLE"


def test_fleet_capacity(full_van_problem, fast_config):
    """Three 6 kg orders, one 10 kg van: one is served, the other two are FLEET_CAPACITY."""
    reasons = _reasons(full_van_problem, fast_config)
    assert len(reasons) == 2
    assert {code for code, _ in reasons.values()} == {"FLEET_CAPACITY"}


def test_fleet_time(fast_config):
    """Two orders 5 km apart on either side of the depot, both due 08:10-08:15: one van serves only one."""
    window = dict(tw_start_s=8 * HOUR + 600, tw_end_s=8 * HOUR + 900)
    orders = (order_north("N", 5, **window), order_north("S", -5, **window))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    reasons = _reasons(problem, fast_config)
    assert len(reasons) == 1
    assert next(iter(reasons.values()))[0] == "FLEET_TIME"


def test_not_worth_serving():
    """With a 1 EUR unserved penalty a 100 EUR/day van is not worth sending: NOT_WORTH_SERVING."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1),), vehicles=(van(),))
    config = SolveConfig(seed=0, unserved_penalty_eur=1.0, no_improvement_iters=50, max_iters=100)
    plan = solve(problem, config)
    assert validate(problem, plan) == []
    assert [(u.order_id, u.reason_code) for u in plan.unassigned] == [("A", "NOT_WORTH_SERVING")]
    assert plan.stats.objective == pytest.approx(1.0)


def test_high_priority_is_kept_when_normal_is_dropped():
    """Penalties 5 EUR (normal) and 5,000 EUR (high): only the high-priority order justifies the van.

    The normal order 10 km the other way would add 26 km (13 EUR) of driving, more than its penalty.
    """
    orders = (order_north("NORMAL", -10), order_north("HIGH", 1, priority="high"))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    config = SolveConfig(
        seed=0,
        unserved_penalty_eur=5.0,
        high_priority_penalty_eur=5000.0,
        no_improvement_iters=100,
        max_iters=200,
    )
    plan = solve(problem, config)
    assert [s.order_id for r in plan.routes for s in r.stops] == ["HIGH"]
    assert [(u.order_id, u.reason_code) for u in plan.unassigned] == [("NORMAL", "NOT_WORTH_SERVING")]


def test_clock_formats_seconds_since_midnight():
    """clock() shows HH:MM and marks times past midnight."""
    assert clock(8 * HOUR + 5 * 60) == "08:05"
    assert clock(25 * HOUR) == "01:00 (+1d)"


def test_window_unreachable_says_why(fast_config):
    """The reason names the earliest possible arrival, or the missing time to return, or the shift gap."""
    far = order_north("FAR", 40, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 1800)
    late = order_north("LATE", 1, tw_start_s=17 * HOUR + 3590, tw_end_s=18 * HOUR)
    problem = Problem(depot=depot(), orders=(far, late), vehicles=(van(),))
    reasons = _reasons(problem, fast_config)
    assert "earliest a suitable vehicle can be there is 09:26" in reasons["FAR"][1]
    assert "by 18:00" in reasons["LATE"][1]
    night_van = van(shift_start_s=21 * HOUR, shift_end_s=23 * HOUR)
    closed = Problem(depot=depot(), orders=(order_north("A", 1),), vehicles=(night_van,))
    assert "overlaps its depot's opening hours" in _reasons(closed, fast_config)["A"][1]


# --- the new constraints, checked directly on presolve and diagnose_left_out -----------------------------------


def _matrices(problem: Problem) -> TravelMatrices:
    """Great-circle matrices over ``[depot] + orders + depots`` (circuity 1.3), one profile per vehicle speed."""
    lat, lon = problem.location_coordinates()
    speeds = sorted({float(v.speed_kmh) for v in problem.vehicles})
    return GreatCircleTravelModel(circuity=1.3).matrices(np.array(lat), np.array(lon), speeds)


def _presolve(problem: Problem, max_depot_distance_m: int | None = None) -> tuple[list[str], dict[str, tuple]]:
    servable, unassigned = presolve(problem, _matrices(problem), max_depot_distance_m)
    return [problem.orders[i].order_id for i in servable], {u.order_id: (u.reason_code, u.reason) for u in unassigned}


def _route(
    problem: Problem, vehicle_id: str, order_ids: list[str], start_s: int = 8 * HOUR, reload_after: int | None = None
) -> PlannedRoute:
    """A route of ``vehicle_id`` through ``order_ids`` leaving ``start_s``, timed on :func:`_matrices`, each stop
    served at the earliest start in its first window (reloading after stop ``reload_after`` if given)."""
    matrices = _matrices(problem)
    vehicle = next(v for v in problem.vehicles if v.vehicle_id == vehicle_id)
    p = matrices.profile(vehicle.speed_kmh)
    duration, distance = matrices.duration_s[p], matrices.distance_m[p]
    index = {o.order_id: i for i, o in enumerate(problem.orders)}
    start_loc = problem.depot_location(vehicle.start_depot_id)
    prev, t, km, stops, reloads = start_loc, start_s, 0, [], []
    for sequence, order_id in enumerate(order_ids, start=1):
        order, loc = problem.orders[index[order_id]], index[order_id] + 1
        arrival = t + int(duration[prev, loc])
        begin = max(arrival, order.tw_start_s)
        stops.append(
            PlannedStop(
                order_id=order_id,
                sequence=sequence,
                arrival_s=arrival,
                service_start_s=begin,
                departure_s=begin + order.service_s,
                wait_s=begin - arrival,
                leg_distance_m=int(distance[prev, loc]),
                leg_duration_s=int(duration[prev, loc]),
                trip=1 + len(reloads),
            )
        )
        km += int(distance[prev, loc])
        prev, t = loc, begin + order.service_s
        if sequence == reload_after:
            arrival = t + int(duration[prev, start_loc])
            reloads.append(
                PlannedReload(
                    sequence, arrival, arrival, int(distance[prev, start_loc]), int(duration[prev, start_loc])
                )
            )
            km += int(distance[prev, start_loc])
            prev, t = start_loc, arrival
    end_loc = problem.depot_location(vehicle.end_depot_id)
    end = t + int(duration[prev, end_loc])
    km += int(distance[prev, end_loc])
    by_id = {o.order_id: o for o in problem.orders}
    return PlannedRoute(
        route_id=f"R-{vehicle_id}",
        vehicle_id=vehicle_id,
        vehicle_type=vehicle.vehicle_type,
        stops=tuple(stops),
        start_s=start_s,
        end_s=end,
        distance_m=km,
        duration_s=end - start_s,
        weight_g=sum(by_id[o].weight_g for o in order_ids),
        volume_cm3=sum(by_id[o].volume_cm3 for o in order_ids),
        cost_eur=0.0,
        start_depot_id=vehicle.start_depot_id or "",
        end_depot_id=vehicle.end_depot_id or "",
        reloads=tuple(reloads),
    )


def _left_out(problem: Problem, routes: list[PlannedRoute], config: SolveConfig | None = None) -> dict[str, tuple]:
    """diagnose_left_out for every order on none of ``routes``."""
    planned = {s.order_id for r in routes for s in r.stops}
    left_out = [i for i, o in enumerate(problem.orders) if o.order_id not in planned]
    found = diagnose_left_out(problem, left_out, routes, _matrices(problem), config)
    assert [u.order_id for u in found] == [problem.orders[i].order_id for i in left_out]
    return {u.order_id: (u.reason_code, u.reason) for u in found}


def _north_depot(km: float = 40, **kwargs) -> Depot:
    """A second depot ``km`` north of the test depot (06:00-20:00 unless given)."""
    fields = dict(opens_s=6 * HOUR, closes_s=20 * HOUR)
    fields.update(kwargs)
    return Depot(depot_id="D-NORTH", lat=km * 1000 / METRES_PER_DEGREE_LAT, lon=0.0, **fields)


def test_every_code_has_an_action():
    """ACTIONS says what to do for exactly the codes of REASON_CODES; the new codes are documented, and the
    pre-solve codes keep their order with TOO_MANY_PARCELS after TOO_BULKY and the pair check last."""
    assert set(ACTIONS) == set(REASON_CODES)
    assert all(text.endswith(".") for text in ACTIONS.values())
    assert {"TOO_MANY_PARCELS", "PAIR_UNSERVABLE", "ROUTE_LIMIT"} <= set(REASON_CODES)
    assert PRESOLVE_CODES == (
        "OUTSIDE_AREA",
        "NO_VEHICLE",
        "INVALID_WINDOW",
        "NO_SKILLED_VEHICLE",
        "TOO_HEAVY",
        "TOO_BULKY",
        "TOO_MANY_PARCELS",
        "WINDOW_UNREACHABLE",
        "PAIR_UNSERVABLE",
    )


def test_working_window_uses_start_and_end_depots_overtime_and_break():
    """Leave the start depot at max(shift start, its opening); back at the end depot by min(shift end +
    overtime, its closing), less a break that opens before then; empty when the start depot is closed."""
    north = _north_depot(opens_s=9 * HOUR, closes_s=17 * HOUR)
    vehicle = van(start_depot_id="D-NORTH", max_overtime_s=HOUR)
    problem = Problem(depot=depot(), orders=(), vehicles=(vehicle,), depots=(north,))
    assert working_window(vehicle, problem) == (9 * HOUR, 19 * HOUR)
    ends_north = van(end_depot_id="D-NORTH", max_overtime_s=HOUR)
    assert working_window(ends_north, problem) == (8 * HOUR, 17 * HOUR)
    with_break = van(max_overtime_s=HOUR, break_s=1800, break_earliest_s=12 * HOUR, break_latest_s=13 * HOUR)
    assert working_window(with_break, problem) == (8 * HOUR, 18 * HOUR + 1800)
    late_break = van(break_s=1800, break_earliest_s=19 * HOUR, break_latest_s=20 * HOUR)
    assert working_window(late_break, problem) == (8 * HOUR, 18 * HOUR)
    capped = van(max_overtime_s=2 * HOUR, max_duration_s=9 * HOUR)
    assert working_window(capped, problem) == (8 * HOUR, 17 * HOUR)
    evening = van(start_depot_id="D-NORTH", shift_start_s=18 * HOUR, shift_end_s=22 * HOUR)
    depart, back_by = working_window(evening, problem)
    assert depart > back_by


def test_too_many_parcels_after_too_bulky():
    """30 parcels for vans holding 20 is TOO_MANY_PARCELS naming both counts; an order also too bulky is TOO_BULKY;
    a van without a parcels limit takes it."""
    orders = (order_north("MANY", 1, parcels=30), order_north("BIG", 1, parcels=30, volume_cm3=12_000_000))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01", capacity_parcels=20),))
    servable, reasons = _presolve(problem)
    assert servable == []
    assert reasons["MANY"] == ("TOO_MANY_PARCELS", "has 30 parcels; the largest vehicle holds 20 parcels")
    assert reasons["BIG"][0] == "TOO_BULKY"
    unlimited = Problem(depot=depot(), orders=orders[:1], vehicles=(van("V-01", capacity_parcels=20), van("V-02")))
    assert _presolve(unlimited) == (["MANY"], {})


def test_any_window_makes_an_order_reachable():
    """A 05:00-07:00 window misses the 08:00-18:00 shift, but a second window 10:00-11:00 is served; with a second
    window at 20:00 too the order is WINDOW_UNREACHABLE and the reason lists both windows."""
    evening_too = order_north("B", 1, tw_start_s=5 * HOUR, tw_end_s=7 * HOUR, extra_windows=((20 * HOUR, 21 * HOUR),))
    orders = (order_north("A", 1, tw_start_s=5 * HOUR, tw_end_s=7 * HOUR, extra_windows=((10 * HOUR, 11 * HOUR),)),)
    problem = Problem(depot=depot(), orders=(*orders, evening_too), vehicles=(van(),))
    servable, reasons = _presolve(problem)
    assert servable == ["A"]
    code, reason = reasons["B"]
    assert code == "WINDOW_UNREACHABLE"
    assert "windows 05:00-07:00, 20:00-21:00" in reason
    reachable, earliest = reachable_alone(problem, _matrices(problem))
    assert reachable.tolist() == [[True, False]]
    assert earliest[0, 0] == 10 * HOUR


def test_one_invalid_window_of_several_is_ignored():
    """An extra window that ends before it starts does not block the order's valid window; all invalid is
    INVALID_WINDOW."""
    mixed = order_north("MIXED", 1, extra_windows=((12 * HOUR, 11 * HOUR),))
    broken = order_north("BROKEN", 1, tw_start_s=10 * HOUR, tw_end_s=9 * HOUR)
    problem = Problem(depot=depot(), orders=(mixed, broken), vehicles=(van(),))
    servable, reasons = _presolve(problem)
    assert servable == ["MIXED"]
    assert reasons["BROKEN"][0] == "INVALID_WINDOW"


def test_reachability_from_the_vehicles_own_depots():
    """An order 41 km north due 08:00-08:10 is out of reach from the problem's depot (52 km away by road) but
    not for a van that starts and ends at a depot 40 km north; a van ending at a depot that closes at 12:00 cannot
    serve an afternoon window."""
    orders = (
        order_north("NEAR-NORTH", 41, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 600),
        order_north("AFTERNOON", 1, tw_start_s=14 * HOUR, tw_end_s=15 * HOUR),
    )
    vehicles = (
        van("V-HOME"),
        van("V-NORTH", start_depot_id="D-NORTH", end_depot_id="D-NORTH"),
        van("V-TO-NORTH", end_depot_id="D-NORTH"),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=vehicles, depots=(_north_depot(closes_s=12 * HOUR),))
    reachable, _ = reachable_alone(problem, _matrices(problem))
    assert reachable.tolist() == [[False, True], [True, False], [False, False]]
    assert _presolve(problem) == (["NEAR-NORTH", "AFTERNOON"], {})


def test_round_trip_beyond_max_distance_or_duration():
    """An order 40 km north (104 km there and back) for a van allowed 100 km is WINDOW_UNREACHABLE naming both
    distances; for a van allowed 2 h on the road (the trip takes 2 h 54 min) naming the durations."""
    far = (order_north("FAR", 40),)
    by_distance = Problem(depot=depot(), orders=far, vehicles=(van(max_distance_m=100_000),))
    code, reason = _presolve(by_distance)[1]["FAR"]
    assert code == "WINDOW_UNREACHABLE"
    assert "104 km" in reason and "(100 km)" in reason
    by_duration = Problem(depot=depot(), orders=far, vehicles=(van(max_duration_s=2 * HOUR),))
    code, reason = _presolve(by_duration)[1]["FAR"]
    assert code == "WINDOW_UNREACHABLE"
    assert "2 h 54 min" in reason and "(2 h 00 min, break reserved)" in reason
    assert _presolve(Problem(depot=depot(), orders=far, vehicles=(van(max_distance_m=110_000),)))[0] == ["FAR"]


def test_max_duration_counts_from_the_latest_useful_departure():
    """A 2 h route limit does not stop a 15:00 window 1 km away: the van leaves just before it, not at 08:00."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("A", 1, tw_start_s=15 * HOUR, tw_end_s=16 * HOUR),),
        vehicles=(van(max_duration_s=2 * HOUR),),
    )
    assert _presolve(problem) == (["A"], {})


def test_mandatory_order_failing_presolve_says_so():
    """A mandatory order too heavy for the fleet is unassigned TOO_HEAVY, and the reason says it was mandatory."""
    problem = Problem(
        depot=depot(), orders=(order_north("M", 1, weight_g=850_000, priority="mandatory"),), vehicles=(van(),)
    )
    assert _presolve(problem)[1]["M"] == (
        "TOO_HEAVY",
        "weighs 850 kg; the largest vehicle carries 700 kg (mandatory order)",
    )


def _shipment(pickup_kwargs: dict, delivery_kwargs: dict) -> tuple[Order, Order]:
    """Pickup P 1 km north and delivery D 2 km north, shipment S-1."""
    pickup = order_north("P", 1, order_type="pickup", shipment_id="S-1", **pickup_kwargs)
    delivery = order_north("D", 2, order_type="delivery", shipment_id="S-1", **delivery_kwargs)
    return pickup, delivery


def test_servable_shipment():
    """A pickup at 08:30-09:00 and its delivery at 09:00-09:30 fit one van: both servable."""
    orders = _shipment(
        dict(tw_start_s=8 * HOUR + 1800, tw_end_s=9 * HOUR), dict(tw_start_s=9 * HOUR, tw_end_s=9 * HOUR + 1800)
    )
    assert _presolve(Problem(depot=depot(), orders=orders, vehicles=(van(),))) == (["P", "D"], {})


def test_shipment_with_an_unservable_end():
    """The delivery's 05:00-06:00 window is unreachable: it is WINDOW_UNREACHABLE and the pickup PAIR_UNSERVABLE,
    quoting the delivery's reason."""
    orders = _shipment({}, dict(tw_start_s=5 * HOUR, tw_end_s=6 * HOUR))
    servable, reasons = _presolve(Problem(depot=depot(), orders=orders, vehicles=(van(),)))
    assert servable == []
    assert reasons["D"][0] == "WINDOW_UNREACHABLE"
    assert reasons["P"] == ("PAIR_UNSERVABLE", f"its paired order D cannot be served: {reasons['D'][1]}")


def test_shipment_whose_ends_only_fail_together():
    """Each end alone is reachable, but the pickup (10:00-10:30) comes after the delivery's window (09:00-09:30):
    the delivery is WINDOW_UNREACHABLE after collecting at P, the pickup PAIR_UNSERVABLE."""
    orders = _shipment(
        dict(tw_start_s=10 * HOUR, tw_end_s=10 * HOUR + 1800), dict(tw_start_s=9 * HOUR, tw_end_s=9 * HOUR + 1800)
    )
    servable, reasons = _presolve(Problem(depot=depot(), orders=orders, vehicles=(van(),)))
    assert servable == []
    code, reason = reasons["D"]
    assert code == "WINDOW_UNREACHABLE"
    assert reason.startswith("after collecting it at P (window 10:00-10:30), no suitable vehicle can deliver it")
    assert reasons["P"][0] == "PAIR_UNSERVABLE"


def test_shipment_needs_one_vehicle_for_both_ends():
    """The pickup needs a tail lift, the delivery refrigeration, and no van has both: the delivery is
    NO_SKILLED_VEHICLE, the pickup PAIR_UNSERVABLE."""
    orders = _shipment(
        dict(required_skills=frozenset({"tail_lift"})), dict(required_skills=frozenset({"refrigerated"}))
    )
    vehicles = (van("V-01", skills=frozenset({"tail_lift"})), van("V-02", skills=frozenset({"refrigerated"})))
    servable, reasons = _presolve(Problem(depot=depot(), orders=orders, vehicles=vehicles))
    assert servable == []
    assert reasons["D"][0] == "NO_SKILLED_VEHICLE"
    assert "no single vehicle at the depot has all of them" in reasons["D"][1]
    assert reasons["P"][0] == "PAIR_UNSERVABLE"


def test_shipment_load_is_the_pickups():
    """A 600 kg pickup fits the 700 kg van, its 1 kg delivery needs the 500 kg tail-lift van: the one vehicle
    for both is too small for the pickup's load, so the pickup is TOO_HEAVY and the delivery PAIR_UNSERVABLE."""
    orders = _shipment(dict(weight_g=600_000), dict(required_skills=frozenset({"tail_lift"})))
    vehicles = (van("V-01"), van("V-02", capacity_weight_g=500_000, skills=frozenset({"tail_lift"})))
    servable, reasons = _presolve(Problem(depot=depot(), orders=orders, vehicles=vehicles))
    assert servable == []
    assert reasons["P"] == ("TOO_HEAVY", "weighs 600 kg; the largest vehicle with tail_lift carries 500 kg")
    assert reasons["D"] == ("PAIR_UNSERVABLE", f"its paired order P cannot be served: {reasons['P'][1]}")


def test_fleet_capacity_names_parcels():
    """A van holding 10 parcels carries 9 on its route: a 3-parcel order (1 kg) left out is FLEET_CAPACITY by
    parcels, not weight."""
    orders = (order_north("A", 1, parcels=5), order_north("B", 2, parcels=4), order_north("C", 3, parcels=3))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_parcels=10),))
    code, reason = _left_out(problem, [_route(problem, "V-01", ["A", "B"])])["C"]
    assert code == "FLEET_CAPACITY"
    assert reason == "every suitable vehicle is too full to take another 3 parcels (parcels capacity)"


def test_reload_left_counts_as_room():
    """The same full van with a reload left has room again: the order is NOT_WORTH_SERVING, not FLEET_CAPACITY;
    once its one reload is used on the route, the second trip's 3 free parcels take it again."""
    orders = (order_north("A", 1, parcels=5), order_north("B", 2, parcels=4), order_north("C", 3, parcels=3))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_parcels=10, max_reloads=1),))
    assert _left_out(problem, [_route(problem, "V-01", ["A", "B"])])["C"][0] == "NOT_WORTH_SERVING"
    full_trips = (order_north("A", 1, parcels=10), order_north("B", 2, parcels=10), order_north("C", 3, parcels=3))
    problem = Problem(depot=depot(), orders=full_trips, vehicles=(van(capacity_parcels=10, max_reloads=1),))
    route = _route(problem, "V-01", ["A", "B"], reload_after=1)
    assert _left_out(problem, [route])["C"][0] == "FLEET_CAPACITY"


def test_route_limit_distance_and_duration():
    """A van allowed 40 km drives 26 km to an order 10 km north and back; one 10 km south would add 26 km:
    ROUTE_LIMIT (distance). Allowed 1 h on the road, the same: ROUTE_LIMIT (duration)."""
    orders = (order_north("N", 10), order_north("S", -10))
    for limit, what in ((dict(max_distance_m=40_000), "distance"), (dict(max_duration_s=HOUR), "duration")):
        problem = Problem(depot=depot(), orders=orders, vehicles=(van(**limit),))
        assert _presolve(problem)[0] == ["N", "S"]
        assert _left_out(problem, [_route(problem, "V-01", ["N"])])["S"] == (
            "ROUTE_LIMIT",
            f"every route with room would exceed its maximum {what} to serve it",
        )


def test_insertion_starts_at_the_routes_own_depot():
    """A van based 40 km north serves B (41 km north, 09:00-10:00); A (42 km north, due 08:00-08:20) fits before
    it from the van's own depot: NOT_WORTH_SERVING. From the problem's depot it would be FLEET_TIME."""
    orders = (
        order_north("A", 42, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 1200),
        order_north("B", 41, tw_start_s=9 * HOUR, tw_end_s=10 * HOUR),
    )
    vehicles = (van(start_depot_id="D-NORTH", end_depot_id="D-NORTH"),)
    problem = Problem(depot=depot(), orders=orders, vehicles=vehicles, depots=(_north_depot(),))
    route = _route(problem, "V-01", ["B"])
    assert (route.start_depot_id, route.end_depot_id) == ("D-NORTH", "D-NORTH")
    assert _left_out(problem, [route])["A"][0] == "NOT_WORTH_SERVING"


def test_not_worth_serving_names_the_penalty():
    """The sentence names the order's unserved penalty and why it has it: its priority with the config, its own
    penalty without one."""
    orders = (
        order_north("A", 1),
        order_north("OPT", -5, priority="optional"),
        order_north("OWN", 3, unserved_penalty_eur=12.5),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    reasons = _left_out(problem, [_route(problem, "V-01", ["A"])], SolveConfig())
    assert reasons["OPT"] == (
        "NOT_WORTH_SERVING",
        "a route has room and time for it, but serving it costs more than its unserved penalty of 100 EUR "
        "(optional order)",
    )
    assert reasons["OWN"][1].endswith("its unserved penalty of 12.5 EUR (set on the order)")
    assert _left_out(problem, [_route(problem, "V-01", ["A"])])["OPT"][1].endswith(
        "its unserved penalty (optional order)"
    )


def test_shipment_left_out_is_explained_together():
    """A van holding 10 parcels collects 4 at Q, then delivers 4 to A (loaded at the depot): at least 4 are on
    board on every leg. A shipment of 7 parcels finds no room between its ends: both ends are FLEET_CAPACITY,
    each naming the other; a shipment of 6 parcels fits and both are NOT_WORTH_SERVING."""
    for parcels, code in ((7, "FLEET_CAPACITY"), (6, "NOT_WORTH_SERVING")):
        pickup, delivery = _shipment(dict(parcels=parcels), dict(parcels=parcels))
        busy = (order_north("Q", 1.5, parcels=4, order_type="pickup"), order_north("A", 3, parcels=4))
        problem = Problem(depot=depot(), orders=(*busy, pickup, delivery), vehicles=(van(capacity_parcels=10),))
        reasons = _left_out(problem, [_route(problem, "V-01", ["Q", "A"])])
        assert reasons["P"][0] == reasons["D"][0] == code
        assert reasons["P"][1].startswith("with its paired order D: ")
        assert reasons["D"][1].startswith("with its paired order P: ")
        if code == "FLEET_CAPACITY":
            assert reasons["P"][1].endswith("another 7 parcels between the pickup and the delivery (parcels capacity)")


def test_new_presolve_codes_come_out_of_solve(fast_config):
    """Through solve: 30 parcels for a 20-parcel van is TOO_MANY_PARCELS, a shipment whose delivery window is before
    the shift leaves its pickup PAIR_UNSERVABLE, a mandatory order too heavy is TOO_HEAVY; the plan validates."""
    pickup, delivery = _shipment({}, dict(tw_start_s=5 * HOUR, tw_end_s=6 * HOUR))
    orders = (
        order_north("MANY", 1, parcels=30),
        pickup,
        delivery,
        order_north("M", 2, weight_g=850_000, priority="mandatory"),
        order_north("OK", 3),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_parcels=20),))
    reasons = _reasons(problem, fast_config)
    assert {order_id: code for order_id, (code, _) in reasons.items()} == {
        "MANY": "TOO_MANY_PARCELS",
        "P": "PAIR_UNSERVABLE",
        "D": "WINDOW_UNREACHABLE",
        "M": "TOO_HEAVY",
    }
    assert reasons["M"][1].endswith("(mandatory order)")
