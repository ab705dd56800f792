"""Solution quality of our solver against VROOM and OR-Tools on the VRPTW benchmarks (Solomon, Gehring & Homberger).

Each instance is read into our own model (`solver.vrplib.read_vrptw`: the same `solver.solve` code path the
planning asset uses) with DIMACS distances (Euclidean truncated to one decimal, times 10 as integers; objective
= total distance, as in the best-known-solution files). Then, one after the other (never concurrently), our
solver, VROOM (pyvroom) and OR-Tools routing solve it with the same wall-clock budget. One independent checker
(capacity, time windows, every client exactly once, back at the depot by its closing time, at most the available
vehicles) recomputes each solution's distance on the integer matrix; a solution that fails it, or none at all,
counts as unsolved. Gap = 100 x (distance - BKS) / BKS, averaged over the instances a solver solved.

    .venv/bin/python benchmarks/solver_quality.py --set solomon --seconds 10
    .venv/bin/python benchmarks/solver_quality.py --set gh200 --seconds 30
    .venv/bin/python benchmarks/solver_quality.py --set solomon --instances C101,R101 --seconds 5 --no-write

The data folder defaults to `<repo>/../shared/data/benchmarks` (`--data-dir` to change it); nothing is copied
into the repository.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import re
import shlex
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import BENCHMARKS_MD, write_section  # noqa: E402

from solver import SolveConfig, solve  # noqa: E402
from solver.vrplib import VrptwInstance, read_vrptw  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "benchmarks"
SETS = {
    # name: (folder under the data dir, BKS file, value of its `set` column or None for all rows)
    "solomon": ("solomon", "bks_solomon_dimacs.csv", None),
    "gh200": ("homberger", "bks_gh_dimacs.csv", "GH200"),
    "gh400": ("homberger", "bks_gh_dimacs.csv", "GH400"),
}
SOLVERS = ("lastmile", "vroom", "ortools")
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
ROUND_FUNC = "dimacs"
UNLIMITED_ITERS = 1_000_000_000
"""Iteration caps high enough that only the wall budget ends our search, as it ends the peers'."""
THREADS = 2
"""The benchmark machine has 2 cores: VROOM's threads and our parallel seeds."""
VROOM_EXPLORATION = 5
"""VROOM's highest exploration level."""


@dataclass(frozen=True)
class Case:
    """One benchmark instance: its file and best-known cost (instance units, e.g. 827.3)."""

    name: str
    cls: str
    bks: float
    vrp_path: Path


@dataclass(frozen=True)
class Arrays:
    """An instance as integer arrays over ``[depot] + clients`` (client ``k`` at index ``k``), in scaled units.

    What the peers are given and what the checker checks against; built from our model, so all three solvers
    see the same numbers.
    """

    distance: np.ndarray
    duration: np.ndarray
    demand: np.ndarray
    service: np.ndarray
    tw_early: np.ndarray
    tw_late: np.ndarray
    capacity: int
    num_vehicles: int

    @property
    def n_clients(self) -> int:
        return len(self.demand) - 1


@dataclass(frozen=True)
class Outcome:
    """One solver's result on one instance."""

    instance: str
    cls: str
    solver: str
    bks: float
    cost: int | None
    gap_pct: float | None
    routes: int | None
    solved: bool
    wall_s: float
    errors: tuple[str, ...]
    load_1min: float = math.nan
    """The machine's 1-minute load average right after the run: above the core count, the solvers shared cores."""


def load_cases(data_dir: Path, set_name: str, instances: Sequence[str] | None = None) -> list[Case]:
    """The instances of a set (optionally only the named ones), in the order of its BKS file.

    Raises
    ------
    SystemExit
        If the set's BKS file is missing or a named instance is not in the set.
    """
    folder, bks_file, set_value = SETS[set_name]
    path = data_dir / folder / bks_file
    if not path.exists():
        raise SystemExit(f"no BKS file {path}; pass --data-dir")
    cases = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if set_value is not None and row["set"] != set_value:
                continue
            name = row["instance"]
            cases.append(
                Case(
                    name=name,
                    cls=instance_class(name),
                    bks=float(row["bks_cost"]),
                    vrp_path=data_dir / folder / Path(row["sol_file"]).with_suffix(".vrp"),
                )
            )
    if instances:
        by_name = {c.name: c for c in cases}
        unknown = [name for name in instances if name not in by_name]
        if unknown:
            raise SystemExit(f"not in set {set_name}: {', '.join(unknown)}")
        cases = [by_name[name] for name in instances]
    return cases


