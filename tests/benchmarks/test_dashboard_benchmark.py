"""benchmarks/dashboard.py: the median, the tiling of a snapshot to more days, the page list read from the app, the
headline lines and the command line. (Building history and timing pages in a browser takes minutes: not in the
suite; tests/dashboard/test_every_page_browser.py opens every page.)"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "dashboard.py"
_spec = importlib.util.spec_from_file_location("dashboard_benchmark", SCRIPT)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)

DAY_1, DAY_2 = dt.date(2026, 11, 24), dt.date(2026, 11, 25)
TOKEN = "A" * 43


def _deliveries() -> pa.Table:
    """Three orders over two days, with a plan id, a UTC timestamp and a nullable date."""
    return pa.table(
        {
            "service_date": pa.array([DAY_1, DAY_2, DAY_2], pa.date32()),
            "plan_id": ["P-1", "P-2", "P-2"],
            "order_id": ["O-1", "O-2", "O-3"],
            "loaded_at_utc": pa.array(
                [dt.datetime(2026, 11, 24, 5, tzinfo=dt.UTC), None, dt.datetime(2026, 11, 25, 5, tzinfo=dt.UTC)],
                pa.timestamp("us", tz="UTC"),
            ),
            "arrival_s": [36_000, 40_000, 41_000],
        }
    )


def test_median_of_odd_and_even_counts():
    """The middle value, or the mean of the middle two; no values is an error."""
    assert bench.median([3.0, 1.0, 2.0]) == 2.0
    assert bench.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert bench.median([0.7]) == 0.7
    with pytest.raises(ValueError, match="no values"):
        bench.median([])


def test_tiling_multiplies_rows_and_moves_dates_back_by_whole_periods():
    """N copies: N times the rows; copy k is k periods earlier in every date and timestamp, seconds after
    midnight unchanged, plan ids unique per copy."""
    table = _deliveries()
    tiled = bench.tile_table(table, "deliveries", tiles=4, period_days=7)
    assert tiled.num_rows == 4 * table.num_rows
    assert tiled.schema == table.schema
    dates = tiled.column("service_date").to_pylist()
    assert dates[:3] == [DAY_1, DAY_2, DAY_2]
    assert dates[3:6] == [d - dt.timedelta(days=7) for d in (DAY_1, DAY_2, DAY_2)]
    assert dates[9:] == [d - dt.timedelta(days=21) for d in (DAY_1, DAY_2, DAY_2)]
    stamps = tiled.column("loaded_at_utc").to_pylist()
    assert stamps[3] == dt.datetime(2026, 11, 17, 5, tzinfo=dt.UTC)
    assert stamps[4] is None
    assert tiled.column("arrival_s").to_pylist() == table.column("arrival_s").to_pylist() * 4
    plan_ids = tiled.column("plan_id").to_pylist()
    assert plan_ids[:6] == ["P-1", "P-2", "P-2", "P-1-t1", "P-2-t1", "P-2-t1"]
    assert len(set(plan_ids)) == 2 * 4


def test_tiling_keeps_weekdays_when_the_period_is_a_week():
    """Copies a whole number of weeks apart keep each row's weekday (the demand pattern follows weekdays)."""
    tiled = bench.tile_table(_deliveries(), "deliveries", tiles=3, period_days=7)
    assert {d.weekday() for d in tiled.column("service_date").to_pylist()} == {DAY_1.weekday(), DAY_2.weekday()}


def test_tiling_gives_every_tracking_row_its_own_token():
    """Copies of a tracking row get distinct tokens of the same shape, the original keeps its own."""
    table = pa.table({"token": [TOKEN, None], "service_date": pa.array([DAY_2, DAY_2], pa.date32())})
    tokens = bench.tile_table(table, "tracking", tiles=3, period_days=7).column("token").to_pylist()
    assert tokens[0] == TOKEN and tokens[1] is None and tokens[3] is None
    copies = [tokens[0], tokens[2], tokens[4]]
    assert len(set(copies)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in copies)


def test_tables_without_a_date_key_are_not_copied():
    """Depots (no service date) stay as they are; model versions are tiled on their training day."""
    depots = pa.table({"depot_id": ["D-1"], "name": ["Schaan"]})
    assert bench.tile_table(depots, "depots", tiles=5, period_days=7) is depots
    versions = pa.table(
        {"version": ["tt@2026-11-25"], "trained_through": pa.array([DAY_2], pa.date32()), "model": ["travel_time"]}
    )
    tiled = bench.tile_table(versions, "model_versions", tiles=2, period_days=7)
    assert tiled.column("version").to_pylist() == ["tt@2026-11-25", "tt@2026-11-25-t1"]
    assert tiled.column("trained_through").to_pylist() == [DAY_2, DAY_2 - dt.timedelta(days=7)]


def test_keep_newest_days_trims_to_the_window():
    """Only rows of the newest ``days`` days stay; a table without dates is untouched."""
    tiled = bench.tile_table(_deliveries(), "deliveries", tiles=3, period_days=7)
    kept = bench.keep_newest_days(tiled, "deliveries", days=9, newest=DAY_2)
    assert min(kept.column("service_date").to_pylist()) == DAY_2 - dt.timedelta(days=8)
    assert kept.num_rows == 6  # the original and the first copy; the second copy is 14 days back


