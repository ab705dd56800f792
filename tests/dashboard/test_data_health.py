"""The Data health page: its queries and builders on a snapshot the real publisher wrote from a warehouse with
an ingest log, quarantine tables and data checks (``write_health_warehouse``), the page in AppTest, and the
empty states of snapshots without those tables."""

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts, health, queries
from dashboard.snapshot import current_snapshot
from orchestration.serving import publish_snapshot

from .conftest import (
    APP_PATH,
    DATA_DOCS_PATH,
    DAY_1,
    DAY_2,
    HEALTH_CHECKS,
    HEALTH_INGEST_LOG,
    HEALTH_QUARANTINE,
    app_test,
    write_health_warehouse,
)

TIMEOUT_S = 30
DATA_HEALTH = "app_pages/data_health.py"


def _latest_loads() -> dict[tuple[str, dt.date], tuple[int, int, int]]:
    """(source, date) -> (loaded, accepted, quarantined) of the latest load in HEALTH_INGEST_LOG."""
    latest = {}
    for table, day, _file, accepted, loaded, quarantined, loaded_at in HEALTH_INGEST_LOG:
        if (table, day) not in latest or loaded_at > latest[(table, day)][0]:
            latest[(table, day)] = (loaded_at, (loaded, accepted, quarantined))
    return {key: counts for key, (_at, counts) in latest.items()}


def _open_page() -> AppTest:
    app = app_test(APP_PATH, TIMEOUT_S)
    app.switch_page(DATA_HEALTH)
    return app.run()


def _open_tab(app: AppTest, label: str) -> None:
    """Open one of the page's lazy tabs (only the open tab's content runs)."""
    app.session_state["health_tab"] = label
    app.run()
    assert not app.exception


def _frame_with(app: AppTest, *columns: str, position: int = 0) -> pd.DataFrame:
    frames = [frame.value for frame in app.dataframe if set(columns) <= set(frame.value.columns)]
    return frames[position]


@pytest.fixture
def key(health_snapshot) -> str:
    return current_snapshot().key


# --- queries --------------------------------------------------------------------------------------------------


def test_dates_and_sources_span_every_data_health_table(key):
    """Dates and sources come from the ingest log, the quarantine and the checks together."""
    assert queries.health_dates(key) == [DAY_1, DAY_2]
    assert queries.health_sources(key) == ["depots", "orders", "pings", "stop_events"]


def test_loads_are_the_latest_per_source_and_date(key):
    """Day 2's orders were loaded twice: only the later load counts, and loaded = accepted + quarantined."""
    loads = queries.loads(key)
    got = {
        (row.source, row.service_date.date()): (row.loaded_rows, row.accepted_rows, row.quarantined_rows)
        for row in loads.itertuples(index=False)
    }
    assert got == _latest_loads()
    assert got[("orders", DAY_2)] == (11, 9, 2)
    assert (loads["loaded_rows"] == loads["accepted_rows"] + loads["quarantined_rows"]).all()
    assert queries.loads(key, DAY_2, "orders")["source_file"].to_list() == ["orders/orders_2026-11-27.csv"]


def test_quarantined_rows_carry_file_line_field_and_reason(key):
    """Rows of one date, by source and row; the line is the data row + 1 (header); descriptions come along."""
    rows = queries.quarantined_rows(key, DAY_2)
    expected = sorted(
        (table, row, code)
        for table, entries in HEALTH_QUARANTINE.items()
        for day, _file, row, code, _field, _reason in entries
        if day == DAY_2
    )
    assert list(zip(rows["source"], rows["source_row"], rows["reason_code"], strict=True)) == expected
    assert (rows["line"] == rows["source_row"] + 1).all()
    malformed = rows[rows["reason_code"] == "MALFORMED_LINE"].iloc[0]
    assert pd.isna(malformed["field"])
    assert pd.isna(malformed["raw_line"])  # pings come from Parquet: no line to show
    duplicate = rows[rows["reason_code"] == "DUPLICATE_ID"].iloc[0]
    assert duplicate["raw_line"] == "O-x,line 5"
    assert queries.quarantined_rows(key, DAY_2, "orders")["reason_code"].to_list() == ["DUPLICATE_ID", "BAD_WINDOW"]


