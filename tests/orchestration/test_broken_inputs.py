"""The broken-input corpus: every fault gets its exact outcome, and nothing else in the warehouse changes.

Each case loads the good landing set, breaks one file (tests/orchestration/broken_inputs/cases.py), loads that
file's group again and checks: the error message (and an untouched warehouse), or exactly which lines went to
quarantine with which reason code and field, the other rows accepted, loaded = accepted + quarantined, every
other table unchanged, and whether the data check blocks planning.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.landing import LandingFileError, load_partition, load_pings
from orchestration.quality.expectations import QUARANTINE_TOLERANCE, check_partition
from tests.orchestration.broken_inputs.cases import FAULTS, Fault
from tests.orchestration.broken_inputs.good_files import (
    DATE,
    FILES,
    GROUPS,
    OTHER_DATE,
    csv_text,
    good_rows,
    write_good_landing,
)


def _group(table: str) -> tuple[str, ...]:
    return next(group for group in GROUPS if table in group)


def _load(conn, landing: Path, group: tuple[str, ...], service_date: str = DATE):
    if group == ("pings",):
        return load_pings(conn, {service_date: landing / FILES["pings"]}, landing)
    return load_partition(conn, {t: landing / FILES[t] for t in group}, service_date, landing)


def _state(conn) -> dict[str, list[tuple]]:
    """Every raw and quarantine table (the ingest log aside: it records every load by design), sorted."""
    tables = conn.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in ('raw', 'quarantine') "
        "and table_name <> 'ingest_log' order by all"
    ).fetchall()
    return {f"{s}.{t}": sorted(conn.execute(f"select * from {s}.{t}").fetchall(), key=repr) for s, t in tables}


def _log_rows(conn) -> int:
    return conn.execute("select count(*) from raw.ingest_log").fetchone()[0]


@pytest.fixture
def loaded(tmp_path):
    """The good landing set under tmp_path/landing, loaded into an in-memory warehouse."""
    landing = tmp_path / "landing"
    write_good_landing(landing)
    with duckdb.connect() as conn:
        for group in GROUPS:
            _load(conn, landing, group)
        yield conn, landing


def test_good_set_loads_without_quarantine_and_passes_every_check(loaded):
    """The corpus' baseline is clean: no quarantined row, and every suite passes (so each fault is the only one)."""
    conn, _ = loaded
    state = _state(conn)
    assert all(not rows for name, rows in state.items() if name.startswith("quarantine."))
    assert all(rows for name, rows in state.items() if name.startswith("raw."))
    for table in QUARANTINE_TOLERANCE:
        outcome = check_partition(conn, table, DATE)
        assert outcome.passed, outcome.message()


def test_corpus_covers_at_least_25_distinct_faults_across_all_sources():
    """The issue asks for 25+ distinct faults over every source."""
    assert len({f.name for f in FAULTS}) == len(FAULTS) >= 25
    assert {f.table for f in FAULTS} | {"weather_forecasts"} >= set(QUARANTINE_TOLERANCE)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_has_its_exact_outcome_and_changes_nothing_else(loaded, fault: Fault):
    """See the module docstring."""
    conn, landing = loaded
    before, log_before = _state(conn), _log_rows(conn)
    group = _group(fault.table)
    fault.breaks(landing)

    if fault.error:
        with pytest.raises(LandingFileError, match=fault.error):
            _load(conn, landing, group)
        assert _state(conn) == before, "a refused file changed the warehouse"
        assert _log_rows(conn) == log_before
        return

    results = {r.table: r for r in _load(conn, landing, group)}
    after = _state(conn)
    for table in group:
        result = results[table]
        line = "_source_row" if table == "pings" else "_source_row + 1"
        quarantined = {
            row[0]: (row[1], row[2])
            for row in conn.execute(
                f"select {line}, reason_code, field from quarantine.{table} where service_date = ?", [DATE]
            ).fetchall()
        }
        assert quarantined == fault.quarantined.get(table, {}), table
        reasons = conn.execute(f"select reason from quarantine.{table}").fetchall()
        assert all(r[0] for r in reasons), "every quarantined row says why"
        assert result.loaded_rows == result.rows + result.quarantined_rows
        assert result.quarantined_rows == len(quarantined)
        assert conn.execute(f"select count(*) from raw.{table} where service_date = ?", [DATE]).fetchone()[0] == (
            result.rows
        )
        good = before[f"raw.{table}"]
        if fault.accepted is not None:
            assert result.rows == fault.accepted
        elif table == "pings":
            assert set(after["raw.pings"]) <= set(good) and len(after["raw.pings"]) == len(good) - len(quarantined)
        else:
            # raw rows end with (_source_file, _source_row): the good rows minus the quarantined lines.
            expected = [r for r in good if r[-1] + 1 not in quarantined]
            assert after[f"raw.{table}"] == expected, table
        assert result.ignored_columns == (fault.ignored_columns if table == fault.table else ())

        outcome = check_partition(conn, table, DATE)
        over_tolerance = result.loaded_rows and result.quarantined_rows / result.loaded_rows > (
            QUARANTINE_TOLERANCE[table]
        )
        assert outcome.blocking == bool(over_tolerance), outcome.message()
        if outcome.blocking:
            first_line = min(quarantined)
            assert f"{FILES[table]} line {first_line}" in outcome.message()

    for name, rows in after.items():
        if name.split(".")[1] not in group:
            assert rows == before[name], f"{name} changed"
    assert _log_rows(conn) == log_before + len(group)


