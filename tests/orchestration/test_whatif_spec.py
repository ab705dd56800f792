"""What-if scenarios without the pipeline (docs/scenarios.md): the spec, its request file and sensor, and how it
changes a tiny planning problem."""

from __future__ import annotations

import dataclasses
import json

import dagster as dg
import duckdb
import pytest

from orchestration.requests import pending_whatif_requests, read_whatif_request, write_whatif_request
from orchestration.scenarios import DAY_S, ScenarioSpec, apply_scenario, shift_vehicle, widen_order
from orchestration.sensors import WHATIF_OP, whatif_request_sensor
from solver import Depot, Order, Problem, Vehicle

DATE = "2026-03-03"


def _vehicle(vehicle_id: str, vehicle_type: str = "van", **changes) -> Vehicle:
    values = dict(
        vehicle_id=vehicle_id, vehicle_type=vehicle_type, capacity_weight_g=800_000, capacity_volume_cm3=8_000_000,
        shift_start_s=8 * 3600, shift_end_s=17 * 3600, speed_kmh=30.0, cost_per_km_eur=0.3, cost_per_hour_eur=40.0,
        cost_per_day_eur=60.0,
    )  # fmt: skip
    return Vehicle(**{**values, **changes})


def _order(order_id: str, start_s: int, end_s: int, extra: tuple[tuple[int, int], ...] = ()) -> Order:
    return Order(order_id, 47.17, 9.51, 2000, 10_000, 120, start_s, end_s, extra_windows=extra)


@pytest.fixture
def problems() -> list[Problem]:
    """Two depots: A with two vans and a small truck, two orders (one with a second window); B with one cargo bike
    and one order."""
    a = Problem(
        depot=Depot("D-A", 47.17, 9.51, 6 * 3600, 21 * 3600),
        orders=(_order("O-1", 9 * 3600, 11 * 3600), _order("O-2", 600, 3600, extra=((13 * 3600, 14 * 3600),))),
        vehicles=(_vehicle("V-A-2"), _vehicle("V-A-1"), _vehicle("V-A-3", "small_truck")),
    )
    b = Problem(
        depot=Depot("D-B", 47.10, 9.52, 6 * 3600, 21 * 3600),
        orders=(_order("O-3", 10 * 3600, 12 * 3600),),
        vehicles=(_vehicle("V-B-1", "cargo_bike", capacity_weight_g=100_000),),
    )
    return [a, b]


def _types(problem: Problem) -> list[tuple[str, str]]:
    return sorted((v.vehicle_type, v.vehicle_id) for v in problem.vehicles)


# --- the spec ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"service_date": "03.03.2026"}, "service_date"),
        ({"service_date": "2026-02-30"}, "service_date"),
        ({"fleet": {"D-A": 2}}, "fleet key"),
        ({"fleet": {"D-A/van/x": 2}}, "fleet key"),
        ({"fleet": {"D-A/van": -1}}, "fleet['D-A/van']"),
        ({"fleet": {"D-A/van": 1.5}}, "fleet['D-A/van']"),
        ({"fleet": {"D-A/van": True}}, "fleet['D-A/van']"),
        ({"shift_start_s": -1}, "shift_start_s"),
        ({"shift_end_s": DAY_S + 1}, "shift_end_s"),
        ({"shift_start_s": 36_000, "shift_end_s": 36_000}, "shift_end_s"),
        ({"window_widen_min": -5}, "window_widen_min"),
        ({"window_widen_min": 2.5}, "window_widen_min"),
        ({"time_budget_s": 0}, "time_budget_s"),
        ({"time_budget_s": float("nan")}, "time_budget_s"),
        ({"seed": -1}, "seed"),
    ],
)
def test_an_invalid_spec_raises_a_value_error_naming_the_field(changes, field):
    """validate() rejects each bad value with a ValueError whose message starts with the field's name."""
    spec = dataclasses.replace(ScenarioSpec("test", DATE), **changes)
    with pytest.raises(ValueError) as raised:
        spec.validate()
    assert str(raised.value).startswith(field)


def test_a_spec_survives_json_and_unknown_or_missing_fields_are_named():
    """to_json/from_json give the same spec back; an unknown field or a missing name is named in the error."""
    spec = ScenarioSpec(
        "one van less", DATE, {"D-A/van": 1, "D-B/van": 2}, 7 * 3600, 17 * 3600, 30, time_budget_s=5, seed=3
    )
    assert ScenarioSpec.from_json(spec.to_json()) == spec
    body = json.loads(spec.to_json())
    with pytest.raises(ValueError, match="vans"):
        ScenarioSpec.from_json(json.dumps({**body, "vans": 3}))
    with pytest.raises(ValueError, match="name"):
        ScenarioSpec.from_json(json.dumps({k: v for k, v in body.items() if k != "name"}))
    with pytest.raises(ValueError, match="fleet"):
        ScenarioSpec.from_json(json.dumps({**body, "fleet": {"D-A/van": "three"}}))


