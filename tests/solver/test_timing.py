"""Tests of solver.timing and of solving with it: exact legs across hours, re-timing, validation, the search.

The line world of :mod:`tests.solver.factories`: orders ``k`` km north of the depot are ``1,300 * k`` m away
by road, and the test van drives 36 km/h (10 m/s) at hour factor 1, so every time below is computed by hand.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import (
    Depot,
    GreatCircleTravelModel,
    Plan,
    PlannedReload,
    PlannedRoute,
    PlannedStop,
    Problem,
    SolveConfig,
    SolveStats,
    TimeDependentTravelModel,
    retime_route,
    solve,
    solve_many,
    validate,
    zone_cells,
)
from tests.solver.factories import HOUR, depot, order_north, random_problem, van

MINUTE = 60


def hours(default: float = 1.0, **by_hour: float) -> tuple[float, ...]:
    """24 hour factors, ``default`` except the hours given as ``h8=0.5``."""
    factors = [default] * 24
    for name, value in by_hour.items():
        factors[int(name[1:])] = value
    return tuple(factors)


@pytest.fixture
def rush_hour() -> TimeDependentTravelModel:
    """Full speed until 08:00, half speed from 08:00 on (the van then drives 5 m/s)."""
    return TimeDependentTravelModel(hour_factor=hours(1.0, **{f"h{h}": 0.5 for h in range(8, 24)}), version="rush")


# --- the model --------------------------------------------------------------------------------------------------


def test_leg_across_an_hour_boundary(rush_hour):
    """10 km leaving 07:50: 600 s cover 6 km at 36 km/h, the other 4 km take 800 s at 18 km/h: 1,400 s."""
    assert rush_hour.leg_duration_s(10_000, 36.0, 7 * HOUR + 50 * MINUTE) == 1400


def test_leg_within_one_hour_is_distance_over_speed(rush_hour):
    """Before 08:00, 3 km take 300 s at 10 m/s; from 08:00 on they take 600 s at 5 m/s; an empty leg takes 0 s."""
    assert rush_hour.leg_duration_s(3000, 36.0, 6 * HOUR) == 300
    assert rush_hour.leg_duration_s(3000, 36.0, 9 * HOUR) == 600
    assert rush_hour.leg_duration_s(0, 36.0, 9 * HOUR) == 0


def test_zone_and_vehicle_factors_scale_the_speed():
    """A zone multiplier of 0.5 doubles the time, a driver pace of 2 halves it and halves the service time."""
    model = TimeDependentTravelModel(hour_factor=hours(), vehicle_factor=(("V-FAST", 2.0),))
    assert model.leg_duration_s(3600, 36.0, 10 * HOUR) == 360
    assert model.leg_duration_s(3600, 36.0, 10 * HOUR, zone_mult=0.5) == 720
    assert model.leg_duration_s(3600, 36.0, 10 * HOUR, vehicle_id="V-FAST") == 180
    assert model.leg_duration_s(3600, 36.0, 10 * HOUR, vehicle_id="V-UNKNOWN") == 360
    assert model.service_factor("V-FAST") == 0.5
    assert model.service_factor("V-UNKNOWN") == 1.0


def test_legs_longer_than_a_day_wrap_around_midnight():
    """At 10 m/s from 00:00 to 12:00 and 5 m/s after, a day covers 648 km: 700 km leaving at noon take a day
    plus the remaining 52 km at 5 m/s (10,400 s); exactly 648 km take exactly a day."""
    model = TimeDependentTravelModel(hour_factor=hours(1.0, **{f"h{h}": 0.5 for h in range(12, 24)}))
    assert model.leg_duration_s(700_000, 36.0, 12 * HOUR) == 24 * HOUR + 10_400
    assert model.leg_duration_s(648_000, 36.0, 12 * HOUR) == 24 * HOUR


def test_zone_cells_floor_the_coordinates():
    """Cells are floor(degrees / cell size) as integers, also south and west of zero."""
    cells = zone_cells(np.array([47.1655, -0.005]), np.array([9.5251, -0.015]))
    assert list(cells) == ["4716:952", "-1:-2"]
    assert list(zone_cells([47.1655], [9.5251], cell_deg=0.1)) == ["471:95"]


def test_leg_zone_multiplier_is_the_geometric_mean_of_both_ends():
    """A leg from a cell at 4.0 to an unlisted cell (1.0) has multiplier sqrt(4 * 1) = 2."""
    lat, lon = np.array([0.005, 0.025]), np.array([0.005, 0.005])
    slow_cell = zone_cells(lat[:1], lon[:1])[0]
    model = TimeDependentTravelModel(hour_factor=hours(), zone_factor={slow_cell: 4.0})
    assert model.leg_zone_multipliers(lat, lon).tolist() == [[4.0, 2.0], [2.0, 1.0]]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hour_factor": (1.0,) * 23}, "24 factors"),
        ({"hour_factor": (1.0,) * 23 + (0.0,)}, "hour 23"),
        ({"hour_factor": (float("nan"),) + (1.0,) * 23}, "hour 0"),
        ({"circuity": 0.0}, "circuity"),
        ({"cell_deg": -0.01}, "cell_deg"),
        ({"zone_factor": (("1:2", -1.0),)}, "zone_factor of 1:2"),
        ({"zone_factor": (("1:2", 1.0), ("1:2", 2.0))}, "twice"),
        ({"vehicle_factor": (("V-01", float("inf")),)}, "vehicle_factor of V-01"),
    ],
)
def test_bad_models_are_refused(changes, message):
    """Hour factors that are not 24 finite positive numbers, and non-positive factors, raise ValueError."""
    fields = {"hour_factor": hours()} | changes
    with pytest.raises(ValueError, match=message):
        TimeDependentTravelModel(**fields)


def test_models_from_lists_and_dicts_equal_those_from_tuples():
    """A list of hour factors and dicts of factors give the same (hashable, comparable) model as tuples."""
    from_tuples = TimeDependentTravelModel(hours(), zone_factor=(("1:2", 0.8),), vehicle_factor=(("V-01", 1.1),))
    from_lists = TimeDependentTravelModel(list(hours()), zone_factor={"1:2": 0.8}, vehicle_factor={"V-01": 1.1})
    assert from_lists == from_tuples
    assert hash(from_lists) == hash(from_tuples)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    factors=st.lists(st.floats(0.05, 3.0), min_size=24, max_size=24),
    distance_m=st.integers(0, 200_000),
    speed_kmh=st.sampled_from((15.0, 18.0, 36.0, 50.0)),
    depart_s=st.integers(0, 30 * HOUR),
    later_s=st.integers(0, 2 * HOUR),
)
def test_leaving_later_never_arrives_earlier(factors, distance_m, speed_kmh, depart_s, later_s):
    """FIFO: for any hour profile and leg, departing later gives an arrival no earlier."""
    model = TimeDependentTravelModel(hour_factor=tuple(factors))
    first = depart_s + model.leg_duration_s(distance_m, speed_kmh, depart_s)
    second = depart_s + later_s + model.leg_duration_s(distance_m, speed_kmh, depart_s + later_s)
    assert second >= first


def test_matrices_use_great_circle_distances_and_the_working_day_speed():
    """Distances equal the great-circle model's; durations use the harmonic mean of hours 8-17.

    Five hours at 0.5 and five at 1.0 average to 2/3 (harmonic), so 1,300 m at 36 km/h take 195 s.
    """
    model = TimeDependentTravelModel(hour_factor=hours(1.0, **{f"h{h}": 0.5 for h in range(8, 13)}))
    assert model.representative_factor == pytest.approx(2 / 3)
    lat = np.array([0.0, order_north("A", 1).lat, order_north("B", 3).lat])
    lon = np.zeros(3)
    timed = model.matrices(lat, lon, [36.0, 18.0])
    plain = GreatCircleTravelModel().matrices(lat, lon, [36.0, 18.0])
    np.testing.assert_array_equal(timed.distance_m, plain.distance_m)
    assert timed.speeds_kmh == (36.0, 18.0)
    assert timed.duration_s[0, 0, 1] == 195
    assert timed.duration_s[1, 0, 2] == round(3900 * 0.15 * 2)


def test_banded_matrices_use_each_rows_departure_hour(rush_hour):
    """Leaving the depot at 07:30 (full speed) 1,300 m take 130 s; leaving order A at 08:30 they take 260 s."""
    lat = np.array([0.0, order_north("A", 1).lat])
    banded = rush_hour.banded_matrices(lat, np.zeros(2), [36.0], np.array([7.5 * HOUR, 8.5 * HOUR]))
    assert banded.duration_s[0].tolist() == [[0, 130], [260, 0]]
    assert banded.distance_m[0].tolist() == [[0, 1300], [1300, 0]]
    # The hour wraps daily: 31:30 is 07:30 of the next day.
    assert rush_hour.banded_matrices(lat, np.zeros(2), [36.0], np.array([31.5 * HOUR, 0])).duration_s[0, 0, 1] == 130


# --- re-timing ----------------------------------------------------------------------------------------------------


@pytest.fixture
def three_stop_problem() -> Problem:
    """A, B and C 1, 2 and 3 km north; A opens 08:05, B closes 08:06 (B takes 120 s); the van's shift ends 08:30."""
    orders = (
        order_north("A", 1, tw_start_s=8 * HOUR + 5 * MINUTE),
        order_north("B", 2, tw_end_s=8 * HOUR + 6 * MINUTE, service_s=120),
        order_north("C", 3),
    )
    return Problem(
        depot=depot(), orders=orders, vehicles=(van(shift_start_s=7 * HOUR, shift_end_s=8 * HOUR + 30 * MINUTE),)
    )


