"""The live state numbers a vehicle's trips from its depot departures (orchestration.live_state).

Without them every finished stop was on trip 1: a cargo bike that reloaded had both trips' deliveries counted as
one load in its re-planned route, over its capacity, and the plan marts' capacity test failed the dashboard
refresh of the re-plan.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from orchestration.live_state import _departures, _done_stops
from solver import Depot, Order

DEPOT = Depot(depot_id="D-TEST", lat=47.0, lon=9.5, opens_s=6 * 3600, closes_s=20 * 3600)


def _order(order_id: str, k: int) -> Order:
    return Order(
        order_id=order_id, lat=47.0 + 0.01 * k, lon=9.5, weight_g=1000, volume_cm3=1000, service_s=60,
        tw_start_s=0, tw_end_s=24 * 3600,
    )  # fmt: skip


def test_finished_stops_are_on_the_trip_of_the_departure_before_them():
    """Departures at 08:00 and 10:00: the stops at 08:30 and 09:00 are on trip 1, the one at 10:30 on trip 2; the
    statuses of another vehicle and open stops are not its finished stops."""
    orders = {o: _order(o, k) for k, o in enumerate(["A", "B", "C", "D", "E"], start=1)}
    statuses = pd.DataFrame(
        {
            "order_id": ["A", "B", "C", "D", "E"],
            "vehicle_id": ["V-01", "V-01", "V-01", "V-02", "V-01"],
            "status": ["delivered", "failed", "delivered", "delivered", "planned"],
            "arrived_s": [8.5 * 3600, 9 * 3600, 10.5 * 3600, 8.2 * 3600, None],
            "status_s": [8.5 * 3600 + 60, 9 * 3600 + 60, 10.5 * 3600 + 60, 8.2 * 3600 + 60, None],
        }
    )
    done = _done_stops(orders, statuses, "V-01", DEPOT, 1.3, [8 * 3600, 10 * 3600])
    assert [(s.order_id, s.trip) for s in done] == [("A", 1), ("B", 1), ("C", 2)]


def test_departures_read_from_the_live_model_row():
    """The list of departure times from int_live_vehicles, sorted; a vehicle that has not left has none (null)."""
    assert _departures(SimpleNamespace(departures_s=[36000.0, 28800.0])) == [28800, 36000]
    assert _departures(SimpleNamespace(departures_s=pd.NA)) == []
    assert _departures(SimpleNamespace(departures_s=None)) == []
