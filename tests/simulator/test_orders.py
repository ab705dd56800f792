"""Tests for simulator.orders: reproducible, seasonal, and every order is one the fleet can serve."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from simulator import ORDER_COLUMNS, build_world, expected_orders, generate_orders
from simulator.geography import ENVELOPE

from .conftest import SEED

WINTER_DAY = dt.date(2026, 1, 14)  # CET, +01:00
SUMMER_DAY = dt.date(2026, 7, 15)  # CEST, +02:00
BEFORE_DST_END = dt.date(2026, 10, 24)  # Saturday, last day of CEST
AFTER_DST_END = dt.date(2026, 10, 26)  # Monday after the switch back to CET


@pytest.fixture(scope="module")
def weekday_orders(default_world, sample_weekdays) -> pd.DataFrame:
    """The default world's orders on forty weekdays spread over 2026, concatenated."""
    frames = [generate_orders(default_world, day, SEED) for day in sample_weekdays]
    return pd.concat(frames, ignore_index=True)


def _seconds(stamp: pd.Series) -> pd.Series:
    return stamp.str.slice(11, 13).astype(int) * 3600 + stamp.str.slice(14, 16).astype(int) * 60


def test_same_seed_gives_identical_orders(small_world):
    """Generating a date twice with the same seed gives identical frames."""
    a = generate_orders(small_world, WINTER_DAY, SEED)
    b = generate_orders(small_world, WINTER_DAY, SEED)
    pd.testing.assert_frame_equal(a, b)


def test_different_seed_gives_different_orders(small_world):
    """Another seed gives another set of orders for the same date."""
    a = generate_orders(small_world, WINTER_DAY, SEED)
    b = generate_orders(small_world, WINTER_DAY, SEED + 1)
    assert not a.equals(b)


def test_dates_are_independent(small_world):
    """Date B's orders are the same whether or not date A was generated first (no shared RNG state)."""
    alone = generate_orders(small_world, SUMMER_DAY, SEED)
    generate_orders(small_world, WINTER_DAY, SEED)
    after_other = generate_orders(small_world, SUMMER_DAY, SEED)
    pd.testing.assert_frame_equal(alone, after_other)
    assert not alone.equals(generate_orders(small_world, SUMMER_DAY + dt.timedelta(days=7), SEED))


def test_columns_and_types_follow_the_contract(small_world):
    """The frame has exactly the order file's columns, in order, and unique ids for the date."""
    orders = generate_orders(small_world, WINTER_DAY, SEED)
    assert tuple(orders.columns) == ORDER_COLUMNS
    assert orders["order_id"].is_unique
    assert orders["order_id"].str.startswith("O-20260114-").all()
    assert orders["customer_id"].is_unique
    assert orders["service_date"].eq("2026-01-14").all()
    assert set(orders["order_type"]) <= {"delivery", "pickup"}
    assert set(orders["priority"]) <= {"optional", "normal", "high", "mandatory"}
    assert set(orders["site_type"]) <= {"house", "apartment", "business"}


def test_default_scale_averages_about_1000_orders_on_weekdays(weekday_orders, sample_weekdays):
    """Over forty weekdays spread over a year, the default world averages 1,000 orders a day (+-8%)."""
    assert 920 <= len(weekday_orders) / len(sample_weekdays) <= 1080


def test_small_scale_has_about_60_orders_on_weekdays(small_world, sample_weekdays):
    """The small world averages about 60 orders per weekday (45-75)."""
    counts = [len(generate_orders(small_world, day, SEED)) for day in sample_weekdays[:20]]
    assert 45 <= np.mean(counts) <= 75


def test_weekly_pattern(default_world):
    """Monday is busier than Friday, Saturday is light (under half a weekday), Sunday almost empty."""
    monday = dt.date(2026, 3, 2)
    counts = [len(generate_orders(default_world, monday + dt.timedelta(days=i), SEED)) for i in range(7)]
    assert counts[0] > counts[4]
    assert counts[5] < 0.5 * np.mean(counts[:5])
    assert counts[6] <= 15
    assert expected_orders("default", monday + dt.timedelta(days=6)) < 10


