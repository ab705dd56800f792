"""What a plan is made from: the planning marts plus the newest learned models trained before its date.

:func:`prepare_problems` is the one place that turns the warehouse into solver input, for the planning asset, its
validation and the benchmarks alike:
- service times: each order's expected time on site from the service-time model (customer, else site type and
  zone, else site type; plus the per-parcel time), instead of the site-type priors;
- customer availability: an order without a fixed window gets its customer's (else its zone's) recommended window
  as a soft preference, worth ``lift x failed_attempt_eur`` (the cost model's price of a failed attempt);
- travel times: the travel-time model for the date, with the weekday's factor and the forecast weather by hour;
  during the day (``as_of_s``), the weather observed last (the live drops) replaces the forecast for the next
  :data:`NOWCAST_HOURS` hours (:func:`nowcast_by_hour`).
Without learned models (a new operation, or ``use_learned=False``), the problems are the marts' as they are and
the travel model is the planner's constant-speed great-circle model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from orchestration.learning import preferred_windows, service_estimates, travel_model_for_date, weather_prior_model
from orchestration.model_store import newest_version_before, read_version_table
from orchestration.plan_store import read_problems
from solver import Problem, SolveConfig
from solver.timing import TimeDependentTravelModel

SERVICE_STATISTICS = ("mean_s", "median_s", "p90_s")
NOWCAST_HOURS = 3
"""How long a live weather observation is taken to hold, hours (its own and the next two): persistence, the
forecast that is hard to beat for the next few hours; the forecast holds after that."""


@dataclass(frozen=True)
class PlanningInputs:
    """Problems per depot, the travel model to solve and re-time them with, and the model versions used."""

    problems: list[Problem]
    travel_model: TimeDependentTravelModel | None
    model_versions: dict[str, str | None]
    preferred: int = 0  # orders given a preferred window


def _order_attributes(conn: duckdb.DuckDBPyConnection, service_date: str) -> pd.DataFrame:
    return conn.execute(
        """select order_id, customer_id, site_type, town as zone, parcels, is_all_day, tw_start_s, tw_end_s, service_s
           from marts.fct_orders_to_plan where service_date = cast(? as date)""",
        [service_date],
    ).fetchdf()


def has_table(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether the warehouse has ``schema.table`` (a table or a view)."""
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def forecast_by_hour(conn: duckdb.DuckDBPyConnection, service_date: str) -> list[str | None] | None:
    """The newest forecast's condition for each local hour of the date; None without a forecast."""
    if not has_table(conn, "staging", "stg_weather_forecasts"):
        return None
    rows = conn.execute(
        """select valid_s // 3600 as hour, arg_max(condition, issued_at_utc) as condition
           from staging.stg_weather_forecasts where valid_date = cast(? as date) group by 1""",
        [service_date],
    ).fetchall()
    if not rows:
        return None
    by_hour: list[str | None] = [None] * 24
    for hour, condition in rows:
        if 0 <= int(hour) < 24:
            by_hour[int(hour)] = condition
    return by_hour


