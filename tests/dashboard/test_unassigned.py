"""The Plan page's unassigned orders grouped by reason (count, meaning, what to do), and the routes table's trips,
breaks and depots when the snapshot has them: the pure builders, the page in-process (AppTest) and in Chromium."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import layers, queries
from solver.diagnostics import ACTIONS, REASON_CODES

from .conftest import APP_PATH, DAY_2, SERVING_SCHEMAS, DemoSnapshot, app_test, demo_tables, write_snapshot

TIMEOUT_S = 30
LOAD_TIMEOUT_MS = 60_000
EXCEPTION_BOX = '[data-testid="stException"]'

# fmt: off
# Day 2: two Triesen orders that found no room, one Schaan order with too many parcels for any vehicle.
_UNASSIGNED = [
    ("plan-2026-11-27-daily-v2", DAY_2, "D-TRIESEN", "O-2009", "Malbun 40", "9497", "Triesenberg", 47.1030, 9.6090,
     "FLEET_CAPACITY", "every suitable vehicle is too full to take another 12 kg (weight capacity)"),
    ("plan-2026-11-27-daily-v2", DAY_2, "D-TRIESEN", "O-2010", "Im Gapetsch 2", "9494", "Schaan", 47.1690, 9.5100,
     "FLEET_CAPACITY", "every suitable vehicle is too full to take another 4 parcels (parcels capacity)"),
    ("plan-2026-11-27-daily-v2", DAY_2, "D-SCHAAN", "O-2011", "Zollstrasse 9", "9494", "Schaan", 47.1680, 9.5140,
     "TOO_MANY_PARCELS", "has 30 parcels; the largest vehicle holds 20 parcels"),
]
# fmt: on


def _two_reason_tables() -> dict[str, pd.DataFrame]:
    """The demo snapshot without execution data, its day-2 unassigned orders replaced by :data:`_UNASSIGNED`."""
    tables = demo_tables(execution=False)
    unassigned = pd.DataFrame(_UNASSIGNED, columns=SERVING_SCHEMAS["unassigned"].names)
    kpis = tables["plan_kpis"].copy()
    for index, row in kpis.iterrows():
        mask = (unassigned["service_date"] == row["service_date"]) & (unassigned["depot_id"] == row["depot_id"])
        kpis.loc[index, "unassigned"] = int(mask.sum())
    return tables | {"unassigned": unassigned, "plan_kpis": kpis}


@pytest.fixture
def two_reason_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoSnapshot:
    """A published snapshot whose latest date has unassigned orders of two reason codes (2 + 1)."""
    serving_dir = tmp_path / "serving"
    tables = _two_reason_tables()
    snapshot_dir = write_snapshot(
        serving_dir,
        tables,
        snapshot_id="20261127T053000Z-reasons",
        created_at_utc=dt.datetime(2026, 11, 27, 5, 30, tzinfo=dt.UTC),
    )
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(serving_dir))
    return DemoSnapshot(serving_dir=serving_dir, snapshot_dir=snapshot_dir, tables=tables)


def _day_two_routes() -> pd.DataFrame:
    """Day 2's routes as :func:`dashboard.queries.planned_routes` returns them (depot names, no overtime)."""
    tables = demo_tables(execution=False)
    names = tables["depots"][["depot_id", "name"]].rename(columns={"name": "depot_name"})
    return tables["planned_routes"].query("service_date == @DAY_2").merge(names, on="depot_id").reset_index(drop=True)


# --- pure builders ---------------------------------------------------------------------------------------------


def test_groups_count_orders_per_reason_with_meaning_and_action():
    """Most orders first; the meaning and the action are the solver's; a code it does not know keeps its count."""
    unassigned = pd.DataFrame({"reason_code": ["TOO_MANY_PARCELS", "FLEET_CAPACITY", "FLEET_CAPACITY", "OLD_CODE"]})
    groups = layers.unassigned_groups(unassigned)
    assert list(groups.columns) == list(layers.UNASSIGNED_GROUP_COLUMNS)
    assert groups.to_dict("records") == [
        {
            "Reason code": "FLEET_CAPACITY",
            "Orders": 2,
            "Meaning": REASON_CODES["FLEET_CAPACITY"],
            "What to do": ACTIONS["FLEET_CAPACITY"],
        },
        {"Reason code": "OLD_CODE", "Orders": 1, "Meaning": "", "What to do": ""},
        {
            "Reason code": "TOO_MANY_PARCELS",
            "Orders": 1,
            "Meaning": REASON_CODES["TOO_MANY_PARCELS"],
            "What to do": ACTIONS["TOO_MANY_PARCELS"],
        },
    ]


def test_route_table_without_the_new_columns_is_unchanged():
    """Routes from a snapshot without n_reloads, break_start_s and start/end depots: the usual columns only;
    with those columns but no value in them (or every route at its own depot), the same."""
    routes = _day_two_routes()
    assert list(layers.route_table(routes).columns) == list(layers.ROUTE_TABLE_COLUMNS)
    empty = routes.assign(
        n_reloads=pd.array([None] * len(routes), dtype="Int64"),
        break_start_s=pd.array([None] * len(routes), dtype="Int64"),
        start_depot_id=routes["depot_id"],
        end_depot_id="",
    )
    assert list(layers.route_table(empty).columns) == list(layers.ROUTE_TABLE_COLUMNS)


