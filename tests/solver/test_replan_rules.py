"""Re-planning serves an order late rather than dropping it once its window is out of reach
(``ReplanConfig.late_margin_s``): a van that starts two hours late still takes its morning orders.

The instances sit on the meridian through the depot (see tests/solver/factories.py): an order ``k`` km north is
``1.3 * k`` km away by road and the van drives 10 m/s, so times can be read off by hand.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from solver import (
    LiveState,
    Problem,
    ReplanConfig,
    VehicleState,
    remaining_problem,
    replan,
    solve,
    validate_replan,
)
from solver.replan import _initial_routes
from tests.solver.factories import HOUR, SEARCH, depot, order_north, van

AS_OF = 10 * HOUR
"""The van has not left yet at 10:00 (a late start)."""


def _config(**kwargs) -> ReplanConfig:
    fields = dict(time_budget_s=5.0, seed=1, solve_config=SEARCH)
    fields.update(kwargs)
    return ReplanConfig(**fields)


@pytest.fixture
def late_van_day():
    """One van (08:00-18:00) still at the depot at 10:00. ``GONE`` 10 km north (13 km, 21:40 min away) had
    08:00-10:05: out of reach; ``TIGHT`` 1 km north (2:10 min away) has 08:00-10:20: reachable, but by less than
    the 30-min margin; ``EASY`` 2 km north is open 08:00-15:00. The morning plan had all three on the van."""
    orders = (
        order_north("GONE", 10, tw_start_s=8 * HOUR, tw_end_s=10 * HOUR + 300),
        order_north("TIGHT", 1, tw_start_s=8 * HOUR, tw_end_s=10 * HOUR + 1200),
        order_north("EASY", 2, tw_start_s=8 * HOUR, tw_end_s=15 * HOUR),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01"),))
    morning = solve(problem, SEARCH)
    assert morning.unassigned == ()
    return problem, morning, _state()


def _state() -> LiveState:
    van_state = VehicleState(
        vehicle_id="V-01",
        departed=False,
        lat=0.0,
        lon=0.0,
        at_s=AS_OF,
        committed_order_id=None,
        committed_done_s=None,
        on_board=(),
        done=(),
    )
    return LiveState(service_date="2026-03-03", as_of_s=AS_OF, vehicles=(van_state,))


def test_an_order_out_of_reach_is_served_late_instead_of_left_out(late_van_day):
    """By default the late van still takes GONE (after its window) and the plan is valid; with hard windows
    (``late_margin_s=None``) GONE is left out as WINDOW_UNREACHABLE."""
    problem, plan, state = late_van_day
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    served = {s.order_id: s for r in result.plan.routes for s in r.stops}
    assert set(served) == {"GONE", "TIGHT", "EASY"} and result.plan.unassigned == ()
    assert served["GONE"].service_start_s > 10 * HOUR + 300

    hard = replan(problem, plan, state, _config(late_margin_s=None))
    assert [(u.order_id, u.reason_code) for u in hard.plan.unassigned] == [("GONE", "WINDOW_UNREACHABLE")]


def test_an_order_at_risk_keeps_its_window_as_the_preferred_one_and_is_still_served_on_time(late_van_day):
    """TIGHT is reachable by 10:20 but within the margin: its window runs to the shift end, with its own window
    preferred (worth the on-time bonus), and the re-plan still serves it on time. EASY keeps its window; GONE,
    out of reach, gets the late window without a preferred one."""
    problem, plan, state = late_van_day
    rest = {o.order_id: o for o in remaining_problem(problem, state, _config(), current=plan).problem.orders}
    assert rest["TIGHT"].windows == ((8 * HOUR, 18 * HOUR),)
    assert (rest["TIGHT"].preferred_tw_start_s, rest["TIGHT"].preferred_tw_end_s) == (8 * HOUR, 10 * HOUR + 1200)
    assert rest["TIGHT"].preferred_bonus_eur == 50.0
    assert rest["EASY"].windows == ((8 * HOUR, 15 * HOUR),) and not rest["EASY"].has_preferred_window
    assert rest["GONE"].windows == ((8 * HOUR, 18 * HOUR),) and not rest["GONE"].has_preferred_window

    result = replan(problem, plan, state, _config())
    tight = next(s for r in result.plan.routes for s in r.stops if s.order_id == "TIGHT")
    assert tight.service_start_s <= 10 * HOUR + 1200


def test_an_order_at_risk_in_its_last_window_loses_a_preferred_window_of_an_earlier_one(late_van_day):
    """GONE with a second window 10:00-10:05 and a learned preferred window in its first one (08:15-08:45): out of
    reach, it is served late in 10:00-18:00 without the preferred window (the re-plan raised "preferred window ...
    is not inside its window" before)."""
    problem, plan, state = late_van_day
    orders = tuple(
        replace(
            o,
            tw_start_s=8 * HOUR,
            tw_end_s=9 * HOUR,
            extra_windows=((10 * HOUR, 10 * HOUR + 300),),
            preferred_tw_start_s=8 * HOUR + 900,
            preferred_tw_end_s=8 * HOUR + 2700,
            preferred_bonus_eur=5.0,
        )  # fmt: skip
        if o.order_id == "GONE"
        else o
        for o in problem.orders
    )
    problem = replace(problem, orders=orders)
    rest = {o.order_id: o for o in remaining_problem(problem, state, _config(), current=plan).problem.orders}
    assert rest["GONE"].windows == ((10 * HOUR, 18 * HOUR),) and not rest["GONE"].has_preferred_window
    result = replan(problem, plan, state, _config())
    gone = next(s for r in result.plan.routes for s in r.stops if s.order_id == "GONE")
    assert gone.service_start_s > 10 * HOUR + 300


def test_a_wider_margin_puts_more_orders_at_risk(late_van_day):
    """With a 6-hour margin EASY (reachable by 10:04, window to 15:00) is at risk too; with none, only GONE."""
    problem, plan, state = late_van_day
    wide = {o.order_id: o for o in remaining_problem(problem, state, _config(late_margin_s=6 * HOUR)).problem.orders}
    assert wide["EASY"].windows == ((8 * HOUR, 18 * HOUR),) and wide["EASY"].has_preferred_window
    none = {o.order_id: o for o in remaining_problem(problem, state, _config(late_margin_s=0)).problem.orders}
    assert none["TIGHT"].windows == ((8 * HOUR, 10 * HOUR + 1200),)
    assert none["GONE"].windows == ((8 * HOUR, 18 * HOUR),)


@pytest.mark.parametrize(
    "kwargs",
    [{"late_margin_s": -1}, {"late_margin_s": 1.5}, {"on_time_bonus_eur": -1.0}, {"on_time_bonus_eur": float("inf")}],
)
def test_bad_late_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        ReplanConfig(**kwargs)


def _vehicle_state(
    vehicle_id, *, committed, done_s, on_board, done=(), lat=0.0, at_s=8 * HOUR, trip=None
) -> VehicleState:
    return VehicleState(
        vehicle_id=vehicle_id,
        departed=True,
        lat=lat,
        lon=0.0,
        at_s=at_s,
        committed_order_id=committed,
        committed_done_s=done_s,
        on_board=on_board,
        done=done,
        trip=trip,
    )


def test_an_order_two_vehicles_claim_as_committed_stays_on_the_one_there_first():
    """A live state in which V-01 (done at 08:10) and V-02 (done at 08:15) both head for N1: the re-plan keeps N1
    once, as V-01's committed stop, and passes validate_replan."""
    orders = tuple(order_north(f"N{k}", k) for k in (1, 2, 3))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01"), van("V-02")))
    plan = solve(problem, SEARCH)
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=8 * HOUR + 300,
        vehicles=(
            _vehicle_state("V-02", committed="N1", done_s=8 * HOUR + 900, on_board=("N1", "N3")),
            _vehicle_state("V-01", committed="N1", done_s=8 * HOUR + 600, on_board=("N1", "N2")),
        ),
    )
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    n1 = [(r.vehicle_id, s.status) for r in result.plan.routes for s in r.stops if s.order_id == "N1"]
    assert n1 == [("V-01", "committed")]