def instance_class(name: str) -> str:
    """The class of an instance: ``"C101"`` and ``"C1_2_1"`` are C1, ``"RC204"`` and ``"RC2_4_10"`` RC2."""
    match = re.match(r"([A-Z]+)(\d)", name)
    if not match:
        raise ValueError(f"cannot tell the class of instance {name}")
    return match.group(1) + match.group(2)


def instance_arrays(inst: VrptwInstance) -> Arrays:
    """Integer arrays of an instance read into our model (the checker's and the peers' view of it)."""
    problem = inst.problem
    depot, orders = problem.depot, problem.orders
    if [o.order_id for o in orders] != [str(k) for k in range(1, len(orders) + 1)]:
        raise ValueError(f"{inst.name}: orders must be the clients 1..n in order")
    lat = np.array([depot.lat] + [o.lat for o in orders])
    lon = np.array([depot.lon] + [o.lon for o in orders])
    vehicle = problem.vehicles[0]
    matrices = inst.travel_model.matrices(lat, lon, [vehicle.speed_kmh])
    return Arrays(
        distance=np.asarray(matrices.distance_m[0]),
        duration=np.asarray(matrices.duration_s[0]),
        demand=np.array([0] + [o.weight_g for o in orders], dtype=np.int64),
        service=np.array([0] + [o.service_s for o in orders], dtype=np.int64),
        tw_early=np.array([depot.opens_s] + [o.tw_start_s for o in orders], dtype=np.int64),
        tw_late=np.array([depot.closes_s] + [o.tw_end_s for o in orders], dtype=np.int64),
        capacity=vehicle.capacity_weight_g,
        num_vehicles=len(problem.vehicles),
    )


def check_routes(arrays: Arrays, routes: Sequence[Sequence[int]]) -> tuple[list[str], int]:
    """Check a VRPTW solution independently of every solver and recompute its distance.

    Each route leaves the depot at its opening time (waiting is allowed, so leaving later never helps),
    serves its clients in order, and must be back by the depot's closing time; service starts at
    ``max(arrival, window start)`` and must not be after the window's end; the clients' demand must fit the
    capacity; every client appears exactly once over all routes; at most ``num_vehicles`` non-empty routes.

    Parameters
    ----------
    arrays
        The instance.
    routes
        Client numbers (1..n) per route in visiting order, without the depot.

    Returns
    -------
    errors
        One sentence per violation; empty when the solution is feasible.
    distance
        Total distance of the routes in scaled units (including each return to the depot).
    """
    errors: list[str] = []
    n = arrays.n_clients
    routes = [list(r) for r in routes if len(r)]
    if len(routes) > arrays.num_vehicles:
        errors.append(f"{len(routes)} routes but only {arrays.num_vehicles} vehicles")
    seen = Counter(c for r in routes for c in r)
    for client, count in sorted(seen.items()):
        if not 1 <= client <= n:
            errors.append(f"client {client} does not exist (clients are 1..{n})")
        elif count > 1:
            errors.append(f"client {client} is visited {count} times")
    missing = [c for c in range(1, n + 1) if c not in seen]
    if missing:
        errors.append(f"{len(missing)} clients not visited, e.g. {missing[:5]}")
    total = 0
    for k, route in enumerate(routes, start=1):
        if any(not 1 <= c <= n for c in route):
            continue
        load = int(arrays.demand[route].sum())
        if load > arrays.capacity:
            errors.append(f"route {k} carries {load}, capacity {arrays.capacity}")
        clock, prev = int(arrays.tw_early[0]), 0
        for c in route:
            start = max(clock + int(arrays.duration[prev, c]), int(arrays.tw_early[c]))
            if start > arrays.tw_late[c]:
                errors.append(f"route {k} starts client {c} at {start}, after its window ends at {arrays.tw_late[c]}")
            total += int(arrays.distance[prev, c])
            clock, prev = start + int(arrays.service[c]), c
        back = clock + int(arrays.duration[prev, 0])
        total += int(arrays.distance[prev, 0])
        if back > arrays.tw_late[0]:
            errors.append(f"route {k} is back at the depot at {back}, after it closes at {arrays.tw_late[0]}")
    return errors, total


