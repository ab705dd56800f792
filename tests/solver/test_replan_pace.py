"""The re-plan drives the rest of the day at the pace the vans drive now (solver.replan.observed_slowdown).

Heavy rain slows roads by a fifth or more; a re-plan timed at the dry travel model promises ETAs the vans cannot
keep, so stops it plans as on time end up late. The instances sit on the meridian through the depot (see
conftest.py): order ``N<k>`` is ``k`` km north, a leg of 1 km is 1.3 km by road, 130 s at 10 m/s.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from solver import (
    LiveState,
    PlannedStop,
    Problem,
    ReplanConfig,
    VehicleState,
    remaining_problem,
    replan,
    solve,
    validate_replan,
)
from solver.replan import MAX_SLOWDOWN, observed_service_factor, observed_slowdown
from solver.travel import GreatCircleTravelModel
from tests.solver.factories import HOUR, SEARCH, depot, order_north, van

MODEL_LEG_S = 130
"""Model time of a 1 km (1.3 km by road) leg at 36 km/h."""
TRAVEL = GreatCircleTravelModel(circuity=1.3)


def _config(**kwargs) -> ReplanConfig:
    return ReplanConfig(time_budget_s=5.0, seed=1, solve_config=SEARCH, **kwargs)


@pytest.fixture
def ten_north() -> Problem:
    """Orders N1..N10 one km apart due north, 60 s each, open all day; one van from 08:00."""
    orders = tuple(order_north(f"N{k}", k) for k in range(1, 11))
    return Problem(depot=depot(), orders=orders, vehicles=(van("V-01"),))


def _state(problem: Problem, legs_s: list[int], as_of_s: int | None = None, took_s: int = 60) -> LiveState:
    """V-01 has served N1.. in order, reaching N<k+1> from N<k> in ``legs_s[k-1]`` seconds (N1 at 10:00), each stop
    taking ``took_s``, and is at its last stop at ``as_of_s`` (default: when it leaves it); the rest is on board."""
    done, t = [], 10 * HOUR
    for k in range(1, len(legs_s) + 2):
        leg = legs_s[k - 2] if k >= 2 else 0
        t += leg
        done.append(
            PlannedStop(
                order_id=f"N{k}",
                sequence=k,
                arrival_s=t,
                service_start_s=t,
                departure_s=t + took_s,
                wait_s=0,
                leg_distance_m=1300,
                leg_duration_s=leg,
                status="delivered",
            )  # fmt: skip
        )
        t += took_s
    last = problem.orders[len(done) - 1]
    rest = tuple(o.order_id for o in problem.orders[len(done) :])
    vs = VehicleState(
        vehicle_id="V-01", departed=True, lat=last.lat, lon=last.lon, at_s=t, committed_order_id=None,
        committed_done_s=None, on_board=rest, done=tuple(done),
    )  # fmt: skip
    return LiveState(
        service_date="2026-03-03",
        as_of_s=as_of_s if as_of_s is not None else t,
        vehicles=(vs,),
        delivered=frozenset(s.order_id for s in done),
    )


def test_legs_as_fast_as_the_model_leave_the_speeds_alone(ten_north):
    """Legs driven at the model's time: no slowdown, the remaining problem keeps the van's speed."""
    state = _state(ten_north, [MODEL_LEG_S] * 6)
    assert observed_slowdown(ten_north, state, TRAVEL, _config()) == 1.0
    remaining = remaining_problem(ten_north, state, _config(), TRAVEL)
    assert remaining.slowdown == 1.0
    assert remaining.problem.vehicles[0].speed_kmh == 36.0


def test_recent_legs_slower_than_earlier_ones_slow_the_rest_of_the_day(ten_north):
    """Three legs at the model's time, then three 40 % slower within the last hour: the rest of the day is planned
    at 36 / 1.4 km/h."""
    state = _state(ten_north, [MODEL_LEG_S] * 3 + [round(1.4 * MODEL_LEG_S)] * 3)  # the last three in 600 s
    slowdown = observed_slowdown(ten_north, state, TRAVEL, _config(pace_window_s=3 * 200))
    assert slowdown == pytest.approx(1.4, abs=0.02)
    remaining = remaining_problem(ten_north, state, _config(pace_window_s=3 * 200), TRAVEL)
    assert remaining.slowdown == slowdown
    assert remaining.problem.vehicles[0].speed_kmh == pytest.approx(36.0 / slowdown, abs=0.01)


def test_a_day_slow_all_along_is_not_a_slowdown(ten_north):
    """Legs all 40 % slower than the model, before and within the window: the pace has not changed, so the speeds
    stay (the model's bias is the morning plan's too)."""
    state = _state(ten_north, [round(1.4 * MODEL_LEG_S)] * 6)
    assert observed_slowdown(ten_north, state, TRAVEL, _config(pace_window_s=3 * 250)) == 1.0


def test_the_slowdown_is_against_the_days_earlier_legs_and_capped(ten_north):
    """Recent legs three times as long as the earlier ones: capped at MAX_SLOWDOWN. Only recent legs (none earlier
    to compare with): no slowdown, whatever the model says."""
    state = _state(ten_north, [MODEL_LEG_S] * 3 + [3 * MODEL_LEG_S] * 3)
    assert observed_slowdown(ten_north, state, TRAVEL, _config(pace_window_s=3 * 450)) == MAX_SLOWDOWN
    assert observed_slowdown(ten_north, state, TRAVEL, _config(pace_window_s=3 * HOUR)) == 1.0


def test_too_few_legs_or_no_window_measure_nothing(ten_north):
    """Two slow legs are noise; ``pace_window_s=None`` switches the measure off."""
    few = _state(ten_north, [MODEL_LEG_S] * 3 + [2 * MODEL_LEG_S] * 2)
    assert observed_slowdown(ten_north, few, TRAVEL, _config(pace_window_s=500)) == 1.0
    slow = _state(ten_north, [MODEL_LEG_S] * 3 + [2 * MODEL_LEG_S] * 4)
    assert observed_slowdown(ten_north, slow, TRAVEL, _config(pace_window_s=1320)) > 1.0
    assert observed_slowdown(ten_north, slow, TRAVEL, _config(pace_window_s=None)) == 1.0


def test_the_replan_times_the_rest_of_the_day_at_the_slower_pace(ten_north):
    """After three legs 50 % slower than the three before, the re-plan's legs from N8 to N10 are planned 1.5 times as
    long as at the model's pace (``pace_window_s=None``), and its ETAs later; the plan passes validate_replan."""
    state = _state(ten_north, [MODEL_LEG_S] * 3 + [round(1.5 * MODEL_LEG_S)] * 3)
    morning = solve(ten_north, SEARCH, TRAVEL)
    at_model = replan(ten_north, morning, state, _config(pace_window_s=None), TRAVEL).plan
    at_pace = replan(ten_north, morning, state, _config(pace_window_s=700), TRAVEL).plan

    def planned(plan):
        return {s.order_id: s for s in plan.routes[0].stops if s.status == "planned"}

    fast, slow = planned(at_model), planned(at_pace)
    assert set(fast) == set(slow) == {"N8", "N9", "N10"}
    legs = ("N9", "N10")
    assert sum(slow[o].leg_duration_s for o in legs) == pytest.approx(
        1.5 * sum(fast[o].leg_duration_s for o in legs), rel=0.02
    )
    assert slow["N10"].arrival_s > fast["N10"].arrival_s
    assert validate_replan(ten_north, at_pace, state, _config(pace_window_s=700), TRAVEL) == []


