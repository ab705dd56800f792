"""benchmarks/solver_quality.py: a tiny run of all three solvers, and the one checker that judges them."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import vrplib as vrplib_format

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "solver_quality.py"
_spec = importlib.util.spec_from_file_location("solver_quality", SCRIPT)
solver_quality = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = solver_quality  # dataclasses look their module up there
_spec.loader.exec_module(solver_quality)

DATA = solver_quality.DEFAULT_DATA_DIR
pytestmark = pytest.mark.skipif(not (DATA / "solomon").exists(), reason=f"benchmark data not found at {DATA}")
HEADLINE = re.compile(r"^(\w+): (\S+)$")


@pytest.fixture(scope="module")
def c101():
    """Solomon C101 as the checker sees it, with its best-known routes (827.3, ten routes)."""
    (case,) = solver_quality.load_cases(DATA, "solomon", ["C101"])
    instance = solver_quality.read_vrptw(case.vrp_path)
    routes = vrplib_format.read_solution(str(case.vrp_path.with_suffix(".sol")))["routes"]
    return solver_quality.instance_arrays(instance), routes


def test_two_instances_three_solvers_end_with_the_six_headline_lines(tmp_path, capsys):
    """The run prints six parseable `name: value` lines last, no gap below the BKS, and writes its docs section."""
    docs, out = tmp_path / "benchmarks.md", tmp_path / "rows.json"
    argv = ["--instances", "C101,R201", "--seconds", "1.5", "--docs", str(docs), "--out", str(out)]
    assert solver_quality.main(argv) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    values = dict(HEADLINE.match(line).groups() for line in lines[-6:])
    assert list(values) == [f"{s}_{k}" for k in ("gap_pct", "unsolved") for s in ("lastmile", "vroom", "ortools")]
    assert int(values["lastmile_unsolved"]) == 0
    for solver in ("lastmile", "vroom", "ortools"):
        assert 0 <= int(values[f"{solver}_unsolved"]) <= 2
        if int(values[f"{solver}_unsolved"]) < 2:
            assert float(values[f"{solver}_gap_pct"]) >= 0.0

    rows = json.loads(out.read_text())["instances"]
    assert sorted((r["instance"], r["solver"]) for r in rows) == sorted(
        (i, s) for i in ("C101", "R201") for s in ("lastmile", "vroom", "ortools")
    )
    # BKS are the best known: a solution below one (beyond nothing: costs are integers) would mean a bug.
    assert all(r["gap_pct"] >= 0.0 for r in rows if r["solved"])
    text = docs.read_text()
    assert "## Solver quality (solomon, 1.5 s)" in text
    assert "| **all** | lastmile | 2 |" in text


def test_the_checker_accepts_the_best_known_solution_at_its_cost(c101):
    """The BKS routes are feasible and cost exactly 827.3 x 10: the checker agrees with the BKS file."""
    arrays, routes = c101
    assert solver_quality.check_routes(arrays, routes) == ([], 8273)


def test_the_checker_rejects_a_dropped_client(c101):
    """A solution missing one client is not a solution."""
    arrays, routes = c101
    broken = [list(r) for r in routes]
    dropped = broken[3].pop(2)
    errors, _ = solver_quality.check_routes(arrays, broken)
    assert errors == [f"1 clients not visited, e.g. [{dropped}]"]


def test_the_checker_rejects_a_broken_window(c101):
    """Reversing a clustered route starts service after windows end (C101's windows are tight)."""
    arrays, routes = c101
    broken = [list(r) for r in routes]
    broken[0].reverse()
    errors, _ = solver_quality.check_routes(arrays, broken)
    assert errors and all("after its window ends" in e or "after it closes" in e for e in errors)


def test_the_checker_rejects_overload_duplicates_and_too_many_routes(c101):
    """Capacity, exactly-once and the fleet size are checked too."""
    arrays, routes = c101
    merged = [routes[0] + routes[1]] + [list(r) for r in routes[2:]]
    assert any("capacity 200" in e for e in solver_quality.check_routes(arrays, merged)[0])
    twice = [list(r) for r in routes] + [[routes[0][0]]]
    assert f"client {routes[0][0]} is visited 2 times" in solver_quality.check_routes(arrays, twice)[0]
    singles = [[c] for r in routes for c in r]
    assert "100 routes but only 25 vehicles" in solver_quality.check_routes(arrays, singles)[0]


def test_a_solver_that_raises_counts_as_unsolved(c101, monkeypatch):
    """One failing solver is recorded with its error instead of ending a long run."""
    (case,) = solver_quality.load_cases(DATA, "solomon", ["C101"])
    instance = solver_quality.read_vrptw(case.vrp_path)

    def broken(*_):
        raise RuntimeError("no licence")

    monkeypatch.setitem(solver_quality.SOLVE_FUNCS, "vroom", broken)
    outcome = solver_quality.run_solver("vroom", case, instance, c101[0], 1.0, 1)
    assert (outcome.solved, outcome.cost, outcome.gap_pct) == (False, None, None)
    assert outcome.errors == ("RuntimeError: no licence",)


def test_sets_and_classes():
    """Solomon has 56 instances in six classes, GH200 60; an unknown instance name stops the run."""
    solomon = solver_quality.load_cases(DATA, "solomon")
    assert len(solomon) == 56
    assert sorted({c.cls for c in solomon}) == ["C1", "C2", "R1", "R2", "RC1", "RC2"]
    if (DATA / "homberger").exists():
        gh200 = solver_quality.load_cases(DATA, "gh200")
        assert len(gh200) == 60 and all(c.vrp_path.exists() for c in gh200)
        assert solver_quality.instance_class("RC2_2_10") == "RC2"
    with pytest.raises(SystemExit, match="X999"):
        solver_quality.load_cases(DATA, "solomon", ["C101", "X999"])


def test_the_load_note_counts_runs_that_shared_the_cores(monkeypatch):
    """A run under load says so: the note gives the loads after each solver run and how many exceeded the cores
    by more than the margin (the load our own two seeds make is not other work)."""
    monkeypatch.setattr(solver_quality.os, "cpu_count", lambda: 2)

    def outcome(load: float):
        return solver_quality.Outcome("C101", "C1", "lastmile", 827.3, 8273, 0.0, 10, True, 1.0, (), load)

    note = solver_quality.load_note(0.5, [outcome(0.4), outcome(3.0), outcome(6.0), outcome(float("nan"))])
    assert note.startswith("Load average (1 min) when the run started: 0.50 on 2 cores.")
    assert "median 3.00, max 6.00; 2 of 3 runs ended above 2.5" in note
    quiet = solver_quality.load_note(0.1, [outcome(0.2), outcome(1.1)])
    assert "0 of 2 runs ended above 2.5" in quiet
    # Our own two seeds keep a quiet 2-core machine at about 2: not counted as shared.
    alone = solver_quality.load_note(0.0, [outcome(2.0), outcome(2.08), outcome(2.7)])
    assert "1 of 3 runs ended above 2.5" in alone