def lastmile_config(seconds: float, seed: int) -> SolveConfig:
    """Our solver's configuration for the benchmark: only the wall budget stops it, two seeds on two cores."""
    return SolveConfig(
        time_budget_s=seconds,
        seed=seed,
        parallel_seeds=THREADS,
        no_improvement_iters=UNLIMITED_ITERS,
        max_iters=UNLIMITED_ITERS,
        max_depot_distance_m=None,
    )


def solve_lastmile(inst: VrptwInstance, arrays: Arrays, seconds: float, seed: int) -> list[list[int]] | None:
    """Our solver (`solver.solve`, as the planning asset calls it); client numbers per route."""
    plan = solve(inst.problem, lastmile_config(seconds, seed), travel_model=inst.travel_model)
    return [[int(s.order_id) for s in route.stops] for route in plan.routes]


def solve_vroom(inst: VrptwInstance, arrays: Arrays, seconds: float, seed: int) -> list[list[int]] | None:
    """VROOM on the same integer matrix (durations = costs = distances), stopped by its own timeout.

    VROOM has no seed; the budget left after building its input goes to `Input.solve(timeout=...)`.
    """
    import vroom

    started = time.perf_counter()
    problem = vroom.Input()
    problem.set_durations_matrix("car", arrays.duration)
    problem.set_costs_matrix("car", arrays.distance)
    window = vroom.TimeWindow(int(arrays.tw_early[0]), int(arrays.tw_late[0]))
    problem.add_vehicle(
        [
            vroom.Vehicle(k, start=0, end=0, profile="car", capacity=[arrays.capacity], time_window=window)
            for k in range(arrays.num_vehicles)
        ]
    )
    problem.add_job(
        [
            vroom.Job(
                c,
                location=c,
                default_service=int(arrays.service[c]),
                delivery=[int(arrays.demand[c])],
                time_windows=[vroom.TimeWindow(int(arrays.tw_early[c]), int(arrays.tw_late[c]))],
            )
            for c in range(1, arrays.n_clients + 1)
        ]
    )
    remaining = max(seconds - (time.perf_counter() - started), 0.01)
    solution = problem.solve(
        exploration_level=VROOM_EXPLORATION, nb_threads=THREADS, timeout=dt.timedelta(seconds=remaining)
    )
    frame = solution.routes
    jobs = frame[frame["type"] == "job"]
    if jobs.empty:
        return None
    return [[int(c) for c in group["location_index"]] for _, group in jobs.groupby("vehicle_id", sort=True)]


