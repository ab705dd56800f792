"""The model fits of orchestration.learning on synthetic observations whose truth is known."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from orchestration.learning import (
    CIRCUITY,
    WEATHER_PRIOR,
    WEATHER_PRIOR_VERSION,
    WEEKDAYS,
    factor_lookup,
    fit_availability,
    fit_service_time,
    fit_travel_time,
    preferred_windows,
    service_estimates,
    travel_model_for_date,
    weather_prior_model,
)

TRUE_HOUR = {h: (0.7 if h in (8, 17) else 1.0) for h in range(24)}
TRUE_RAIN = 0.85
TRUE_PACE = {"V1": 1.0, "V2": 0.8}  # V2's driver is 20% slower


def _legs(n: int, seed: int = 1, days: int = 4, hours=range(7, 19)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hour = rng.choice(np.array(list(hours)), n)
    vehicle = rng.choice(np.array(["V1", "V2"]), n)
    weather = np.where(rng.random(n) < 0.3, "rain", "dry")
    straight = rng.uniform(300, 4000, n)
    speed = 36.0
    base = straight * CIRCUITY / (speed / 3.6)
    multiplier = (np.array([TRUE_HOUR[h] for h in hour]) * np.where(weather == "rain", TRUE_RAIN, 1.0)
                  * np.array([TRUE_PACE[v] for v in vehicle]))
    duration = np.rint(base / multiplier * rng.lognormal(0, 0.05, n)).astype(int)
    lat = 47.10 + rng.uniform(0, 0.05, n)
    lon = 9.50 + rng.uniform(0, 0.05, n)
    return pd.DataFrame({
        "service_date": [dt.date(2026, 3, 2) + dt.timedelta(days=int(d)) for d in rng.integers(0, days, n)],
        "vehicle_id": vehicle, "from_lat": lat, "from_lon": lon, "to_lat": lat + 0.01, "to_lon": lon,
        "duration_s": duration, "straight_m": straight, "planning_speed_kmh": speed,
        "weekday": 1, "depart_hour": hour, "weather": weather, "exclusion_reason": None,
    })


def test_travel_fit_recovers_rush_hours_rain_and_driver_pace():
    factors = fit_travel_time(_legs(6000)).tables["travel_time_factors"]
    hour, weather, vehicle = (factor_lookup(factors, t) for t in ("hour", "weather", "vehicle"))
    weekday = factor_lookup(factors, "weekday")["Tue"]
    # The product of the terms is what a leg gets; the pace and weekday split is arbitrary up to the ridge.
    v1 = vehicle["V1"] * weekday * weather["dry"]
    assert hour["8"] * v1 == pytest.approx(0.7, abs=0.03)
    assert hour["12"] * v1 == pytest.approx(1.0, abs=0.03)
    assert weather["rain"] / weather["dry"] == pytest.approx(TRUE_RAIN, abs=0.02)
    assert vehicle["V2"] / vehicle["V1"] == pytest.approx(0.8, abs=0.02)


def test_travel_fit_shrinks_unseen_hours_to_the_average_and_reports_holdout_error():
    fit = fit_travel_time(_legs(3000))
    hour = factor_lookup(fit.tables["travel_time_factors"], "hour")
    observed = [hour[str(h)] for h in range(7, 19)]
    assert min(observed) < hour["3"] < max(observed)  # night: no data, the fleet's average speed
    assert fit.fit_error is not None and fit.baseline_error is not None
    assert fit.fit_error < 0.5 * fit.baseline_error  # knowing the rush hours and the slow driver halves the error


def test_travel_fit_skips_excluded_legs_and_needs_some():
    legs = _legs(200)
    legs["exclusion_reason"] = "too_short"
    with pytest.raises(ValueError, match="no usable legs"):
        fit_travel_time(legs)
    legs.loc[:99, "exclusion_reason"] = None
    assert fit_travel_time(legs).n_samples == 100


def test_travel_model_for_date_folds_weekday_and_forecast_weather_into_the_hours():
    factors = pd.DataFrame(
        [("hour", str(h), 0.5 if h == 8 else 1.0, 10) for h in range(24)]
        + [("weekday", d, 0.9 if d == "Fri" else 1.0, 10) for d in WEEKDAYS]
        + [("weather", "dry", 1.0, 30), ("weather", "rain", 0.8, 10), ("weather", "heavy_rain", 1.0, 0),
           ("weather", "snow", 1.0, 0), ("zone", "4710:950", 0.7, 5), ("vehicle", "V1", 1.1, 5)],
        columns=["term", "key", "factor", "n_samples"],
    )
    friday = dt.date(2026, 3, 6)
    forecast = ["dry"] * 24
    forecast[8] = "rain"
    model = travel_model_for_date(factors, friday, forecast, version="travel_time@2026-03-05")
    assert model.hour_factor[8] == pytest.approx(0.5 * 0.9 * 0.8)
    assert model.hour_factor[12] == pytest.approx(0.9)
    assert dict(model.zone_factor) == {"4710:950": 0.7} and dict(model.vehicle_factor) == {"V1": 1.1}
    no_forecast = travel_model_for_date(factors, friday, None)
    average = np.exp((30 * np.log(1.0) + 10 * np.log(0.8)) / 40)
    assert no_forecast.hour_factor[12] == pytest.approx(0.9 * average)


def test_weather_never_driven_in_takes_the_prior_against_dry_roads():
    """Heavy rain and snow have no legs (n_samples 0; the ridge left them at 1.0): a forecast of them slows the
    hour by WEATHER_PRIOR against the dry factor instead of planning them as dry; learned rain keeps its 0.8."""
    factors = pd.DataFrame(
        [("hour", str(h), 1.0, 10) for h in range(24)]
        + [("weather", "dry", 1.05, 30), ("weather", "rain", 0.8, 10), ("weather", "heavy_rain", 1.0, 0)],
        columns=["term", "key", "factor", "n_samples"],
    )
    forecast = ["dry"] * 24
    forecast[9], forecast[10], forecast[11] = "heavy_rain", "snow", "rain"
    model = travel_model_for_date(factors, dt.date(2026, 3, 2), forecast)  # a Monday: weekday factor 1
    assert model.hour_factor[8] == pytest.approx(1.05)
    assert model.hour_factor[9] == pytest.approx(1.05 * WEATHER_PRIOR["heavy_rain"]) and model.hour_factor[9] < 1.0
    assert model.hour_factor[10] == pytest.approx(1.05 * WEATHER_PRIOR["snow"])
    assert model.hour_factor[11] == pytest.approx(0.8)
    assert WEATHER_PRIOR["dry"] == 1.0 > WEATHER_PRIOR["rain"] > WEATHER_PRIOR["heavy_rain"] > WEATHER_PRIOR["snow"]


def test_the_weather_prior_model_is_constant_speed_slowed_where_the_weather_is_not_dry():
    assert weather_prior_model(["dry"] * 12 + [None] * 12, 1.3) is None
    model = weather_prior_model(["dry"] * 12 + ["heavy_rain"] * 3 + [None] * 9, 1.3)
    assert model.version == WEATHER_PRIOR_VERSION and model.circuity == 1.3
    assert model.hour_factor == (1.0,) * 12 + (WEATHER_PRIOR["heavy_rain"],) * 3 + (1.0,) * 9


def _attempts(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(5):
        for k in range(400):
            site = ["house", "apartment"][k % 2]
            vehicle = ["V1", "V2"][k % 3 == 0]
            parcels = int(rng.integers(1, 4))
            true = (150 if site == "house" else 240) * rng.lognormal(0, 0.2) + 20 * (parcels - 1)
            rows.append({
                "service_date": dt.date(2026, 3, 2) + dt.timedelta(days=day),
                "customer_id": f"C{k % 50}", "vehicle_id": vehicle, "site_type": site,
                "zone": ["Vaduz", "Schaan"][k % 4 < 2], "parcels": parcels,
                "stop_s": int(true / TRUE_PACE[vehicle]),
            })
    frame = pd.DataFrame(rows)
    # One customer is slow everywhere: a locked courtyard.
    slow = frame["customer_id"] == "C7"
    frame.loc[slow, "stop_s"] = frame.loc[slow, "stop_s"] + 300
    return frame


PRIORS = pd.DataFrame({"site_type": ["house", "apartment"], "base_service_s": [90, 180],
                       "per_extra_parcel_s": [15, 20]})


def test_service_fit_learns_site_medians_per_parcel_time_and_slow_customers():
    fit = fit_service_time(_attempts(), TRUE_PACE, PRIORS)
    levels = fit.tables["service_times"]
    site = levels[levels["level"] == "site_type"].set_index("site_type")
    assert site.loc["house", "median_s"] == pytest.approx(150, rel=0.06)
    assert site.loc["apartment", "median_s"] == pytest.approx(240, rel=0.06)
    assert site.loc["house", "per_parcel_s"] == pytest.approx(20, abs=8)
    assert (site["p90_s"] > site["median_s"]).all()
    orders = pd.DataFrame({"customer_id": ["C7", "C9", "C-new"], "site_type": ["apartment", "apartment", "house"],
                           "zone": ["Vaduz", "Vaduz", "Nowhere"], "parcels": [1, 1, 3]})
    estimate = service_estimates(levels, orders)
    assert estimate[0] > estimate[1] + 200  # the slow customer's own history counts
    assert estimate[2] == pytest.approx(site.loc["house", "mean_s"] + 2 * site.loc["house", "per_parcel_s"])
    assert fit.fit_error < fit.baseline_error  # the priors are far too short


def test_service_estimates_fall_back_for_unknown_site_types():
    levels = fit_service_time(_attempts(), TRUE_PACE, PRIORS).tables["service_times"]
    orders = pd.DataFrame({"customer_id": ["X"], "site_type": ["business"], "zone": ["Vaduz"], "parcels": [2]})
    assert service_estimates(levels, orders, fallback=pd.Series([123.0])).tolist() == [123.0]


def _presence_attempts() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(3)
    for day in range(6):
        for c in range(200):
            hour = int(rng.integers(8, 20))
            commuter = c < 100  # home only in the evening
            p = (0.9 if hour >= 18 else 0.2) if commuter else 0.9
            rows.append({"service_date": dt.date(2026, 3, 2) + dt.timedelta(days=day), "customer_id": f"C{c}",
                         "zone": "Vaduz" if commuter else "Schaan", "service_hour": hour,
                         "is_success": bool(rng.random() < p)})
    return pd.DataFrame(rows)


def test_availability_recommends_the_evening_for_commuters():
    fit = fit_availability(_presence_attempts())
    windows = fit.tables["recommended_windows"]
    vaduz = windows[(windows["level"] == "zone") & (windows["zone"] == "Vaduz")].iloc[0]
    assert vaduz["window_start_s"] >= 17 * 3600 and vaduz["lift"] > 0.2
    schaan = windows[(windows["level"] == "zone") & (windows["zone"] == "Schaan")].iloc[0]
    assert schaan["lift"] < vaduz["lift"]
    table = fit.tables["availability"]
    assert set(table["level"]) == {"zone", "customer"}
    assert table["success_rate"].between(0, 1).all()
    assert fit.fit_error < fit.baseline_error  # hour-aware beats the zone's all-day rate


def test_preferred_windows_only_for_all_day_orders_with_enough_lift():
    windows = pd.DataFrame([
        {"level": "zone", "zone": "Vaduz", "customer_id": None, "window_start_s": 64800, "window_end_s": 72000,
         "success_rate": 0.9, "day_success_rate": 0.4, "lift": 0.5, "attempts": 50},
        {"level": "zone", "zone": "Schaan", "customer_id": None, "window_start_s": 36000, "window_end_s": 43200,
         "success_rate": 0.92, "day_success_rate": 0.9, "lift": 0.02, "attempts": 50},
        {"level": "customer", "zone": "Schaan", "customer_id": "C1", "window_start_s": 68400,
         "window_end_s": 75600, "success_rate": 0.95, "day_success_rate": 0.5, "lift": 0.45, "attempts": 4},
    ])
    orders = pd.DataFrame({
        "order_id": ["O1", "O2", "O3", "O4", "O5"],
        "customer_id": ["C9", "C9", "C2", "C1", "C1"],
        "zone": ["Vaduz", "Vaduz", "Schaan", "Schaan", "Schaan"],
        "is_all_day": [True, False, True, True, True],
        "tw_start_s": [21600, 36000, 21600, 21600, 21600],
        "tw_end_s": [77400, 43200, 77400, 77400, 72000],
    })
    picks = preferred_windows(windows, orders).set_index("order_id")
    # O1: zone window; O2 has a fixed window; O3: too little lift; O4: the customer's own window; O5: not inside.
    assert list(picks.index) == ["O1", "O4"]
    assert picks.loc["O4", "preferred_tw_start_s"] == 68400
