"""Checks on what the pipeline produced, as plain functions that the asset checks and the tests both call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dagster as dg
import duckdb

from orchestration.plan_store import read_plan
from orchestration.planning_inputs import PlanningInputs, prepare_problems
from solver import LiveState, Plan, ReplanConfig, validate, validate_replan


def validate_stored_plan(
    conn: duckdb.DuckDBPyConnection, plan_id: str, service_date: str, inputs: PlanningInputs | None = None
) -> list[str]:
    """Validate a plan as stored in ``plans.*`` against the solver input in the marts.

    Independent of the solve: it re-reads the plan from the warehouse and runs ``solver.validate`` per depot
    (every order exactly once in a route or unassigned, loads within capacity, service within windows or flagged
    late, routes within shifts or flagged overtime, timings consistent with the travel model). ``inputs`` are the
    problems and travel model the plan was made from; by default they are prepared again from the warehouse
    (:func:`~orchestration.planning_inputs.prepare_problems`).

    Returns
    -------
    list[str]
        Violations as sentences, each prefixed with the depot; empty when the plan is valid.
    """
    inputs = inputs or prepare_problems(conn, service_date)
    problems = {problem.depot.depot_id: problem for problem in inputs.problems}
    stored = read_plan(conn, plan_id)
    violations = [f"{depot_id}: no plan stored" for depot_id in problems if depot_id not in stored]
    violations += [f"{depot_id}: plan for a depot without a problem" for depot_id in stored if depot_id not in problems]
    for depot_id, problem in problems.items():
        if depot_id in stored:
            violations += [
                f"{depot_id}: {v}" for v in validate(problem, stored[depot_id], travel_model=inputs.travel_model)
            ]
    return violations


def validate_stored_replan(
    conn: duckdb.DuckDBPyConnection,
    plan_id: str,
    inputs: PlanningInputs,
    states: Sequence[LiveState],
    config: ReplanConfig | None = None,
    carried: Mapping[str, Plan] | None = None,
) -> list[str]:
    """Validate a re-plan as stored in ``plans.*`` against the live state it was made from.

    Re-reads the plan from the warehouse and runs ``solver.validate_replan`` per depot: finished stops unchanged
    and first, the committed stop next, parcels on board on their van, every order of the day exactly once among
    stops that did not fail, unassigned or cancelled, the new part of each route feasible (legs, windows, release
    times, capacity, shifts).

    Parameters
    ----------
    conn
        The warehouse.
    plan_id
        The stored re-plan.
    inputs
        The problems (one per depot) and travel model it was made from.
    states
        The live state of each depot, in the order of ``inputs.problems``.
    config
        The re-plan config it was made with (retry and recovery rules); default ``ReplanConfig()``.
    carried
        Per depot whose re-plan failed, the current plan it keeps: its stored part must be that plan unchanged
        (same routes, stops in the same order with the same times and statuses, same unassigned orders) instead of
        a re-plan of the live state.

    Returns
    -------
    list[str]
        Violations as sentences, each prefixed with the depot; empty when the plan is valid.
    """
    stored = read_plan(conn, plan_id)
    violations = [
        f"{depot_id}: plan for a depot without a problem"
        for depot_id in stored
        if depot_id not in {p.depot.depot_id for p in inputs.problems}
    ]
    for problem, state in zip(inputs.problems, states, strict=True):
        depot_id = problem.depot.depot_id
        if depot_id not in stored:
            violations.append(f"{depot_id}: no plan stored")
            continue
        if carried and depot_id in carried:
            violations += [f"{depot_id}: {v}" for v in _changed(carried[depot_id], stored[depot_id])]
            continue
        violations += [
            f"{depot_id}: {v}"
            for v in validate_replan(problem, stored[depot_id], state, config, travel_model=inputs.travel_model)
        ]
    return violations


def _route_rows(plan: Plan) -> dict[str, list[tuple]]:
    return {
        r.vehicle_id: [(s.order_id, s.sequence, s.trip, s.status, s.arrival_s, s.departure_s) for s in r.stops]
        for r in plan.routes
    }


def _changed(kept: Plan, stored: Plan) -> list[str]:
    """How a depot's stored part differs from the plan it was to keep unchanged (empty when it does not)."""
    violations = []
    kept_routes, stored_routes = _route_rows(kept), _route_rows(stored)
    for vehicle_id in sorted(kept_routes.keys() | stored_routes.keys()):
        if kept_routes.get(vehicle_id) != stored_routes.get(vehicle_id):
            violations.append(f"vehicle {vehicle_id}: the kept plan's route was stored changed")
    kept_out = sorted((u.order_id, u.reason_code) for u in kept.unassigned)
    if kept_out != sorted((u.order_id, u.reason_code) for u in stored.unassigned):
        violations.append("the kept plan's unassigned orders were stored changed")
    return violations


def plan_validity_check(asset_key: dg.AssetKey, violations: Sequence[str]) -> dg.AssetCheckResult:
    """The blocking ``plan_is_valid`` check result of a stored plan (daily, replan or what-if): passed when the
    validator found no violation; the count and the first 20 violations as metadata."""
    return dg.AssetCheckResult(
        check_name="plan_is_valid",
        asset_key=asset_key,
        passed=not violations,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"violations": len(violations), "first_violations": "\n".join(violations[:20])},
    )
