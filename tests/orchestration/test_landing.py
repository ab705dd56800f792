"""Loading landing files into raw: contract columns, partition replacement, atomicity, clear errors."""

from pathlib import Path

import duckdb
import pytest

from orchestration.landing import LANDING_COLUMNS, LandingFileError, ensure_raw_schema, load_partition, load_pings

DATE = "2026-03-03"


def _orders_csv(path: Path, order_ids: list[str], service_date: str = DATE) -> Path:
    """A minimal contract-shaped orders file with the given order ids."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ",".join(LANDING_COLUMNS["orders"])
    lines = [header]
    for order_id in order_ids:
        values = {c: "" for c in LANDING_COLUMNS["orders"]}
        values.update(
            order_id=order_id,
            customer_id="C1",
            service_date=service_date,
            order_type="delivery",
            lat="47.14",
            lon="9.52",
            site_type="house",
            parcels="1",
            weight_kg="2.5",
            volume_l="10",
        )
        lines.append(",".join(values[c] for c in LANDING_COLUMNS["orders"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def conn():
    """An in-memory warehouse."""
    with duckdb.connect() as connection:
        yield connection


def test_load_keeps_every_row_as_text_with_source_file_and_line(conn, tmp_path):
    """Each data line becomes one raw row, tagged with its file (relative) and 1-based data line."""
    path = _orders_csv(tmp_path / "orders" / f"orders_{DATE}.csv", ["A", "B", "C"])
    (result,) = load_partition(conn, {"orders": path}, DATE, tmp_path)
    assert result.rows == 3 and result.replaced_rows == 0
    rows = conn.execute("select order_id, _source_file, _source_row, weight_kg from raw.orders order by 3").fetchall()
    assert rows == [(o, f"orders/orders_{DATE}.csv", i + 1, "2.5") for i, o in enumerate("ABC")]


def test_reloading_a_date_replaces_it_and_leaves_other_dates(conn, tmp_path):
    """A re-run replaces exactly its own date: no duplicates, other dates untouched."""
    other = "2026-03-04"
    load_partition(conn, {"orders": _orders_csv(tmp_path / "o1.csv", ["X"], other)}, other, tmp_path)
    path = _orders_csv(tmp_path / "o2.csv", ["A", "B"])
    load_partition(conn, {"orders": path}, DATE, tmp_path)
    _orders_csv(path, ["A"])
    (result,) = load_partition(conn, {"orders": path}, DATE, tmp_path)
    assert result.replaced_rows == 2 and result.rows == 1
    assert conn.execute("select service_date::varchar, order_id from raw.orders order by 1").fetchall() == [
        (DATE, "A"),
        (other, "X"),
    ]
    assert conn.execute("select count(*) from raw.ingest_log").fetchone()[0] == 3


def test_missing_column_names_file_and_column_and_writes_nothing(conn, tmp_path):
    """A file without a contract column is rejected with its name and the column; the old partition stays."""
    good = _orders_csv(tmp_path / "good.csv", ["A"])
    load_partition(conn, {"orders": good}, DATE, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace("weight_kg", "weight"), encoding="utf-8")
    with pytest.raises(LandingFileError, match=r"bad\.csv: missing column\(s\) weight_kg"):
        load_partition(conn, {"orders": bad}, DATE, tmp_path)
    assert conn.execute("select order_id from raw.orders").fetchall() == [("A",)]


def test_rows_for_another_date_are_refused_with_their_line(conn, tmp_path):
    """An orders file holding another date's rows names the file, the field and the line."""
    path = _orders_csv(tmp_path / "orders.csv", ["A"], service_date="2026-03-09")
    with pytest.raises(LandingFileError, match=r"orders\.csv: field service_date must be 2026-03-03: line 2"):
        load_partition(conn, {"orders": path}, DATE, tmp_path)


def test_missing_file_is_a_clear_error(conn, tmp_path):
    """A missing landing file is reported by path, and no table is touched."""
    with pytest.raises(LandingFileError, match="file not found"):
        load_partition(conn, {"orders": tmp_path / "orders" / "nope.csv"}, DATE, tmp_path)


def test_several_files_load_all_or_nothing(conn, tmp_path):
    """Master data: when one of several files is bad, none of the tables changes."""
    master = tmp_path / "master"
    master.mkdir()
    rows = {
        "depots": "D1,Depot,Street 1,9494,Schaan,47.16,9.5,06:00,21:30,Europe/Vaduz",
        "vehicle_types": "van,Van,800,10000,32,0.3,42,45,",
    }
    for table, row in rows.items():
        (master / f"{table}.csv").write_text(",".join(LANDING_COLUMNS[table]) + "\n" + row + "\n", encoding="utf-8")
    files = {"depots": master / "depots.csv", "vehicle_types": master / "vehicle_types.csv"}
    load_partition(conn, files, DATE, tmp_path)
    (master / "vehicle_types.csv").write_text("vehicle_type\nvan\n", encoding="utf-8")
    (master / "depots.csv").write_text(",".join(LANDING_COLUMNS["depots"]) + "\n", encoding="utf-8")
    with pytest.raises(LandingFileError, match="vehicle_types.csv"):
        load_partition(conn, files, DATE, tmp_path)
    assert conn.execute("select count(*) from raw.depots").fetchone()[0] == 1
    assert conn.execute("select count(*) from raw.vehicle_types").fetchone()[0] == 1


