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
    STOP_STATUSES,
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
from solver.replan import LiveState, Replan, ReplanConfig, VehicleState, remaining_problem, replan
from solver.solve import default_max_iters, default_no_improvement_iters, solve, solve_many
from solver.timing import DEFAULT_CELL_DEG, TimeDependentTravelModel, retime_route, zone_cells
from solver.travel import GreatCircleTravelModel, TravelMatrices, TravelModel, haversine_m
from solver.validate import validate, validate_replan
from solver.vrplib import VrptwInstance, read_vrptw

__all__ = [
    "DEFAULT_CELL_DEG",
    "REASON_CODES",
    "STOP_STATUSES",
    "CostRates",
    "Depot",
    "GreatCircleTravelModel",
    "MatrixTravelModel",
    "Order",
    "Plan",
    "PlannedRoute",
    "PlannedStop",
    "PlannedReload",
    "LiveState",
    "Problem",
    "Replan",
    "ReplanConfig",
    "SolveConfig",
    "SolveStats",
    "TimeDependentTravelModel",
    "TravelMatrices",
    "TravelModel",
    "Unassigned",
    "Vehicle",
    "VehicleState",
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
    "remaining_problem",
    "replan",
    "validate",
    "validate_replan",
    "vehicle_rates",
    "zone_cells",
]
