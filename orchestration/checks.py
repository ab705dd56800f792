"""Checks on what the pipeline produced, as plain functions that the asset checks and the tests both call."""

from __future__ import annotations

import duckdb

from orchestration.plan_store import read_plan, read_problems
from solver import validate


def validate_stored_plan(conn: duckdb.DuckDBPyConnection, plan_id: str, service_date: str) -> list[str]:
    """Validate a plan as stored in ``plans.*`` against the solver input in the marts.

    Independent of the solve: it re-reads both sides from the warehouse and runs ``solver.validate`` per
    depot (every order exactly once in a route or unassigned, loads within capacity, service within windows,
    routes within shifts, consistent timings).

    Returns
    -------
    list[str]
        Violations as sentences, each prefixed with the depot; empty when the plan is valid.
    """
    problems = {problem.depot.depot_id: problem for problem in read_problems(conn, service_date)}
    stored = read_plan(conn, plan_id)
    violations = [f"{depot_id}: no plan stored" for depot_id in problems if depot_id not in stored]
    violations += [f"{depot_id}: plan for a depot without a problem" for depot_id in stored if depot_id not in problems]
    for depot_id, problem in problems.items():
        if depot_id in stored:
            violations += [f"{depot_id}: {v}" for v in validate(problem, stored[depot_id])]
    return violations