def _pings_parquet(path: Path, n: int, service_date: str = DATE) -> Path:
    """A telematics export with ``n`` fixes of vehicle V1 from 07:00 UTC of the service date."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    start = dt.datetime.combine(dt.date.fromisoformat(service_date), dt.time(7), tzinfo=dt.UTC)
    table = pa.table(
        {
            "vehicle_id": ["V1"] * n,
            "ts_utc": pa.array([start + dt.timedelta(seconds=15 * i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "lat": [47.1 + i * 1e-4 for i in range(n)],
            "lon": [9.5] * n,
            "speed_kmh": [30.0] * n,
            "heading_deg": [0.0] * n,
        }
    )
    pq.write_table(table, path)
    return path


def _fleet(conn, *dates: str) -> None:
    """Vehicle V1 in the fleet master data of the dates (pings of unknown vehicles are quarantined)."""
    ensure_raw_schema(conn)
    for day in dates:
        conn.execute(
            "insert into raw.vehicles (service_date, vehicle_id, _source_file, _source_row) values (?, 'V1', 'm', 1)",
            [day],
        )


def test_pings_load_typed_and_replace_their_date(conn, tmp_path):
    """Telematics Parquet lands typed in raw.pings; re-loading the date replaces it (no duplicates)."""
    _fleet(conn, DATE)
    path = _pings_parquet(tmp_path / "telematics" / f"pings_{DATE}.parquet", 5)
    assert [r.rows for r in load_pings(conn, {DATE: path}, tmp_path)] == [5]
    _pings_parquet(path, 3)
    (result,) = load_pings(conn, {DATE: path}, tmp_path)
    assert (result.rows, result.replaced_rows) == (3, 5)
    assert conn.execute("select count(*), typeof(any_value(ts_utc)) from raw.pings").fetchone() == (
        3,
        "TIMESTAMP WITH TIME ZONE",
    )


def test_truncated_pings_file_is_a_clear_error_and_keeps_the_old_partition(conn, tmp_path):
    """A Parquet file cut short in transfer is refused by name; the date's earlier load stays intact."""
    _fleet(conn, DATE)
    path = _pings_parquet(tmp_path / "telematics" / f"pings_{DATE}.parquet", 4)
    load_pings(conn, {DATE: path}, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LandingFileError, match=r"pings_2026-03-03\.parquet: not a readable Parquet file"):
        load_pings(conn, {DATE: path}, tmp_path)
    assert conn.execute("select count(*) from raw.pings").fetchone()[0] == 4


def test_pings_file_without_a_contract_column_names_it(conn, tmp_path):
    """A telematics export that lacks `speed_kmh` is refused with the file and the column; nothing is loaded."""
    import pyarrow.parquet as pq

    path = _pings_parquet(tmp_path / "telematics" / f"pings_{DATE}.parquet", 3)
    pq.write_table(pq.read_table(path).drop(["speed_kmh"]), path)
    with pytest.raises(LandingFileError, match=r"pings_2026-03-03\.parquet: missing column\(s\) speed_kmh"):
        load_pings(conn, {DATE: path}, tmp_path)
    assert conn.execute("select count(*) from raw.pings").fetchone()[0] == 0


def test_a_range_of_pings_files_loads_in_one_go_and_replaces_only_its_dates(conn, tmp_path):
    """A backfill over three dates loads each file under its own date; re-loading two of them leaves the third."""
    days = ["2026-03-02", "2026-03-03", "2026-03-04"]
    _fleet(conn, *days)
    files = {
        d: _pings_parquet(tmp_path / "telematics" / f"pings_{d}.parquet", n, d)
        for d, n in zip(days, (2, 3, 4), strict=True)
    }
    assert [(r.service_date, r.rows) for r in load_pings(conn, files, tmp_path)] == list(
        zip(days, (2, 3, 4), strict=True)
    )
    _pings_parquet(files[days[0]], 6, days[0])
    results = load_pings(conn, {d: files[d] for d in days[:2]}, tmp_path)
    assert [(r.rows, r.replaced_rows) for r in results] == [(6, 2), (3, 3)]
    assert conn.execute(
        "select service_date::varchar, count(*) from raw.pings group by 1 order by 1"
    ).fetchall() == list(zip(days, (6, 3, 4), strict=True))
    assert conn.execute(
        "select source_file from raw.ingest_log where service_date = '2026-03-04' and table_name = 'pings'"
    ).fetchall() == [("telematics/pings_2026-03-04.parquet",)]
