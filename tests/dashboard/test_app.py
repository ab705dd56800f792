"""The Streamlit app in-process (AppTest): the Plan page on the demo snapshot, the Overview, Performance and
Plan vs actual pages, and the empty states. The Customers and Learned models pages, and the Plan page's at-risk
stops, are in test_customers.py and test_models_page.py."""

import ast
import gc
import json
import threading

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts

from .conftest import APP_PATH, DAY_1, DAY_2, app_test

TIMEOUT_S = 30


def _run_app() -> AppTest:
    return app_test(APP_PATH, TIMEOUT_S).run()


def _route_picker(app: AppTest):
    (picker,) = [box for box in app.selectbox if box.label == "Route"]
    return picker


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def _deck_spec(app: AppTest) -> dict:
    (chart,) = app.get("deck_gl_json_chart")
    return json.loads(chart.proto.json)


def _paths(spec: dict) -> list[dict]:
    return [path for layer in spec["layers"] if layer["@@type"] == "PathLayer" for path in layer["data"]]


def test_garbage_of_earlier_tests_is_collected_on_this_thread_before_the_app_runs(serving_snapshot):
    """A CI run failed with ``SystemError: AST constructor recursion depth mismatch``: garbage an earlier test left
    (a Dagster instance's connection) was collected on AppTest's script thread while Streamlit parsed a page, and
    its finaliser parsed too (Python 3.11's traceback does, for its carets). ``app_test`` collects such garbage here
    first: with automatic collection off, a finaliser that parses has run, on this thread, before the app runs."""
    finalised_on = []

    class LeftBehind:
        def __init__(self):
            self.cycle = self  # only the cycle collector frees it

        def __del__(self):
            finalised_on.append(threading.current_thread().name)
            ast.parse("a + b")

    gc.disable()
    try:
        LeftBehind()
        app = app_test(APP_PATH, TIMEOUT_S)
        assert finalised_on == [threading.current_thread().name]
        app.run()
    finally:
        gc.enable()
        gc.collect()  # here, should the assertion fail: not while pytest parses its report
    assert not app.exception
    assert app.selectbox(key="plan_service_date").value == DAY_2


def test_plan_page_defaults_to_latest_date_all_depots(serving_snapshot):
    """The Plan page opens on the latest date for all depots, with the snapshot's KPI numbers and one path
    per route on the map."""
    app = _run_app()
    assert not app.exception
    assert app.selectbox(key="plan_service_date").value == DAY_2
    assert _metrics(app) == {
        "Routes": "3",
        "Stops": "8",
        "Distance": "49.5 km",
        "Cost per delivery": "€ 45.60",
        "Unassigned": "1",
        "At risk": "–",
    }
    assert sorted(path["vehicle_id"] for path in _paths(_deck_spec(app))) == [
        "V-SCH-01",
        "V-SCH-02",
        "V-TRI-01",
    ]


@pytest.mark.parametrize(
    ("service_date", "depot_id", "vehicles", "tiles"),
    [
        (DAY_2, "D-TRIESEN", ["V-TRI-01"], {"Routes": "1", "Stops": "3", "Unassigned": "1"}),
        (DAY_2, "D-SCHAAN", ["V-SCH-01", "V-SCH-02"], {"Routes": "2", "Stops": "5", "Unassigned": "0"}),
        (DAY_1, "D-SCHAAN", ["V-SCH-01"], {"Routes": "1", "Stops": "2", "Unassigned": "0"}),
    ],
)
def test_plan_page_follows_date_and_depot(serving_snapshot, service_date, depot_id, vehicles, tiles):
    """Choosing a date and depot changes the tiles and leaves one path per route of that choice."""
    app = _run_app()
    app.selectbox(key="plan_service_date").set_value(service_date)
    app.selectbox(key="plan_depot").set_value(depot_id).run()
    assert not app.exception
    shown = _metrics(app)
    assert {label: shown[label] for label in tiles} == tiles
    kpis = serving_snapshot.kpis(service_date, depot_id).iloc[0]
    assert shown["Distance"] == f"{kpis['distance_km']:,.1f} km"
    assert shown["Cost per delivery"] == f"€ {kpis['cost_per_delivery_eur']:,.2f}"
    assert sorted(path["vehicle_id"] for path in _paths(_deck_spec(app))) == vehicles


