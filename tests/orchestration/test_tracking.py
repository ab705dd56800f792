"""Customer tracking in the warehouse (issue 8): tokens (``plans.tracking_tokens``) and the serving table
``tracking`` (status and ETA window per token), on small warehouses built in memory.

The status cases follow docs/tracking.md: planned, out for delivery, delivered, failed, cancelled, not planned.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration import tracking
from orchestration.serving import publish_snapshot
from orchestration.tracking import (
    OUT_FOR_DELIVERY_WINDOW_S,
    PLANNED_WINDOW_S,
    TRACKING_STATUSES,
    WINDOW_ROUNDING_S,
    ensure_tracking_tokens,
    tracking_queries,
)
from tests.dashboard.conftest import write_health_warehouse

DAY = dt.date(2026, 3, 3)
PLAN = "2026-03-03-daily-v1"
REPLAN = "2026-03-03-replan-v1"
TRACKING_COLUMNS = [
    "token", "order_id", "service_date", "street", "postcode", "town", "tw_start_s", "tw_end_s", "status",
    "eta_from_s", "eta_to_s", "delivered_at_s", "updated_at_utc",
]  # fmt: skip
URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


def _h(hours: float) -> int:
    return int(round(hours * 3600))


# The relations the tracking query reads, with the columns it uses (the real marts have more).
_DDL = (
    "create schema marts",
    "create schema plans",
    "create schema intermediate",
    """create table marts.fct_planned_stops (service_date date, plan_id varchar, depot_id varchar, route_id varchar,
        vehicle_id varchar, sequence integer, order_id varchar, customer_id varchar, street varchar, postcode varchar,
        town varchar, tw_start_s integer, tw_end_s integer, arrival_s integer, service_start_s integer,
        departure_s integer, trip integer)""",
    """create table marts.fct_plan_unassigned (service_date date, plan_id varchar, depot_id varchar, order_id varchar,
        customer_id varchar, street varchar, postcode varchar, town varchar, tw_start_s integer, tw_end_s integer,
        reason_code varchar, reason varchar)""",
    """create table plans.stops (plan_id varchar, route_id varchar, vehicle_id varchar, sequence integer,
        order_id varchar, arrival_s integer, service_start_s integer, departure_s integer, trip integer,
        status varchar)""",
)
_LIVE_DDL = (
    """create table plans.live_stops (service_date date, as_of_s integer, plan_id varchar, depot_id varchar,
        vehicle_id varchar, sequence integer, order_id varchar, status varchar, eta_s integer, tw_start_s integer,
        tw_end_s integer)""",
    """create table plans.live_vehicles (service_date date, as_of_s integer, plan_id varchar, depot_id varchar,
        vehicle_id varchar, status varchar)""",
    """create table intermediate.int_live_orders (service_date date, order_id varchar, street varchar,
        postcode varchar, town varchar, tw_start_s integer, tw_end_s integer, status varchar, source varchar,
        changed_at_utc timestamptz)""",
    """create table marts.fct_deliveries (service_date date, order_id varchar, outcome varchar,
        actual_arrival_s integer, actual_departure_s integer, failure_reason varchar)""",
)


class Warehouse:
    """A tiny warehouse in memory: a current plan, optionally live state and actuals, and helpers to fill it."""

    def __init__(self, *, live: bool = True) -> None:
        self.conn = duckdb.connect(":memory:")
        for statement in _DDL + (_LIVE_DDL if live else ()):
            self.conn.execute(statement)

    def stop(
        self,
        order_id: str,
        *,
        vehicle_id: str = "V1",
        sequence: int = 1,
        service_start_s: int = _h(10),
        window: tuple[int, int] = (_h(9), _h(12)),
        status: str = "planned",
        trip: int = 1,
        plan_id: str = PLAN,
        street: str | None = None,
    ) -> None:
        """A stop of the current plan (mart row and ``plans.stops`` row); 5 min on site."""
        route_id = "R-" + vehicle_id
        self.conn.execute(
            "insert into marts.fct_planned_stops "
            "values (?, ?, 'D1', ?, ?, ?, ?, ?, ?, '9490', 'Vaduz', ?, ?, ?, ?, ?, ?)",
            [DAY, plan_id, route_id, vehicle_id, sequence, order_id, "C-" + order_id, street or "Street of " + order_id,
             *window, service_start_s, service_start_s, service_start_s + 300, trip],
        )  # fmt: skip
        self.conn.execute(
            "insert into plans.stops values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [plan_id, route_id, vehicle_id, sequence, order_id, service_start_s, service_start_s,
             service_start_s + 300, trip, status],
        )  # fmt: skip

    def unassigned(self, order_id: str) -> None:
        self.conn.execute(
            "insert into marts.fct_plan_unassigned values (?, ?, 'D1', ?, ?, ?, '9490', 'Vaduz', ?, ?, 'NO_VEHICLE', "
            "'No vehicle with capacity left')",
            [DAY, PLAN, order_id, "C-" + order_id, "Street of " + order_id, _h(9), _h(12)],
        )

    def live_stop(self, order_id: str, status: str, eta_s: int | None, *, vehicle_id: str = "V1",
                  plan_id: str = PLAN, as_of_s: int = _h(9), sequence: int = 1) -> None:  # fmt: skip
        self.conn.execute(
            "insert into plans.live_stops values (?, ?, ?, 'D1', ?, ?, ?, ?, ?, ?, ?)",
            [DAY, as_of_s, plan_id, vehicle_id, sequence, order_id, status, eta_s, _h(9), _h(12)],
        )

    def live_vehicle(self, vehicle_id: str, status: str, *, as_of_s: int = _h(9)) -> None:
        self.conn.execute(
            "insert into plans.live_vehicles values (?, ?, ?, 'D1', ?, ?)", [DAY, as_of_s, PLAN, vehicle_id, status]
        )

    def delivery(self, order_id: str, outcome: str, arrival_s: int | None = None, reason: str | None = None) -> None:
        departure = None if arrival_s is None else arrival_s + 240
        self.conn.execute(
            "insert into marts.fct_deliveries values (?, ?, ?, ?, ?, ?)",
            [DAY, order_id, outcome, arrival_s, departure, reason],
        )

    def cancel(self, order_id: str) -> None:
        self.conn.execute(
            "insert into intermediate.int_live_orders values (?, ?, ?, '9490', 'Vaduz', ?, ?, 'cancelled', 'morning', "
            "now())",
            [DAY, order_id, "Street of " + order_id, _h(9), _h(12)],
        )

    def tracking(self) -> dict[str, dict]:
        """Tokens created, then the tracking table by order id."""
        ensure_tracking_tokens(self.conn)
        frame = self.conn.execute(tracking_queries(self.conn)["tracking"]).fetchdf()
        return {row["order_id"]: row for row in frame.to_dict("records")}

    def tokens(self) -> dict[str, str]:
        return dict(self.conn.execute("select order_id, token from plans.tracking_tokens").fetchall())


@pytest.fixture
def warehouse() -> Warehouse:
    """An empty current plan for 2026-03-03 with room for live state and actuals."""
    return Warehouse()


def _none(value) -> bool:
    return value is None or value != value  # NaN / NA compare unequal to themselves


# --- tokens ----------------------------------------------------------------------------------------------------


def test_new_token_has_256_bits_in_43_url_safe_characters():
    """A token is secrets.token_urlsafe(32): 43 characters of [A-Za-z0-9_-], i.e. 256 bits; all distinct."""
    tokens = [tracking.new_token() for _ in range(5000)]
    assert tracking.TOKEN_BYTES * 8 >= 128
    assert all(len(t) == 43 and URLSAFE.fullmatch(t) and tracking.is_token(t) for t in tokens)
    assert len(set(tokens)) == len(tokens)
    # 43 base64 characters carry 258 bits, of which 256 are random: the last character takes 16 values only.
    assert len({t[0] for t in tokens}) == 64
    assert len({t[-1] for t in tokens}) == 16


def test_tokens_come_from_secrets(warehouse, monkeypatch):
    """Every stored token is one that secrets.token_urlsafe(32) returned (not random, not a hash of the order)."""
    issued: list[str] = []
    real = tracking.secrets.token_urlsafe

    def recording(nbytes):
        assert nbytes == 32
        issued.append(real(nbytes))
        return issued[-1]

    monkeypatch.setattr(tracking.secrets, "token_urlsafe", recording)
    for n in range(5):
        warehouse.stop(f"O-{n}", sequence=n + 1)
    warehouse.unassigned("O-9")
    assert ensure_tracking_tokens(warehouse.conn) == 6
    assert sorted(warehouse.tokens().values()) == sorted(issued)


def test_one_distinct_token_per_order_over_many_orders():
    """2,000 orders on two dates: one token each, all distinct, none containing its order id."""
    conn = duckdb.connect(":memory:")
    conn.execute("create schema marts")
    conn.execute(
        "create table marts.fct_planned_stops as select date '2026-03-03' + cast(i % 2 as integer) as service_date, "
        "'O-' || cast(i as varchar) as order_id from range(2000) as r(i)"
    )
    assert ensure_tracking_tokens(conn) == 2000
    rows = conn.execute("select order_id, service_date, token from plans.tracking_tokens").fetchall()
    tokens = [token for _, _, token in rows]
    assert len(rows) == len(set(tokens)) == 2000
    assert all(tracking.is_token(token) and order_id not in token for order_id, _, token in rows)


def test_tokens_are_stable_across_republish_and_replan(warehouse):
    """A second run creates nothing; a re-plan that moves stops and adds an order keeps every existing token and
    creates exactly one for the new order."""
    warehouse.stop("O-1", sequence=1)
    warehouse.stop("O-2", sequence=2)
    warehouse.unassigned("O-3")
    assert ensure_tracking_tokens(warehouse.conn) == 3
    before = warehouse.tokens()
    assert ensure_tracking_tokens(warehouse.conn) == 0
    assert warehouse.tokens() == before

    # The re-plan becomes the current plan: the marts now hold its stops (O-3 routed, O-1 moved, O-4 new).
    warehouse.conn.execute("delete from marts.fct_planned_stops")
    warehouse.conn.execute("delete from marts.fct_plan_unassigned")
    warehouse.stop("O-1", vehicle_id="V2", plan_id=REPLAN)
    warehouse.stop("O-2", sequence=1, plan_id=REPLAN)
    warehouse.stop("O-3", sequence=2, plan_id=REPLAN)
    warehouse.stop("O-4", sequence=3, plan_id=REPLAN)
    assert ensure_tracking_tokens(warehouse.conn) == 1
    after = warehouse.tokens()
    assert {k: after[k] for k in before} == before
    assert set(after) == {"O-1", "O-2", "O-3", "O-4"}


def test_existing_token_is_never_replaced(warehouse):
    """A token already stored for an order and date is kept as it is; only orders without one get a new one."""
    warehouse.stop("O-1")
    warehouse.stop("O-2", sequence=2)
    kept = "k" * 43
    warehouse.conn.execute("create schema if not exists plans")
    for statement in tracking.TOKENS_DDL:
        warehouse.conn.execute(statement)
    warehouse.conn.execute("insert into plans.tracking_tokens values ('O-1', ?, ?, now())", [DAY, kept])
    assert ensure_tracking_tokens(warehouse.conn) == 1
    tokens = warehouse.tokens()
    assert tokens["O-1"] == kept and tokens["O-2"] != kept
    with pytest.raises(duckdb.ConstraintException):
        warehouse.conn.execute("insert into plans.tracking_tokens values ('O-1', ?, ?, now())", [DAY, "x" * 43])


def test_live_state_orders_get_tokens_too(warehouse):
    """An order placed during the day that no plan holds yet (only in the live state) gets a token."""
    warehouse.live_stop("O-NEW", "unassigned", None, vehicle_id=None)
    assert ensure_tracking_tokens(warehouse.conn) == 1
    assert warehouse.tracking()["O-NEW"]["status"] == "not_planned"


def test_no_tracking_table_before_tokens_exist(warehouse):
    """A warehouse without plans.tracking_tokens publishes no tracking file (older warehouses keep working)."""
    assert tracking_queries(warehouse.conn) == {}
    assert tracking_queries(duckdb.connect(":memory:")) == {}


# --- status and ETA window -------------------------------------------------------------------------------------


def test_planned_stop_gets_an_hour_window_on_quarter_hours(warehouse):
    """Planned: a 60-min window centred on the planned service start, starting on the nearest quarter hour."""
    warehouse.stop("O-1", service_start_s=_h(10) + 7 * 60, window=(_h(8), _h(12)))
    warehouse.stop("O-2", sequence=2, service_start_s=_h(10) + 14 * 60, window=(_h(8), _h(12)))
    rows = warehouse.tracking()
    assert rows["O-1"]["status"] == rows["O-2"]["status"] == "planned"
    assert (rows["O-1"]["eta_from_s"], rows["O-1"]["eta_to_s"]) == (_h(9.5), _h(10.5))
    assert (rows["O-2"]["eta_from_s"], rows["O-2"]["eta_to_s"]) == (_h(9.75), _h(10.75))
    for row in rows.values():
        assert row["eta_to_s"] - row["eta_from_s"] == PLANNED_WINDOW_S
        assert row["eta_from_s"] % WINDOW_ROUNDING_S == 0
        assert _none(row["delivered_at_s"])


def test_eta_window_does_not_open_before_the_delivery_window(warehouse):
    """A stop served right when its window opens gets a window starting then, not half an hour before."""
    warehouse.stop("O-1", service_start_s=_h(9), window=(_h(9), _h(12)))
    row = warehouse.tracking()["O-1"]
    assert (row["eta_from_s"], row["eta_to_s"]) == (_h(9), _h(10))


def test_committed_stop_is_out_for_delivery_with_half_hour_window_from_the_live_eta(warehouse):
    """The live state of the current plan re-timed the stop: its ETA wins over the plan's, window 30 min."""
    warehouse.stop("O-1", service_start_s=_h(10))
    warehouse.live_vehicle("V1", "driving")
    warehouse.live_stop("O-1", "committed", _h(11) + 5 * 60)
    row = warehouse.tracking()["O-1"]
    assert row["status"] == "out_for_delivery"
    assert (row["eta_from_s"], row["eta_to_s"]) == (_h(10.75), _h(11.25))
    assert row["eta_to_s"] - row["eta_from_s"] == OUT_FOR_DELIVERY_WINDOW_S