# --- applying it ---------------------------------------------------------------------------------------------------


def test_fleet_counts_add_copies_remove_the_last_vehicles_and_copy_a_type_from_another_depot(problems):
    """D-A/van=4 adds two copies of the first van; D-A/small_truck=0 removes the truck; D-B/van=1 copies A's first
    van to B (starting and ending at B); D-A/cargo_bike=1 copies B's bike; a type missing everywhere comes from the
    templates; the input problems are unchanged."""
    before = [_types(p) for p in problems]
    spec = ScenarioSpec("fleet", DATE, {"D-A/van": 4, "D-A/small_truck": 0, "D-B/van": 1, "D-A/cargo_bike": 1})
    a, b = apply_scenario(problems, spec)
    assert _types(a) == [
        ("cargo_bike", "V-B-1-X1"), ("van", "V-A-1"), ("van", "V-A-1-X1"), ("van", "V-A-1-X2"), ("van", "V-A-2"),
    ]  # fmt: skip
    assert _types(b) == [("cargo_bike", "V-B-1"), ("van", "V-A-1-X3")]  # X1 and X2 went to D-A
    copied = next(v for v in b.vehicles if v.vehicle_type == "van")
    assert copied.start_depot_id is None and copied.end_depot_id is None
    assert copied.capacity_weight_g == problems[0].vehicles[0].capacity_weight_g
    assert len({v.vehicle_id for p in (a, b) for v in p.vehicles}) == len(a.vehicles) + len(b.vehicles)
    assert [_types(p) for p in problems] == before
    (fewer, _) = apply_scenario(problems, ScenarioSpec("fewer", DATE, {"D-A/van": 1}))
    assert _types(fewer) == [("small_truck", "V-A-3"), ("van", "V-A-1")]

    template = _vehicle("V-Z-9", "e_truck", start_depot_id="D-Z")
    (with_template, _) = apply_scenario(problems, ScenarioSpec("t", DATE, {"D-A/e_truck": 1}), {"e_truck": template})
    added = next(v for v in with_template.vehicles if v.vehicle_type == "e_truck")
    assert (added.vehicle_id, added.start_depot_id) == ("V-Z-9-X1", None)
    with pytest.raises(ValueError, match="^fleet: no vehicle of type 'e_truck'"):
        apply_scenario(problems, ScenarioSpec("t", DATE, {"D-A/e_truck": 1}))
    with pytest.raises(ValueError, match="^fleet: depot D-Q"):
        apply_scenario(problems, ScenarioSpec("t", DATE, {"D-Q/van": 1}))


def test_a_shift_override_moves_every_shift_and_its_break(problems):
    """shift_start_s/shift_end_s replace every vehicle's shift; a break keeps its offset from the start, and a shift
    too short for it loses it; a start after a vehicle's own end is an error naming the field."""
    spec = ScenarioSpec("early", DATE, shift_start_s=6 * 3600, shift_end_s=15 * 3600)
    changed = apply_scenario(problems, spec)
    assert {(v.shift_start_s, v.shift_end_s) for p in changed for v in p.vehicles} == {(6 * 3600, 15 * 3600)}
    with_break = _vehicle("V-1", break_s=1800, break_earliest_s=13 * 3600, break_latest_s=15 * 3600)
    moved = shift_vehicle(with_break, 6 * 3600, 15 * 3600)
    assert (moved.break_s, moved.break_earliest_s, moved.break_latest_s) == (1800, 11 * 3600, 13 * 3600)
    short = shift_vehicle(with_break, 8 * 3600, 13 * 3600)  # 5 h shift: no more than the break offset + 1 h
    assert (short.break_s, short.break_earliest_s, short.break_latest_s) == (0, None, None)
    with pytest.raises(ValueError, match="^shift_start_s"):
        apply_scenario(problems, ScenarioSpec("late", DATE, shift_start_s=18 * 3600))


