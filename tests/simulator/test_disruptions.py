"""Scenarios of disruptions: seeded, of the kinds and sizes their names promise, and their order changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from simulator import SCENARIO_NAMES, generate_orders, scenario
from simulator.disruptions import (
    CHANGE_COLUMNS,
    Breakdown,
    Cancellation,
    HeavyRain,
    LateStart,
    NewOrder,
    WindowChange,
)
from simulator.fleet import WEEKDAYS
from simulator.orders import ORDER_COLUMNS

DAY = dt.date(2026, 3, 3)  # a Tuesday in winter: offsets +01:00
HOUR = 3600


@pytest.fixture(scope="module")
def morning_orders(default_world):
    """The default world's orders of the Tuesday (about 1,100), as the scenarios draw from them."""
    return generate_orders(default_world, DAY, default_world.seed)


def _local_s(stamp: str) -> int:
    local = dt.datetime.fromisoformat(stamp)
    return local.hour * HOUR + local.minute * 60 + local.second


def _utc_to_local_s(stamps: pd.Series) -> np.ndarray:
    local = pd.to_datetime(stamps, utc=True).dt.tz_convert("Europe/Vaduz")
    return (local.dt.hour * HOUR + local.dt.minute * 60 + local.dt.second).to_numpy()


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_scenarios_are_deterministic_by_seed_and_differ_across_seeds(default_world, morning_orders, name):
    """Equal arguments give an equal scenario; another seed draws other disruptions."""
    first = scenario(default_world, DAY, name, 4, orders=morning_orders)
    assert first == scenario(default_world, DAY, name, 4, orders=morning_orders)
    assert first.disruptions != scenario(default_world, DAY, name, 5, orders=morning_orders).disruptions
    assert first.name == name and first.service_date == DAY and first.disruptions
    assert [d.at_s for d in first.disruptions] == sorted(d.at_s for d in first.disruptions)


def test_late_start_delays_a_quarter_of_the_working_vans_by_30_to_60_minutes(default_world, morning_orders):
    """Vans working that day, each at most once, at its shift start, 30-60 min late."""
    late = scenario(default_world, DAY, "late_start", 1, orders=morning_orders).disruptions
    working = {v.vehicle_id: v for v in default_world.vehicles if WEEKDAYS[DAY.weekday()] in v.work_days}
    assert all(isinstance(d, LateStart) for d in late)
    assert len({d.vehicle_id for d in late}) == len(late) == round(0.25 * len(working))
    for d in late:
        shift = working[d.vehicle_id].shift_start
        assert d.at_s == int(shift[:2]) * HOUR + int(shift[3:]) * 60
        assert 30 * 60 <= d.delay_s <= 60 * 60


def test_new_orders_are_real_customers_placed_late_morning_with_later_windows(default_world, morning_orders):
    """8-10% more orders, received 10:00-13:00, by customers without a morning order, every order column
    filled as the generator does; a window opens at least 2 h after the order and ends by 20:00."""
    new = scenario(default_world, DAY, "new_orders", 2, orders=morning_orders).disruptions
    assert all(isinstance(d, NewOrder) for d in new)
    assert 0.08 * len(morning_orders) - 1 <= len(new) <= 0.10 * len(morning_orders) + 1
    ids = [d.order_id for d in new]
    assert len(set(ids)) == len(ids) and not set(ids) & set(morning_orders["order_id"])
    customers = {c.customer_id: c for c in default_world.customers}
    assert not {d.order["customer_id"] for d in new} & set(morning_orders["customer_id"])
    windowed = 0
    for d in new:
        assert set(d.order) >= set(ORDER_COLUMNS)
        assert 10 * HOUR <= d.at_s < 13 * HOUR
        customer = customers[d.order["customer_id"]]
        assert (d.order["lat"], d.order["lon"], d.order["street"]) == (customer.lat, customer.lon, customer.street)
        assert d.order["service_date"] == DAY.isoformat() and d.order["window2_start"] == ""
        assert _utc_to_local_s(pd.Series([d.order["created_at_utc"]]))[0] == d.at_s
        if d.order["window_start"]:
            windowed += 1
            assert _local_s(d.order["window_start"]) >= d.at_s + 2 * HOUR
            assert _local_s(d.order["window_end"]) <= 20 * HOUR
    assert windowed > len(new) / 2


