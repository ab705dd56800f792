"""dashboard.queries against the demo snapshot: filtering, KPI numbers, empty results, bound parameters.

The execution queries are checked against the demo's known numbers (see ``conftest.execution_tables``) and
against a snapshot without the optional execution files.
"""

import datetime as dt
import inspect

import pytest

from dashboard import queries
from dashboard.snapshot import current_snapshot

from .conftest import DAY_1, DAY_2, PLAN_DAY_2
from .doubles import record_sql

QUERY_FUNCTIONS = [
    queries.service_dates,
    queries.depots,
    queries.plan_summary,
    queries.kpis_by_date,
    queries.planned_routes,
    queries.planned_stops,
    queries.unassigned_orders,
    queries.route_stops,
    queries.execution_dates,
    queries.performance_summary,
    queries.daily_kpis,
    queries.driver_performance,
    queries.on_time_by_hour,
    queries.failure_reasons,
    queries.day_deliveries,
    queries.day_route_days,
    queries.day_driven_paths,
]
# Optional-table queries that return frames, with the columns an empty result must have.
EXECUTION_FRAMES = [
    (queries.daily_kpis, queries.DAILY_KPI_COLUMNS),
    (queries.driver_performance, queries.DRIVER_PERFORMANCE_COLUMNS),
    (queries.on_time_by_hour, queries.ON_TIME_BY_HOUR_COLUMNS),
    (queries.failure_reasons, queries.FAILURE_REASON_COLUMNS),
    (queries.day_deliveries, queries.DAY_DELIVERY_COLUMNS),
    (queries.day_route_days, queries.DAY_ROUTE_COLUMNS),
    (queries.day_driven_paths, queries.DRIVEN_PATH_COLUMNS),
]


def _clear_caches() -> None:
    for function in QUERY_FUNCTIONS:
        function.clear()


@pytest.fixture
def key(serving_snapshot) -> str:
    """Cache key of the demo snapshot, with the query caches emptied so every test really queries."""
    _clear_caches()
    return current_snapshot().key


@pytest.fixture
def plan_only_key(plan_only_snapshot) -> str:
    """Cache key of the demo snapshot without execution tables, with the query caches emptied."""
    _clear_caches()
    return current_snapshot().key


def _args(function, service_date: dt.date, depot_id: str | None = None) -> tuple:
    """Arguments after the snapshot key: one date for the day queries, a range ending that day otherwise."""
    if function.__name__.startswith("day_"):
        return (service_date, depot_id)
    return (service_date, service_date, depot_id)


def test_service_dates_and_depots(key):
    """Dates come from the published plans, oldest first; depots are all listed or filtered to one."""
    assert queries.service_dates(key) == [DAY_1, DAY_2]
    assert queries.depots(key)["depot_id"].to_list() == ["D-SCHAAN", "D-TRIESEN"]
    assert queries.depots(key, "D-TRIESEN")["name"].to_list() == ["Triesen"]


def test_routes_stops_unassigned_filter_by_date_and_depot(key, serving_snapshot):
    """Routes, stops and unassigned orders are those of the chosen date, and of the chosen depot if any."""
    routes = queries.planned_routes(key, DAY_2)
    assert routes["vehicle_id"].to_list() == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    assert set(routes["plan_id"]) == {PLAN_DAY_2}
    assert routes["depot_name"].to_list() == ["Schaan", "Schaan", "Triesen"]
    assert queries.planned_routes(key, DAY_2, "D-SCHAAN")["vehicle_id"].to_list() == ["V-SCH-01", "V-SCH-02"]
    assert queries.planned_routes(key, DAY_1, "D-SCHAAN")["vehicle_id"].to_list() == ["V-SCH-01"]

    stops = queries.planned_stops(key, DAY_2, "D-TRIESEN")
    assert stops["order_id"].to_list() == ["O-2006", "O-2007", "O-2008"]
    assert len(queries.planned_stops(key, DAY_2)) == 8

    assert queries.unassigned_orders(key, DAY_2)["order_id"].to_list() == ["O-2009"]
    assert queries.unassigned_orders(key, DAY_2, "D-SCHAAN").empty
    assert queries.unassigned_orders(key, DAY_1).empty


def test_plan_summary_matches_published_kpis(key, serving_snapshot):
    """Totals over all depots add up the published rows; cost per delivery is weighted by stops."""
    kpis = serving_snapshot.kpis(DAY_2)
    summary = queries.plan_summary(key, DAY_2)
    assert summary["depots"] == 2
    assert (summary["routes"], summary["stops"], summary["unassigned"]) == (3, 8, 1)
    assert summary["distance_km"] == pytest.approx(kpis["distance_km"].sum()) == pytest.approx(49.5)
    assert summary["cost_eur"] == pytest.approx(kpis["cost_eur"].sum())
    assert summary["cost_per_delivery_eur"] == pytest.approx(kpis["cost_eur"].sum() / 8)

    triesen = queries.plan_summary(key, DAY_2, "D-TRIESEN")
    published = serving_snapshot.kpis(DAY_2, "D-TRIESEN").iloc[0]
    assert (triesen["routes"], triesen["stops"], triesen["unassigned"]) == (1, 3, 1)
    assert triesen["cost_per_delivery_eur"] == pytest.approx(published["cost_per_delivery_eur"])


