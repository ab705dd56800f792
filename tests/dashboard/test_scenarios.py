"""The Scenarios page (issue 8, what-if): its queries and pure builders on a hand-made snapshot with the scenario
tables of the contract (``scenarios``, ``scenario_routes``, ``scenario_stops``, ``fleet``), and the page in-process
(AppTest). The browser tests are in test_scenarios_browser.py."""

from __future__ import annotations

import datetime as dt
import json
import math
import shlex
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import layers, queries
from dashboard import scenarios as sc
from dashboard.snapshot import current_snapshot

from .conftest import APP_PATH, DAY_1, DAY_2, PLAN_DAY_1, PLAN_DAY_2, DemoSnapshot, app_test

TIMEOUT_S = 30
SCENARIOS_PAGE = "app_pages/scenarios.py"

_UTC_TS = pa.timestamp("us", tz="UTC")
# The scenario tables as the pipeline publishes them (contract of issue 8).
SCENARIO_SCHEMAS: dict[str, pa.Schema] = {
    "scenarios": pa.schema(
        [
            ("plan_id", pa.string()),
            ("service_date", pa.date32()),
            ("kind", pa.string()),
            ("name", pa.string()),
            ("created_at_utc", _UTC_TS),
            ("params_json", pa.string()),
            ("n_vehicles_available", pa.int64()),
            ("vehicles_used", pa.int64()),
            ("n_routes", pa.int64()),
            ("n_orders", pa.int64()),
            ("n_assigned", pa.int64()),
            ("n_unassigned", pa.int64()),
            ("distance_km", pa.float64()),
            ("duration_h", pa.float64()),
            ("cost_eur", pa.float64()),
            ("cost_per_delivery_eur", pa.float64()),
            ("projected_on_time_rate", pa.float64()),
            ("sim_on_time_rate", pa.float64()),
            ("sim_delivered", pa.int64()),
            ("sim_failed", pa.int64()),
            ("sim_unserved", pa.int64()),
            ("sim_cost_eur", pa.float64()),
            ("sim_cost_per_delivery_eur", pa.float64()),
            ("sim_distance_km", pa.float64()),
        ]
    ),
    "scenario_routes": pa.schema(
        [
            ("plan_id", pa.string()),
            ("depot_id", pa.string()),
            ("route_id", pa.string()),
            ("vehicle_id", pa.string()),
            ("vehicle_type", pa.string()),
            ("n_stops", pa.int64()),
            ("distance_m", pa.int64()),
            ("duration_s", pa.int64()),
            ("cost_eur", pa.float64()),
            ("start_s", pa.int64()),
            ("end_s", pa.int64()),
        ]
    ),
    "scenario_stops": pa.schema(
        [
            ("plan_id", pa.string()),
            ("route_id", pa.string()),
            ("sequence", pa.int64()),
            ("order_id", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("arrival_s", pa.int64()),
            ("late_s", pa.int64()),
        ]
    ),
    "fleet": pa.schema(
        [
            ("depot_id", pa.string()),
            ("vehicle_type", pa.string()),
            ("n_vehicles", pa.int64()),
            ("capacity_weight_kg", pa.float64()),
            ("shift_start_s", pa.int64()),
            ("shift_end_s", pa.int64()),
            ("cost_per_km_eur", pa.float64()),
            ("cost_per_hour_eur", pa.float64()),
            ("fixed_cost_eur", pa.float64()),
        ]
    ),
}

WHATIF_DAY_1 = "plan-2026-11-26-whatif-v2"
WHATIF_DAY_2 = "plan-2026-11-27-whatif-v3"
# fmt: off
FLEET = [
    ("D-SCHAAN", "cargo_bike", 1, 60.0, 8 * 3600, 16 * 3600, 0.05, 25.0, 5.0),
    ("D-SCHAAN", "van", 2, 800.0, 7 * 3600 + 1800, 17 * 3600, 0.40, 30.0, 20.0),
    ("D-TRIESEN", "van", 1, 800.0, 7 * 3600 + 1800, 17 * 3600, 0.40, 30.0, 20.0),
]
# fmt: on
# Day 2's what-if: no cargo bike in Schaan (its two orders go to V-SCH-01), windows widened by 30 min.
DAY_2_PARAMS = {
    "name": "No cargo bike",
    "service_date": DAY_2.isoformat(),
    "fleet": {"D-SCHAAN/cargo_bike": 0},
    "shift_start_s": None,
    "shift_end_s": None,
    "window_widen_min": 30,
    "time_budget_s": 5.0,
    "seed": 3,
}
# Day 1's what-if (a past day, simulated): both vehicles start at 07:00.
DAY_1_PARAMS = {
    "name": "Early start",
    "service_date": DAY_1.isoformat(),
    "fleet": {},
    "shift_start_s": 7 * 3600,
    "shift_end_s": 15 * 3600,
    "window_widen_min": 0,
    "time_budget_s": 10.0,
    "seed": 1,
}
_LEG_S = 900


def _plan_rows(
    tables: dict[str, pd.DataFrame], plan_id: str, new_plan_id: str, moves: dict[str, str]
) -> tuple[list, list]:
    """Routes and stops of ``plan_id`` copied under ``new_plan_id``; ``moves`` sends every stop of a vehicle to
    another one (appended after its own stops); a vehicle left without stops has no route."""
    stops = tables["planned_stops"][tables["planned_stops"]["plan_id"] == plan_id]
    routes = tables["planned_routes"][tables["planned_routes"]["plan_id"] == plan_id].set_index("vehicle_id")
    by_vehicle: dict[str, list] = {}
    for stop in stops.itertuples(index=False):
        by_vehicle.setdefault(moves.get(stop.vehicle_id, stop.vehicle_id), []).append(stop)
    route_rows, stop_rows = [], []
    for vehicle, vehicle_stops in by_vehicle.items():
        route = routes.loc[vehicle]
        for sequence, stop in enumerate(vehicle_stops, start=1):
            arrival = int(route["start_s"]) + sequence * _LEG_S
            stop_rows.append(
                (new_plan_id, route["route_id"], sequence, stop.order_id, stop.lat, stop.lon, arrival,
                 max(0, arrival - int(stop.tw_end_s)) if not pd.isna(stop.tw_end_s) else 0)
            )  # fmt: skip
        distance_m = 4_500 * (len(vehicle_stops) + 1)
        duration_s = _LEG_S * (len(vehicle_stops) + 1) + 300 * len(vehicle_stops)
        route_rows.append(
            (new_plan_id, route["depot_id"], route["route_id"], vehicle, route["vehicle_type"], len(vehicle_stops),
             distance_m, duration_s, round(0.4 * distance_m / 1000 + 30 * duration_s / 3600 + 20, 2),
             int(route["start_s"]), int(route["start_s"]) + duration_s)
        )  # fmt: skip
    return route_rows, stop_rows


def _summary(
    plan_id, day, kind, name, created, params, routes: list, stops: list, n_orders: int, n_available: int, sim=None
):
    """One ``scenarios`` row computed from the plan's routes and stops (as the pipeline's query would)."""
    cost = sum(r[8] for r in routes)
    assigned = len(stops)
    on_time = sum(1 for s in stops if s[7] == 0) / assigned
    row = [
        plan_id, day, kind, name, created, None if params is None else json.dumps(params), n_available,
        len({r[3] for r in routes}), len(routes), n_orders, assigned, n_orders - assigned,
        sum(r[6] for r in routes) / 1000, sum(r[7] for r in routes) / 3600, cost, cost / assigned, on_time,
    ]  # fmt: skip
    return row + (list(sim) if sim else [None] * 7)


def scenario_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The scenario tables over the demo snapshot ``tables``: day 1 (past, played out) has its current plan with
    the actual outcome and the "Early start" what-if with a simulated one; day 2 (no outcome) its current plan and
    the "No cargo bike" what-if (V-SCH-02's stops on V-SCH-01)."""
    created = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
    route_rows, stop_rows, summaries = [], [], []
    n_orders = {DAY_1: 4, DAY_2: 9}
    # (plan, day, kind, name, created, params, copied from, moves, sim outcome)
    # sim: on-time rate, delivered, failed, unserved, cost EUR, cost per delivery EUR, km
    plans = [
        (PLAN_DAY_1, DAY_1, "daily", sc.CURRENT_PLAN_NAME, created - dt.timedelta(days=1), None, PLAN_DAY_1, {},
         (0.5, 3, 1, 0, 147.0, 49.0, 29.3)),
        (WHATIF_DAY_1, DAY_1, "whatif", "Early start", created, DAY_1_PARAMS, PLAN_DAY_1, {},
         (0.75, 4, 0, 0, 150.5, 37.625, 28.0)),
        (PLAN_DAY_2, DAY_2, "daily", sc.CURRENT_PLAN_NAME, created - dt.timedelta(hours=1), None, PLAN_DAY_2, {},
         None),
        (WHATIF_DAY_2, DAY_2, "whatif", "No cargo bike", created, DAY_2_PARAMS, PLAN_DAY_2,
         {"V-SCH-02": "V-SCH-01"}, None),
    ]  # fmt: skip
    for plan_id, day, kind, name, at, params, source, moves, sim in plans:
        routes, stops = _plan_rows(tables, source, plan_id, moves)
        route_rows += routes
        stop_rows += stops
        summaries.append(_summary(plan_id, day, kind, name, at, params, routes, stops, n_orders[day], 3, sim))
    frames = {
        "scenarios": summaries,
        "scenario_routes": route_rows,
        "scenario_stops": stop_rows,
        "fleet": FLEET,
    }
    return {name: pd.DataFrame(rows, columns=SCENARIO_SCHEMAS[name].names) for name, rows in frames.items()}


def write_scenario_tables(snapshot_dir: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write the scenario tables into a published snapshot's folder (as ``publish_snapshot`` would)."""
    for name, frame in tables.items():
        table = pa.Table.from_pandas(frame, schema=SCENARIO_SCHEMAS[name], preserve_index=False)
        pq.write_table(table, snapshot_dir / f"{name}.parquet")


@dataclass(frozen=True)
class ScenarioSnapshot:
    """The demo snapshot with the scenario tables, and the data folder requests go to."""

    demo: DemoSnapshot
    tables: dict[str, pd.DataFrame]
    data_dir: Path


@pytest.fixture
def scenario_snapshot(serving_snapshot: DemoSnapshot, tmp_path: Path, monkeypatch) -> ScenarioSnapshot:
    """The demo snapshot (two days, played out) plus :func:`scenario_tables`, LASTMILE_DATA_DIR a fresh folder."""
    tables = scenario_tables(serving_snapshot.tables)
    write_scenario_tables(serving_snapshot.snapshot_dir, tables)
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(tmp_path / "data"))
    return ScenarioSnapshot(demo=serving_snapshot, tables=tables, data_dir=tmp_path / "data")


@pytest.fixture
def key(scenario_snapshot) -> str:
    return current_snapshot().key


# --- queries ---------------------------------------------------------------------------------------------------


def test_scenario_queries_read_the_date(key, scenario_snapshot):
    """Both dates have a what-if; a date's plans come current first; routes and stops are those of the plans
    asked for; the fleet is the master's rows."""
    assert sc.scenario_dates(key) == [DAY_1, DAY_2]
    plans = sc.scenarios(key, DAY_2)
    assert list(plans.columns) == list(sc.SCENARIO_COLUMNS)
    assert plans["plan_id"].to_list() == [PLAN_DAY_2, WHATIF_DAY_2]
    routes = sc.scenario_routes(key, (WHATIF_DAY_2,))
    assert list(routes.columns) == list(sc.SCENARIO_ROUTE_COLUMNS)
    expected = scenario_snapshot.tables["scenario_routes"]
    assert sorted(routes["vehicle_id"]) == sorted(expected.loc[expected["plan_id"] == WHATIF_DAY_2, "vehicle_id"])
    stops = sc.scenario_stops(key, (PLAN_DAY_2, WHATIF_DAY_2))
    assert set(stops["plan_id"]) == {PLAN_DAY_2, WHATIF_DAY_2}
    assert len(stops) == 2 * 8
    assert sc.fleet(key)["vehicle_type"].to_list() == [row[1] for row in FLEET]


def test_scenario_queries_bind_plan_ids(key):
    """A plan id that tries to break out of the SQL matches nothing."""
    hostile = (f"{PLAN_DAY_2}' or '1'='1",)
    assert sc.scenario_routes(key, hostile).empty
    assert sc.scenario_stops(key, hostile).empty


def test_scenario_queries_without_the_tables(serving_snapshot):
    """A snapshot without the scenario files (an older publisher): no dates, empty frames with their columns."""
    older = current_snapshot().key
    assert sc.scenario_dates(older) == []
    for frame, columns in (
        (sc.scenarios(older, DAY_2), sc.SCENARIO_COLUMNS),
        (sc.scenario_routes(older, (PLAN_DAY_2,)), sc.SCENARIO_ROUTE_COLUMNS),
        (sc.scenario_stops(older, (PLAN_DAY_2,)), sc.SCENARIO_STOP_COLUMNS),
        (sc.fleet(older), sc.FLEET_COLUMNS),
    ):
        assert frame.empty and list(frame.columns) == list(columns)


# --- the form's builders ---------------------------------------------------------------------------------------


@pytest.fixture
def fleet_master() -> pd.DataFrame:
    """The fleet master of :data:`FLEET`: Schaan 1 cargo bike and 2 vans, Triesen 1 van."""
    return pd.DataFrame(FLEET, columns=sc.FLEET_COLUMNS)


def test_fleet_editor_rows_start_from_the_fleet(fleet_master):
    """One row per depot and type, Vehicles = In fleet = the master's count, shift and capacity shown."""
    rows = sc.fleet_editor_rows(fleet_master, {"D-SCHAAN": "Schaan"})
    assert list(rows.columns) == list(sc.FLEET_EDITOR_COLUMNS)
    assert rows["Vehicles"].to_list() == rows["In fleet"].to_list() == [row[2] for row in FLEET]
    assert rows["Depot name"].to_list() == ["Schaan", "Schaan", ""]
    assert rows["Shift"].to_list()[0] == "08:00–16:00"
    assert sc.fleet_overrides(rows) == {}


def test_fleet_editor_round_trip(fleet_master):
    """Edited rows -> the spec's fleet (only the changed types) -> rows again gives the same edits."""
    rows = sc.fleet_editor_rows(fleet_master)
    edited = rows.copy()
    edited.loc[0, "Vehicles"] = 0  # no cargo bike in Schaan
    edited.loc[2, "Vehicles"] = 3  # three vans in Triesen
    overrides = sc.fleet_overrides(edited)
    assert overrides == {"D-SCHAAN/cargo_bike": 0, "D-TRIESEN/van": 3}
    assert sc.fleet_editor_rows(fleet_master, overrides=overrides).equals(edited)


@pytest.mark.parametrize("bad", [-1, 1.5, None])
def test_fleet_overrides_reject_bad_counts(fleet_master, bad):
    """A negative, fractional or emptied count is an error that names the depot and type."""
    edited = sc.fleet_editor_rows(fleet_master).astype({"Vehicles": "object"})
    edited.loc[1, "Vehicles"] = bad
    with pytest.raises(ValueError, match="D-SCHAAN/van"):
        sc.fleet_overrides(edited)


def test_fleet_editor_rejects_an_unknown_type(fleet_master):
    """A spec naming a type the fleet master does not have cannot be shown as edits."""
    with pytest.raises(ValueError, match="D-VADUZ/van"):
        sc.fleet_editor_rows(fleet_master, overrides={"D-VADUZ/van": 2})


def test_scenario_params_and_cli_command():
    """The form's values become the ScenarioSpec fields (shift in seconds after midnight, name stripped); the CLI
    command carries each of them and survives a name with quotes."""
    params = sc.scenario_params(
        '  Anna\'s "big" day ',
        DAY_2,
        {"D-SCHAAN/van": 3},
        (dt.time(6, 45), dt.time(16, 15)),
        window_widen_min=30,
        time_budget_s=20,
        seed=4,
    )
    assert params == {
        "name": 'Anna\'s "big" day',
        "service_date": "2026-11-27",
        "fleet": {"D-SCHAAN/van": 3},
        "shift_start_s": 6 * 3600 + 45 * 60,
        "shift_end_s": 16 * 3600 + 15 * 60,
        "window_widen_min": 30,
        "time_budget_s": 20.0,
        "seed": 4,
    }
    words = shlex.split(sc.cli_command(params))
    assert words[:4] == ["python", "-m", "orchestration.cli", "whatif"]
    options = dict(zip(words[4::2], words[5::2], strict=True))
    assert options == {
        "--date": "2026-11-27",
        "--name": params["name"],
        "--vehicles": "D-SCHAAN/van=3",
        "--shift": "06:45-16:15",
        "--widen-min": "30",
        "--budget": "20",
        "--seed": "4",
    }
    plain = shlex.split(sc.cli_command(sc.scenario_params("x", DAY_2, {}, None, 0, 10, 1)))
    assert "--shift" not in plain and "--widen-min" not in plain and "--vehicles" not in plain


def test_scenario_date_options():
    """Tomorrow first, then the snapshot's dates up to today, newest first; later ones are left out."""
    today = dt.date(2026, 11, 26)
    snapshot_dates = [dt.date(2026, 11, 20), today, dt.date(2026, 11, 27), dt.date(2026, 11, 30)]
    assert sc.scenario_date_options(snapshot_dates, today) == [dt.date(2026, 11, 27), today, dt.date(2026, 11, 20)]
    assert sc.scenario_date_label(dt.date(2026, 11, 27), today) == "Fri 27 Nov 2026 (tomorrow)"
    assert sc.scenario_date_label(dt.date(2026, 11, 20), today) == "Fri 20 Nov 2026"


def test_default_shift_spans_the_fleet(fleet_master):
    """The form's shift starts at the fleet's earliest start and ends at its latest end."""
    assert sc.default_shift(fleet_master) == (dt.time(7, 30), dt.time(17, 0))
    assert sc.default_shift(fleet_master.iloc[0:0]) == (dt.time(7, 0), dt.time(17, 0))


def test_describe_params_in_words(fleet_master):
    """Every parameter is said: the changed fleet with the master's count, shifts, windows, budget and seed; the
    current plan is the plan in force."""
    lines = sc.describe_params(DAY_2_PARAMS, fleet_master)
    assert lines[0] == "Fleet: D-SCHAAN cargo_bike: 0 vehicles (fleet: 1); the rest as in the fleet master"
    assert lines[1] == "Shifts: every vehicle's own"
    assert lines[2] == "Delivery windows: widened by 30 min on both sides"
    assert lines[3] == "Solve budget: 5 s per depot · seed 3"
    assert sc.describe_params(DAY_1_PARAMS)[:3] == [
        "Fleet: as in the fleet master",
        "Shifts: 07:00–15:00 for every vehicle",
        "Delivery windows: as ordered",
    ]
    assert "plan in force" in sc.describe_params(None)[0]
    assert sc.parse_params(json.dumps(DAY_2_PARAMS)) == DAY_2_PARAMS
    assert sc.parse_params(None) is None and sc.parse_params("not json") is None


# --- the comparison --------------------------------------------------------------------------------------------


def test_comparison_table_deltas_against_the_current_plan(key):
    """Day 2 (no outcome): one column per plan, the what-if's delta = its value minus the current plan's, rates in
    % and percentage points; no outcome rows."""
    plans = sc.scenarios(key, DAY_2)
    table = sc.comparison_table(plans)
    labels = sc.plan_labels(plans)
    current, whatif = labels[PLAN_DAY_2], labels[WHATIF_DAY_2]
    assert list(table.columns) == ["Metric", current, whatif, sc.DELTA_PREFIX + whatif]
    assert table["Metric"].to_list() == [label for label, *_ in sc.PLAN_METRICS]
    rows = table.set_index("Metric")
    by_id = plans.set_index("plan_id")
    for label, column, scale, decimals, _ in sc.PLAN_METRICS:
        base = round(by_id.at[PLAN_DAY_2, column] * scale, decimals)
        value = round(by_id.at[WHATIF_DAY_2, column] * scale, decimals)
        assert rows.at[label, current] == base
        assert rows.at[label, whatif] == value
        assert rows.at[label, sc.DELTA_PREFIX + whatif] == pytest.approx(value - base)
    # The what-if moved the bike's stops onto a van: one vehicle fewer.
    assert rows.at["Vehicles used", sc.DELTA_PREFIX + whatif] == -1
    assert table.attrs["better"]["Cost per delivery (EUR)"] == -1


def test_comparison_table_adds_the_outcome_of_a_past_day(key, scenario_snapshot):
    """Day 1 (played out): the outcome rows follow the plan rows, with deltas; the current plan's outcome is the
    actual one."""
    plans = sc.scenarios(key, DAY_1)
    assert sc.has_outcome(plans)
    table = sc.comparison_table(plans).set_index("Metric")
    labels = sc.plan_labels(plans)
    outcome = [label for label, *_ in sc.OUTCOME_METRICS]
    assert list(table.index[-len(outcome) :]) == outcome
    delta = sc.DELTA_PREFIX + labels[WHATIF_DAY_1]
    assert table.at["Outcome: on-time (%)", labels[PLAN_DAY_1]] == 50.0
    assert table.at["Outcome: on-time (%)", delta] == 25.0
    assert table.at["Outcome: failed", delta] == -1
    assert table.at["Outcome: cost per delivery (EUR)", delta] == round(37.625 - 49.0, 2)


def test_comparison_table_other_baseline_and_errors(key):
    """The baseline can be the what-if (the deltas flip sign); a baseline not among the plans is an error; a
    missing value gives NaN, not a number."""
    plans = sc.scenarios(key, DAY_2)
    labels = sc.plan_labels(plans)
    flipped = sc.comparison_table(plans, baseline=WHATIF_DAY_2).set_index("Metric")
    assert flipped.at["Vehicles used", sc.DELTA_PREFIX + labels[PLAN_DAY_2]] == 1
    with pytest.raises(ValueError, match="not among the plans"):
        sc.comparison_table(plans, baseline="plan-x")
    gap = plans.assign(projected_on_time_rate=[None, 0.5])
    assert math.isnan(sc.comparison_table(gap).set_index("Metric").iloc[6, 0])


def test_delta_colours_follow_the_better_direction():
    """Lower cost is green, higher cost red; higher on-time green; no change or no direction plain."""
    assert sc.delta_colour(-1.2, -1) == "color: #2e7d32"
    assert sc.delta_colour(1.2, -1) == "color: #c62828"
    assert sc.delta_colour(5, 1) == "color: #2e7d32"
    assert sc.delta_colour(0, 1) == "" and sc.delta_colour(3, 0) == "" and sc.delta_colour(math.nan, 1) == ""


def test_plan_labels_are_unique(key):
    """Two what-ifs with one name get their creation time (and the plan id if that ties too)."""
    plans = sc.scenarios(key, DAY_2)
    twin = plans.iloc[[1]].assign(plan_id="plan-2026-11-27-whatif-v4")
    labels = sc.plan_labels(pd.concat([plans, twin], ignore_index=True))
    assert len(set(labels.values())) == 3
    assert labels[PLAN_DAY_2] == sc.CURRENT_PLAN_NAME


# --- the maps --------------------------------------------------------------------------------------------------


def test_scenario_maps_share_vehicle_colours_and_fit_the_data(key):
    """One path per route from its depot through its stops back; a vehicle has the same colour on both plans'
    maps; the view's centre lies within the data."""
    plan_ids = (PLAN_DAY_2, WHATIF_DAY_2)
    routes = sc.scenario_routes(key, plan_ids)
    stops = sc.scenario_stops(key, plan_ids)
    depots = queries.depots(key)
    colours = sc.vehicle_colours(routes)
    decks = {}
    for plan_id in plan_ids:
        plan_routes = routes[routes["plan_id"] == plan_id]
        plan_stops = stops[stops["plan_id"] == plan_id]
        deck = sc.scenario_deck(plan_routes, plan_stops, depots, colours)
        decks[plan_id] = {layer.id: layer for layer in deck.layers}
        paths = decks[plan_id]["scenario-routes"].data
        assert len(paths) == len(plan_routes)
        for path in paths:
            route_stops = plan_stops[plan_stops["route_id"] == path["route_id"]].sort_values("sequence")
            assert path["path"][1:-1] == [
                [lon, lat] for lon, lat in zip(route_stops["lon"], route_stops["lat"], strict=True)
            ]
            assert path["path"][0] == path["path"][-1]
        assert len(decks[plan_id]["scenario-stops"].data) == len(plan_stops)
        view = deck.initial_view_state
        assert plan_stops["lat"].min() <= view.latitude <= plan_stops["lat"].max()
    current = {p["vehicle_id"]: p["color"] for p in decks[PLAN_DAY_2]["scenario-routes"].data}
    whatif = {p["vehicle_id"]: p["color"] for p in decks[WHATIF_DAY_2]["scenario-routes"].data}
    assert current["V-SCH-01"] == whatif["V-SCH-01"]
    assert len(set(map(tuple, current.values()))) == len(current)
    late = [p for p in decks[WHATIF_DAY_2]["scenario-stops"].data if "min late" in p["tooltip"]]
    assert {p["order_id"] for p in late} == set(
        stops[(stops["plan_id"] == WHATIF_DAY_2) & (stops["late_s"] > 0)]["order_id"]
    )


# --- the page in-process ---------------------------------------------------------------------------------------


def _open_scenarios() -> AppTest:
    app = app_test(APP_PATH, TIMEOUT_S).run()
    app.switch_page(SCENARIOS_PAGE).run()
    return app


def _run_whatif(app: AppTest) -> None:
    (button,) = [button for button in app.button if button.label == "Run what-if"]
    button.click().run()


def _deck_specs(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.json) for chart in app.get("deck_gl_json_chart")]


def test_page_compares_the_newest_date_with_a_whatif(scenario_snapshot):
    """The page opens on day 2 (the newest date with a what-if): the current plan and the what-if side by side
    in one table, their parameters in words, and two maps, one per plan; no outcome rows for day 2."""
    app = _open_scenarios()
    assert not app.exception
    assert app.title[0].value == "Scenarios (what-if)"
    assert app.selectbox(key="scenario_compare_date").value == DAY_2
    assert app.multiselect(key=f"scenario_plans_{DAY_2}").value == [PLAN_DAY_2, WHATIF_DAY_2]
    (table,) = [frame.value for frame in app.dataframe if "Metric" in frame.value.columns]
    assert table.columns.to_list()[1:] == [sc.CURRENT_PLAN_NAME, "No cargo bike", "Δ No cargo bike"]
    assert not any(metric.startswith("Outcome") for metric in table["Metric"])
    captions = [caption.value for caption in app.caption]
    assert "Delivery windows: widened by 30 min on both sides" in captions
    specs = _deck_specs(app)
    assert len(specs) == 2
    vehicles = [
        sorted(p["vehicle_id"] for layer in spec["layers"] if layer["id"] == "scenario-routes" for p in layer["data"])
        for spec in specs
    ]
    assert vehicles == [["V-SCH-01", "V-SCH-02", "V-TRI-01"], ["V-SCH-01", "V-TRI-01"]]


def test_page_shows_the_outcome_of_a_past_day(scenario_snapshot):
    """Day 1 (played out): the table has the outcome rows."""
    app = _open_scenarios()
    app.selectbox(key="scenario_compare_date").set_value(DAY_1).run()
    assert not app.exception
    (table,) = [frame.value for frame in app.dataframe if "Metric" in frame.value.columns]
    assert "Outcome: on-time (%)" in table["Metric"].to_list()
    assert len(app.get("deck_gl_json_chart")) == 2


def test_page_asks_for_two_plans(scenario_snapshot):
    """With one plan picked there is nothing to compare: the page says so and draws no map."""
    app = _open_scenarios()
    app.multiselect(key=f"scenario_plans_{DAY_2}").set_value([WHATIF_DAY_2]).run()
    assert not app.exception
    assert any("at least two plans" in info.value for info in app.info)
    assert not app.get("deck_gl_json_chart")


def test_page_without_whatifs_says_how_to_run_one(plan_only_snapshot):
    """A snapshot without the scenario tables: the empty state names the form and the CLI command; the form is
    open."""
    app = _open_scenarios()
    assert not app.exception
    assert "No what-if yet for Fri 27 Nov 2026" in [el.value for el in app.subheader]
    assert any("orchestration.cli whatif --date 2026-11-27" in code.value for code in app.code)
    assert app.expander[0].proto.expanded
    assert not app.get("deck_gl_json_chart")


def test_form_dates_are_tomorrow_and_past_days(scenario_snapshot, monkeypatch):
    """The form offers tomorrow first (preselected), then the snapshot's days up to today."""
    monkeypatch.setattr(sc, "local_today", lambda: DAY_1)
    app = _open_scenarios()
    assert app.selectbox(key="scenario_date").options == [
        sc.scenario_date_label(DAY_2, DAY_1),
        sc.scenario_date_label(DAY_1, DAY_1),
    ]
    assert app.selectbox(key="scenario_date").value == DAY_2


@pytest.fixture
def pipeline_whatif():
    """The pipeline side of what-ifs (helper W's ScenarioSpec and write_whatif_request); skips until it exists."""
    scenarios = pytest.importorskip("orchestration.scenarios")
    requests = pytest.importorskip("orchestration.requests")
    if not hasattr(requests, "read_whatif_request"):
        pytest.skip("orchestration.requests has no read_whatif_request yet")
    return scenarios, requests


def test_run_whatif_writes_a_request(scenario_snapshot, pipeline_whatif, monkeypatch):
    """The form's values reach the request file as a ScenarioSpec: date, name, shift override, window widening,
    budget and seed; the page confirms with the file name and the equivalent CLI command."""
    _, requests = pipeline_whatif
    monkeypatch.setattr(sc, "local_today", lambda: DAY_1)
    app = _open_scenarios()
    app.selectbox(key="scenario_date").set_value(DAY_1)
    app.text_input(key="scenario_name").input("Early vans")
    app.checkbox(key="scenario_shift_override").check()
    app.time_input(key="scenario_shift_start").set_value(dt.time(6, 30))
    app.selectbox(key="scenario_widen").set_value(15)
    app.number_input(key="scenario_budget").set_value(5.0)
    app.number_input(key="scenario_seed").set_value(9)
    _run_whatif(app)
    assert not app.exception
    (request,) = (scenario_snapshot.data_dir / "requests").glob("whatif_*.json")
    spec = requests.read_whatif_request(request)
    assert (spec.service_date, spec.name, spec.shift_start_s, spec.shift_end_s) == (
        DAY_1.isoformat(),
        "Early vans",
        6 * 3600 + 30 * 60,
        17 * 3600,
    )
    assert (spec.window_widen_min, spec.time_budget_s, spec.seed, dict(spec.fleet)) == (15, 5.0, 9, {})
    (confirmation,) = [el.value for el in app.success]
    assert request.name in confirmation and "whatif_request_sensor" in confirmation
    assert any("orchestration.cli whatif --date 2026-11-26 --name 'Early vans'" in code.value for code in app.code)


def test_run_whatif_without_a_name_explains(scenario_snapshot, pipeline_whatif):
    """An invalid spec (no name) is shown next to the form and writes nothing."""
    app = _open_scenarios()
    _run_whatif(app)
    assert not app.exception
    assert any("Check the form" in el.value and "name" in el.value for el in app.error)
    assert not (scenario_snapshot.data_dir / "requests").exists()


def test_layers_palette_is_the_plan_pages():
    """The scenario maps use the Plan page's palette (first vehicle, first colour)."""
    routes = pd.DataFrame({"depot_id": ["D"], "vehicle_id": ["V"]})
    assert sc.vehicle_colours(routes) == {"V": layers.PALETTE[0]}


# --- the page in Chromium ----------------------------------------------------------------------------------------

LOAD_TIMEOUT_MS = 60_000
EXCEPTION_BOX = '[data-testid="stException"]'
MAP_CHART = '[data-testid="stDeckGlJsonChart"]'


def _wait_for_two_maps(page) -> None:
    """Wait until the page shows its two maps, then check there are exactly two. Each map holds two canvases (the
    basemap's and deck.gl's), so "the second canvas on the page" may be the first map's: wait on the second map."""
    charts = page.locator(MAP_CHART)
    charts.nth(1).locator("canvas").first.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    assert charts.count() == 2


def _wait_until_idle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LOAD_TIMEOUT_MS)


