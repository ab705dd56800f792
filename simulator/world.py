"""The demo world: depots, fleet and customer base, built deterministically from a scale and a seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.fleet import SHIFTS, VEHICLE_TYPES, WORK_WEEKS, VehicleType
from simulator.geography import DEPOT_SITES, SETTLEMENTS, Settlement, sample_points
from simulator.scales import SCALES, Scale
from simulator.seeding import rng_for
from simulator.truth import Truth, default_truth

__all__ = [
    "SITE_TYPES",
    "TIMEZONE",
    "Customer",
    "Depot",
    "Vehicle",
    "World",
    "build_world",
]

TIMEZONE = "Europe/Vaduz"
"""Local time zone of the demo operation."""

SITE_TYPES: tuple[str, ...] = ("house", "apartment", "business")

_DEPOT_OPENS, _DEPOT_CLOSES = "06:00", "21:30"
_DEPOT_RELOAD_MIN = 15  # no demo vehicle reloads (max_reloads 0), but the depots could load one in 15 min

# Site-type shares of the customer base by kind of settlement (houses, apartments, businesses).
_SITE_SHARES = {
    "town": (0.40, 0.45, 0.15),
    "village": (0.58, 0.30, 0.12),
    "hillside": (0.75, 0.15, 0.10),
}
_TOWN_POPULATION = 5_000
_UNITS_PER_APARTMENT_BUILDING = 6
# Relative order rate by site type: businesses receive more often than households.
_RATE_BY_SITE = {"house": 1.0, "apartment": 0.8, "business": 2.5}
_RATE_SIGMA = 0.8
_PRESENCE_MIX = {
    "house": (("home_all_day", 0.45), ("commuter", 0.55)),
    "apartment": (("home_all_day", 0.35), ("commuter", 0.65)),
    "business": (("office", 0.7), ("shop", 0.3)),
}


@dataclass(frozen=True)
class Depot:
    """A depot: one row of ``master/depots.csv``. Opening hours are local ``HH:MM``; ``reload_min`` is the time a
    vehicle takes to load again between two trips."""

    depot_id: str
    name: str
    street: str
    postcode: str
    town: str
    lat: float
    lon: float
    opens: str
    closes: str
    timezone: str
    reload_min: int = 0


@dataclass(frozen=True)
class Vehicle:
    """A vehicle: one row of ``master/vehicles.csv``. Shift times are local ``HH:MM``; an empty start or end
    depot is the home depot (the demo fleet starts and ends every route at home)."""

    vehicle_id: str
    depot_id: str
    vehicle_type: str
    shift_start: str
    shift_end: str
    work_days: tuple[str, ...]
    start_depot_id: str = ""
    end_depot_id: str = ""


@dataclass(frozen=True)
class Customer:
    """A customer of the operation, who may order on many days.

    Attributes
    ----------
    customer_id : str
        Stable id, e.g. ``C-000042``.
    site_type : str
        ``house``, ``apartment`` or ``business``.
    street : str
        Street and house number.
    postcode, town : str
        Postcode and settlement name.
    lat, lon : float
        Decimal degrees, rounded to 6 places (about 0.1 m).
    order_rate : float
        Relative chance of ordering on a given day (mean over customers about 1).
    presence_profile : str
        Hidden truth: name of the :class:`simulator.truth.PresenceProfile` saying when someone is there.
    """

    customer_id: str
    site_type: str
    street: str
    postcode: str
    town: str
    lat: float
    lon: float
    order_rate: float
    presence_profile: str


@dataclass(frozen=True)
class World:
    """Everything the demo operation consists of, for one scale and seed.

    Attributes
    ----------
    scale : str
        Name of the scale in :data:`simulator.SCALES`.
    seed : int
        Seed the world was built from.
    timezone : str
        IANA name of the local time zone.
    depots, vehicle_types, vehicles, customers : tuple
        Master data and customer base.
    truth : Truth
        Hidden parameters for the execution simulator; planning must not read them.
    """

    scale: str
    seed: int
    timezone: str
    depots: tuple[Depot, ...]
    vehicle_types: tuple[VehicleType, ...]
    vehicles: tuple[Vehicle, ...]
    customers: tuple[Customer, ...]
    truth: Truth

    @property
    def scale_spec(self) -> Scale:
        """The :class:`simulator.scales.Scale` the world was built from."""
        return SCALES[self.scale]

    def vehicle_type(self, vehicle_type: str) -> VehicleType:
        """Return the vehicle type with id ``vehicle_type``; raise ``KeyError`` if the fleet has none."""
        for vt in self.vehicle_types:
            if vt.vehicle_type == vehicle_type:
                return vt
        raise KeyError(f"no vehicle type {vehicle_type!r} in this world")

    def customers_frame(self) -> pd.DataFrame:
        """Return the customer base as a DataFrame, one row per customer, in id order."""
        return pd.DataFrame(
            {name: [getattr(c, name) for c in self.customers] for name in Customer.__dataclass_fields__}
        )


def build_world(scale: str, seed: int) -> World:
    """Build the demo world for a scale and a seed.

    Parameters
    ----------
    scale : str
        One of :data:`simulator.SCALES` (``small``, ``default``, ``large``).
    seed : int
        Non-negative seed; the same (scale, seed) always gives an equal world.

    Returns
    -------
    World

    Raises
    ------
    ValueError
        If the scale is unknown or the seed negative.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    spec = SCALES[scale]
    vehicles = _build_vehicles(spec)
    used_types = {v.vehicle_type for v in vehicles}
    return World(
        scale=scale,
        seed=seed,
        timezone=TIMEZONE,
        depots=tuple(_build_depot(depot_id) for depot_id in spec.depot_ids),
        vehicle_types=tuple(vt for name, vt in VEHICLE_TYPES.items() if name in used_types),
        vehicles=vehicles,
        customers=_build_customers(SETTLEMENTS[spec.area], spec.n_customers, seed),
        truth=default_truth(),
    )


