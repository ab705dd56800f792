"""Publishing serving snapshots: complete before visible, atomic pointer, pruning that spares the current one."""

import json

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.serving import SNAPSHOT_QUERIES, current_snapshot_id, prune_snapshots, publish_snapshot


@pytest.fixture
def marts_conn():
    """An in-memory warehouse with one row in every mart the snapshot reads."""
    with duckdb.connect() as conn:
        conn.execute("create schema marts")
        conn.execute(
            "create table marts.dim_depots as select 'D1' as depot_id, 'Depot' as depot_name, 's' as street, "
            "'9494' as postcode, 'Schaan' as town, 47.1 as lat, 9.5 as lon, 25200 as opens_s, 68400 as closes_s, "
            "'Europe/Vaduz' as timezone"
        )
        conn.execute(
            "create table marts.dim_plan_versions as select 'p1' as plan_id, date '2026-03-03' as service_date, "
            "'daily' as kind, 1 as version, now() as created_at_utc, 0 as seed, 5.0 as time_budget_s, "
            "1.0 as runtime_s, 10.0 as objective, 1 as n_orders, 1 as n_assigned, 0 as n_unassigned, "
            "'valid' as status, true as is_current"
        )
        for name in ("fct_planned_routes", "fct_planned_stops", "fct_plan_unassigned", "fct_plan_kpis"):
            conn.execute(
                f"create table marts.{name} as select date '2026-03-03' as service_date, 'D1' as depot_id, "
                "'r1' as route_id, 1 as sequence, 'o1' as order_id"
            )
        yield conn


def test_publish_writes_every_table_and_points_current_at_it(marts_conn, tmp_path):
    """After a publish, CURRENT names a folder holding every table and a manifest with the row counts."""
    published = publish_snapshot(marts_conn, tmp_path)
    assert current_snapshot_id(tmp_path) == published.snapshot_id
    manifest = json.loads((published.path / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(SNAPSHOT_QUERIES)
    for name, rows in manifest["tables"].items():
        assert pq.read_table(published.path / f"{name}.parquet").num_rows == rows == 1
    assert manifest["service_dates"] == ["2026-03-03"]


def test_a_failed_publish_leaves_the_previous_snapshot_current(marts_conn, tmp_path):
    """If a serving table cannot be read, CURRENT keeps pointing at the last complete snapshot."""
    first = publish_snapshot(marts_conn, tmp_path)
    marts_conn.execute("drop table marts.fct_plan_kpis")
    with pytest.raises(duckdb.CatalogException):
        publish_snapshot(marts_conn, tmp_path)
    assert current_snapshot_id(tmp_path) == first.snapshot_id
    assert (first.path / "planned_stops.parquet").is_file()


def test_prune_keeps_newest_and_never_the_current(marts_conn, tmp_path):
    """Pruning removes old snapshots and leftovers of killed publishes, never the one CURRENT points at."""
    ids = [publish_snapshot(marts_conn, tmp_path).snapshot_id for _ in range(3)]
    (tmp_path / "snapshots" / ".killed.building").mkdir()
    (tmp_path / "CURRENT").write_text(ids[0] + "\n")
    removed = prune_snapshots(tmp_path, keep=1)
    remaining = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert remaining == sorted([ids[0], ids[2]])
    assert ".killed.building" in removed
