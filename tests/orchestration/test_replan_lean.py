"""The lean re-plan path (issue 7, latency; docs/replanning.md section 3): the plan reaches the drivers when
`replan_plan` has written it to plans.* and validated it; the plan marts and the snapshot (the dashboard refresh)
come after and cannot take it back; the live dbt models run without their tests in `replan` (they still run in
`refresh_live_state`) and are not rebuilt while their views are current; the solve's worker pool stays warm.
"""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

from orchestration.assets import replanning, transform
from orchestration.plan_store import current_plan_id
from tests.orchestration.test_replan_job import DATE, replan_day  # noqa: F401  (module fixture)

# -- the jobs ------------------------------------------------------------------------------------------------------


def _job_checks(name: str) -> set[dg.AssetCheckKey]:
    from orchestration.definitions import defs

    return set(defs.resolve_job_def(name).asset_layer.asset_graph.asset_check_keys)


def _live_model_checks() -> set[dg.AssetCheckKey]:
    return set(transform.dbt_live.check_keys)


def test_the_live_model_tests_are_off_the_replan_path_and_still_run_in_refresh_live_state():
    """The dbt live models have data tests; the `replan` job selects none of them, `refresh_live_state` all of
    them; the re-plan's blocking plan_is_valid check stays in `replan`."""
    live_checks = _live_model_checks()
    assert live_checks, "the live models have dbt tests"
    replan_checks = _job_checks("replan")
    assert not live_checks & replan_checks
    assert live_checks <= _job_checks("refresh_live_state")
    plan_is_valid = dg.AssetCheckKey(replanning.REPLAN_KEY, "plan_is_valid")
    assert plan_is_valid in replan_checks
    spec = next(s for s in replanning.replan_plan.check_specs if s.key == plan_is_valid)
    assert spec.blocking


