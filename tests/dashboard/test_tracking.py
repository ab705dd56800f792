"""The customer tracking page's logic and security (issue 8): a token shows exactly its own order, anything else
is "not found" (malformed, unknown or SQL-ish tokens, a missing or damaged snapshot), the token reaches DuckDB only
as a bound parameter, no module of the feature builds SQL by formatting, and the texts the customer reads.

The snapshot is published by the real publisher from the demo warehouse (``write_health_warehouse``) after the
tokens were created, as the serving asset does.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import tracking as dashboard_tracking
from dashboard.tracking import (
    NOT_FOUND_MESSAGE,
    NOT_FOUND_TITLE,
    Tracking,
    describe,
    find_tracking,
    format_day,
    tracking_url,
)
from orchestration import tracking as orchestration_tracking
from orchestration.serving import publish_snapshot
from orchestration.tracking import TRACKING_STATUSES, ensure_tracking_tokens

from .conftest import DAY_2, TRACKING_APP, app_test, write_health_warehouse
from .doubles import record_sql

UNKNOWN_TOKEN = "A" * 43


@dataclasses.dataclass(frozen=True)
class TrackingSnapshot:
    """A published snapshot with a tracking table, and the token of each (order id, date)."""

    serving_dir: Path
    snapshot_dir: Path
    tokens: dict[tuple[str, dt.date], str]

    def token(self, order_id: str, service_date: dt.date = DAY_2) -> str:
        return self.tokens[(order_id, service_date)]


def publish_with_tokens(root: Path) -> TrackingSnapshot:
    """The demo warehouse (2 days, 13 orders, day 2 played out) with tokens, published under ``root/serving``."""
    warehouse = root / "warehouse.duckdb"
    write_health_warehouse(warehouse, data_health=False)
    with duckdb.connect(str(warehouse)) as conn:
        ensure_tracking_tokens(conn)
        # Day 2 is still under way: no actuals for it yet, so its statuses come from the plan.
        conn.execute("delete from marts.fct_deliveries where service_date = ?", [DAY_2])
        published = publish_snapshot(conn, root / "serving")
        rows = conn.execute("select order_id, service_date, token from plans.tracking_tokens").fetchall()
    return TrackingSnapshot(root / "serving", published.path, {(o, d): t for o, d, t in rows})


@pytest.fixture
def tracking_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrackingSnapshot:
    """The demo snapshot with tracking, of this test alone (it may change it), LASTMILE_SERVING_DIR set to it."""
    snapshot = publish_with_tokens(tmp_path)
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(snapshot.serving_dir))
    return snapshot


@pytest.fixture(scope="module")
def _module_tracking_snapshot(tmp_path_factory: pytest.TempPathFactory) -> TrackingSnapshot:
    return publish_with_tokens(tmp_path_factory.mktemp("tracking"))


@pytest.fixture
def shared_snapshot(_module_tracking_snapshot, monkeypatch: pytest.MonkeyPatch) -> TrackingSnapshot:
    """The demo snapshot with tracking, shared by this module's read-only tests, LASTMILE_SERVING_DIR set to it."""
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(_module_tracking_snapshot.serving_dir))
    return _module_tracking_snapshot


# --- lookup ----------------------------------------------------------------------------------------------------


def test_a_token_shows_exactly_its_own_order(shared_snapshot):
    """Two orders of two customers: each token gives its own order and address, never the other's."""
    first = find_tracking(shared_snapshot.token("O-2001"))
    second = find_tracking(shared_snapshot.token("O-2006"))
    assert (first.order_id, first.street, first.postcode, first.town) == ("O-2001", "Zollstrasse 2", "9494", "Schaan")
    assert (second.order_id, second.street, second.town) == ("O-2006", "Dorfstrasse 24", "Triesen")
    for mine, other in ((first, second), (second, first)):
        shown = repr(mine) + repr(describe(mine))
        assert other.order_id not in shown and other.street not in shown and other.town not in shown


def test_every_token_finds_its_order(shared_snapshot):
    """All 13 tokens resolve, each to the order and date it was made for."""
    for (order_id, service_date), token in shared_snapshot.tokens.items():
        found = find_tracking(token)
        assert (found.order_id, found.service_date) == (order_id, service_date)
        assert found.status in TRACKING_STATUSES


def test_the_customer_sees_no_other_personal_data():
    """What a lookup returns is the order's own address, window, status and times: no customer id, coordinates,
    notes, vehicle, driver or failure reason."""
    fields = {field.name for field in dataclasses.fields(Tracking)}
    assert fields == {
        "order_id", "service_date", "street", "postcode", "town", "tw_start_s", "tw_end_s", "status", "eta_from_s",
        "eta_to_s", "delivered_at_s", "updated_at_utc",
    }  # fmt: skip


