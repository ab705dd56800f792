"""lastmile solver: plans one depot's routes for one service date with PyVRP.

The planning asset hands in dataclasses built from the ``marts`` tables and stores the returned plans; the
solver never opens a database or a file. Every ``import pyvrp`` of the project lives in this package.
"""

from solver.costs import (
    CostRates,
    route_cost_eur,
    route_cost_micro,
    unserved_penalty_eur,
    unserved_penalty_micro,
    vehicle_rates,
)
from solver.diagnostics import REASON_CODES
from solver.matrix import MatrixTravelModel
from solver.model import (
    Depot,
    Order,
    Plan,
    PlannedReload,
    PlannedRoute,
    PlannedStop,
    Problem,
    SolveConfig,
    SolveStats,
    Unassigned,
    Vehicle,
)
from solver.solve import default_max_iters, default_no_improvement_iters, solve, solve_many
from solver.timing import DEFAULT_CELL_DEG, TimeDependentTravelModel, retime_route, zone_cells
from solver.travel import GreatCircleTravelModel, TravelMatrices, TravelModel, haversine_m
from solver.validate import validate
from solver.vrplib import VrptwInstance, read_vrptw

__all__ = [
    "DEFAULT_CELL_DEG",
    "REASON_CODES",
    "CostRates",
    "Depot",
    "GreatCircleTravelModel",
    "MatrixTravelModel",
    "Order",
    "Plan",
    "PlannedRoute",
    "PlannedStop",
    "PlannedReload",
    "Problem",
    "SolveConfig",
    "SolveStats",
    "TimeDependentTravelModel",
    "TravelMatrices",
    "TravelModel",
    "Unassigned",
    "Vehicle",
    "VrptwInstance",
    "default_max_iters",
    "default_no_improvement_iters",
    "haversine_m",
    "retime_route",
    "route_cost_eur",
    "route_cost_micro",
    "solve",
    "solve_many",
    "unserved_penalty_eur",
    "unserved_penalty_micro",
    "read_vrptw",
    "validate",
    "vehicle_rates",
    "zone_cells",
]