def test_unknown_date_or_depot_gives_empty_results(key):
    """A date or depot without a plan gives empty frames and a zero summary, not an error."""
    unknown = dt.date(2030, 1, 1)
    assert queries.planned_routes(key, unknown).empty
    assert queries.planned_stops(key, unknown).empty
    assert queries.unassigned_orders(key, unknown).empty
    summary = queries.plan_summary(key, unknown)
    assert (summary["depots"], summary["routes"], summary["stops"]) == (0, 0, 0)
    assert summary["cost_per_delivery_eur"] is None
    assert queries.plan_summary(key, DAY_2, "D-NOWHERE")["depots"] == 0


def test_kpis_by_date_lists_every_date_and_depot_with_plan_version(key):
    """The overview table has one row per date and depot, newest first, with the current plan's version."""
    kpis = queries.kpis_by_date(key)
    assert list(zip(kpis["service_date"].dt.date, kpis["depot_id"], strict=True)) == [
        (DAY_2, "D-SCHAAN"),
        (DAY_2, "D-TRIESEN"),
        (DAY_1, "D-SCHAAN"),
        (DAY_1, "D-TRIESEN"),
    ]
    assert kpis["plan_version"].to_list() == [2, 2, 1, 1]


def test_route_stops_in_sequence(key):
    """The stops of one route come back in sequence order."""
    stops = queries.route_stops(key, PLAN_DAY_2, "R1")
    assert stops["sequence"].to_list() == [1, 2, 3]
    assert stops["order_id"].to_list() == ["O-2001", "O-2002", "O-2003"]


def test_user_input_is_bound_not_formatted(key, monkeypatch):
    """Widget values reach DuckDB as bound parameters: they never appear in the SQL text."""
    executed = record_sql(monkeypatch, queries)
    hostile = "D-SCHAAN' or '1'='1"
    assert queries.planned_routes(key, DAY_2, hostile).empty
    assert queries.route_stops(key, PLAN_DAY_2, "R1' --").empty
    assert queries.performance_summary(key, DAY_1, DAY_2, hostile)["orders"] == 0
    assert queries.day_deliveries(key, DAY_2, hostile).empty
    assert executed
    for sql, parameters in executed:
        assert hostile not in sql and "R1'" not in sql and key not in sql
        assert parameters and any(value in (hostile, "R1' --") for value in parameters.values())


def test_query_module_formats_no_sql():
    """No query is assembled with f-strings, % or str.format."""
    source = inspect.getsource(queries)
    assert 'f"""' not in source and "f'''" not in source
    assert ".format(" not in source and '""" %' not in source


def test_new_publish_shows_up(key, serving_snapshot):
    """Results are cached per snapshot: once CURRENT points at a new snapshot, its data is what comes back."""
    from .conftest import demo_tables, write_snapshot

    assert queries.service_dates(key) == [DAY_1, DAY_2]
    tables = demo_tables()
    tables["plan_kpis"] = tables["plan_kpis"].query("service_date == @DAY_2")
    write_snapshot(serving_snapshot.serving_dir, tables, snapshot_id="second")
    new_key = current_snapshot().key
    assert new_key != key
    assert queries.service_dates(new_key) == [DAY_2]


# --- execution data -------------------------------------------------------------------------------------------


def test_execution_dates_are_the_played_out_days(key):
    """Dates with execution data come from the deliveries, oldest first."""
    assert queries.execution_dates(key) == [DAY_1, DAY_2]


def test_performance_summary_of_one_day_and_one_depot(key):
    """Counts and rates of day 2 equal the demo's known numbers; a depot filter keeps only its orders."""
    day = queries.performance_summary(key, DAY_2, DAY_2)
    assert {k: day[k] for k in ("orders", "attempted", "deliveries", "failed", "not_attempted", "on_time")} == {
        "orders": 9,
        "attempted": 7,
        "deliveries": 6,
        "failed": 1,
        "not_attempted": 1,
        "on_time": 5,
    }
    assert day["on_time_rate"] == pytest.approx(5 / 7)
    assert day["first_attempt_success_rate"] == pytest.approx(5 / 7)
    assert day["cost_eur"] == pytest.approx(364.0)
    assert day["cost_per_delivery_eur"] == pytest.approx(364 / 6)
    assert (day["avg_rating"], day["ratings"]) == (pytest.approx(3.8), 5)

    schaan = queries.performance_summary(key, DAY_2, DAY_2, "D-SCHAAN")
    assert (schaan["orders"], schaan["deliveries"], schaan["on_time"]) == (5, 4, 3)
    assert schaan["cost_per_delivery_eur"] == pytest.approx((118 + 108) / 4)
    assert schaan["avg_rating"] == pytest.approx(4.0)


