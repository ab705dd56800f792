"""The execution simulator: plays a day's plan out under the hidden "true" world.

The planner sees great-circle distance x 1.3 at a constant speed per vehicle type and average service
times. The true world differs: roads are polylines of about that length driven at speeds that vary by hour
of day, weekday, weather, hillside and driver; service times are lognormal per site type; customers are not
always at home; a few routes leave the depot late. Vehicles follow the planned sequence, arrive early and
wait for the window like the plan (for an order with two windows, the one the plan chose; arriving after it
closed, service starts at once), drive on to the next stop however late they are until the driver's working
day ends (the shift's end plus the vehicle type's paid overtime: no leg starts to a stop the driver could not
serve and drive back from by then, reckoned with the stop's typical service; the van drives back to its depot
with what is left on board, and a van at its depot stays there), and a failed delivery ends that
stop (a second attempt only when a later plan version puts the order on a route again,
see :mod:`simulator.live`). A planned break is taken where the plan puts it (the driver pauses its length
after that stop, or at the depot before leaving); a planned reload drives back to the start depot between
two trips and loads for the depot's reload time; a route that ends at another depot drives there.

What the world holds is drawn per id, so that playing another plan does not change it: an order's attempt
(at home or not, other failures, service time) from (seed, date, order id, attempt), a vehicle's departure
delays from (seed, date, vehicle id, departure number), its driver from (world seed, vehicle id), the road
between two places and its speed noise from (seed, date, from, to), the phone's GPS error from the
vehicle's own stream in event order, and ratings from (seed, date, order id).

The engine (``_Day``) plays vehicle by vehicle, one decision at a time; :func:`execute_plan` is the day with
one plan and no disruptions, :class:`simulator.live.LiveDay` the same engine step by step with plan versions
and disruptions.

The result is what the source systems would record: GPS pings, driver-app stop events and customer
ratings (``docs/data_contract.md`` section 4), plus the hidden truth for tests and diagnostics.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulator.disruptions import Scenario, hhmm_s, no_disruptions
from simulator.geography import SETTLEMENTS, haversine_m
from simulator.roads import LocalProjection, road_paths
from simulator.seeding import rng_for
from simulator.telematics import Moves, Parks, simulate_pings
from simulator.weather import Weather, simulate_weather
from simulator.world import Depot, World

__all__ = [
    "EVENT_COLUMNS",
    "FAILURE_REASONS",
    "RATING_COLUMNS",
    "TRUTH_COLUMNS",
    "Execution",
    "execute_plan",
    "utc_base_s",
]

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "service_date",
    "vehicle_id",
    "driver_id",
    "order_id",
    "event_type",
    "ts_utc",
    "lat",
    "lon",
    "failure_reason",
    "attempt",
)
"""Columns of ``events/stop_events_YYYY-MM-DD.csv``, in contract order."""

RATING_COLUMNS: tuple[str, ...] = ("order_id", "customer_id", "rating", "comment", "rated_at_utc")
"""Columns of ``ratings/ratings_YYYY-MM-DD.csv``, in contract order."""

TRUTH_COLUMNS: tuple[str, ...] = ("vehicle_id", "true_km", "departure_delay_s", "driver_factor")
"""Columns of :attr:`Execution.truth`: hidden per-vehicle facts, never written to the landing zone."""

FAILURE_REASONS: tuple[str, ...] = ("not_home", "refused", "address_not_found", "no_access")

_ORDER_INPUT = ("order_id", "customer_id", "lat", "lon", "site_type", "parcels")
_ROUTE_INPUT = ("route_id", "vehicle_id", "depot_id", "start_s", "end_s")
_STOP_INPUT = (
    "route_id",
    "vehicle_id",
    "sequence",
    "order_id",
    "lat",
    "lon",
    "arrival_s",
    "service_start_s",
    "departure_s",
    "tw_start_s",
    "tw_end_s",
)
# Optional plan columns (issue 6), read when present: where a route starts and ends (empty / missing = its
# depot_id), its break (after which stop, how long), a stop's second window and trip (a new trip = a reload).
_ROUTE_OPTIONAL = ("start_depot_id", "end_depot_id", "break_after_sequence", "break_s")
_STOP_OPTIONAL = ("tw2_start_s", "tw2_end_s", "trip", "leg_duration_s")

# Hidden truth beyond simulator.truth.Truth (which this module may not change): road speed by weekday
# (Monday first) and by weather, service slow-down by weather.
_WEEKDAY_SPEED = (0.97, 0.98, 0.98, 0.97, 0.94, 1.04, 1.08)
_WEATHER_SPEED = {"dry": 1.0, "rain": 0.87, "heavy_rain": 0.8, "snow": 0.72}
_WEATHER_SERVICE = {"dry": 1.0, "rain": 1.05, "heavy_rain": 1.1, "snow": 1.12}
_PIECE_SPEED_SIGMA = 0.12  # speed varies along a leg (lights, junctions, straights)
_DRIVER_SIGMA = 0.1  # driver factor: >1 drives and serves slower; stable per vehicle of a world
_DRIVER_RANGE = (0.8, 1.3)
_LATE_DEPARTURE_SHARE = 0.04
_LATE_DEPARTURE_S = (600.0, 2400.0)
_USUAL_DEPARTURE_MEAN_S = 60.0  # ordinary slack when leaving the depot, exponential, at most 5 min
# Failures other than "nobody there", per stop; no_access only where there is a door to get through.
_REFUSED_P = 0.004
_ADDRESS_NOT_FOUND_P = 0.003
_NO_ACCESS_P = {"house": 0.001, "apartment": 0.008, "business": 0.005}
_FAILED_STOP_S = {"not_home": 90.0, "refused": 120.0, "address_not_found": 300.0, "no_access": 180.0}
_FAILED_STOP_SIGMA = 0.3
_EVENT_JITTER_M = 8.0  # phone GPS in the driver app
_RATING_SHARE = 0.25
_FAILED_RATING_SHARE = 0.12
_RATING_MEAN, _RATING_SD = 4.5, 0.8
_RATING_LATE_MIN_PER_STAR = 15.0  # each 15 min late costs a star ...
_RATING_LATE_MAX_PENALTY = 2.5  # ... up to this many
_RATED_AFTER_MEDIAN_H, _RATED_AFTER_SIGMA = 3.0, 1.0
_COMMENTS = {
    1: ("", "Parcel never arrived.", "Nobody rang the bell.", "Far too late."),
    2: ("", "Late again.", "Driver did not wait."),
    3: ("", "OK.", "Later than promised."),
    4: ("", "", "Fine, thanks."),
    5: ("", "", "Great, thanks!", "Fast and friendly driver."),
}
_AWAY_FROM_NEW_WINDOW = 0.3  # presence outside the window a customer moved to: they said they would be out
_HEAVY_RAIN_MM = 6.0  # observed precipitation of an hour of a scenario's heavy rain
_HILLSIDE_BOXES = tuple(s.box for s in SETTLEMENTS["rhine_valley"] if s.hillside)


@dataclass(frozen=True)
class Execution:
    """What happened on one service date.

    Attributes
    ----------
    pings : pandas.DataFrame
        GPS fixes with the columns of ``telematics/pings_YYYY-MM-DD.parquet``, faults included, in order
        of receipt.
    stop_events : pandas.DataFrame
        :data:`EVENT_COLUMNS`, one row per driver-app event, in time order.
    ratings : pandas.DataFrame
        :data:`RATING_COLUMNS`, one row per rating given.
    truth : pandas.DataFrame
        :data:`TRUTH_COLUMNS`, one row per vehicle that drove: ``true_km`` is the length of the path it
        really drove (which the pings sample), ``departure_delay_s`` the delay of its first depot departure
        against the plan, ``driver_factor`` its hidden time multiplier (> 1 = slower).
    paths : pandas.DataFrame
        The true paths: one row per polyline vertex, ``vehicle_id, route_id, leg, vertex, lat, lon,
        ts_utc``, in driving order per vehicle (legs share their end vertices).
    n_outliers : int
        Number of pings moved 100-500 m off the path.
    """

    pings: pd.DataFrame
    stop_events: pd.DataFrame
    ratings: pd.DataFrame
    truth: pd.DataFrame
    paths: pd.DataFrame
    n_outliers: int


def utc_base_s(service_date: dt.date, timezone: str) -> float:
    """Unix time (s) of local midnight, using the date's daytime UTC offset (as the order windows do).

    Local seconds since midnight ``s`` are the UTC instant ``utc_base_s + s``; DST changes happen at night,
    outside operating hours.
    """
    noon = dt.datetime.combine(service_date, dt.time(12), tzinfo=ZoneInfo(timezone))
    offset = noon.utcoffset()
    midnight_as_utc = dt.datetime.combine(service_date, dt.time(), tzinfo=dt.UTC)
    return midnight_as_utc.timestamp() - offset.total_seconds()


def execute_plan(
    world: World,
    service_date: dt.date,
    orders: pd.DataFrame,
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    seed: int,
    *,
    weather: Weather | None = None,
    working_day: bool = True,
) -> Execution:
    """Play a day's plan out under the world's hidden truth.

    The same as :class:`simulator.live.LiveDay` without disruptions, the plan published at midnight and the day
    finished at once.

    Parameters
    ----------
    world : World
        The demo world; its vehicles, depots, customers and truth are used.
    service_date : datetime.date
        The day played out (weekday and weather matter).
    orders : pandas.DataFrame
        Orders of the date with at least ``order_id, customer_id, lat, lon, site_type, parcels``.
    routes : pandas.DataFrame
        One row per planned route: ``route_id, vehicle_id, depot_id, start_s, end_s`` (seconds since local
        midnight). Routes without stops are not driven. Optional: ``start_depot_id, end_depot_id`` (null or
        empty: ``depot_id``), ``break_after_sequence`` (the break follows that stop, 0: at the depot before the
        first leg; null: no break) and ``break_s`` (its length).
    stops : pandas.DataFrame
        One row per planned stop: ``route_id, vehicle_id, sequence, order_id, lat, lon, arrival_s,
        service_start_s, departure_s, tw_start_s, tw_end_s``. Optional: ``tw2_start_s, tw2_end_s`` (a second
        window; null: none), ``trip`` (1-based; the vehicle reloads at its start depot before each new trip,
        for the depot's ``reload_min``) and ``leg_duration_s`` (the planned drive to the stop; on a trip's first
        stop after the first departure, the driver leaves the depot no earlier than that before the stop's
        window opens).
    seed : int
        Non-negative seed; equal inputs and seed give equal results.
    weather : Weather, optional
        The day's weather; by default ``simulate_weather(world, service_date, seed)``.
    working_day : bool
        True (default): a driver starts no stop that it could not serve and drive back from before the shift's end
        plus the vehicle type's paid overtime (by the drive, the wait and the stop's typical service).
        False: the drivers work through the plan however late it gets (for plans that ignore shifts).

    Returns
    -------
    Execution

    Raises
    ------
    ValueError
        If a column is missing, the seed is negative, an id does not resolve (vehicle, depot, route,
        order, customer), an order is planned twice, or the weather is of another date.
    """
    day = _Day(world, service_date, orders, no_disruptions(service_date, seed), seed, weather, working_day)
    day.publish(routes, stops, 0)
    return day.finish()


def _key(text: str) -> int:
    """A non-negative integer key of an id, for :func:`simulator.seeding.rng_for`."""
    return zlib.crc32(text.encode("utf-8"))


def _driver_factor(world_seed: int, vehicle_id: str) -> float:
    """The hidden speed of the driver of a vehicle: the same on every day of a world."""
    rng = rng_for(world_seed, "driver", _key(vehicle_id))
    return float(np.clip(rng.lognormal(0.0, _DRIVER_SIGMA), *_DRIVER_RANGE))


def _number(value: object) -> float:
    """A float from a plan or order cell; NaN for null or empty."""
    if value is None or (isinstance(value, str) and value.strip() == "") or pd.isna(value):
        return float("nan")
    return float(value)


class _RowStreams:
    """Stands in for a ``numpy.random.Generator`` in :func:`simulator.roads.road_paths`: row i of every draw
    comes from generator i, so many legs are drawn at once and each leg's path is the one drawn alone."""

    def __init__(self, generators: list[np.random.Generator]) -> None:
        self.generators = generators

    def random(self, size: int) -> np.ndarray:
        return np.array([g.random() for g in self.generators])

    def normal(self, loc: float, scale: float, size: tuple[int, ...]) -> np.ndarray:
        return np.stack([g.normal(loc, scale, size[1:]) for g in self.generators])

    def lognormal(self, mean: float, sigma: float, size: int) -> np.ndarray:
        return np.array([g.lognormal(mean, sigma) for g in self.generators])