def _untimed_route(problem: Problem, start_s: int) -> PlannedRoute:
    """The problem's orders in order on its only vehicle, leaving at ``start_s``, all other times left zero."""
    stops = tuple(PlannedStop(o.order_id, k + 1, 0, 0, 0, 0, 0, 0) for k, o in enumerate(problem.orders))
    vehicle = problem.vehicles[0]
    return PlannedRoute(
        f"D-TEST-{vehicle.vehicle_id}", vehicle.vehicle_id, "van", stops, start_s, 0, 0, 0, 3000, 3000, 0.0
    )


def _plan(route: PlannedRoute) -> Plan:
    return Plan("D-TEST", (route,), (), SolveStats(0.0, 0, route.cost_eur, True, 3, 1, "max_iters"))


def test_retime_route_by_hand(three_stop_problem, rush_hour):
    """Leaving 07:59: A reached 08:02:20 (60 s at 10 m/s, 700 m at 5 m/s) and waits till 08:05; B reached
    08:10:20 after 260 s, 260 s past its window (at risk); C at 08:16:40; back 08:30:40 after 780 s, 40 s over."""
    route = retime_route(_untimed_route(three_stop_problem, 7 * HOUR + 59 * MINUTE), three_stop_problem, rush_hour)
    a, b, c = route.stops
    assert (a.leg_duration_s, a.arrival_s, a.wait_s, a.service_start_s, a.departure_s, a.late_s) == (
        200,
        28_940,
        160,
        29_100,
        29_160,
        0,
    )
    assert (b.leg_duration_s, b.arrival_s, b.service_start_s, b.departure_s, b.late_s) == (
        260,
        29_420,
        29_420,
        29_540,
        260,
    )
    assert (c.leg_duration_s, c.arrival_s, c.departure_s, c.late_s) == (260, 29_800, 29_860, 0)
    assert [s.leg_distance_m for s in route.stops] == [1300, 1300, 1300]
    assert (route.start_s, route.end_s, route.duration_s, route.distance_m) == (28_740, 30_640, 1900, 7800)
    assert route.overtime_s == 40
    assert route.cost_eur == pytest.approx(0.5 * 7.8 + 36 * 1900 / 3600 + 100)
    assert all(s.in_preferred_window is None for s in route.stops)