def test_performance_summary_range_is_inclusive_and_filters_dates(key):
    """A two-day range adds both days (ratios of sums, not means of daily ratios); other dates add nothing."""
    both = queries.performance_summary(key, DAY_1, DAY_2)
    assert (both["orders"], both["deliveries"], both["on_time"]) == (13, 9, 7)
    assert both["first_attempt_success_rate"] == pytest.approx(8 / 11)
    assert both["cost_per_delivery_eur"] == pytest.approx((147 + 364) / 9)
    assert both["avg_rating"] == pytest.approx(31 / 8)
    assert queries.performance_summary(key, DAY_1, DAY_1)["deliveries"] == 3
    wider = queries.performance_summary(key, DAY_1 - dt.timedelta(days=30), DAY_2 + dt.timedelta(days=30))
    assert wider == both


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (DAY_2, DAY_2, (DAY_1, DAY_1)),
        (DAY_1, DAY_2, (dt.date(2026, 11, 24), dt.date(2026, 11, 25))),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 14), (dt.date(2026, 10, 18), dt.date(2026, 10, 31))),
    ],
)
def test_previous_period_has_equal_length_and_ends_the_day_before(start, end, expected):
    """The comparison period is as long as the range and ends the day before it starts."""
    assert queries.previous_period(start, end) == expected


def test_previous_period_rejects_reversed_range():
    """An end before the start is an error, not an empty period."""
    with pytest.raises(ValueError, match="before start date"):
        queries.previous_period(DAY_2, DAY_1)


def test_previous_period_comparison(key):
    """Day 2 against the period before it (day 1); the period before both days has no data at all."""
    current = queries.performance_summary(key, DAY_2, DAY_2)
    previous = queries.performance_summary(key, *queries.previous_period(DAY_2, DAY_2))
    assert (previous["deliveries"], previous["on_time"]) == (3, 2)
    assert current["on_time_rate"] - previous["on_time_rate"] == pytest.approx(5 / 7 - 2 / 4)
    assert current["cost_per_delivery_eur"] - previous["cost_per_delivery_eur"] == pytest.approx(364 / 6 - 49)
    before_both = queries.performance_summary(key, *queries.previous_period(DAY_1, DAY_2))
    assert (before_both["orders"], before_both["deliveries"]) == (0, 0)
    assert before_both["on_time_rate"] is None and before_both["cost_per_delivery_eur"] is None


def test_daily_kpis_are_the_published_depot_rows(key, serving_snapshot):
    """The trend data is the depot dimension of delivery_kpis, filtered by range and depot."""
    daily = queries.daily_kpis(key, DAY_1, DAY_2)
    assert list(zip(daily["service_date"].dt.date, daily["depot_name"], strict=True)) == [
        (DAY_1, "Schaan"),
        (DAY_1, "Triesen"),
        (DAY_2, "Schaan"),
        (DAY_2, "Triesen"),
    ]
    published = serving_snapshot.tables["delivery_kpis"].query("dimension == 'depot'")
    assert daily["on_time_rate"].to_list() == pytest.approx(published["on_time_rate"].to_list())
    only = queries.daily_kpis(key, DAY_2, DAY_2, "D-TRIESEN")
    assert (len(only), only["on_time_rate"].iloc[0]) == (1, pytest.approx(2 / 3))


@pytest.mark.parametrize("service_date", [DAY_1, DAY_2])
@pytest.mark.parametrize("depot_id", ["D-SCHAAN", "D-TRIESEN"])
def test_one_depot_day_summary_equals_the_published_kpis(key, service_date, depot_id):
    """The range KPIs use the mart's definitions: over one depot and day they equal its delivery_kpis row."""
    summary = queries.performance_summary(key, service_date, service_date, depot_id)
    (published,) = queries.daily_kpis(key, service_date, service_date, depot_id).to_dict("records")
    for column in ("on_time_rate", "cost_per_delivery_eur", "first_attempt_success_rate", "avg_rating"):
        assert summary[column] == pytest.approx(published[column]), column


