"""Test doubles shared by the dashboard tests."""

from __future__ import annotations

from types import ModuleType

import duckdb
import pytest


def record_sql(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[tuple[str, dict | None]]:
    """Make ``module.duckdb.connect`` hand out real connections that record every ``execute`` call.

    Returns the list the calls are appended to, as ``(sql, parameters)``: a test asserts that user input reaches
    DuckDB only as bound parameters, never inside the SQL text.
    """
    executed: list[tuple[str, dict | None]] = []
    real_connect = duckdb.connect

    class RecordingConnection:
        def __init__(self, connection):
            self._connection = connection

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self._connection.close()

        def execute(self, sql, parameters=None):
            executed.append((sql, parameters))
            return self._connection.execute(sql, parameters)

    monkeypatch.setattr(module.duckdb, "connect", lambda *a, **k: RecordingConnection(real_connect(*a, **k)))
    return executed