def live_weather(conn: duckdb.DuckDBPyConnection, service_date: str, as_of_s: int) -> tuple[int, str] | None:
    """The newest live weather observation of the date taken by ``as_of_s`` (local seconds): (its local hour,
    its condition); None without one (no live drops, or none with weather yet)."""
    if not has_table(conn, "staging", "stg_live_weather"):
        return None
    row = conn.execute(
        """select local_hour, condition from staging.stg_live_weather
           where service_date = cast(? as date) and observed_s <= ? and condition is not null
           order by observed_s desc limit 1""",
        [service_date, int(as_of_s)],
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def nowcast_by_hour(
    forecast: list[str | None] | None, observed: tuple[int, str] | None, hours: int = NOWCAST_HOURS
) -> list[str | None] | None:
    """The weather by local hour a plan made now should drive in: the forecast, with the observed condition
    (``(local hour, condition)``, :func:`live_weather`) in its own hour and the ``hours - 1`` after it.

    Heavy rain that the forecast missed slows the rest of the afternoon's plan; a dry hour observed where rain
    was forecast speeds it up again. ``forecast`` as :func:`forecast_by_hour` (None: no forecast, the average
    weather in every other hour)."""
    if observed is None:
        return forecast
    hour, condition = observed
    by_hour = list(forecast) if forecast is not None else [None] * 24
    for h in range(max(hour, 0), min(hour + hours, 24)):
        by_hour[h] = condition
    return by_hour


def _weather_prior(observed: tuple[int, str] | None) -> TimeDependentTravelModel | None:
    """Without a learned travel model: constant speed, slowed by the prior factor of the weather observed live in
    the nowcast's hours (None when nothing slower than dry was observed)."""
    if observed is None:
        return None
    return weather_prior_model(nowcast_by_hour([None] * 24, observed), SolveConfig().circuity)


def _failed_attempt_eur(conn: duckdb.DuckDBPyConnection) -> float:
    row = conn.execute("select failed_attempt_eur from reference.cost_model").fetchone()
    return float(row[0]) if row else 0.0


def prepare_problems(
    conn: duckdb.DuckDBPyConnection,
    service_date: str,
    *,
    use_learned: bool = True,
    service_statistic: str = "mean_s",
    min_lift: float = 0.1,
    as_of_s: int | None = None,
) -> PlanningInputs:
    """The date's planning problems with the newest learned models trained before it applied.

    Parameters
    ----------
    conn
        The warehouse.
    service_date
        ISO date to plan.
    use_learned
        False: the marts' service-time priors, no preferred windows, constant speed (the pre-learning planner).
    service_statistic
        Which service-time estimate plans use: ``mean_s`` (default: arrivals add up expected times),
        ``median_s`` or ``p90_s`` (cautious).
    min_lift
        Smallest gain in first-attempt success for a recommended window to become an order's preferred window.
    as_of_s
        A time of the day (local seconds) to plan the rest of the day from (a re-plan, the live state): the
        weather observed last by then replaces the forecast for the next :data:`NOWCAST_HOURS` hours; without a
        learned travel model, constant speed slowed there by ``orchestration.learning.WEATHER_PRIOR``
        (the travel model's version is then ``weather-prior``). Default None: the forecast (the morning plan).
    """
    if service_statistic not in SERVICE_STATISTICS:
        raise ValueError(f"service_statistic must be one of {SERVICE_STATISTICS}, got {service_statistic!r}")
    problems = read_problems(conn, service_date)
    versions: dict[str, str | None] = {
        "travel_model_version": None,
        "service_model_version": None,
        "availability_model_version": None,
    }
    observed = live_weather(conn, service_date, as_of_s) if as_of_s is not None else None
    if not use_learned:
        return PlanningInputs(problems, _weather_prior(observed), versions)
    versions = {
        "travel_model_version": newest_version_before(conn, "travel_time", service_date),
        "service_model_version": newest_version_before(conn, "service_time", service_date),
        "availability_model_version": newest_version_before(conn, "availability", service_date),
    }
    attributes = _order_attributes(conn, service_date).set_index("order_id", drop=False)
    service_s: dict[str, int] = {}
    if versions["service_model_version"]:
        levels = read_version_table(conn, "service_times", versions["service_model_version"])
        estimate = service_estimates(levels, attributes, service_statistic, fallback=attributes["service_s"])
        service_s = dict(zip(attributes["order_id"], np.maximum(np.rint(estimate), 1).astype(int), strict=True))
    preferred: dict[str, tuple[int, int, float]] = {}
    if versions["availability_model_version"]:
        windows = read_version_table(conn, "recommended_windows", versions["availability_model_version"])
        value = _failed_attempt_eur(conn)
        picks = preferred_windows(windows, attributes, min_lift=min_lift)
        preferred = {
            r.order_id: (int(r.preferred_tw_start_s), int(r.preferred_tw_end_s), round(float(r.lift) * value, 2))
            for r in picks.itertuples(index=False)
        }
    travel_model = _weather_prior(observed)
    if versions["travel_model_version"]:
        factors = read_version_table(conn, "travel_time_factors", versions["travel_model_version"])
        weather = nowcast_by_hour(forecast_by_hour(conn, service_date), observed)
        travel_model = travel_model_for_date(
            factors, dt.date.fromisoformat(service_date), weather, version=versions["travel_model_version"]
        )

    def learned(order):
        changes = {}
        if order.order_id in service_s:
            changes["service_s"] = int(service_s[order.order_id])
        if order.order_id in preferred:
            start, end, bonus = preferred[order.order_id]
            changes.update(preferred_tw_start_s=start, preferred_tw_end_s=end, preferred_bonus_eur=bonus)
        return dataclasses.replace(order, **changes) if changes else order

    problems = [dataclasses.replace(p, orders=tuple(learned(o) for o in p.orders)) for p in problems]
    return PlanningInputs(problems, travel_model, versions, preferred=len(preferred))