def test_driver_performance_over_the_range(key, serving_snapshot):
    """Per driver: deliveries and rates from the orders; stops per hour (per route hour, not per shift hour)
    and km per stop from the route days."""
    drivers = queries.driver_performance(key, DAY_1, DAY_2).set_index("driver_id")
    assert drivers.index.to_list() == ["DR-ANNA", "DR-BEN", "DR-CARL"]
    anna = drivers.loc["DR-ANNA"]
    assert (anna["route_days"], anna["deliveries"]) == (2, 5)
    assert anna["on_time_rate"] == pytest.approx(3 / 5)
    assert anna["first_attempt_success_rate"] == pytest.approx(4 / 5)
    assert anna["km_per_stop"] == pytest.approx((15.2 + 19.8) / 5)
    routes = serving_snapshot.tables["route_days"].query("driver_id == 'DR-ANNA'")
    route_h = (routes["actual_end_s"] - routes["actual_start_s"]).sum() / 3600
    assert anna["stops_per_hour"] == pytest.approx(5 / route_h)
    assert anna["stops_per_hour"] != pytest.approx(5 / routes["shift_h"].sum())
    assert anna["avg_rating"] == pytest.approx(15 / 4)
    assert queries.driver_performance(key, DAY_1, DAY_1)["driver_id"].to_list() == ["DR-ANNA", "DR-BEN"]


def test_on_time_by_hour_and_failure_reasons(key):
    """Day 2 by hour of arrival (attempted stops): the late 10:25 halves the 10:00 bar, the late 12:07 and the
    failed but timely 12:40 halve the 12:00 bar; failures by reason plus not attempted."""
    by_hour = queries.on_time_by_hour(key, DAY_2, DAY_2)
    assert by_hour["hour"].to_list() == [8, 9, 10, 11, 12]
    assert by_hour["attempted"].to_list() == [1, 1, 2, 1, 2]
    assert by_hour["on_time_rate"].to_list() == pytest.approx([1, 1, 0.5, 1, 0.5])
    reasons = queries.failure_reasons(key, DAY_1, DAY_2)
    assert list(zip(reasons["outcome"], reasons["reason"], reasons["orders"], strict=True)) == [
        ("not_attempted", "not_attempted", 1),
        ("failed", "not_home", 1),
        ("failed", "refused", 1),
    ]
    assert queries.failure_reasons(key, DAY_1, DAY_1, "D-SCHAAN").empty


def test_day_queries_filter_by_date_and_depot(key):
    """One day's orders (unassigned last), route days and driven tracks (in time order) of the chosen depot."""
    orders = queries.day_deliveries(key, DAY_2, "D-TRIESEN")
    assert orders["order_id"].to_list() == ["O-2006", "O-2007", "O-2008", "O-2009"]
    assert orders["outcome"].to_list() == ["delivered", "delivered", "failed", "unassigned"]
    routes = queries.day_route_days(key, DAY_2)
    assert routes["vehicle_id"].to_list() == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    assert routes["depot_name"].to_list() == ["Schaan", "Schaan", "Triesen"]
    tracks = queries.day_driven_paths(key, DAY_1, "D-SCHAAN")
    assert set(tracks["vehicle_id"]) == {"V-SCH-01"}
    assert tracks["seq"].to_list() == [0, 1, 2, 3]


@pytest.mark.parametrize(("function", "columns"), EXECUTION_FRAMES, ids=lambda f: getattr(f, "__name__", ""))
def test_empty_results_have_the_columns_of_real_ones(key, function, columns):
    """The column tuple a missing file falls back to is exactly what the query returns."""
    assert list(function(key, *_args(function, DAY_2))) == list(columns)


@pytest.mark.parametrize(("function", "columns"), EXECUTION_FRAMES, ids=lambda f: getattr(f, "__name__", ""))
def test_missing_execution_files_give_empty_frames(plan_only_key, function, columns):
    """A snapshot without the optional execution files gives empty frames, not an error."""
    frame = function(plan_only_key, *_args(function, DAY_2))
    assert frame.empty
    assert list(frame.columns) == list(columns)


def test_missing_execution_files_give_empty_summary(plan_only_key):
    """Without execution files there are no dates and the summary counts nothing."""
    assert queries.execution_dates(plan_only_key) == []
    summary = queries.performance_summary(plan_only_key, DAY_1, DAY_2)
    assert set(summary) == set(queries.PERFORMANCE_SUMMARY_COLUMNS)
    assert (summary["orders"], summary["deliveries"], summary["ratings"]) == (0, 0, 0)
    assert summary["on_time_rate"] is None and summary["cost_per_delivery_eur"] is None


def test_one_missing_execution_file_empties_only_its_queries(key, serving_snapshot):
    """Without driven_paths the tracks are empty while deliveries still come back."""
    (serving_snapshot.snapshot_dir / "driven_paths.parquet").unlink()
    _clear_caches()
    assert queries.day_driven_paths(key, DAY_2).empty
    assert len(queries.day_deliveries(key, DAY_2)) == 9