def test_route_table_shows_trips_break_and_depots():
    """1 + n_reloads trips, the break's start as HH:MM (blank without one; with its length when break_s is there),
    and where each route starts and ends
    when one of them leaves its own depot (an empty id is its own depot)."""
    routes = _day_two_routes().assign(
        n_reloads=pd.array([0, 2, None], dtype="Int64"),
        break_start_s=pd.array([12 * 3600 + 15 * 60, None, 11 * 3600], dtype="Int64"),
        start_depot_id=["", "D-SCHAAN", "D-TRIESEN"],
        end_depot_id=["", "D-TRIESEN", ""],
    )
    table = layers.route_table(routes)
    assert list(table.columns) == [*layers.ROUTE_TABLE_COLUMNS, "Trips", "Break", "Start → end depot"]
    with_length = layers.route_table(routes.assign(break_s=pd.array([1800, None, 2700], dtype="Int64")))
    assert with_length["Break"].to_list() == ["12:15 (30 min)", "", "11:00 (45 min)"]
    assert table["Vehicle"].to_list() == ["V-SCH-01", "V-SCH-02", "V-TRI-01"]
    assert table["Trips"].to_list() == [1, 3, pd.NA]
    assert table["Break"].to_list() == ["12:15", "", "11:00"]
    assert table["Start → end depot"].to_list() == [
        "D-SCHAAN → D-SCHAAN",
        "D-SCHAAN → D-TRIESEN",
        "D-TRIESEN → D-TRIESEN",
    ]


# --- the page in-process ---------------------------------------------------------------------------------------


def _run_app() -> AppTest:
    return app_test(APP_PATH, TIMEOUT_S).run()


def test_plan_page_groups_unassigned_orders_by_reason(two_reason_snapshot):
    """All depots on day 2: one box per reason, most orders first, with its count, meaning and action; then the
    table of all three orders with their own reasons."""
    app = _run_app()
    assert not app.exception
    assert [el.value for el in app.subheader][-1] == "Unassigned orders (3)"
    markdown = [el.value for el in app.markdown]
    headings = [text for text in markdown if text.startswith("**")]
    assert headings == ["**FLEET_CAPACITY** · 2 orders", "**TOO_MANY_PARCELS** · 1 order"]
    captions = [el.value for el in app.caption]
    assert REASON_CODES["FLEET_CAPACITY"] in captions and REASON_CODES["TOO_MANY_PARCELS"] in captions
    actions = [text for text in markdown if "What to do" in text]
    assert actions == [
        f":material/lightbulb: **What to do:** {ACTIONS['FLEET_CAPACITY']}",
        f":material/lightbulb: **What to do:** {ACTIONS['TOO_MANY_PARCELS']}",
    ]
    table = next(frame.value for frame in app.dataframe if "Reason code" in frame.value.columns)
    assert table["Order"].to_list() == ["O-2011", "O-2009", "O-2010"]
    assert table["Reason"].to_list()[0] == "has 30 parcels; the largest vehicle holds 20 parcels"


def test_plan_page_reasons_follow_the_depot(two_reason_snapshot):
    """Triesen alone: only its two FLEET_CAPACITY orders, one box."""
    app = _run_app()
    app.selectbox(key="plan_depot").set_value("D-TRIESEN").run()
    assert not app.exception
    assert [el.value for el in app.markdown if el.value.startswith("**")] == ["**FLEET_CAPACITY** · 2 orders"]


def test_plan_page_shows_trips_and_breaks_when_routes_have_them(serving_snapshot, monkeypatch):
    """Routes that carry n_reloads and break_start_s (a newer publisher) add Trips and Break to the routes table;
    the demo snapshot's routes, without them, keep the usual columns."""
    app = _run_app()
    routes_table = next(frame.value for frame in app.dataframe if "Cost (EUR)" in frame.value.columns)
    assert "Trips" not in routes_table.columns and "Break" not in routes_table.columns

    planned_routes = queries.planned_routes

    def with_new_columns(*args, **kwargs) -> pd.DataFrame:
        routes = planned_routes(*args, **kwargs)
        return routes.assign(
            n_reloads=pd.array([1] + [0] * (len(routes) - 1), dtype="Int64"),
            break_start_s=pd.array([12 * 3600] + [None] * (len(routes) - 1), dtype="Int64"),
        )

    monkeypatch.setattr(queries, "planned_routes", with_new_columns)
    app = _run_app()
    assert not app.exception
    routes_table = next(frame.value for frame in app.dataframe if "Cost (EUR)" in frame.value.columns)
    assert routes_table["Trips"].to_list() == [2, 1, 1]
    assert routes_table["Break"].to_list() == ["12:00", "", ""]


# --- the page in Chromium -----------------------------------------------------------------------------------------


@pytest.mark.browser
def test_unassigned_reasons_in_chromium(two_reason_snapshot, streamlit_server, chromium_page, screenshot_dir):
    """In a real browser the Plan page shows both reason boxes with their counts, meanings and actions, and no
    exception box; a screenshot is kept."""
    url = streamlit_server(two_reason_snapshot.serving_dir)
    page = chromium_page
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="Unassigned orders (3)").wait_for(timeout=LOAD_TIMEOUT_MS)
    for code, count in (("FLEET_CAPACITY", "2 orders"), ("TOO_MANY_PARCELS", "1 order")):
        box = page.locator(f".st-key-unassigned_reason_{code}")
        box.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
        text = box.inner_text()
        assert f"{code} · {count}" in text
        assert REASON_CODES[code] in text
        assert f"What to do: {ACTIONS[code]}" in text
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LOAD_TIMEOUT_MS)
    assert page.locator(EXCEPTION_BOX).count() == 0
    page.locator(".st-key-unassigned_reason_FLEET_CAPACITY").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "plan_unassigned_reasons.png")