def test_status_and_window_on_the_demo_day(shared_snapshot):
    """Day 1 was played out (delivered at the completion time / failed), day 2 is planned (an ETA window),
    its unassigned order not planned."""
    delivered = find_tracking(shared_snapshot.token("O-1001", DAY_2 - dt.timedelta(days=1)))
    assert (delivered.status, delivered.delivered_at_s, delivered.eta_from_s) == ("delivered", 8 * 3600 + 900, None)
    failed = find_tracking(shared_snapshot.token("O-1004", DAY_2 - dt.timedelta(days=1)))
    assert failed.status == "failed"
    planned = find_tracking(shared_snapshot.token("O-2002"))
    assert planned.status == "planned"
    assert planned.eta_to_s - planned.eta_from_s == 3600 and planned.eta_from_s % 900 == 0
    assert find_tracking(shared_snapshot.token("O-2009")).status == "not_planned"


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        42,
        "O-2001",
        "A" * 42,
        "A" * 44,
        "' or '1'='1",
        "' or 1=1 --" + "A" * 32,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'--",
        "A" * 42 + "'",
        "A" * 42 + "%",
        "A" * 42 + "\n",
        "A" * 41 + "é1",
        "x'; drop table tracking; --",
        UNKNOWN_TOKEN,
    ],
)
def test_malformed_unknown_and_sql_like_tokens_are_not_found(shared_snapshot, token):
    """Anything that is not a stored token finds nothing (and raises nothing)."""
    assert find_tracking(token) is None


def test_a_malformed_token_is_never_queried(shared_snapshot, monkeypatch):
    """The strict pattern is checked before any DuckDB connection is opened."""

    def no_connection(*args, **kwargs):
        raise AssertionError("a malformed token reached DuckDB")

    monkeypatch.setattr(dashboard_tracking.duckdb, "connect", no_connection)
    for token in ("' or '1'='1", "A" * 42 + "'", "../" * 14 + "A", "A" * 100):
        assert find_tracking(token) is None


def test_the_token_is_bound_not_formatted(shared_snapshot, monkeypatch):
    """The lookup is one query, ``where token = $token``, with the token (and path) as bound parameters."""
    executed = record_sql(monkeypatch, dashboard_tracking)
    token = shared_snapshot.token("O-2003")
    assert find_tracking(token).order_id == "O-2003"
    assert find_tracking(UNKNOWN_TOKEN) is None
    assert len(executed) == 2
    for (sql, parameters), expected in zip(executed, (token, UNKNOWN_TOKEN), strict=True):
        assert "where token = $token" in sql
        assert expected not in sql and str(shared_snapshot.snapshot_dir) not in sql
        assert parameters["token"] == expected


def test_nothing_published_is_not_found(tmp_path, monkeypatch):
    """Before the first publish, any token is "not found"."""
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(tmp_path / "nothing"))
    assert find_tracking(UNKNOWN_TOKEN) is None


def test_snapshot_without_tracking_file_is_not_found(tracking_snapshot):
    """A snapshot from a publisher without tracking (or the file gone) finds nothing."""
    token = tracking_snapshot.token("O-2001")
    (tracking_snapshot.snapshot_dir / "tracking.parquet").unlink()
    assert find_tracking(token) is None


def test_damaged_tracking_file_is_not_found(tracking_snapshot):
    """A truncated Parquet file is "not found", not an exception."""
    token = tracking_snapshot.token("O-2001")
    path = tracking_snapshot.snapshot_dir / "tracking.parquet"
    path.write_bytes(path.read_bytes()[:200])
    assert find_tracking(token) is None


def test_damaged_snapshot_pointer_is_not_found(tracking_snapshot):
    """CURRENT naming a folder that is not there is "not found"."""
    token = tracking_snapshot.token("O-2001")
    (tracking_snapshot.serving_dir / "CURRENT").write_text("../../etc\n", encoding="utf-8")
    assert find_tracking(token) is None


def test_a_new_publish_shows_up_without_changing_the_link(tracking_snapshot):
    """Looked up again after a re-publish, the same token gives the same order (tokens are stable)."""
    token = tracking_snapshot.token("O-2005")
    assert find_tracking(token).status == "planned"
    warehouse = tracking_snapshot.serving_dir.parent / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "insert into marts.fct_deliveries (service_date, order_id, outcome, actual_arrival_s, "
            "actual_departure_s) values (?, 'O-2005', 'delivered', 40000, 40300)",
            [DAY_2],
        )
        ensure_tracking_tokens(conn)
        publish_snapshot(conn, tracking_snapshot.serving_dir)
    again = find_tracking(token)
    assert (again.order_id, again.status, again.delivered_at_s) == ("O-2005", "delivered", 40300)