def test_plan_page_manifest_and_unassigned(serving_snapshot):
    """The chosen route's manifest is listed and downloadable; unassigned orders show their reason."""
    app = _run_app()
    _route_picker(app).set_value("V-TRI-01 · van · 3 stops").run()
    assert not app.exception
    frames = [frame.value for frame in app.dataframe]
    manifest = next(frame for frame in frames if "Planned arrival" in frame.columns)
    assert manifest["Order"].to_list() == ["O-2006", "O-2007", "O-2008"]
    unassigned = next(frame for frame in frames if "Reason code" in frame.columns)
    assert unassigned["Reason code"].to_list() == ["TW_INFEASIBLE"]
    assert [button.proto.label for button in app.get("download_button")] == ["Download CSV", "Printable"]
    assert [el.value for el in app.subheader][-1] == "Unassigned orders (1)"


def test_overview_lists_every_date_and_depot(serving_snapshot):
    """The Overview page shows the publication time and one KPI row per service date and depot."""
    app = _run_app()
    app.switch_page("app_pages/overview.py").run()
    assert not app.exception
    assert "2026-11-27 06:30" in app.caption[0].value
    assert app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    assert not app.dataframe  # the table's tab runs only when opened
    _open_tab(app, "overview_tab", "Table")
    (table,) = [frame.value for frame in app.dataframe]
    assert table["Service date"].to_list() == ["2026-11-27", "2026-11-27", "2026-11-26", "2026-11-26"]
    assert table["Depot"].to_list() == ["Schaan", "Triesen", "Schaan", "Triesen"]


@pytest.mark.parametrize(
    "page",
    [
        None,
        "app_pages/overview.py",
        "app_pages/performance.py",
        "app_pages/plan_vs_actual.py",
        "app_pages/customers.py",
        "app_pages/models.py",
        "app_pages/data_health.py",
    ],
)
def test_empty_state_without_snapshot(empty_serving_dir, page):
    """With nothing published, every page explains the situation and says to run `make run`."""
    app = _run_app()
    if page:
        app.switch_page(page).run()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["No plan published yet"]
    assert "make run" in app.markdown[0].value
    assert [code.value for code in app.code] == ["make run"]


def test_unreadable_snapshot_shows_empty_state(serving_snapshot):
    """A snapshot whose files turn unreadable mid-session gives an explanation, not a traceback."""
    (serving_snapshot.snapshot_dir / "plan_kpis.parquet").write_bytes(b"not parquet")
    app = _run_app()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["The published snapshot could not be read"]


def test_route_choice_survives_fewer_routes(serving_snapshot):
    """Picking the third route and then a depot with one route shows that route, not an error."""
    app = _run_app()
    _route_picker(app).set_value("V-TRI-01 · van · 3 stops").run()
    app.selectbox(key="plan_service_date").set_value(DAY_1)
    app.selectbox(key="plan_depot").set_value("D-SCHAAN").run()
    assert not app.exception
    manifest = next(frame.value for frame in app.dataframe if "Planned arrival" in frame.value.columns)
    assert manifest["Order"].to_list() == ["O-1001", "O-1002"]


# --- Performance and Plan vs actual ---------------------------------------------------------------------------

PERFORMANCE = "app_pages/performance.py"
PLAN_VS_ACTUAL = "app_pages/plan_vs_actual.py"


def _open(page: str) -> AppTest:
    app = _run_app()
    app.switch_page(page).run()
    return app


def _open_tab(app: AppTest, key: str, label: str) -> None:
    """Switch the lazy tabs with widget key ``key`` to ``label`` and rerun (only the open tab's content runs)."""
    app.session_state[key] = label
    app.run()
    assert not app.exception


def _deltas(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.proto.delta for metric in app.metric}


def _vega_specs(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]


def _layer_vehicles(spec: dict, layer_id: str) -> list[str]:
    (layer,) = [layer for layer in spec["layers"] if layer["id"] == layer_id]
    assert layer["@@type"] == "PathLayer"
    return [path["vehicle_id"] for path in layer["data"]]


def test_navigation_keeps_plan_first(serving_snapshot):
    """The app opens on the Plan page; the new pages come after Plan and Overview."""
    app = _run_app()
    assert app.title[0].value == "Delivery plan"
    assert _open(PERFORMANCE).title[0].value == "Performance"
    assert _open(PLAN_VS_ACTUAL).title[0].value == "Plan vs actual"


