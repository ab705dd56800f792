"""Tiny named problems shared by the solver tests.

All sit on the meridian through a depot at (0, 0): an order ``k`` km north is ``1.3 * k`` km away by road,
and the test van drives 10 m/s, so every optimum can be computed by hand.
"""

from __future__ import annotations

import pytest

from solver import Problem, SolveConfig
from tests.solver.factories import HOUR, depot, order_north, van


@pytest.fixture
def fast_config() -> SolveConfig:
    """A short deterministic search: enough for problems of a handful of orders."""
    return SolveConfig(time_budget_s=30.0, seed=1, no_improvement_iters=200, max_iters=500)


@pytest.fixture
def line_problem() -> Problem:
    """Three orders 1, 2 and 3 km north of the depot, one van: best route 7.8 km, 960 s, 113.50 EUR."""
    orders = (order_north("A", 1), order_north("B", 2), order_north("C", 3))
    return Problem(depot=depot(), orders=orders, vehicles=(van(),))


@pytest.fixture
def two_sides_problem() -> Problem:
    """Two 5 kg orders north and two south (1 and 2 km), two 10 kg vans: one route per side, 218 EUR."""
    orders = tuple(
        order_north(f"{side}{km}", sign * km, weight_g=5000) for side, sign in (("N", 1), ("S", -1)) for km in (1, 2)
    )
    vehicles = (van("V-01", capacity_weight_g=10_000), van("V-02", capacity_weight_g=10_000))
    return Problem(depot=depot(), orders=orders, vehicles=vehicles)


@pytest.fixture
def early_window_problem() -> Problem:
    """Order A 1 km north (any time), B 2 km north due by 08:05; the van starts 08:00, so B must be first."""
    orders = (order_north("A", 1), order_north("B", 2, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 300))
    return Problem(depot=depot(), orders=orders, vehicles=(van(),))


@pytest.fixture
def full_van_problem() -> Problem:
    """Three 6 kg orders and one van carrying 10 kg: one order is served, two find no room."""
    orders = tuple(order_north(f"O{k}", k, weight_g=6000) for k in (1, 2, 3))
    return Problem(depot=depot(), orders=orders, vehicles=(van(capacity_weight_g=10_000),))