@dataclass(frozen=True)
class _Stop:
    """One stop of a plan version."""

    order_id: str
    sequence: int
    trip: int
    lat: float
    lon: float
    tw_start: float
    tw_end: float
    tw2_start: float  # NaN: no second window
    tw2_end: float
    chosen_start: float  # start of the window the plan chose: the second one when its service starts in it
    occurrence: int  # the order's n-th stop in the version, failed stops first (a failure and its retry: 1 and 2)
    # The first stop of a trip: the plan's drive to it from the depot (NaN: not a trip's first stop, or the plan
    # does not say). A driver at the depot leaves no earlier than that drive before the chosen window opens.
    depot_leg_s: float = np.nan

    @property
    def leave_depot_s(self) -> float:
        """The earliest time worth leaving the depot for this stop (-inf: at once)."""
        return -np.inf if np.isnan(self.depot_leg_s) else self.chosen_start - self.depot_leg_s


@dataclass(frozen=True)
class _Route:
    """One route of a plan version."""

    route_id: str
    vehicle_id: str
    start_s: float
    start_depot: Depot
    end_depot: Depot
    break_after: int  # the break follows the stop of this sequence; 0: at the depot; -1: no break
    break_s: float
    speed_ms: float
    stops: tuple[_Stop, ...]


def _service_start(stop: _Stop, arrive: float) -> float:
    """When service begins at a stop reached at ``arrive``: at once within a window (or after the chosen one closed),
    else when the window the plan chose opens."""
    in_window = stop.tw_start <= arrive <= stop.tw_end or stop.tw2_start <= arrive <= stop.tw2_end
    return arrive if in_window else max(arrive, stop.chosen_start)