def test_performance_defaults_to_every_day_with_data(serving_snapshot):
    """By default the range ends on the latest day with data (both demo days); the days before have no data,
    so the tiles show no change."""
    app = _open(PERFORMANCE)
    assert not app.exception
    assert app.date_input(key="performance_dates").value == (DAY_1, DAY_2)
    assert _metrics(app) == {
        "On-time rate": "63.6 %",
        "Cost per delivery": "€ 56.78",
        "First-attempt success": "72.7 %",
        "Average rating": "3.88 / 5",
        "Deliveries": "9",
    }
    assert set(_deltas(app).values()) == {""}
    (trend,) = _vega_specs(app)  # one trend chart; the other tabs run only when opened
    assert trend["encoding"]["y"]["field"] == charts.TREND_METRICS[0].column
    assert not app.dataframe
    for metric in charts.TREND_METRICS[1:]:
        app.segmented_control(key="performance_metric").set_value(metric.title).run()
        (trend,) = _vega_specs(app)
        assert trend["encoding"]["y"]["field"] == metric.column
        assert f"**{metric.title}**" in [el.value for el in app.markdown]
    _open_tab(app, "performance_tab", "By hour and reason")
    specs = _vega_specs(app)
    assert [layer["mark"]["type"] for layer in specs[0]["layer"]] == ["bar", "text"]
    assert specs[1]["mark"]["type"] == "bar"
    _open_tab(app, "performance_tab", "Drivers")
    (drivers,) = [frame.value for frame in app.dataframe]
    assert drivers["Driver"].to_list() == ["DR-ANNA", "DR-BEN", "DR-CARL"]
    assert drivers["Deliveries"].to_list() == [5, 3, 1]
    assert drivers["On time (%)"].to_list() == [60.0, 60.0, 100.0]


def test_performance_compares_with_the_previous_period(serving_snapshot):
    """Day 2 alone is compared with day 1: changes in percentage points, EUR, rating and deliveries."""
    app = _open(PERFORMANCE)
    app.date_input(key="performance_dates").set_value((DAY_2, DAY_2)).run()
    assert not app.exception
    assert _metrics(app) == {
        "On-time rate": "71.4 %",
        "Cost per delivery": "€ 60.67",
        "First-attempt success": "71.4 %",
        "Average rating": "3.80 / 5",
        "Deliveries": "6",
    }
    assert _deltas(app) == {
        "On-time rate": "+21.4 pp",
        "Cost per delivery": "+€ 11.67",
        "First-attempt success": "-3.6 pp",
        "Average rating": "-0.20",
        "Deliveries": "+3",
    }


def test_performance_follows_the_depot(serving_snapshot):
    """One depot: its numbers only, and one trend line without a legend."""
    app = _open(PERFORMANCE)
    app.selectbox(key="performance_depot").set_value("D-TRIESEN").run()
    assert not app.exception
    shown = _metrics(app)
    assert (shown["Deliveries"], shown["On-time rate"]) == ("3", "60.0 %")
    assert _vega_specs(app)[0]["encoding"]["color"].get("legend") is None
    _open_tab(app, "performance_tab", "Drivers")
    (drivers,) = [frame.value for frame in app.dataframe]
    assert drivers["Driver"].to_list() == ["DR-BEN"]


def test_plan_vs_actual_day_two(serving_snapshot):
    """The latest day for all depots: km, on-time, late and failed tiles; planned and driven paths for every
    vehicle; late stops latest first; one route row per vehicle."""
    app = _open(PLAN_VS_ACTUAL)
    assert not app.exception
    assert app.selectbox(key="actual_service_date").value == DAY_2
    assert _metrics(app) == {
        "Planned distance": "49.5 km",
        "Driven distance": "49.7 km",
        "On-time rate": "71.4 %",
        "Late stops": "2",
        "Failed": "1",
    }
    spec = _deck_spec(app)
    vehicles = ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    assert _layer_vehicles(spec, "planned") == _layer_vehicles(spec, "driven") == vehicles
    assert not app.dataframe  # the tables' tabs run only when opened
    _open_tab(app, "actual_tab", "Late stops")
    (late,) = [frame.value for frame in app.dataframe]
    assert late["Order"].to_list() == ["O-2001", "O-2007"]
    assert late["Actual arrival"].to_list() == ["10:25", "12:07"]
    assert [el.value for el in app.subheader] == ["Late stops (2)"]
    _open_tab(app, "actual_tab", "Routes: planned vs actual")
    (routes,) = [frame.value for frame in app.dataframe]
    assert routes["Vehicle"].to_list() == vehicles


def test_plan_vs_actual_vehicle_choice(serving_snapshot):
    """Choosing vehicles keeps only their planned and driven paths and their numbers."""
    app = _open(PLAN_VS_ACTUAL)
    (picker,) = app.multiselect
    picker.set_value(["V-SCH-02", "V-TRI-01"]).run()
    assert not app.exception
    spec = _deck_spec(app)
    assert _layer_vehicles(spec, "planned") == _layer_vehicles(spec, "driven") == ["V-SCH-02", "V-TRI-01"]
    shown = _metrics(app)
    assert (shown["Planned distance"], shown["Late stops"], shown["Failed"]) == ("31.5 km", "1", "1")