# --- link --------------------------------------------------------------------------------------------------------


def test_tracking_url(monkeypatch):
    """The link carries the token as ``?t=``, on LASTMILE_TRACKING_URL, an explicit base or localhost:8502."""
    token = orchestration_tracking.new_token()
    monkeypatch.delenv("LASTMILE_TRACKING_URL", raising=False)
    assert tracking_url(token) == f"http://localhost:8502/?t={token}"
    monkeypatch.setenv("LASTMILE_TRACKING_URL", "https://track.example.li/")
    assert tracking_url(token) == f"https://track.example.li/?t={token}"
    assert tracking_url(token, base_url="https://other.example") == f"https://other.example/?t={token}"
    for bad in ("O-2001", "A" * 42 + "'", ""):
        with pytest.raises(ValueError, match="not a tracking token"):
            tracking_url(bad)


# --- texts -------------------------------------------------------------------------------------------------------


def _tracking(status: str, **changes) -> Tracking:
    base = Tracking(
        order_id="O-1",
        service_date=dt.date(2026, 11, 27),
        street="Zollstrasse 2",
        postcode="9494",
        town="Schaan",
        tw_start_s=9 * 3600,
        tw_end_s=12 * 3600,
        status=status,
        eta_from_s=None,
        eta_to_s=None,
        delivered_at_s=None,
        updated_at_utc=pd.Timestamp("2026-11-27 08:05", tz="UTC"),
    )
    return dataclasses.replace(base, **changes)


def test_planned_text_shows_the_eta_window_in_local_time():
    """Planned: the ETA window as local clock times, the day, address and window; updated time in Vaduz time."""
    view = describe(_tracking("planned", eta_from_s=10 * 3600 + 900, eta_to_s=11 * 3600 + 900))
    assert (view.headline, view.time_label, view.time_text) == ("Your delivery is planned", "Expected between",
                                                                "10:15–11:15")  # fmt: skip
    assert "on Friday 27 November 2026 between 10:15 and 11:15" in view.message
    assert view.day_text == "Friday 27 November 2026"
    assert view.address == "Zollstrasse 2, 9494 Schaan" and view.window_text == "09:00–12:00"
    assert view.updated_text == "27 Nov 2026, 09:05"  # 08:05 UTC is 09:05 CET


def test_updated_time_follows_summer_time():
    """In summer Vaduz is UTC+2."""
    view = describe(_tracking("planned", updated_at_utc=pd.Timestamp("2026-07-01 08:05", tz="UTC")))
    assert view.updated_text == "01 Jul 2026, 10:05"


def test_out_for_delivery_text():
    """Out for delivery: on the vehicle, with its (30-min) window."""
    view = describe(_tracking("out_for_delivery", eta_from_s=10 * 3600, eta_to_s=10 * 3600 + 1800))
    assert view.headline == "Your parcel is on its way" and view.time_text == "10:00–10:30"
    assert "between 10:00 and 10:30" in view.message and view.tone == "info"


def test_planned_without_eta_says_the_time_will_follow():
    """No ETA yet (a broken-down van before the re-plan): no time shown, a sentence saying it will follow."""
    view = describe(_tracking("planned"))
    assert view.time_text == "" and "as soon as we know it" in view.message


def test_delivered_text_shows_the_delivery_time():
    """Delivered: the local time of the delivery, no window."""
    view = describe(_tracking("delivered", delivered_at_s=10 * 3600 + 12 * 60))
    assert (view.headline, view.time_label, view.time_text, view.tone) == (
        "Delivered", "Delivered at", "10:12", "success",
    )  # fmt: skip


def test_failed_text_says_what_happens_next_without_internal_reasons():
    """Failed: a plain sentence on what happens next (we contact you / customer service), no reason code."""
    view = describe(_tracking("failed"))
    assert view.headline == "We could not deliver your parcel" and view.time_text == ""
    assert "contact you" in view.message and "customer service" in view.message
    assert not re.search(r"not_home|refused|reason|_", view.message)


def test_cancelled_and_not_planned_texts():
    """Cancelled: say so and whom to ask; not planned: we have the order, the time will follow."""
    cancelled = describe(_tracking("cancelled"))
    assert cancelled.headline == "This delivery was cancelled" and cancelled.tone == "error"
    not_planned = describe(_tracking("not_planned"))
    assert not_planned.headline == "We are scheduling your delivery" and "no delivery time yet" in not_planned.message


