"""Disruptions of a service date: what goes wrong during the day, for the live simulator (docs/replanning.md, 5).

A :class:`Scenario` is a named, seeded list of disruptions, each with the local time (seconds since midnight) it
happens at. :class:`simulator.live.LiveDay` plays a day out under one: a late van leaves later, a broken-down van
stops, heavy rain slows roads and stops, and the order changes (new orders, cancellations, window changes) reach
the order management system at their time and are published in the live ``order_changes_*.csv`` drops.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulator.fleet import WEEKDAYS
from simulator.orders import ORDER_COLUMNS, _utc_offset, generate_orders
from simulator.seeding import rng_for
from simulator.world import World

__all__ = [
    "CHANGE_COLUMNS",
    "SCENARIO_NAMES",
    "Breakdown",
    "Cancellation",
    "Disruption",
    "HeavyRain",
    "LateStart",
    "NewOrder",
    "Scenario",
    "WindowChange",
    "no_disruptions",
    "scenario",
]

SCENARIO_NAMES: tuple[str, ...] = (
    "late_start",
    "new_orders",
    "cancellations",
    "window_changes",
    "breakdown",
    "heavy_rain",
    "mixed",
)
"""Names :func:`scenario` accepts."""

CHANGE_COLUMNS: tuple[str, ...] = (
    "change_id",
    "order_id",
    "change_type",
    "received_at_utc",
    *(c for c in ORDER_COLUMNS if c != "order_id"),
)
"""Columns of ``landing/live/YYYY-MM-DD/order_changes_HHMMSS.csv``, in contract order: the change, then every
column of the orders file (``order_id`` once)."""

_HOUR = 3600
_LATE_START_SHARE = 0.25  # of the vans working that day
_LATE_START_MIN = (30, 60)
_NEW_ORDER_SHARE = (0.08, 0.10)
_NEW_ORDER_HOURS = (10, 13)
_NEW_ORDER_LEAD_S = 2 * _HOUR  # a new order's window opens at least this long after it is placed
_NEW_ORDER_WINDOW_SLOTS = 4  # two hours, in half-hour slots
_LATEST_END_SLOT = {"business": 34, "other": 40}  # 17:00, 20:00 (as the order generator)
_CANCEL_SHARE = 0.05
_CANCEL_HOURS = (7, 12)
_CANCEL_NOTICE_S = _HOUR
_WINDOW_CHANGE_SHARE = 0.05
_WINDOW_SHIFT_SLOTS = (4, 8)  # a window moves 2-4 hours later
_WINDOW_CHANGE_EARLIEST_S = 7 * _HOUR
_WINDOW_CHANGE_NOTICE_S = _HOUR  # a customer asks at least an hour before the old window opens
_BREAKDOWN_HOURS = (10, 12)
BREAKDOWN_OUT_S = 15 * 60
"""With a plan (``scenario(..., routes=...)``), a van breaks down at least this long after its route began ..."""
BREAKDOWN_LEFT_S = 30 * 60
"""... and at least this long before its route ends (it still has stops and parcels to move)."""
_RAIN_START_S = (11 * _HOUR + 1800, 12 * _HOUR + 1800)
_RAIN_HOURS = (3, 5)
_NEW_ORDER_ID_SEED_OFFSET = 104_729  # another day's draw of the order generator supplies the new orders


@dataclass(frozen=True)
class LateStart:
    """A van leaves its depot ``delay_s`` later than it would have (on top of the everyday slack).

    ``at_s`` is its shift start; the delay applies to its first departure of the day.
    """

    vehicle_id: str
    at_s: int
    delay_s: int
    kind: str = field(default="late_start", init=False)


@dataclass(frozen=True)
class NewOrder:
    """An order placed during the day, received at ``at_s``; ``order`` holds every column of the orders file."""

    order: Mapping[str, object]
    at_s: int
    kind: str = field(default="new", init=False)

    @property
    def order_id(self) -> str:
        """The new order's id."""
        return str(self.order["order_id"])


@dataclass(frozen=True)
class Cancellation:
    """The customer withdraws the order at ``at_s``."""

    order_id: str
    at_s: int
    kind: str = field(default="cancel", init=False)


