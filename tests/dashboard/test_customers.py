"""The Customers page: its pure builders (heatmap frame, window formatting, best-window and service-time lookups
with their fallbacks), its queries on the model tables, and the page in AppTest with and without models."""

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts, learned, queries
from dashboard.snapshot import current_snapshot

from .conftest import APP_PATH, AV_VERSION, app_test, model_tables

CUSTOMERS = "app_pages/customers.py"
TIMEOUT_S = 30


@pytest.fixture
def models() -> dict[str, pd.DataFrame]:
    """The learned-model tables of the demo snapshot (see conftest.model_tables)."""
    return model_tables()


def _level(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    return frame[frame["level"] == level].reset_index(drop=True)


# --- pure builders -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start_s", "end_s", "text"),
    [
        (9 * 3600, 12 * 3600, "09:00–12:00"),
        (8 * 3600 + 1800, 10 * 3600, "08:30–10:00"),
        (21 * 3600, 24 * 3600, "21:00–24:00"),
        (None, 12 * 3600, ""),
    ],
)
def test_format_hour_window(start_s, end_s, text):
    """Windows read HH:MM–HH:MM local; one that ends at midnight ends at 24:00, not 00:00+1."""
    assert learned.format_hour_window(start_s, end_s) == text


def test_heatmap_frame_marks_the_zone_window_hours(models):
    """One cell per zone and hour; exactly the hours inside each zone's window are marked (a window's end hour
    is not)."""
    frame = learned.availability_heatmap_frame(
        _level(models["availability"], "zone"), _level(models["recommended_windows"], "zone")
    )
    assert len(frame) == 30
    assert list(frame.columns) == ["zone", "hour", "hour_label", "success_rate", "attempts", "successes", "in_window"]
    marked = {zone: group.loc[group["in_window"], "hour"].to_list() for zone, group in frame.groupby("zone")}
    assert marked == {"Balzers": [8, 9, 10], "Schaan": [9, 10, 11], "Vaduz": [14, 15, 16]}
    schaan_nine = frame[(frame["zone"] == "Schaan") & (frame["hour"] == 9)].iloc[0]
    assert (schaan_nine["hour_label"], schaan_nine["success_rate"], schaan_nine["successes"]) == ("09:00", 0.8, 10)


def test_heatmap_frame_without_a_window_marks_nothing(models):
    """A zone without a recommended window has its hours, none marked."""
    frame = learned.availability_heatmap_frame(
        _level(models["availability"], "zone"), _level(models["recommended_windows"], "zone").iloc[0:0]
    )
    assert len(frame) == 30 and not frame["in_window"].any()


def test_window_table_in_percent_and_points(models):
    """One row per zone by name: the window local, success in the window and over the day in percent, the lift
    in percentage points."""
    table = learned.window_table(_level(models["recommended_windows"], "zone"))
    assert list(table.columns) == list(learned.WINDOW_TABLE_COLUMNS)
    assert table.to_dict("records")[1] == {
        "Zone": "Schaan",
        "Window": "09:00–12:00",
        "Success in window (%)": 82.0,
        "Success all day (%)": 64.9,
        "Lift (pp)": 17.1,
        "Attempts": 120,
    }
    assert table["Zone"].to_list() == ["Balzers", "Schaan", "Vaduz"]


def test_best_window_prefers_the_customer_then_the_zone(models):
    """A customer with a window of their own gets it; one without gets their zone's; one whose zone has none (or
    whose zone is unknown) gets none."""
    windows = models["recommended_windows"]
    own, zones = _level(windows, "customer"), _level(windows, "zone")
    mine = learned.best_window("C-1001", "Schaan", own, zones)
    assert (mine.source, mine.label, mine.attempts) == ("customer", "08:00–10:00", 12)
    assert mine.lift == pytest.approx(0.12)
    zone = learned.best_window("C-2008", "Balzers", own, zones)
    assert (zone.source, zone.label, zone.success_rate) == ("zone", "08:00–11:00", 0.793)
    assert learned.best_window("C-2006", "Triesen", own, zones) is None
    assert learned.best_window("C-9999", None, own, zones) is None


