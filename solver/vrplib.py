"""Read a VRPTW benchmark instance in VRPLIB format into the solver's own model.

Benchmarks (Solomon, Gehring & Homberger) give planar x/y coordinates and Euclidean distances. The reader maps
them onto :class:`~solver.model.Problem` so the benchmark runs the same code path as the planning asset: the
points get fake but bijective coordinates (``lat = y / 1000``, ``lon = x / 1000``) that key a
:class:`~solver.matrix.MatrixTravelModel` holding the benchmark's integer distances. Every vehicle costs 1 EUR
per distance unit and nothing per hour or day, so the plan's cost is the total distance, the benchmark's
objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vrplib as vrplib_format

from solver.matrix import MatrixTravelModel
from solver.model import Depot, Order, Problem, Vehicle

DEPOT_ID = "DEPOT"
COORDINATE_SCALE = 1e-3
"""Degrees per planar coordinate unit: ``lat = y * 1e-3``, ``lon = x * 1e-3``."""
CLIENT_PRIORITY = "mandatory"
"""Every client of a benchmark must be served."""
VEHICLE_SPEED_KMH = 36.0
"""Any positive speed: the matrix model gives the same durations for every speed."""

ROUND_FUNCS: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    # name: (integer units per instance unit, rounding), as ``pyvrp.read(path, round_func=name)`` does.
    "dimacs": (10, lambda values: (10 * np.asarray(values)).astype(np.int64)),
    "exact": (1000, lambda values: np.round(1000 * np.asarray(values)).astype(np.int64)),
    "round": (1, lambda values: np.round(np.asarray(values)).astype(np.int64)),
    "trunc": (1, lambda values: np.asarray(values).astype(np.int64)),
}


@dataclass(frozen=True)
class VrptwInstance:
    """A VRPTW benchmark instance in the solver's model.

    Parameters
    ----------
    name
        Instance name from the file, e.g. ``"C101"``.
    problem
        Depot ``"DEPOT"``, one order per client (``order_id`` = the client's number in VRPLIB solution files,
        ``"1"`` to ``str(n_clients)``), ``num_vehicles`` identical vehicles.
    travel_model
        Integer distances (= durations) over ``[depot] + clients``, in instance units times ``scale``.
    scale
        Integer units per instance unit: 10 for ``"dimacs"`` (a cost of 8273 is the benchmark's 827.3).
    n_clients, num_vehicles
        Size of the instance.
    """

    name: str
    problem: Problem
    travel_model: MatrixTravelModel
    scale: int
    n_clients: int
    num_vehicles: int


def read_vrptw(path: str | Path, round_func: str = "dimacs") -> VrptwInstance:
    """Read a VRPTW instance (one depot, ``EUC_2D``, time windows) from a VRPLIB ``.vrp`` file.

    Distances, times and service durations are scaled and rounded by ``round_func`` exactly as
    ``pyvrp.read(path, round_func=...)`` does; durations equal distances (unit speed), as in the benchmarks.

    Parameters
    ----------
    path
        The ``.vrp`` file.
    round_func
        ``"dimacs"`` (default: times 10, truncated; the DIMACS/CVRPLIB convention of the best-known solutions),
        ``"exact"`` (times 1000, rounded), ``"round"`` or ``"trunc"`` (times 1).

    Returns
    -------
    VrptwInstance

    Raises
    ------
    ValueError
        On an unknown ``round_func``, a file with other than one depot (the first node), or without time
        windows or coordinates.
    """
    if round_func not in ROUND_FUNCS:
        raise ValueError(f"round_func must be one of {sorted(ROUND_FUNCS)}, got {round_func!r}")
    scale, to_int = ROUND_FUNCS[round_func]
    data = vrplib_format.read_instance(str(path))
    name = str(data.get("name", Path(path).stem))
    for key in ("node_coord", "time_window", "demand", "capacity", "edge_weight"):
        if key not in data:
            raise ValueError(f"{path} has no {key} (not a VRPTW instance in VRPLIB format)")
    depots = np.atleast_1d(data.get("depot", np.array([0])))
    if depots.tolist() != [0]:
        raise ValueError(f"{path} must have exactly one depot, the first node; it has {depots.tolist()}")

    coords = np.asarray(data["node_coord"], dtype=np.float64)
    n = coords.shape[0]
    n_clients = n - 1
    distance = to_int(data["edge_weight"])
    windows = to_int(data["time_window"])
    service = data.get("service_time", 0)
    if np.ndim(service) == 0:
        service = np.full(n, service)
        service[0] = 0
    service = to_int(service)
    demand = np.asarray(data["demand"]).astype(np.int64)
    capacity = int(data["capacity"])
    num_vehicles = int(data.get("vehicles", n_clients))

    lat = coords[:, 1] * COORDINATE_SCALE
    lon = coords[:, 0] * COORDINATE_SCALE
    travel_model = MatrixTravelModel(lat=lat, lon=lon, distance_m=distance, duration_s=distance)

    depot = Depot(
        depot_id=DEPOT_ID,
        lat=float(lat[0]),
        lon=float(lon[0]),
        opens_s=int(windows[0, 0]),
        closes_s=int(windows[0, 1]),
    )
    orders = tuple(
        Order(
            order_id=str(k),
            lat=float(lat[k]),
            lon=float(lon[k]),
            weight_g=int(demand[k]),
            volume_cm3=0,
            service_s=int(service[k]),
            tw_start_s=int(windows[k, 0]),
            tw_end_s=int(windows[k, 1]),
            priority=CLIENT_PRIORITY,
        )
        for k in range(1, n)
    )
    width = len(str(num_vehicles))
    vehicles = tuple(
        Vehicle(
            vehicle_id=f"V{v:0{width}d}",
            vehicle_type="vehicle",
            capacity_weight_g=capacity,
            capacity_volume_cm3=0,
            shift_start_s=depot.opens_s,
            shift_end_s=depot.closes_s,
            speed_kmh=VEHICLE_SPEED_KMH,
            cost_per_km_eur=1.0,
            cost_per_hour_eur=0.0,
            cost_per_day_eur=0.0,
        )
        for v in range(1, num_vehicles + 1)
    )
    problem = Problem(depot=depot, orders=orders, vehicles=vehicles)
    return VrptwInstance(
        name=name,
        problem=problem,
        travel_model=travel_model,
        scale=scale,
        n_clients=n_clients,
        num_vehicles=num_vehicles,
    )