def test_vehicle_on_the_road_puts_its_current_trip_out_for_delivery_not_the_next(warehouse):
    """With the van driving, the stops of its trip under way are out for delivery; those of its next trip (after a
    reload) are still planned; another van's stops that has not left are planned."""
    warehouse.stop("O-1", sequence=1, trip=1, service_start_s=_h(9.5))
    warehouse.stop("O-2", sequence=2, trip=2, service_start_s=_h(11))
    warehouse.stop("O-3", vehicle_id="V2", service_start_s=_h(10))
    warehouse.live_vehicle("V1", "driving")
    warehouse.live_vehicle("V2", "not_started")
    for order_id, vehicle_id, eta in (("O-1", "V1", _h(9.5)), ("O-2", "V1", _h(11)), ("O-3", "V2", _h(10))):
        warehouse.live_stop(order_id, "planned", eta, vehicle_id=vehicle_id)
    rows = warehouse.tracking()
    assert [rows[o]["status"] for o in ("O-1", "O-2", "O-3")] == ["out_for_delivery", "planned", "planned"]


def test_live_state_of_an_older_plan_does_not_override_the_replan_eta(warehouse):
    """After a re-plan the live state still describes the previous plan: the re-plan's times are the newer ETA."""
    warehouse.stop("O-1", plan_id=REPLAN, service_start_s=_h(11))
    warehouse.live_stop("O-1", "planned", _h(9), plan_id=PLAN)
    row = warehouse.tracking()["O-1"]
    assert (row["status"], row["eta_from_s"], row["eta_to_s"]) == ("planned", _h(10.5), _h(11.5))


