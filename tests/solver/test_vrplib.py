"""read_vrptw: a VRPLIB VRPTW benchmark in our model, with the DIMACS numbers PyVRP reads and the BKS cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vrplib as vrplib_format

from solver import Plan, PlannedRoute, PlannedStop, SolveConfig, SolveStats, solve, validate
from solver.costs import route_cost_eur
from solver.vrplib import read_vrptw

SOLOMON = Path(__file__).resolve().parents[3] / "shared" / "data" / "benchmarks" / "solomon" / "vrplib"
C101 = SOLOMON / "C101.vrp"
C101_BKS = 827.3

pytestmark = pytest.mark.skipif(not C101.exists(), reason=f"benchmark data not found at {SOLOMON}")


@pytest.fixture(scope="module")
def c101():
    """Solomon C101 (100 clustered clients, 25 vehicles of capacity 200), DIMACS units (x 10)."""
    return read_vrptw(C101)


def test_c101_maps_clients_to_mandatory_orders_and_vehicles(c101):
    """100 orders numbered as in the solution files, 25 identical vehicles costing 1 EUR per distance unit."""
    problem = c101.problem
    assert (c101.name, c101.scale, c101.n_clients, c101.num_vehicles) == ("C101", 10, 100, 25)
    assert [o.order_id for o in problem.orders] == [str(k) for k in range(1, 101)]
    assert len(problem.vehicles) == 25
    assert {v.capacity_weight_g for v in problem.vehicles} == {200}
    assert {(v.shift_start_s, v.shift_end_s) for v in problem.vehicles} == {(0, 12360)}
    assert {(v.cost_per_km_eur, v.cost_per_hour_eur, v.cost_per_day_eur) for v in problem.vehicles} == {(1.0, 0, 0)}
    assert (problem.depot.opens_s, problem.depot.closes_s) == (0, 12360)
    first = problem.orders[0]  # node 2 of the file: (45, 68), demand 10, window 912-967, service 90
    assert (first.lat, first.lon) == (0.068, 0.045)
    assert (first.weight_g, first.volume_cm3, first.service_s) == (10, 0, 900)
    assert (first.tw_start_s, first.tw_end_s) == (9120, 9670)
    assert {o.priority for o in problem.orders} == {"mandatory"}


def test_numbers_equal_pyvrp_read_with_dimacs_rounding(c101):
    """Distances, durations, windows and service times are exactly PyVRP's `round_func="dimacs"` integers."""
    import pyvrp

    data = pyvrp.read(C101, round_func="dimacs")
    np.testing.assert_array_equal(c101.travel_model.distance_m, data.distance_matrix(0))
    np.testing.assert_array_equal(c101.travel_model.duration_s, data.duration_matrix(0))
    assert [(c.tw_early, c.tw_late, c.service_duration) for c in data.clients()] == [
        (o.tw_start_s, o.tw_end_s, o.service_s) for o in c101.problem.orders
    ]
    vehicle_type = data.vehicle_types()[0]
    assert (vehicle_type.tw_early, vehicle_type.tw_late, vehicle_type.num_available) == (0, 12360, 25)


def _plan_from_routes(instance, routes: list[list[int]]) -> Plan:
    """Our plan for routes of client numbers: leave the depot at opening, wait for each window."""
    problem, matrix = instance.problem, instance.travel_model.distance_m
    orders = {o.order_id: o for o in problem.orders}
    planned = []
    for vehicle, route in zip(problem.vehicles, routes, strict=False):
        stops, clock, prev = [], problem.depot.opens_s, 0
        for c in route:
            order = orders[str(c)]
            leg = int(matrix[prev, c])
            start = max(clock + leg, order.tw_start_s)
            stops.append(
                PlannedStop(
                    order_id=order.order_id,
                    sequence=len(stops) + 1,
                    arrival_s=clock + leg,
                    service_start_s=start,
                    departure_s=start + order.service_s,
                    wait_s=start - clock - leg,
                    leg_distance_m=leg,
                    leg_duration_s=leg,
                )
            )
            clock, prev = start + order.service_s, c
        end = clock + int(matrix[prev, 0])
        distance = sum(s.leg_distance_m for s in stops) + int(matrix[prev, 0])
        planned.append(
            PlannedRoute(
                route_id=f"DEPOT-{vehicle.vehicle_id}",
                vehicle_id=vehicle.vehicle_id,
                vehicle_type=vehicle.vehicle_type,
                stops=tuple(stops),
                start_s=problem.depot.opens_s,
                end_s=end,
                distance_m=distance,
                duration_s=end - problem.depot.opens_s,
                weight_g=sum(orders[str(c)].weight_g for c in route),
                volume_cm3=0,
                cost_eur=route_cost_eur(vehicle, distance, end - problem.depot.opens_s),
            )
        )
    stats = SolveStats(
        runtime_s=0.0, iterations=0, objective=0.0, feasible=True, n_orders=100, n_vehicles=25, stopped_by="manual"
    )
    return Plan(depot_id="DEPOT", routes=tuple(planned), unassigned=(), stats=stats)


def test_the_best_known_solution_is_valid_and_costs_exactly_the_bks(c101):
    """C101.sol's ten routes, as our stops, pass our validator and add up to 827.3 under the DIMACS matrix."""
    routes = vrplib_format.read_solution(str(C101.with_suffix(".sol")))["routes"]
    plan = _plan_from_routes(c101, routes)
    assert validate(c101.problem, plan, c101.travel_model) == []
    assert sum(r.distance_m for r in plan.routes) == round(C101_BKS * c101.scale) == 8273


def test_our_solver_plans_c101_within_one_percent_of_the_bks(c101):
    """The planning code path serves all 100 clients validly, within 1 % of the best-known distance."""
    config = SolveConfig(
        time_budget_s=60, seed=1, no_improvement_iters=1_000_000, max_iters=1500, max_depot_distance_m=None
    )
    plan = solve(c101.problem, config, travel_model=c101.travel_model)
    assert validate(c101.problem, plan, c101.travel_model) == []
    assert plan.unassigned == ()
    assert sum(len(r.stops) for r in plan.routes) == 100
    distance = sum(r.distance_m for r in plan.routes) / c101.scale
    assert distance <= C101_BKS * 1.01


def test_a_gehring_homberger_instance_reads_the_same_way():
    """GH 200-client files (other coordinate range, 50 vehicles) map as Solomon's do."""
    import pyvrp

    path = SOLOMON.parents[1] / "homberger" / "vrplib" / "GH200" / "RC2_2_1.vrp"
    instance = read_vrptw(path)
    assert (instance.name, instance.n_clients, instance.num_vehicles) == ("RC2_2_1", 200, 50)
    data = pyvrp.read(path, round_func="dimacs")
    np.testing.assert_array_equal(instance.travel_model.distance_m, data.distance_matrix(0))
    assert [c.tw_late for c in data.clients()] == [o.tw_end_s for o in instance.problem.orders]


def test_unknown_rounding_is_rejected():
    """Only the roundings whose scale the reader knows are accepted."""
    with pytest.raises(ValueError, match="round_func"):
        read_vrptw(C101, round_func="ceil")