def test_the_same_file_delivered_for_the_next_date_is_refused(loaded):
    """Yesterday's ratings file delivered again as today's: refused by name, pointing at the first delivery."""
    conn, landing = loaded
    copy = landing / FILES["ratings"].replace(DATE, OTHER_DATE)
    copy.write_bytes((landing / FILES["ratings"]).read_bytes())
    before = _state(conn)
    with pytest.raises(
        LandingFileError,
        match=r"ratings_2026-03-04\.csv: identical to ratings/ratings_2026-03-03\.csv, already loaded for 2026-03-03",
    ):
        load_partition(conn, {"ratings": copy}, OTHER_DATE, landing)
    assert _state(conn) == before


def test_reloading_the_same_file_for_its_date_changes_nothing(loaded):
    """A retry of a load (same file, same date) replaces the partition with identical rows: no double counting."""
    conn, landing = loaded
    before = _state(conn)
    for group in GROUPS:
        _load(conn, landing, group)
    assert _state(conn) == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(loaded, monkeypatch):
    """A huge export is refused with its size and the limit (and the setting to raise it); nothing changes."""
    conn, landing = loaded
    before = _state(conn)
    monkeypatch.setenv("LASTMILE_MAX_FILE_MB", "0.001")
    limit = r"orders_2026-03-03\.csv: the file is 0\.0 MB, over the 0\.001 MB limit"
    with pytest.raises(LandingFileError, match=limit):
        _load(conn, landing, ("orders",))
    assert _state(conn) == before


def test_too_many_bad_orders_block_planning_with_file_line_and_field(loaded):
    """Three broken orders of twenty (15% > 5%): the check is critical and names each file line and reason."""
    conn, landing = loaded
    rows = good_rows("orders")
    rows[2]["weight_kg"], rows[5]["lat"], rows[9]["order_type"] = "x", "", "gift"
    (landing / FILES["orders"]).write_text(csv_text("orders", rows), encoding="utf-8")
    _load(conn, landing, ("orders",))
    outcome = check_partition(conn, "orders", DATE)
    assert outcome.blocking
    message = outcome.message()
    assert "[critical] rows quarantined by the row rules" in message and "(3 of 20 rows)" in message
    assert "orders/orders_2026-03-03.csv line 4: BAD_NUMBER: weight_kg 'x' is not a number" in message
    assert "orders/orders_2026-03-03.csv line 7: BAD_COORDINATES" in message


def test_valid_but_odd_orders_are_accepted_and_the_check_warns(loaded):
    """An order in Vienna and one heavier than any vehicle load (the planner explains them), with a warning."""
    conn, landing = loaded
    rows = good_rows("orders")
    rows[0].update(lat="48.2082", lon="16.3738")
    rows[1].update(weight_kg="4000")
    (landing / FILES["orders"]).write_text(csv_text("orders", rows), encoding="utf-8")
    (result,) = _load(conn, landing, ("orders",))
    assert (result.rows, result.quarantined_rows) == (20, 0)
    outcome = check_partition(conn, "orders", DATE)
    assert not outcome.passed and not outcome.blocking
    message = outcome.message()
    assert "[warning] lat inside the service area (1 of 20 rows): orders/orders_2026-03-03.csv line 2: lat=48.2082" in (
        message
    )
    assert "[warning] weight_kg fits the largest vehicle (1 of 20 rows): orders/orders_2026-03-03.csv line 3" in message


def test_data_docs_keep_one_result_per_date_and_a_bounded_window(loaded, tmp_path):
    """Re-checking a date replaces its stored result; only the newest KEEP_DATES dates stay in the Data Docs."""
    from orchestration.quality.expectations import prune_stored_results

    conn, _ = loaded
    gx_dir = tmp_path / "gx_project"
    first = check_partition(conn, "depots", DATE, gx_dir)
    check_partition(conn, "depots", DATE, gx_dir)
    stored = gx_dir / "gx" / "uncommitted" / "validations" / "raw_depots"
    assert [p.name for p in stored.iterdir()] == [f"depots {DATE}"]
    assert len(list((stored / f"depots {DATE}").iterdir())) == 1
    assert Path(first.data_docs_path).is_file()
    for day in ("2026-03-01", "2026-03-02"):
        (stored / f"depots {day}" / "20260301T000000Z").mkdir(parents=True)
    prune_stored_results(gx_dir, "raw_depots", "depots 2026-03-04", keep_dates=2)
    # Room for the new date: of the older ones only the newest stays.
    assert sorted(p.name for p in stored.iterdir()) == [f"depots {DATE}"]
