"""Named sizes of the demo world: which area, depots, customers, order volume and fleet."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCALES", "FleetLine", "Scale"]


@dataclass(frozen=True)
class FleetLine:
    """``count`` vehicles of one type, shift and working-week pattern at one depot."""

    depot_id: str
    vehicle_type: str
    shift: str
    work_week: str
    count: int


@dataclass(frozen=True)
class Scale:
    """A size of the demo world.

    Attributes
    ----------
    name : str
        ``small``, ``default`` or ``large``.
    area : str
        Key of :data:`simulator.geography.SETTLEMENTS` whose settlements hold the customers.
    depot_ids : tuple of str
        Keys of :data:`simulator.geography.DEPOT_SITES`.
    n_customers : int
        Size of the customer base; orders on each day come from these customers.
    weekday_orders : float
        Mean number of orders on an average weekday (Monday to Friday) before yearly seasonality.
    fleet : tuple of FleetLine
        The vehicles, grouped by depot, type, shift and working week.
    """

    name: str
    area: str
    depot_ids: tuple[str, ...]
    n_customers: int
    weekday_orders: float
    fleet: tuple[FleetLine, ...]


def _lines(depot_id: str, *rows: tuple[str, str, str, int]) -> tuple[FleetLine, ...]:
    return tuple(FleetLine(depot_id, vt, shift, week, count) for vt, shift, week, count in rows)


# Fleets are sized for orders going to the nearest depot. Time, not payload, is the binding limit. A one-off
# PyVRP check (great-circle x 1.35, planning speeds, mean service times of the hidden truth, skills ignored)
# served every order of an ordinary Monday with routes averaging 5-6 h of 9-9.5 h shifts, and for `default`
# also a December-peak Monday (+30%). The late vans carry the evening windows. Payload slack is tested in
# tests/simulator/test_world.py.
SCALES: dict[str, Scale] = {
    "small": Scale(
        name="small",
        area="liechtenstein",
        depot_ids=("D-SCHAAN", "D-TRIESEN"),
        n_customers=600,
        weekday_orders=60.0,
        fleet=_lines(
            "D-SCHAAN",
            ("van", "late", "mon_sat", 1),
            ("small_truck", "day", "mon_fri", 1),
            ("refrigerated_van", "early", "all_week", 1),
        )
        + _lines(
            "D-TRIESEN",
            ("van", "late", "mon_sat", 1),
            ("small_truck", "day", "mon_fri", 1),
            ("refrigerated_van", "early", "all_week", 1),
        ),
    ),
    "default": Scale(
        name="default",
        area="liechtenstein",
        depot_ids=("D-SCHAAN", "D-TRIESEN"),
        n_customers=10_000,
        weekday_orders=1_000.0,
        fleet=_lines(
            "D-SCHAAN",
            ("van", "early", "mon_sat", 4),
            ("van", "late", "mon_fri", 3),
            ("small_truck", "day", "mon_fri", 1),
            ("cargo_bike", "day", "mon_fri", 1),
            ("refrigerated_van", "day", "all_week", 1),
        )
        + _lines(
            "D-TRIESEN",
            ("van", "early", "mon_sat", 2),
            ("van", "late", "mon_fri", 2),
            ("small_truck", "day", "mon_fri", 1),
            ("cargo_bike", "day", "mon_fri", 1),
            ("refrigerated_van", "day", "all_week", 1),
        ),
    ),
    "large": Scale(
        name="large",
        area="rhine_valley",
        depot_ids=("D-SCHAAN", "D-TRIESEN", "D-RUGGELL"),
        n_customers=40_000,
        weekday_orders=5_000.0,
        fleet=_lines(
            "D-SCHAAN",
            ("van", "early", "mon_sat", 12),
            ("van", "late", "mon_fri", 8),
            ("small_truck", "day", "mon_fri", 3),
            ("cargo_bike", "day", "mon_fri", 3),
            ("refrigerated_van", "day", "all_week", 2),
        )
        + _lines(
            "D-TRIESEN",
            ("van", "early", "mon_sat", 8),
            ("van", "late", "mon_fri", 6),
            ("small_truck", "day", "mon_fri", 2),
            ("cargo_bike", "day", "mon_fri", 2),
            ("refrigerated_van", "day", "all_week", 1),
        )
        + _lines(
            "D-RUGGELL",
            ("van", "early", "mon_sat", 12),
            ("van", "late", "mon_fri", 8),
            ("small_truck", "day", "mon_fri", 3),
            ("cargo_bike", "day", "mon_fri", 2),
            ("refrigerated_van", "day", "all_week", 2),
        ),
    ),
}
"""The three sizes: ``small`` (tests), ``default`` (the demo) and ``large`` (benchmarks)."""
