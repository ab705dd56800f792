"""What a vehicle on the road has on board (orchestration.live_state): the deliveries it left its depot with, in
the plan version in force then, less those done; a later re-plan that leaves a parcel out does not unload it."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from orchestration.live_state import _loaded_at_departure, _on_board
from orchestration.plan_store import ensure_plans_schema
from solver import Order, PlannedStop

DATE = "2026-03-03"
HOUR = 3600


def _order(order_id: str, **kwargs) -> Order:
    return Order(order_id, 47.1, 9.5, 1000, 1000, 120, 8 * HOUR, 20 * HOUR, **kwargs)


ORDERS = {o: _order(o) for o in ("A", "B", "C", "D", "E", "F")}
ORDERS["P"] = _order("P", order_type="pickup")


def _store(conn, plan_id: str, kind: str, version: int, as_of_s: int | None, stops: list[tuple]) -> None:
    """One valid plan version: stops as (vehicle, sequence, order, trip, status)."""
    conn.execute(
        "insert into plans.plan_runs (plan_id, service_date, kind, version, created_at_utc, status, as_of_s) "
        "values (?, ?, ?, ?, timestamptz '2026-03-03 06:00:00+00' + to_seconds(?), 'valid', ?)",
        [plan_id, DATE, kind, version, version * 60, as_of_s],
    )
    for vehicle, sequence, order_id, trip, status in stops:
        conn.execute(
            "insert into plans.stops (plan_id, vehicle_id, sequence, order_id, trip, status) values (?, ?, ?, ?, ?, ?)",
            [plan_id, vehicle, sequence, order_id, trip, status],
        )


def _vehicles(*rows) -> pd.DataFrame:
    """(vehicle, last departure, last return, broken down) per vehicle."""
    return pd.DataFrame(rows, columns=["vehicle_id", "last_departure_s", "last_return_s", "broken_down_s"]).astype(
        {"last_departure_s": float, "last_return_s": float, "broken_down_s": float}
    )


def _status(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["order_id", "status", "status_s"]).astype({"status_s": float})


@pytest.fixture
def warehouse():
    """V1 left at 08:00 under the morning plan with A, B, C (trip 1; D on trip 2); a re-plan at 10:00 leaves C out
    of V1's route and gives it to V2, which left at 07:30 with E. V3 is back at its depot."""
    conn = duckdb.connect()
    ensure_plans_schema(conn)
    _store(
        conn,
        "daily-v1",
        "daily",
        1,
        None,
        [
            ("V1", 1, "A", 1, "planned"),
            ("V1", 2, "B", 1, "planned"),
            ("V1", 3, "P", 1, "planned"),
            ("V1", 4, "C", 1, "planned"),
            ("V1", 5, "D", 2, "planned"),
            ("V2", 1, "E", 1, "planned"),
            ("V3", 1, "F", 1, "planned"),
        ],
    )
    _store(
        conn,
        "replan-v1",
        "replan",
        2,
        10 * HOUR,
        [
            ("V1", 1, "A", 1, "delivered"),
            ("V1", 2, "B", 1, "committed"),
            ("V1", 3, "D", 2, "planned"),
            ("V2", 1, "E", 1, "committed"),
            ("V2", 2, "C", 1, "planned"),
        ],
    )
    yield conn
    conn.close()


def test_a_vehicle_keeps_what_it_left_with_when_a_later_replan_drops_it(warehouse):
    """At 10:30, V1 left with A, B and C (the pickup P and trip 2's D were not loaded; A was delivered since), although
    the current re-plan has C on V2: V2 left before that re-plan, with E alone. V3, back at its depot, holds nothing.
    (Read from the current plan, C counted as waiting at the depot, and V2 was sent to deliver a parcel it never
    had.)"""
    vehicles = _vehicles(("V1", 8 * HOUR, None, None), ("V2", 7.5 * HOUR, None, None), ("V3", 8 * HOUR, 9 * HOUR, None))
    status = _status(("A", "delivered", 9 * HOUR))
    loaded = _loaded_at_departure(warehouse, DATE, vehicles, status, ORDERS)
    assert loaded == {"V1": ("A", "B", "C"), "V2": ("E",)}


def test_the_plan_in_force_at_the_departure_decides(warehouse):
    """V1 leaves again at 11:00, after the 10:00 re-plan: it loaded that version's trip (D alone)."""
    vehicles = _vehicles(("V1", 11 * HOUR, 10.9 * HOUR, None))
    status = _status(("A", "delivered", 9 * HOUR), ("B", "delivered", 10.2 * HOUR))
    assert _loaded_at_departure(warehouse, DATE, vehicles, status, ORDERS) == {"V1": ("D",)}


def test_an_order_two_vehicles_would_hold_goes_with_the_one_that_left_last(warehouse):
    """Two plans disagree (V2 left at 10:15 under the re-plan that has C on it, V1 at 08:00 with C loaded under
    the morning plan): C is on V2, the later departure, and on one vehicle only."""
    vehicles = _vehicles(("V1", 8 * HOUR, None, None), ("V2", 10.25 * HOUR, 10.2 * HOUR, None))
    loaded = _loaded_at_departure(warehouse, DATE, vehicles, _status(), ORDERS)
    assert loaded["V2"] == ("E", "C") and "C" not in loaded["V1"]


def test_on_board_is_the_load_at_departure_less_what_is_done_or_cancelled():
    """The current plan serves B then A; C was left out by it; D was cancelled; E is done."""
    remaining = [PlannedStop("B", 1, 0, 0, 0, 0, 0, 0, trip=1), PlannedStop("A", 2, 0, 0, 0, 0, 0, 0, trip=1)]
    board = _on_board(None, ORDERS, remaining, {"E"}, ("A", "B", "C", "D", "E"), frozenset({"D"}))
    assert board == ("B", "A", "C")
    # Without a known load: the current plan's trip, as before.
    assert _on_board(None, ORDERS, remaining, {"E"}) == ("B", "A")