def test_service_estimate_falls_back_customer_site_zone_site_type(models):
    """The customer's own estimate first, then their site type in their zone, then their site type; without a
    known site type there is nothing to fall back on."""
    times = models["service_times"]
    own = learned.service_estimate(times, "C-1001", "house", "Schaan")
    assert (own.level, own.median_s, own.p90_s, own.n_samples) == ("customer", 95.0, 160.0, 6)
    assert own.basis == "this customer"
    site_zone = learned.service_estimate(times, "C-2006", "apartment", "Vaduz")
    assert (site_zone.level, site_zone.median_s, site_zone.p90_s) == ("site_zone", 250.0, 500.0)
    site_type = learned.service_estimate(times, "C-2006", "apartment", "Triesen")
    assert (site_type.level, site_type.median_s, site_type.p90_s, site_type.per_parcel_s) == (
        "site_type",
        240.0,
        480.0,
        25.0,
    )
    assert learned.service_estimate(times, "C-2006", None, "Triesen") is None
    assert learned.service_estimate(times, "C-2006", "castle", "Triesen") is None


def test_customer_site_takes_the_first_source_that_names_it(models):
    """Site type comes from the customer's service-time row; the zone from the first of their model rows or
    past orders that has one."""
    times, availability = models["service_times"], models["availability"]
    empty_deliveries = pd.DataFrame(columns=list(queries.CUSTOMER_DELIVERY_COLUMNS))
    c1001 = [frame[frame["customer_id"] == "C-1001"] for frame in (times, availability, models["recommended_windows"])]
    assert learned.customer_site(*c1001, empty_deliveries) == ("house", "Schaan")
    c2006 = [frame[frame["customer_id"] == "C-2006"] for frame in (times, availability, models["recommended_windows"])]
    assert learned.customer_site(*c2006, empty_deliveries) == (None, "Triesen")
    nothing = [frame.iloc[0:0] for frame in (times, availability, models["recommended_windows"])]
    deliveries = pd.DataFrame({column: [None] for column in queries.CUSTOMER_DELIVERY_COLUMNS}).assign(town="Vaduz")
    assert learned.customer_site(*nothing, deliveries) == (None, "Vaduz")


def test_hourly_success_frame_aligns_customer_and_zone(models):
    """Every hour either level has, the customer's rate missing where they have no row."""
    availability = models["availability"]
    frame = learned.hourly_success_frame(
        availability[availability["customer_id"] == "C-2008"],
        availability[(availability["level"] == "zone") & (availability["zone"] == "Balzers")],
    )
    assert frame["hour"].to_list() == list(range(8, 18))
    assert pd.isna(frame["customer_rate"][0]) and frame["customer_rate"].to_list()[1:4] == [0.7, 0.75, 0.5]
    assert frame["customer_attempts"].to_list()[:4] == [0, 3, 3, 3]
    assert frame["zone_rate"].to_list()[:2] == [0.78, 0.81]


def test_customer_history_table_labels_outcomes():
    """Past orders read date, window, arrival, outcome with the failure reason, attempt and rating."""
    deliveries = pd.DataFrame(
        [
            ("2026-11-27", "O-2", "D", "V", "Vaduz", 32400, 43200, 36000, "failed", "not_home", 1, True, 0.0, None),
            ("2026-11-26", "O-1", "D", "V", "Vaduz", None, None, None, "not_attempted", None, None, None, None, None),
        ],
        columns=list(queries.CUSTOMER_DELIVERY_COLUMNS),
    )
    table = learned.customer_history_table(deliveries)
    assert table.to_dict("records")[0] == {
        "Date": "2026-11-27",
        "Order": "O-2",
        "Window": "09:00–12:00",
        "Arrived": "10:00",
        "Outcome": "Failed: Not at home",
        "Attempt": 1,
        "Minutes late": 0.0,
        "Rating": None,
    }
    assert table["Outcome"].to_list()[1] == "Not attempted"
    assert table["Window"].to_list()[1] == "any time"