def _edit_fleet_cell(page, row: int, value: int) -> None:
    """Type ``value`` into the Vehicles column (the last one) of the fleet editor's ``row`` (0-based): the grid is
    a canvas of 35 px rows under a 36 px header, so double-click where the cell is drawn to open its editor."""
    # The canvas draws the grid; the scroller over it takes the pointer events.
    grid = page.locator(".st-key-scenario_fleet .dvn-scroller")
    grid.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    width = grid.evaluate("scroller => scroller.clientWidth")
    # Playwright waits for the grid to stand still (the expander slides open) before it clicks.
    grid.dblclick(position={"x": width - 30, "y": 36 + 35 * row + 17})
    cell_editor = page.locator(".gdg-input")
    cell_editor.fill(str(value))
    assert cell_editor.input_value() == str(value)
    cell_editor.press("Enter")
    cell_editor.wait_for(state="hidden", timeout=LOAD_TIMEOUT_MS)
    # The editor hands its edits to the widget state 150 ms after the last one (a debounce in Streamlit's grid)
    # and nothing in the page shows when; a click before that submits the form without the edit.
    page.wait_for_timeout(1_000)


@pytest.mark.browser
def test_scenarios_page_in_chromium(
    scenario_snapshot, pipeline_whatif, streamlit_server, chromium_page, screenshot_dir
):
    """In a real browser: open Scenarios, see the two plans of day 2 compared with two maps; open the form, name
    the scenario, take Schaan's cargo bike out of the fleet, widen the windows and click "Run what-if": a request
    with those values appears in the data folder and the page confirms it; no exception box; screenshots kept."""
    _, requests = pipeline_whatif
    url = streamlit_server(scenario_snapshot.demo.serving_dir)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("link", name="Scenarios").click()
    page.get_by_role("heading", name="Compare plans").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_for_two_maps(page)
    page.get_by_text("Delivery windows: widened by 30 min on both sides").wait_for(timeout=LOAD_TIMEOUT_MS)

    _wait_until_idle(page)  # a rerun still under way would redraw the editor and drop the edit
    page.get_by_text("New scenario", exact=True).click()
    _edit_fleet_cell(page, row=0, value=0)
    page.locator(".st-key-scenario_name input").fill("Browser: no bike")
    page.locator(".st-key-scenario_widen [role='combobox']").click()
    page.get_by_role("option", name="Widen by 15 min", exact=True).click()
    page.get_by_role("button", name="Run what-if").click()
    page.get_by_text("whatif_request_sensor").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_until_idle(page)
    (request,) = (scenario_snapshot.data_dir / "requests").glob("whatif_*.json")
    spec = requests.read_whatif_request(request)
    assert (spec.name, spec.window_widen_min, dict(spec.fleet)) == ("Browser: no bike", 15, {"D-SCHAAN/cargo_bike": 0})
    assert request.name in page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    assert page.locator(EXCEPTION_BOX).count() == 0
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 4000))})
    page.wait_for_timeout(1_500)  # deck.gl redraws after the resize
    page.screenshot(path=screenshot_dir / "scenarios_2026-11-27.png")

    # The past day: its comparison has the outcome rows (actual for the current plan, simulated for the what-if).
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.locator(".st-key-scenario_compare_date [role='combobox']").click()
    page.get_by_role("option", name=f"{DAY_1:%a %d %b %Y}", exact=True).click()
    page.get_by_text("Outcome rows: the day's actual outcome", exact=False).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_text("Shifts: 07:00–15:00 for every vehicle").wait_for(timeout=LOAD_TIMEOUT_MS)
    _wait_for_two_maps(page)
    _wait_until_idle(page)
    assert page.locator(EXCEPTION_BOX).count() == 0
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 4000))})
    page.wait_for_timeout(1_500)
    page.screenshot(path=screenshot_dir / "scenarios_2026-11-26.png")