def test_retime_route_scales_service_by_the_drivers_pace(three_stop_problem):
    """A driver at pace 2 drives 20 m/s and serves B's 120 s in 60 s."""
    model = TimeDependentTravelModel(hour_factor=hours(), vehicle_factor={"V-01": 2.0})
    route = retime_route(_untimed_route(three_stop_problem, 8 * HOUR), three_stop_problem, model)
    a, b, _ = route.stops
    assert (a.leg_duration_s, a.arrival_s, a.service_start_s, a.departure_s) == (65, 28_865, 29_100, 29_130)
    assert (b.arrival_s, b.departure_s) == (29_195, 29_255)


def test_validate_accepts_the_retimed_route_and_catches_missing_flags(three_stop_problem, rush_hour):
    """The re-timed route is valid with its late stop and overtime flagged; without either flag, with a flag on
    a punctual stop, or checked against the great-circle model, it is not."""
    route = retime_route(_untimed_route(three_stop_problem, 7 * HOUR + 59 * MINUTE), three_stop_problem, rush_hour)
    assert validate(three_stop_problem, _plan(route), rush_hour) == []

    def with_stop(k: int, **changes) -> Plan:
        stops = list(route.stops)
        stops[k] = dataclasses.replace(stops[k], **changes)
        return _plan(dataclasses.replace(route, stops=tuple(stops)))

    assert any("reports late_s 0 s" in e for e in validate(three_stop_problem, with_stop(1, late_s=0), rush_hour))
    assert any("reports late_s 30 s" in e for e in validate(three_stop_problem, with_stop(0, late_s=30), rush_hour))
    no_overtime = _plan(dataclasses.replace(route, overtime_s=0))
    assert any("returns to the depot" in e for e in validate(three_stop_problem, no_overtime, rush_hour))
    great_circle = validate(three_stop_problem, _plan(route), GreatCircleTravelModel())
    assert any("outside its window" in e for e in great_circle)
    assert any("the travel model says" in e for e in great_circle)


