"""Triggers of the `replan` job (docs/replanning.md section 4), each sensor evaluated on its own with
``dagster.build_sensor_context``: a new file or a new live state asks for one run; the same again asks for none."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.requests import write_replan_request
from orchestration.resources import LandingZone
from orchestration.sensors import (
    DEFAULT_DELAY_THRESHOLD_MIN,
    DELAY_THRESHOLD_ENV,
    delay_sensor,
    order_changes_sensor,
    replan_request_sensor,
    weather_sensor,
)

DATE = "2026-03-03"
CHANGE_COLUMNS = ("change_id", "order_id", "change_type", "received_at_utc", "service_date")
EVENT_COLUMNS = ("event_id", "service_date", "vehicle_id", "driver_id", "order_id", "event_type", "ts_utc")


def _csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return path


def _changes(landing: Path, name: str, *change_types: str, date: str = DATE) -> Path:
    rows = [
        {"change_id": f"C{k}", "order_id": f"O-{k}", "change_type": kind, "received_at_utc": f"{date}T09:00:00Z",
         "service_date": date}
        for k, kind in enumerate(change_types)
    ]  # fmt: skip
    return _csv(landing / "live" / date / name, CHANGE_COLUMNS, rows)


def _events(landing: Path, name: str, *event_types: str) -> Path:
    rows = [
        {"event_id": f"E{k}", "service_date": DATE, "vehicle_id": "V-1", "driver_id": "DR-1",
         "order_id": "" if kind in ("breakdown", "depot_departure") else f"O-{k}", "event_type": kind,
         "ts_utc": f"{DATE}T09:00:00Z"}
        for k, kind in enumerate(event_types)
    ]  # fmt: skip
    return _csv(landing / "live" / DATE / name, EVENT_COLUMNS, rows)


def _evaluate(sensor, cursor: str | None = None, **resources) -> tuple[list[dg.RunRequest], str | None]:
    """The sensor's run requests and new cursor for one evaluation."""
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        result = sensor(context)
    if isinstance(result, dg.SkipReason):
        return [], cursor
    return list(result.run_requests or []), result.cursor


def _reason(request: dg.RunRequest) -> str:
    return request.run_config["ops"]["replan_plan"]["config"]["reason"]


def test_a_new_order_changes_file_asks_for_one_replan_and_the_same_file_again_for_none(tmp_path):
    """One RunRequest of the date, reason `new orders`, run key naming the file; the next evaluation with the
    returned cursor asks for nothing; a later file asks again, with its own reason."""
    landing = LandingZone(landing_dir=str(tmp_path))
    _changes(tmp_path, "order_changes_100000.csv", "new", "new")
    requests, cursor = _evaluate(order_changes_sensor, landing=landing)
    assert [(r.partition_key, r.run_key, _reason(r)) for r in requests] == [
        (DATE, f"live/{DATE}/order_changes_100000.csv", "new orders")
    ]
    assert requests[0].job_name in (None, "replan")
    again, cursor = _evaluate(order_changes_sensor, cursor, landing=landing)
    assert again == []
    _changes(tmp_path, "order_changes_103000.csv", "cancel")
    later, _ = _evaluate(order_changes_sensor, cursor, landing=landing)
    assert [(r.run_key, _reason(r)) for r in later] == [(f"live/{DATE}/order_changes_103000.csv", "cancellations")]


@pytest.mark.parametrize(
    ("change_types", "reason"),
    [(("window",), "window changes"), (("window", "new", "cancel"), "new orders, cancellations, window changes")],
)
def test_the_reason_names_the_kinds_of_change_in_the_file(tmp_path, change_types, reason):
    """A file of window changes gives `window changes`; a file with several kinds names each, in a fixed order."""
    _changes(tmp_path, "order_changes_100000.csv", *change_types)
    requests, _ = _evaluate(order_changes_sensor, landing=LandingZone(landing_dir=str(tmp_path)))
    assert [_reason(r) for r in requests] == [reason]


def test_a_breakdown_event_asks_for_a_replan_and_ordinary_events_do_not(tmp_path):
    """An events drop with a breakdown gives reason `breakdown`; one with only stop events gives nothing; pings
    never trigger."""
    landing = LandingZone(landing_dir=str(tmp_path))
    _events(tmp_path, "events_100000.csv", "depot_departure", "arrived", "delivered")
    (tmp_path / "live" / DATE / "pings_100000.parquet").write_bytes(b"")
    quiet, cursor = _evaluate(order_changes_sensor, landing=landing)
    assert quiet == []
    _events(tmp_path, "events_101500.csv", "arrived", "breakdown")
    requests, _ = _evaluate(order_changes_sensor, cursor, landing=landing)
    assert [(r.run_key, _reason(r)) for r in requests] == [(f"live/{DATE}/events_101500.csv", "breakdown")]