def test_delivered_from_live_state_and_from_actuals(warehouse):
    """Delivered: the live state's delivery (its arrival), or the day's actuals (the time the delivery was
    completed); no ETA window then."""
    warehouse.stop("O-1")
    warehouse.stop("O-2", sequence=2)
    warehouse.live_stop("O-1", "delivered", _h(9) + 17 * 60)
    warehouse.delivery("O-2", "delivered", _h(10) + 2 * 60)
    rows = warehouse.tracking()
    assert (rows["O-1"]["status"], rows["O-1"]["delivered_at_s"]) == ("delivered", _h(9) + 17 * 60)
    assert (rows["O-2"]["status"], rows["O-2"]["delivered_at_s"]) == ("delivered", _h(10) + 6 * 60)
    assert all(_none(rows[o]["eta_from_s"]) and _none(rows[o]["eta_to_s"]) for o in ("O-1", "O-2"))


def test_replan_done_stop_counts_as_delivered(warehouse):
    """Without a live row, a re-plan's finished stop (status delivered, actual times) is delivered."""
    warehouse.stop("O-1", plan_id=REPLAN, status="delivered", service_start_s=_h(9.25))
    row = warehouse.tracking()["O-1"]
    assert (row["status"], row["delivered_at_s"]) == ("delivered", _h(9.25) + 300)