def test_validate_rejects_times_that_ignore_the_hours(three_stop_problem, rush_hour):
    """A leg timed at full speed after 08:00, or a service not scaled by the driver's pace, is caught."""
    route = retime_route(_untimed_route(three_stop_problem, 7 * HOUR + 59 * MINUTE), three_stop_problem, rush_hour)
    stops = list(route.stops)
    stops[2] = dataclasses.replace(stops[2], leg_duration_s=130, arrival_s=stops[1].departure_s + 130)
    errors = validate(three_stop_problem, _plan(dataclasses.replace(route, stops=tuple(stops))), rush_hour)
    assert any("the travel model says 260 s" in e for e in errors)
    paced = TimeDependentTravelModel(hour_factor=rush_hour.hour_factor, vehicle_factor={"V-01": 2.0})
    assert any("service of 60 s" in e for e in validate(three_stop_problem, _plan(route), paced))


def test_validate_refuses_late_flags_with_the_great_circle_model(line_problem, fast_config):
    """With the great-circle model a stop cannot be late, nor a route in overtime."""
    plan = solve(line_problem, fast_config)
    route = plan.routes[0]
    flagged = dataclasses.replace(route, stops=(dataclasses.replace(route.stops[0], late_s=5), *route.stops[1:]))
    assert any("only time-dependent" in e for e in validate(line_problem, dataclasses.replace(plan, routes=(flagged,))))
    overtime = dataclasses.replace(route, overtime_s=5)
    assert any(
        "only time-dependent" in e for e in validate(line_problem, dataclasses.replace(plan, routes=(overtime,)))
    )


def test_retime_route_refuses_a_route_of_another_problem(three_stop_problem, rush_hour, line_problem):
    """A route whose vehicle or orders the problem lacks is a caller error."""
    route = _untimed_route(three_stop_problem, 8 * HOUR)
    with pytest.raises(ValueError, match="not in the problem"):
        retime_route(dataclasses.replace(route, vehicle_id="V-99"), three_stop_problem, rush_hour)
    with pytest.raises(ValueError, match="not in the problem"):
        retime_route(route, dataclasses.replace(line_problem, orders=line_problem.orders[:1]), rush_hour)


# --- re-timing the route constraints: depots, reloads, breaks, several windows -----------------------------------


def _route(problem: Problem, order_ids: list[str], start_s: int, **changes) -> PlannedRoute:
    """Order ids on the problem's first vehicle from ``start_s``, other times zero, with the given route fields."""
    stops = tuple(PlannedStop(oid, k + 1, 0, 0, 0, 0, 0, 0) for k, oid in enumerate(order_ids))
    load = [o for o in problem.orders if o.order_id in order_ids]
    vehicle = problem.vehicles[0]
    weight, volume = sum(o.weight_g for o in load), sum(o.volume_cm3 for o in load)
    route = PlannedRoute(
        f"D-TEST-{vehicle.vehicle_id}", vehicle.vehicle_id, "van", stops, start_s, 0, 0, 0, weight, volume, 0.0
    )
    return dataclasses.replace(route, **changes)