def test_files_being_written_and_other_names_are_left_alone(tmp_path):
    """A drop under a temporary name (not yet renamed) and unrelated files trigger nothing until the drop lands."""
    landing = LandingZone(landing_dir=str(tmp_path))
    _changes(tmp_path, ".order_changes_100000.csv.tmp", "new")
    _changes(tmp_path, "notes.csv", "new")
    requests, cursor = _evaluate(order_changes_sensor, landing=landing)
    assert requests == []
    (tmp_path / "live" / DATE / ".order_changes_100000.csv.tmp").rename(
        tmp_path / "live" / DATE / "order_changes_100000.csv"
    )
    requests, _ = _evaluate(order_changes_sensor, cursor, landing=landing)
    assert [r.run_key for r in requests] == [f"live/{DATE}/order_changes_100000.csv"]


def test_a_request_file_asks_for_one_replan_with_its_reason_and_budget(tmp_path, monkeypatch):
    """write_replan_request -> one RunRequest of its date with its reason and time budget; evaluated again with
    the cursor, none; a second click is a second request."""
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(tmp_path))
    first = write_replan_request(tmp_path, DATE, "dispatcher: van 3 stuck", time_budget_s=7.5)
    assert first.parent == tmp_path / "requests" and first.name.startswith(f"replan_{DATE}_")
    assert json.loads(first.read_text())["service_date"] == DATE
    requests, cursor = _evaluate(replan_request_sensor)
    assert len(requests) == 1
    request = requests[0]
    assert (request.partition_key, request.run_key) == (DATE, f"request/{first.name}")
    assert request.run_config["ops"]["replan_plan"]["config"] == {
        "reason": "dispatcher: van 3 stuck",
        "time_budget_s": 7.5,
    }
    assert _evaluate(replan_request_sensor, cursor)[0] == []
    second = write_replan_request(tmp_path, DATE, "again")
    requests, _ = _evaluate(replan_request_sensor, cursor)
    assert [(r.run_key, _reason(r)) for r in requests] == [(f"request/{second.name}", "again")]


def test_a_bad_request_is_refused_when_written_and_ignored_when_found(tmp_path, monkeypatch):
    """write_replan_request refuses a date that is not ISO and a budget <= 0; a broken file in the folder is
    skipped without a run."""
    with pytest.raises(ValueError, match="time_budget_s"):
        write_replan_request(tmp_path, DATE, "x", time_budget_s=0)
    with pytest.raises(ValueError):
        write_replan_request(tmp_path, "03/03/2026", "x")
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(tmp_path))
    (tmp_path / "requests").mkdir(exist_ok=True)
    (tmp_path / "requests" / f"replan_{DATE}_broken.json").write_text("{not json")
    assert _evaluate(replan_request_sensor)[0] == []


