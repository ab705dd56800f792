"""Builders of solver problems for tests: tiny hand-made ones and seeded random ones of demo size."""

from __future__ import annotations

import numpy as np

from solver import Depot, Order, Problem, SolveConfig, Vehicle

HOUR = 3600
SEARCH = SolveConfig(seed=1, no_improvement_iters=100, max_iters=200)
"""A short seeded search for tiny re-plan instances: iteration caps, so the result does not depend on load."""
METRES_PER_DEGREE_LAT = 111_195.0
"""Metres per degree of latitude on the mean earth sphere (great-circle, before circuity)."""


def depot(opens_s: int = 6 * HOUR, closes_s: int = 20 * HOUR, depot_id: str = "D-TEST") -> Depot:
    """A depot on the equator at longitude 0, where one degree of latitude is a straight north-south line."""
    return Depot(depot_id=depot_id, lat=0.0, lon=0.0, opens_s=opens_s, closes_s=closes_s)


def order_north(order_id: str, km: float, **kwargs) -> Order:
    """An order ``km`` great-circle kilometres due north of :func:`depot` (1 kg, 1 L, 60 s, open all day)."""
    fields = dict(weight_g=1000, volume_cm3=1000, service_s=60, tw_start_s=0, tw_end_s=24 * HOUR)
    fields.update(kwargs)
    return Order(order_id=order_id, lat=km * 1000 / METRES_PER_DEGREE_LAT, lon=0.0, **fields)


def van(vehicle_id: str = "V-01", **kwargs) -> Vehicle:
    """A van: 700 kg, 10 m3, shift 08:00-18:00, 36 km/h (10 m/s), 0.5 EUR/km, 36 EUR/h, 100 EUR/day."""
    fields = dict(
        vehicle_type="van",
        capacity_weight_g=700_000,
        capacity_volume_cm3=10_000_000,
        shift_start_s=8 * HOUR,
        shift_end_s=18 * HOUR,
        speed_kmh=36.0,
        cost_per_km_eur=0.5,
        cost_per_hour_eur=36.0,
        cost_per_day_eur=100.0,
    )
    fields.update(kwargs)
    return Vehicle(vehicle_id=vehicle_id, **fields)


def random_problem(n_orders: int, n_vans: int, seed: int, n_bikes: int = 0, depot_id: str = "D-RANDOM") -> Problem:
    """A demo-like depot: orders scattered within ~12 km, 40 % with a 2 h window, a few needing a tail lift.

    Vans carry 700 kg / 10 m3, bikes 120 kg / 1 m3 at half the speed; half the vans have a tail lift.
    """
    rng = np.random.default_rng(seed)
    d = Depot(depot_id=depot_id, lat=47.17, lon=9.51, opens_s=6 * HOUR, closes_s=20 * HOUR)
    lat = d.lat + rng.normal(0, 0.05, n_orders)
    lon = d.lon + rng.normal(0, 0.06, n_orders)
    orders = []
    for i in range(n_orders):
        windowed = rng.random() < 0.4
        start = int(rng.integers(8, 16)) * HOUR if windowed else 0
        orders.append(
            Order(
                order_id=f"O-{i:05d}",
                lat=float(lat[i]),
                lon=float(lon[i]),
                weight_g=int(rng.integers(500, 30_000)),
                volume_cm3=int(rng.integers(1_000, 120_000)),
                service_s=int(rng.integers(120, 420)),
                tw_start_s=start,
                tw_end_s=start + 2 * HOUR if windowed else 24 * HOUR,
                required_skills=frozenset({"tail_lift"}) if rng.random() < 0.03 else frozenset(),
                priority="high" if rng.random() < 0.05 else "normal",
                order_type="pickup" if rng.random() < 0.1 else "delivery",
            )
        )
    vehicles = [
        van(
            f"V-{k:02d}",
            skills=frozenset({"tail_lift"}) if k % 2 else frozenset(),
            shift_start_s=7 * HOUR,
            shift_end_s=17 * HOUR,
        )
        for k in range(n_vans)
    ]
    vehicles += [
        Vehicle(
            vehicle_id=f"B-{k:02d}",
            vehicle_type="cargo_bike",
            capacity_weight_g=120_000,
            capacity_volume_cm3=1_000_000,
            shift_start_s=8 * HOUR,
            shift_end_s=16 * HOUR,
            speed_kmh=18.0,
            cost_per_km_eur=0.05,
            cost_per_hour_eur=28.0,
            cost_per_day_eur=20.0,
        )
        for k in range(n_bikes)
    ]
    return Problem(depot=d, orders=tuple(orders), vehicles=tuple(vehicles))