def test_a_leg_that_holds_a_wait_at_the_depot_is_no_drive(ten_north):
    """Four recent legs: two at the model's time, one 80 % slower, and one of ~3 h (the van went back to its depot
    and waited there for a new order; the live state sees one leg from its last stop to the next). That leg is no
    drive and counts for nothing: the median of the other three is the model's pace, so no slowdown. (Counted, it
    made the median 1.4 and slowed the rest of the day.)"""
    legs = [MODEL_LEG_S] * 3 + [MODEL_LEG_S, MODEL_LEG_S, round(1.8 * MODEL_LEG_S), 80 * MODEL_LEG_S]
    state = _state(ten_north, legs)
    window = 80 * MODEL_LEG_S + round(1.8 * MODEL_LEG_S) + 2 * MODEL_LEG_S + 4 * 60  # the last four arrivals
    assert observed_slowdown(ten_north, state, TRAVEL, _config(pace_window_s=window)) == 1.0
    # The same four legs with the long one a plain slow drive (within MAX_LEG_PACE): it counts, and slows the day.
    slow = _state(ten_north, [MODEL_LEG_S] * 3 + [MODEL_LEG_S, MODEL_LEG_S, round(1.8 * MODEL_LEG_S), 3 * MODEL_LEG_S])
    window = 3 * MODEL_LEG_S + round(1.8 * MODEL_LEG_S) + 2 * MODEL_LEG_S + 4 * 60
    assert observed_slowdown(ten_north, slow, TRAVEL, _config(pace_window_s=window)) == pytest.approx(1.4, abs=0.02)


@pytest.fixture
def thirty_north() -> Problem:
    """Orders N1..N30 one km apart due north, 60 s each, open all day; one van from 08:00 to 18:00."""
    orders = tuple(order_north(f"N{k}", k) for k in range(1, 31))
    return Problem(depot=depot(), orders=orders, vehicles=(van("V-01"),))


