"""Pure builders in dashboard.charts: KPI tile texts and the Vega-Lite specs of the Performance charts."""

import pandas as pd
import pytest

from dashboard import charts

from .conftest import DAY_1, DAY_2

# Day 2 and day 1 of the demo snapshot, as queries.performance_summary returns them.
DAY_2_SUMMARY = {
    "orders": 9,
    "attempted": 7,
    "deliveries": 6,
    "failed": 1,
    "not_attempted": 1,
    "on_time": 5,
    "on_time_rate": 5 / 7,
    "first_attempt_success_rate": 5 / 7,
    "cost_eur": 364.0,
    "cost_per_delivery_eur": 364 / 6,
    "avg_rating": 3.8,
    "ratings": 5,
}
DAY_1_SUMMARY = DAY_2_SUMMARY | {
    "orders": 4,
    "attempted": 4,
    "deliveries": 3,
    "not_attempted": 0,
    "on_time": 2,
    "on_time_rate": 2 / 4,
    "first_attempt_success_rate": 3 / 4,
    "cost_eur": 147.0,
    "cost_per_delivery_eur": 49.0,
    "avg_rating": 4.0,
    "ratings": 3,
}
NO_DATA = dict.fromkeys(DAY_2_SUMMARY) | {"orders": 0, "deliveries": 0, "ratings": 0}


def _texts(tiles) -> dict[str, tuple[str, str | None]]:
    return {tile.label: (tile.value, tile.delta) for tile in tiles}


def test_tiles_show_values_with_units_and_changes():
    """Rates in percent with changes in percentage points; cost in EUR (a rise signed +); rating out of 5."""
    assert _texts(charts.performance_tiles(DAY_2_SUMMARY, DAY_1_SUMMARY)) == {
        "On-time rate": ("71.4 %", "+21.4 pp"),
        "Cost per delivery": ("€ 60.67", "+€ 11.67"),
        "First-attempt success": ("71.4 %", "-3.6 pp"),
        "Average rating": ("3.80 / 5", "-0.20"),
        "Deliveries": ("6", "+3"),
    }


def test_cost_drop_is_good_news():
    """A falling cost per delivery starts with a minus and is shown with inverted colours (green)."""
    (cost,) = [t for t in charts.performance_tiles(DAY_1_SUMMARY, DAY_2_SUMMARY) if t.label == "Cost per delivery"]
    assert cost.delta == "-€ 11.67"
    assert cost.delta_color == "inverse"


@pytest.mark.parametrize("previous", [None, NO_DATA])
def test_tiles_without_previous_data_have_no_change(previous):
    """Nothing to compare with gives no delta rather than a change against zero."""
    assert all(tile.delta is None for tile in charts.performance_tiles(DAY_2_SUMMARY, previous))


def test_tiles_of_a_period_without_ratings():
    """Missing rates and rating show a dash, not 'nan'."""
    tiles = _texts(charts.performance_tiles(NO_DATA | {"failed": 0, "not_attempted": 0}, None))
    assert tiles["On-time rate"] == ("–", None)
    assert tiles["Average rating"] == ("–", None)
    assert tiles["Cost per delivery"] == ("–", None)


def test_format_helpers():
    """Shares become percent with one decimal; EUR amounts get a thousands separator."""
    assert charts.format_percent(0.5555) == "55.5 %"
    assert charts.format_percent(None) == "–"
    assert charts.format_eur(1234.5) == "€ 1,234.50"


def _daily(depots: list[str]) -> pd.DataFrame:
    rows = [
        {"service_date": day, "depot_name": depot, "on_time_rate": rate, "avg_rating": None}
        for day, rate in ((DAY_1, 0.5), (DAY_2, 0.75))
        for depot in depots
    ]
    return pd.DataFrame(rows)


def test_trend_chart_one_line_per_depot_with_percent_axis():
    """With several depots the lines are coloured by depot with a legend; the rate axis is in percent."""
    spec = charts.trend_chart(_daily(["Schaan", "Triesen"]), charts.TREND_METRICS[0]).to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["field"] == "service_date" and spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    assert spec["encoding"]["color"]["field"] == "depot_name"
    assert spec["encoding"]["color"]["legend"] is not None


def test_trend_chart_of_one_depot_has_no_legend_and_drops_missing_values():
    """One depot needs no legend; days without a value (no ratings) are left out, not drawn at zero."""
    single = charts.trend_chart(_daily(["Schaan"]), charts.TREND_METRICS[0]).to_dict()
    assert single["encoding"]["color"]["legend"] is None
    rating = charts.trend_chart(_daily(["Schaan"]), charts.TREND_METRICS[3])
    assert rating.data.empty
    assert rating.to_dict()["encoding"]["y"]["scale"]["zero"] is False


def test_on_time_by_hour_chart_labels_hours_and_counts():
    """Hours are labelled HH:00; each bar carries on-time/attempted, so a 0 % hour is still visible."""
    chart = charts.on_time_by_hour_chart(
        pd.DataFrame({"hour": [8, 10], "attempted": [1, 2], "on_time": [0, 1], "on_time_rate": [0.0, 0.5]})
    )
    spec = chart.to_dict()
    bars, labels = spec["layer"]
    assert (bars["mark"]["type"], labels["mark"]["type"]) == ("bar", "text")
    assert labels["encoding"]["text"]["field"] == "count_label"
    (data,) = spec["datasets"].values()
    assert [(row["hour_label"], row["count_label"]) for row in data] == [("08:00", "0/1"), ("10:00", "1/2")]


def test_failure_reasons_chart_uses_readable_labels():
    """Reason codes become words; failed and not attempted orders get their map colours."""
    reasons = pd.DataFrame(
        {"outcome": ["failed", "not_attempted"], "reason": ["not_home", "not_attempted"], "orders": [3, 1]}
    )
    chart = charts.failure_reasons_chart(reasons)
    assert chart.data["reason_label"].to_list() == ["Not at home", "Not attempted"]
    scale = chart.to_dict()["encoding"]["color"]["scale"]
    assert scale["range"] == ["#d62728", "#7f7f7f"]