@pytest.fixture
def depots_problem() -> Problem:
    """A, B, C 1, 2, 3 km north; the van starts at the test depot (reload 300 s), ends at D-NORTH 10 km north,
    may reload once and takes a 10 min break starting 08:05-08:10; its shift runs 07:00-09:00."""
    north = Depot("D-NORTH", order_north("x", 10).lat, 0.0, 6 * HOUR, 20 * HOUR)
    vehicle = van(
        shift_start_s=7 * HOUR,
        shift_end_s=9 * HOUR,
        end_depot_id="D-NORTH",
        max_reloads=1,
        break_s=10 * MINUTE,
        break_earliest_s=8 * HOUR + 5 * MINUTE,
        break_latest_s=8 * HOUR + 10 * MINUTE,
    )
    orders = (order_north("A", 1), order_north("B", 2), order_north("C", 3))
    return Problem(dataclasses.replace(depot(), reload_s=300), orders, (vehicle,), depots=(north,))


@pytest.fixture
def depots_route(depots_problem, rush_hour) -> PlannedRoute:
    """A, a reload, B, the break, C, then on to D-NORTH, leaving 07:55, re-timed under the rush hour."""
    route = _route(
        depots_problem,
        ["A", "B", "C"],
        7 * HOUR + 55 * MINUTE,
        end_depot_id="D-NORTH",
        reloads=(PlannedReload(1, 0, 0, 0, 0),),
        break_after_sequence=2,
        break_start_s=0,
    )
    return retime_route(route, depots_problem, rush_hour)


def test_retime_route_with_depots_a_reload_and_a_break_by_hand(depots_problem, depots_route):
    """A reached 07:57:10 (130 s), left 07:58:10; back at the depot 08:00:40 (110 s at 10 m/s, 200 m at 5 m/s),
    reloaded till 08:05:40; B at 08:14:20 (2,600 m at 5 m/s), left 08:15:20; the break 08:15:20-08:25:20 (after
    its window's latest start: allowed under learned times); C at 08:29:40; 9,100 m on to D-NORTH by 09:01:00,
    60 s of overtime."""
    route = depots_route
    assert [(s.arrival_s, s.departure_s, s.trip) for s in route.stops] == [
        (28_630, 28_690, 1),
        (29_660, 29_720, 2),
        (30_580, 30_640, 2),
    ]
    assert route.reloads == (PlannedReload(1, 28_840, 29_140, 1300, 150),)
    assert (route.break_after_sequence, route.break_start_s) == (2, 29_720)
    assert [s.leg_distance_m for s in route.stops] == [1300, 2600, 1300]
    assert (route.end_s, route.distance_m, route.overtime_s) == (32_460, 15_600, 60)
    assert route.cost_eur == pytest.approx(0.5 * 15.6 + 36 * (32_460 - 28_500) / 3600 + 100)
    assert validate(depots_problem, _plan(route), TimeDependentTravelModel(hour_factor=hours())) != []


def test_validate_times_reloads_and_breaks_exactly_under_learned_times(depots_problem, depots_route, rush_hour):
    """The re-timed route is valid under the model (its late break included) but not under the great-circle
    model; a reload or a break a minute longer than the model's timing is caught."""
    assert validate(depots_problem, _plan(depots_route), rush_hour) == []
    assert any("outside the break window" in e for e in validate(depots_problem, _plan(depots_route)))
    (reload,) = depots_route.reloads
    longer = dataclasses.replace(
        depots_route, reloads=(dataclasses.replace(reload, departure_s=reload.departure_s + 60),)
    )
    assert any("the 300 s reload is done at" in e for e in validate(depots_problem, _plan(longer), rush_hour))
    later = dataclasses.replace(depots_route, break_start_s=depots_route.break_start_s + 60)
    assert any("it starts at 29720 s" in e for e in validate(depots_problem, _plan(later), rush_hour))


def test_retime_route_adds_a_break_the_route_now_needs(rush_hour):
    """Leaving 07:50, A (1 km) and B (2 km) are served before 08:00 and the van is back 08:01:20, past the
    break window's opening at 08:00: the break is added after B, the last stop left by then, 08:00-08:30, and
    the 2,600 m back take 520 s: 08:38:40. Leaving 07:40 it is back at 07:50:40 and needs none."""
    vehicle = van(shift_start_s=7 * HOUR, break_s=30 * MINUTE, break_earliest_s=8 * HOUR, break_latest_s=9 * HOUR)
    problem = Problem(depot(), (order_north("A", 1), order_north("B", 2)), (vehicle,))
    route = retime_route(_route(problem, ["A", "B"], 7 * HOUR + 50 * MINUTE), problem, rush_hour)
    assert [s.departure_s for s in route.stops] == [28_390, 28_580]
    assert (route.break_after_sequence, route.break_start_s, route.end_s) == (2, 8 * HOUR, 31_120)
    assert validate(problem, _plan(route), rush_hour) == []
    early = retime_route(_route(problem, ["A", "B"], 7 * HOUR + 40 * MINUTE), problem, rush_hour)
    assert (early.break_after_sequence, early.break_start_s, early.end_s) == (None, None, 28_240)


