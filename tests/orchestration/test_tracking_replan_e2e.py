"""Customer tracking through a real re-plan (the `replan` job of tests/orchestration/test_replan_job.py: a van
delivered its first stop and drives to its second, two orders were cancelled, one was placed during the day).

The tracking table of the snapshot the re-plan published follows the day: the delivered stop is delivered at the
time of its event, the committed stop is out for delivery, the cancelled orders are cancelled, the new order has
a link with its address; and every link of the morning still shows the same order.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.serving import current_snapshot_id
from orchestration.tracking import OUT_FOR_DELIVERY_WINDOW_S
from tests.orchestration.test_replan_job import DATE, replan_day  # noqa: F401 (the fixture, run for this module)

pytestmark = pytest.mark.e2e


def _tracking(serving, snapshot_id: str) -> pd.DataFrame:
    frame = pq.read_table(serving / "snapshots" / snapshot_id / "tracking.parquet").to_pandas()
    return frame[frame["service_date"].astype(str) == DATE].set_index("order_id")


@pytest.fixture(scope="module")
def tracking_tables(replan_day) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: F811
    """The date's tracking rows of the morning snapshot and of the one the re-plan published, by order id."""
    assert replan_day.result.success
    snapshots = sorted(p.name for p in (replan_day.serving / "snapshots").iterdir() if not p.name.startswith("."))
    current = current_snapshot_id(replan_day.serving)
    assert len(snapshots) == 2 and snapshots[-1] == current
    return _tracking(replan_day.serving, snapshots[0]), _tracking(replan_day.serving, current)


def test_morning_links_keep_their_order_after_the_replan(tracking_tables):
    """Every token of the morning snapshot names the same order after the re-plan."""
    morning, after = tracking_tables
    assert len(morning) > 0
    assert (after.loc[morning.index, "token"] == morning["token"]).all()


def test_every_order_of_the_replan_and_the_new_one_has_a_link(replan_day, tracking_tables):  # noqa: F811
    """The re-plan's orders (routed or unassigned) and the order placed during the day all have a token; the
    new order's address comes from its order change."""
    _, after = tracking_tables
    with duckdb.connect(str(replan_day.warehouse), read_only=True) as conn:
        current = {
            order_id
            for (order_id,) in conn.execute(
                "select order_id from marts.fct_planned_stops where service_date = cast(? as date) union "
                "select order_id from marts.fct_plan_unassigned where service_date = cast(? as date)",
                [DATE, DATE],
            ).fetchall()
        }
    assert replan_day.new_order in current and current <= set(after.index)
    new = after.loc[replan_day.new_order]
    assert (new["street"], new["postcode"], new["town"]) == ("Landstrasse 1", "9490", "Vaduz")
    assert new["status"] in {"planned", "out_for_delivery", "not_planned"}


def test_statuses_follow_the_day(replan_day, tracking_tables):  # noqa: F811
    """Delivered (at the delivered event), out for delivery with a 30-min window (the committed stop), cancelled
    (both cancelled orders, one of them on board), planned for vans that have not left."""
    _, after = tracking_tables
    delivered = after.loc[replan_day.delivered.order_id]
    assert (delivered["status"], delivered["delivered_at_s"]) == ("delivered", int(replan_day.delivered.departure_s))
    committed = after.loc[replan_day.committed_order]
    assert committed["status"] == "out_for_delivery"
    assert committed["eta_to_s"] - committed["eta_from_s"] == OUT_FOR_DELIVERY_WINDOW_S
    for order_id in replan_day.cancelled_orders:
        assert after.loc[order_id, "status"] == "cancelled", order_id
        assert pd.isna(after.loc[order_id, "eta_from_s"])
    with duckdb.connect(str(replan_day.warehouse), read_only=True) as conn:
        idle = {
            order_id
            for (order_id,) in conn.execute(
                "select s.order_id from marts.fct_planned_stops as s join plans.live_vehicles as v "
                "on v.service_date = s.service_date and v.vehicle_id = s.vehicle_id "
                "where s.service_date = cast(? as date) and v.status = 'not_started'",
                [DATE],
            ).fetchall()
        }
    assert idle and set(after.loc[sorted(idle), "status"]) == {"planned"}