def test_quarantine_reasons_count_rows_per_code(key):
    """Day 2: two BAD_COORDINATES pings, one each of the rest, most first."""
    reasons = queries.quarantine_reasons(key, DAY_2)
    assert dict(zip(reasons["reason_code"], reasons["rows"], strict=True)) == {
        "BAD_COORDINATES": 2,
        "BAD_WINDOW": 1,
        "DUPLICATE_ID": 1,
        "MALFORMED_LINE": 1,
    }
    assert reasons["reason_code"].iloc[0] == "BAD_COORDINATES"
    assert list(reasons["sources"].iloc[0]) == ["pings"]


def test_data_checks_list_failing_critical_first(key):
    """Failing checks come first, critical before warning; a source narrows them down."""
    checks = queries.data_checks(key, DAY_2)
    assert list(zip(checks["check_name"], checks["passed"], strict=True)) == [
        ("pings_speed_plausible", False),
        ("orders_windows_long_enough", False),
        ("orders_coordinates_in_area", True),
    ]
    assert queries.data_checks(key, DAY_2, "pings")["check_name"].to_list() == ["pings_speed_plausible"]
    assert health.check_counts(checks) == {"checks": 3, "failing": 2, "critical": 1, "warning": 1}


def test_failing_check_dates_cover_every_date(key):
    """Only dates with a failing check, newest first, counted by severity with the sources they checked."""
    dates = queries.failing_check_dates(key)
    failing = [check for check in HEALTH_CHECKS if not check[4]]
    assert [d.date() for d in dates["service_date"]] == sorted({check[2] for check in failing}, reverse=True)
    row = dates.iloc[0]
    assert (row["critical"], row["warning"], row["checks"]) == (1, 1, 2)
    assert list(row["sources"]) == ["orders", "pings"]


def test_freshness_per_source_stalest_first(key):
    """One row per source: last load, newest date and how many dates; stop events were loaded longest ago."""
    fresh = queries.freshness(key)
    assert fresh["source"].to_list() == ["stop_events", "depots", "orders", "pings"]
    orders = fresh.set_index("source").loc["orders"]
    assert orders["last_service_date"].date() == DAY_2
    assert orders["dates_loaded"] == 2
    assert orders["last_source_file"] == "orders/orders_2026-11-27.csv"


def test_latest_plan_runs_newest_first(key):
    """Plan runs of every date, newest first, cut at the limit, with the publisher's extra columns."""
    runs = queries.latest_plan_runs(key, 2)
    assert runs["plan_id"].to_list() == ["plan-2026-11-27-daily-v2", "plan-2026-11-27-daily-v1"]
    table = health.plan_runs_table(runs)
    assert table["Plan"].to_list() == ["daily v2", "daily v1"]
    assert table["Status"].to_list() == ["valid", "valid"]


def test_queries_without_data_health_tables_are_empty(plan_only_snapshot):
    """A snapshot without the optional tables gives no dates and empty frames of the documented columns."""
    key = current_snapshot().key
    assert queries.health_dates(key) == []
    assert queries.health_sources(key) == []
    assert list(queries.loads(key, DAY_2).columns) == list(queries.LOAD_COLUMNS)
    assert queries.quarantined_rows(key, DAY_2).empty
    assert list(queries.data_checks(key, DAY_2).columns) == list(queries.DATA_CHECK_COLUMNS)
    assert queries.freshness(key).empty


# --- pure builders --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (dt.timedelta(seconds=45), "45 s"),
        (dt.timedelta(minutes=12, seconds=30), "12 min"),
        (dt.timedelta(hours=3, minutes=5), "3 h 05 min"),
        (dt.timedelta(days=2, hours=4, minutes=59), "2 d 4 h"),
        (dt.timedelta(seconds=-30), "0 s"),
        (None, "–"),
    ],
)
def test_format_age(age, text):
    """Ages read in the largest sensible units; a clock slightly behind gives 0 s, not a negative age."""
    assert health.format_age(age) == text


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/srv/gx/data docs/index.html", "file:///srv/gx/data%20docs/index.html"),
        ("https://docs.example/gx/index.html", "https://docs.example/gx/index.html"),
        ("gx/index.html", "gx/index.html"),
        (None, None),
        ("", None),
    ],
)
def test_data_docs_url(path, url):
    """Absolute paths become file URLs, web addresses stay, nothing gives no link."""
    assert health.data_docs_url(path) == url


def test_unbalanced_loads_are_named():
    """A load whose loaded rows are not accepted + quarantined is reported; a missing loaded count is the sum."""
    loads = pd.DataFrame(
        {
            "source": ["orders", "ratings", "depots"],
            "source_file": ["orders/orders_2026-11-27.csv", "ratings/ratings_2026-11-27.csv", "master/depots.csv"],
            "loaded_rows": [11, 10, None],
            "accepted_rows": [9, 8, 2],
            "quarantined_rows": [2, 1, None],
        }
    )
    assert health.unbalanced_loads(loads) == [
        "Ratings (ratings/ratings_2026-11-27.csv): 10 loaded, 8 accepted, 1 quarantined"
    ]
    assert health.load_totals(loads) == {"sources": 3, "loaded": 23, "accepted": 19, "quarantined": 3}


