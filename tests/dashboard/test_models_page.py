"""The Learned models page and the Plan page's at-risk stops: the pure builders (version summary and history,
speed profile, weather, slow zones, driver pace, at-risk rings and columns) and the pages in AppTest."""

import json

import pandas as pd
import pydeck as pdk
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts, learned

from .conftest import (
    APP_PATH,
    AV_VERSION,
    DAY_1,
    ST_VERSION,
    TT_VERSION,
    app_test,
    demo_tables,
    learned_tables,
    model_tables,
)

MODELS = "app_pages/models.py"
TIMEOUT_S = 30


@pytest.fixture
def models() -> dict[str, pd.DataFrame]:
    """The learned-model tables of the demo snapshot (see conftest.model_tables)."""
    return model_tables()


# --- model versions ------------------------------------------------------------------------------------------


def test_latest_versions_one_per_model_in_display_order(models):
    """The newest version of each model by training date, travel time first; an unknown model comes last."""
    versions = pd.concat(
        [models["model_versions"], models["model_versions"].iloc[[0]].assign(model="eta_bias", version="eb-1")]
    )
    newest = learned.latest_versions(versions)
    assert newest["model"].to_list() == ["travel_time", "service_time", "availability", "eta_bias"]
    assert newest["version"].to_list() == [TT_VERSION, ST_VERSION, AV_VERSION, "eb-1"]


def test_latest_version_on_a_training_date_tie_is_the_latest_created(models):
    """Two versions trained through the same day: the one created later is current."""
    versions = models["model_versions"]
    retrained = versions[versions["version"] == TT_VERSION].assign(
        version="tt-rerun", created_at_utc=versions["created_at_utc"].max() + pd.Timedelta(hours=1)
    )
    newest = learned.latest_versions(pd.concat([versions, retrained]))
    assert newest.loc[newest["model"] == "travel_time", "version"].item() == "tt-rerun"


def test_model_summary_table(models):
    """Version, training date, samples, errors, how much better than the baseline and what the error measures."""
    table = learned.model_summary_table(models["model_versions"])
    assert list(table.columns) == list(learned.MODEL_SUMMARY_COLUMNS)
    assert table.to_dict("records")[0] == {
        "Model": "Travel time",
        "Version": TT_VERSION,
        "Trained through": "2026-11-26",
        "Samples": 452,
        "Fit error": 58.4,
        "Baseline error": 96.1,
        "Better than baseline (%)": 39.2,
        "Error metric": "MAE of leg duration on the newest day, trained without it (s)",
    }
    assert table["Error metric"].to_list()[2].startswith("Brier score of first-attempt success")
    worse = learned.model_summary_table(models["model_versions"].assign(fit_error=120.0, baseline_error=100.0))
    assert worse["Better than baseline (%)"].to_list()[0] == -20.0


def test_version_history_newest_first(models):
    """Every version of a model, newest first, creation time local."""
    history = learned.version_history_table(models["model_versions"], "availability")
    assert history["Version"].to_list() == [AV_VERSION, "av-2026-11-24"]
    assert history["Created"].to_list() == ["2026-11-27 04:10", "2026-11-25 04:10"]
    assert history["Trained from"].to_list() == ["2026-10-28", "2026-10-26"]


def test_error_metric_label():
    """The metric as the fitting code words it; missing or blank as a dash."""
    assert learned.error_metric_label("MAE of time on site (s)") == "MAE of time on site (s)"
    assert learned.error_metric_label(None) == "–"
    assert learned.error_metric_label(" ") == "–"


# --- travel time ---------------------------------------------------------------------------------------------


def test_speed_profile_is_the_product_of_hour_and_weekday(models):
    """Every weekday x hour with both factors (no Sunday legs: no Sunday row), Monday first."""
    profile = learned.speed_profile_frame(models["travel_time_factors"])
    assert len(profile) == 6 * 12
    assert profile["weekday"].unique().tolist() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    friday_eight = profile[(profile["weekday"] == "Fri") & (profile["hour"] == 8)].iloc[0]
    assert friday_eight["factor"] == pytest.approx(0.92 * 0.82)
    assert friday_eight["hour_label"] == "08:00"


