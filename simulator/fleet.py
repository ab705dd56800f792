"""The vehicle-type catalogue and the shift patterns of the demo fleet.

Capacities are payload and load volume; costs are in EUR and reflect Liechtenstein / Swiss wage levels
(the driver dominates the hourly cost). Planning speeds are averages on the valley's roads, used until
travel times are learned from telematics.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SHIFTS",
    "VEHICLE_TYPES",
    "WEEKDAYS",
    "WORK_WEEKS",
    "Shift",
    "VehicleType",
]

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Weekday names as written in ``vehicles.work_days``, indexed like ``datetime.date.weekday()``."""


@dataclass(frozen=True)
class VehicleType:
    """A kind of vehicle: one row of ``master/vehicle_types.csv``.

    Attributes
    ----------
    vehicle_type : str
        Unique id, e.g. ``van``.
    description : str
        Human-readable description.
    capacity_kg : float
        Payload in kilograms.
    capacity_l : float
        Load volume in litres.
    avg_speed_kmh : float
        Planning speed on the road in km/h.
    cost_per_km_eur, cost_per_hour_eur, cost_per_day_eur : float
        Variable cost per km driven, cost per hour on route, fixed cost per vehicle used on a day (EUR).
    skills : tuple of str
        Capabilities orders may require, e.g. ``("tail_lift",)``.
    capacity_parcels : int or None
        Parcels (handling units) the vehicle holds; ``None`` for no limit beyond weight and volume.
    max_reloads : int
        Returns to the depot to load again during a route (0: none).
    max_route_km, max_route_hours : float or None
        Longest route; ``None`` for no limit beyond the shift.
    max_overtime_min : int
        Paid overtime after the shift's end, minutes (0: none).
    overtime_cost_per_hour_eur : float
        Premium per hour of overtime, on top of ``cost_per_hour_eur``.
    break_min : int
        The driver's break, minutes (0: none); taken on shifts longer than ``break_after_h`` + 1 h.
    break_after_h : float or None
        Hours after the shift start when the break window opens (it closes 2 h later).
    """

    vehicle_type: str
    description: str
    capacity_kg: float
    capacity_l: float
    avg_speed_kmh: float
    cost_per_km_eur: float
    cost_per_hour_eur: float
    cost_per_day_eur: float
    skills: tuple[str, ...] = ()
    capacity_parcels: int | None = None
    max_reloads: int = 0
    max_route_km: float | None = None
    max_route_hours: float | None = None
    max_overtime_min: int = 0
    overtime_cost_per_hour_eur: float = 0.0
    break_min: int = 0
    break_after_h: float | None = None


# Working-time rule of the demo operation: a 30-minute break on shifts over 6 h, taken 5-7 h after the start.
_BREAK = {"break_min": 30, "break_after_h": 5.0}
_VAN_PARCELS = 240


@dataclass(frozen=True)
class Shift:
    """A daily shift in local time (``HH:MM``)."""

    name: str
    start: str
    end: str


VEHICLE_TYPES: dict[str, VehicleType] = {
    vt.vehicle_type: vt
    for vt in (
        # Vans hold about 240 parcels on their shelves, and may work up to an hour over at a 50% premium.
        VehicleType(
            "van", "Delivery van, 3.5 t class", 800.0, 10_000.0, 32.0, 0.32, 42.0, 45.0,
            capacity_parcels=_VAN_PARCELS, max_overtime_min=60, overtime_cost_per_hour_eur=21.0, **_BREAK,
        ),
        VehicleType(
            "small_truck", "7.5 t box truck with tail lift, for pallets and bulky goods",
            2_500.0, 30_000.0, 28.0, 0.55, 46.0, 90.0, ("tail_lift",), **_BREAK,
        ),
        VehicleType(
            "cargo_bike", "Electric cargo bike for the town centres", 150.0, 1_000.0, 16.0, 0.04, 34.0, 10.0,
            **_BREAK,
        ),
        VehicleType(
            "refrigerated_van", "Refrigerated van, 2-8 degC, for pharmacy and fresh food",
            700.0, 7_500.0, 30.0, 0.38, 44.0, 65.0, ("refrigerated",), **_BREAK,
        ),
    )
}
"""The four vehicle types of the demo fleet, by id."""

SHIFTS: dict[str, Shift] = {
    s.name: s
    for s in (
        Shift("early", "07:00", "16:00"),
        Shift("day", "08:00", "17:30"),
        Shift("late", "11:30", "20:30"),
    )
}
"""Shift patterns: the late shift exists so that evening windows (up to 20:00) can be served."""

WORK_WEEKS: dict[str, tuple[str, ...]] = {
    "mon_fri": WEEKDAYS[:5],
    "mon_sat": WEEKDAYS[:6],
    "all_week": WEEKDAYS,
}
"""Working-day patterns; most vehicles rest on Sunday, one refrigerated van per depot covers it."""