def test_a_check_without_result_counts_as_failing():
    """Nothing shows that data with a missing check result is fine, so the check is listed as failing."""
    checks = pd.DataFrame(
        {"check_name": ["a", "b", "c"], "severity": ["critical", "warning", "critical"], "passed": [True, None, False]}
    )
    assert health.failing_checks(checks)["check_name"].to_list() == ["b", "c"]


def test_no_checks_give_zero_counts():
    """An empty checks frame (no table in the snapshot) keeps its columns and counts nothing."""
    checks = pd.DataFrame(columns=list(queries.DATA_CHECK_COLUMNS))
    assert list(health.failing_checks(checks).columns) == list(queries.DATA_CHECK_COLUMNS)
    assert health.check_counts(checks) == {"checks": 0, "failing": 0, "critical": 0, "warning": 0}


def test_freshness_table_ages_at_the_given_time(key):
    """Ages are measured from the load to ``now``; loads show in local time."""
    table = health.freshness_table(queries.freshness(key), dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC))
    by_source = table.set_index("Source")
    assert by_source.loc["Telematics pings", "Age"] == "12 h 00 min"
    assert by_source.loc["Stop events", "Age"] == "1 d 12 h"
    assert by_source.loc["Stop events", "Last load"] == "2026-11-26 20:00"
    assert by_source.loc["Orders", "Last service date"] == "2026-11-27"


def test_quarantine_chart_stacks_sources_per_day(key):
    """One bar segment per date and source with quarantined rows; loads without any are left out."""
    spec = charts.quarantine_chart(queries.loads(key)).to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["color"]["field"] == "source_label"
    (dataset,) = spec["datasets"].values()
    segments = sorted((row["day"], row["source_label"], row["quarantined_rows"]) for row in dataset)
    assert segments == [
        ("Fri 27 Nov", "Orders", 2),
        ("Fri 27 Nov", "Telematics pings", 3),
        ("Thu 26 Nov", "Orders", 1),
        ("Thu 26 Nov", "Stop events", 1),
    ]
    assert spec["encoding"]["x"]["sort"] == ["Thu 26 Nov", "Fri 27 Nov"]


# --- the page -------------------------------------------------------------------------------------------------


def test_page_shows_counts_reasons_and_failing_checks(health_snapshot):
    """The page opens on the latest date: tiles with the latest loads' counts, every source's loaded =
    accepted + quarantined, the quarantined rows with their reason codes and the failing checks with messages
    and the Data Docs link."""
    app = _open_page()
    assert not app.exception
    assert app.selectbox(key="health_service_date").value == DAY_2
    latest = {key: counts for key, counts in _latest_loads().items() if key[1] == DAY_2}
    loaded, accepted, quarantined = (sum(counts[i] for counts in latest.values()) for i in range(3))
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {
        "Rows loaded": f"{loaded:,}",
        "Accepted": f"{accepted:,}",
        "Quarantined": f"{quarantined:,}",
        "Critical checks failing": "1",
        "Warnings": "1",
    }
    assert (loaded, accepted, quarantined) == (516, 511, 5)

    # The data checks tab is open first; the others run only when opened.
    assert [el.value for el in app.subheader] == ["Failing data checks (2)"]
    failing = _frame_with(app, "Severity", "Message", "Data Docs")
    assert failing["Check"].to_list() == ["pings_speed_plausible", "orders_windows_long_enough"]
    assert failing["Severity"].to_list() == ["Critical", "Warning"]
    assert "field speed_kmh" in failing["Message"].iloc[0]
    assert failing["Data Docs"].iloc[0] == f"file://{DATA_DOCS_PATH}"
    assert any(DATA_DOCS_PATH in caption.value for caption in app.caption)
    assert "1 critical check(s) failed" in app.error[0].value
    failing_dates = _frame_with(app, "Critical failing", "Warnings failing")
    assert failing_dates.values.tolist() == [["Fri 27 Nov 2026", 1, 1, "Orders, Telematics pings"]]
    assert not app.get("vega_lite_chart")

    _open_tab(app, "Loads")
    assert [el.value for el in app.subheader] == ["Loads by source"]
    loads = _frame_with(app, "Loaded", "Accepted", "Quarantined")
    assert (loads["Loaded"] == loads["Accepted"] + loads["Quarantined"]).all()
    shown = {row.Source: (row.Loaded, row.Accepted, row.Quarantined) for row in loads.itertuples(index=False)}
    assert shown == {health.source_label(source): counts for (source, _day), counts in latest.items()}
    (chart,) = app.get("vega_lite_chart")
    assert json.loads(chart.proto.spec)["encoding"]["y"]["field"] == "loaded_rows"

    _open_tab(app, "Quarantine")
    assert [el.value for el in app.subheader] == ["Quarantined rows (5)"]
    rows = _frame_with(app, "Line", "Field", "Reason code")
    assert sorted(rows["Reason code"]) == [
        "BAD_COORDINATES",
        "BAD_COORDINATES",
        "BAD_WINDOW",
        "DUPLICATE_ID",
        "MALFORMED_LINE",
    ]
    duplicate = rows[rows["Reason code"] == "DUPLICATE_ID"].iloc[0]
    assert (duplicate["File"], duplicate["Line"], duplicate["Field"]) == ("orders/orders_2026-11-27.csv", 5, "order_id")
    reasons = _frame_with(app, "Reason code", "Meaning")
    assert reasons.set_index("Reason code").loc["BAD_COORDINATES", "Rows"] == 2
    (chart,) = app.get("vega_lite_chart")
    assert json.loads(chart.proto.spec)["encoding"]["y"]["field"] == "quarantined_rows"

    _open_tab(app, "Freshness and plan runs")
    assert [el.value for el in app.subheader] == ["Freshness", "Latest plan runs"]