def test_retime_route_serves_in_the_next_window_or_flags_the_last_one():
    """At full speed, W (1 km, windows 08:00-08:01 and 09:00-09:30) is reached 08:02:10. Planned without times it
    waits for 09:00, not late; planned for 08:00 (the first window) it is served at once, 70 s late, instead of
    waiting an hour for the second; so it is when the plan already had it late, at 08:01:30, after the first window
    (a re-plan stores its committed stop at its re-timed time: the next re-plan made the van wait for 09:00, and at
    default scale one for 18:00, 8 hours, with 73 parcels on board left out). L (windows 07:00-07:10 and
    07:30-07:40) is reached then too, 1,330 s after its last window closed."""
    model = TimeDependentTravelModel(hour_factor=hours())
    w = order_north(
        "W", 1, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + MINUTE, extra_windows=((9 * HOUR, 9 * HOUR + 30 * MINUTE),)
    )
    late = order_north(
        "L",
        1,
        tw_start_s=7 * HOUR,
        tw_end_s=7 * HOUR + 10 * MINUTE,
        extra_windows=((7 * HOUR + 30 * MINUTE, 7 * HOUR + 40 * MINUTE),),
    )
    arrival = 8 * HOUR + 130
    for order, planned_s, start, late_s in (
        (w, 0, 9 * HOUR, 0),
        (w, 8 * HOUR, arrival, 70),
        (w, 8 * HOUR + 90, arrival, 70),
        (late, 0, arrival, 1330),
    ):
        problem = Problem(depot(), (order,), (van(),))
        route = _route(problem, [order.order_id], 8 * HOUR)
        route = dataclasses.replace(route, stops=(dataclasses.replace(route.stops[0], service_start_s=planned_s),))
        (stop,) = retime_route(route, problem, model).stops
        assert (stop.arrival_s, stop.service_start_s, stop.late_s) == (arrival, start, late_s)
        assert validate(problem, _plan(retime_route(route, problem, model)), model) == []


def test_retime_route_refuses_an_unknown_depot_or_a_misplaced_reload(depots_problem, rush_hour):
    """A route ending at a depot the problem lacks, or reloading after its last stop, is a caller error."""
    with pytest.raises(ValueError, match="D-NOWHERE, which is not in the problem"):
        retime_route(_route(depots_problem, ["A"], 8 * HOUR, end_depot_id="D-NOWHERE"), depots_problem, rush_hour)
    with pytest.raises(ValueError, match="not between two of its 2 stops"):
        retime_route(
            _route(depots_problem, ["A", "B"], 8 * HOUR, reloads=(PlannedReload(2, 0, 0, 0, 0),)),
            depots_problem,
            rush_hour,
        )
    first = _route(depots_problem, ["A", "B"], 8 * HOUR, reloads=(PlannedReload(0, 0, 0, 0, 0),))
    with pytest.raises(ValueError, match="reloads after stops \\[0\\]"):
        retime_route(first, depots_problem, rush_hour)


def test_retime_route_heads_home_first_for_a_vehicle_that_may(depots_problem, rush_hour):
    """A vehicle that may reload first (Vehicle.reload_first, a vehicle on the road) is re-timed through the depot
    before its first stop: 0 m from the test depot (where this route starts), the 300 s reload, then A and B on
    trip 2, timed as the same stops leaving the depot at 08:05:00."""
    problem = dataclasses.replace(
        depots_problem,
        vehicles=(
            dataclasses.replace(
                depots_problem.vehicles[0], reload_first=True, break_s=0, break_earliest_s=None, break_latest_s=None
            ),
        ),
    )
    first = _route(problem, ["A", "B"], 8 * HOUR, reloads=(PlannedReload(0, 0, 0, 0, 0),), end_depot_id="D-NORTH")
    route = retime_route(first, problem, rush_hour)
    assert route.reloads == (PlannedReload(0, 8 * HOUR, 8 * HOUR + 300, 0, 0),)
    assert [s.trip for s in route.stops] == [2, 2]
    plain = _route(problem, ["A", "B"], 8 * HOUR + 300, end_depot_id="D-NORTH")
    assert [s.arrival_s for s in route.stops] == [s.arrival_s for s in retime_route(plain, problem, rush_hour).stops]