def test_plan_vs_actual_other_day_and_depot(serving_snapshot):
    """Day 1 in Schaan: one vehicle, 13.5 km planned, 15.2 km driven, 1 of 2 on time."""
    app = _open(PLAN_VS_ACTUAL)
    app.selectbox(key="actual_service_date").set_value(DAY_1)
    app.selectbox(key="actual_depot").set_value("D-SCHAAN").run()
    assert not app.exception
    assert _metrics(app) == {
        "Planned distance": "13.5 km",
        "Driven distance": "15.2 km",
        "On-time rate": "50.0 %",
        "Late stops": "1",
        "Failed": "0",
    }
    spec = _deck_spec(app)
    assert _layer_vehicles(spec, "planned") == _layer_vehicles(spec, "driven") == ["V-SCH-01"]


def test_no_vehicle_chosen_explains(serving_snapshot):
    """Clearing the vehicle choice asks for one instead of drawing an empty map."""
    app = _open(PLAN_VS_ACTUAL)
    app.multiselect[0].set_value([]).run()
    assert not app.exception
    assert not app.get("deck_gl_json_chart")
    assert "Pick at least one vehicle" in app.info[0].value


@pytest.mark.parametrize("page", [PERFORMANCE, PLAN_VS_ACTUAL])
def test_pages_without_execution_data_say_make_history(plan_only_snapshot, page):
    """A snapshot without execution tables gives an explanation and the command to run, no traceback."""
    app = _open(page)
    assert not app.exception
    assert [el.value for el in app.subheader] == ["No execution data yet"]
    assert [code.value for code in app.code] == ["make history DAYS=14"]


def test_plan_page_unaffected_without_execution_data(plan_only_snapshot):
    """The Plan page does not need the execution tables."""
    app = _run_app()
    assert not app.exception
    assert _metrics(app)["Routes"] == "3"


# --- Plan page: at-risk stops of a plan made with the learned models -------------------------------------------


def _layer_ids(app: AppTest) -> list[str]:
    return [layer["id"] for layer in _deck_spec(app)["layers"]]


def test_plan_page_shows_at_risk_stops(learned_snapshot):
    """Day 2 was planned with the learned models: the At risk tile counts the late stops, the map rings them, the
    manifest and the at-risk table give minutes late, the route table shows overtime, a caption names the models."""
    app = _run_app()
    assert not app.exception
    assert _metrics(app)["At risk"] == "2"
    spec = _deck_spec(app)
    assert _layer_ids(app)[-2:] == ["at-risk", "depots"]
    (rings,) = [layer for layer in spec["layers"] if layer["id"] == "at-risk"]
    assert [point["order_id"] for point in rings["data"]] == ["O-2003", "O-2008"]
    frames = [frame.value for frame in app.dataframe]
    manifest = next(frame for frame in frames if "Planned arrival" in frame.columns and "Stop" in frame.columns)
    assert manifest["At risk"].to_list() == [pd.NA, pd.NA, 25]
    at_risk = next(frame for frame in frames if "Minutes late" in frame.columns)
    assert at_risk["Order"].to_list() == ["O-2003", "O-2008"]
    routes = next(frame for frame in frames if "Colour" in frame.columns)
    assert routes["Overtime (min)"].to_list() == [10, pd.NA, pd.NA]
    assert "At-risk stops (2)" in [el.value for el in app.subheader]
    captions = [caption.value for caption in app.caption]
    assert (
        "Learned models used: travel time `tt-2026-11-26` · service time `st-2026-11-26` · availability "
        "`av-2026-11-26` · 1 of 2 stops with a preferred window planned inside it"
    ) in captions


def test_plan_page_at_risk_follows_the_depot(learned_snapshot):
    """Triesen's plan of day 2 has one at-risk stop."""
    app = _run_app()
    app.selectbox(key="plan_depot").set_value("D-TRIESEN").run()
    assert not app.exception
    assert _metrics(app)["At risk"] == "1"
    assert "At-risk stops (1)" in [el.value for el in app.subheader]


def test_plan_page_without_retiming(learned_snapshot):
    """Day 1 was planned without learned models: the At risk tile cannot tell, nothing is ringed, the manifest
    has no At risk column and the caption says so."""
    app = _run_app()
    app.selectbox(key="plan_service_date").set_value(DAY_1).run()
    assert not app.exception
    assert _metrics(app)["At risk"] == "–"
    assert "at-risk" not in _layer_ids(app)
    manifest = next(frame.value for frame in app.dataframe if "Planned arrival" in frame.value.columns)
    assert "At risk" not in manifest.columns
    assert any(caption.value.startswith("Planned without learned models") for caption in app.caption)
    assert not any(el.value.startswith("At-risk stops") for el in app.subheader)
