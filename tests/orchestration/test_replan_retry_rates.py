"""Tests of orchestration.live_state.success_by_hour: the learned success rates a re-plan retries not-home
failures by (issue 7)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from orchestration.live_state import success_by_hour
from orchestration.model_store import ensure_models_schema

DATE = "2026-03-03"


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
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "town"])


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