@pytest.mark.parametrize("trip", [None, 2])
def test_a_committed_stop_after_a_reload_keeps_the_plan_valid(trip):
    """A van carrying three 1 kg orders delivers six within 1.2 km in two trips (one 5-min reload); after the
    first trip and the reload it heads for the first stop of trip 2. The re-plan passes validate_replan, which
    numbers trips without the current plan. A state that knows the trip the van is on (its depot departures) puts
    the committed stop and the rest on trip 2, and the route's load is one trip's 3 kg; it was the two trips'
    6 kg, over the van's capacity, which failed the plan marts' capacity test. Without it, the finished stops'
    trip."""
    orders = tuple(order_north(f"O{k}", 0.2 * k) for k in range(1, 7))
    problem = Problem(
        depot=replace(depot(), reload_s=300),
        orders=orders,
        vehicles=(van("V-01", capacity_weight_g=3000, max_reloads=1),),
    )
    plan = solve(problem, SEARCH)
    (route,) = plan.routes
    assert [s.trip for s in route.stops] == [1, 1, 1, 2, 2, 2]
    first, second = route.stops[:3], route.stops[3:]
    done = tuple(replace(s, status="delivered") for s in first)
    t = second[0].arrival_s - 30
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=t,
        vehicles=(
            _vehicle_state(
                "V-01",
                committed=second[0].order_id,
                done_s=second[0].departure_s,
                on_board=tuple(s.order_id for s in second),
                done=done,
                at_s=t,
                trip=trip,
            ),
        ),
        delivered=frozenset(s.order_id for s in first),
    )
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    (new_route,) = result.plan.routes
    assert [s.status for s in new_route.stops] == ["delivered"] * 3 + ["committed", "planned", "planned"]
    if trip is not None:
        assert [s.trip for s in new_route.stops] == [1, 1, 1, 2, 2, 2]
        assert new_route.weight_g == 3000