def test_speed_profile_without_a_term_is_empty(models):
    """Without weekday factors there is no profile to draw."""
    factors = models["travel_time_factors"]
    assert learned.speed_profile_frame(factors[factors["term"] != "weekday"]).empty


def test_weather_frame_in_condition_order(models):
    """Dry, rain, heavy rain, snow, then unknown conditions by name."""
    factors = pd.concat(
        [
            models["travel_time_factors"],
            pd.DataFrame([(TT_VERSION, "weather", "fog", 0.85, 3)], columns=models["travel_time_factors"].columns),
        ]
    ).iloc[::-1]
    weather = learned.weather_frame(factors)
    assert weather["label"].to_list() == ["Dry", "Rain", "Heavy rain", "Snow", "fog"]
    assert weather["factor"].to_list() == [1.0, 0.92, 0.81, 0.7, 0.85]


@pytest.mark.parametrize(
    ("cell", "centre"),
    [("4714:952", (47.145, 9.525)), ("0:0", (0.005, 0.005)), ("-1:3", (-0.005, 0.035))],
)
def test_parse_cell_gives_the_centre(cell, centre):
    """Cell i:j spans i * 0.01 .. (i + 1) * 0.01 latitude and j * 0.01 .. longitude; its centre is 0.005 in."""
    assert learned.parse_cell(cell) == pytest.approx(centre)


@pytest.mark.parametrize("cell", ["4714", "a:b", "1:2:3", ""])
def test_parse_cell_rejects_other_ids(cell):
    """A cell id that is not two integers is refused with a message naming it."""
    with pytest.raises(ValueError, match="is not 'i:j'"):
        learned.parse_cell(cell)


def test_slowest_zones_and_their_squares(models):
    """The lowest factors first, capped; each drawn as its 0.01 degree square, the slowest in deep red."""
    zones = learned.slowest_zones(models["travel_time_factors"], limit=3)
    assert zones["cell"].to_list() == ["4714:952", "4716:951", "4710:952"]
    assert zones[["lat", "lon"]].iloc[0].to_list() == pytest.approx([47.145, 9.525])
    table = learned.slow_zone_table(zones)
    assert table["Slower than planned (%)"].to_list() == [38.0, 25.0, 12.0]
    cells = learned.zone_cells(zones)
    corners = [coordinate for corner in cells[0]["polygon"] for coordinate in corner]
    assert corners == pytest.approx([9.52, 47.14, 9.53, 47.14, 9.53, 47.15, 9.52, 47.15])
    # Half the planning speed or less is deep red, planning speed or faster yellow; the slower, the redder.
    assert cells[0]["color"][1] < cells[1]["color"][1] < cells[2]["color"][1] < 200
    assert learned.zone_cells(zones.assign(factor=0.4))[0]["color"][:3] == [214, 39, 40]
    assert learned.zone_cells(zones.assign(factor=1.1))[0]["color"][:3] == [255, 200, 60]
    deck = learned.zone_deck(zones)
    assert isinstance(deck, pdk.Deck) and [layer.id for layer in deck.layers] == ["slow-zones"]


def test_slowest_zones_skip_unparseable_cells(models):
    """A zone key that is not a cell id is left out rather than breaking the map."""
    factors = pd.concat(
        [
            models["travel_time_factors"],
            pd.DataFrame([(TT_VERSION, "zone", "downtown", 0.1, 3)], columns=models["travel_time_factors"].columns),
        ]
    )
    assert "downtown" not in learned.slowest_zones(factors)["cell"].to_list()


def test_vehicle_pace_slowest_first(models):
    """Driver pace per vehicle, the slowest first."""
    pace = learned.vehicle_pace_table(models["travel_time_factors"])
    assert pace.to_dict("list") == {
        "Vehicle": ["V-TRI-01", "V-SCH-01", "V-SCH-02"],
        "Pace factor": [0.9, 0.95, 1.08],
        "Legs": [110, 120, 60],
    }