def test_page_follows_date_and_source(health_snapshot):
    """Day 1, orders only: one load (5 = 4 + 1), one quarantined row, every check passed."""
    app = _open_page()
    app.selectbox(key="health_service_date").set_value(DAY_1)
    app.selectbox(key="health_source").set_value("orders").run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert (metrics["Rows loaded"], metrics["Accepted"], metrics["Quarantined"]) == ("5", "4", "1")
    day_1_orders_checks = sum(1 for check in HEALTH_CHECKS if check[1] == "orders" and check[2] == DAY_1)
    assert app.success[0].value == f"All {day_1_orders_checks} data checks passed."
    _open_tab(app, "Loads")
    loads = _frame_with(app, "Loaded", "Accepted", "Quarantined")
    assert loads[["Source", "Loaded", "Accepted", "Quarantined"]].values.tolist() == [["Orders", 5, 4, 1]]
    _open_tab(app, "Quarantine")
    rows = _frame_with(app, "Line", "Field", "Reason code")
    assert rows[["Line", "Field", "Reason code"]].values.tolist() == [[4, "lat", "BAD_COORDINATES"]]


def test_page_without_data_health_tables_explains(plan_only_snapshot):
    """A snapshot without ingest log, quarantine and checks says why and what to run, with no traceback."""
    app = _open_page()
    assert not app.exception
    assert [el.value for el in app.subheader] == ["No data-health records yet"]
    assert [code.value for code in app.code] == ["make run"]


def test_page_with_ingest_log_only(tmp_path, monkeypatch):
    """An older warehouse with an ingest log but no quarantine or checks: loads show, the rest explains."""
    warehouse = tmp_path / "warehouse.duckdb"
    write_health_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("drop schema quarantine cascade")
        conn.execute("drop schema quality cascade")
        published = publish_snapshot(conn, tmp_path / "serving")
    assert {"ingest_log"} == set(published.row_counts) & {"ingest_log", "quarantined_rows", "data_checks"}
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(tmp_path / "serving"))
    app = _open_page()
    assert not app.exception
    assert "no data checks" in app.info[0].value
    _open_tab(app, "Quarantine")
    assert "no quarantine" in app.info[0].value
    _open_tab(app, "Loads")
    loads = _frame_with(app, "Loaded", "Accepted", "Quarantined")
    assert loads["Loaded"].sum() == 516


def test_manifest_lists_the_data_health_tables(health_snapshot):
    """The publisher's manifest counts the new tables like the others."""
    manifest = json.loads((current_snapshot().path / "manifest.json").read_text())
    assert manifest["tables"]["ingest_log"] == len(_latest_loads())
    assert manifest["tables"]["quarantined_rows"] == sum(len(rows) for rows in HEALTH_QUARANTINE.values())
    assert manifest["tables"]["data_checks"] == len(HEALTH_CHECKS)