def test_a_route_reloaded_during_the_day_reports_the_heaviest_trip_as_its_load():
    """The van of the two-trip day, re-planned while it drives trip 2: six 1 kg orders were delivered over the day,
    but it never carried more than its 3 kg at once; the route reports 3 kg (the dbt mart checks load <= capacity)."""
    orders = tuple(order_north(f"O{k}", 0.2 * k) for k in range(1, 7))
    problem = Problem(
        depot=replace(depot(), reload_s=300),
        orders=orders,
        vehicles=(van("V-01", capacity_weight_g=3000, max_reloads=1),),
    )
    plan = solve(problem, SEARCH)
    (route,) = plan.routes
    first, second = route.stops[:3], route.stops[3:]
    t = second[0].arrival_s - 30
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=t,
        vehicles=(
            _vehicle_state(
                "V-01",
                committed=None,
                done_s=None,
                on_board=(),
                done=tuple(replace(s, status="delivered") for s in first),
                at_s=t,
            ),
        ),
        delivered=frozenset(s.order_id for s in first),
    )
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    (new_route,) = result.plan.routes
    assert sum(s.status != "failed" for s in new_route.stops) == 6
    assert new_route.weight_g == 3000 <= problem.vehicles[0].capacity_weight_g


def test_a_failed_parcel_still_on_the_van_is_retried_on_the_trip_under_way():
    """V-01 is on the road with N2 and N3 on board; N2 failed (not home) and is retried (a learned rate says the
    customer is likely home later). Both stay on board of the trip under way (the van carries N2 until it is back
    at its depot): the retry is planned on that trip, without a reload, and the re-plan passes validate_replan."""
    orders = tuple(order_north(f"N{k}", k) for k in (1, 2, 3))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01", max_reloads=1),))
    plan = solve(problem, SEARCH)
    t = 9 * HOUR
    failed_stop = replace(
        next(s for s in plan.routes[0].stops if s.order_id == "N2"),
        sequence=1,
        arrival_s=t - 600,
        service_start_s=t - 600,
        departure_s=t - 540,
        status="failed",
    )
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=t,
        vehicles=(
            _vehicle_state(
                "V-01",
                committed=None,
                done_s=None,
                on_board=("N2", "N3"),
                done=(failed_stop,),
                lat=orders[1].lat,
                at_s=t,
            ),
        ),
        failed={"N2": "not_home"},
        # Likely at home the rest of the day (a learned rate), so N2 is tried again.
        success_by_hour={"N2": dict.fromkeys(range(24), 0.9)},
    )
    rest = remaining_problem(problem, state, _config(), current=plan)
    assert rest.starts["V-01"].on_board == frozenset({"N2", "N3"})
    assert "N2" in {o.order_id for o in rest.problem.orders}
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    retry = [s for r in result.plan.routes for s in r.stops if s.order_id == "N2" and s.status == "planned"]
    assert len(retry) == 1 and retry[0].trip == 1


def _replanned_at_nine(orders, on_board, km):
    """One van (it may reload once) at 09:00 finishing its committed stop C, ``km`` north, with ``on_board``: the
    problem, the live state and the re-plan."""
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01", max_reloads=1),))
    plan = solve(problem, SEARCH)
    at = 9 * HOUR
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=at,
        vehicles=(
            _vehicle_state("V-01", committed="C", done_s=at + 60, on_board=on_board, lat=km / 111.195, at_s=at),
        ),
    )
    return problem, state, replan(problem, plan, state, _config())


