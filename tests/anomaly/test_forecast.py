"""Specification of Forecaster: time to threshold on trends, None without a trend towards the threshold."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from rules.anomaly.forecast import Forecaster

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _ramp(forecaster: Forecaster, slope_per_s: float, start: float, steps: int, every_s: float = 30.0,
          noise: float = 0.01, seed: int = 0) -> datetime:
    rng = np.random.default_rng(seed)
    for k in range(steps):
        forecaster.update(T0 + timedelta(seconds=every_s * k), start + slope_per_s * every_s * k
                          + rng.normal(0, noise))
    return T0 + timedelta(seconds=every_s * (steps - 1))


def test_rising_sump_level_eta_is_within_five_percent():
    forecaster = Forecaster(window_s=1800, min_points=10)
    now = _ramp(forecaster, slope_per_s=0.001, start=0.5, steps=60)  # 0.5 m rising 6 cm/min
    forecast = forecaster.time_to_threshold(2.5, "above", now)
    expected = (2.5 - (0.5 + 0.001 * 30 * 59)) / 0.001
    assert forecast is not None
    assert forecast.seconds == pytest.approx(expected, rel=0.05)
    assert forecast.eta == now + timedelta(seconds=forecast.seconds)
    assert forecast.low_s <= expected <= forecast.high_s
    assert forecast.confidence > 0.95


def test_falling_tank_level_warns_below():
    forecaster = Forecaster(window_s=3 * 86_400, min_points=10)
    now = _ramp(forecaster, slope_per_s=-1e-6, start=3.0, steps=200, every_s=600, noise=0.005)
    forecast = forecaster.time_to_threshold(2.0, "below", now)
    assert forecast is not None
    assert forecast.slope_per_s == pytest.approx(-1e-6, rel=0.05)


def test_no_forecast_when_the_trend_points_away():
    forecaster = Forecaster(window_s=1800, min_points=10)
    now = _ramp(forecaster, slope_per_s=0.001, start=0.5, steps=60)
    assert forecaster.time_to_threshold(0.0, "below", now) is None


def test_forecast_clears_when_the_trend_reverses():
    forecaster = Forecaster(window_s=600, min_points=10)
    now = _ramp(forecaster, slope_per_s=0.001, start=0.5, steps=20)
    assert forecaster.time_to_threshold(2.5, "above", now) is not None
    peak = 0.5 + 0.001 * 30 * 19
    for k in range(1, 21):  # the pump starts: the level falls for ten minutes
        forecaster.update(now + timedelta(seconds=30 * k), peak - 0.002 * 30 * k)
    assert forecaster.time_to_threshold(2.5, "above", now + timedelta(seconds=600)) is None


def test_too_few_points_give_no_forecast():
    forecaster = Forecaster(window_s=1800, min_points=10)
    now = _ramp(forecaster, slope_per_s=0.001, start=0.5, steps=9)
    assert forecaster.time_to_threshold(2.5, "above", now) is None


def test_spikes_do_not_bend_the_trend():
    forecaster = Forecaster(window_s=1800, min_points=10)
    now = _ramp(forecaster, slope_per_s=0.001, start=0.5, steps=60)
    clean = forecaster.time_to_threshold(2.5, "above", now)
    spiky = Forecaster(window_s=1800, min_points=10)
    _ramp(spiky, slope_per_s=0.001, start=0.5, steps=60)
    spiky.update(now - timedelta(seconds=15), 9.0)
    forecast = spiky.time_to_threshold(2.5, "above", now)
    assert clean is not None and forecast is not None
    assert forecast.seconds == pytest.approx(clean.seconds, rel=0.05)


def test_uncertain_flat_trend_has_an_open_interval():
    forecaster = Forecaster(window_s=1800, min_points=10)
    now = _ramp(forecaster, slope_per_s=1e-6, start=0.5, steps=60, noise=0.05, seed=2)
    forecast = forecaster.time_to_threshold(2.5, "above", now)
    assert forecast is None or math.isinf(forecast.high_s)


def test_missing_values_are_ignored():
    forecaster = Forecaster(window_s=1800, min_points=3)
    forecaster.update(T0, None)
    forecaster.update(T0, math.nan)
    assert forecaster.time_to_threshold(1.0, "above", T0) is None


def test_direction_must_be_above_or_below():
    with pytest.raises(ValueError, match="direction"):
        Forecaster(window_s=60, min_points=3).time_to_threshold(1.0, "up", T0)  # type: ignore[arg-type]
