"""prepare_problems: the planning marts plus the newest learned models trained before the date.

A hand-made warehouse (the marts the planner reads, the cost model, a forecast and three versions of each model);
the solver input must carry the learned service times, the preferred windows and the date's travel model.
"""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.learning import WEATHER_PRIOR, WEATHER_PRIOR_VERSION, WEEKDAYS, Fit
from orchestration.model_store import write_version
from orchestration.planning_inputs import nowcast_by_hour, prepare_problems

DATE = "2026-03-06"  # a Friday


def _fit(tables: dict[str, pd.DataFrame]) -> Fit:
    return Fit(tables, n_samples=100, fit_error=1.0, baseline_error=2.0, error_metric="test")


def _travel(hour8: float) -> Fit:
    rows = [("hour", str(h), hour8 if h == 8 else 1.0, 10) for h in range(24)]
    rows += [("weekday", d, 0.9 if d == "Fri" else 1.0, 10) for d in WEEKDAYS]
    rows += [("weather", "dry", 1.0, 30), ("weather", "rain", 0.8, 10), ("vehicle", "V1", 1.1, 20)]
    return _fit({"travel_time_factors": pd.DataFrame(rows, columns=["term", "key", "factor", "n_samples"])})


def _service(house_mean: float) -> Fit:
    levels = pd.DataFrame([
        {"level": "site_type", "site_type": "house", "zone": None, "customer_id": None, "n_samples": 50,
         "median_s": house_mean - 10, "mean_s": house_mean, "p90_s": house_mean + 100, "per_parcel_s": 20.0},
        {"level": "customer", "site_type": "house", "zone": "Vaduz", "customer_id": "C-SLOW", "n_samples": 5,
         "median_s": 500.0, "mean_s": 520.0, "p90_s": 700.0, "per_parcel_s": 20.0},
    ])
    return _fit({"service_times": levels})


def _availability(start_h: int) -> Fit:
    windows = pd.DataFrame([
        {"level": "customer", "zone": "Vaduz", "customer_id": "C-EVENING", "window_start_s": start_h * 3600,
         "window_end_s": (start_h + 2) * 3600, "success_rate": 0.9, "day_success_rate": 0.4, "lift": 0.5,
         "attempts": 6},
    ])
    table = pd.DataFrame([{"level": "zone", "zone": "Vaduz", "customer_id": None, "hour": 18, "attempts": 6,
                           "successes": 5, "success_rate": 0.8}])
    return _fit({"availability": table, "recommended_windows": windows})


@pytest.fixture
def warehouse(tmp_path):
    import duckdb

    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("create schema marts; create schema reference; create schema staging")
    conn.execute("create table marts.dim_depots as select 'D1' as depot_id, 47.14 as lat, 9.52 as lon, "
                 "21600 as opens_s, 77400 as closes_s")
    orders = [
        # order, customer, window (None = all day), parcels
        ("O-SLOW", "C-SLOW", (36000, 43200), 2),
        ("O-EVENING", "C-EVENING", None, 1),
        ("O-FIXED", "C-EVENING", (36000, 43200), 1),
        ("O-NEW", "C-NEW", None, 3),
    ]
    conn.execute("""create table marts.fct_orders_to_plan (service_date date, depot_id varchar, order_id varchar,
        customer_id varchar, site_type varchar, town varchar, parcels integer, is_all_day boolean, lat double,
        lon double, weight_g bigint, volume_cm3 bigint, service_s integer, tw_start_s integer, tw_end_s integer,
        required_skills varchar, priority varchar, order_type varchar)""")
    for order_id, customer, window, parcels in orders:
        start, end = window or (21600, 77400)
        conn.execute(
            "insert into marts.fct_orders_to_plan values (?, 'D1', ?, ?, 'house', 'Vaduz', ?, ?, 47.14, 9.52, "
            "1000, 1000, 90, ?, ?, '', 'normal', 'delivery')",
            [DATE, order_id, customer, parcels, window is None, start, end],
        )
    conn.execute("""create table marts.fct_vehicle_days as select cast(? as date) as service_date, 'D1' as depot_id,
        'V1' as vehicle_id, 'van' as vehicle_type, 800000 as capacity_weight_g, 10000000 as capacity_volume_cm3,
        25200 as shift_start_s, 73800 as shift_end_s, 32.0 as speed_kmh, 0.32 as cost_per_km_eur,
        42.0 as cost_per_hour_eur, 45.0 as cost_per_day_eur, '' as skills""", [DATE])
    conn.execute("create table reference.cost_model as select 4.5 as failed_attempt_eur")
    conn.execute("""create table staging.stg_weather_forecasts as
        select cast(? as date) as valid_date, h * 3600 as valid_s,
               timestamptz '2026-03-05 12:00:00+00' as issued_at_utc,
               case when h = 8 then 'rain' else 'dry' end as condition
        from range(24) t(h)""", [DATE])
    # Versions trained through the day before, two days before, and the date itself (not usable for it).
    for through, hour8, house, start_h in (("2026-03-04", 0.5, 300.0, 17), ("2026-03-05", 0.6, 200.0, 18),
                                           (DATE, 0.1, 999.0, 10)):
        write_version(conn, "travel_time", "2026-01-01", through, _travel(hour8), {})
        write_version(conn, "service_time", "2026-01-01", through, _service(house), {})
        write_version(conn, "availability", "2026-01-01", through, _availability(start_h), {})
    yield conn
    conn.close()