@dataclass(frozen=True)
class WindowChange:
    """At ``at_s`` the customer asks for the window ``tw_start_s..tw_end_s`` instead (a second window, if any,
    is dropped)."""

    order_id: str
    at_s: int
    tw_start_s: int
    tw_end_s: int
    kind: str = field(default="window", init=False)


@dataclass(frozen=True)
class Breakdown:
    """The van breaks down at ``at_s``: out of service for the rest of the day from its first moment on the road
    at or after ``at_s``."""

    vehicle_id: str
    at_s: int
    kind: str = field(default="breakdown", init=False)


@dataclass(frozen=True)
class HeavyRain:
    """Heavy rain from ``at_s`` to ``until_s``: roads and stops are as slow as in observed heavy rain, from the
    local hour ``at_s`` falls in."""

    at_s: int
    until_s: int
    kind: str = field(default="heavy_rain", init=False)


Disruption = LateStart | NewOrder | Cancellation | WindowChange | Breakdown | HeavyRain
"""One disruption of a day; ``kind`` names it and ``at_s`` is when it happens (local seconds)."""


@dataclass(frozen=True)
class Scenario:
    """A named, seeded set of disruptions of one service date.

    Attributes
    ----------
    name : str
        One of :data:`SCENARIO_NAMES`, or ``"none"``.
    seed : int
        Seed it was drawn with.
    service_date : datetime.date
    disruptions : tuple of Disruption
        In time order.
    """

    name: str
    seed: int
    service_date: dt.date
    disruptions: tuple[Disruption, ...] = ()

    def of_kind(self, kind: str) -> tuple[Disruption, ...]:
        """The disruptions whose ``kind`` is ``kind`` (``late_start``, ``new``, ``cancel``, ``window``,
        ``breakdown``, ``heavy_rain``)."""
        return tuple(d for d in self.disruptions if d.kind == kind)

    def order_changes(self, timezone: str) -> pd.DataFrame:
        """All order changes of the day as the order management system reports them.

        Parameters
        ----------
        timezone : str
            The world's time zone (windows are written as local ISO 8601 times with offset).

        Returns
        -------
        pandas.DataFrame
            :data:`CHANGE_COLUMNS`, one row per change, in order of receipt; text columns as strings (empty
            when not given), ``change_id`` numbered in that order.
        """
        offset = _utc_offset(self.service_date, timezone)
        rows = []
        changes = sorted(
            (d for d in self.disruptions if isinstance(d, NewOrder | Cancellation | WindowChange)),
            key=lambda d: (d.at_s, d.order_id),
        )
        for number, change in enumerate(changes, start=1):
            row: dict[str, object] = dict.fromkeys(ORDER_COLUMNS, "")
            if isinstance(change, NewOrder):
                row.update({c: change.order[c] for c in ORDER_COLUMNS})
            else:
                row.update(order_id=change.order_id, service_date=self.service_date.isoformat())
            if isinstance(change, WindowChange):
                row.update(
                    window_start=_local_iso(self.service_date, change.tw_start_s, offset),
                    window_end=_local_iso(self.service_date, change.tw_end_s, offset),
                )
            row.update(
                change_id=f"CH-{self.service_date:%Y%m%d}-{number:05d}",
                change_type=change.kind,
                received_at_utc=_utc_iso(self.service_date, change.at_s, timezone),
            )
            rows.append(row)
        frame = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
        return frame.astype(
            {c: "str" for c in CHANGE_COLUMNS if c not in ("lat", "lon", "weight_kg", "volume_l", "parcels")}
        )


def no_disruptions(service_date: dt.date, seed: int = 0) -> Scenario:
    """The day as planned: a scenario without disruptions (called ``none``)."""
    return Scenario("none", seed, service_date, ())