def test_failed_attempts_and_not_attempted_orders_are_failed(warehouse):
    """Failed: the live state's failed attempt, the day's failed outcome, or planned but not attempted by the
    day's end; no ETA window, no reason."""
    for n, order_id in enumerate(("O-1", "O-2", "O-3"), start=1):
        warehouse.stop(order_id, sequence=n)
    warehouse.live_stop("O-1", "failed", _h(9.5))
    warehouse.delivery("O-2", "failed", _h(10), reason="not_home")
    warehouse.delivery("O-3", "not_attempted")
    rows = warehouse.tracking()
    for order_id in ("O-1", "O-2", "O-3"):
        assert rows[order_id]["status"] == "failed", order_id
        assert _none(rows[order_id]["eta_from_s"]) and _none(rows[order_id]["delivered_at_s"])


def test_failed_attempt_retried_by_the_replan_is_planned_again(warehouse):
    """A failed stop the re-plan retries later that day shows the retry's window, not the failure."""
    warehouse.stop("O-1", plan_id=REPLAN, sequence=1, status="failed", service_start_s=_h(9))
    warehouse.stop("O-1", plan_id=REPLAN, sequence=4, trip=2, service_start_s=_h(14))
    warehouse.live_stop("O-1", "failed", _h(9), plan_id=PLAN)
    row = warehouse.tracking()["O-1"]
    assert (row["status"], row["eta_from_s"], row["eta_to_s"]) == ("planned", _h(13.5), _h(14.5))


