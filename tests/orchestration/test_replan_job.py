"""The re-plan flow (docs/replanning.md sections 3 and 4): plan versions of kind replan and the `replan` job.

Storage tests write hand-made plans; the end-to-end test plans the small demo world for one date with the real
assets, writes a morning of live drops by hand (a van leaves on time, delivers its first stop and is on its way to
the second; another van's last order is cancelled; a new order comes in) and runs the `replan` job in-process the
way ``python -m orchestration.cli replan`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.cli import replan_summary, run_replan
from orchestration.plan_store import current_plan_id, read_plan, set_plan_status, write_plan
from orchestration.serving import current_snapshot_id
from orchestration.tracking import OUT_FOR_DELIVERY_WINDOW_S
from solver import Plan, PlannedRoute, PlannedStop, SolveConfig, SolveStats, Unassigned

DATE = "2026-03-03"


def _stop(order_id: str, sequence: int, at_s: int, status: str = "planned") -> PlannedStop:
    return PlannedStop(
        order_id=order_id,
        sequence=sequence,
        arrival_s=at_s,
        service_start_s=at_s,
        departure_s=at_s + 300,
        wait_s=0,
        leg_distance_m=1000,
        leg_duration_s=120,
        status=status,
    )


def _plan(stops: tuple[PlannedStop, ...], depot_id: str = "D-1") -> Plan:
    """One depot, one van, the given stops, one order unassigned."""
    route = PlannedRoute(
        route_id=f"{depot_id}-V1",
        vehicle_id="V1",
        vehicle_type="van",
        stops=stops,
        start_s=28_000,
        end_s=40_000,
        distance_m=5000,
        duration_s=12_000,
        weight_g=1000,
        volume_cm3=1000,
        cost_eur=50.0,
    )
    stats = SolveStats(0.0, 0, 0, True, len(stops) + 1, 1, "stored")
    return Plan(depot_id, (route,), (Unassigned("O-9", "NO_VEHICLE", "no vehicle"),), stats)


def test_a_replan_version_stores_its_reason_parent_as_of_moves_and_stop_statuses(tmp_path):
    """write_plan keeps a re-plan's reason, parent plan, as_of and stops moved, and each stop's status;
    read_plan gives the statuses back; a morning plan leaves the re-plan columns null and its stops planned."""
    stops = (
        _stop("O-1", 1, 30_000, "delivered"),
        _stop("O-2", 2, 31_000, "failed"),
        _stop("O-3", 3, 32_000, "committed"),
        _stop("O-4", 4, 33_000),
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        daily = write_plan(conn, DATE, "daily", [_plan(tuple(_stop(s.order_id, s.sequence, 30_000) for s in stops))],
                           SolveConfig(), 1.0)  # fmt: skip
        replan = write_plan(
            conn, DATE, "replan", [_plan(stops)], SolveConfig(), 1.0,
            reason="new orders", parent_plan_id=daily, as_of_s=31_500, n_moved=2,
        )  # fmt: skip
        runs = conn.execute(
            "select plan_id, kind, reason, parent_plan_id, as_of_s, n_moved, n_assigned, n_unassigned "
            "from plans.plan_runs order by created_at_utc"
        ).fetchall()
        statuses = conn.execute(
            "select plan_id, order_id, status from plans.stops order by plan_id, sequence"
        ).fetchall()
        (back,) = read_plan(conn, replan).values()
    assert runs == [
        (daily, "daily", None, None, None, None, 4, 1),
        # the failed stop's order counts neither as assigned nor as unassigned
        (replan, "replan", "new orders", daily, 31_500, 2, 3, 1),
    ]
    assert [s for p, _, s in statuses if p == daily] == ["planned"] * 4
    assert [(o, s) for p, o, s in statuses if p == replan] == [
        ("O-1", "delivered"), ("O-2", "failed"), ("O-3", "committed"), ("O-4", "planned"),
    ]  # fmt: skip
    assert back.routes[0].stops == stops


def test_the_current_plan_is_the_newest_valid_daily_or_replan_version(tmp_path):
    """current_plan_id: none before a valid plan; a valid re-plan replaces the morning plan, a pending or invalid
    one does not; a morning plan made again after a re-plan replaces it; a what-if never is current."""
    plan = _plan((_stop("O-1", 1, 30_000),))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert current_plan_id(conn, DATE) is None  # no plans schema yet
        daily = write_plan(conn, DATE, "daily", [plan], SolveConfig(), 1.0)
        assert current_plan_id(conn, DATE) is None  # pending
        set_plan_status(conn, daily, "valid")
        assert current_plan_id(conn, DATE) == daily
        bad = write_plan(conn, DATE, "replan", [plan], SolveConfig(), 1.0, parent_plan_id=daily)
        set_plan_status(conn, bad, "invalid")
        assert current_plan_id(conn, DATE) == daily
        good = write_plan(conn, DATE, "replan", [plan], SolveConfig(), 1.0, parent_plan_id=daily)
        set_plan_status(conn, good, "valid")
        assert current_plan_id(conn, DATE) == good
        whatif = write_plan(conn, DATE, "whatif", [plan], SolveConfig(), 1.0)
        set_plan_status(conn, whatif, "valid")
        assert current_plan_id(conn, DATE) == good
        again = write_plan(conn, DATE, "daily", [plan], SolveConfig(), 1.0)
        set_plan_status(conn, again, "valid")
        assert current_plan_id(conn, DATE) == again
        assert current_plan_id(conn, "2026-03-04") is None


def test_a_warehouse_from_before_replanning_gets_the_new_columns(tmp_path):
    """plans tables made before issue 7 (no reason, parent, as_of, n_moved, stop status) take a re-plan; their
    stops read back as planned."""
    plan = _plan((_stop("O-1", 1, 30_000),))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        old = write_plan(conn, DATE, "daily", [plan], SolveConfig(), 1.0)
        for statement in (
            "alter table plans.plan_runs drop column reason",
            "alter table plans.plan_runs drop column parent_plan_id",
            "alter table plans.plan_runs drop column as_of_s",
            "alter table plans.plan_runs drop column n_moved",
            "alter table plans.stops drop column status",
        ):
            conn.execute(statement)
        (before,) = read_plan(conn, old).values()
        new = write_plan(conn, DATE, "replan", [plan], SolveConfig(), 1.0, reason="delay", as_of_s=36_000)
        row = conn.execute("select reason, as_of_s from plans.plan_runs where plan_id = ?", [new]).fetchone()
        old_statuses = conn.execute("select status from plans.stops where plan_id = ?", [old]).fetchall()
    assert [s.status for s in before.routes[0].stops] == ["planned"]
    assert row == ("delay", 36_000)
    assert old_statuses == [("planned",)]  # the column's default fills the rows stored before it


# --- end to end ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplanDay:
    """The planned warehouse, the drops written and the `replan` run."""

    root: Path
    warehouse: Path
    serving: Path
    daily_plan_id: str
    van: str
    delivered: pd.Series  # the van's first planned stop, delivered on time
    committed_order: str
    cancelled_orders: tuple[str, str]  # another van's last stop and one on board of the van
    new_order: str
    as_of_s: int
    result: dg.ExecuteInProcessResult
    summary: dict


def _frame(warehouse: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchdf()


@pytest.fixture(scope="module")
def replan_day(tmp_path_factory, dbt_manifest) -> ReplanDay:
    """The small world planned for DATE and published; a morning of drops; the `replan` job run in-process."""
    from orchestration.assets import demo, ingestion, planning, serving, transform
    from orchestration.dbt_project import lastmile_dbt_project
    from orchestration.resources import DataDocsSite, DemoWorld, LandingZone, ServingStore, dbt_executable
    from tests.orchestration._live_day import (
        SEED,
        drop_dir,
        event,
        hhmmss,
        local_iso,
        utc,
        write_changes,
        write_events,
        write_pings,
    )

    root = tmp_path_factory.mktemp("replan-job")
    landing, warehouse, serving_dir = root / "landing", root / "warehouse.duckdb", root / "serving"
    resources = {
        "duckdb": DuckDBResource(database=str(warehouse)),
        "landing": LandingZone(landing_dir=str(landing)),
        "serving": ServingStore(serving_dir=str(serving_dir)),
        "dbt": DbtCliResource(project_dir=lastmile_dbt_project, dbt_executable=dbt_executable()),
        "data_docs": DataDocsSite(data_dir=str(root)),
        "demo_world": DemoWorld(scale="small", seed=SEED),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "LASTMILE_DATA_DIR": root, "LASTMILE_LANDING_DIR": landing, "LASTMILE_WAREHOUSE": warehouse,
            "LASTMILE_SERVING_DIR": serving_dir, "LASTMILE_DEMO_SCALE": "small", "LASTMILE_DEMO_SEED": SEED,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "GX_ANALYTICS_ENABLED": "False",
        }.items():  # fmt: skip
            patch.setenv(name, str(value))
        patch.delenv(planning.ROAD_NETWORK_ENV, raising=False)
        morning = dg.materialize(
            [
                demo.landing_master_data, demo.landing_orders, ingestion.raw_master_data, ingestion.raw_orders,
                transform.dbt_planning_inputs, planning.daily_plan, transform.dbt_plan_outputs,
                serving.serving_snapshot,
            ],
            partition_key=DATE,
            resources=resources,
            run_config={"ops": {"daily_plan": {"config": {"time_budget_s": 2.0, "max_iters": 300, "processes": 1}}}},
        )  # fmt: skip
        assert morning.success
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            daily_plan_id = current_plan_id(conn, DATE)
        stops = _frame(
            warehouse,
            "select r.vehicle_id, r.start_s, s.sequence, s.order_id, s.arrival_s, s.service_start_s, s.departure_s, "
            "o.lat, o.lon, o.depot_id from plans.stops s join plans.routes r using (plan_id, route_id) "
            "join marts.fct_orders_to_plan o on o.order_id = s.order_id and o.service_date = cast(? as date) "
            "where s.plan_id = ? order by r.vehicle_id, s.sequence",
            [DATE, daily_plan_id],
        )
        sizes = stops.groupby("vehicle_id").size().sort_values(ascending=False)
        assert sizes.iloc[0] >= 3 and len(sizes) >= 2, "the plan needs a van with three stops and a second van"
        van, other_van = sizes.index[0], sizes.index[1]
        mine = stops[stops.vehicle_id == van].reset_index(drop=True)
        first, second = mine.iloc[0], mine.iloc[1]
        # Two cancellations and one new order: the day's orders are no longer the morning's.
        cancelled_orders = (str(stops[stops.vehicle_id == other_van].order_id.iloc[-1]), str(mine.order_id.iloc[-1]))
        as_of_s = int(first.departure_s) + 120  # on the way to the second stop

        folder = drop_dir(landing)
        write_events(folder / "events_100000.csv", [
            event("E1", van, "depot_departure", int(first.start_s)),
            event("E2", van, "arrived", int(first.arrival_s), first.order_id, lat=first.lat, lon=first.lon),
            event("E3", van, "delivered", int(first.departure_s), first.order_id, lat=first.lat, lon=first.lon),
        ])  # fmt: skip
        write_pings(folder / "pings_100000.parquet", [(van, as_of_s - 30, float(first.lat), float(first.lon))])
        write_changes(folder / "order_changes_100000.csv", [
            {"change_id": "C1", "order_id": cancelled_orders[0], "change_type": "cancel",
             "received_at_utc": utc(as_of_s - 300)},
            {"change_id": "C3", "order_id": cancelled_orders[1], "change_type": "cancel",
             "received_at_utc": utc(as_of_s - 250)},
            {"change_id": "C2", "order_id": "N-1", "change_type": "new", "received_at_utc": utc(as_of_s - 200),
             "service_date": DATE, "customer_id": "C-NEW", "order_type": "delivery", "street": "Landstrasse 1",
             "postcode": "9490", "town": "Vaduz", "lat": str(first.lat), "lon": str(first.lon + 0.002),
             "site_type": "house", "parcels": "1", "weight_kg": "2.5", "volume_l": "10",
             "window_start": local_iso(14 * 3600), "window_end": local_iso(18 * 3600), "priority": "normal"},
        ])  # fmt: skip

        with dg.DagsterInstance.ephemeral() as instance:
            result = run_replan(DATE, hhmmss(as_of_s), "new orders", time_budget_s=3.0, log_level="ERROR",
                                instance=instance)  # fmt: skip
            summary = replan_summary(result, instance) if result.success else {}
        yield ReplanDay(
            root, warehouse, serving_dir, daily_plan_id, van, first, str(second.order_id), cancelled_orders, "N-1",
            as_of_s, result, summary,
        )  # fmt: skip


def _replan_stops(day: ReplanDay) -> pd.DataFrame:
    return _frame(
        day.warehouse,
        "select s.*, r.depot_id from plans.stops s join plans.routes r using (plan_id, route_id) "
        "where s.plan_id = ? order by s.vehicle_id, s.sequence",
        [day.summary["plan_id"]],
    )


@pytest.mark.e2e
def test_the_replan_job_stores_a_valid_current_replan_version(replan_day):
    """The run succeeds; the new version is valid, of kind replan, with the reason (then each depot that kept its
    current routes, and why), the morning plan as parent and the as_of; it is the date's current plan in the
    warehouse and the plan marts."""
    assert replan_day.result.success
    plan_id = replan_day.summary["plan_id"]
    runs = _frame(replan_day.warehouse, "select * from plans.plan_runs where plan_id = ?", [plan_id]).iloc[0]
    assert (runs.kind, runs.status) == ("replan", "valid")
    reason, *kept = runs.reason.split("; ")
    assert reason == "new orders"
    assert all(part.startswith("D-") and part.endswith("kept the current routes") for part in kept)
    assert (runs.parent_plan_id, int(runs.as_of_s)) == (replan_day.daily_plan_id, replan_day.as_of_s)
    assert int(runs.n_moved) == replan_day.summary["n_moved"] >= 0
    with duckdb.connect(str(replan_day.warehouse), read_only=True) as conn:
        assert current_plan_id(conn, DATE) == plan_id
        marts = conn.execute(
            "select distinct plan_id from marts.fct_planned_stops where service_date = cast(? as date)", [DATE]
        ).fetchall()
    assert marts == [(plan_id,)]
    assert replan_day.summary["latency_s"] > 0
    # The drivers' latency spans the run up to the re-plan step (ingest + state + the re-plan's own time).
    assert replan_day.summary["latency_s"] < replan_day.summary["drivers_latency_s"]


@pytest.mark.e2e
def test_the_cancelled_orders_are_in_no_route_and_the_new_one_is_routed_or_explained(replan_day):
    """The cancelled orders (one of them on board of a van on the road) are on no stop and not unassigned; the
    order placed during the day is on a stop or unassigned with a reason code."""
    stops = _replan_stops(replan_day)
    unassigned = _frame(
        replan_day.warehouse, "select * from plans.unassigned where plan_id = ?", [replan_day.summary["plan_id"]]
    )
    assert not set(replan_day.cancelled_orders) & set(stops.order_id)
    assert not set(replan_day.cancelled_orders) & set(unassigned.order_id)
    new = replan_day.new_order
    assert new in set(stops.order_id) or unassigned.set_index("order_id").reason_code.get(new)


@pytest.mark.e2e
def test_the_delivered_stop_stays_first_with_its_actual_times_and_the_committed_stop_follows(replan_day):
    """The van's route in the re-plan starts with the stop it delivered (status delivered, the times of its
    events), then the stop it is driving to (committed); every other stop of the day is planned."""
    stops = _replan_stops(replan_day)
    route = stops[stops.vehicle_id == replan_day.van].reset_index(drop=True)
    delivered = replan_day.delivered
    assert route.loc[0, ["order_id", "status"]].tolist() == [delivered.order_id, "delivered"]
    assert int(route.loc[0, "arrival_s"]) == int(delivered.arrival_s)
    assert int(route.loc[0, "departure_s"]) == int(delivered.departure_s)
    assert route.loc[1, ["order_id", "status"]].tolist() == [replan_day.committed_order, "committed"]
    others = stops.drop(index=stops.index[(stops.vehicle_id == replan_day.van)][:2])
    assert set(others.status) == {"planned"}


@pytest.mark.e2e
def test_the_published_snapshot_lists_both_plan_versions(replan_day):
    """The snapshot published by the run lists the morning plan and the re-plan (the re-plan current, with its
    reason and as_of) in plan_runs and plan_versions."""
    snapshot = replan_day.serving / "snapshots" / current_snapshot_id(replan_day.serving)
    runs = pq.read_table(snapshot / "plan_runs.parquet").to_pandas().set_index("plan_id")
    assert {replan_day.daily_plan_id, replan_day.summary["plan_id"]} <= set(runs.index)
    assert bool(runs.is_current[replan_day.summary["plan_id"]])
    assert not bool(runs.is_current[replan_day.daily_plan_id])
    versions = pq.read_table(snapshot / "plan_versions.parquet").to_pandas().set_index("plan_id")
    replan = versions.loc[replan_day.summary["plan_id"]]
    assert (replan.kind, int(replan.as_of_s)) == ("replan", replan_day.as_of_s)
    assert replan.reason.split("; ")[0] == "new orders"
    assert versions.loc[replan_day.daily_plan_id].kind == "daily"


# --- customer tracking through the re-plan -------------------------------------------------------------------
# Customer tracking through a real re-plan (the `replan` job of tests/orchestration/test_replan_job.py: a van
# delivered its first stop and drives to its second, two orders were cancelled, one was placed during the day).
#
# The tracking table of the snapshot the re-plan published follows the day: the delivered stop is delivered at the
# time of its event, the committed stop is out for delivery, the cancelled orders are cancelled, the new order has
# a link with its address; and every link of the morning still shows the same order.
# (Here, not in a module of its own, so the costly `replan_day` fixture runs once.)


def _tracking(serving, snapshot_id: str) -> pd.DataFrame:
    frame = pq.read_table(serving / "snapshots" / snapshot_id / "tracking.parquet").to_pandas()
    return frame[frame["service_date"].astype(str) == DATE].set_index("order_id")


@pytest.fixture(scope="module")
def tracking_tables(replan_day) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The date's tracking rows of the morning snapshot and of the one the re-plan published, by order id."""
    assert replan_day.result.success
    snapshots = sorted(p.name for p in (replan_day.serving / "snapshots").iterdir() if not p.name.startswith("."))
    current = current_snapshot_id(replan_day.serving)
    assert len(snapshots) == 2 and snapshots[-1] == current
    return _tracking(replan_day.serving, snapshots[0]), _tracking(replan_day.serving, current)