def test_the_newest_versions_before_the_date_shape_the_problem(warehouse):
    inputs = prepare_problems(warehouse, DATE)
    assert inputs.model_versions == {
        "travel_model_version": "travel_time@2026-03-05",
        "service_model_version": "service_time@2026-03-05",
        "availability_model_version": "availability@2026-03-05",
    }
    orders = {o.order_id: o for o in inputs.problems[0].orders}
    # Service: the slow customer's own history (mean 520 + 1 extra parcel x 20), else the site type's (200 + 2 x 20).
    assert orders["O-SLOW"].service_s == 540
    assert orders["O-NEW"].service_s == 240
    # Availability: the all-day order of the evening customer gets the 18-20 window worth 0.5 x 4.50 EUR;
    # the same customer's fixed-window order and a customer without history get none.
    evening = orders["O-EVENING"]
    assert (evening.preferred_tw_start_s, evening.preferred_tw_end_s) == (18 * 3600, 20 * 3600)
    assert evening.preferred_bonus_eur == pytest.approx(2.25)
    assert orders["O-FIXED"].preferred_tw_start_s is None and orders["O-NEW"].preferred_tw_start_s is None
    assert inputs.preferred == 1
    # Travel: Friday (0.9) x the hour's factor x the forecast (rain at 08:00: 0.8).
    model = inputs.travel_model
    assert model.version == "travel_time@2026-03-05"
    assert model.hour_factor[8] == pytest.approx(0.6 * 0.9 * 0.8)
    assert model.hour_factor[12] == pytest.approx(0.9)
    assert dict(model.vehicle_factor) == {"V1": 1.1}


def test_without_learned_models_the_marts_are_planned_as_they_are(warehouse):
    inputs = prepare_problems(warehouse, DATE, use_learned=False)
    assert inputs.travel_model is None and set(inputs.model_versions.values()) == {None}
    assert {o.service_s for o in inputs.problems[0].orders} == {90}
    assert all(o.preferred_tw_start_s is None for o in inputs.problems[0].orders)


def test_the_first_day_has_no_versions_to_use(warehouse):
    inputs = prepare_problems(warehouse, "2026-03-04")
    assert inputs.travel_model is None and set(inputs.model_versions.values()) == {None}


def test_an_unknown_service_statistic_is_refused(warehouse):
    with pytest.raises(ValueError, match="service_statistic"):
        prepare_problems(warehouse, DATE, service_statistic="mode")


def test_a_replan_drives_the_next_hours_at_the_weather_observed_last(warehouse):
    """Rain observed at 11:00 (forecast dry) and taken by 11:30: a re-plan then drives 11:00-13:59 at the rain
    factor (0.8) and the forecast's weather before and after; by 10:59 the observation was not there yet, and
    the morning plan (no as_of) keeps the forecast."""
    warehouse.execute("""create table staging.stg_live_weather as
        select cast(? as date) as service_date, 11 * 3600 as observed_s, 11 as local_hour, 'rain' as condition""",
                      [DATE])  # fmt: skip
    morning = prepare_problems(warehouse, DATE).travel_model.hour_factor
    replan = prepare_problems(warehouse, DATE, as_of_s=11 * 3600 + 1800).travel_model.hour_factor
    early = prepare_problems(warehouse, DATE, as_of_s=11 * 3600 - 1).travel_model.hour_factor
    assert early == morning
    assert [h for h in range(24) if replan[h] != pytest.approx(morning[h])] == [11, 12, 13]
    assert replan[12] == pytest.approx(0.9 * 0.8) and morning[12] == pytest.approx(0.9)
    assert replan[8] == morning[8] and replan[14] == morning[14]


def test_the_nowcast_holds_the_observation_for_its_hours_and_then_the_forecast():
    forecast = ["dry"] * 24
    assert nowcast_by_hour(forecast, None) == forecast
    nowcast = nowcast_by_hour(forecast, (22, "snow"))
    assert nowcast[21:] == ["dry", "snow", "snow"] and nowcast[:21] == forecast[:21]
    assert nowcast_by_hour(None, (10, "rain"), hours=2) == [None] * 10 + ["rain", "rain"] + [None] * 12
    assert forecast == ["dry"] * 24  # not changed in place


def test_without_a_learned_model_the_live_weather_slows_constant_speed_by_the_prior(warehouse):
    """The first days have no travel model: a re-plan under heavy rain observed at 11:00 drives constant speed
    slowed by the heavy-rain prior from 11:00 to 13:59 (version weather-prior); dry weather observed leaves the
    constant-speed planner as it is (no model), and so does the morning plan."""
    warehouse.execute("""create table staging.stg_live_weather as
        select cast(? as date) as service_date, h * 3600 as observed_s, h as local_hour,
               case when h = 11 then 'heavy_rain' else 'dry' end as condition from range(8, 15) t(h)""", [DATE])
    wet = prepare_problems(warehouse, DATE, use_learned=False, as_of_s=11 * 3600 + 600).travel_model
    assert wet.version == WEATHER_PRIOR_VERSION
    assert [h for h in range(24) if wet.hour_factor[h] != 1.0] == [11, 12, 13]
    assert wet.hour_factor[12] == pytest.approx(WEATHER_PRIOR["heavy_rain"])
    assert prepare_problems(warehouse, DATE, use_learned=False, as_of_s=10 * 3600 + 600).travel_model is None
    assert prepare_problems(warehouse, DATE, use_learned=False, as_of_s=14 * 3600 + 60).travel_model is None
    assert prepare_problems(warehouse, "2026-03-04", as_of_s=11 * 3600 + 600).travel_model is None  # no live weather
