"""A depot whose re-plan raises keeps its current plan; the other depots' re-plans go ahead (issue 7).

Before: one depot's exception in `replan_many` failed the whole `replan_plan` run, so no depot got a new plan.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from orchestration.assets.replanning import replan_many
from orchestration.checks import _changed
from solver import ReplanConfig, SolveConfig, Unassigned, solve, validate_replan
from tests.solver.factories import HOUR, random_problem
from tests.solver.test_replan import _state_at

SEARCH = SolveConfig(seed=3, no_improvement_iters=100, max_iters=200)
CONFIG = ReplanConfig(time_budget_s=5.0, seed=3, solve_config=SEARCH)


def _stops(plan) -> list[tuple]:
    return [(r.vehicle_id, s.order_id, s.sequence, s.status, s.arrival_s) for r in plan.routes for s in r.stops]


@pytest.fixture(scope="module")
def two_depots():
    """Two depots planned in the morning, at 11:00 with every vehicle on plan; the second depot's live state names
    a vehicle twice, which `solver.replan` refuses with a ValueError."""
    problems, currents, states = [], [], []
    for k, depot_id in enumerate(("D-A", "D-B")):
        problem = random_problem(25, 2, seed=11 + k, depot_id=depot_id)
        plan = solve(problem, SEARCH)
        problems.append(problem)
        currents.append(plan)
        states.append(_state_at(problem, plan, 11 * HOUR))
    states[1] = replace(states[1], vehicles=states[1].vehicles + states[1].vehicles[:1])
    return problems, currents, states


@pytest.mark.parametrize("processes", [1, 2])
def test_a_failing_depot_keeps_its_plan_and_the_other_depot_is_replanned(two_depots, processes):
    """In-process and in the spawn pool: the failing depot's result carries the error and its current plan
    unchanged (stopped_by ``replan_failed``); the other depot's re-plan is a valid re-plan of its live state."""
    problems, currents, states = two_depots
    results = replan_many(problems, currents, states, CONFIG, processes=processes)

    ok, failed = results
    assert ok.error is None and ok.trace is None
    assert ok.replan.plan.depot_id == "D-A"
    assert validate_replan(problems[0], ok.replan.plan, states[0], CONFIG) == []

    assert failed.error is not None and failed.error.startswith("ValueError: ")
    assert "Traceback" in failed.trace
    kept = failed.replan
    assert kept.plan.depot_id == "D-B"
    assert kept.plan.stats.stopped_by == "replan_failed"
    assert _stops(kept.plan) == _stops(currents[1])
    assert [u.order_id for u in kept.plan.unassigned] == [u.order_id for u in currents[1].unassigned]
    assert kept.moved == () and kept.cancelled == ()


def test_the_check_of_a_kept_plan_flags_a_route_or_unassigned_order_stored_changed(two_depots):
    """`validate_stored_replan` compares a depot that kept its plan with that plan: equal gives no violation; a
    route stored with its stops swapped, or an unassigned order added, each gives one."""
    _, currents, _ = two_depots
    plan = currents[1]
    assert _changed(plan, plan) == []
    route = max(plan.routes, key=lambda r: len(r.stops))
    swapped = replace(route, stops=(route.stops[1], route.stops[0], *route.stops[2:]))
    reordered = replace(plan, routes=tuple(swapped if r is route else r for r in plan.routes))
    assert _changed(plan, reordered) == [f"vehicle {route.vehicle_id}: the kept plan's route was stored changed"]
    extra = replace(plan, unassigned=(*plan.unassigned, Unassigned("O-EXTRA", "SEARCH_LIMIT", "added")))
    assert _changed(plan, extra) == ["the kept plan's unassigned orders were stored changed"]
    dropped = replace(plan, routes=tuple(r for r in plan.routes if r is not route))
    assert _changed(plan, dropped) == [f"vehicle {route.vehicle_id}: the kept plan's route was stored changed"]
