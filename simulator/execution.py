"""The execution simulator: plays a day's plan out under the hidden "true" world.

The planner sees great-circle distance x 1.3 at a constant speed per vehicle type and average service
times. The true world differs: roads are polylines of about that length driven at speeds that vary by hour
of day, weekday, weather, hillside and driver; service times are lognormal per site type; customers are not
always at home; a few routes leave the depot late. Vehicles follow the planned sequence, arrive early and
wait for the window like the plan (for an order with two windows, the one the plan chose; arriving after it
closed, service starts at once), always drive on to the next stop however late they are, and a failed
delivery ends that stop (no second attempt on the same day). A planned break is taken where the plan puts it
(the driver pauses its length after that stop, or at the depot before leaving); a planned reload drives back to
the start depot between two trips and loads for the depot's reload time; a route that ends at another depot
drives there.

The result is what the source systems would record: GPS pings, driver-app stop events and customer
ratings (``docs/data_contract.md`` section 4), plus the hidden truth for tests and diagnostics.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulator.geography import SETTLEMENTS, haversine_m
from simulator.roads import LocalProjection, road_paths
from simulator.seeding import rng_for
from simulator.telematics import Moves, Parks, simulate_pings
from simulator.weather import Weather, simulate_weather
from simulator.world import World

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
    "event_id", "service_date", "vehicle_id", "driver_id", "order_id", "event_type", "ts_utc", "lat", "lon",
    "failure_reason", "attempt",
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
    "route_id", "vehicle_id", "sequence", "order_id", "lat", "lon", "arrival_s", "service_start_s",
    "departure_s", "tw_start_s", "tw_end_s",
)
# Optional plan columns (issue 6), read when present: where a route starts and ends (empty / missing = its
# depot_id), its break (after which stop, how long), a stop's second window and trip (a new trip = a reload).
_ROUTE_OPTIONAL = ("start_depot_id", "end_depot_id", "break_after_sequence", "break_s")
_STOP_OPTIONAL = ("tw2_start_s", "tw2_end_s", "trip")

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
) -> Execution:
    """Play a day's plan out under the world's hidden truth.

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
        window; null: none) and ``trip`` (1-based; the vehicle reloads at its start depot before each new trip,
        for the depot's ``reload_min``).
    seed : int
        Non-negative seed; equal inputs and seed give equal results.
    weather : Weather, optional
        The day's weather; by default ``simulate_weather(world, service_date, seed)``.

    Returns
    -------
    Execution

    Raises
    ------
    ValueError
        If a column is missing, the seed is negative, an id does not resolve (vehicle, depot, route,
        order, customer), an order is planned twice, or the weather is of another date.
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    for frame, columns, name in ((orders, _ORDER_INPUT, "orders"), (routes, _ROUTE_INPUT, "routes"),
                                 (stops, _STOP_INPUT, "stops")):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {', '.join(missing)}")
    if weather is None:
        weather = simulate_weather(world, service_date, seed)
    if weather.service_date != service_date:
        raise ValueError(f"weather is of {weather.service_date}, not {service_date}")

    plan = _Plan.build(world, orders, routes, stops)
    conditions = weather.condition_by_local_hour(world.timezone)
    hour_speed = (
        np.array(world.truth.speed_factor_by_hour)
        * _WEEKDAY_SPEED[service_date.weekday()]
        * np.array([_WEATHER_SPEED[c] for c in conditions])
    )
    hour_service = np.array([_WEATHER_SERVICE[c] for c in conditions])
    driver = np.array([_driver_factor(world.seed, v) for v in plan.vehicle_ids])

    ordinal = service_date.toordinal()
    projection = LocalProjection(world.depots[0].lat, world.depots[0].lon)
    roads_rng = rng_for(seed, "execution.roads", ordinal)
    legs = _Legs.build(plan, projection, world.truth.hillside_speed_factor, roads_rng)
    day_rng = rng_for(seed, "execution.day", ordinal)
    timeline = _play(plan, legs, world, hour_speed, hour_service, driver, day_rng)
    base_s = utc_base_s(service_date, world.timezone)

    moves, parks = _motion(plan, legs, timeline)
    pings, n_outliers = simulate_pings(
        moves, parks, plan.vehicle_ids, projection, base_s, rng_for(seed, "execution.pings", ordinal)
    )
    events = _events(
        plan, legs, timeline, service_date, projection, base_s, rng_for(seed, "execution.events", ordinal)
    )
    ratings = _ratings(plan, timeline, base_s, rng_for(seed, "execution.ratings", ordinal))
    truth, paths = _truth(plan, legs, timeline, driver, projection, base_s)
    return Execution(pings, events, ratings, truth, paths, n_outliers)


def _driver_factor(world_seed: int, vehicle_id: str) -> float:
    """The hidden speed of the driver of a vehicle: the same on every day of a world."""
    rng = rng_for(world_seed, "driver", zlib.crc32(vehicle_id.encode("utf-8")))
    return float(np.clip(rng.lognormal(0.0, _DRIVER_SIGMA), *_DRIVER_RANGE))


@dataclass(frozen=True)
class _Plan:
    """Routes sorted by vehicle and start, stops in planned order, joined to orders and customers."""

    vehicle_ids: np.ndarray  # sorted unique ids; a vehicle's code is its index
    route_ids: np.ndarray
    route_vehicle: np.ndarray
    route_start_s: np.ndarray
    route_speed_ms: np.ndarray
    depot_lat: np.ndarray  # start depot
    depot_lon: np.ndarray
    end_lat: np.ndarray  # end depot
    end_lon: np.ndarray
    route_break_after: np.ndarray  # sequence the break follows, -1 for none
    route_break_s: np.ndarray
    route_reload_s: np.ndarray  # the start depot's reload time
    route_first_stop: np.ndarray  # stops of route r: route_first_stop[r] : route_first_stop[r + 1]
    stops: pd.DataFrame  # planned order, with customer_id, site_type, parcels, presence (24 floats), tw2, trip

    @classmethod
    def build(cls, world: World, orders: pd.DataFrame, routes: pd.DataFrame, stops: pd.DataFrame) -> _Plan:
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
        if stops["order_id"].duplicated().any():
            twice = stops.loc[stops["order_id"].duplicated(), "order_id"].iloc[0]
            raise ValueError(f"order {twice} is planned twice")
        if orders["order_id"].duplicated().any():
            raise ValueError("order_id is not unique in orders")

        order_info = orders.set_index("order_id")[["customer_id", "site_type", "parcels"]]
        missing = sorted(set(stops["order_id"]) - set(order_info.index))
        if missing:
            raise ValueError(f"stops name order(s) not in orders: {', '.join(map(str, missing[:5]))}")
        customers = {c.customer_id: c for c in world.customers}
        profiles = {p.name: p.p_by_hour for p in world.truth.presence_profiles}

        routes = routes[routes["route_id"].isin(stops["route_id"])]
        routes = routes.sort_values(["vehicle_id", "start_s", "route_id"], kind="stable").reset_index(drop=True)
        rank = pd.Series(np.arange(len(routes)), index=routes["route_id"])
        planned = stops.assign(_route=rank.reindex(stops["route_id"]).to_numpy())
        planned = planned.sort_values(["_route", "sequence"], kind="stable").reset_index(drop=True)
        planned = planned.join(order_info, on="order_id")
        for column in _STOP_OPTIONAL:
            if column not in planned.columns:
                planned[column] = 1 if column == "trip" else np.nan
        planned["trip"] = pd.to_numeric(planned["trip"]).fillna(1).astype(np.int64)
        unknown = sorted(set(planned["customer_id"]) - set(customers))
        if unknown:
            raise ValueError(f"orders name customer(s) not in the world: {', '.join(map(str, unknown[:5]))}")
        planned["presence"] = [profiles[customers[c].presence_profile] for c in planned["customer_id"]]

        vehicle_ids = np.array(sorted(set(routes["vehicle_id"])), dtype=object)
        code = {v: i for i, v in enumerate(vehicle_ids)}
        speed = {vt.vehicle_type: vt.avg_speed_kmh / 3.6 for vt in world.vehicle_types}
        counts = np.bincount(planned["_route"].to_numpy(dtype=np.int64), minlength=len(routes))
        return cls(
            vehicle_ids=vehicle_ids,
            route_ids=routes["route_id"].to_numpy(dtype=object),
            route_vehicle=np.array([code[v] for v in routes["vehicle_id"]], dtype=np.int64),
            route_start_s=routes["start_s"].to_numpy(dtype=float),
            route_speed_ms=np.array([speed[vehicles[v].vehicle_type] for v in routes["vehicle_id"]]),
            depot_lat=np.array([depots[d].lat for d in routes["start_depot_id"]]),
            depot_lon=np.array([depots[d].lon for d in routes["start_depot_id"]]),
            end_lat=np.array([depots[d].lat for d in routes["end_depot_id"]]),
            end_lon=np.array([depots[d].lon for d in routes["end_depot_id"]]),
            route_break_after=pd.to_numeric(routes["break_after_sequence"]).fillna(-1).to_numpy(dtype=np.int64),
            route_break_s=pd.to_numeric(routes["break_s"]).fillna(0).to_numpy(dtype=float),
            route_reload_s=np.array([depots[d].reload_min * 60.0 for d in routes["start_depot_id"]]),
            route_first_stop=np.concatenate(([0], np.cumsum(counts))),
            stops=planned,
        )


@dataclass(frozen=True)
class _Legs:
    """One leg per drive: depot -> first stop, stop -> stop, last stop -> depot; in driving order. A reload
    between two trips is a leg back to the start depot and one out from it.

    ``stop`` is the index of the stop the leg ends at, -1 for the return to the (end) depot at the end of the
    route, -2 for a return to the start depot to reload.
    """

    route: np.ndarray
    stop: np.ndarray
    x: np.ndarray  # (n_legs, n_vertices) metres
    y: np.ndarray
    piece_len: np.ndarray  # (n_legs, n_vertices - 1) metres
    piece_pace: np.ndarray  # metres driven per metre at the leg's speed: piece_len / speed noise
    hill: np.ndarray

    @classmethod
    def build(cls, plan: _Plan, projection: LocalProjection, hillside_factor: float,
              rng: np.random.Generator) -> _Legs:
        stop_lat = plan.stops["lat"].to_numpy(dtype=float)
        stop_lon = plan.stops["lon"].to_numpy(dtype=float)
        trip = plan.stops["trip"].to_numpy(dtype=np.int64)
        route, stop, lat0, lon0, lat1, lon1 = [], [], [], [], [], []
        for r in range(plan.route_ids.size):
            first, end = plan.route_first_stop[r], plan.route_first_stop[r + 1]
            lats, lons, ends = [plan.depot_lat[r]], [plan.depot_lon[r]], []
            for i in range(first, end):
                if i > first and trip[i] != trip[i - 1]:  # back to the start depot to reload
                    lats.append(plan.depot_lat[r])
                    lons.append(plan.depot_lon[r])
                    ends.append(-2)
                lats.append(stop_lat[i])
                lons.append(stop_lon[i])
                ends.append(i)
            lats = np.array([*lats, plan.end_lat[r]])
            lons = np.array([*lons, plan.end_lon[r]])
            route.append(np.full(len(ends) + 1, r))
            stop.append(np.array([*ends, -1], dtype=np.int64))
            lat0.append(lats[:-1])
            lon0.append(lons[:-1])
            lat1.append(lats[1:])
            lon1.append(lons[1:])
        lat0, lon0, lat1, lon1 = (np.concatenate(a) for a in (lat0, lon0, lat1, lon1))
        x0, y0 = projection.to_xy(lat0, lon0)
        x1, y1 = projection.to_xy(lat1, lon1)
        x, y = road_paths(x0, y0, x1, y1, rng)
        piece_len = np.hypot(np.diff(x, axis=1), np.diff(y, axis=1))
        noise = rng.lognormal(-(_PIECE_SPEED_SIGMA**2) / 2, _PIECE_SPEED_SIGMA, piece_len.shape)
        hill = (_hill(lat0, lon0, hillside_factor) + _hill(lat1, lon1, hillside_factor)) / 2
        return cls(np.concatenate(route), np.concatenate(stop), x, y, piece_len, piece_len / noise, hill)


def _hill(lat: np.ndarray, lon: np.ndarray, factor: float) -> np.ndarray:
    on_hill = np.zeros(lat.size, bool)
    for box in _HILLSIDE_BOXES:
        on_hill |= box.contains(lat, lon)
    return np.where(on_hill, factor, 1.0)


@dataclass(frozen=True)
class _Timeline:
    """True times (seconds since local midnight) of every leg, stop and route."""

    leg_t0: np.ndarray
    leg_speed_ms: np.ndarray
    leg_t1: np.ndarray
    route_depart: np.ndarray
    route_return: np.ndarray
    departure_delay_s: np.ndarray
    arrival: np.ndarray  # per stop
    service_start: np.ndarray
    service_end: np.ndarray
    leave: np.ndarray  # per stop: the end of service, or of the break taken after it
    reason: np.ndarray  # per stop: "" when delivered, else a failure reason
    reload_depart: np.ndarray  # per leg: leaving the depot after a reload (legs with stop -2), else NaN


def _play(plan: _Plan, legs: _Legs, world: World, hour_speed: np.ndarray, hour_service: np.ndarray,
          driver: np.ndarray, rng: np.random.Generator) -> _Timeline:
    """Drive each route in planned order; one Python step per leg (a day has about a thousand)."""
    stops = plan.stops
    n_stops, n_routes, n_legs = len(stops), plan.route_ids.size, legs.route.size
    # All randomness drawn up front in a fixed order, so the draws do not depend on the path taken.
    late = rng.random(n_routes) < _LATE_DEPARTURE_SHARE
    delay = np.where(
        late,
        rng.uniform(*_LATE_DEPARTURE_S, n_routes),
        np.minimum(rng.exponential(_USUAL_DEPARTURE_MEAN_S, n_routes), 300.0),
    )
    u_home = rng.random(n_stops)
    u_other = rng.random(n_stops)
    z_service = rng.normal(0.0, 1.0, n_stops)

    site = stops["site_type"].to_numpy()
    parcels = stops["parcels"].to_numpy(dtype=float)
    tw_start = stops["tw_start_s"].to_numpy(dtype=float)
    tw_end = stops["tw_end_s"].to_numpy(dtype=float)
    tw2_start = pd.to_numeric(stops["tw2_start_s"]).to_numpy(dtype=float)
    tw2_end = pd.to_numeric(stops["tw2_end_s"]).to_numpy(dtype=float)
    # The window the plan chose: the second one when the planned service starts in it.
    chosen_start = np.where(stops["service_start_s"].to_numpy(dtype=float) >= tw2_start, tw2_start, tw_start)
    sequence = stops["sequence"].to_numpy(dtype=np.int64)
    presence = stops["presence"].to_numpy()
    truths = {st.site_type: st for st in world.truth.service_times}
    no_access_p = np.array([_NO_ACCESS_P[s] for s in site])
    pace = legs.piece_pace.sum(axis=1)

    leg_t0, leg_t1, leg_speed = np.empty(n_legs), np.empty(n_legs), np.empty(n_legs)
    arrival, start, end, leave = np.empty(n_stops), np.empty(n_stops), np.empty(n_stops), np.empty(n_stops)
    reason = np.full(n_stops, "", dtype=object)
    depart, back, planned_depart = np.empty(n_routes), np.empty(n_routes), plan.route_start_s.copy()
    reload_depart = np.full(n_legs, np.nan)
    free_at: dict[int, float] = {}
    leg = 0
    for r in range(n_routes):
        v = plan.route_vehicle[r]
        t = max(plan.route_start_s[r] + delay[r], free_at.get(v, -np.inf))
        if plan.route_break_after[r] == 0:  # the break at the depot, before the first leg
            t += plan.route_break_s[r]
            planned_depart[r] += plan.route_break_s[r]
        depart[r] = t
        while leg < n_legs and legs.route[leg] == r:
            hour = int(t // 3600) % 24
            speed = plan.route_speed_ms[r] * hour_speed[hour] * legs.hill[leg] / driver[v]
            leg_t0[leg], leg_speed[leg] = t, speed
            t += pace[leg] / speed
            leg_t1[leg] = t
            i = legs.stop[leg]
            leg += 1
            if i == -1:
                break
            if i == -2:
                t += plan.route_reload_s[r]
                reload_depart[leg - 1] = t
                continue
            arrival[i] = t
            in_window = tw_start[i] <= t <= tw_end[i] or tw2_start[i] <= t <= tw2_end[i]
            start[i] = t if in_window else max(t, chosen_start[i])
            hour = int(start[i] // 3600) % 24
            if u_other[i] < _REFUSED_P:
                reason[i] = "refused"
            elif u_other[i] < _REFUSED_P + _ADDRESS_NOT_FOUND_P:
                reason[i] = "address_not_found"
            elif u_other[i] < _REFUSED_P + _ADDRESS_NOT_FOUND_P + no_access_p[i]:
                reason[i] = "no_access"
            elif u_home[i] >= presence[i][hour]:
                reason[i] = "not_home"
            if reason[i]:
                service = _FAILED_STOP_S[reason[i]] * np.exp(_FAILED_STOP_SIGMA * z_service[i])
            else:
                truth = truths[site[i]]
                service = truth.median_s * np.exp(truth.sigma * z_service[i]) + truth.per_parcel_s * parcels[i]
            end[i] = start[i] + service * hour_service[hour] * driver[v]
            leave[i] = end[i] + (plan.route_break_s[r] if sequence[i] == plan.route_break_after[r] else 0.0)
            t = leave[i]
        back[r] = t
        free_at[v] = t
    return _Timeline(leg_t0, leg_speed, leg_t1, depart, back, depart - planned_depart, arrival, start, end, leave,
                     reason, reload_depart)


def _motion(plan: _Plan, legs: _Legs, timeline: _Timeline) -> tuple[Moves, Parks]:
    """Pieces driven (with their times) and intervals parked, for the telematics unit."""
    piece_dt = legs.piece_pace / timeline.leg_speed_ms[:, None]
    piece_t1 = timeline.leg_t0[:, None] + np.cumsum(piece_dt, axis=1)
    piece_t0 = piece_t1 - piece_dt
    shape = piece_dt.shape
    vehicle = plan.route_vehicle[legs.route]
    moves = Moves(
        vehicle=np.repeat(vehicle, shape[1]),
        t0=piece_t0.ravel(),
        t1=piece_t1.ravel(),
        leg_t0=np.repeat(timeline.leg_t0, shape[1]),
        leg_t1=np.repeat(timeline.leg_t1, shape[1]),
        x0=legs.x[:, :-1].ravel(),
        y0=legs.y[:, :-1].ravel(),
        x1=legs.x[:, 1:].ravel(),
        y1=legs.y[:, 1:].ravel(),
    )
    heading_in = np.degrees(np.arctan2(legs.x[:, -1] - legs.x[:, -2], legs.y[:, -1] - legs.y[:, -2])) % 360

    # Parks: at each stop from arrival to the end of service (or of the break after it); at the depot while
    # reloading, and from the return of one route to the departure of the vehicle's next (zero-length at the
    # start and end of its day).
    at_stop = legs.stop >= 0
    stop_idx = legs.stop[at_stop]
    reloading = legs.stop == -2
    p_vehicle = [vehicle[at_stop], vehicle[reloading]]
    p_t0 = [timeline.arrival[stop_idx], timeline.leg_t1[reloading]]
    p_t1 = [timeline.leave[stop_idx], timeline.reload_depart[reloading]]
    p_x, p_y = [legs.x[at_stop, -1], legs.x[reloading, -1]], [legs.y[at_stop, -1], legs.y[reloading, -1]]
    p_heading = [heading_in[at_stop], heading_in[reloading]]
    first_leg = np.flatnonzero(np.r_[True, legs.route[1:] != legs.route[:-1]])
    last_leg = np.flatnonzero(legs.stop == -1)
    for r in range(plan.route_ids.size):
        v = plan.route_vehicle[r]
        previous = r > 0 and plan.route_vehicle[r - 1] == v
        p_vehicle.append([v])
        p_t0.append([timeline.route_return[r - 1] if previous else timeline.route_depart[r]])
        p_t1.append([timeline.route_depart[r]])
        p_x.append([legs.x[first_leg[r], 0]])
        p_y.append([legs.y[first_leg[r], 0]])
        p_heading.append([heading_in[last_leg[r - 1]] if previous else 0.0])
        if r + 1 == plan.route_ids.size or plan.route_vehicle[r + 1] != v:
            p_vehicle.append([v])
            p_t0.append([timeline.route_return[r]])
            p_t1.append([timeline.route_return[r]])
            p_x.append([legs.x[last_leg[r], -1]])
            p_y.append([legs.y[last_leg[r], -1]])
            p_heading.append([heading_in[last_leg[r]]])
    parks = Parks(
        vehicle=np.concatenate(p_vehicle).astype(np.int64),
        t0=np.concatenate(p_t0).astype(float),
        t1=np.concatenate(p_t1).astype(float),
        x=np.concatenate(p_x).astype(float),
        y=np.concatenate(p_y).astype(float),
        heading_deg=np.concatenate(p_heading).astype(float),
    )
    return moves, parks


def _iso(base_s: float, t: np.ndarray) -> np.ndarray:
    stamps = pd.to_datetime((base_s + np.floor(t)).astype(np.int64), unit="s", utc=True)
    return np.asarray(stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)


def _events(plan: _Plan, legs: _Legs, timeline: _Timeline, service_date: dt.date, projection: LocalProjection,
            base_s: float, rng: np.random.Generator) -> pd.DataFrame:
    stops = plan.stops
    n_routes = plan.route_ids.size
    stop_route = stops["_route"].to_numpy(dtype=np.int64)
    stop_vehicle = plan.route_vehicle[stop_route]
    delivered = timeline.reason == ""
    n = len(stops)
    # Per route: departure, (arrived, outcome) per stop, return; `rank` keeps that order within equal times. A
    # reload is a return to the start depot and a departure from it, right after the outcome of the stop before.
    reload_leg = np.flatnonzero(legs.stop == -2)
    reload_route = legs.route[reload_leg]
    reload_after = legs.stop[reload_leg - 1]  # the stop driven from: a reload always follows a stop
    m = reload_leg.size
    vehicle = np.concatenate([plan.route_vehicle, stop_vehicle, stop_vehicle, plan.route_vehicle,
                              plan.route_vehicle[reload_route], plan.route_vehicle[reload_route]])
    t = np.concatenate([timeline.route_depart, timeline.arrival, timeline.service_end, timeline.route_return,
                        timeline.leg_t1[reload_leg], timeline.reload_depart[reload_leg]])
    route = np.concatenate([np.arange(n_routes), stop_route, stop_route, np.arange(n_routes), reload_route,
                            reload_route])
    rank = np.concatenate([np.zeros(n_routes), 1 + 2 * np.arange(n), 2 + 2 * np.arange(n),
                           np.full(n_routes, 2 * n + 1), 2 + 2 * reload_after + 0.25, 2 + 2 * reload_after + 0.5])
    kind = np.concatenate([
        np.full(n_routes, "depot_departure", dtype=object),
        np.full(n, "arrived", dtype=object),
        np.where(delivered, "delivered", "failed").astype(object),
        np.full(n_routes, "depot_return", dtype=object),
        np.full(m, "depot_return", dtype=object),
        np.full(m, "depot_departure", dtype=object),
    ])
    order_id = np.concatenate([np.full(n_routes, "", dtype=object), stops["order_id"].to_numpy(dtype=object),
                               stops["order_id"].to_numpy(dtype=object), np.full(n_routes + 2 * m, "", dtype=object)])
    reason = np.concatenate([np.full(n_routes + n, "", dtype=object), timeline.reason,
                             np.full(n_routes + 2 * m, "", dtype=object)])
    lat = np.concatenate([plan.depot_lat, stops["lat"], stops["lat"], plan.end_lat, plan.depot_lat[reload_route],
                          plan.depot_lat[reload_route]]).astype(float)
    lon = np.concatenate([plan.depot_lon, stops["lon"], stops["lon"], plan.end_lon, plan.depot_lon[reload_route],
                          plan.depot_lon[reload_route]]).astype(float)
    x, y = projection.to_xy(lat, lon)
    lat, lon = projection.to_latlon(x + rng.normal(0.0, _EVENT_JITTER_M, x.size),
                                    y + rng.normal(0.0, _EVENT_JITTER_M, y.size))
    attempt = pd.array(np.where(order_id == "", pd.NA, 1), dtype="Int64")

    whole_s = np.floor(t)
    vehicle_id = plan.vehicle_ids[vehicle]
    order = np.lexsort((rank, route, vehicle_id, whole_s))
    frame = pd.DataFrame(
        {
            "service_date": service_date.isoformat(),
            "vehicle_id": vehicle_id[order],
            "driver_id": np.array([f"DRV-{v}" for v in vehicle_id[order]], dtype=object),
            "order_id": order_id[order],
            "event_type": kind[order],
            "ts_utc": _iso(base_s, t[order]),
            "lat": np.round(lat[order], 6),
            "lon": np.round(lon[order], 6),
            "failure_reason": reason[order],
            "attempt": attempt[order],
        }
    )
    frame.insert(0, "event_id", [f"E-{service_date:%Y%m%d}-{i + 1:06d}" for i in range(len(frame))])
    return frame.astype({c: "str" for c in EVENT_COLUMNS if c not in ("lat", "lon", "attempt")})[
        list(EVENT_COLUMNS)
    ]


def _ratings(plan: _Plan, timeline: _Timeline, base_s: float, rng: np.random.Generator) -> pd.DataFrame:
    stops = plan.stops
    n = len(stops)
    delivered = timeline.reason == ""
    # Late against the end of the last window that had opened (the second one, once it has).
    tw2_start = pd.to_numeric(stops["tw2_start_s"]).to_numpy(dtype=float)
    window_end = np.where(timeline.arrival >= tw2_start, pd.to_numeric(stops["tw2_end_s"]).to_numpy(dtype=float),
                          stops["tw_end_s"].to_numpy(dtype=float))
    minutes_late = np.maximum(timeline.arrival - window_end, 0.0) / 60.0
    u_rate = rng.random(n)
    latent = rng.normal(_RATING_MEAN, _RATING_SD, n) - np.minimum(
        minutes_late / _RATING_LATE_MIN_PER_STAR, _RATING_LATE_MAX_PENALTY
    )
    unhappy = np.where(rng.random(n) < 0.6, 1, 2)
    rating = np.where(delivered, np.clip(np.round(latent), 1, 5), unhappy).astype(np.int64)
    rated = np.where(delivered, u_rate < _RATING_SHARE, u_rate < _FAILED_RATING_SHARE)
    pick = rng.random(n)
    comment = np.array(
        [_COMMENTS[int(r)][int(p * len(_COMMENTS[int(r)]))] for r, p in zip(rating, pick, strict=True)], dtype=object
    )
    after_s = rng.lognormal(np.log(_RATED_AFTER_MEDIAN_H * 3600), _RATED_AFTER_SIGMA, n)
    rated_at = timeline.service_end + np.minimum(after_s, 48 * 3600.0)
    idx = np.flatnonzero(rated)
    idx = idx[np.lexsort((stops["order_id"].to_numpy()[idx], np.floor(rated_at[idx])))]
    return pd.DataFrame(
        {
            "order_id": stops["order_id"].to_numpy(dtype=object)[idx],
            "customer_id": stops["customer_id"].to_numpy(dtype=object)[idx],
            "rating": rating[idx],
            "comment": comment[idx],
            "rated_at_utc": _iso(base_s, rated_at[idx]),
        },
        columns=list(RATING_COLUMNS),
    ).astype({"order_id": "str", "customer_id": "str", "comment": "str", "rated_at_utc": "str"})


def _truth(plan: _Plan, legs: _Legs, timeline: _Timeline, driver: np.ndarray, projection: LocalProjection,
           base_s: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    lat, lon = projection.to_latlon(legs.x, legs.y)
    leg_m = haversine_m(lat[:, :-1], lon[:, :-1], lat[:, 1:], lon[:, 1:]).sum(axis=1)
    leg_vehicle = plan.route_vehicle[legs.route]
    km = np.bincount(leg_vehicle, weights=leg_m, minlength=plan.vehicle_ids.size) / 1000.0
    first_route = np.flatnonzero(np.r_[True, plan.route_vehicle[1:] != plan.route_vehicle[:-1]])
    truth = pd.DataFrame(
        {
            "vehicle_id": plan.vehicle_ids.astype(str),
            "true_km": km,
            "departure_delay_s": np.round(timeline.departure_delay_s[first_route]).astype(np.int64),
            "driver_factor": driver,
        },
        columns=list(TRUTH_COLUMNS),
    ).astype({"vehicle_id": "str"})

    piece_dt = legs.piece_pace / timeline.leg_speed_ms[:, None]
    vertex_t = timeline.leg_t0[:, None] + np.concatenate(
        [np.zeros((piece_dt.shape[0], 1)), np.cumsum(piece_dt, axis=1)], axis=1
    )
    n_vertices = legs.x.shape[1]
    vehicle_of_vertex = np.repeat(leg_vehicle, n_vertices)  # sorted: legs run vehicle by vehicle
    first_vertex = np.searchsorted(vehicle_of_vertex, vehicle_of_vertex)
    vertex = np.arange(vehicle_of_vertex.size) - first_vertex
    paths = pd.DataFrame(
        {
            "vehicle_id": plan.vehicle_ids[vehicle_of_vertex].astype(str),
            "route_id": plan.route_ids[np.repeat(legs.route, n_vertices)].astype(str),
            "leg": np.repeat(np.arange(legs.route.size), n_vertices),
            "vertex": vertex,
            "lat": lat.ravel(),
            "lon": lon.ravel(),
            "ts_utc": pd.to_datetime(np.round((base_s + vertex_t.ravel()) * 1e6).astype(np.int64), unit="us",
                                     utc=True),
        }
    ).astype({"vehicle_id": "str", "route_id": "str"})
    return truth, paths