def _live_vehicles(warehouse: Path, as_of_s: int, late_min: dict[str, float]) -> None:
    """plans.live_vehicles of DATE at ``as_of_s``: one row per vehicle with its total lateness (minutes)."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema if not exists plans")
        conn.execute(
            "create table if not exists plans.live_vehicles (service_date date, as_of_s integer, vehicle_id varchar, "
            "late_s_total integer)"
        )
        conn.execute("delete from plans.live_vehicles where service_date = cast(? as date)", [DATE])
        for vehicle_id, minutes in late_min.items():
            conn.execute(
                "insert into plans.live_vehicles values (cast(? as date), ?, ?, ?)",
                [DATE, as_of_s, vehicle_id, round(minutes * 60)],
            )


def test_a_vehicle_late_beyond_the_threshold_asks_for_one_delay_replan(tmp_path, monkeypatch):
    """Default threshold: a van 20 min late in total triggers (reason delay), one 10 min late does not; the same
    live state again triggers nothing; a new state 10 min later does not trigger the same van again, one 35 min
    after the first does; another van over the threshold triggers at once."""
    monkeypatch.delenv(DELAY_THRESHOLD_ENV, raising=False)
    warehouse = tmp_path / "w.duckdb"
    resource = DuckDBResource(database=str(warehouse))
    assert DEFAULT_DELAY_THRESHOLD_MIN == 15
    _live_vehicles(warehouse, 36_000, {"V-1": 20, "V-2": 10})
    requests, cursor = _evaluate(delay_sensor, duckdb=resource)
    assert [(r.partition_key, r.run_key, _reason(r)) for r in requests] == [(DATE, f"delay/{DATE}/36000", "delay")]
    assert "V-1" in requests[0].tags["lastmile/late"] and "V-2" not in requests[0].tags["lastmile/late"]
    assert _evaluate(delay_sensor, cursor, duckdb=resource)[0] == []
    _live_vehicles(warehouse, 36_600, {"V-1": 25, "V-2": 10})
    requests, cursor = _evaluate(delay_sensor, cursor, duckdb=resource)
    assert requests == []
    _live_vehicles(warehouse, 37_200, {"V-1": 25, "V-2": 16})
    requests, cursor = _evaluate(delay_sensor, cursor, duckdb=resource)
    assert [r.tags["lastmile/late"] for r in requests] == ["V-2 16 min"]
    _live_vehicles(warehouse, 36_000 + 35 * 60, {"V-1": 30, "V-2": 16})
    requests, _ = _evaluate(delay_sensor, cursor, duckdb=resource)
    assert [r.tags["lastmile/late"] for r in requests] == ["V-1 30 min"]


def test_the_delay_threshold_comes_from_the_environment(tmp_path, monkeypatch):
    """LASTMILE_DELAY_THRESHOLD_MIN=30: a van 20 min late does not trigger, one 31 min late does."""
    monkeypatch.setenv(DELAY_THRESHOLD_ENV, "30")
    warehouse = tmp_path / "w.duckdb"
    resource = DuckDBResource(database=str(warehouse))
    _live_vehicles(warehouse, 36_000, {"V-1": 20})
    assert _evaluate(delay_sensor, duckdb=resource)[0] == []
    _live_vehicles(warehouse, 36_300, {"V-1": 31})
    assert [_reason(r) for r in _evaluate(delay_sensor, duckdb=resource)[0]] == ["delay"]


def test_the_delay_sensor_waits_for_a_warehouse_and_a_live_state(tmp_path, monkeypatch):
    """No warehouse file, or one without a live state: nothing to ask for."""
    monkeypatch.delenv(DELAY_THRESHOLD_ENV, raising=False)
    warehouse = tmp_path / "w.duckdb"
    assert _evaluate(delay_sensor, duckdb=DuckDBResource(database=str(warehouse)))[0] == []
    duckdb.connect(str(warehouse)).close()
    assert _evaluate(delay_sensor, duckdb=DuckDBResource(database=str(warehouse)))[0] == []


WEATHER_COLUMNS = ("observed_at_utc", "temperature_c", "precipitation_mm", "wind_kmh", "condition")


def _weather(landing: Path, name: str, *hours_conditions: tuple[int, str]) -> Path:
    """A live weather drop of DATE (a winter Tuesday: UTC = local - 1 h) with one observation per (hour, condition)."""
    rows = [
        {"observed_at_utc": f"{DATE}T{hour - 1:02d}:00:00Z", "temperature_c": "5", "precipitation_mm": "0",
         "wind_kmh": "10", "condition": condition}
        for hour, condition in hours_conditions
    ]  # fmt: skip
    return _csv(landing / "live" / DATE / name, WEATHER_COLUMNS, rows)


def _forecast(warehouse: Path, conditions: dict[int, str]) -> None:
    """staging.stg_weather_forecasts with DATE's forecast condition by local hour (issued the day before)."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema if not exists staging")
        conn.execute(
            "create or replace table staging.stg_weather_forecasts (issued_at_utc timestamptz, "
            "valid_at_utc timestamptz, condition varchar)"
        )
        for hour, condition in conditions.items():
            conn.execute(
                "insert into staging.stg_weather_forecasts values ('2026-03-02T17:00:00Z', cast(? as timestamptz), ?)",
                [f"{DATE}T{hour - 1:02d}:00:00Z", condition],
            )