def test_cancelled_orders(warehouse):
    """Cancelled by an order change (even while still in the plan) or in the live state; no ETA."""
    warehouse.stop("O-1")
    warehouse.cancel("O-1")
    warehouse.live_stop("O-2", "cancelled", None, vehicle_id=None)
    rows = warehouse.tracking()
    assert rows["O-1"]["status"] == rows["O-2"]["status"] == "cancelled"
    assert _none(rows["O-1"]["eta_from_s"])


def test_unassigned_order_is_not_planned(warehouse):
    """An order the current plan left unassigned is not planned: its address and window, no ETA."""
    warehouse.unassigned("O-1")
    row = warehouse.tracking()["O-1"]
    assert (row["status"], row["street"], row["tw_start_s"], row["tw_end_s"]) == (
        "not_planned", "Street of O-1", _h(9), _h(12),
    )  # fmt: skip
    assert _none(row["eta_from_s"])


def test_actuals_win_over_live_state(warehouse):
    """What happened (fct_deliveries) is final: a delivered outcome beats a stale live 'planned'."""
    warehouse.stop("O-1")
    warehouse.live_stop("O-1", "planned", _h(10))
    warehouse.delivery("O-1", "delivered", _h(10) + 60)
    assert warehouse.tracking()["O-1"]["status"] == "delivered"


def test_warehouse_without_live_state_or_actuals(tmp_path):
    """A warehouse with plans only (no live tables, no actuals, no order changes) still gives planned rows."""
    plans_only = Warehouse(live=False)
    plans_only.stop("O-1")
    plans_only.unassigned("O-2")
    rows = plans_only.tracking()
    assert {o: r["status"] for o, r in rows.items()} == {"O-1": "planned", "O-2": "not_planned"}


def test_one_row_per_token_with_the_contract_columns(warehouse):
    """Every token once, the contract's columns in order, statuses from the contract's list."""
    warehouse.stop("O-1", plan_id=REPLAN, sequence=1, status="failed")
    warehouse.stop("O-1", plan_id=REPLAN, sequence=2)
    warehouse.stop("O-2", sequence=3)
    warehouse.unassigned("O-3")
    ensure_tracking_tokens(warehouse.conn)
    frame = warehouse.conn.execute(tracking_queries(warehouse.conn)["tracking"]).fetchdf()
    assert list(frame.columns) == TRACKING_COLUMNS
    assert sorted(frame["token"]) == sorted(warehouse.tokens().values()) == frame["token"].to_list()
    assert set(frame["status"]) <= set(TRACKING_STATUSES)


def test_publish_writes_tracking_file_and_keeps_tokens(tmp_path: Path):
    """The publisher writes tracking.parquet (one row per token, the contract's columns) once tokens exist;
    publishing again keeps the same tokens."""
    warehouse = tmp_path / "warehouse.duckdb"
    write_health_warehouse(warehouse, data_health=False)
    with duckdb.connect(str(warehouse)) as conn:
        before = publish_snapshot(conn, tmp_path / "serving")
        assert ensure_tracking_tokens(conn) == 9 + 4
        first = publish_snapshot(conn, tmp_path / "serving")
        assert ensure_tracking_tokens(conn) == 0
        second = publish_snapshot(conn, tmp_path / "serving")
        stored = dict(
            conn.execute("select order_id || '/' || service_date, token from plans.tracking_tokens").fetchall()
        )
    assert "tracking" not in before.row_counts
    tables = [pq.read_table(s.path / "tracking.parquet").to_pandas() for s in (first, second)]
    assert first.row_counts["tracking"] == second.row_counts["tracking"] == 13
    assert list(tables[0].columns) == TRACKING_COLUMNS
    pairs = [
        {f"{o}/{d}": t for o, d, t in zip(table["order_id"], table["service_date"], table["token"], strict=True)}
        for table in tables
    ]
    assert pairs[0] == pairs[1] == stored