@dataclass(frozen=True)
class _Version:
    """A plan published at ``at_s``: each vehicle's routes in start order."""

    at_s: float
    routes: dict[str, tuple[_Route, ...]]

    @classmethod
    def build(
        cls, world: World, at_s: float, routes: pd.DataFrame, stops: pd.DataFrame, known_orders: set[str]
    ) -> _Version:
        for frame, columns, name in ((routes, _ROUTE_INPUT, "routes"), (stops, _STOP_INPUT, "stops")):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(f"{name} lacks column(s) {', '.join(missing)}")
        vehicles = {v.vehicle_id: v for v in world.vehicles}
        depots = {d.depot_id: d for d in world.depots}
        unknown = sorted(set(routes["vehicle_id"]) - set(vehicles))
        if unknown:
            raise ValueError(f"routes name vehicle(s) not in the world: {', '.join(map(str, unknown))}")
        routes = routes.copy()
        for column in _ROUTE_OPTIONAL:
            if column not in routes.columns:
                routes[column] = None
        for column in ("start_depot_id", "end_depot_id"):
            given = routes[column].where(routes[column].notna() & (routes[column].astype(str) != ""))
            routes[column] = given.fillna(routes["depot_id"])
        named = set(routes["depot_id"]) | set(routes["start_depot_id"]) | set(routes["end_depot_id"])
        unknown = sorted(named - set(depots))
        if unknown:
            raise ValueError(f"routes name depot(s) not in the world: {', '.join(map(str, unknown))}")
        if routes["route_id"].duplicated().any():
            raise ValueError("route_id is not unique in routes")
        unknown = sorted(set(stops["route_id"]) - set(routes["route_id"]))
        if unknown:
            raise ValueError(f"stops name route(s) not in routes: {', '.join(map(str, unknown))}")
        # A re-plan lists the day's failed stops too, so an order retried later appears twice.
        pending = stops[_not_failed(stops)]
        if pending["order_id"].duplicated().any():
            twice = pending.loc[pending["order_id"].duplicated(), "order_id"].iloc[0]
            raise ValueError(f"order {twice} is planned twice")
        missing = sorted(set(stops["order_id"].astype(str)) - known_orders)
        if missing:
            raise ValueError(f"stops name order(s) not in orders: {', '.join(map(str, missing[:5]))}")

        routes = routes[routes["route_id"].isin(stops["route_id"])]
        routes = routes.sort_values(["vehicle_id", "start_s", "route_id"], kind="stable").reset_index(drop=True)
        rank = pd.Series(np.arange(len(routes)), index=routes["route_id"])
        planned = stops.assign(route_rank_=rank.reindex(stops["route_id"]).to_numpy())
        planned = planned.sort_values(["route_rank_", "sequence"], kind="stable").reset_index(drop=True)
        for column in _STOP_OPTIONAL:
            if column not in planned.columns:
                planned[column] = 1 if column == "trip" else np.nan
        planned["trip"] = pd.to_numeric(planned["trip"]).fillna(1).astype(np.int64)
        # An order's stops are numbered done first: its failed stops (the attempts made), then the stop still to
        # make. In route order, a retry on a van whose route sorts first came before the failure on another van,
        # which was then open again for the van that had failed there.
        done_first = planned.assign(pending_=_not_failed(planned)).sort_values(
            ["pending_", "route_rank_", "sequence"], kind="stable"
        )
        planned["n_occurrence"] = done_first.groupby("order_id", sort=False).cumcount().reindex(planned.index) + 1
        # A trip's first stop: the route's first, or one whose trip differs from the stop before it.
        first_of_trip = (planned["route_rank_"] != planned["route_rank_"].shift()) | (
            planned["trip"] != planned["trip"].shift()
        )
        planned["depot_leg_"] = pd.to_numeric(planned["leg_duration_s"], errors="coerce").where(first_of_trip)
        speed = {vt.vehicle_type: vt.avg_speed_kmh / 3.6 for vt in world.vehicle_types}

        stops_of: list[list[_Stop]] = [[] for _ in range(len(routes))]
        for row in planned.itertuples(index=False):
            tw2_start = _number(row.tw2_start_s)
            chosen = tw2_start if float(row.service_start_s) >= tw2_start else float(row.tw_start_s)
            stops_of[int(row.route_rank_)].append(
                _Stop(
                    order_id=str(row.order_id),
                    sequence=int(row.sequence),
                    trip=int(row.trip),
                    lat=float(row.lat),
                    lon=float(row.lon),
                    tw_start=float(row.tw_start_s),
                    tw_end=float(row.tw_end_s),
                    tw2_start=tw2_start,
                    tw2_end=_number(row.tw2_end_s),
                    chosen_start=chosen,
                    occurrence=int(row.n_occurrence),
                    depot_leg_s=_number(row.depot_leg_),
                )
            )
        by_vehicle: dict[str, list[_Route]] = {}
        for r, route in enumerate(routes.itertuples(index=False)):
            break_after = _number(route.break_after_sequence)
            by_vehicle.setdefault(str(route.vehicle_id), []).append(
                _Route(
                    route_id=str(route.route_id),
                    vehicle_id=str(route.vehicle_id),
                    start_s=float(route.start_s),
                    start_depot=depots[route.start_depot_id],
                    end_depot=depots[route.end_depot_id],
                    break_after=-1 if np.isnan(break_after) else int(break_after),
                    break_s=0.0 if np.isnan(_number(route.break_s)) else float(route.break_s),
                    speed_ms=speed[vehicles[str(route.vehicle_id)].vehicle_type],
                    stops=tuple(stops_of[r]),
                )
            )
        return cls(float(at_s), {v: tuple(rs) for v, rs in by_vehicle.items()})


def _not_failed(stops: pd.DataFrame) -> pd.Series:
    """Stops still to make: a re-plan lists the day's failed stops too (``status`` ``failed``); without a
    ``status`` column every stop is to make."""
    if "status" not in stops.columns:
        return pd.Series(True, index=stops.index)
    return stops["status"].astype(str) != "failed"


@dataclass(frozen=True)
class _Leg:
    """A drive as it happened: the polyline (metres), when it started and at what speed."""

    vehicle_id: str
    route_id: str
    seq: int  # per vehicle, in driving order
    t0: float
    speed_ms: float
    x: np.ndarray
    y: np.ndarray
    piece_pace: np.ndarray  # metres at the leg's speed per piece

    @property
    def piece_dt(self) -> np.ndarray:
        return self.piece_pace / self.speed_ms


@dataclass
class _Park:
    """A vehicle standing still; ``t1`` None while it is still there."""

    vehicle_id: str
    t0: float
    t1: float | None
    x: float
    y: float
    heading_deg: float
    at_depot: bool


@dataclass
class _Van:
    """What the simulator knows of one vehicle while it plays the day."""

    vehicle_id: str
    driver: float
    depot: Depot  # where it stands before its first route
    t: float = np.inf  # when it next decides; inf: waiting for a plan
    free_s: float = 0.0  # when it was last free at its depot
    status: str = "home"  # home (at a depot), out (on a trip), broken
    pending: str = "decide"  # decide, or service_end (the break rule is applied when service ends)
    x: float = 0.0
    y: float = 0.0
    lat: float = 0.0
    lon: float = 0.0
    place: str = ""  # key of where it is: a depot id or an order id
    heading_deg: float = 0.0
    route: _Route | None = None
    route_version: int = -1
    last_order: str | None = None  # the last stop served since it left the depot
    served_since_depot: int = 0
    break_taken: bool = False
    n_departures: int = 0
    ready_s: float | None = None  # when it can first leave: the plan's start plus its departure delay
    delay_s: float | None = None  # its first departure against the plan (truth)
    park: _Park | None = None
    n_events: int = 0
    event_rng: np.random.Generator | None = None