def test_a_pickup_is_no_way_round_the_reload_for_parcels_at_the_depot():
    """A van 10 km out, finishing its stop C there, with L on board; a return P to collect just beyond L, and H1-H3
    waiting at the depot next to P. The search serves all five, H1-H3 after a reload, and the plan passes
    validate_replan. The first-trip rule barred the edges into a depot parcel only from the van's position and from
    on-board orders, so L, P, H1.. (through the pickup) looked like one trip: the search served 2 of the 5 and the
    guard fell back to the current routes (at default scale, two re-plan jobs failed plan_is_valid on such a
    route). L may ride along through the reload (it stays in the van)."""
    orders = (
        order_north("C", 10.0),
        order_north("L", 10.5),
        order_north("P", 11.0, order_type="pickup"),
        *(order_north(f"H{k}", 11.0 + 0.2 * k) for k in (1, 2, 3)),
    )
    problem, state, result = _replanned_at_nine(orders, on_board=("C", "L"), km=10)
    assert result.kept_current is None
    assert validate_replan(problem, result.plan, state, _config()) == []
    (route,) = result.plan.routes
    trips = {s.order_id: s.trip for s in route.stops}
    assert set(trips) == {"C", "L", "P", "H1", "H2", "H3"}
    assert all(trips[f"H{k}"] > trips["C"] for k in (1, 2, 3))


def test_a_parcel_on_board_of_one_van_is_not_warm_started_on_another():
    """The current plan has N3 on V-02, but V-01 carries it (it left with it; an earlier re-plan had left it out of
    V-01's route). The warm start leaves N3 off V-02's route (it was on it: a start the search could not use), and
    the re-plan serves N3 from V-01, where the parcel is, and passes validate_replan."""
    orders = tuple(order_north(f"N{k}", k) for k in (1, 2, 3, 4))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01"), van("V-02")))
    plan = solve(problem, SEARCH)
    # The current plan: V-01 N1, N2; V-02 N4, N3 (moved there by an earlier re-plan).
    template = plan.routes[0]
    stop = template.stops[0]
    plan = replace(
        plan,
        routes=tuple(
            replace(
                template,
                route_id=f"R-{vid}",
                vehicle_id=vid,
                stops=tuple(replace(stop, order_id=o, sequence=k) for k, o in enumerate(ids, start=1)),
            )
            for vid, ids in (("V-01", ("N1", "N2")), ("V-02", ("N4", "N3")))
        ),
    )
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=8 * HOUR + 300,
        vehicles=(
            _vehicle_state("V-01", committed="N1", done_s=8 * HOUR + 600, on_board=("N1", "N2", "N3")),
            _vehicle_state("V-02", committed="N4", done_s=8 * HOUR + 900, on_board=("N4",), lat=4 / 111.195),
        ),
    )
    start = _initial_routes(plan, remaining_problem(problem, state, _config(), current=plan))
    assert "N3" not in start.get("V-02", [])
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    n3 = [r.vehicle_id for r in result.plan.routes for s in r.stops if s.order_id == "N3"]
    assert n3 == ["V-01"]


def test_a_parcel_on_board_for_the_evening_rides_along_through_a_reload():
    """A van on the road at 09:00, finishing its stop C 2 km north, still carries E (3 km north, 17:00-18:00).
    M1-M3 wait at the depot for 10:00-12:00, 2-3 km south. The re-plan heads home after C, loads M1-M3, serves them
    in their window and E in its own on the same trip, and passes validate_replan. When what was on board had to go
    on the trip under way, the van had to wait for E until 17:00 before its reload, and M1-M3 were left out (a van
    of a default-scale day stood 179 min at one door that way)."""
    window = dict(tw_start_s=10 * HOUR, tw_end_s=12 * HOUR)
    orders = (
        order_north("C", 2.0),
        order_north("E", 3.0, tw_start_s=17 * HOUR, tw_end_s=18 * HOUR),
        *(order_north(f"M{k}", -1.5 - 0.5 * k, **window) for k in (1, 2, 3)),
    )
    problem, state, result = _replanned_at_nine(orders, on_board=("C", "E"), km=2)
    assert validate_replan(problem, result.plan, state, _config()) == []
    assert result.plan.unassigned == ()
    (route,) = result.plan.routes
    stops = {s.order_id: s for s in route.stops}
    assert [r.after_sequence for r in route.reloads] == [stops["C"].sequence]
    assert stops["E"].trip == stops["M1"].trip == stops["C"].trip + 1
    assert all(10 * HOUR <= stops[f"M{k}"].service_start_s <= 12 * HOUR for k in (1, 2, 3))
    assert 17 * HOUR <= stops["E"].service_start_s <= 18 * HOUR


