"""Tests for simulator.world: the world is deterministic, plausible and its fleet fits the demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator import SCALES, build_world, generate_orders
from simulator.geography import ENVELOPE, SETTLEMENTS, haversine_m

from .conftest import SEED


def test_same_seed_builds_an_equal_world(small_world):
    """Building the same scale and seed twice gives equal worlds."""
    assert build_world("small", SEED) == small_world


def test_different_seed_builds_a_different_customer_base(small_world):
    """Another seed moves the customers (the fleet and depots are fixed by the scale)."""
    other = build_world("small", SEED + 1)
    assert other.customers != small_world.customers
    assert other.vehicles == small_world.vehicles


def test_unknown_scale_and_negative_seed_are_rejected():
    """Bad arguments fail at the boundary with a plain message."""
    with pytest.raises(ValueError, match="unknown scale"):
        build_world("huge", 1)
    with pytest.raises(ValueError, match="non-negative"):
        build_world("small", -1)


@pytest.mark.parametrize("scale", ["small", "default", "large"])
def test_scale_sizes(scale):
    """Each scale has the documented number of depots, vehicles and customers, with unique ids."""
    world = build_world(scale, SEED)
    spec = SCALES[scale]
    assert [d.depot_id for d in world.depots] == list(spec.depot_ids)
    assert len(world.vehicles) == sum(line.count for line in spec.fleet)
    assert len(world.customers) == spec.n_customers
    assert len({c.customer_id for c in world.customers}) == spec.n_customers
    assert len({v.vehicle_id for v in world.vehicles}) == len(world.vehicles)
    expected_depots = {"small": 2, "default": 2, "large": 3}[scale]
    assert len(world.depots) == expected_depots


def test_customers_lie_in_the_envelope_near_their_settlement(default_world):
    """Every customer is inside the valley envelope and inside the box of the town in its address."""
    frame = default_world.customers_frame()
    assert ENVELOPE.contains(frame["lat"], frame["lon"]).all()
    by_name = {s.name: s for s in SETTLEMENTS["rhine_valley"]}
    for town, group in frame.groupby("town"):
        settlement = by_name[town]
        assert settlement.box.contains(group["lat"], group["lon"]).all(), town
        assert group["postcode"].eq(settlement.postcode).all(), town
        distance = haversine_m(group["lat"], group["lon"], settlement.lat, settlement.lon)
        assert distance.max() < 3_000, town


def test_large_world_reaches_the_neighbouring_towns_and_stays_in_the_envelope():
    """The large world adds Swiss and Austrian Rhine-valley towns, still inside the envelope."""
    frame = build_world("large", SEED).customers_frame()
    assert {"Buchs SG", "Sevelen", "Feldkirch"} <= set(frame["town"])
    assert ENVELOPE.contains(frame["lat"], frame["lon"]).all()


def test_customers_follow_population_and_hillside_villages_are_sparse(default_world):
    """Customer counts follow population: Schaan has many, hillside Planken few and more spread out."""
    frame = default_world.customers_frame()
    counts = frame["town"].value_counts()
    assert counts["Schaan"] > 10 * counts["Planken"]
    assert counts["Vaduz"] > counts["Triesenberg"]
    by_name = {s.name: s for s in SETTLEMENTS["liechtenstein"]}
    assert by_name["Triesenberg"].spread_m > by_name["Vaduz"].spread_m


def test_site_type_shares_are_plausible(default_world):
    """Houses are the largest group (40-65%), apartments 20-40%, businesses 8-18% of customers."""
    shares = default_world.customers_frame()["site_type"].value_counts(normalize=True)
    assert 0.40 <= shares["house"] <= 0.65
    assert 0.20 <= shares["apartment"] <= 0.40
    assert 0.08 <= shares["business"] <= 0.18


def test_apartment_customers_share_buildings(default_world):
    """Apartments cluster: several apartment customers share one address and point."""
    flats = default_world.customers_frame().query("site_type == 'apartment'")
    per_building = flats.groupby(["lat", "lon", "street"]).size()
    assert per_building.mean() > 3


def test_every_depot_has_every_skill_and_an_evening_shift(default_world):
    """Each depot can serve tail-lift and refrigerated orders and has vehicles working until 20:00."""
    for depot in default_world.depots:
        vehicles = [v for v in default_world.vehicles if v.depot_id == depot.depot_id]
        skills = {s for v in vehicles for s in default_world.vehicle_type(v.vehicle_type).skills}
        assert {"tail_lift", "refrigerated"} <= skills, depot.depot_id
        assert max(v.shift_end for v in vehicles) >= "20:00", depot.depot_id
        assert all(depot.opens <= v.shift_start < v.shift_end <= depot.closes for v in vehicles)


def test_sunday_is_off_for_most_vehicles(default_world):
    """Fewer than a fifth of the vehicles work on Sunday, but each depot has one."""
    sunday = [v for v in default_world.vehicles if "Sun" in v.work_days]
    assert 0 < len(sunday) < len(default_world.vehicles) / 5
    assert {v.depot_id for v in sunday} == {d.depot_id for d in default_world.depots}


@pytest.mark.parametrize("scale", ["small", "default"])
def test_fleet_carries_an_average_weekday_with_slack(scale, sample_weekdays):
    """Per depot (orders going to the nearest depot), the Monday-to-Friday fleet's weight and volume capacity
    exceed the mean daily load by at least 25%, and the vehicles with a skill carry all orders needing it."""
    world = build_world(scale, SEED)
    days = sample_weekdays[:15]
    orders = pd.concat([generate_orders(world, day, SEED) for day in days], ignore_index=True)
    depots = pd.DataFrame([d.__dict__ for d in world.depots])
    dist = np.stack([haversine_m(orders["lat"], orders["lon"], d.lat, d.lon) for d in world.depots], axis=1)
    orders["depot_id"] = depots["depot_id"].to_numpy()[dist.argmin(axis=1)]
    for depot in world.depots:
        mine = orders[orders["depot_id"] == depot.depot_id]
        vehicles = [v for v in world.vehicles if v.depot_id == depot.depot_id and "Mon" in v.work_days]
        types = [world.vehicle_type(v.vehicle_type) for v in vehicles]
        assert sum(t.capacity_kg for t in types) >= 1.25 * mine["weight_kg"].sum() / len(days)
        assert sum(t.capacity_l for t in types) >= 1.25 * mine["volume_l"].sum() / len(days)
        for skill in ("tail_lift", "refrigerated"):
            needing = mine[mine["required_skills"].str.contains(skill)]
            skilled = [t for t in types if skill in t.skills]
            daily_kg = needing["weight_kg"].sum() / len(days)
            assert sum(t.capacity_kg for t in skilled) >= 1.25 * daily_kg, (depot.depot_id, skill)


def test_hidden_truth_covers_every_site_type_and_presence_profile(default_world):
    """The hidden truth has a service time per site type and a profile for every customer."""
    truth = default_world.truth
    for site_type in ("house", "apartment", "business"):
        assert truth.service_time(site_type).median_s > 0
    for name in {c.presence_profile for c in default_world.customers}:
        assert len(truth.presence_profile(name).p_by_hour) == 24
    assert len(truth.speed_factor_by_hour) == 24