def scenario(
    world: World,
    service_date: dt.date,
    name: str,
    seed: int,
    *,
    orders: pd.DataFrame | None = None,
    routes: pd.DataFrame | None = None,
) -> Scenario:
    """Draw the disruptions of a named scenario for a service date.

    Parameters
    ----------
    world : World
        The demo world (its fleet, customers and order generator).
    service_date : datetime.date
    name : str
        ``late_start`` (a quarter of the vans working that day leave 30-60 min late), ``new_orders`` (8-10% more
        orders placed between 10:00 and 13:00 by other customers, with windows at least 2 h later),
        ``cancellations`` (5% of the orders withdrawn between 07:00 and 12:00, each at least an hour before its
        window opens; orders without a window are not withdrawn), ``window_changes`` (5% of the
        orders with a window move it 2-4 h later, asked for at least an hour before the old window),
        ``breakdown`` (one van breaks down between 10:00 and 12:00; with ``routes``, a van out on its round
        then), ``heavy_rain`` (from about 12:00 for 3-5 h)
        or ``mixed`` (a bit of each: one late van, 4-5% new orders, 2% cancellations and window changes, a
        breakdown and two hours of heavy rain).
    seed : int
        Non-negative seed; equal arguments give an equal scenario.
    orders : pandas.DataFrame, optional
        The day's morning orders (at least ``order_id, customer_id, window_start, window_end, site_type``);
        by default ``generate_orders(world, service_date, world.seed)``.
    routes : pandas.DataFrame, optional
        The plan the day starts with (at least ``vehicle_id, start_s, end_s``, local seconds, as
        :func:`simulator.execute_plan` takes it). A breakdown then strikes a van while it is out on its round: at a
        time between 10:00 and 12:00 when its planned route has begun at least :data:`BREAKDOWN_OUT_S` before and
        ends at least :data:`BREAKDOWN_LEFT_S` after (a van is picked with odds by how long it is out then; none
        out: any time it is out that day). Without ``routes`` (or no van out all day) a working van is drawn
        blindly and breaks down when it is next on the road, which may be hours later, with nothing left to move
        (a van parked at its depot until its afternoon trip, its one cold parcel only it could carry).

    Returns
    -------
    Scenario

    Raises
    ------
    ValueError
        If the name is unknown or the seed negative.
    """
    if name not in SCENARIO_NAMES:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIO_NAMES)}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if orders is None:
        orders = generate_orders(world, service_date, world.seed)
    ordinal = service_date.toordinal()

    def rng(kind: str) -> np.random.Generator:
        return rng_for(seed, f"scenario.{name}.{kind}", ordinal)

    parts: list[Disruption] = []
    if name in ("late_start", "mixed"):
        parts += _late_starts(
            world, service_date, rng("late_start"), share=_LATE_START_SHARE if name != "mixed" else 0.0
        )
    if name in ("new_orders", "mixed"):
        low, high = _NEW_ORDER_SHARE if name != "mixed" else (0.04, 0.05)
        parts += _new_orders(world, service_date, orders, rng("new"), low, high)
    if name in ("cancellations", "mixed"):
        parts += _cancellations(orders, rng("cancel"), _CANCEL_SHARE if name != "mixed" else 0.02)
    if name in ("window_changes", "mixed"):
        parts += _window_changes(orders, rng("window"), _WINDOW_CHANGE_SHARE if name != "mixed" else 0.02)
    if name in ("breakdown", "mixed"):
        parts += _breakdown(world, service_date, rng("breakdown"), routes)
    if name in ("heavy_rain", "mixed"):
        parts += _heavy_rain(rng("heavy_rain"), _RAIN_HOURS if name != "mixed" else (2, 2))
    parts.sort(key=lambda d: (d.at_s, d.kind, getattr(d, "order_id", ""), getattr(d, "vehicle_id", "")))
    return Scenario(name, seed, service_date, tuple(parts))


def _working_vehicles(world: World, service_date: dt.date) -> list:
    weekday = WEEKDAYS[service_date.weekday()]
    return [v for v in world.vehicles if weekday in v.work_days]


