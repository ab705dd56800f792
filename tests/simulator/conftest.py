"""Shared fixtures for the simulator tests: small worlds built once per session."""

from __future__ import annotations

import datetime as dt

import pytest

from simulator import World, build_world

SEED = 7


@pytest.fixture(scope="session")
def small_world() -> World:
    """The ``small`` world (2 depots, 6 vehicles, 600 customers) for seed 7."""
    return build_world("small", SEED)


@pytest.fixture(scope="session")
def default_world() -> World:
    """The ``default`` demo world (2 depots, 10,000 customers) for seed 7."""
    return build_world("default", SEED)


@pytest.fixture(scope="session")
def sample_weekdays() -> list[dt.date]:
    """Forty Monday-to-Friday dates spread over 2026, every ninth day (all weekdays appear)."""
    days = [dt.date(2026, 1, 5) + dt.timedelta(days=9 * i) for i in range(60)]
    return [d for d in days if d.weekday() < 5][:40]
