"""Publishing serving snapshots: complete before visible, atomic pointer, pruning that spares the current one."""

import json

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.model_store import MODEL_TABLES, ensure_models_schema
from orchestration.serving import (
    DATA_HEALTH_TABLES,
    SNAPSHOT_QUERIES,
    current_snapshot_id,
    prune_snapshots,
    publish_snapshot,
)


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


def _add_data_health_tables(conn, *, old_ingest_log: bool = False) -> None:
    """raw.ingest_log (orders of 2026-03-03 loaded twice), quarantine.orders and quarantine.pings (different
    source columns), an empty quarantine.ratings and quality.data_checks; ``old_ingest_log`` leaves out the
    loaded_rows and quarantined_rows columns, as a warehouse from before the quarantine has it."""
    conn.execute("create schema raw")
    extra = "" if old_ingest_log else ", loaded_rows integer, quarantined_rows integer"
    conn.execute(
        "create table raw.ingest_log (table_name varchar, service_date date, source_file varchar, sha256 varchar, "
        f"rows integer, replaced_rows integer, loaded_at_utc timestamptz{extra})"
    )
    loads = [
        ("orders", "orders/orders_2026-03-03.csv", 7, "2026-03-02 05:00:00+00", 10, 3),
        ("orders", "orders/orders_2026-03-03.csv", 9, "2026-03-02 06:00:00+00", 11, 2),
        ("depots", "master/depots.csv", 2, "2026-03-02 05:00:00+00", None, None),
    ]
    for table, file, rows, loaded_at, loaded, quarantined in loads:
        values = [table, file, rows, loaded_at] + ([] if old_ingest_log else [loaded, quarantined])
        placeholders = "?, date '2026-03-03', ?, 'sha', ?, 0, cast(? as timestamptz)"
        conn.execute(f"insert into raw.ingest_log values ({placeholders}{'' if old_ingest_log else ', ?, ?'})", values)
    conn.execute("create schema quarantine")
    conn.execute(
        "create table quarantine.orders as select date '2026-03-03' as service_date, 'O-1' as order_id, "
        "'DUPLICATE_ID' as reason_code, 'order_id' as field, 'order_id O-1 appeared earlier' as reason, "
        "'orders/orders_2026-03-03.csv' as _source_file, 4::bigint as _source_row, 'O-1,2026-03-03' as _raw_line"
    )
    conn.execute(
        "create table quarantine.pings as select date '2026-03-03' as service_date, 'V1' as vehicle_id, "
        "0.0::double as lat, 'NOT_A_CODE' as reason_code, null::varchar as field, 'no fix' as reason, "
        "'telematics/pings_2026-03-03.parquet' as _source_file, 2::bigint as _source_row"
    )
    conn.execute(
        "create table quarantine.ratings (service_date date, order_id varchar, reason_code varchar, "
        "field varchar, reason varchar, _source_file varchar, _source_row bigint)"
    )
    conn.execute("create schema quality")
    conn.execute(
        "create table quality.data_checks as select 'orders_windows' as check_name, 'orders' as table_name, "
        "date '2026-03-03' as service_date, 'warning' as severity, false as passed, 1 as failed_expectations, "
        "2 as evaluated_expectations, 'orders_2026-03-03.csv line 5, field tw_end' as message, "
        "null::varchar as data_docs_path, now() as checked_at_utc"
    )


def _counts(load: dict) -> tuple[int, int, int]:
    return load["loaded_rows"], load["accepted_rows"], load["quarantined_rows"]