@pytest.mark.e2e
def test_morning_links_keep_their_order_after_the_replan(tracking_tables):
    """Every token of the morning snapshot names the same order after the re-plan."""
    morning, after = tracking_tables
    assert len(morning) > 0
    assert (after.loc[morning.index, "token"] == morning["token"]).all()


@pytest.mark.e2e
def test_every_order_of_the_replan_and_the_new_one_has_a_link(replan_day, tracking_tables):
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


@pytest.mark.e2e
def test_statuses_follow_the_day(replan_day, tracking_tables):
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


def _copy_of_the_day(replan_day: ReplanDay, tmp_path: Path, monkeypatch) -> Path:
    """The day's data folder copied, the pipeline's settings pointed at the copy; returns its warehouse."""
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(replan_day.root, root)
    for name, path in {
        "LASTMILE_DATA_DIR": root, "LASTMILE_LANDING_DIR": root / "landing",
        "LASTMILE_WAREHOUSE": root / "warehouse.duckdb", "LASTMILE_SERVING_DIR": root / "serving",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, str(path))
    return root / "warehouse.duckdb"


def test_a_depot_whose_replan_raises_keeps_its_plan_while_the_other_depots_are_replanned(
    replan_day, tmp_path, monkeypatch
):
    """Fault injection: the `replan` job on a copy of the day, with the solver raising for the van's depot. The run
    succeeds, the new version is valid and current, that depot's part is its current plan unchanged and the reason
    and the metadata name the error; the other depots are re-planned. (Before, one depot's exception failed the run
    and no depot got a new plan.)"""
    import orchestration.assets.replanning as replanning

    warehouse = _copy_of_the_day(replan_day, tmp_path, monkeypatch)
    parent_id = replan_day.summary["plan_id"]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        parent = read_plan(conn, parent_id)
    broken = str(replan_day.delivered.depot_id)
    assert broken in parent and len(parent) >= 2, "the test needs the van's depot and another one"
    real = replanning.replan

    def crashing(problem, current, state, config=None, travel_model=None):
        if problem.depot.depot_id == broken:
            raise RuntimeError("injected solver crash")
        return real(problem, current, state, config, travel_model)

    monkeypatch.setattr(replanning, "replan", crashing)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_replan(DATE, None, "delay", time_budget_s=2.0, log_level="ERROR", instance=instance, processes=1)
        assert result.success
        summary = replan_summary(result, instance)
    plan_id = summary["plan_id"]
    runs = _frame(warehouse, "select * from plans.plan_runs where plan_id = ?", [plan_id]).iloc[0]
    assert (runs.kind, runs.status, runs.parent_plan_id) == ("replan", "valid", parent_id)
    assert f"{broken}: the re-plan failed (RuntimeError: injected solver crash): kept the current plan" in runs.reason
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert current_plan_id(conn, DATE) == plan_id
        stored = read_plan(conn, plan_id)

    def stops(plan):
        return [(r.vehicle_id, s.order_id, s.status, s.arrival_s) for r in plan.routes for s in r.stops]

    assert stops(stored[broken]) == stops(parent[broken])
    (metadata,) = [
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key == dg.AssetKey(["plans", "replan", "plan_runs"])
    ]
    per_depot = metadata["per_depot"].data
    assert per_depot[broken]["error"] == "RuntimeError: injected solver crash"
    assert per_depot[broken]["stopped_by"] == "replan_failed"
    assert all(d["error"] == "" and d["stopped_by"] != "replan_failed" for k, d in per_depot.items() if k != broken)
    assert metadata["failed_depots"].data == {broken: "RuntimeError: injected solver crash"}