def test_tile_snapshot_writes_a_complete_snapshot(tmp_path: Path):
    """A snapshot of 2 real days tiled to 6: every dated table 3 times its rows, the manifest lists 6 service
    dates and the real row counts, CURRENT names it."""
    source = tmp_path / "source"
    source.mkdir()
    kpis = pa.table({"service_date": pa.array([DAY_1, DAY_2], pa.date32()), "plan_id": ["P-1", "P-2"]})
    depots = pa.table({"depot_id": ["D-1"]})
    pq.write_table(kpis, source / "plan_kpis.parquet")
    pq.write_table(_deliveries(), source / "deliveries.parquet")
    pq.write_table(depots, source / "depots.parquet")
    (source / "manifest.json").write_text(
        json.dumps({"snapshot_id": "real", "service_dates": [str(DAY_1), str(DAY_2)], "tables": {}}),
        encoding="utf-8",
    )
    serving = tmp_path / "serving"
    manifest = bench.tile_snapshot(source, serving, days=6, period_days=2)
    assert (serving / "CURRENT").read_text().strip() == manifest["snapshot_id"]
    folder = serving / "snapshots" / manifest["snapshot_id"]
    assert pq.read_table(folder / "deliveries.parquet").num_rows == 3 * 3
    assert pq.read_table(folder / "depots.parquet").num_rows == 1
    assert manifest["tables"] == {"deliveries": 9, "depots": 1, "plan_kpis": 6}
    assert len(manifest["service_dates"]) == 6 and manifest["service_dates"][-1] == str(DAY_2)
    assert json.loads((folder / "manifest.json").read_text())["tiled_from"]["copies"] == 3


def test_app_pages_are_read_from_the_navigation(tmp_path: Path):
    """Every st.Page in source order, with its title; the default page sits at the root URL, the others at their
    url_path or their script's name."""
    app = tmp_path / "app.py"
    app.write_text(
        "import streamlit as st\n"
        "st.navigation([\n"
        '    st.Page("app_pages/plan.py", title="Plan", default=True),\n'
        '    st.Page("app_pages/live.py", title="Live"),\n'
        '    st.Page("app_pages/x.py", title="Exports", url_path="exports"),\n'
        "]).run()\n",
        encoding="utf-8",
    )
    pages = bench.app_pages(app)
    assert [(p.title, p.url_path, p.name) for p in pages] == [
        ("Plan", "", "plan"),
        ("Live", "live", "live"),
        ("Exports", "exports", "exports"),
    ]
    empty = tmp_path / "empty.py"
    empty.write_text("import streamlit as st\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no st.Page"):
        bench.app_pages(empty)


def test_the_real_app_lists_every_page_file():
    """The parsed list of dashboard/app.py names existing page scripts, Plan first."""
    pages = bench.app_pages()
    assert pages[0].url_path == "" and pages[0].title == "Plan"
    assert all((bench.APP_PATH.parent / p.script).is_file() for p in pages)


def test_headline_ends_with_the_slowest_median():
    """One line per page, then ``page_first_render_s_max`` with the largest median."""
    rows = [{"page": "plan", "median_s": 0.8}, {"page": "overview", "median_s": 1.25}]
    lines = bench.headline(rows)
    assert lines[-1] == "page_first_render_s_max: 1.250"
    assert lines[:2] == ["page_first_render_s.plan: 0.800", "page_first_render_s.overview: 1.250"]


def test_arguments_default_to_a_year_against_two_weeks():
    """Defaults: 365 days measured, a 14-day baseline, 7 real days at default scale, 5 loads; 0 is refused."""
    args = bench.parse_args([])
    assert (args.days, args.baseline_days, args.real_days, args.scale, args.loads) == (365, 14, 7, "default", 5)
    with pytest.raises(SystemExit):
        bench.parse_args(["--loads", "0"])


def test_report_says_the_content_is_tiled_and_lists_every_page():
    """The section states the real days and the tiling, one row per page with both medians and their ratio, and
    marks a page that was not drawn."""
    args = bench.parse_args(["--days", "28", "--baseline-days", "14"])
    build = {"dates": ["2026-11-19", "2026-11-25"], "build_s": 600.0}
    year = [
        {"page": "plan", "title": "Plan", "loads_s": [2.0, 1.0, 1.5], "median_s": 1.5, "started_s": 0.9},
        {"page": "live", "title": "Live", "loads_s": [float("inf")], "median_s": float("inf"), "started_s": 0.8},
    ]
    baseline = [{"page": "plan", "title": "Plan", "loads_s": [1.0], "median_s": 1.0, "started_s": 0.9}]
    text = bench.markdown(year, baseline, args, build, {"28 days:": {"deliveries": 4200}}, (1.0, 2.0))
    assert "**tiled**" in text and "7 real days (2026-11-19 to 2026-11-25)" in text
    assert "| Plan | 1.50 | 0.90 | 2.00 | 2.00 | 1.00 | 1.50 |" in text
    assert "| Live | inf |" in text and "not drawn within" in text
    assert "deliveries 4,200" in text