def test_speed_and_weather_charts(models):
    """The speed heatmap diverges around 1 with weekdays in order; the weather bars have a rule at 1."""
    speed = charts.speed_profile_chart(learned.speed_profile_frame(models["travel_time_factors"])).to_dict()
    assert speed["mark"]["type"] == "rect"
    assert speed["encoding"]["color"]["scale"] == {"scheme": "redblue", "domainMid": 1}
    assert speed["encoding"]["y"]["sort"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    weather = charts.weather_chart(learned.weather_frame(models["travel_time_factors"])).to_dict()
    assert [layer["mark"]["type"] for layer in weather["layer"]] == ["bar", "rule"]


# --- at-risk stops -------------------------------------------------------------------------------------------


@pytest.fixture
def retimed() -> dict[str, pd.DataFrame]:
    """The demo snapshot's tables as planned with the learned models (conftest.learned_tables)."""
    return learned_tables()


def _day_two(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["service_date"] != DAY_1].reset_index(drop=True)


def test_at_risk_count_and_preferred_windows(retimed):
    """Day 2 has two at-risk stops and one of two preferred windows kept; day 1 (no re-timing) cannot tell."""
    stops = retimed["planned_stops"]
    assert learned.at_risk_count(_day_two(stops)) == 2
    assert learned.preferred_window_counts(_day_two(stops)) == (1, 2)
    day_one = stops[stops["service_date"] == DAY_1]
    assert learned.at_risk_count(day_one) is None
    assert learned.at_risk_count(demo_tables(execution=False)["planned_stops"]) is None
    assert learned.preferred_window_counts(demo_tables(execution=False)["planned_stops"]) == (0, 0)


@pytest.mark.parametrize(("late_s", "minutes"), [(1, 1), (60, 1), (61, 2), (1500, 25), (0, None), (None, None)])
def test_minutes_late_round_up(late_s, minutes):
    """Any lateness reads at least one minute; on time or unknown reads nothing."""
    assert learned.minutes_late(late_s) == minutes


def test_at_risk_rings_sit_above_stops_below_depots(retimed):
    """The at-risk layer rings exactly the late stops and is drawn between the stops and the depots."""
    from dashboard import layers

    stops, routes = _day_two(retimed["planned_stops"]), _day_two(retimed["planned_routes"])
    deck = layers.build_deck(routes.assign(depot_name=None), stops, retimed["depots"], retimed["unassigned"].iloc[0:0])
    ids_before = [layer.id for layer in deck.layers]
    deck = learned.with_at_risk(deck, stops)
    ids = [layer.id for layer in deck.layers]
    assert ids == [*ids_before[:-1], "at-risk", "depots"]
    (ring_layer,) = [layer for layer in deck.layers if layer.id == "at-risk"]
    assert [point["order_id"] for point in ring_layer.data] == ["O-2003", "O-2008"]
    assert "25 min after the window 10:00–14:00 closes" in ring_layer.data[0]["tooltip"]
    on_time = learned.with_at_risk(
        layers.build_deck(routes, stops.assign(late_s=0), retimed["depots"], stops.iloc[0:0]), stops.assign(late_s=0)
    )
    assert "at-risk" not in [layer.id for layer in on_time.layers]


def test_manifest_and_at_risk_table(retimed):
    """The manifest gains minutes late after the planned arrival; the at-risk table lists the latest first."""
    from dashboard import layers

    stops = _day_two(retimed["planned_stops"])
    route = stops[stops["vehicle_id"] == "V-SCH-01"]
    manifest = learned.manifest_with_at_risk(layers.driver_manifest(route), route)
    assert manifest.columns.to_list()[4:6] == ["Planned arrival", "At risk"]
    assert manifest["At risk"].to_list() == [pd.NA, pd.NA, 25]
    table = learned.at_risk_table(stops)
    assert table.to_dict("list") == {
        "Order": ["O-2003", "O-2008"],
        "Vehicle": ["V-SCH-01", "V-TRI-01"],
        "Stop": [3, 3],
        "Window": ["10:00–14:00", "11:00–15:00"],
        "Planned arrival": ["14:25", "15:07"],
        "Minutes late": [25, 7],
    }
    assert learned.at_risk_table(stops.assign(late_s=0)).empty


def test_overtime_minutes(retimed):
    """Minutes past the shift per route, only when some route has overtime."""
    routes = retimed["planned_routes"]
    assert learned.overtime_minutes(_day_two(routes)) == [10, None, None]
    assert learned.overtime_minutes(routes[routes["service_date"] == DAY_1]) is None


def test_model_versions_caption():
    """The versions the plans used, each once; plans without models are counted, or said to be so."""
    columns = ["depot_id", "plan_id", "travel_model_version", "service_model_version", "availability_model_version"]
    both = pd.DataFrame([("D1", "p1", "tt-1", "st-1", "av-1"), ("D2", "p2", "tt-1", "st-1", None)], columns=columns)
    assert learned.model_versions_caption(both) == (
        "Learned models used: travel time `tt-1` · service time `st-1` · availability `av-1`"
    )
    mixed = pd.concat([both, pd.DataFrame([("D3", "p3", None, None, None)], columns=columns)])
    assert learned.model_versions_caption(mixed).endswith("· 1 depot plan(s) without learned models")
    none = pd.DataFrame([("D1", "p1", None, None, None)], columns=columns)
    assert learned.model_versions_caption(none).startswith("Planned without learned models")


# --- the page ------------------------------------------------------------------------------------------------


def _open() -> AppTest:
    app = app_test(APP_PATH, TIMEOUT_S).run()
    app.switch_page(MODELS).run()
    return app


def test_models_page_versions_profile_and_zones(learned_snapshot):
    """One tile per model with its version; the summary and each model's history; the speed heatmap, weather
    bars, the slow-zone map and table and the pace table."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "Learned models"
    tiles = {metric.label: (metric.value, metric.proto.delta) for metric in app.metric}
    assert tiles == {
        "Travel time": (TT_VERSION, "+39.2 % better than baseline"),
        "Service time": (ST_VERSION, "+37.9 % better than baseline"),
        "Customer availability": (AV_VERSION, "+18.8 % better than baseline"),
    }
    frames = [frame.value for frame in app.dataframe]
    summary = next(frame for frame in frames if "Error metric" in frame.columns)
    assert summary["Version"].to_list() == [TT_VERSION, ST_VERSION, AV_VERSION]
    histories = []
    for label in ("Travel time", "Service time", "Customer availability"):  # one lazy tab per model
        app.session_state["models_history_tab"] = label
        app.run()
        assert not app.exception
        (history,) = [frame.value for frame in app.dataframe if "Baseline" in frame.value.columns]
        histories.append(history)
    assert [len(history) for history in histories] == [2, 1, 2]
    assert not app.get("vega_lite_chart")  # the travel-time tab runs only when opened
    app.session_state["models_tab"] = "Speed, weather and zones"
    app.run()
    assert not app.exception
    frames = [frame.value for frame in app.dataframe]
    zones = next(frame for frame in frames if "Zone cell" in frame.columns)
    assert zones["Zone cell"].to_list()[0] == "4714:952"
    assert next(frame for frame in frames if "Pace factor" in frame.columns)["Vehicle"].to_list()[0] == "V-TRI-01"
    specs = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    assert specs[0]["mark"]["type"] == "rect"
    assert [layer["mark"]["type"] for layer in specs[1]["layer"]] == ["bar", "rule"]
    (deck,) = app.get("deck_gl_json_chart")
    (layer,) = json.loads(deck.proto.json)["layers"]
    assert layer["@@type"] == "PolygonLayer" and len(layer["data"]) == 5


def test_models_page_without_models_explains(serving_snapshot):
    """A snapshot without model tables: the page says no learned models yet and to run `make history`."""
    app = _open()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["No learned models yet"]
    assert [code.value for code in app.code] == ["make history"]