def test_when_every_depots_replan_raises_the_run_fails_and_the_current_plan_stays(replan_day, tmp_path, monkeypatch):
    """Fault injection: the solver raises for every depot. Nothing new would be published, so the run fails with
    each depot's error, no plan version is written and the date's current plan is still the previous one."""
    import orchestration.assets.replanning as replanning

    warehouse = _copy_of_the_day(replan_day, tmp_path, monkeypatch)
    count = "select count(*) from plans.plan_runs where service_date = cast(? as date)"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        current, versions = current_plan_id(conn, DATE), conn.execute(count, [DATE]).fetchone()[0]

    def crashing(problem, current, state, config=None, travel_model=None):
        raise RuntimeError(f"injected crash in {problem.depot.depot_id}")

    monkeypatch.setattr(replanning, "replan", crashing)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_replan(
            DATE, None, "delay", time_budget_s=2.0, log_level="CRITICAL", instance=instance, processes=1
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("the re-plan failed for every depot: ")
    assert all(f"RuntimeError: injected crash in {d}" in description for d in _depots(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert current_plan_id(conn, DATE) == current == replan_day.summary["plan_id"]
        assert conn.execute(count, [DATE]).fetchone()[0] == versions


def _depots(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return [d for (d,) in conn.execute("select distinct depot_id from plans.routes order by 1").fetchall()]
