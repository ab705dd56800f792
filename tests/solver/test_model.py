"""Tests of solver.model: bad input is refused at the boundary with a message naming the culprit."""

from __future__ import annotations

import dataclasses
import math

import pytest

from solver import Depot, Problem, SolveConfig
from tests.solver.factories import depot, order_north, van


def test_duplicate_order_id_names_the_order():
    """Two orders with the same id are refused, naming the id."""
    with pytest.raises(ValueError, match="duplicate order id A"):
        Problem(depot=depot(), orders=(order_north("A", 1), order_north("A", 2)), vehicles=(van(),))


def test_duplicate_vehicle_id_names_the_vehicle():
    """Two vehicles with the same id are refused, naming the id."""
    with pytest.raises(ValueError, match="duplicate vehicle id V-01"):
        Problem(depot=depot(), orders=(), vehicles=(van(), van()))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weight_g": -1}, "weight_g of order A"),
        ({"volume_cm3": 1.5}, "volume_cm3 of order A must be an integer"),
        ({"lat": math.nan}, "order A has a missing"),
        ({"lon": 200.0}, "order A has coordinates out of range"),
        ({"priority": "urgent"}, "priority of order A"),
        ({"order_type": "return"}, "order_type of order A"),
        ({"required_skills": {"tail_lift"}}, "required_skills of order A must be a frozenset"),
    ],
)
def test_bad_order_fields_are_refused(changes, message):
    """Negative sizes, non-integers, NaN or out-of-range coordinates and unknown enums raise ValueError."""
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(order_north("A", 1), **changes)


def test_impossible_window_is_accepted():
    """An order whose window ends before it starts is valid input (it becomes INVALID_WINDOW later)."""
    order = order_north("A", 1, tw_start_s=100, tw_end_s=50)
    assert order.tw_end_s < order.tw_start_s


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"speed_kmh": 0.0}, "speed_kmh of vehicle V-01 must be positive"),
        ({"shift_end_s": 0}, "vehicle V-01 ends its shift"),
        ({"cost_per_km_eur": math.inf}, "cost_per_km_eur of vehicle V-01"),
        ({"capacity_weight_g": -5}, "capacity_weight_g of vehicle V-01"),
    ],
)
def test_bad_vehicle_fields_are_refused(changes, message):
    """Zero speed, a shift ending before it starts, infinite costs and negative capacity raise ValueError."""
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(van(), **changes)


def test_depot_closing_before_opening_is_refused():
    """A depot that closes before it opens is refused, naming the depot."""
    with pytest.raises(ValueError, match="depot D-X closes"):
        Depot(depot_id="D-X", lat=0.0, lon=0.0, opens_s=100, closes_s=50)


def test_config_is_checked():
    """A negative time budget or a zero iteration limit is refused."""
    with pytest.raises(ValueError, match="time_budget_s"):
        SolveConfig(time_budget_s=-1.0)
    with pytest.raises(ValueError, match="max_iters"):
        SolveConfig(max_iters=0)


def test_dataclasses_are_frozen():
    """Inputs cannot be changed after validation."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        depot().lat = 1.0  # type: ignore[misc]
