"""Plans for the execution-simulator tests without a solver: the sweep baseline and tiny hand-made routes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simulator import World
from simulator.geography import haversine_m
from simulator.sweep_plan import _timed_route, nearest_neighbour_plan

__all__ = ["clean_pings", "hand_plan", "km_by_vehicle", "nearest_neighbour_plan"]


def hand_plan(
    world: World, service_date: dt.date, start_s: float, n_stops: int = 6
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(orders, routes, stops)``: van V-SCH-01 from D-SCHAAN to houses in Schaan and Triesen and back.

    The customers are real ones of the world (so their presence profiles resolve): the first houses by id
    in Schaan and Triesen, alternately. Windows cover the whole day, so nobody waits.
    """
    customers = world.customers_frame()
    houses = customers[customers["site_type"] == "house"]
    schaan = houses[houses["town"] == "Schaan"].head(n_stops // 2 + 1)
    triesen = houses[houses["town"] == "Triesen"].head(n_stops // 2 + 1)
    picked = pd.concat([schaan, triesen]).sort_index().head(n_stops).reset_index(drop=True)
    orders = pd.DataFrame(
        {
            "order_id": [f"O-{service_date:%Y%m%d}-{i + 1:05d}" for i in range(len(picked))],
            "customer_id": picked["customer_id"],
            "lat": picked["lat"],
            "lon": picked["lon"],
            "site_type": picked["site_type"],
            "parcels": 1,
            "window_start": "",
            "window_end": "",
        }
    )
    vehicle = next(v for v in world.vehicles if v.vehicle_id == "V-SCH-01")
    depot = next(d for d in world.depots if d.depot_id == "D-SCHAAN")
    v_ms = world.vehicle_type(vehicle.vehicle_type).avg_speed_kmh / 3.6
    n = len(orders)
    route, rows = _timed_route(vehicle, depot, v_ms, orders, np.zeros(n), np.full(n, 86_399.0), start_s)
    return orders, pd.DataFrame([route]), pd.DataFrame(rows)


def clean_pings(pings: pd.DataFrame, detour_m: float = 100.0) -> pd.DataFrame:
    """The warehouse's cleaning assumed by the distance contract (see ``simulator.telematics``).

    Drop exact duplicates, sort each vehicle's fixes by time, then drop in one pass every fix but the first
    and last of a vehicle whose detour via it, ``d(prev, fix) + d(fix, next) - d(prev, next)``, exceeds
    ``detour_m``.
    """
    frame = pings.drop_duplicates().sort_values(["vehicle_id", "ts_utc"], kind="stable").reset_index(drop=True)
    keep = np.ones(len(frame), bool)
    vehicle = frame["vehicle_id"].to_numpy()
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    inner = np.zeros(len(frame), bool)
    inner[1:-1] = (vehicle[1:-1] == vehicle[:-2]) & (vehicle[1:-1] == vehicle[2:])
    d_prev = haversine_m(lat[:-2], lon[:-2], lat[1:-1], lon[1:-1])
    d_next = haversine_m(lat[1:-1], lon[1:-1], lat[2:], lon[2:])
    d_skip = haversine_m(lat[:-2], lon[:-2], lat[2:], lon[2:])
    keep[1:-1] = ~(inner[1:-1] & (d_prev + d_next - d_skip > detour_m))
    return frame[keep].reset_index(drop=True)


def km_by_vehicle(pings: pd.DataFrame) -> pd.Series:
    """Sum of great-circle distances between consecutive fixes of each vehicle (fixes in time order), km."""
    lat, lon = pings["lat"].to_numpy(), pings["lon"].to_numpy()
    same = pings["vehicle_id"].to_numpy()[1:] == pings["vehicle_id"].to_numpy()[:-1]
    hop = np.where(same, haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]), 0.0)
    return pd.Series(np.r_[0.0, hop], index=pings.index).groupby(pings["vehicle_id"]).sum() / 1000.0