def test_weather_worse_than_the_forecast_asks_for_one_weather_replan(tmp_path):
    """Forecast dry all day: drops observing dry and forecast rain trigger nothing; heavy rain at 12:00 triggers
    one re-plan (reason weather, the observation in its tags); heavy rain going on at 13:00 triggers no second
    one; snow at 14:00 (worse again) does; dry at 16:00 ends the episode, so heavy rain at 17:00 triggers again."""
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    _forecast(warehouse, {**{h: "dry" for h in range(1, 24)}, 11: "rain"})
    resources = {"landing": LandingZone(landing_dir=str(landing)), "duckdb": DuckDBResource(database=str(warehouse))}
    _weather(landing, "weather_110000.csv", (9, "dry"), (10, "dry"))
    _weather(landing, "weather_113000.csv", (11, "rain"))
    requests, cursor = _evaluate(weather_sensor, **resources)
    assert requests == []
    _weather(landing, "weather_123000.csv", (12, "heavy_rain"))
    requests, cursor = _evaluate(weather_sensor, cursor, **resources)
    assert [(r.partition_key, r.run_key, _reason(r)) for r in requests] == [
        (DATE, f"weather/{DATE}/weather_123000.csv", "weather")
    ]
    tag = requests[0].tags["lastmile/weather"]
    assert tag.startswith("heavy_rain observed at") and "forecast dry" in tag
    assert _evaluate(weather_sensor, cursor, **resources)[0] == []
    steps = [("weather_133000.csv", 13, "heavy_rain", 0), ("weather_143000.csv", 14, "snow", 1),
             ("weather_163000.csv", 16, "dry", 0), ("weather_173000.csv", 17, "heavy_rain", 1)]  # fmt: skip
    for name, hour, condition, expected in steps:
        _weather(landing, name, (hour, condition))
        requests, cursor = _evaluate(weather_sensor, cursor, **resources)
        assert len(requests) == expected, name


def test_weather_without_a_forecast_counts_as_dry_and_bad_drops_are_skipped(tmp_path):
    """No warehouse yet: rain (worse than dry) triggers; a drop without the contract's columns or with an unknown
    condition triggers nothing and is not looked at again."""
    landing = tmp_path / "landing"
    resources = {
        "landing": LandingZone(landing_dir=str(landing)),
        "duckdb": DuckDBResource(database=str(tmp_path / "none.duckdb")),
    }
    _csv(landing / "live" / DATE / "weather_090000.csv", ("observed_at_utc", "sky"), [{"sky": "grey"}])
    _weather(landing, "weather_093000.csv", (9, "hail"))
    requests, cursor = _evaluate(weather_sensor, **resources)
    assert requests == [] and json.loads(cursor)["seen"][DATE] == ["weather_090000.csv", "weather_093000.csv"]
    _weather(landing, "weather_100000.csv", (10, "rain"))
    requests, _ = _evaluate(weather_sensor, cursor, **resources)
    assert [r.tags["lastmile/weather"].split(" ")[0] for r in requests] == ["rain"]
    assert "forecast none" in requests[0].tags["lastmile/weather"]


def test_a_retryable_failed_delivery_asks_for_a_replan_and_other_failures_do_not(tmp_path):
    """An events drop with a `not_home` failure gives reason `failed delivery` (its retry is planned while the
    window is open); a `refused` failure, which is not tried again the same day, gives nothing; a breakdown in
    the same drop as a failure gives one request, reason `breakdown`."""
    landing = LandingZone(landing_dir=str(tmp_path))
    columns = (*EVENT_COLUMNS, "failure_reason")

    def drop(name: str, *events: tuple[str, str]) -> None:
        rows = [
            {"event_id": f"E{k}", "service_date": DATE, "vehicle_id": "V-1", "order_id": f"O-{k}", "event_type": kind,
             "ts_utc": f"{DATE}T09:00:00Z", "failure_reason": reason}
            for k, (kind, reason) in enumerate(events)
        ]  # fmt: skip
        _csv(tmp_path / "live" / DATE / name, columns, rows)

    drop("events_100000.csv", ("delivered", ""), ("failed", "refused"))
    quiet, cursor = _evaluate(order_changes_sensor, landing=landing)
    assert quiet == []
    drop("events_103000.csv", ("delivered", ""), ("failed", "not_home"))
    requests, cursor = _evaluate(order_changes_sensor, cursor, landing=landing)
    assert [(r.run_key, _reason(r), r.tags["lastmile/trigger"]) for r in requests] == [
        (f"live/{DATE}/events_103000.csv", "failed delivery", "failed_delivery")
    ]
    drop("events_110000.csv", ("failed", "not_home"), ("breakdown", ""))
    requests, _ = _evaluate(order_changes_sensor, cursor, landing=landing)
    assert [_reason(r) for r in requests] == ["breakdown"]
