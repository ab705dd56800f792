"""Customer tracking on the real demo pipeline (``demo_pipeline``: the `demo_daily` job run twice for one date):
the published snapshot holds a token for every planned order, and the re-run (a new plan version) keeps them."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.serving import current_snapshot_id
from orchestration.tracking import TOKEN_PATTERN
from tests.conftest import E2E_SERVICE_DATE

pytestmark = pytest.mark.e2e


def _tokens_created(result) -> list[int]:
    """The ``tracking_tokens_created`` metadata of the serving snapshot's materialisations in one run."""
    return [
        event.event_specific_data.materialization.metadata["tracking_tokens_created"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.path == ["serving_snapshot"]
    ]


def test_published_snapshot_has_a_token_for_every_planned_order(demo_pipeline):
    """Every order of the current plan, routed or unassigned, has exactly one well-formed, distinct token in the
    snapshot's tracking table, with its address; routed ones are planned with an ETA window."""
    serving = demo_pipeline.dirs.serving
    tracking = pq.read_table(serving / "snapshots" / current_snapshot_id(serving) / "tracking.parquet").to_pandas()
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        routed = {
            order_id
            for (order_id,) in conn.execute(
                "select order_id from marts.fct_planned_stops where service_date = cast(? as date)", [E2E_SERVICE_DATE]
            ).fetchall()
        }
        unassigned = {
            order_id
            for (order_id,) in conn.execute(
                "select order_id from marts.fct_plan_unassigned where service_date = cast(? as date)",
                [E2E_SERVICE_DATE],
            ).fetchall()
        }
        stored = dict(
            conn.execute(
                "select order_id, token from plans.tracking_tokens where service_date = cast(? as date)",
                [E2E_SERVICE_DATE],
            ).fetchall()
        )
    day = tracking[tracking["service_date"].astype(str) == E2E_SERVICE_DATE]
    assert routed and set(day["order_id"]) >= routed | unassigned
    assert day["order_id"].is_unique and tracking["token"].is_unique
    assert all(TOKEN_PATTERN.fullmatch(token) for token in tracking["token"])
    assert dict(zip(day["order_id"], day["token"], strict=True)) == stored
    assert day["street"].notna().all() and day["town"].notna().all()

    planned = day[day["order_id"].isin(routed)]
    assert set(planned["status"]) == {"planned"}
    assert ((planned["eta_to_s"] - planned["eta_from_s"]) == 3600).all()
    assert set(day[day["order_id"].isin(unassigned)]["status"]) <= {"not_planned"}


def test_rerun_creates_no_token_and_changes_none(demo_pipeline):
    """The first run creates a token per order; the re-run (a new plan version of the same orders) creates none,
    so every link sent after the first run still works."""
    first, second = _tokens_created(demo_pipeline.first), _tokens_created(demo_pipeline.second)
    assert len(first) == len(second) == 1
    with duckdb.connect(str(demo_pipeline.dirs.warehouse), read_only=True) as conn:
        (orders,) = conn.execute(
            "select count(distinct order_id) from marts.fct_planned_stops where service_date = cast(? as date)",
            [E2E_SERVICE_DATE],
        ).fetchone()
    assert first[0] >= orders > 0
    assert second == [0]
