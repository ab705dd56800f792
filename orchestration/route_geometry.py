"""Road geometry of planned routes for the map: ``plans.route_geometry``, one row per polyline vertex.

A plan made on a road network (:class:`solver.roads.RoadTravelModel`) drives along roads, so a straight line
from stop to stop misdraws it. :func:`route_geometry` asks the travel model for the road path of every leg of
every route, in the route's real order: start depot, stops, a visit to the start depot at each reload, end
depot. A travel model without ``paths`` (great circle, learned travel times, a given matrix) gives no rows, and
the map draws straight lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from solver import Plan, PlannedRoute, Problem

GEOMETRY_COLUMNS = ("depot_id", "route_id", "seq", "lon", "lat")
"""Columns of :func:`route_geometry`; ``plans.route_geometry`` adds ``plan_id`` first."""

GEOMETRY_DDL = (
    "create schema if not exists plans",
    """create table if not exists plans.route_geometry (
        plan_id varchar, depot_id varchar, route_id varchar, seq integer, lon double, lat double)""",
)


def route_waypoints(problem: Problem, route: PlannedRoute) -> tuple[list[float], list[float]]:
    """Latitudes and longitudes a route visits, in order: start depot, stops with the start depot after each
    reload, end depot."""
    orders = {order.order_id: order for order in problem.orders}
    start = problem.depot_of(route.start_depot_id or None)
    end = problem.depot_of(route.end_depot_id or None)
    reloads_after = {reload.after_sequence for reload in route.reloads}
    points = [start]
    for stop in route.stops:
        points.append(orders[stop.order_id])
        if stop.sequence in reloads_after:
            points.append(start)
    points.append(end)
    return [p.lat for p in points], [p.lon for p in points]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "depot_id": pd.Series(dtype="object"),
            "route_id": pd.Series(dtype="object"),
            "seq": pd.Series(dtype="int64"),
            "lon": pd.Series(dtype="float64"),
            "lat": pd.Series(dtype="float64"),
        }
    )


def route_geometry(problems: Sequence[Problem], plans: Sequence[Plan], travel_model: object) -> pd.DataFrame:
    """Polyline of every route of a plan, along the roads of ``travel_model``.

    Parameters
    ----------
    problems
        The problems the plans solve (matched by depot id): their depots and orders give the coordinates.
    plans
        One plan per depot.
    travel_model
        The model the plans were made with. Only one with ``paths(lat, lon)`` (one ``(lon, lat)`` polyline
        per leg, as :meth:`solver.roads.RoadTravelModel.paths`) gives geometry; it is called once per route.

    Returns
    -------
    pandas.DataFrame
        :data:`GEOMETRY_COLUMNS`, one row per vertex, ``seq`` 0-based along each route, ordered by depot, route
        and seq. The first vertex is the start depot and the last the end depot; consecutive equal vertices
        appear once. Empty when the model has no ``paths``.
    """
    paths = getattr(travel_model, "paths", None)
    if paths is None:
        return _empty()
    by_depot = {problem.depot.depot_id: problem for problem in problems}
    depot_ids, route_ids, seqs, lons, lats = [], [], [], [], []
    for plan in plans:
        problem = by_depot[plan.depot_id]
        for route in plan.routes:
            lat, lon = route_waypoints(problem, route)
            legs = paths(lat, lon)
            vertices = np.array([vertex for leg in legs for vertex in leg], dtype=np.float64).reshape(-1, 2)
            keep = np.ones(len(vertices), dtype=bool)
            keep[1:] = (vertices[1:] != vertices[:-1]).any(axis=1)  # a leg starts where the previous one ends
            vertices = vertices[keep]
            depot_ids.append(np.full(len(vertices), plan.depot_id, dtype=object))
            route_ids.append(np.full(len(vertices), route.route_id, dtype=object))
            seqs.append(np.arange(len(vertices), dtype=np.int64))
            lons.append(vertices[:, 0])
            lats.append(vertices[:, 1])
    if not route_ids:
        return _empty()
    frame = pd.DataFrame(
        {
            "depot_id": np.concatenate(depot_ids),
            "route_id": np.concatenate(route_ids),
            "seq": np.concatenate(seqs),
            "lon": np.concatenate(lons),
            "lat": np.concatenate(lats),
        }
    )
    return frame.sort_values(["depot_id", "route_id", "seq"], kind="stable").reset_index(drop=True)


def write_route_geometry(conn: duckdb.DuckDBPyConnection, plan_id: str, geometry: pd.DataFrame) -> int:
    """Replace the rows of ``plan_id`` in ``plans.route_geometry`` with ``geometry`` in one transaction.

    Creates the table if it does not exist. Returns the number of rows written.
    """
    for statement in GEOMETRY_DDL:
        conn.execute(statement)
    frame = geometry.loc[:, list(GEOMETRY_COLUMNS)].copy()
    frame.insert(0, "plan_id", plan_id)
    conn.execute("begin transaction")
    try:
        conn.execute("delete from plans.route_geometry where plan_id = ?", [plan_id])
        if len(frame):
            conn.register("_route_geometry_rows", frame)
            try:
                conn.execute("insert into plans.route_geometry by name select * from _route_geometry_rows")
            finally:
                conn.unregister("_route_geometry_rows")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return len(frame)
