"""The order generator: one day's orders from the customer base, deterministic from (seed, service date)."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulator.scales import SCALES
from simulator.seeding import rng_for
from simulator.world import World

__all__ = ["ORDER_COLUMNS", "WEEKDAY_FACTORS", "expected_orders", "generate_orders", "season_factor"]

ORDER_COLUMNS: tuple[str, ...] = (
    "order_id", "customer_id", "service_date", "order_type", "street", "postcode", "town", "lat", "lon",
    "site_type", "parcels", "weight_kg", "volume_l", "window_start", "window_end", "priority",
    "required_skills", "notes", "created_at_utc", "window2_start", "window2_end", "shipment_id",
    "unserved_penalty_eur",
)
"""Columns of ``orders/orders_YYYY-MM-DD.csv``, in contract order (the last four are optional in the contract;
the demo writes them, shipments and own penalties always empty)."""

WEEKDAY_FACTORS: tuple[float, ...] = (1.12, 1.08, 0.98, 0.94, 0.88, 0.35, 0.004)
"""Order volume by weekday (Monday first) relative to the Monday-to-Friday mean, which is 1."""

_DAY_NOISE_SIGMA = 0.05  # log-scale day-to-day noise on top of the Poisson count
_SEASON_AMPLITUDE = 0.04  # slow yearly wave, high in winter
_PEAK_AMPLITUDE = 0.12  # the pre-Christmas peak ...
_PEAK_DAY = (12, 14)  # ... centred on 14 December ...
_PEAK_WIDTH_DAYS = 10.0  # ... with this standard deviation

_PICKUP_SHARE = 0.05
_REFRIGERATED_SHARE = 0.01
_PALLET_SHARE_BUSINESS = 0.05
_HIGH_PRIORITY_SHARE = 0.03
_HIGH_PRIORITY_SHARE_REFRIGERATED = 0.5  # pharmacy deliveries
_NOTE_SHARE = 0.12
_ALL_DAY_SHARE = 0.45
_ALL_DAY_SHARE_PICKUP = 0.6  # returns are mostly "any time today"
_EVENING_SHARE_RESIDENTIAL = 0.35
_WINDOW_HOURS = (1, 2, 3, 4)
_WINDOW_HOURS_P = (0.15, 0.35, 0.25, 0.25)
_BUSINESS_WEEKEND_RATE = 0.3  # most businesses are closed on Saturday
# Issue 6, drawn from their own stream so the orders' other fields stay as they were: households with a daytime
# window that ends by 15:00 often offer the evening as well; some returns may wait for another day; a few
# deliveries are promised for today whatever it costs.
_SECOND_WINDOW_SHARE = 0.4  # of the eligible orders, about 5% of all on a weekday
_SECOND_WINDOW_LATEST_FIRST_END_SLOT = 30  # 15:00
_SECOND_WINDOW_SLOTS = (36, 40)  # 18:00-20:00
_OPTIONAL_SHARE_PICKUP = 0.4
_MANDATORY_SHARE = 0.01

# Half-hour slots since midnight.
_EARLIEST_SLOT = 16  # 08:00
_LATEST_END_SLOT = {"residential": 40, "business": 34, "weekend": 28}  # 20:00, 17:00, 14:00
_EVENING_START_SLOT = 32  # 16:00

# Parcels per order: 1 + geometric tail; businesses receive more at once.
_PARCEL_P = {"house": 0.68, "apartment": 0.72, "business": 0.35}
_MAX_PARCELS = 40
# Parcel weight (kg): lognormal with this median and log-sd, cut at the 31.5 kg parcel limit.
_PARCEL_KG_MEDIAN, _PARCEL_KG_SIGMA, _PARCEL_KG_MAX = 1.2, 0.9, 31.5
# Parcel volume (l) = weight * litres per kg (lognormal), between a padded envelope and a 200 l box.
_L_PER_KG_MEDIAN, _L_PER_KG_SIGMA, _PARCEL_L_MIN, _PARCEL_L_MAX = 5.0, 0.7, 0.5, 200.0
# Pallets (euro pallets, need a tail lift): 1 or 2, lognormal weight, volume by load height.
_PALLET_KG_MEDIAN, _PALLET_KG_SIGMA, _PALLET_KG_MIN, _PALLET_KG_MAX = 180.0, 0.6, 40.0, 900.0
_PALLET_L_MIN, _PALLET_L_MAX = 600.0, 1_600.0

_NOTES = {
    "house": ("ring twice", "leave at the back door", "dog in the garden",
              "leave with neighbour if not at home", "parcel box by the garage", "call on arrival"),
    "apartment": ("ring twice", "top floor without lift", "leave in the parcel box", "call on arrival",
                  "name not on the bell - please call"),
    "business": ("leave at reception", "goods entrance at the back", "closed 12:00-13:30",
                 "ask for the warehouse", "deliver to the shop counter"),
}
_NOTE_REFRIGERATED = "keep cold 2-8 degC"
_NOTE_PICKUP = "return parcel - label attached"

# Days between placing an order and its service date.
_LEAD_DAYS = (1, 2, 3, 4, 5, 6, 7)
_LEAD_DAYS_P = (0.55, 0.25, 0.12, 0.03, 0.02, 0.02, 0.01)
# Local hour of placing: 06:00 + 16 h * Beta(2.5, 1.8), i.e. between 06:00 and 22:00, most around 16:00.
_ORDER_HOUR_MIN, _ORDER_HOUR_SPAN, _ORDER_HOUR_BETA = 6.0, 16.0, (2.5, 1.8)


def season_factor(service_date: dt.date) -> float:
    """Yearly seasonality of order volume: a mild winter wave plus the pre-Christmas peak.

    Returns
    -------
    float
        Multiplier on the weekday mean; about 1 on average over a year, about 1.15 in mid-December.
    """
    day_of_year = service_date.timetuple().tm_yday
    peak = min(
        abs((service_date - dt.date(year, *_PEAK_DAY)).days)
        for year in (service_date.year - 1, service_date.year, service_date.year + 1)
    )
    wave = _SEASON_AMPLITUDE * math.cos(2 * math.pi * (day_of_year - 350) / 365.25)
    return 1.0 + wave + _PEAK_AMPLITUDE * math.exp(-0.5 * (peak / _PEAK_WIDTH_DAYS) ** 2)


def expected_orders(scale: str, service_date: dt.date) -> float:
    """Expected number of orders of a scale on a service date (before day-to-day noise).

    Parameters
    ----------
    scale : str
        A key of :data:`simulator.SCALES`.
    service_date : datetime.date

    Returns
    -------
    float
        ``weekday_orders * WEEKDAY_FACTORS[weekday] * season_factor(date)``.
    """
    spec = SCALES[scale]
    return spec.weekday_orders * WEEKDAY_FACTORS[service_date.weekday()] * season_factor(service_date)


def generate_orders(world: World, service_date: dt.date, seed: int) -> pd.DataFrame:
    """Generate the orders of one service date.

    The result depends only on the world, the date and the seed: generating other dates first, or not at
    all, changes nothing.

    Parameters
    ----------
    world : World
        The demo world whose customers order.
    service_date : datetime.date
        The day the orders are to be delivered (or picked up).
    seed : int
        Non-negative seed.

    Returns
    -------
    pandas.DataFrame
        One row per order with exactly :data:`ORDER_COLUMNS`, sorted by ``order_id`` (which follows the
        creation time). Text fields that are missing are empty strings; weights in kg, volumes in litres,
        windows as ISO 8601 local times with UTC offset, ``created_at_utc`` as ``YYYY-MM-DDTHH:MM:SSZ``.

    Raises
    ------
    ValueError
        If the seed is negative.
    """
    rng = rng_for(seed, "orders", service_date.toordinal())
    weekday = service_date.weekday()
    customers = world.customers_frame()

    mean = expected_orders(world.scale, service_date) * rng.lognormal(
        -(_DAY_NOISE_SIGMA**2) / 2, _DAY_NOISE_SIGMA
    )
    n = int(rng.poisson(mean))

    # Who orders today: n distinct customers, drawn in proportion to their order rate (Gumbel top-k).
    rate = customers["order_rate"].to_numpy(dtype=float).copy()
    is_business = customers["site_type"].to_numpy() == "business"
    if weekday == 5:
        rate[is_business] *= _BUSINESS_WEEKEND_RATE
    elif weekday == 6:
        rate[is_business] = 0.0
    eligible = np.flatnonzero(rate > 0)
    n = min(n, eligible.size)
    if n == 0:
        return pd.DataFrame({col: pd.Series(dtype=_dtype(col)) for col in ORDER_COLUMNS})
    keys = np.log(rate[eligible]) + rng.gumbel(size=eligible.size)
    chosen = np.sort(eligible[np.argsort(-keys, kind="stable")[:n]])
    orders = customers.iloc[chosen].reset_index(drop=True)
    site = orders["site_type"].to_numpy()

    pickup = rng.random(n) < _PICKUP_SHARE
    refrigerated = ~pickup & (rng.random(n) < _REFRIGERATED_SHARE)
    pallet = ~pickup & ~refrigerated & (site == "business") & (rng.random(n) < _PALLET_SHARE_BUSINESS)
    if weekday >= 5:  # no pallet deliveries at weekends: businesses are closed and the trucks rest
        pallet[:] = False

    parcels, weight_kg, volume_l = _loads(rng, site, pickup, refrigerated, pallet)
    window_start, window_end, evening_eligible = _windows(rng, service_date, site, pickup, refrigerated, world.timezone)

    urgent_cold = refrigerated & (rng.random(n) < _HIGH_PRIORITY_SHARE_REFRIGERATED)
    high = (rng.random(n) < _HIGH_PRIORITY_SHARE) | urgent_cold | (weekday == 6)
    skills = np.where(pallet, "tail_lift", np.where(refrigerated, "refrigerated", ""))
    notes = _notes(rng, site, pickup, refrigerated)
    created = _created_at(rng, service_date, n, world.timezone)
    options = rng_for(seed, "orders.constraints", service_date.toordinal())
    second = evening_eligible & (options.random(n) < _SECOND_WINDOW_SHARE)
    window2_start, window2_end = _second_windows(second, service_date, world.timezone)
    draw = options.random(n)
    priority = np.where(high, "high", "normal").astype(object)
    priority[pickup & (draw < _OPTIONAL_SHARE_PICKUP)] = "optional"
    priority[~high & ~pickup & (draw < _MANDATORY_SHARE)] = "mandatory"

    frame = pd.DataFrame(
        {
            "customer_id": orders["customer_id"],
            "service_date": service_date.isoformat(),
            "order_type": np.where(pickup, "pickup", "delivery"),
            "street": orders["street"],
            "postcode": orders["postcode"],
            "town": orders["town"],
            "lat": orders["lat"],
            "lon": orders["lon"],
            "site_type": orders["site_type"],
            "parcels": parcels,
            "weight_kg": weight_kg,
            "volume_l": volume_l,
            "window_start": window_start,
            "window_end": window_end,
            "priority": priority,
            "required_skills": skills,
            "notes": notes,
            "created_at_utc": created,
            "window2_start": window2_start,
            "window2_end": window2_end,
            "shipment_id": "",
            "unserved_penalty_eur": "",
        }
    )
    frame = frame.sort_values(["created_at_utc", "customer_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "order_id", [f"O-{service_date:%Y%m%d}-{i + 1:05d}" for i in range(len(frame))])
    return frame[list(ORDER_COLUMNS)].astype({col: _dtype(col) for col in ORDER_COLUMNS})


def _dtype(column: str) -> str:
    if column in ("lat", "lon", "weight_kg", "volume_l"):
        return "float64"
    if column == "parcels":
        return "int64"
    return "str"


def _loads(
    rng: np.random.Generator,
    site: np.ndarray,
    pickup: np.ndarray,
    refrigerated: np.ndarray,
    pallet: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parcels, total weight (kg, 2 decimals) and total volume (l, 1 decimal) per order."""
    p = np.array([_PARCEL_P[s] for s in site])
    parcels = np.minimum(rng.geometric(p), _MAX_PARCELS)
    parcels[pickup] = rng.integers(1, 3, int(pickup.sum()))
    parcels[refrigerated] = rng.integers(1, 4, int(refrigerated.sum()))

    total = int(parcels.sum())
    kg = np.minimum(rng.lognormal(math.log(_PARCEL_KG_MEDIAN), _PARCEL_KG_SIGMA, total), _PARCEL_KG_MAX)
    litres = np.clip(
        kg * rng.lognormal(math.log(_L_PER_KG_MEDIAN), _L_PER_KG_SIGMA, total), _PARCEL_L_MIN, _PARCEL_L_MAX
    )
    starts = np.concatenate(([0], np.cumsum(parcels)[:-1]))
    weight = np.add.reduceat(kg, starts)
    volume = np.add.reduceat(litres, starts)

    # Insulated boxes: heavier and bulkier than their contents suggest.
    n_cold = int(refrigerated.sum())
    weight[refrigerated] = parcels[refrigerated] * rng.uniform(2.0, 12.0, n_cold)
    volume[refrigerated] = parcels[refrigerated] * rng.uniform(15.0, 45.0, n_cold)

    n_pallet_orders = int(pallet.sum())
    pallets = np.where(rng.random(n_pallet_orders) < 0.8, 1, 2)
    pallet_kg = np.clip(
        rng.lognormal(math.log(_PALLET_KG_MEDIAN), _PALLET_KG_SIGMA, (n_pallet_orders, 2)),
        _PALLET_KG_MIN,
        _PALLET_KG_MAX,
    )
    pallet_l = rng.uniform(_PALLET_L_MIN, _PALLET_L_MAX, (n_pallet_orders, 2))
    second = np.column_stack([np.ones(n_pallet_orders), pallets == 2])
    parcels[pallet] = pallets
    weight[pallet] = (pallet_kg * second).sum(axis=1)
    volume[pallet] = (pallet_l * second).sum(axis=1)
    return parcels.astype(np.int64), np.round(weight, 2), np.round(volume, 1)