def test_data_health_tables_are_published_when_present(marts_conn, tmp_path):
    """The latest load per source and date (loaded = accepted + quarantined), every quarantined row with its
    source and reason description, and the data checks as they are."""
    _add_data_health_tables(marts_conn)
    published = publish_snapshot(marts_conn, tmp_path)
    manifest = json.loads((published.path / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(SNAPSHOT_QUERIES) | set(DATA_HEALTH_TABLES)

    log = pq.read_table(published.path / "ingest_log.parquet")
    assert log.column_names == [
        "table_name",
        "service_date",
        "source_file",
        "loaded_rows",
        "accepted_rows",
        "quarantined_rows",
        "loaded_at_utc",
    ]
    rows = {r["table_name"]: r for r in log.to_pylist()}
    assert _counts(rows["orders"]) == (11, 9, 2)
    # A load without the counts reads as all rows accepted.
    assert _counts(rows["depots"]) == (2, 2, 0)

    quarantined = pq.read_table(published.path / "quarantined_rows.parquet").to_pylist()
    assert [(r["source"], r["source_row"], r["reason_code"]) for r in quarantined] == [
        ("orders", 4, "DUPLICATE_ID"),
        ("pings", 2, "NOT_A_CODE"),
    ]
    assert quarantined[0]["reason_description"]  # described in orchestration.quality.rules
    assert quarantined[1]["reason_description"] is None and quarantined[1]["field"] is None
    assert [r["raw_line"] for r in quarantined] == ["O-1,2026-03-03", None]

    checks = pq.read_table(published.path / "data_checks.parquet")
    assert checks.num_rows == 1
    assert checks.column("message").to_pylist() == ["orders_2026-03-03.csv line 5, field tw_end"]


def test_an_older_ingest_log_reads_as_nothing_quarantined(marts_conn, tmp_path):
    """Without loaded_rows and quarantined_rows, loaded = accepted and quarantined = 0."""
    _add_data_health_tables(marts_conn, old_ingest_log=True)
    published = publish_snapshot(marts_conn, tmp_path)
    rows = {r["table_name"]: r for r in pq.read_table(published.path / "ingest_log.parquet").to_pylist()}
    assert _counts(rows["orders"]) == (9, 9, 0)


def test_no_data_health_files_without_their_tables(marts_conn, tmp_path):
    """A warehouse without ingest log, quarantine and checks gives a snapshot without those files."""
    marts_conn.execute("create schema quarantine")  # an empty schema holds nothing to publish
    published = publish_snapshot(marts_conn, tmp_path)
    assert not any((published.path / f"{name}.parquet").exists() for name in DATA_HEALTH_TABLES)
    assert not set(published.row_counts) & set(DATA_HEALTH_TABLES)


def _add_models(conn) -> None:
    """The models schema with two versions of each model: travel_time and availability trained through
    2026-03-01 and 2026-03-02, service_time through 2026-03-02 and (created later, so listed second but older
    data) 2026-02-28; each table holds rows of both versions, tagged by a value that names the version."""
    ensure_models_schema(conn)
    versions = [
        ("travel_time", "tt-0301", "2026-03-01", "2026-03-02 04:00:00+00"),
        ("travel_time", "tt-0302", "2026-03-02", "2026-03-03 04:00:00+00"),
        ("service_time", "st-0302", "2026-03-02", "2026-03-03 04:00:00+00"),
        ("service_time", "st-0228", "2026-02-28", "2026-03-03 05:00:00+00"),
        ("availability", "av-0301", "2026-03-01", "2026-03-02 04:00:00+00"),
        ("availability", "av-0302", "2026-03-02", "2026-03-03 04:00:00+00"),
    ]
    conn.executemany(
        "insert into models.model_versions values "
        "(?, ?, date '2026-02-01', cast(? as date), cast(? as timestamptz), 100, 0.2, 0.3, 'mae_s', '{}')",
        versions,
    )
    for version in ("tt-0301", "tt-0302"):
        conn.execute(
            "insert into models.travel_time_factors values (?, 'hour', '8', ?, 10), (?, 'weather', 'rain', 0.9, 5)",
            [version, 0.8 if version == "tt-0302" else 0.7, version],
        )
    for version in ("st-0302", "st-0228"):
        conn.execute(
            "insert into models.service_times values (?, 'site_type', 'house', null, null, 10, ?, 100, 200, 20)",
            [version, 90.0 if version == "st-0302" else 60.0],
        )
    for version in ("av-0301", "av-0302"):
        conn.execute(
            "insert into models.availability values (?, 'zone', 'Schaan', null, 9, 10, ?, 0.5)",
            [version, 8 if version == "av-0302" else 4],
        )
        conn.execute(
            "insert into models.recommended_windows values (?, 'zone', 'Schaan', null, 32400, 43200, 0.8, 0.6, ?, 30)",
            [version, 0.2 if version == "av-0302" else 0.1],
        )


def test_model_tables_are_published_for_the_newest_version_only(marts_conn, tmp_path):
    """Every version is listed; each model's tables hold only the rows of its newest version (the largest
    trained_through, not the latest created)."""
    _add_models(marts_conn)
    published = publish_snapshot(marts_conn, tmp_path)
    assert set(published.row_counts) == set(SNAPSHOT_QUERIES) | set(MODEL_TABLES)

    versions = pq.read_table(published.path / "model_versions.parquet").to_pylist()
    assert [(v["model"], v["version"]) for v in versions] == [
        ("availability", "av-0301"),
        ("availability", "av-0302"),
        ("service_time", "st-0228"),
        ("service_time", "st-0302"),
        ("travel_time", "tt-0301"),
        ("travel_time", "tt-0302"),
    ]

    def rows(name: str) -> list[dict]:
        return pq.read_table(published.path / f"{name}.parquet").to_pylist()

    assert [(r["version"], r["term"], r["factor"]) for r in rows("travel_time_factors")] == [
        ("tt-0302", "hour", 0.8),
        ("tt-0302", "weather", 0.9),
    ]
    assert [(r["version"], r["median_s"]) for r in rows("service_times")] == [("st-0302", 90.0)]
    assert [(r["version"], r["successes"]) for r in rows("availability")] == [("av-0302", 8)]
    assert [(r["version"], r["lift"]) for r in rows("recommended_windows")] == [("av-0302", 0.2)]


def test_a_model_without_versions_gives_empty_tables(marts_conn, tmp_path):
    """A models schema that holds no version yet publishes every model file, empty."""
    ensure_models_schema(marts_conn)
    published = publish_snapshot(marts_conn, tmp_path)
    assert {name: published.row_counts[name] for name in MODEL_TABLES} == dict.fromkeys(MODEL_TABLES, 0)
    assert pq.read_table(published.path / "availability.parquet").column_names[:3] == ["version", "level", "zone"]


def test_no_model_files_without_the_models_schema(marts_conn, tmp_path):
    """An older warehouse without the models schema gives a snapshot without model files."""
    published = publish_snapshot(marts_conn, tmp_path)
    assert not any((published.path / f"{name}.parquet").exists() for name in MODEL_TABLES)
    assert not set(published.row_counts) & set(MODEL_TABLES)


def test_plan_versions_carry_their_model_versions_and_older_warehouses_read_as_null(marts_conn, tmp_path):
    """A warehouse built before plans recorded their learned models publishes nulls; a newer one the versions."""
    old = publish_snapshot(marts_conn, tmp_path / "old")
    runs = pq.read_table(old.path / "plan_runs.parquet").to_pylist()
    assert runs[0]["travel_model_version"] is None and runs[0]["availability_model_version"] is None
    marts_conn.execute("alter table marts.dim_plan_versions add column travel_model_version varchar")
    marts_conn.execute("alter table marts.dim_plan_versions add column service_model_version varchar")
    marts_conn.execute("alter table marts.dim_plan_versions add column availability_model_version varchar")
    marts_conn.execute("update marts.dim_plan_versions set travel_model_version = 'travel_time@2026-03-02'")
    new = publish_snapshot(marts_conn, tmp_path / "new")
    assert pq.read_table(new.path / "plan_runs.parquet").to_pylist()[0]["travel_model_version"] == (
        "travel_time@2026-03-02"
    )