def test_the_replan_job_runs_in_one_process_and_refreshes_the_dashboard_after_the_plan():
    """In-process executor (no process start per step, the warm solve pool is shared); the plan marts wait for
    replan_plan, the snapshot for the plan marts."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("replan")
    assert job.executor_def.name == "in_process"
    deps = job.graph.dependency_structure

    def upstream(node: str) -> set[str]:
        return {o.node_name for outs in deps.input_to_upstream_outputs_for_node(node).values() for o in outs}

    assert "replan_plan" in upstream("dbt_plan_outputs")
    assert "dbt_plan_outputs" in upstream("serving_snapshot")


# -- the live views' stamp -----------------------------------------------------------------------------------------


def _manifest(checksum: str = "abc", macro_sql: str = "{% macro m() %}1{% endmacro %}") -> dict:
    live = {
        "resource_type": "model",
        "name": "int_live_x",
        "alias": "int_live_x",
        "schema": "intermediate",
        "tags": ["live"],
        "checksum": {"name": "sha256", "checksum": checksum},
        "config": {"materialized": "view"},
        "depends_on": {"macros": ["macro.lastmile.m"], "nodes": ["model.lastmile.stg_live_x"]},
    }
    staging = {**live, "name": "stg_live_x", "alias": "stg_live_x", "schema": "staging", "depends_on": {}}
    other = {**live, "name": "fct_y", "alias": "fct_y", "schema": "marts", "tags": ["plan_outputs"]}
    return {
        "nodes": {
            "model.lastmile.int_live_x": live,
            "model.lastmile.stg_live_x": staging,
            "model.lastmile.fct_y": other,
        },
        "macros": {"macro.lastmile.m": {"macro_sql": macro_sql}},
    }


def test_the_stamp_follows_the_live_models_sql_and_macros_only():
    base = transform.live_models_stamp(_manifest())
    assert base == transform.live_models_stamp(_manifest())
    assert transform.live_models_stamp(_manifest(checksum="abd")) != base
    assert transform.live_models_stamp(_manifest(macro_sql="{% macro m() %}2{% endmacro %}")) != base
    changed_other = _manifest()
    changed_other["nodes"]["model.lastmile.fct_y"]["checksum"] = {"name": "sha256", "checksum": "zzz"}
    assert transform.live_models_stamp(changed_other) == base
    assert transform.live_view_relations(_manifest()) == [("intermediate", "int_live_x"), ("staging", "stg_live_x")]


def test_views_are_current_only_when_every_live_view_carries_the_stamp():
    relations = [("intermediate", "int_live_x"), ("staging", "stg_live_x")]
    with duckdb.connect() as conn:
        assert not transform.live_views_current(conn, relations, "s1")  # no views yet
        conn.execute("create schema intermediate; create schema staging")
        conn.execute("create view staging.stg_live_x as select 1 as a")
        conn.execute("create view intermediate.int_live_x as select a from staging.stg_live_x")
        assert not transform.live_views_current(conn, relations, "s1")  # built, never stamped
        transform.stamp_live_views(conn, relations, "s1")
        assert transform.live_views_current(conn, relations, "s1")
        assert not transform.live_views_current(conn, relations, "s2")  # the project changed
        conn.execute("create or replace view staging.stg_live_x as select 2 as a")  # dbt rebuilt one: no stamp
        assert not transform.live_views_current(conn, relations, "s1")
        assert not transform.live_views_current(conn, [], "s1")


# -- the warm pool -------------------------------------------------------------------------------------------------


def test_the_replan_pool_is_reused_and_made_again_for_another_size():
    first = replanning.replan_pool(2)
    try:
        assert replanning.replan_pool(2) is first
        pids = {first.submit(replanning._worker_ready).result(timeout=120) for _ in range(4)}
        assert pids and all(isinstance(p, int) for p in pids)
        other = replanning.replan_pool(1)
        assert other is not first
    finally:
        replanning._shutdown_pool()
    with pytest.raises(ValueError, match="at least 1"):
        replanning.replan_pool(0)


# -- the job, end to end -------------------------------------------------------------------------------------------


def _step_times(instance: dg.DagsterInstance, run_id: str) -> dict[tuple[str, str], float]:
    times = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            times[(event.step_key, event.event_type_value)] = entry.timestamp
    return times


@pytest.fixture(scope="module")
def second_replan(replan_day, tmp_path_factory):  # noqa: F811
    """A second `replan` of the same day whose dashboard refresh fails: the serving store lies under a file."""
    from orchestration.cli import run_replan
    from tests.orchestration._live_day import hhmmss

    blocker = tmp_path_factory.mktemp("broken-serving") / "not-a-folder"
    blocker.write_text("a file where the serving folder's parent should be\n")
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LASTMILE_SERVING_DIR", str(blocker / "serving"))
            result = run_replan(DATE, hhmmss(replan_day.as_of_s + 60), "delay", time_budget_s=2.0, log_level="ERROR",
                                instance=instance)  # fmt: skip
        yield replan_day, result, instance


@pytest.mark.e2e
def test_the_plan_is_out_and_valid_before_the_marts_step_and_a_failed_refresh_does_not_undo_it(second_replan):
    day, result, instance = second_replan
    assert not result.success, "the dashboard refresh was meant to fail"
    times = _step_times(instance, result.run_id)
    assert ("replan_plan", "STEP_SUCCESS") in times
    assert ("serving_snapshot", "STEP_FAILURE") in times
    assert times[("replan_plan", "STEP_SUCCESS")] <= times[("dbt_plan_outputs", "STEP_START")]
    checks = [e for e in result.get_asset_check_evaluations() if e.check_name == "plan_is_valid"]
    assert [c.passed for c in checks] == [True]
    plan_id = checks[0].metadata.get("plan_id").value if "plan_id" in checks[0].metadata else None
    with duckdb.connect(str(day.warehouse), read_only=True) as conn:  # the failed step left no connection open
        runs = conn.execute(
            "select plan_id, status, reason, parent_plan_id from plans.plan_runs where kind = 'replan' "
            "order by created_at_utc"
        ).fetchdf()
        newest = runs.iloc[-1]
        assert current_plan_id(conn, DATE) == newest.plan_id
    assert plan_id in (None, newest.plan_id)
    assert newest.status == "valid" and newest.reason.startswith("delay")
    assert newest.parent_plan_id == day.summary["plan_id"]  # the first re-plan was current when this one began


@pytest.mark.e2e
def test_current_live_views_are_not_rebuilt_on_the_replan_path(second_replan):
    """The first re-plan built and stamped the live views (without tests); the second found them current."""
    _, result, _ = second_replan
    live = [
        m
        for e in result.get_asset_materialization_events()
        if e.step_key == "dbt_live"
        for m in [e.step_materialization_data.materialization]
    ]
    assert live, "dbt_live reported its models"
    assert all(m.metadata["rebuilt"].value is False for m in live)
    assert {tuple(m.asset_key.path) for m in live} >= {("intermediate", "int_live_orders")}


def test_the_manifest_has_live_views_to_stamp(dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    relations = transform.live_view_relations(manifest)
    assert ("intermediate", "int_live_vehicles") in relations
    assert all(schema in ("staging", "intermediate") for schema, _ in relations)