def _build_depot(depot_id: str) -> Depot:
    site = DEPOT_SITES[depot_id]
    return Depot(
        depot_id=site.depot_id,
        name=site.name,
        street=site.street,
        postcode=site.postcode,
        town=site.town,
        lat=site.lat,
        lon=site.lon,
        opens=_DEPOT_OPENS,
        closes=_DEPOT_CLOSES,
        timezone=TIMEZONE,
        reload_min=_DEPOT_RELOAD_MIN,
    )


def _build_vehicles(spec: Scale) -> tuple[Vehicle, ...]:
    vehicles: list[Vehicle] = []
    numbers: dict[str, int] = {}
    for line in spec.fleet:
        shift = SHIFTS[line.shift]
        code = line.depot_id.removeprefix("D-")[:3]
        for _ in range(line.count):
            numbers[line.depot_id] = numbers.get(line.depot_id, 0) + 1
            vehicles.append(
                Vehicle(
                    vehicle_id=f"V-{code}-{numbers[line.depot_id]:02d}",
                    depot_id=line.depot_id,
                    vehicle_type=line.vehicle_type,
                    shift_start=shift.start,
                    shift_end=shift.end,
                    work_days=WORK_WEEKS[line.work_week],
                )
            )
    return tuple(vehicles)


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    short = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def _settlement_kind(settlement: Settlement) -> str:
    if settlement.hillside:
        return "hillside"
    return "town" if settlement.population >= _TOWN_POPULATION else "village"


def _build_customers(
    settlements: tuple[Settlement, ...], n_customers: int, seed: int
) -> tuple[Customer, ...]:
    counts = _apportion(n_customers, np.array([s.weight for s in settlements]))
    rows: list[dict] = []
    for index, (settlement, count) in enumerate(zip(settlements, counts, strict=True)):
        rng = rng_for(seed, "customers", index)
        rows.extend(_settlement_customers(settlement, int(count), rng))
    # Ids are handed out in a shuffled order so they carry no hint of the place.
    order = rng_for(seed, "customer_ids").permutation(len(rows))
    return tuple(
        Customer(customer_id=f"C-{number:06d}", **rows[row_index])
        for number, row_index in enumerate(order, start=1)
    )


def _settlement_customers(settlement: Settlement, count: int, rng: np.random.Generator) -> list[dict]:
    shares = _SITE_SHARES[_settlement_kind(settlement)]
    site = rng.choice(np.array(SITE_TYPES), size=count, p=shares)
    lat = np.empty(count)
    lon = np.empty(count)

    houses = np.flatnonzero(site == "house")
    lat[houses], lon[houses] = sample_points(settlement, houses.size, rng)
    businesses = np.flatnonzero(site == "business")
    lat[businesses], lon[businesses] = sample_points(settlement, businesses.size, rng, spread_factor=0.7)
    # Apartments share buildings: several customers at one address and point.
    flats = np.flatnonzero(site == "apartment")
    n_buildings = max(1, -(-flats.size // _UNITS_PER_APARTMENT_BUILDING))
    b_lat, b_lon = sample_points(settlement, n_buildings, rng, spread_factor=0.8)
    building = rng.integers(0, n_buildings, flats.size)
    lat[flats], lon[flats] = b_lat[building], b_lon[building]

    # Each street runs through the neighbourhood around an anchor point; an address takes the nearest street.
    a_lat, a_lon = sample_points(settlement, len(settlement.streets), rng)
    street_of = np.argmin((lat[:, None] - a_lat) ** 2 + ((lon[:, None] - a_lon) * 0.68) ** 2, axis=1)
    number = rng.integers(1, 60, count)
    b_number = rng.integers(1, 60, n_buildings)
    number[flats] = b_number[building]

    rate = rng.lognormal(-_RATE_SIGMA**2 / 2, _RATE_SIGMA, count)
    profile = np.empty(count, dtype=object)
    for site_type, mix in _PRESENCE_MIX.items():
        idx = np.flatnonzero(site == site_type)
        names, p = zip(*mix, strict=True)
        profile[idx] = rng.choice(np.array(names), size=idx.size, p=p)

    return [
        {
            "site_type": str(site[i]),
            "street": f"{settlement.streets[street_of[i]]} {number[i]}",
            "postcode": settlement.postcode,
            "town": settlement.name,
            "lat": round(float(lat[i]), 6),
            "lon": round(float(lon[i]), 6),
            "order_rate": round(float(rate[i] * _RATE_BY_SITE[str(site[i])]), 6),
            "presence_profile": str(profile[i]),
        }
        for i in range(count)
    ]