def _n1_delivered_n2_failed(plan, n1_at: int, n2_at: int) -> tuple:
    """The finished stops of a van's first trip: N1 delivered from ``n1_at``, N2 failed from ``n2_at``, a minute
    each."""
    n1, n2 = (next(s for s in plan.routes[0].stops if s.order_id == o) for o in ("N1", "N2"))
    return tuple(
        replace(stop, sequence=k, arrival_s=at, service_start_s=at, departure_s=at + 60, trip=1, status=status)
        for k, (stop, at, status) in enumerate(((n1, n1_at, "delivered"), (n2, n2_at, "failed")), start=1)
    )


def test_a_van_back_at_its_depot_leaves_its_failed_parcel_there_and_plans_a_new_trip():
    """V-01 delivered N1, failed at N2 (not home, retried: a learned rate says later) and is back at its depot at
    11:00. N2 is unloaded there like the rest: V-01 starts from the depot with nothing on board, and its next stops
    (N2's retry, N3 waiting for 16:00-17:00) are on trip 2 after a reload, so the driver leaves when trip 2's first
    window calls for it. Counted on board, N2 made the van a van on the road: its next stops went on the finished
    trip without a reload, and the simulated driver set off at once and stood at a door for hours."""
    orders = (
        order_north("N1", 1),
        order_north("N2", 2),
        order_north("N3", 3, tw_start_s=16 * HOUR, tw_end_s=17 * HOUR),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01", max_reloads=1),))
    plan = solve(problem, SEARCH)
    t = 11 * HOUR
    done = _n1_delivered_n2_failed(plan, t - 3600, t - 3000)
    back = replace(
        _vehicle_state("V-01", committed=None, done_s=None, on_board=(), done=done, at_s=t, trip=1), at_depot=True
    )
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=t,
        vehicles=(back,),
        delivered=frozenset({"N1"}),
        failed={"N2": "not_home"},
        success_by_hour={"N2": dict.fromkeys(range(24), 0.9)},
    )
    rest = remaining_problem(problem, state, _config(), current=plan)
    start = rest.starts["V-01"]
    assert (start.mode, start.on_board, start.first_trip) == ("depot", frozenset(), 2)
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    (route,) = result.plan.routes
    new = [s for s in route.stops if s.status == "planned"]
    assert {s.order_id for s in new} == {"N2", "N3"}
    assert all(s.trip == 2 for s in new)
    assert [r.after_sequence for r in route.reloads] == [2]


def test_a_van_heading_home_with_a_failed_parcel_reloads_first_and_the_plan_is_valid():
    """V-01 failed at N2 (retried later: a learned rate) with nothing else left on its trip, 2 km out and committed
    to no stop; W, a new order 2 km south for 10:00-12:00, waits at the depot. The re-plan sends it home first,
    N2 riding along, then serves W and N2 after the reload, and passes validate_replan, which times the new part of
    the route from where the van leaves for its depot. (It timed it from the reload's departure, as if the van left
    there for its first stop: at default scale three re-plan jobs failed plan_is_valid on such routes. And the
    cheap insertion of the warm start tried a new order only after the van's stops, where W's window had closed.)"""
    orders = (
        order_north("N1", 1),
        order_north("N2", 2, tw_start_s=9 * HOUR, tw_end_s=16 * HOUR),
        order_north("W", -2, tw_start_s=10 * HOUR, tw_end_s=12 * HOUR),
    )
    problem = Problem(depot=depot(), orders=orders[:2], vehicles=(van("V-01", max_reloads=1),))
    plan = solve(problem, SEARCH)
    problem = replace(problem, orders=orders)
    t = 10 * HOUR
    done = _n1_delivered_n2_failed(plan, t - 1800, t - 1500)
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=t,
        vehicles=(
            _vehicle_state("V-01", committed=None, done_s=None, on_board=(), done=done, lat=orders[1].lat, at_s=t,
                           trip=1),
        ),  # fmt: skip
        delivered=frozenset({"N1"}),
        failed={"N2": "not_home"},
        new_orders=(orders[2],),
        success_by_hour={"N2": {h: 0.9 if h >= 14 else 0.1 for h in range(24)}},
    )
    rest = remaining_problem(problem, state, _config(), current=plan)
    assert rest.starts["V-01"].mode == "road" and rest.starts["V-01"].on_board == frozenset({"N2"})
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    (route,) = result.plan.routes
    new = {s.order_id: s for s in route.stops if s.status == "planned"}
    assert set(new) == {"N2", "W"}
    assert [r.after_sequence for r in route.reloads] == [2]
    assert new["W"].trip == new["N2"].trip == 2
