"""Tests of solver.costs: one integer cost model for the objective and the report."""

from __future__ import annotations

import pytest

from solver import SolveConfig, route_cost_eur, route_cost_micro, unserved_penalty_eur, vehicle_rates
from tests.solver.factories import order_north, van


def test_rates_are_integer_micro_euro():
    """0.5 EUR/km is 500 micro-euro per metre, 36 EUR/h is 10,000 per second, 100 EUR/day is 1e8."""
    rates = vehicle_rates(van())
    assert (rates.per_m, rates.per_s, rates.fixed) == (500, 10_000, 100_000_000)


def test_route_cost_is_km_hours_and_day():
    """10 km and 2 h in the test van cost 5 + 72 + 100 = 177 EUR."""
    assert route_cost_eur(van(), 10_000, 7200) == pytest.approx(177.0)
    assert route_cost_micro(van(), 10_000, 7200) == 177_000_000


def test_unserved_penalty_depends_on_priority():
    """Normal orders cost the normal penalty, high-priority ones the high penalty."""
    config = SolveConfig(unserved_penalty_eur=1000.0, high_priority_penalty_eur=5000.0)
    assert unserved_penalty_eur(order_north("A", 1), config) == 1000.0
    assert unserved_penalty_eur(order_north("B", 1, priority="high"), config) == 5000.0