def solve_ortools(inst: VrptwInstance, arrays: Arrays, seconds: float, seed: int) -> list[list[int]] | None:
    """OR-Tools routing: VRPTW with a time dimension (waiting as slack) and a capacity dimension, arc cost =
    distance; parallel cheapest insertion, then guided local search until the budget left after building the
    model. OR-Tools' routing search has no seed and uses one thread."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    started = time.perf_counter()
    n_nodes, n_vehicles = arrays.n_clients + 1, arrays.num_vehicles
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    distance = routing.RegisterTransitMatrix(arrays.distance.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(distance)
    # Travel from a node includes the service there.
    travel = routing.RegisterTransitMatrix((arrays.duration + arrays.service[:, None]).tolist())
    horizon = int(arrays.tw_late[0])
    routing.AddDimension(travel, horizon, horizon, False, "time")
    time_dimension = routing.GetDimensionOrDie("time")
    for c in range(1, n_nodes):
        time_dimension.CumulVar(manager.NodeToIndex(c)).SetRange(int(arrays.tw_early[c]), int(arrays.tw_late[c]))
    for v in range(n_vehicles):
        for index in (routing.Start(v), routing.End(v)):
            time_dimension.CumulVar(index).SetRange(int(arrays.tw_early[0]), horizon)
    demand = routing.RegisterUnaryTransitVector(arrays.demand.tolist())
    routing.AddDimensionWithVehicleCapacity(demand, 0, [arrays.capacity] * n_vehicles, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    remaining = max(seconds - (time.perf_counter() - started), 0.01)
    params.time_limit.FromMilliseconds(max(int(remaining * 1000), 1))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    routes = []
    for v in range(n_vehicles):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return routes


SOLVE_FUNCS: dict[str, Callable[[VrptwInstance, Arrays, float, int], list[list[int]] | None]] = {
    "lastmile": solve_lastmile,
    "vroom": solve_vroom,
    "ortools": solve_ortools,
}


def run_solver(solver: str, case: Case, inst: VrptwInstance, arrays: Arrays, seconds: float, seed: int) -> Outcome:
    """Run one solver on one instance, timing its whole call, and check what it returns.

    A solver that raises counts as unsolved, with the exception as its error, so one failure does not end a
    long run.
    """
    started = time.perf_counter()
    try:
        routes = SOLVE_FUNCS[solver](inst, arrays, seconds, seed)
        failure = None
    except Exception as exc:  # noqa: BLE001 - reported as unsolved with the message
        routes, failure = None, f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - started
    bks_units = round(case.bks * inst.scale)
    if routes is None:
        errors = [failure or "no solution"]
        cost = None
    else:
        errors, cost = check_routes(arrays, routes)
    solved = not errors
    return Outcome(
        instance=case.name,
        cls=case.cls,
        solver=solver,
        bks=case.bks,
        cost=cost,
        gap_pct=100.0 * (cost - bks_units) / bks_units if solved else None,
        routes=sum(1 for r in routes if r) if routes is not None else None,
        solved=solved,
        wall_s=wall,
        errors=tuple(errors[:5]),
        load_1min=load_average(),
    )


def load_average() -> float:
    """The 1-minute load average (NaN where the platform has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


BUSY_LOAD_MARGIN = 0.5
"""Load above the core count that says other work shared the cores: our two seeds alone keep the load at about
the core count (2.00-2.08 on a quiet machine)."""


def load_note(start_load: float, outcomes: Sequence[Outcome]) -> str:
    """How busy the machine was: the load average when the run started and after each solver run."""
    cores = os.cpu_count() or 1
    note = f"Load average (1 min) when the run started: {start_load:.2f} on {cores} cores."
    loads = np.array([o.load_1min for o in outcomes if not math.isnan(o.load_1min)])
    if loads.size:
        busy = int((loads > cores + BUSY_LOAD_MARGIN).sum())
        note += (
            f" After each solver run: median {np.median(loads):.2f}, max {loads.max():.2f}; {busy} of {loads.size} "
            f"runs ended above {cores + BUSY_LOAD_MARGIN:g} (other work shared the cores; our two seeds alone keep "
            f"it near {cores})."
        )
    return note


def summarise(outcomes: Sequence[Outcome], solvers: Sequence[str]) -> list[dict]:
    """Per class (in the usual order) and overall, per solver: instances, gaps, unsolved and wall times."""
    groups = [c for c in CLASSES if any(o.cls == c for o in outcomes)]
    groups += sorted({o.cls for o in outcomes} - set(CLASSES))
    rows = []
    for group in [*groups, "all"]:
        for solver in solvers:
            mine = [o for o in outcomes if o.solver == solver and group in ("all", o.cls)]
            if not mine:
                continue
            gaps = [o.gap_pct for o in mine if o.solved]
            walls = [o.wall_s for o in mine]
            rows.append(
                {
                    "class": group,
                    "solver": solver,
                    "instances": len(mine),
                    "solved": len(gaps),
                    "unsolved": len(mine) - len(gaps),
                    "avg_gap_pct": float(np.mean(gaps)) if gaps else math.nan,
                    "worst_gap_pct": float(np.max(gaps)) if gaps else math.nan,
                    "mean_wall_s": float(np.mean(walls)),
                    "max_wall_s": float(np.max(walls)),
                }
            )
    return rows


def _fmt(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def markdown(summary: Sequence[dict], outcomes: Sequence[Outcome], command: str, seconds: float, note: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        "| class | solver | instances | avg gap % | worst gap % | unsolved | mean wall s | max wall s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in summary:
        label = f"**{r['class']}**" if r["class"] == "all" else r["class"]
        lines.append(
            f"| {label} | {r['solver']} | {r['instances']} | {_fmt(r['avg_gap_pct'], 3)} "
            f"| {_fmt(r['worst_gap_pct'], 3)} | {r['unsolved']} | {r['mean_wall_s']:.1f} | {r['max_wall_s']:.1f} |"
        )
    unsolved = [o for o in outcomes if not o.solved]
    lines += [
        "",
        f"Each solver gets {seconds:g} s of wall time per instance, one solver at a time. Wall time covers "
        "building the solver's own model and its search (reading the VRPLIB file into our model, shared by all "
        "three, is not counted). Our solver: `solver.solve` with `parallel_seeds=2`, iteration caps off, so the "
        f"budget ends the search; VROOM: exploration level {VROOM_EXPLORATION}, {THREADS} threads, its timeout "
        "set to the budget left after building the input; OR-Tools: parallel cheapest insertion + guided local "
        "search, time limit = the budget left after building the model (one thread). Distances are DIMACS "
        "(Euclidean truncated to one decimal); every solution is checked by one independent checker (capacity, "
        "windows, each client once, depot return by its closing, at most the available vehicles). Gap = 100 x "
        "(distance - BKS) / BKS against the DIMACS best-known solutions (total distance, vehicles not minimised "
        "first); average and worst gap are over the instances each solver solved, an unsolved instance (no "
        "solution, or one the checker rejects) is counted apart.",
    ]
    if note:
        lines += ["", note]
    if unsolved:
        lines += ["", "Unsolved: " + "; ".join(f"{o.solver} {o.instance} ({o.errors[0]})" for o in unsolved)]
    return "\n".join(lines)


def headline(summary: Sequence[dict], solvers: Sequence[str]) -> list[str]:
    """The final ``name: value`` lines: overall average gap and unsolved count per solver."""
    overall = {r["solver"]: r for r in summary if r["class"] == "all"}
    gaps = [f"{s}_gap_pct: {overall[s]['avg_gap_pct']:.4f}" for s in solvers]
    unsolved = [f"{s}_unsolved: {overall[s]['unsolved']}" for s in solvers]
    return gaps + unsolved


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="set_name", choices=sorted(SETS), default="solomon", help="instance set")
    parser.add_argument("--instances", default="", help="comma-separated instance names (default: the whole set)")
    parser.add_argument("--seconds", type=float, default=10.0, help="wall budget per instance per solver")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated, of " + ", ".join(SOLVERS))
    parser.add_argument("--seed", type=int, default=1, help="seed of our solver (the peers have none)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder with solomon/, homberger/")
    parser.add_argument("--out", type=Path, default=None, help="write per-instance rows and the summary as JSON")
    parser.add_argument("--docs", type=Path, default=BENCHMARKS_MD, help="benchmarks page to update")
    parser.add_argument("--no-write", action="store_true", help="do not update the benchmarks page")
    args = parser.parse_args(argv)
    args.solver_list = [s for s in args.solvers.split(",") if s]
    unknown = set(args.solver_list) - set(SOLVERS)
    if unknown or not args.solver_list:
        parser.error(f"--solvers takes names of {', '.join(SOLVERS)}, got {args.solvers!r}")
    if not args.seconds > 0:
        parser.error("--seconds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cases = load_cases(args.data_dir, args.set_name, [s for s in args.instances.split(",") if s])
    load = load_average()
    outcomes: list[Outcome] = []
    progress = tqdm(cases, desc=f"{args.set_name} x {len(args.solver_list)} solvers", unit="instance")
    for case in progress:
        inst = read_vrptw(case.vrp_path, round_func=ROUND_FUNC)
        arrays = instance_arrays(inst)
        for solver in args.solver_list:
            progress.set_postfix_str(f"{case.name} {solver}")
            outcomes.append(run_solver(solver, case, inst, arrays, args.seconds, args.seed))
    summary = summarise(outcomes, args.solver_list)
    command = shlex.join(
        [".venv/bin/python", "benchmarks/solver_quality.py", *(argv if argv is not None else sys.argv[1:])]
    )
    note = load_note(load, outcomes)
    table = markdown(summary, outcomes, command, args.seconds, note)
    print(table)
    if args.out is not None:
        payload = {"command": command, "summary": summary, "instances": [asdict(o) for o in outcomes]}
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if not args.no_write:
        write_section(f"Solver quality ({args.set_name}, {args.seconds:g} s)", table, path=args.docs)
    for line in headline(summary, args.solver_list):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