def test_unknown_status_is_an_error():
    """A status outside the contract is a programming error, not a silent text."""
    with pytest.raises(ValueError, match="unknown tracking status 'lost'"):
        describe(_tracking("lost"))


def test_format_day():
    assert format_day(dt.date(2026, 3, 3)) == "Tuesday 3 March 2026"


# --- the app in-process -----------------------------------------------------------------------------------------


def _run(token: str | None) -> AppTest:
    app = app_test(TRACKING_APP, 30)
    if token is not None:
        app.query_params["t"] = token
    return app.run()


def _text(app: AppTest) -> str:
    parts = [e.value for e in (*app.title, *app.markdown, *app.caption, *app.info, *app.success, *app.warning)]
    return "\n".join(str(p) for p in parts)


def test_app_shows_the_order_of_the_link(shared_snapshot):
    """A real link: headline, window, the customer's own address; no other order's address; no exception."""
    app = _run(shared_snapshot.token("O-2004"))
    assert not app.exception
    text = _text(app)
    assert "Your delivery is planned" in text and "Städtle 15" in text
    assert "Zollstrasse" not in text and "Malbun" not in text
    assert [m.label for m in app.metric] == ["Expected between"]


@pytest.mark.parametrize("token", [None, "", "' or '1'='1", UNKNOWN_TOKEN])
def test_app_says_not_found_for_bad_links(shared_snapshot, token):
    """No token, a bad one or an unknown one: the plain "not found", nothing else, no exception."""
    app = _run(token)
    assert not app.exception
    assert [t.value for t in app.title] == [NOT_FOUND_TITLE]
    assert NOT_FOUND_MESSAGE in _text(app)
    assert not app.metric


def test_app_without_snapshot_says_not_found(tmp_path, monkeypatch):
    """Nothing published: still "not found", no exception and no hint at the server's folders."""
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(tmp_path / "nothing"))
    app = _run(UNKNOWN_TOKEN)
    assert not app.exception
    assert [t.value for t in app.title] == [NOT_FOUND_TITLE]
    assert str(tmp_path) not in _text(app)


# --- no SQL from formatting ----------------------------------------------------------------------------------------

TRACKING_MODULES = [dashboard_tracking, orchestration_tracking]
_SQL_WORDS = re.compile(r"\b(select|where|insert|delete|union|join|values|read_parquet)\b", re.IGNORECASE)
_EXECUTING = {"execute", "executemany", "sql", "query"}


def _formatted_texts(tree: ast.AST):
    """(node, literal text) of every f-string, ``str.format`` call and ``%`` formatting in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield node, "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            if isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
                yield node, node.func.value.value
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            yield node, node.left.value


@pytest.mark.parametrize("path", [m.__file__ for m in TRACKING_MODULES] + [str(TRACKING_APP)], ids=Path)
def test_no_sql_is_built_by_formatting(path):
    """In the tracking modules no f-string, str.format or % formatting produces SQL, and nothing executed is
    formatted text: values reach DuckDB as bound parameters (the SQL pieces are this code's own constants)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node, text in _formatted_texts(tree):
        assert not _SQL_WORDS.search(text), f"{path}:{node.lineno} formats SQL: {text!r}"
    for node in ast.walk(tree):
        executes = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _EXECUTING
        if executes and node.args:
            sql = node.args[0]
            assert not isinstance(sql, ast.JoinedStr), f"{path}:{node.lineno} executes an f-string"
            assert not (isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod)), f"{path}:{node.lineno}"
            assert not (
                isinstance(sql, ast.Call) and isinstance(sql.func, ast.Attribute) and sql.func.attr == "format"
            ), f"{path}:{node.lineno} executes str.format output"


def test_the_formatting_check_catches_formatted_sql():
    """The check above is not vacuous: it flags the usual ways of formatting a token into SQL."""
    for source in (
        "conn.execute(f\"select * from t where token = '{token}'\")",
        "conn.execute(\"select * from t where token = '{}'\".format(token))",
        "conn.execute(\"select * from t where token = '%s'\" % token)",
    ):
        texts = [text for _, text in _formatted_texts(ast.parse(source))]
        assert texts and all(_SQL_WORDS.search(text) for text in texts), source


def test_lookup_query_is_a_constant_with_bound_parameters():
    """The lookup's SQL is one module constant filtering on ``$token``."""
    assert "where token = $token" in dashboard_tracking._LOOKUP_SQL
    assert "read_parquet($path)" in dashboard_tracking._LOOKUP_SQL
