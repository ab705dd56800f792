"""Tests of orchestration.live_state.success_by_hour: the success rates (learned, else the site type's prior) a
re-plan retries not-home failures by (issue 7)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.live_state import presence_priors, success_by_hour
from orchestration.model_store import ensure_models_schema
from solver.model import Order
from solver.replan import ReplanConfig, _retry_windows

DATE = "2026-03-03"
SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "presence_priors.csv"
HOUR = 3600


@pytest.fixture
def warehouse():
    """An in-memory warehouse with one availability model trained through the day before DATE: customer C1 is home
    in the evening (0.9 from 18:00), town Vaduz 0.4 every hour."""
    conn = duckdb.connect()
    ensure_models_schema(conn)
    conn.execute(
        "insert into models.model_versions values ('availability', 'availability@2026-03-02', '2026-02-01', "
        "'2026-03-02', now(), 100, null, null, null, null)"
    )
    rows = [("zone", "Vaduz", None, h, 10, 4, 0.4) for h in range(24)]
    rows += [("customer", "Vaduz", "C1", h, 3, 3, 0.9 if h >= 18 else 0.1) for h in range(24)]
    for row in rows:
        conn.execute("insert into models.availability values ('availability@2026-03-02', ?, ?, ?, ?, ?, ?, ?)", row)
    yield conn
    conn.close()


def _orders(*rows) -> pd.DataFrame:
    columns = ["order_id", "customer_id", "town", "site_type"]
    return pd.DataFrame([(*row, None)[:4] for row in rows], columns=columns)


def _load_priors(conn: duckdb.DuckDBPyConnection) -> None:
    """The seed as `dbt seed` loads it: reference.presence_priors."""
    conn.execute("create schema if not exists reference")
    conn.execute(f"create table reference.presence_priors as select * from read_csv('{SEED.as_posix()}', header=true)")


def test_customer_rates_first_then_the_town(warehouse):
    """An order of a known customer gets the customer's rates; one of an unknown customer its town's; one of an
    unknown town none."""
    rates = success_by_hour(warehouse, DATE, _orders(("O1", "C1", "Vaduz"), ("O2", "C9", "Vaduz"), ("O3", "C8", "X")))
    assert rates["O1"][19] == pytest.approx(0.9) and rates["O1"][10] == pytest.approx(0.1)
    assert rates["O2"][10] == pytest.approx(0.4)
    assert "O3" not in rates


def test_no_model_trained_before_the_date_gives_no_rates(warehouse):
    """A model trained through the service date itself (or later) is not used for that date."""
    assert success_by_hour(warehouse, "2026-03-02", _orders(("O1", "C1", "Vaduz"))) == {}


def test_without_a_model_a_failed_order_gets_its_site_types_prior(warehouse):
    """On the first days no availability model exists: a household gets the seed's household prior (out in
    working hours, in at the evening), a business the business one; a site type the seed lacks gets none."""
    _load_priors(warehouse)
    rates = success_by_hour(
        warehouse,
        "2026-03-02",
        _orders(("O1", "C1", "Vaduz", "house"), ("O2", "C2", "Vaduz", "business"), ("O3", "C3", "Vaduz", "depot")),
    )
    assert rates["O1"][10] < 0.5 <= rates["O1"][19]
    assert rates["O2"][10] >= 0.5 and rates["O2"][19] == 0.0
    assert "O3" not in rates


def test_a_learned_rate_comes_before_the_prior(warehouse):
    """Where the model knows the customer (or town), its rates are used, not the prior."""
    _load_priors(warehouse)
    rates = success_by_hour(warehouse, DATE, _orders(("O1", "C1", "Vaduz", "business"), ("O2", "C9", "Vaduz", "house")))
    assert rates["O1"][19] == pytest.approx(0.9) and rates["O1"][10] == pytest.approx(0.1)
    assert rates["O2"][19] == pytest.approx(0.4)


def test_the_seed_covers_every_hour_of_each_site_type_once():
    """presence_priors blocks expand to 24 hours per site type (the dbt singular test checks the same in the
    warehouse)."""
    conn = duckdb.connect()
    _load_priors(conn)
    priors = presence_priors(conn)
    assert set(priors) == {"house", "apartment", "business"}
    assert all(sorted(by_hour) == list(range(24)) for by_hour in priors.values())
    blocks = conn.execute("select sum(end_hour - start_hour) from reference.presence_priors").fetchone()[0]
    assert blocks == 24 * len(priors)


def test_a_first_day_household_out_in_the_morning_is_tried_again_in_the_evening():
    """An all-day order (07:00-20:00) of a household fails not-home at 10:00 on the first day. With the prior it is
    tried again from 17:00, when households come home; a business's all-day order failed at 10:00 is tried again
    within business hours and not in the evening. Without any rate (the rule before the prior) neither is: no
    window opens after the attempt."""
    conn = duckdb.connect()
    _load_priors(conn)
    priors = presence_priors(conn)
    order = Order("O1", 47.1, 9.5, 1000, 1000, 120, 7 * HOUR, 20 * HOUR)
    config = ReplanConfig()
    windows, _ = _retry_windows(order, 10 * HOUR, priors["house"], config)
    assert windows and all(start >= 17 * HOUR for start, _end in windows)
    windows, _ = _retry_windows(order, 10 * HOUR, priors["business"], config)
    assert windows and all(end < 17 * HOUR for _start, end in windows)
    windows, why = _retry_windows(order, 10 * HOUR, None, config)
    assert windows == () and "no window of the order opens after the attempt" in why
