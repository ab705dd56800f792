"""The one cost model: what a route costs and what leaving an order unserved costs.

Route cost in EUR = km driven x cost per km + hours on route x cost per hour + hours of overtime x overtime
premium + cost per day if the vehicle is used. Inside the solver costs are integers in micro-euro (1e-6 EUR): the
same integer rates set PyVRP's objective and price the reported plan, so the objective and the reported cost per
delivery agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from solver.model import Order, SolveConfig, Vehicle

MICRO_EUR_PER_EUR = 1_000_000


@dataclass(frozen=True)
class CostRates:
    """Integer cost rates of one vehicle in micro-euro.

    Parameters
    ----------
    per_m
        Micro-euro per metre driven.
    per_s
        Micro-euro per second on route (depot departure to depot return).
    fixed
        Micro-euro per day the vehicle is used.
    per_overtime_s
        Micro-euro per second of overtime, on top of ``per_s``.
    """

    per_m: int
    per_s: int
    fixed: int
    per_overtime_s: int = 0


def eur_to_micro(eur: float) -> int:
    """Convert EUR to integer micro-euro (rounded to the nearest)."""
    return round(eur * MICRO_EUR_PER_EUR)


def micro_to_eur(micro: int) -> float:
    """Convert integer micro-euro to EUR."""
    return micro / MICRO_EUR_PER_EUR


def vehicle_rates(vehicle: Vehicle) -> CostRates:
    """Integer micro-euro rates of a vehicle, as given to PyVRP.

    Parameters
    ----------
    vehicle
        The vehicle (EUR per km, per hour, per day).

    Returns
    -------
    CostRates
        ``per_m = round(cost_per_km_eur * 1000)``, ``per_s = round(cost_per_hour_eur * 1e6 / 3600)``,
        ``fixed = round(cost_per_day_eur * 1e6)``,
        ``per_overtime_s = round(overtime_cost_per_hour_eur * 1e6 / 3600)``.
    """
    return CostRates(
        per_m=round(vehicle.cost_per_km_eur * MICRO_EUR_PER_EUR / 1000),
        per_s=round(vehicle.cost_per_hour_eur * MICRO_EUR_PER_EUR / 3600),
        fixed=eur_to_micro(vehicle.cost_per_day_eur),
        per_overtime_s=round(vehicle.overtime_cost_per_hour_eur * MICRO_EUR_PER_EUR / 3600),
    )


def route_cost_micro(vehicle: Vehicle, distance_m: int, duration_s: int, overtime_s: int = 0) -> int:
    """Cost of a non-empty route in micro-euro.

    Parameters
    ----------
    vehicle
        The vehicle driving the route.
    distance_m
        Route distance including the return leg, metres.
    duration_s
        Depot departure to depot return, seconds.
    overtime_s
        Return after the end of the shift, seconds (:attr:`~solver.model.PlannedRoute.overtime_s`). Default 0.

    Returns
    -------
    int
        Micro-euro; equals PyVRP's distance + duration + overtime + fixed vehicle cost of the route.
    """
    rates = vehicle_rates(vehicle)
    return distance_m * rates.per_m + duration_s * rates.per_s + overtime_s * rates.per_overtime_s + rates.fixed


def route_cost_eur(vehicle: Vehicle, distance_m: int, duration_s: int, overtime_s: int = 0) -> float:
    """Cost of a non-empty route in EUR (see :func:`route_cost_micro`)."""
    return micro_to_eur(route_cost_micro(vehicle, distance_m, duration_s, overtime_s))


def unserved_penalty_micro(order: Order, config: SolveConfig) -> int:
    """Penalty for leaving ``order`` unserved, micro-euro (PyVRP's prize of the client).

    Parameters
    ----------
    order
        The order: its own ``unserved_penalty_eur`` if set, else by priority ``"optional"``
        (``config.optional_penalty_eur``), ``"normal"`` (``config.unserved_penalty_eur``), ``"high"``
        (``config.high_priority_penalty_eur``) or ``"mandatory"`` (ten times the high-priority penalty: the search
        must serve it anyway, this only prices an order no route could take).
    config
        Solve configuration with the penalties in EUR.

    Returns
    -------
    int
        Micro-euro.
    """
    if order.unserved_penalty_eur is not None:
        return eur_to_micro(order.unserved_penalty_eur)
    eur = {
        "optional": config.optional_penalty_eur,
        "normal": config.unserved_penalty_eur,
        "high": config.high_priority_penalty_eur,
        "mandatory": 10 * config.high_priority_penalty_eur,
    }[order.priority]
    return eur_to_micro(eur)


def unserved_penalty_eur(order: Order, config: SolveConfig) -> float:
    """Penalty for leaving ``order`` unserved, EUR (see :func:`unserved_penalty_micro`)."""
    return micro_to_eur(unserved_penalty_micro(order, config))