def test_stops_that_take_longer_than_planned_make_the_rest_of_the_day_longer(thirty_north):
    """25 stops took 90 s each where their orders say 60 s: the five open orders are planned at 90 s, and the re-plan
    that serves them passes validate_replan with the same state."""
    state = _state(thirty_north, [MODEL_LEG_S] * 24, took_s=90)
    assert observed_service_factor(thirty_north, state, _config()) == pytest.approx(1.5)
    remaining = remaining_problem(thirty_north, state, _config(), TRAVEL)
    assert remaining.service_factor == pytest.approx(1.5)
    assert [o.service_s for o in remaining.problem.orders] == [90] * 5
    result = replan(thirty_north, solve(thirty_north, SEARCH), state, _config(), TRAVEL)
    assert result.service_factor == pytest.approx(1.5) and result.slowdown == 1.0
    assert validate_replan(thirty_north, result.plan, state, _config(), TRAVEL) == []
    planned = [s for r in result.plan.routes for s in r.stops if s.status == "planned"]
    assert len(planned) == 5 and all(s.departure_s - s.service_start_s == 90 for s in planned)


def test_service_times_about_right_too_few_stops_or_no_tolerance_change_nothing(thirty_north):
    """Stops 5 % longer than planned are within the tolerance; 19 stops are too few to measure;
    ``service_tolerance=None`` switches the measure off; stops quicker than planned never shorten the plan."""
    assert observed_service_factor(thirty_north, _state(thirty_north, [MODEL_LEG_S] * 24, took_s=63), _config()) == 1.0
    assert observed_service_factor(thirty_north, _state(thirty_north, [MODEL_LEG_S] * 18, took_s=120), _config()) == 1.0
    slow = _state(thirty_north, [MODEL_LEG_S] * 24, took_s=120)
    assert observed_service_factor(thirty_north, slow, _config()) == 2.0
    assert observed_service_factor(thirty_north, slow, _config(service_tolerance=None)) == 1.0
    quick = _state(thirty_north, [MODEL_LEG_S] * 24, took_s=30)
    assert observed_service_factor(thirty_north, quick, _config()) == 1.0
    assert [o.service_s for o in remaining_problem(thirty_north, quick, _config(), TRAVEL).problem.orders] == [60] * 5


def test_a_wait_for_the_window_is_no_service_time(thirty_north):
    """25 stops served in their 60 s, one of them reached an hour before its window opened (the arrival event says
    10:00, service ends at 11:01): the wait is not service, the factor stays 1.0. Counted from the arrival, it
    read 3660 s of service for that stop and the factor 2.0 (3.4 before the cap)."""
    state = _state(thirty_north, [MODEL_LEG_S] * 24)
    first = state.vehicles[0].done[0]
    early = replace(first, departure_s=first.arrival_s + HOUR + 60)
    windowed = tuple(
        replace(o, tw_start_s=first.arrival_s + HOUR, tw_end_s=first.arrival_s + 2 * HOUR) if o.order_id == "N1" else o
        for o in thirty_north.orders
    )
    problem = replace(thirty_north, orders=windowed)
    vs = replace(state.vehicles[0], done=(early, *state.vehicles[0].done[1:]))
    assert observed_service_factor(problem, replace(state, vehicles=(vs,)), _config()) == 1.0
    # Arrived within its window, the same hour is service.
    open_all_day = replace(state, vehicles=(vs,))
    assert observed_service_factor(thirty_north, open_all_day, _config()) == 2.0


def test_a_stop_served_at_once_between_two_windows_counts_its_service(thirty_north):
    """N1 (windows 09:00-10:00 and 14:00-15:00) reached at 10:00 + 1 s, after its first window, and served at once in
    70 s like every other stop (planned 60 s): the factor is 70 / 60. Its service was counted from 14:00, after it
    ended, as 0 s, which made the factor read 24 x 70 / (25 x 60) = 1.12."""
    state = _state(thirty_north, [MODEL_LEG_S] * 24, took_s=70)
    first = state.vehicles[0].done[0]
    windowed = tuple(
        replace(
            o,
            tw_start_s=first.arrival_s - HOUR - 1,
            tw_end_s=first.arrival_s - 1,
            extra_windows=((first.arrival_s + 4 * HOUR - 1, first.arrival_s + 5 * HOUR),),
        )
        if o.order_id == "N1"
        else o
        for o in thirty_north.orders
    )
    problem = replace(thirty_north, orders=windowed)
    assert observed_service_factor(problem, state, _config(service_tolerance=0.0)) == pytest.approx(70 / 60)