def test_december_peak():
    """A mid-December weekday expects more orders than the same weekday in mid-March."""
    december = expected_orders("default", dt.date(2026, 12, 15))
    assert december > 1.1 * expected_orders("default", dt.date(2026, 3, 17))


def test_windows_are_half_hour_aligned_and_between_8_and_20(weekday_orders):
    """Windowed orders: start < end, 1-4 h long, on half hours, within 08:00-20:00 of the service date."""
    windowed = weekday_orders[weekday_orders["window_start"] != ""]
    start, end = _seconds(windowed["window_start"]), _seconds(windowed["window_end"])
    assert (start < end).all()
    assert ((end - start) // 3600).between(1, 4).all() and ((end - start) % 3600 == 0).all()
    assert (start >= 8 * 3600).all() and (end <= 20 * 3600).all()
    assert (start % 1800 == 0).all()
    assert (windowed["window_start"].str.slice(0, 10) == windowed["service_date"]).all()


def test_window_start_and_end_are_empty_together_for_about_45_percent(weekday_orders):
    """All-day orders leave both window fields empty; they are 40-50% of orders."""
    start_empty = weekday_orders["window_start"] == ""
    assert (start_empty == (weekday_orders["window_end"] == "")).all()
    assert 0.40 <= start_empty.mean() <= 0.50


@pytest.mark.parametrize(
    ("day", "offset"),
    [(WINTER_DAY, "+01:00"), (SUMMER_DAY, "+02:00"), (BEFORE_DST_END, "+02:00"), (AFTER_DST_END, "+01:00")],
)
def test_window_offsets_follow_european_summer_time(default_world, day, offset):
    """Windows carry the Europe/Vaduz offset of their date, +02:00 in summer and +01:00 in winter."""
    orders = generate_orders(default_world, day, SEED)
    windowed = orders[orders["window_start"] != ""]
    assert len(windowed) > 0
    for column in ("window_start", "window_end"):
        assert windowed[column].str.endswith(offset).all()
        parsed = windowed[column].map(dt.datetime.fromisoformat)
        assert parsed.map(lambda t: t.utcoffset() == dt.timedelta(hours=int(offset[1:3]))).all()


def test_evening_windows_exist_but_not_on_saturday(default_world):
    """Weekday windows reach into the evening (end after 18:00); Saturday windows end by 14:00."""
    weekday = generate_orders(default_world, dt.date(2026, 3, 3), SEED)
    saturday = generate_orders(default_world, dt.date(2026, 3, 7), SEED)
    ends = _seconds(weekday.loc[weekday["window_end"] != "", "window_end"])
    assert (ends > 18 * 3600).sum() > 20
    assert (_seconds(saturday.loc[saturday["window_end"] != "", "window_end"]) <= 14 * 3600).all()


def test_created_before_the_service_date(weekday_orders):
    """Every order was placed 1-7 days before its service date, stamped in UTC with a Z."""
    assert weekday_orders["created_at_utc"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    created = pd.to_datetime(weekday_orders["created_at_utc"], utc=True)
    service = pd.to_datetime(weekday_orders["service_date"]).dt.tz_localize("Europe/Vaduz")
    lead = (service - created).dt.total_seconds() / 86_400
    assert (lead > 0).all() and (lead < 8).all()


def test_order_coordinates_lie_in_the_envelope(weekday_orders):
    """Every order is geocoded inside the Liechtenstein / Rhine-valley envelope."""
    assert ENVELOPE.contains(weekday_orders["lat"], weekday_orders["lon"]).all()


def test_every_order_fits_a_vehicle_type_with_its_skills(default_world, weekday_orders):
    """Every order fits, by weight and volume, at least one vehicle type with all its required skills.

    Expected share of orders that fit no vehicle: 0 (pallets stop at 2 x 900 kg; the truck carries 2,500 kg).
    """
    types = default_world.vehicle_types
    for needs, group in weekday_orders.groupby("required_skills"):
        required = set(needs.split())
        capable = [t for t in types if required <= set(t.skills)]
        assert capable, f"no vehicle type has skills {needs!r}"
        fits = np.zeros(len(group), dtype=bool)
        for t in capable:
            fits |= ((group["weight_kg"] <= t.capacity_kg) & (group["volume_l"] <= t.capacity_l)).to_numpy()
        assert fits.all(), needs


def test_skills_required_by_orders_exist_in_the_fleet(default_world, weekday_orders):
    """Orders only ask for skills some vehicle has: tail_lift (~1%) and refrigerated (~1%)."""
    fleet_skills = {s for t in default_world.vehicle_types for s in t.skills}
    asked = {s for needs in weekday_orders["required_skills"] for s in needs.split()}
    assert asked == {"tail_lift", "refrigerated"} <= fleet_skills
    shares = weekday_orders["required_skills"].value_counts(normalize=True)
    assert 0.005 <= shares["tail_lift"] <= 0.025
    assert 0.005 <= shares["refrigerated"] <= 0.02


def test_loads_and_mix_are_plausible(weekday_orders):
    """Mostly single parcels with a tail past 10; median order 1-4 kg; ~5% pickups; a few high priority."""
    parcels = weekday_orders["parcels"]
    assert (parcels >= 1).all() and parcels.median() == 1 and parcels.max() >= 10
    assert 1.0 <= weekday_orders["weight_kg"].median() <= 4.0
    assert (weekday_orders["weight_kg"] > 0).all() and (weekday_orders["volume_l"] > 0).all()
    pickups = (weekday_orders["order_type"] == "pickup").mean()
    assert 0.03 <= pickups <= 0.07
    assert 0.02 <= (weekday_orders["priority"] == "high").mean() <= 0.06
    assert 0.05 <= (weekday_orders["notes"] != "").mean() <= 0.30


def test_tail_lift_orders_are_business_pallets(weekday_orders):
    """Only businesses receive pallets needing a tail lift, and those weigh at least 40 kg."""
    pallets = weekday_orders[weekday_orders["required_skills"] == "tail_lift"]
    assert (pallets["site_type"] == "business").all()
    assert (pallets["weight_kg"] >= 40).all()


def test_customers_repeat_across_days(weekday_orders):
    """Customers come from a fixed base: over forty days many order more than once."""
    repeats = weekday_orders["customer_id"].value_counts()
    assert (repeats > 1).mean() > 0.3


def test_orders_match_the_customer_master(default_world, weekday_orders):
    """An order's address, coordinates and site type are those of its customer."""
    customers = default_world.customers_frame().set_index("customer_id")
    joined = weekday_orders.join(customers, on="customer_id", rsuffix="_customer")
    for column in ("street", "postcode", "town", "lat", "lon", "site_type"):
        assert (joined[column] == joined[f"{column}_customer"]).all(), column


def test_negative_seed_is_rejected(small_world):
    """A negative seed fails with a plain message."""
    with pytest.raises(ValueError, match="non-negative"):
        generate_orders(small_world, WINTER_DAY, -3)


def test_large_scale_has_about_5000_orders_on_a_weekday():
    """The large world expects about 5,000 orders on an average weekday."""
    world = build_world("large", SEED)
    day = dt.date(2026, 3, 11)  # a Wednesday in March: weekday and season factors near 1
    assert 4_300 <= len(generate_orders(world, day, SEED)) <= 5_700


def test_skills_asked_on_a_date_are_on_duty_that_date(default_world):
    """Over two weeks, every skill an order asks for is held by a vehicle working that weekday at each depot
    (no pallets at weekends, when the trucks rest; refrigerated vans work all week)."""
    start = dt.date(2026, 3, 2)
    for offset in range(14):
        day = start + dt.timedelta(days=offset)
        weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
        orders = generate_orders(default_world, day, SEED)
        asked = {s for needs in orders["required_skills"] for s in needs.split()}
        for depot in default_world.depots:
            on_duty = {
                skill
                for v in default_world.vehicles
                if v.depot_id == depot.depot_id and weekday in v.work_days
                for skill in default_world.vehicle_type(v.vehicle_type).skills
            }
            assert asked <= on_duty, (day, depot.depot_id, asked - on_duty)
