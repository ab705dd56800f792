"""dashboard.queries against the demo snapshot: filtering, KPI numbers, empty results, bound parameters."""

import datetime as dt
import inspect

import duckdb
import pytest

from dashboard import queries
from dashboard.snapshot import current_snapshot

from .conftest import DAY_1, DAY_2, PLAN_DAY_2

QUERY_FUNCTIONS = [
    queries.service_dates,
    queries.depots,
    queries.plan_summary,
    queries.kpis_by_date,
    queries.planned_routes,
    queries.planned_stops,
    queries.unassigned_orders,
    queries.route_stops,
]


@pytest.fixture
def key(serving_snapshot) -> str:
    """Cache key of the demo snapshot, with the query caches emptied so every test really queries."""
    for function in QUERY_FUNCTIONS:
        function.clear()
    return current_snapshot().key


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
    executed: list[tuple[str, dict]] = []
    real_connect = duckdb.connect

    class RecordingConnection:
        def __init__(self, connection):
            self._connection = connection

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self._connection.close()

        def execute(self, sql, parameters=None):
            executed.append((sql, parameters))
            return self._connection.execute(sql, parameters)

    monkeypatch.setattr(queries.duckdb, "connect", lambda *a, **k: RecordingConnection(real_connect(*a, **k)))
    hostile = "D-SCHAAN' or '1'='1"
    assert queries.planned_routes(key, DAY_2, hostile).empty
    assert queries.route_stops(key, PLAN_DAY_2, "R1' --").empty
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