# --- solving --------------------------------------------------------------------------------------------------------


@pytest.fixture
def rush_problem() -> Problem:
    """X 9 km north due 08:12 and Y 1 km north (any time); the van's shift starts 07:50."""
    orders = (
        order_north("X", 9, tw_start_s=7 * HOUR + 50 * MINUTE, tw_end_s=8 * HOUR + 12 * MINUTE),
        order_north("Y", 1),
    )
    return Problem(depot=depot(), orders=orders, vehicles=(van(shift_start_s=7 * HOUR + 50 * MINUTE),))


def test_solve_with_learned_times_flags_the_late_stop(rush_problem, fast_config):
    """Only 08:00-09:00 is slow (half speed). Pre-solve sees X reachable at the working day's speed (11,700 m in
    1,287 s, 08:11:27), the search at full speed from the depot's 07:50 (1,170 s, 08:09:30); exactly, 6 km take
    600 s to 08:00 and 5.7 km 1,140 s at 5 m/s: X is reached 08:19:00, 420 s late. The plan is valid under the
    model with X flagged, invalid without the flag, and records the model version.
    """
    model = TimeDependentTravelModel(hour_factor=hours(h8=0.5), version="rush-8")
    plan = solve(rush_problem, fast_config, model)
    assert validate(rush_problem, plan, model) == []
    assert plan.unassigned == ()
    (route,) = plan.routes
    assert [s.order_id for s in route.stops] == ["X", "Y"]
    assert route.start_s == 7 * HOUR + 50 * MINUTE
    assert [(s.arrival_s, s.late_s) for s in route.stops] == [(8 * HOUR + 19 * MINUTE, 420), (32_080, 0)]
    assert (route.end_s, route.overtime_s) == (32_400, 0)
    assert plan.stats.travel_model_version == "rush-8"
    assert plan.stats.objective == pytest.approx(route.cost_eur)
    unflagged = dataclasses.replace(route, stops=(dataclasses.replace(route.stops[0], late_s=0), route.stops[1]))
    errors = validate(rush_problem, dataclasses.replace(plan, routes=(unflagged,)), model)
    assert any("reports late_s 0 s" in e for e in errors)


def test_neutral_model_plans_like_the_great_circle_model(line_problem, fast_config):
    """With every factor 1 the learned model gives the great-circle plan (7.8 km, 960 s) and an empty version."""
    neutral = solve(line_problem, fast_config, TimeDependentTravelModel(hour_factor=hours()))
    plain = solve(line_problem, fast_config)
    assert neutral.routes == plain.routes
    assert plain.stats.travel_model_version == ""


def test_same_seed_gives_the_same_timed_plan():
    """A 40-order depot with hour, zone and driver factors: valid, and identical when solved again or in parallel."""
    problem = random_problem(40, 3, seed=5, n_bikes=1)
    cells = zone_cells([o.lat for o in problem.orders], [o.lon for o in problem.orders])
    model = TimeDependentTravelModel(
        hour_factor=hours(1.2, h7=0.7, h8=0.6, h9=0.8, h16=0.7, h17=0.6),
        zone_factor={cell: 0.8 for cell in sorted(set(cells))[::2]},
        vehicle_factor={"V-00": 1.15, "B-00": 0.9},
        version="test-1",
    )
    config = SolveConfig(seed=3, time_budget_s=60.0, no_improvement_iters=100, max_iters=200)
    first, second = solve(problem, config, model), solve(problem, config, model)
    assert validate(problem, first, model) == []
    assert sum(len(r.stops) for r in first.routes) + len(first.unassigned) == 40

    def without_runtime(plan: Plan) -> Plan:
        return dataclasses.replace(
            plan, stats=dataclasses.replace(plan.stats, runtime_s=0.0, search_s=0.0, build_s=0.0)
        )

    assert without_runtime(first) == without_runtime(second)
    (parallel, _) = solve_many([problem, problem], config, processes=2, travel_model=model)
    assert without_runtime(parallel) == without_runtime(first)
