"""A breakdown drawn against the day's plan strikes a van while it is out on its round (scenario(..., routes=...)).

Drawn blindly, the breakdown of the small world's 2026-03-03 (seed 7) went to the Triesen refrigerated van, parked at
its depot from 10:25 until its one afternoon trip at 14:00 with a single cold parcel that no other van of the depot
could carry: it broke down only then, with nothing a re-plan could move.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from simulator import scenario
from simulator.disruptions import BREAKDOWN_LEFT_S, BREAKDOWN_OUT_S, Breakdown

DAY = dt.date(2026, 3, 3)
HOUR = 3600


@pytest.fixture(scope="module")
def morning_routes(small_world) -> pd.DataFrame:
    """A small-world plan like the demo's morning plan: two vans out 09:24-11:29, two from 11:30 to about 18:00,
    and a van parked until a short trip at 14:00 (one route per van, local seconds)."""
    rows = [
        ("V-SCH-01", 41_400, 64_288),
        ("V-SCH-02", 37_715, 41_340),
        ("V-SCH-03", 33_856, 37_504),
        ("V-TRI-01", 41_400, 66_976),
        ("V-TRI-02", 35_304, 38_828),
        ("V-TRI-03", 50_401, 52_199),
    ]
    working = {v.vehicle_id for v in small_world.vehicles if "Tue" in v.work_days}
    assert {r[0] for r in rows} <= working
    return pd.DataFrame(rows, columns=["vehicle_id", "start_s", "end_s"])


def _out_between(routes: pd.DataFrame, vehicle_id: str, at_s: int) -> bool:
    mine = routes[routes["vehicle_id"] == vehicle_id]
    return bool(((mine["start_s"] + BREAKDOWN_OUT_S <= at_s) & (at_s <= mine["end_s"] - BREAKDOWN_LEFT_S)).any())


@pytest.mark.parametrize("name", ["breakdown", "mixed"])
@pytest.mark.parametrize("seed", range(8))
def test_a_breakdown_strikes_a_van_out_on_its_round_between_10_and_12(small_world, morning_routes, name, seed):
    """With the plan, the broken-down van is on its route at the breakdown time (begun, stops left), between
    10:00 and 12:00: never the van parked at its depot until 14:00."""
    (broken,) = scenario(small_world, DAY, name, seed, routes=morning_routes).of_kind("breakdown")
    assert isinstance(broken, Breakdown)
    assert 10 * HOUR <= broken.at_s < 12 * HOUR
    assert _out_between(morning_routes, broken.vehicle_id, broken.at_s)
    assert broken.vehicle_id != "V-TRI-03"


def test_the_plan_aware_draw_is_seeded(small_world, morning_routes):
    """Equal arguments give an equal breakdown; over seeds more than one van breaks down."""
    first = scenario(small_world, DAY, "breakdown", 3, routes=morning_routes)
    assert first == scenario(small_world, DAY, "breakdown", 3, routes=morning_routes)
    vans = {scenario(small_world, DAY, "breakdown", s, routes=morning_routes).of_kind("breakdown")[0].vehicle_id
            for s in range(12)}  # fmt: skip
    assert len(vans) > 1


def test_without_a_van_out_between_10_and_12_the_breakdown_comes_when_one_is_out(small_world, morning_routes):
    """A plan whose vans are all out only in the afternoon: the van breaks down while out then."""
    afternoon = morning_routes.assign(start_s=13 * HOUR, end_s=17 * HOUR)
    (broken,) = scenario(small_world, DAY, "breakdown", 7, routes=afternoon).of_kind("breakdown")
    assert 13 * HOUR + BREAKDOWN_OUT_S <= broken.at_s <= 17 * HOUR - BREAKDOWN_LEFT_S


def test_without_routes_the_draw_is_unchanged(small_world):
    """Without a plan the breakdown is drawn as before (any working van, 10:00-12:00), so seeded days stay."""
    blind = scenario(small_world, DAY, "breakdown", 7)
    (broken,) = blind.of_kind("breakdown")
    assert 10 * HOUR <= broken.at_s < 12 * HOUR
    assert blind == scenario(small_world, DAY, "breakdown", 7, routes=None)