def test_widening_windows_clips_to_the_day_and_merges_windows_that_meet(problems):
    """window_widen_min=30 opens every window 30 min earlier and closes it 30 min later, never before midnight or
    after the day; two windows that then overlap become one; 0 leaves the orders as they are."""
    a, b = apply_scenario(problems, ScenarioSpec("wide", DATE, window_widen_min=30))
    orders = {o.order_id: o for p in (a, b) for o in p.orders}
    assert orders["O-1"].windows == ((9 * 3600 - 1800, 11 * 3600 + 1800),)
    assert orders["O-2"].windows == ((0, 3600 + 1800), (13 * 3600 - 1800, 14 * 3600 + 1800))
    merged = widen_order(_order("O-9", 9 * 3600, 10 * 3600, extra=((11 * 3600, 12 * 3600),)), 1800)
    assert merged.windows == ((9 * 3600 - 1800, 12 * 3600 + 1800),)
    late = widen_order(_order("O-8", 23 * 3600, 23 * 3600 + 1800), 3600)
    assert late.windows == ((22 * 3600, DAY_S),)
    assert apply_scenario(problems, ScenarioSpec("same", DATE)) == problems


# --- the request file and the sensor ---------------------------------------------------------------------------------


def test_a_request_file_is_the_spec_and_the_sensor_runs_it_once(tmp_path, monkeypatch):
    """write_whatif_request writes requests/whatif_<date>_<utc>.json that reads back as the spec; the sensor turns
    it into one RunRequest of the whatif job for the date with the spec as the op's config, skips a bad file, and
    does not ask again on the next tick."""
    spec = ScenarioSpec("two more vans", DATE, {"D-A/van": 4}, window_widen_min=15, time_budget_s=3.0, seed=2)
    path = write_whatif_request(tmp_path, spec)
    assert path.parent == tmp_path / "requests" and path.name.startswith(f"whatif_{DATE}_")
    assert read_whatif_request(path) == spec
    bad = tmp_path / "requests" / f"whatif_{DATE}_0.json"
    bad.write_text(json.dumps({"name": "no date"}), encoding="utf-8")
    with pytest.raises(ValueError, match="service_date"):
        read_whatif_request(bad)
    with pytest.raises(ValueError, match="fleet"):
        write_whatif_request(tmp_path, dataclasses.replace(spec, fleet={"van": 1}))
    assert pending_whatif_requests(tmp_path) == sorted([path, bad])

    monkeypatch.setenv("LASTMILE_DATA_DIR", str(tmp_path))
    context = dg.build_sensor_context()
    result = whatif_request_sensor(context)
    (request,) = result.run_requests
    assert request.partition_key == DATE
    assert request.run_key == f"whatif/{path.name}"
    assert request.run_config == {"ops": {WHATIF_OP: {"config": spec.as_dict()}}}
    again = whatif_request_sensor(dg.build_sensor_context(cursor=result.cursor))
    assert not again.run_requests


# --- serving queries on a warehouse without what-ifs -------------------------------------------------------------


def test_scenario_queries_publish_nothing_before_plans_and_empty_tables_before_a_whatif(tmp_path):
    """A warehouse without plans gives no scenario tables; one with plans but no what-if gives the three plan tables
    empty with their contract columns (and no fleet without the staged fleet master)."""
    from orchestration.plan_store import ensure_plans_schema
    from orchestration.scenarios import (
        SCENARIO_ROUTES_COLUMNS,
        SCENARIO_STOPS_COLUMNS,
        SCENARIOS_COLUMNS,
        scenario_queries,
    )

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert scenario_queries(conn) == {}
        ensure_plans_schema(conn)
        queries = scenario_queries(conn)
        assert set(queries) == {"scenarios", "scenario_routes", "scenario_stops"}
        for name, columns in (
            ("scenarios", SCENARIOS_COLUMNS),
            ("scenario_routes", SCENARIO_ROUTES_COLUMNS),
            ("scenario_stops", SCENARIO_STOPS_COLUMNS),
        ):
            frame = conn.execute(queries[name]).fetchdf()
            assert frame.empty and list(frame.columns) == [c for c, _ in columns], name


def test_the_cli_reads_vehicles_and_shift_and_rejects_malformed_ones():
    """--vehicles D/T=N items become the spec's fleet and --shift HH:MM-HH:MM its shift seconds; anything else is a
    ValueError naming the option."""
    from orchestration.cli import parse_shift, parse_vehicles

    assert parse_vehicles(["D-A/van=3", "D-B/small_truck=0"]) == {"D-A/van": 3, "D-B/small_truck": 0}
    assert parse_shift("07:00-17:30") == (7 * 3600, 17 * 3600 + 1800)
    for bad in (["D-A/van"], ["D-A=3"], ["D-A/van=-1"], ["D-A/van=x"]):
        with pytest.raises(ValueError, match="^--vehicles"):
            parse_vehicles(bad)
    for bad in ("07:00", "7-17", "07:00-17:00-18:00"):
        with pytest.raises(ValueError, match="^--shift"):
            parse_shift(bad)
