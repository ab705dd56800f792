"""dashboard.snapshot: resolving CURRENT, and the clear errors when there is nothing usable."""

import pytest

from dashboard.snapshot import (
    DATA_HEALTH_TABLES,
    OPTIONAL_TABLES,
    SnapshotUnavailableError,
    current_snapshot,
    has_table,
    serving_dir,
    table_path,
)
from orchestration.serving import DATA_HEALTH_TABLES as PUBLISHED_DATA_HEALTH_TABLES


def test_resolves_current_snapshot(serving_snapshot):
    """CURRENT names the snapshot; its manifest gives the publication time and service dates."""
    snapshot = current_snapshot()
    assert snapshot.snapshot_id == "20261127T053000Z"
    assert snapshot.path == serving_snapshot.snapshot_dir
    assert snapshot.created_at_utc == "2026-11-27T05:30:00Z"
    assert snapshot.service_dates == ("2026-11-26", "2026-11-27")
    assert snapshot.snapshot_id in snapshot.key


def test_env_is_read_at_call_time(tmp_path, monkeypatch):
    """LASTMILE_SERVING_DIR is read when asked, not when the module was imported."""
    monkeypatch.setenv("LASTMILE_SERVING_DIR", str(tmp_path / "a"))
    assert serving_dir() == tmp_path / "a"
    monkeypatch.delenv("LASTMILE_SERVING_DIR")
    assert serving_dir().parts[-2:] == ("data", "serving")


def test_nothing_published_says_make_run(empty_serving_dir):
    """Without CURRENT the error tells the user to run `make run`."""
    with pytest.raises(SnapshotUnavailableError, match="make run"):
        current_snapshot()


@pytest.mark.parametrize("pointer", ["", "../elsewhere", "missing-snapshot"])
def test_bad_pointer_is_unavailable(empty_serving_dir, pointer):
    """A blank pointer, one escaping the snapshots folder, or one naming no directory is reported."""
    (empty_serving_dir / "CURRENT").write_text(pointer)
    with pytest.raises(SnapshotUnavailableError, match="make run"):
        current_snapshot()


def test_incomplete_snapshot_names_missing_table(serving_snapshot):
    """A snapshot lacking a contract table is reported with the table's name."""
    (serving_snapshot.snapshot_dir / "unassigned.parquet").unlink()
    with pytest.raises(SnapshotUnavailableError, match="unassigned.parquet"):
        current_snapshot()


def test_table_path_only_for_contract_tables(tmp_path):
    """Only the contract's serving tables can be addressed."""
    assert table_path(str(tmp_path), "depots").endswith("depots.parquet")
    with pytest.raises(ValueError, match="unknown serving table"):
        table_path(str(tmp_path), "warehouse")


def test_execution_tables_are_optional(plan_only_snapshot):
    """A snapshot without execution files still resolves; has_table tells which optional tables it holds."""
    snapshot = current_snapshot()
    assert has_table(snapshot.key, "planned_routes")
    assert not any(has_table(snapshot.key, name) for name in OPTIONAL_TABLES)
    assert table_path(snapshot.key, "deliveries").endswith("deliveries.parquet")


def test_demo_snapshot_holds_every_execution_table(serving_snapshot):
    """The default demo snapshot carries all four execution tables."""
    assert all(has_table(current_snapshot().key, name) for name in OPTIONAL_TABLES)


def test_data_health_tables_are_optional_and_match_the_publisher(plan_only_snapshot):
    """The dashboard addresses exactly the data-health tables the publisher writes; a snapshot may lack them."""
    assert DATA_HEALTH_TABLES == PUBLISHED_DATA_HEALTH_TABLES
    snapshot = current_snapshot()
    assert all(table_path(snapshot.key, name).endswith(f"{name}.parquet") for name in DATA_HEALTH_TABLES)
    assert not any(has_table(snapshot.key, name) for name in DATA_HEALTH_TABLES)
