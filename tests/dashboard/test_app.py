"""The Streamlit app in-process (AppTest): the Plan page on the demo snapshot, the Overview, empty states."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import APP_PATH, DAY_1, DAY_2

TIMEOUT_S = 30


def _run_app() -> AppTest:
    return AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S).run()


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
    (download,) = app.get("download_button")
    assert download.proto.label == "Download CSV"
    assert [el.value for el in app.subheader][-1] == "Unassigned orders (1)"


def test_overview_lists_every_date_and_depot(serving_snapshot):
    """The Overview page shows the publication time and one KPI row per service date and depot."""
    app = _run_app()
    app.switch_page("app_pages/overview.py").run()
    assert not app.exception
    assert "2026-11-27 06:30" in app.caption[0].value
    (table,) = [frame.value for frame in app.dataframe]
    assert table["Service date"].to_list() == ["2026-11-27", "2026-11-27", "2026-11-26", "2026-11-26"]
    assert table["Depot"].to_list() == ["Schaan", "Triesen", "Schaan", "Triesen"]


@pytest.mark.parametrize("page", [None, "app_pages/overview.py"])
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