def _windows(
    rng: np.random.Generator,
    service_date: dt.date,
    site: np.ndarray,
    pickup: np.ndarray,
    refrigerated: np.ndarray,
    timezone: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Delivery windows as ISO 8601 local strings (both empty for all-day orders), and which orders could offer
    an evening window as well: households on a weekday whose daytime window ends by 15:00."""
    n = site.size
    length = rng.choice(np.array(_WINDOW_HOURS), size=n, p=_WINDOW_HOURS_P) * 2  # in half hours
    weekend = service_date.weekday() >= 5
    business_hours = (site == "business") | refrigerated
    if weekend:
        latest_end = np.full(n, _LATEST_END_SLOT["weekend"])
    else:
        latest_end = np.where(business_hours, _LATEST_END_SLOT["business"], _LATEST_END_SLOT["residential"])
    evening = ~weekend & ~business_hours & (rng.random(n) < _EVENING_SHARE_RESIDENTIAL)
    earliest = np.where(evening, _EVENING_START_SLOT, _EARLIEST_SLOT)
    latest_start = latest_end - length
    start = earliest + np.floor(rng.random(n) * (latest_start - earliest + 1)).astype(int)
    end = start + length
    all_day = rng.random(n) < np.where(pickup, _ALL_DAY_SHARE_PICKUP, _ALL_DAY_SHARE)

    offset = _utc_offset(service_date, timezone)
    day = service_date.isoformat()

    def fmt(slot: int) -> str:
        return f"{day}T{slot // 2:02d}:{30 * (slot % 2):02d}:00{offset}"

    window_start = np.array([fmt(int(s)) for s in start], dtype=object)
    window_end = np.array([fmt(int(e)) for e in end], dtype=object)
    window_start[all_day] = ""
    window_end[all_day] = ""
    evening_eligible = ~weekend & ~business_hours & ~all_day & (end <= _SECOND_WINDOW_LATEST_FIRST_END_SLOT)
    return window_start, window_end, evening_eligible


def _second_windows(second: np.ndarray, service_date: dt.date, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """The evening window 18:00-20:00 for the orders in ``second``, empty for the others."""
    offset = _utc_offset(service_date, timezone)
    start, end = (
        f"{service_date.isoformat()}T{slot // 2:02d}:{30 * (slot % 2):02d}:00{offset}" for slot in _SECOND_WINDOW_SLOTS
    )
    return np.where(second, start, "").astype(object), np.where(second, end, "").astype(object)


def _utc_offset(service_date: dt.date, timezone: str) -> str:
    """The local UTC offset (``+01:00`` / ``+02:00``) during delivery hours of the date."""
    noon = dt.datetime.combine(service_date, dt.time(12), tzinfo=ZoneInfo(timezone))
    return noon.isoformat()[-6:]


def _notes(
    rng: np.random.Generator, site: np.ndarray, pickup: np.ndarray, refrigerated: np.ndarray
) -> np.ndarray:
    n = site.size
    has_note = rng.random(n) < _NOTE_SHARE
    pick = rng.random(n)
    notes = np.empty(n, dtype=object)
    for i in range(n):
        options = _NOTES[str(site[i])]
        notes[i] = options[int(pick[i] * len(options))] if has_note[i] else ""
    notes[refrigerated] = _NOTE_REFRIGERATED
    notes[pickup] = _NOTE_PICKUP
    return notes


def _created_at(rng: np.random.Generator, service_date: dt.date, n: int, timezone: str) -> np.ndarray:
    """When each order was placed, as ISO 8601 UTC; always on a day before the service date."""
    lead = rng.choice(np.array(_LEAD_DAYS), size=n, p=_LEAD_DAYS_P)
    hours = _ORDER_HOUR_MIN + _ORDER_HOUR_SPAN * rng.beta(*_ORDER_HOUR_BETA, n)
    seconds = np.floor(hours * 3600).astype(int)
    zone = ZoneInfo(timezone)
    utc = dt.UTC
    out = np.empty(n, dtype=object)
    for i in range(n):
        local_day = service_date - dt.timedelta(days=int(lead[i]))
        local = dt.datetime.combine(local_day, dt.time(), tzinfo=zone) + dt.timedelta(seconds=int(seconds[i]))
        out[i] = local.astimezone(utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out