class _Day:
    """The day's engine: vehicles follow the newest plan version at each departure from a stop or depot.

    ``advance(to_s)`` plays every decision before ``to_s`` (a plan published later can only change decisions
    after it); what a decision commits to (the leg, the stop and its service) is fixed then, so what the
    systems recorded before ``to_s`` never changes afterwards.
    """

    def __init__(
        self,
        world: World,
        service_date: dt.date,
        orders: pd.DataFrame,
        scenario: Scenario,
        seed: int,
        weather: Weather | None,
        working_day: bool = True,
    ) -> None:
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        missing = [c for c in _ORDER_INPUT if c not in orders.columns]
        if missing:
            raise ValueError(f"orders lacks column(s) {', '.join(missing)}")
        if orders["order_id"].duplicated().any():
            raise ValueError("order_id is not unique in orders")
        if scenario.service_date != service_date:
            raise ValueError(f"scenario is of {scenario.service_date}, not {service_date}")
        if weather is None:
            weather = simulate_weather(world, service_date, seed)
        if weather.service_date != service_date:
            raise ValueError(f"weather is of {weather.service_date}, not {service_date}")
        self.world, self.service_date, self.seed, self.scenario = world, service_date, seed, scenario
        self.ordinal = service_date.toordinal()
        self.base_s = utc_base_s(service_date, world.timezone)
        self.projection = LocalProjection(world.depots[0].lat, world.depots[0].lon)
        self.weather = _with_disruptions(weather, scenario, world.timezone)
        conditions = self.weather.condition_by_local_hour(world.timezone)
        self.hour_speed = (
            np.array(world.truth.speed_factor_by_hour)
            * _WEEKDAY_SPEED[service_date.weekday()]
            * np.array([_WEATHER_SPEED[c] for c in conditions])
        )
        self.hour_service = np.array([_WEATHER_SERVICE[c] for c in conditions])
        self.truths = {st.site_type: st for st in world.truth.service_times}

        self.orders = self._order_info(world, orders, scenario)
        self.received_s = {d.order_id: float(d.at_s) for d in scenario.of_kind("new")}
        self.cancelled_s: dict[str, float] = {}
        for d in scenario.of_kind("cancel"):
            self.cancelled_s[d.order_id] = min(self.cancelled_s.get(d.order_id, np.inf), float(d.at_s))
        self.window_changes: dict[str, list[tuple[float, float, float]]] = {}
        for d in sorted(scenario.of_kind("window"), key=lambda d: d.at_s):
            self.window_changes.setdefault(d.order_id, []).append(
                (float(d.at_s), float(d.tw_start_s), float(d.tw_end_s))
            )
        self.extra_delay_s = {d.vehicle_id: float(d.delay_s) for d in scenario.of_kind("late_start")}
        self.breakdown_s: dict[str, float] = {}
        for d in scenario.of_kind("breakdown"):
            self.breakdown_s[d.vehicle_id] = min(self.breakdown_s.get(d.vehicle_id, np.inf), float(d.at_s))

        depots = {d.depot_id: d for d in world.depots}
        types = {vt.vehicle_type: vt for vt in world.vehicle_types}
        # The driver's working day ends at the shift's end plus the paid overtime: the van is home by then
        # (:meth:`_fits_day`).
        self.day_end_s = {
            v.vehicle_id: float(hhmm_s(v.shift_end) + 60 * types[v.vehicle_type].max_overtime_min)
            if working_day
            else np.inf
            for v in world.vehicles
        }
        self.vans = {
            v.vehicle_id: _Van(
                v.vehicle_id, _driver_factor(world.seed, v.vehicle_id), depots[v.start_depot_id or v.depot_id]
            )
            for v in world.vehicles
        }
        for van in self.vans.values():
            self._move_to(van, van.depot.depot_id, van.depot.lat, van.depot.lon)
            van.event_rng = rng_for(seed, "execution.events", self.ordinal, _key(van.vehicle_id))
        self.versions: list[_Version] = []
        self.clock_s = -np.inf  # every decision before it has been played
        self.finished = False
        self.attempts: dict[str, int] = {}
        self.delivered: set[str] = set()
        self.legs: list[_Leg] = []
        self.parks: list[_Park] = []
        self.events: list[tuple] = []  # (t, vehicle_id, seq, order_id, event_type, lat, lon, reason, attempt)
        self.visits: list[dict] = []
        self.roads: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}
        self.n_event_ids = 0
        self.n_ping_calls = 0
        self.recorded_chunks: list[tuple[pd.DataFrame, pd.DataFrame, int]] = []

    @staticmethod
    def _order_info(world: World, orders: pd.DataFrame, scenario: Scenario) -> dict[str, tuple]:
        """order id -> (customer_id, site_type, parcels, presence by hour), morning and new orders."""
        frames = [orders[list(_ORDER_INPUT)]]
        new = [d.order for d in scenario.of_kind("new")]
        if new:
            frames.append(pd.DataFrame(new)[list(_ORDER_INPUT)])
        every = pd.concat(frames, ignore_index=True)
        if every["order_id"].duplicated().any():
            raise ValueError("a new order of the scenario has the id of another order")
        customers = {c.customer_id: c for c in world.customers}
        unknown = sorted(set(every["customer_id"]) - set(customers))
        if unknown:
            raise ValueError(f"orders name customer(s) not in the world: {', '.join(map(str, unknown[:5]))}")
        profiles = {p.name: p.p_by_hour for p in world.truth.presence_profiles}
        return {
            str(o): (str(c), str(s), float(p), profiles[customers[c].presence_profile])
            for o, c, s, p in zip(
                every["order_id"], every["customer_id"], every["site_type"], every["parcels"], strict=True
            )
        }

    # -- the plan versions ------------------------------------------------------------------------------------

    def publish(self, routes: pd.DataFrame, stops: pd.DataFrame, at_s: float) -> None:
        if self.finished:
            raise ValueError("the day is finished")
        if at_s < self.clock_s:
            raise ValueError(f"a plan cannot take effect at {at_s} s, before {self.clock_s} s already played")
        if self.versions and at_s < self.versions[-1].at_s:
            raise ValueError("plan versions must be published in time order")
        self.versions.append(_Version.build(self.world, at_s, routes, stops, set(self.orders)))
        self._roads_of(self.versions[-1])
        for van in self.vans.values():
            if van.status == "home" and van.t == np.inf:  # waiting at its depot: it looks at the new plan
                van.t, van.pending = max(van.free_s, float(at_s)), "decide"

    def _version_at(self, t: float) -> int:
        index = -1
        for i, version in enumerate(self.versions):
            if version.at_s <= t:
                index = i
        return index

    def _is_open(self, stop: _Stop, t: float) -> bool:
        """Whether a stop of a plan is still to be served at ``t``: the order exists, is not cancelled, not
        delivered, and has had fewer attempts than this stop's place among the order's stops in the plan."""
        o = stop.order_id
        return (
            self.received_s.get(o, -np.inf) <= t
            and self.cancelled_s.get(o, np.inf) > t
            and o not in self.delivered
            and self.attempts.get(o, 0) < stop.occurrence
        )

    def _next_stop(self, van: _Van, version: _Version, t: float) -> tuple[_Route, int] | None:
        for route in version.routes.get(van.vehicle_id, ()):
            for j, stop in enumerate(route.stops):
                if self._is_open(stop, t):
                    return route, j
        return None

    # -- playing ------------------------------------------------------------------------------------------------

    def advance(self, to_s: float) -> None:
        """Play every decision before ``to_s``."""
        if self.finished:
            raise ValueError("the day is finished")
        if to_s < self.clock_s:
            raise ValueError(f"cannot go back from {self.clock_s} s to {to_s} s")
        deferred: set[str] = set()  # vehicles whose next departure is on or after to_s
        while True:
            waiting = [
                v for v in self.vans.values() if v.t < to_s and v.status != "broken" and v.vehicle_id not in deferred
            ]
            if not waiting:
                break
            van = min(waiting, key=lambda v: (v.t, v.vehicle_id))
            if not self._step(van, to_s):
                deferred.add(van.vehicle_id)
        self.clock_s = to_s

    def _step(self, van: _Van, to_s: float) -> bool:
        """One decision of a vehicle at ``van.t``; False when it must wait for a time on or after ``to_s``."""
        t = van.t
        if van.pending == "service_end":
            self._end_service(van, t)
            return True
        index = self._version_at(t)
        if van.status == "out":
            return self._decide_out(van, t, index)
        return self._decide_home(van, t, index, to_s)

    def _end_service(self, van: _Van, t: float) -> None:
        """Service ends: the break follows when the plan in force puts it after this stop (or an earlier one)."""
        van.pending = "decide"
        index = self._version_at(t)
        if van.break_taken or index < 0:
            return
        for route in self.versions[index].routes.get(van.vehicle_id, ()):
            stop = next((s for s in route.stops if s.order_id == van.last_order), None)
            if stop is not None:
                if route.break_after >= 0 and stop.sequence >= route.break_after and route.break_s > 0:
                    van.break_taken = True
                    van.t = t + route.break_s
                return

    def _decide_home(self, van: _Van, t: float, index: int, to_s: float) -> bool:
        while True:
            nxt = self._next_stop(van, self.versions[index], t) if index >= 0 else None
            later = index + 1 < len(self.versions)
            if nxt is None:
                if later:  # nothing to do in this plan: look again when the next one comes
                    index, t = index + 1, max(t, self.versions[index + 1].at_s)
                    continue
                van.t = np.inf
                return True
            route, j = nxt
            if van.n_departures == 0:
                if van.ready_s is None:  # the driver is ready at the first plan's start plus the hidden delay
                    van.ready_s = route.start_s + self._departure_delay(van, 0)
                depart = max(t, route.start_s, van.ready_s)
            else:  # back at the depot: not before the plan's start, nor so early it would wait at the stop
                leave = max(route.start_s, route.stops[j].leave_depot_s)
                depart = max(t, leave + self._departure_delay(van, van.n_departures))
            if later and self.versions[index + 1].at_s <= depart:
                index, t = index + 1, max(t, self.versions[index + 1].at_s)
                continue
            if depart >= to_s:
                van.t = t
                return False
            break
        if not self._fits_day(van, depart, route, route.stops[j]):  # the working day is over: it stays at its depot
            van.t = np.inf
            return True
        planned = route.start_s
        if route.break_after == 0 and not van.break_taken and route.break_s > 0:
            van.break_taken = True
            depart += route.break_s
            planned += route.break_s
        if self._breaks_down(van, depart):
            return True
        if van.n_departures == 0:
            van.delay_s = depart - planned
        van.n_departures += 1
        van.status, van.route, van.route_version = "out", route, index
        van.served_since_depot, van.last_order = 0, None
        depot = route.start_depot
        self._move_to(van, depot.depot_id, depot.lat, depot.lon)
        self._close_park(van, depart, at_depot=True)
        self._event(van, depart, "", "depot_departure", depot.lat, depot.lon)
        self._drive_to_stop(van, depart, route, route.stops[j])
        return True

    def _decide_out(self, van: _Van, t: float, index: int) -> bool:
        nxt = self._next_stop(van, self.versions[index], t) if index >= 0 else None
        current = van.route
        over = t >= self.day_end_s[van.vehicle_id]  # the working day is over: no more stops
        if over or nxt is None or (van.route_version == index and nxt[0].route_id != current.route_id):
            # No more stops for it in the plan in force (or its next one is on a later route): back to its depot.
            self._close_park(van, t)
            self._drive_to_depot(van, t, current.end_depot)
            return True
        route, j = nxt
        stop = route.stops[j]
        if not self._fits_day(van, t, route, stop):  # no time left for that stop: back to its depot
            self._close_park(van, t)
            self._drive_to_depot(van, t, current.end_depot)
            return True
        van.route, van.route_version = route, index
        self._close_park(van, t)
        if van.served_since_depot > 0:
            before = [s for s in route.stops[:j] if s.order_id == van.last_order]
            if before and before[-1].trip != stop.trip:  # a new trip: reload at the start depot first
                # Loaded, it decides at the depot like a vehicle home between routes: the newest plan then, and
                # not before the trip's first stop is worth leaving for.
                self._drive_to_depot(van, t, route.start_depot, reload_s=route.start_depot.reload_min * 60.0)
                return True
        self._drive_to_stop(van, t, route, stop)
        return True

    def _fits_day(self, van: _Van, t: float, route: _Route, stop: _Stop) -> bool:
        """Whether a driver leaving at ``t`` for ``stop`` can serve it and drive back to the route's end depot
        before the working day ends (shift end plus paid overtime), as the driver reckons it: the drive there and
        back at the hour's speed (what the navigation app says), the wait for the window, and the stop's typical
        service (the site's median plus its parcels, at the hour's pace and the driver's own). Its actual service
        may run longer, so a van may come home a little after the day's end, never by a whole stop."""
        day_end = self.day_end_s[van.vehicle_id]
        if t >= day_end:
            return False
        if day_end == np.inf:
            return True
        leg = self._drive_s(van, t, route, van.place, van.lat, van.lon, stop.order_id, stop.lat, stop.lon)
        start = _service_start(stop, t + leg)
        _, site, parcels, _ = self.orders[stop.order_id]
        truth = self.truths[site]
        typical = (truth.median_s + truth.per_parcel_s * parcels) * self.hour_service[int(start // 3600) % 24]
        end = start + typical * van.driver
        depot = route.end_depot
        home = self._drive_s(van, end, route, stop.order_id, stop.lat, stop.lon, depot.depot_id, depot.lat, depot.lon)
        return end + home <= day_end

    def _drive_s(
        self, van: _Van, t: float, route: _Route, origin: str, lat0: float, lon0: float, target: str, lat1, lon1
    ) -> float:
        """How long the vehicle takes from one place to another leaving at ``t`` (as :meth:`_drive` drives it)."""
        _, _, pace, hill = self._road(origin, lat0, lon0, target, lat1, lon1)
        return float(pace.sum()) / self._speed(van, route, t, hill)

    def _speed(self, van: _Van, route: _Route, t: float, hill: float) -> float:
        """The vehicle's speed on a road leaving at ``t``, m/s: its type's, at the hour's pace, the hill's and the
        driver's."""
        return route.speed_ms * self.hour_speed[int(t // 3600) % 24] * hill / van.driver

    # -- moving -------------------------------------------------------------------------------------------------

    def _departure_delay(self, van: _Van, k: int) -> float:
        """The hidden slack of a vehicle's k-th departure of the day (a few are late), plus a late start."""
        rng = rng_for(self.seed, "execution.departure", self.ordinal, _key(van.vehicle_id), k)
        late, late_s, usual_s = rng.random(), rng.uniform(*_LATE_DEPARTURE_S), rng.exponential(_USUAL_DEPARTURE_MEAN_S)
        delay = late_s if late < _LATE_DEPARTURE_SHARE else min(usual_s, 300.0)
        return delay + (self.extra_delay_s.get(van.vehicle_id, 0.0) if k == 0 else 0.0)

    def _breaks_down(self, van: _Van, t: float) -> bool:
        """Break down instead of starting a leg at ``t`` when the breakdown time has come."""
        if self.breakdown_s.get(van.vehicle_id, np.inf) > t:
            return False
        self._close_park(van, t)
        self._broken(van, t)
        return True

    def _broken(self, van: _Van, t: float) -> None:
        van.status, van.t = "broken", np.inf
        self._event(van, t, "", "breakdown", van.lat, van.lon)
        self.parks.append(_Park(van.vehicle_id, t, t, van.x, van.y, van.heading_deg, at_depot=False))

    def _road(self, origin: str, lat0: float, lon0: float, target: str, lat1: float, lon1: float):
        """The true path between two places (the same in every plan) and its hidden speed noise."""
        key = (origin, target)
        if key not in self.roads:
            self._add_roads([(origin, lat0, lon0, target, lat1, lon1)])
        return self.roads[key]

    def _add_roads(self, pairs: list[tuple[str, float, float, str, float, float]]) -> None:
        """Draw the paths between pairs of places at once, each from its own stream."""
        streams = [rng_for(self.seed, "execution.roads", self.ordinal, _key(p[0]), _key(p[3])) for p in pairs]
        lat0, lon0, lat1, lon1 = (np.array([p[i] for p in pairs], dtype=float) for i in (1, 2, 4, 5))
        x0, y0 = self.projection.to_xy(lat0, lon0)
        x1, y1 = self.projection.to_xy(lat1, lon1)
        x, y = road_paths(x0, y0, x1, y1, _RowStreams(streams))
        piece_len = np.hypot(np.diff(x, axis=1), np.diff(y, axis=1))
        noise = np.stack(
            [g.lognormal(-(_PIECE_SPEED_SIGMA**2) / 2, _PIECE_SPEED_SIGMA, piece_len.shape[1]) for g in streams]
        )
        factor = self.world.truth.hillside_speed_factor
        hill = (_hill(lat0, lon0, factor) + _hill(lat1, lon1, factor)) / 2
        for i, pair in enumerate(pairs):
            self.roads[(pair[0], pair[3])] = (x[i], y[i], piece_len[i] / noise[i], float(hill[i]))

    def _roads_of(self, version: _Version) -> None:
        """Draw the paths a plan version drives (depot, stops, reloads, end depot) in one batch, and within a working
        day the drive home from each stop (:meth:`_fits_day`)."""
        pairs = {}
        for routes in version.routes.values():
            for route in routes:
                depot, end = route.start_depot, route.end_depot
                homeward = self.day_end_s[route.vehicle_id] < np.inf
                here = (depot.depot_id, depot.lat, depot.lon)
                for i, stop in enumerate(route.stops):
                    if i > 0 and stop.trip != route.stops[i - 1].trip:
                        pairs[(here[0], depot.depot_id)] = (*here, depot.depot_id, depot.lat, depot.lon)
                        here = (depot.depot_id, depot.lat, depot.lon)
                    pairs[(here[0], stop.order_id)] = (*here, stop.order_id, stop.lat, stop.lon)
                    here = (stop.order_id, stop.lat, stop.lon)
                    if homeward:  # the drive home the driver reckons with before leaving for the stop
                        pairs[(stop.order_id, end.depot_id)] = (*here, end.depot_id, end.lat, end.lon)
                pairs[(here[0], end.depot_id)] = (*here, end.depot_id, end.lat, end.lon)
        missing = [pair for key, pair in pairs.items() if key not in self.roads]
        if missing:
            self._add_roads(missing)

    def _drive(self, van: _Van, t: float, route: _Route, target: str, lat: float, lon: float) -> float | None:
        """Drive from where the vehicle is to a place; the arrival time, or None when it broke down on the way."""
        x, y, pace, hill = self._road(van.place, van.lat, van.lon, target, lat, lon)
        speed = self._speed(van, route, t, hill)
        piece_dt = pace / speed
        arrive = t + float(piece_dt.sum())
        broken_s = self.breakdown_s.get(van.vehicle_id, np.inf)
        if broken_s < arrive:
            stop_s = max(broken_s, t)
            ends = t + np.cumsum(piece_dt)
            k = int(np.searchsorted(ends, stop_s, side="left"))  # the piece it is on
            begin = ends[k] - piece_dt[k]
            frac = (stop_s - begin) / piece_dt[k] if piece_dt[k] > 0 else 0.0
            bx = x[k] + frac * (x[k + 1] - x[k])
            by = y[k] + frac * (y[k + 1] - y[k])
            self._add_leg(
                van, route, t, speed, np.r_[x[: k + 1], bx], np.r_[y[: k + 1], by], np.r_[pace[:k], pace[k] * frac]
            )
            van.x, van.y = float(bx), float(by)
            b_lat, b_lon = self.projection.to_latlon(bx, by)
            van.lat, van.lon, van.place = float(b_lat), float(b_lon), f"{van.vehicle_id}@breakdown"
            self._broken(van, stop_s)
            return None
        self._add_leg(van, route, t, speed, x, y, pace)
        self._move_to(van, target, lat, lon)
        return arrive

    def _add_leg(
        self, van: _Van, route: _Route, t0: float, speed: float, x: np.ndarray, y: np.ndarray, pace: np.ndarray
    ) -> None:
        self.legs.append(_Leg(van.vehicle_id, route.route_id, len(self.legs), t0, speed, x, y, pace))
        if x.size > 1 and (x[-1] != x[-2] or y[-1] != y[-2]):
            van.heading_deg = float(np.degrees(np.arctan2(x[-1] - x[-2], y[-1] - y[-2])) % 360)

    def _move_to(self, van: _Van, place: str, lat: float, lon: float) -> None:
        van.place, van.lat, van.lon = place, lat, lon
        x, y = self.projection.to_xy(lat, lon)
        van.x, van.y = float(x), float(y)

    def _drive_to_depot(self, van: _Van, t: float, depot: Depot, reload_s: float = 0.0) -> None:
        """Back to a depot, at the end of a route or to load for the next trip (``reload_s``, the depot's reload
        time): the vehicle stands there and decides again once loaded (:meth:`_decide_home`), so a plan published
        meanwhile counts, and it leaves no earlier than its next trip's first stop is worth leaving for."""
        if self._breaks_down(van, t):
            return
        arrive = self._drive(van, t, van.route, depot.depot_id, depot.lat, depot.lon)
        if arrive is None:
            return
        self._event(van, arrive, "", "depot_return", depot.lat, depot.lon)
        van.status, van.route, van.pending = "home", None, "decide"
        van.free_s = van.t = arrive + reload_s
        van.park = _Park(van.vehicle_id, arrive, None, van.x, van.y, van.heading_deg, at_depot=True)
        self.parks.append(van.park)

    def _drive_to_stop(self, van: _Van, t: float, route: _Route, stop: _Stop) -> None:
        """Drive to a stop and serve it (or find it cancelled); the vehicle decides again when service ends."""
        if self._breaks_down(van, t):
            return
        arrive = self._drive(van, t, route, stop.order_id, stop.lat, stop.lon)
        if arrive is None:
            return
        o = stop.order_id
        start = _service_start(stop, arrive)
        cancelled_s = self.cancelled_s.get(o, np.inf)
        if cancelled_s <= start:
            # Cancelled on the way or while waiting for the window: the driver app drops the stop (no events) and
            # the driver goes on when told.
            van.t, van.pending = max(arrive, cancelled_s), "decide"
            van.park = _Park(van.vehicle_id, arrive, None, van.x, van.y, van.heading_deg, at_depot=False)
            self.parks.append(van.park)
            return
        customer_id, site, parcels, presence = self.orders[o]
        attempt = self.attempts.get(o, 0) + 1
        self.attempts[o] = attempt
        rng = rng_for(self.seed, "execution.stop", self.ordinal, _key(o), attempt)
        u_other, u_home, z_service = rng.random(), rng.random(), rng.normal()
        hour = int(start // 3600) % 24
        window = self._window_in_force(o, arrive)
        p_home = presence[hour]
        if window is not None and not window[0] <= start <= window[1]:
            p_home *= _AWAY_FROM_NEW_WINDOW  # they moved the window because they will be out
        if u_other < _REFUSED_P:
            reason = "refused"
        elif u_other < _REFUSED_P + _ADDRESS_NOT_FOUND_P:
            reason = "address_not_found"
        elif u_other < _REFUSED_P + _ADDRESS_NOT_FOUND_P + _NO_ACCESS_P[site]:
            reason = "no_access"
        elif u_home >= p_home:
            reason = "not_home"
        else:
            reason = ""
        if reason:
            service = _FAILED_STOP_S[reason] * np.exp(_FAILED_STOP_SIGMA * z_service)
        else:
            truth = self.truths[site]
            service = truth.median_s * np.exp(truth.sigma * z_service) + truth.per_parcel_s * parcels
        end = start + service * self.hour_service[hour] * van.driver
        if window is not None:
            window_end = window[1]
        else:
            window_end = stop.tw2_end if arrive >= stop.tw2_start else stop.tw_end
        self._event(van, arrive, o, "arrived", stop.lat, stop.lon, attempt=attempt)
        self._event(van, end, o, "failed" if reason else "delivered", stop.lat, stop.lon, reason, attempt)
        self.visits.append(
            {
                "order_id": o,
                "customer_id": customer_id,
                "vehicle_id": van.vehicle_id,
                "attempt": attempt,
                "arrival_s": arrive,
                "service_start_s": start,
                "service_end_s": end,
                "failure_reason": reason,
                "window_end_s": window_end,
            }
        )
        if not reason:
            self.delivered.add(o)
        van.park = _Park(van.vehicle_id, arrive, None, van.x, van.y, van.heading_deg, at_depot=False)
        self.parks.append(van.park)
        van.last_order = o
        van.served_since_depot += 1
        van.t, van.pending = end, "service_end"

    def _window_in_force(self, order_id: str, t: float) -> tuple[float, float] | None:
        """The window the customer asked for by ``t``; None when it never changed."""
        window = None
        for at_s, start, end in self.window_changes.get(order_id, ()):
            if at_s <= t:
                window = (start, end)
        return window

    def _close_park(self, van: _Van, t: float, at_depot: bool = False) -> None:
        """The vehicle leaves where it stands at ``t``; a first departure parks for no time at the depot."""
        if van.park is not None:
            van.park.t1 = t
            van.park = None
        elif at_depot:
            self.parks.append(_Park(van.vehicle_id, t, t, van.x, van.y, van.heading_deg, at_depot=True))

    def _event(
        self,
        van: _Van,
        t: float,
        order_id: str,
        event_type: str,
        lat: float,
        lon: float,
        reason: str = "",
        attempt: int | None = None,
    ) -> None:
        """Record a driver-app event; the phone's GPS error is drawn from the vehicle's own stream."""
        x, y = self.projection.to_xy(lat, lon)
        jitter = van.event_rng.normal(0.0, _EVENT_JITTER_M, 2)
        lat_j, lon_j = self.projection.to_latlon(x + jitter[0], y + jitter[1])
        van.n_events += 1
        self.events.append(
            (t, van.vehicle_id, van.n_events, order_id, event_type, float(lat_j), float(lon_j), reason, attempt)
        )

    # -- what the systems recorded ----------------------------------------------------------------------------

    def recorded(self, from_s: float, to_s: float) -> tuple[pd.DataFrame, pd.DataFrame, int]:
        """Pings and events of local times in ``[from_s, to_s)`` (every decision before ``to_s`` played)."""
        events = self._events_frame([e for e in self.events if from_s <= np.floor(e[0]) < to_s])
        pings, n_outliers = self._pings(from_s, to_s)
        self.recorded_chunks.append((pings, events, n_outliers))
        return pings, events, n_outliers

    def _events_frame(self, records: list[tuple]) -> pd.DataFrame:
        records = sorted(records, key=lambda e: (np.floor(e[0]), e[1], e[2]))
        t = np.array([e[0] for e in records], dtype=float)
        first = self.n_event_ids
        self.n_event_ids += len(records)
        vehicle_id = np.array([e[1] for e in records], dtype=object)
        frame = pd.DataFrame(
            {
                "event_id": [f"E-{self.service_date:%Y%m%d}-{first + i + 1:06d}" for i in range(len(records))],
                "service_date": self.service_date.isoformat(),
                "vehicle_id": vehicle_id,
                "driver_id": np.array([f"DRV-{v}" for v in vehicle_id], dtype=object),
                "order_id": np.array([e[3] for e in records], dtype=object),
                "event_type": np.array([e[4] for e in records], dtype=object),
                "ts_utc": _iso(self.base_s, t),
                "lat": np.round(np.array([e[5] for e in records], dtype=float), 6),
                "lon": np.round(np.array([e[6] for e in records], dtype=float), 6),
                "failure_reason": np.array([e[7] for e in records], dtype=object),
                "attempt": pd.array([e[8] for e in records], dtype="Int64"),
            },
            columns=list(EVENT_COLUMNS),
        )
        return frame.astype({c: "str" for c in EVENT_COLUMNS if c not in ("lat", "lon", "attempt")})

    def _motion(self, open_until_s: float) -> tuple[Moves, Parks, np.ndarray]:
        """The true motion so far; a stop the vehicle is still at lasts until ``open_until_s``."""
        vehicle_ids = np.array(
            sorted({leg.vehicle_id for leg in self.legs} | {p.vehicle_id for p in self.parks}), dtype=object
        )
        code = {v: i for i, v in enumerate(vehicle_ids)}
        legs = sorted(self.legs, key=lambda leg: (code[leg.vehicle_id], leg.t0, leg.seq))
        parts = {name: [] for name in ("vehicle", "t0", "t1", "leg_t0", "leg_t1", "x0", "y0", "x1", "y1")}
        for leg in legs:
            piece_dt = leg.piece_dt
            t1 = leg.t0 + np.cumsum(piece_dt)
            n = piece_dt.size
            parts["vehicle"].append(np.full(n, code[leg.vehicle_id]))
            parts["t0"].append(t1 - piece_dt)
            parts["t1"].append(t1)
            parts["leg_t0"].append(np.full(n, leg.t0))
            parts["leg_t1"].append(np.full(n, leg.t0 + piece_dt.sum()))
            parts["x0"].append(leg.x[:-1])
            parts["y0"].append(leg.y[:-1])
            parts["x1"].append(leg.x[1:])
            parts["y1"].append(leg.y[1:])
        empty = np.zeros(0)
        moves = Moves(
            **{
                name: (np.concatenate(a) if a else empty).astype(np.int64 if name == "vehicle" else float)
                for name, a in parts.items()
            }
        )
        parks = [p for p in self.parks if not (p.t1 is None and p.at_depot)]  # the tracker sleeps at the depot
        parks.sort(key=lambda p: (code[p.vehicle_id], p.t0))
        park_frame = Parks(
            vehicle=np.array([code[p.vehicle_id] for p in parks], dtype=np.int64),
            t0=np.array([p.t0 for p in parks], dtype=float),
            t1=np.array([open_until_s if p.t1 is None else p.t1 for p in parks], dtype=float),
            x=np.array([p.x for p in parks], dtype=float),
            y=np.array([p.y for p in parks], dtype=float),
            heading_deg=np.array([p.heading_deg for p in parks], dtype=float),
        )
        return moves, park_frame, vehicle_ids

    def _pings(self, from_s: float, to_s: float) -> tuple[pd.DataFrame, int]:
        """Fixes taken in ``[from_s, to_s)``, from the tracker's export of the motion so far."""
        # A stop the vehicle is still at lasts beyond to_s: its heartbeats before to_s are final.
        moves, parks, vehicle_ids = self._motion(open_until_s=to_s + 86_400.0 if np.isfinite(to_s) else 0.0)
        if vehicle_ids.size == 0:
            return _empty_pings(), 0
        rng = rng_for(self.seed, "execution.pings", self.ordinal, self.n_ping_calls)
        self.n_ping_calls += 1
        pings, n_outliers = simulate_pings(moves, parks, vehicle_ids, self.projection, self.base_s, rng)
        if np.isneginf(from_s) and np.isposinf(to_s):
            return pings, n_outliers
        local_s = np.round(pings["ts_utc"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6 - self.base_s)
        taken = pings[(local_s >= from_s) & (local_s < to_s)].reset_index(drop=True)
        return taken, _count_outliers(taken, moves, parks, vehicle_ids, self.projection, self.base_s)

    def finish(self) -> Execution:
        """Play the rest of the day and return all of it: what was recorded before and the rest."""
        from_s = self.clock_s
        self.advance(np.inf)
        for park in self.parks:  # the tracker goes to sleep where each vehicle ends its day
            if park.t1 is None:
                park.t1 = park.t0
        self.recorded(from_s, np.inf)
        self.finished = True
        truth, paths = self._truth()
        chunks = self.recorded_chunks
        pings = chunks[0][0] if len(chunks) == 1 else pd.concat([c[0] for c in chunks], ignore_index=True)
        events = chunks[0][1] if len(chunks) == 1 else pd.concat([c[1] for c in chunks], ignore_index=True)
        return Execution(pings, events, self._ratings(), truth, paths, sum(c[2] for c in chunks))

    def _ratings(self) -> pd.DataFrame:
        """One rating draw per order, of its last attempt."""
        last = {}
        for visit in self.visits:
            last[visit["order_id"]] = visit
        rows = []
        for order_id, visit in last.items():
            rng = rng_for(self.seed, "execution.ratings", self.ordinal, _key(order_id))
            u_rate, u_unhappy, pick = rng.random(), rng.random(), rng.random()
            minutes_late = max(visit["arrival_s"] - visit["window_end_s"], 0.0) / 60.0
            latent = rng.normal(_RATING_MEAN, _RATING_SD) - min(
                minutes_late / _RATING_LATE_MIN_PER_STAR, _RATING_LATE_MAX_PENALTY
            )
            after_s = rng.lognormal(np.log(_RATED_AFTER_MEDIAN_H * 3600), _RATED_AFTER_SIGMA)
            delivered = visit["failure_reason"] == ""
            if not (u_rate < (_RATING_SHARE if delivered else _FAILED_RATING_SHARE)):
                continue
            rating = int(np.clip(np.round(latent), 1, 5)) if delivered else (1 if u_unhappy < 0.6 else 2)
            comments = _COMMENTS[rating]
            rows.append(
                (
                    order_id,
                    visit["customer_id"],
                    rating,
                    comments[int(pick * len(comments))],
                    visit["service_end_s"] + min(after_s, 48 * 3600.0),
                )
            )
        rows.sort(key=lambda r: (np.floor(r[4]), r[0]))
        rated_at = np.array([r[4] for r in rows], dtype=float)
        return pd.DataFrame(
            {
                "order_id": [r[0] for r in rows],
                "customer_id": [r[1] for r in rows],
                "rating": np.array([r[2] for r in rows], dtype=np.int64),
                "comment": [r[3] for r in rows],
                "rated_at_utc": _iso(self.base_s, rated_at),
            },
            columns=list(RATING_COLUMNS),
        ).astype({"order_id": "str", "customer_id": "str", "comment": "str", "rated_at_utc": "str"})

    def _truth(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        legs = sorted(self.legs, key=lambda leg: (leg.vehicle_id, leg.t0, leg.seq))
        vehicle_ids = sorted({leg.vehicle_id for leg in legs})
        km = dict.fromkeys(vehicle_ids, 0.0)
        columns: dict[str, list] = {c: [] for c in ("vehicle_id", "route_id", "leg", "vertex", "lat", "lon", "t")}
        vertex = dict.fromkeys(vehicle_ids, 0)
        for n, leg in enumerate(legs):
            lat, lon = self.projection.to_latlon(leg.x, leg.y)
            km[leg.vehicle_id] += float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum()) / 1000.0
            k = leg.x.size
            columns["vehicle_id"].append(np.full(k, leg.vehicle_id, dtype=object))
            columns["route_id"].append(np.full(k, leg.route_id, dtype=object))
            columns["leg"].append(np.full(k, n))
            columns["vertex"].append(vertex[leg.vehicle_id] + np.arange(k))
            vertex[leg.vehicle_id] += k
            columns["lat"].append(lat)
            columns["lon"].append(lon)
            columns["t"].append(leg.t0 + np.r_[0.0, np.cumsum(leg.piece_dt)])
        truth = pd.DataFrame(
            {
                "vehicle_id": vehicle_ids,
                "true_km": [km[v] for v in vehicle_ids],
                "departure_delay_s": np.array(
                    [round(self.vans[v].delay_s or 0.0) for v in vehicle_ids], dtype=np.int64
                ),
                "driver_factor": [self.vans[v].driver for v in vehicle_ids],
            },
            columns=list(TRUTH_COLUMNS),
        ).astype({"vehicle_id": "str"})
        flat = {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in columns.items()}
        paths = pd.DataFrame(
            {
                "vehicle_id": flat["vehicle_id"].astype(object),
                "route_id": flat["route_id"].astype(object),
                "leg": flat["leg"].astype(np.int64),
                "vertex": flat["vertex"].astype(np.int64),
                "lat": flat["lat"].astype(float),
                "lon": flat["lon"].astype(float),
                "ts_utc": pd.to_datetime(
                    np.round((self.base_s + flat["t"].astype(float)) * 1e6).astype(np.int64), unit="us", utc=True
                ),
            }
        ).astype({"vehicle_id": "str", "route_id": "str"})
        return truth, paths


def _with_disruptions(weather: Weather, scenario: Scenario, timezone: str) -> Weather:
    """The weather as it really was: heavy rain of the scenario replaces the observations of its hours."""
    rain = scenario.of_kind("heavy_rain")
    if not rain:
        return weather
    observations = weather.observations.copy()
    local = pd.to_datetime(observations["observed_at_utc"], utc=True).dt.tz_convert(timezone)
    local_s = (local.dt.hour * 3600).to_numpy(dtype=float)
    wet = np.zeros(len(observations), bool)
    for spell in rain:
        wet |= (local_s >= spell.at_s // 3600 * 3600) & (local_s < spell.until_s)
    precipitation = observations["precipitation_mm"].to_numpy(dtype=float)
    observations["precipitation_mm"] = np.where(wet, np.maximum(precipitation, _HEAVY_RAIN_MM), precipitation)
    temperature = observations["temperature_c"].to_numpy(dtype=float)
    observations["condition"] = np.where(
        wet & (observations["condition"] != "snow"),
        np.where(temperature < 0.5, "snow", "heavy_rain"),
        observations["condition"],
    ).astype(object)
    return replace(weather, observations=observations.astype({"condition": "str"}))


def _empty_pings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vehicle_id": pd.array([], dtype="str"),
            "ts_utc": pd.to_datetime(np.array([], dtype=np.int64), unit="us", utc=True),
            **{c: np.zeros(0) for c in ("lat", "lon", "speed_kmh", "heading_deg")},
        },
        columns=["vehicle_id", "ts_utc", "lat", "lon", "speed_kmh", "heading_deg"],
    )


def _count_outliers(
    pings: pd.DataFrame, moves: Moves, parks: Parks, vehicle_ids: np.ndarray, projection: LocalProjection, base_s: float
) -> int:
    """Fixes more than 60 m from where their vehicle really was (the injected outliers: 100-500 m off)."""
    if pings.empty:
        return 0
    code = {v: i for i, v in enumerate(vehicle_ids)}
    vehicle = np.array([code[v] for v in pings["vehicle_id"]])
    t = pings["ts_utc"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6 - base_s
    px, py = projection.to_xy(pings["lat"].to_numpy(), pings["lon"].to_numpy())
    # Parks are pieces that do not move.
    v_all = np.concatenate([moves.vehicle, parks.vehicle])
    t0 = np.concatenate([moves.t0, parks.t0])
    t1 = np.concatenate([moves.t1, parks.t1])
    x0, y0 = np.concatenate([moves.x0, parks.x]), np.concatenate([moves.y0, parks.y])
    x1, y1 = np.concatenate([moves.x1, parks.x]), np.concatenate([moves.y1, parks.y])
    off = np.zeros(t.size)
    is_piece = np.r_[np.ones(moves.t0.size), np.zeros(parks.t0.size)]
    for v in np.unique(vehicle):
        mine = np.flatnonzero(v_all == v)
        # A fix at the start of a piece is on it, not on the zero-length park at the depot just before it.
        mine = mine[np.lexsort((is_piece[mine], t0[mine]))]
        fixes = np.flatnonzero(vehicle == v)
        k = mine[np.clip(np.searchsorted(t0[mine], t[fixes], side="right") - 1, 0, mine.size - 1)]
        span = np.where(t1[k] > t0[k], t1[k] - t0[k], 1.0)
        f = np.clip((t[fixes] - t0[k]) / span, 0.0, 1.0)
        off[fixes] = np.hypot(px[fixes] - (x0[k] + f * (x1[k] - x0[k])), py[fixes] - (y0[k] + f * (y1[k] - y0[k])))
    return int((off > 60.0).sum())


def _iso(base_s: float, t: np.ndarray) -> np.ndarray:
    stamps = pd.to_datetime((base_s + np.floor(t)).astype(np.int64), unit="s", utc=True)
    return np.asarray(stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)


def _hill(lat: np.ndarray, lon: np.ndarray, factor: float) -> np.ndarray:
    on_hill = np.zeros(lat.size, bool)
    for box in _HILLSIDE_BOXES:
        on_hill |= box.contains(lat, lon)
    return np.where(on_hill, factor, 1.0)