def test_cancellations_withdraw_five_percent_in_the_morning_before_their_window(default_world, morning_orders):
    """5% of the orders, between 07:00 and 12:00, each at least an hour before its window opens."""
    cancels = scenario(default_world, DAY, "cancellations", 3, orders=morning_orders).disruptions
    assert all(isinstance(d, Cancellation) for d in cancels)
    assert len({d.order_id for d in cancels}) == len(cancels) == round(0.05 * len(morning_orders))
    window_start = morning_orders.set_index("order_id")["window_start"]
    for d in cancels:
        assert 7 * HOUR <= d.at_s < 12 * HOUR
        assert d.at_s <= _local_s(window_start[d.order_id]) - HOUR


def test_window_changes_move_windows_two_to_four_hours_later_with_notice(default_world, morning_orders):
    """5% of the orders: the same length 2-4 h later, asked at least an hour before the old window opens."""
    changes = scenario(default_world, DAY, "window_changes", 4, orders=morning_orders).disruptions
    assert all(isinstance(d, WindowChange) for d in changes)
    assert len(changes) == round(0.05 * len(morning_orders))
    old = morning_orders.set_index("order_id")
    for d in changes:
        start, end = _local_s(old.loc[d.order_id, "window_start"]), _local_s(old.loc[d.order_id, "window_end"])
        assert 2 * HOUR <= d.tw_start_s - start <= 4 * HOUR
        assert d.tw_end_s - d.tw_start_s == end - start
        assert 7 * HOUR <= d.at_s <= start - HOUR
        assert d.tw_end_s <= 20 * HOUR


def test_breakdown_and_heavy_rain_happen_once_at_their_hours(default_world, morning_orders):
    """One working van breaks down between 10:00 and 12:00; heavy rain starts 11:30-12:30 for 3-5 h."""
    (breakdown,) = scenario(default_world, DAY, "breakdown", 5, orders=morning_orders).disruptions
    assert isinstance(breakdown, Breakdown) and 10 * HOUR <= breakdown.at_s < 12 * HOUR
    working = {v.vehicle_id for v in default_world.vehicles if WEEKDAYS[DAY.weekday()] in v.work_days}
    assert breakdown.vehicle_id in working
    (rain,) = scenario(default_world, DAY, "heavy_rain", 5, orders=morning_orders).disruptions
    assert isinstance(rain, HeavyRain)
    assert 11.5 * HOUR <= rain.at_s < 12.5 * HOUR and 3 * HOUR <= rain.until_s - rain.at_s <= 5 * HOUR


def test_mixed_has_a_bit_of_everything(default_world, morning_orders):
    """Every kind appears, in smaller doses than in its own scenario."""
    mixed = scenario(default_world, DAY, "mixed", 6, orders=morning_orders)
    kinds = {d.kind for d in mixed.disruptions}
    assert kinds == {"late_start", "new", "cancel", "window", "breakdown", "heavy_rain"}
    assert len(mixed.of_kind("new")) < 0.06 * len(morning_orders)
    assert len(mixed.of_kind("late_start")) == 1 and len(mixed.of_kind("breakdown")) == 1


def test_order_changes_have_the_contract_columns_and_carry_the_change(default_world, morning_orders):
    """One row per change in order of receipt: a new order with every column, a cancel with only its id and date,
    a window change with the new window as local ISO times."""
    mixed = scenario(default_world, DAY, "mixed", 7, orders=morning_orders)
    changes = mixed.order_changes(default_world.timezone)
    assert list(changes.columns) == list(CHANGE_COLUMNS)
    assert changes["change_id"].is_unique
    received = _utc_to_local_s(changes["received_at_utc"])
    assert (np.diff(received) >= 0).all()
    assert (changes["service_date"] == DAY.isoformat()).all()
    by_type = changes.groupby("change_type").size().to_dict()
    assert by_type == {
        "new": len(mixed.of_kind("new")),
        "cancel": len(mixed.of_kind("cancel")),
        "window": len(mixed.of_kind("window")),
    }
    cancels = changes[changes["change_type"] == "cancel"]
    assert (cancels["customer_id"] == "").all() and (cancels["window_start"] == "").all()
    new = changes[changes["change_type"] == "new"]
    assert (new["customer_id"] != "").all() and (new["street"] != "").all()
    for d in mixed.of_kind("window"):
        row = changes[(changes["change_type"] == "window") & (changes["order_id"] == d.order_id)].iloc[0]
        assert (_local_s(row["window_start"]), _local_s(row["window_end"])) == (d.tw_start_s, d.tw_end_s)
        assert row["window_start"].endswith("+01:00")


def test_unknown_scenario_and_negative_seed_are_rejected(default_world, morning_orders):
    """Plain ValueErrors naming the problem."""
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario(default_world, DAY, "meteor", 1, orders=morning_orders)
    with pytest.raises(ValueError, match="seed"):
        scenario(default_world, DAY, "breakdown", -1, orders=morning_orders)