def test_heatmap_chart_outlines_the_window(models):
    """The heatmap is a rect layer coloured by success 0-1, with an unfilled outline layer of the window hours."""
    frame = learned.availability_heatmap_frame(
        _level(models["availability"], "zone"), _level(models["recommended_windows"], "zone")
    )
    spec = charts.availability_heatmap_chart(frame).to_dict()
    heat, window = spec["layer"]
    assert heat["mark"]["type"] == "rect" and heat["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert window["mark"] == {"type": "rect", "filled": False, "stroke": "#111111", "strokeWidth": 2}
    assert window["transform"] == [{"filter": "datum.in_window"}]


# --- queries -------------------------------------------------------------------------------------------------


def test_model_queries_read_the_published_tables(learned_snapshot):
    """The model queries filter by level and customer; customers with history come from every model."""
    key = current_snapshot().key
    assert queries.availability(key, "zone")["zone"].unique().tolist() == ["Balzers", "Schaan", "Vaduz"]
    own = queries.availability(key, "customer", "C-2008")
    assert own["hour"].to_list() == [9, 10, 11] and set(own["version"]) == {AV_VERSION}
    assert queries.recommended_windows(key, "customer")["customer_id"].to_list() == ["C-1001"]
    assert queries.service_times(key, "site_type")["site_type"].to_list() == ["apartment", "business", "house"]
    assert queries.customers_with_history(key) == ["C-1001", "C-2006", "C-2008"]
    history = queries.customer_deliveries(key, "C-2008")
    assert (history["order_id"].to_list(), history["outcome"].to_list()) == (["O-2008"], ["failed"])


def test_model_queries_without_model_tables_are_empty(serving_snapshot):
    """A snapshot of an older warehouse has no model files: every model query gives the empty result."""
    key = current_snapshot().key
    assert queries.model_versions(key).columns.to_list() == list(queries.MODEL_VERSION_COLUMNS)
    assert queries.model_versions(key).empty
    assert queries.availability(key, "zone").empty and queries.recommended_windows(key, "zone").empty
    assert queries.service_times(key, "customer", "C-1001").empty
    assert queries.travel_time_factors(key).empty
    assert queries.customers_with_history(key) == []


# --- the page ------------------------------------------------------------------------------------------------


def _open() -> AppTest:
    app = app_test(APP_PATH, TIMEOUT_S).run()
    app.switch_page(CUSTOMERS).run()
    return app


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def _open_tab(app: AppTest, label: str) -> None:
    """Open one of the page's lazy tabs (only the open tab's content runs)."""
    app.session_state["customers_tab"] = label
    app.run()
    assert not app.exception


def test_customers_page_header_windows_and_service_times(learned_snapshot):
    """The availability model's version, training date and samples; the zone heatmap and window table; the
    service-time chart per site type and zone."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "Customers"
    shown = _metrics(app)
    assert {label: shown[label] for label in ("Availability model", "Trained through", "Samples")} == {
        "Availability model": AV_VERSION,
        "Trained through": "26 Nov 2026",
        "Samples": "170",
    }
    assert shown["Customers with history"] == "3"
    windows = next(frame.value for frame in app.dataframe if "Lift (pp)" in frame.value.columns)
    assert windows["Window"].to_list() == ["08:00–11:00", "09:00–12:00", "14:00–17:00"]
    specs = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    assert [layer["mark"]["type"] for layer in specs[0]["layer"]] == ["rect", "rect"]
    assert len(specs) == 1  # the other tabs run only when opened
    _open_tab(app, "Service times")
    (service,) = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    assert [layer["mark"]["type"] for layer in service["layer"]] == ["bar", "tick"]
    assert service["layer"][0]["encoding"]["y"]["sort"] == [
        "apartment · Vaduz",
        "business · Eschen",
        "house · Balzers",
        "house · Schaan",
    ]


@pytest.mark.parametrize(
    ("customer_id", "tiles", "past_orders"),
    [
        (
            "C-1001",
            {
                "Recommended window": "08:00–10:00",
                "Success in window": "89.0 %",
                "Service time (median)": "1.6 min",
                "Service time (p90)": "2.7 min",
            },
            ["O-1001"],
        ),
        (
            "C-2008",
            {
                "Recommended window": "08:00–11:00",
                "Success in window": "79.3 %",
                "Service time (median)": "3.5 min",
                "Service time (p90)": "6.0 min",
            },
            ["O-2008"],
        ),
        (
            "C-2006",
            {
                "Recommended window": "–",
                "Success in window": "–",
                "Service time (median)": "–",
                "Service time (p90)": "–",
            },
            ["O-2006"],
        ),
    ],
)
def test_customer_lookup(learned_snapshot, customer_id, tiles, past_orders):
    """A customer's own window (C-1001), their zone's (C-2008, Balzers) or none (C-2006, Triesen has none); their
    service time; their hourly success chart and past deliveries."""
    app = _open()
    _open_tab(app, "Customer lookup")
    app.selectbox(key="customers_customer").set_value(customer_id).run()
    assert not app.exception
    shown = _metrics(app)
    assert {label: shown[label] for label in tiles} == tiles
    history = next(frame.value for frame in app.dataframe if "Outcome" in frame.value.columns)
    assert history["Order"].to_list() == past_orders
    assert any(f"Customer `{customer_id}`" in caption.value for caption in app.caption)


def test_customers_page_without_models_explains(serving_snapshot):
    """A snapshot without model tables: the page says no learned models yet and to run `make history`."""
    app = _open()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["No learned models yet"]
    assert "they are trained from delivered days; run `make history`" in app.markdown[0].value
    assert [code.value for code in app.code] == ["make history"]
