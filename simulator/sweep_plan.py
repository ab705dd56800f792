"""A naive planner: a sweep and a nearest-neighbour order, no solver.

The obvious baseline, and a quick way to get a plan for the execution simulator without PyVRP (simulator
tests, ingestion benchmarks).

Orders go to their nearest depot; each depot's orders are split into angular sectors, one per vehicle
working that day; a sector is visited in nearest-neighbour order, grouped by two-hour window buckets so
that morning windows come before afternoon ones. Planned times use the planner's model: great-circle x 1.3
at the vehicle type's speed, and mean service times of the site type.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simulator import World
from simulator.disruptions import hhmm_s
from simulator.fleet import WEEKDAYS
from simulator.geography import haversine_m

CIRCUITY = 1.3
_PLANNED_SERVICE_S = {"house": 180.0, "apartment": 270.0, "business": 230.0}


def _seconds(stamp: str, default: float) -> float:
    if not stamp:
        return default
    local = dt.datetime.fromisoformat(stamp)
    return float(local.hour * 3600 + local.minute * 60)


def _nearest_neighbour(lat: np.ndarray, lon: np.ndarray, start: tuple[float, float]) -> list[int]:
    left = list(range(lat.size))
    here = start
    tour = []
    while left:
        d = haversine_m(here[0], here[1], lat[left], lon[left])
        nxt = left.pop(int(np.argmin(d)))
        tour.append(nxt)
        here = (lat[nxt], lon[nxt])
    return tour


def nearest_neighbour_plan(
    world: World, service_date: dt.date, orders: pd.DataFrame, max_stops: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(routes, stops)`` in the execution simulator's input format for the orders of a date."""
    weekday = WEEKDAYS[service_date.weekday()]
    depots = {d.depot_id: d for d in world.depots}
    speed = {vt.vehicle_type: vt.avg_speed_kmh / 3.6 for vt in world.vehicle_types}
    depot_ids = list(depots)
    d_lat = np.array([depots[d].lat for d in depot_ids])
    d_lon = np.array([depots[d].lon for d in depot_ids])
    lat = orders["lat"].to_numpy(float)
    lon = orders["lon"].to_numpy(float)
    nearest = np.argmin(haversine_m(lat[:, None], lon[:, None], d_lat, d_lon), axis=1)
    route_rows, stop_rows = [], []
    for k, depot_id in enumerate(depot_ids):
        depot = depots[depot_id]
        vehicles = [v for v in world.vehicles if v.depot_id == depot_id and weekday in v.work_days]
        mine = orders[nearest == k].reset_index(drop=True)
        if not vehicles or mine.empty:
            continue
        angle = np.arctan2(mine["lat"].to_numpy() - depot.lat, mine["lon"].to_numpy() - depot.lon)
        sector = np.minimum((np.argsort(np.argsort(angle)) * len(vehicles)) // len(mine), len(vehicles) - 1)
        for s, vehicle in enumerate(vehicles):
            chunk = mine[sector == s].reset_index(drop=True)
            if max_stops is not None:
                chunk = chunk.iloc[:max_stops]
            if chunk.empty:
                continue
            shift_start, shift_end = float(hhmm_s(vehicle.shift_start)), float(hhmm_s(vehicle.shift_end))
            tw_start = np.array([_seconds(w, shift_start) for w in chunk["window_start"]])
            tw_end = np.array([_seconds(w, shift_end) for w in chunk["window_end"]])
            tour = _nearest_neighbour(
                chunk["lat"].to_numpy(float), chunk["lon"].to_numpy(float), (depot.lat, depot.lon)
            )
            bucket = (tw_end[tour] // 7200).astype(int)
            tour = [tour[i] for i in np.argsort(bucket, kind="stable")]
            route, planned = _timed_route(
                vehicle, depot, speed[vehicle.vehicle_type], chunk.iloc[tour], tw_start[tour], tw_end[tour], shift_start
            )
            route_rows.append(route)
            stop_rows.extend(planned)
    return pd.DataFrame(route_rows), pd.DataFrame(stop_rows)


def _timed_route(
    vehicle, depot, v_ms: float, visits: pd.DataFrame, tw_start: np.ndarray, tw_end: np.ndarray, start_s: float
) -> tuple[dict, list[dict]]:
    """One route row and its stop rows, timed with the planner's model."""
    route_id = f"R-{vehicle.vehicle_id}"
    t, here, rows = start_s, (depot.lat, depot.lon), []
    for seq, (i, row) in enumerate(zip(range(len(visits)), visits.itertuples(), strict=True), start=1):
        arrival = t + float(haversine_m(here[0], here[1], row.lat, row.lon)) * CIRCUITY / v_ms
        start = max(arrival, tw_start[i])
        departure = start + _PLANNED_SERVICE_S[row.site_type]
        rows.append(
            {
                "route_id": route_id,
                "vehicle_id": vehicle.vehicle_id,
                "sequence": seq,
                "order_id": row.order_id,
                "lat": row.lat,
                "lon": row.lon,
                "arrival_s": round(arrival),
                "service_start_s": round(start),
                "departure_s": round(departure),
                "tw_start_s": round(tw_start[i]),
                "tw_end_s": round(tw_end[i]),
            }
        )
        t, here = departure, (row.lat, row.lon)
    back = t + float(haversine_m(here[0], here[1], depot.lat, depot.lon)) * CIRCUITY / v_ms
    route = {
        "route_id": route_id,
        "vehicle_id": vehicle.vehicle_id,
        "depot_id": depot.depot_id,
        "start_s": round(start_s),
        "end_s": round(back),
    }
    return route, rows