def hhmm_s(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * _HOUR + int(minutes) * 60


def _late_starts(world: World, service_date: dt.date, rng: np.random.Generator, share: float) -> list[Disruption]:
    working = _working_vehicles(world, service_date)
    if not working:
        return []
    count = max(1, round(share * len(working)))  # share 0: one van
    picked = sorted(rng.choice(len(working), size=count, replace=False))
    minutes = rng.integers(_LATE_START_MIN[0], _LATE_START_MIN[1] + 1, count)
    return [
        LateStart(working[i].vehicle_id, hhmm_s(working[i].shift_start), int(m) * 60)
        for i, m in zip(picked, minutes, strict=True)
    ]


def _new_orders(
    world: World, service_date: dt.date, orders: pd.DataFrame, rng: np.random.Generator, low: float, high: float
) -> list[Disruption]:
    count = round(rng.uniform(low, high) * len(orders))
    if count == 0:
        return []
    # Another draw of the day's order generator: realistic customers, addresses, loads and priorities.
    pool = generate_orders(world, service_date, world.seed + _NEW_ORDER_ID_SEED_OFFSET + int(rng.integers(1_000)))
    pool = pool[~pool["customer_id"].isin(set(orders["customer_id"]))].reset_index(drop=True)
    picked = np.sort(rng.choice(len(pool), size=min(count, len(pool)), replace=False))
    received = np.sort(rng.integers(_NEW_ORDER_HOURS[0] * _HOUR, _NEW_ORDER_HOURS[1] * _HOUR, picked.size))
    offset = _utc_offset(service_date, world.timezone)
    result: list[Disruption] = []
    for number, (row_index, at_s) in enumerate(zip(picked, received, strict=True), start=1):
        row = pool.iloc[int(row_index)].to_dict()
        latest_end = _LATEST_END_SLOT["business" if row["site_type"] == "business" else "other"]
        earliest_start = -(-(int(at_s) + _NEW_ORDER_LEAD_S) // 1800)
        latest_start = latest_end - _NEW_ORDER_WINDOW_SLOTS
        if earliest_start <= latest_start and rng.random() < 0.7:
            start = int(rng.integers(earliest_start, latest_start + 1))
            row["window_start"] = _local_iso(service_date, start * 1800, offset)
            row["window_end"] = _local_iso(service_date, (start + _NEW_ORDER_WINDOW_SLOTS) * 1800, offset)
        else:  # any time today
            row["window_start"] = row["window_end"] = ""
        row.update(
            order_id=f"O-{service_date:%Y%m%d}-N{number:04d}",
            window2_start="",
            window2_end="",
            created_at_utc=_utc_iso(service_date, int(at_s), world.timezone),
        )
        result.append(NewOrder(row, int(at_s)))
    return result


def _cancellations(orders: pd.DataFrame, rng: np.random.Generator, share: float) -> list[Disruption]:
    # Withdrawn at least an hour before the window opens, so before any plan that keeps the window serves it.
    start_s = orders["window_start"].astype(str).map(_seconds_of_iso).to_numpy(dtype=float)
    latest_s = np.minimum(start_s - _CANCEL_NOTICE_S, _CANCEL_HOURS[1] * _HOUR)
    eligible = np.flatnonzero(np.isfinite(start_s) & (latest_s > _CANCEL_HOURS[0] * _HOUR))
    count = min(eligible.size, max(1, round(share * len(orders))))
    picked = np.sort(rng.choice(eligible, size=count, replace=False))
    ids = orders["order_id"].astype(str).to_numpy()
    return [Cancellation(str(ids[i]), int(rng.integers(_CANCEL_HOURS[0] * _HOUR, latest_s[i]))) for i in picked]


def _window_changes(orders: pd.DataFrame, rng: np.random.Generator, share: float) -> list[Disruption]:
    start_s = orders["window_start"].astype(str).map(_seconds_of_iso).to_numpy(dtype=float)
    end_s = orders["window_end"].astype(str).map(_seconds_of_iso).to_numpy(dtype=float)
    business = orders["site_type"].astype(str).to_numpy() == "business"
    latest_end_s = np.where(business, _LATEST_END_SLOT["business"], _LATEST_END_SLOT["other"]) * 1800
    shift_min_s = _WINDOW_SHIFT_SLOTS[0] * 1800
    eligible = np.flatnonzero(
        np.isfinite(start_s)
        & (start_s - _WINDOW_CHANGE_NOTICE_S > _WINDOW_CHANGE_EARLIEST_S)
        & (end_s + shift_min_s <= latest_end_s)
    )
    count = min(eligible.size, max(1, round(share * len(orders))))
    picked = np.sort(rng.choice(eligible, size=count, replace=False))
    ids = orders["order_id"].astype(str).to_numpy()
    result: list[Disruption] = []
    for i in picked:
        room = int((latest_end_s[i] - end_s[i]) // 1800)
        shift = int(rng.integers(_WINDOW_SHIFT_SLOTS[0], min(_WINDOW_SHIFT_SLOTS[1], room) + 1)) * 1800
        at_s = int(rng.integers(_WINDOW_CHANGE_EARLIEST_S, start_s[i] - _WINDOW_CHANGE_NOTICE_S))
        result.append(WindowChange(str(ids[i]), at_s, int(start_s[i]) + shift, int(end_s[i]) + shift))
    return result


def _out_on_round(routes: pd.DataFrame, from_s: int, to_s: int) -> list[tuple[str, int, int]]:
    """Per van, the part of ``[from_s, to_s)`` it is out on a planned route with work left (its route begun at
    least :data:`BREAKDOWN_OUT_S` before and ending at least :data:`BREAKDOWN_LEFT_S` after): ``(vehicle_id, start_s,
    end_s)``, by vehicle id."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for vehicle_id, start_s, end_s in zip(
        routes["vehicle_id"].astype(str), routes["start_s"].astype(float), routes["end_s"].astype(float), strict=True
    ):
        begin = max(float(from_s), start_s + BREAKDOWN_OUT_S)
        end = min(float(to_s), end_s - BREAKDOWN_LEFT_S)
        if end > begin:
            spans.setdefault(vehicle_id, []).append((int(np.ceil(begin)), int(np.floor(end))))
    return [(vid, a, b) for vid in sorted(spans) for a, b in spans[vid] if b > a]


def _breakdown(
    world: World, service_date: dt.date, rng: np.random.Generator, routes: pd.DataFrame | None = None
) -> list[Disruption]:
    working = _working_vehicles(world, service_date)
    if not working:
        return []
    if routes is not None and len(routes):
        ids = {v.vehicle_id for v in working}
        routes = routes[routes["vehicle_id"].astype(str).isin(ids)]
        spans = _out_on_round(routes, _BREAKDOWN_HOURS[0] * _HOUR, _BREAKDOWN_HOURS[1] * _HOUR) or _out_on_round(
            routes, 0, 24 * _HOUR
        )
        if spans:
            # Odds by time out: a van breaks down while it drives, and one out longer is more likely to.
            lengths = np.array([b - a for _, a, b in spans], dtype=float)
            k = int(rng.choice(len(spans), p=lengths / lengths.sum()))
            vehicle_id, a, b = spans[k]
            return [Breakdown(vehicle_id, int(rng.integers(a, b)))]
    vehicle = working[int(rng.integers(len(working)))]
    return [Breakdown(vehicle.vehicle_id, int(rng.integers(_BREAKDOWN_HOURS[0] * _HOUR, _BREAKDOWN_HOURS[1] * _HOUR)))]


def _heavy_rain(rng: np.random.Generator, hours: tuple[int, int]) -> list[Disruption]:
    start = int(rng.integers(*_RAIN_START_S))
    return [HeavyRain(start, start + int(rng.integers(hours[0], hours[1] + 1)) * _HOUR)]


def _seconds_of_iso(stamp: str) -> float:
    """Local seconds since midnight of an ISO 8601 local time; NaN when empty."""
    if not stamp:
        return float("nan")
    local = dt.datetime.fromisoformat(stamp)
    return float(local.hour * _HOUR + local.minute * 60 + local.second)


def _local_iso(service_date: dt.date, at_s: int, offset: str) -> str:
    return f"{service_date.isoformat()}T{at_s // _HOUR:02d}:{at_s % _HOUR // 60:02d}:{at_s % 60:02d}{offset}"


def _utc_iso(service_date: dt.date, at_s: int, timezone: str) -> str:
    """The UTC instant of local second ``at_s`` of the date (the date's daytime offset, as the plans use)."""
    noon = dt.datetime.combine(service_date, dt.time(12), tzinfo=ZoneInfo(timezone))
    midnight = dt.datetime.combine(service_date, dt.time(), tzinfo=dt.UTC) - noon.utcoffset()
    return (midnight + dt.timedelta(seconds=int(at_s))).strftime("%Y-%m-%dT%H:%M:%SZ")
