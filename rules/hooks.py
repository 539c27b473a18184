"""What the ``anomaly`` and ``forecast`` rule kinds need from a model, and the adapters the engine uses.

The engine only depends on the two Protocols below. ``DetectorScorer`` adapts the streaming detector of
``rules.anomaly`` (one detector per device and rule, fed one row per timestamp); ``TrendForecaster`` adapts
its robust trend forecaster (one per device and rule), e.g. "the tank reaches its low level within 6 h".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol

from rules.anomaly.detector import StreamingDetector
from rules.anomaly.forecast import Forecaster as TheilSen

ALARM_LEVEL = 0.5
BELOW_ALARM_LEVEL = 0.4999
# A forecast must be this sure of its trend before it raises an early warning (docs/anomaly.md).
MIN_FORECAST_CONFIDENCE = 0.9


class AnomalyScorer(Protocol):
    """Scores rows of one device's channels; a score at or above the rule's ``level`` is anomalous."""

    def score(self, key: str, channels: Sequence[str], ts: datetime, values: Mapping[str, float]) -> float:
        """Feed one row (``values`` may lack some channels) of the series ``key``; return its score."""
        ...


class Forecaster(Protocol):
    """Predicts when one series crosses a level."""

    def seconds_to(self, key: str, ts: datetime, value: float, threshold: float,
                   direction: Literal["above", "below"]) -> float | None:
        """Feed one value of series ``key``; return the seconds until it crosses ``threshold`` (0 if it already
        has), or ``None`` when it is not heading there."""
        ...


class DetectorScorer:
    """``AnomalyScorer`` over ``rules.anomaly.detector.StreamingDetector`` (score in [0, 1], 0.5 = alarm).

    The detector latches its alarm with hysteresis and a minimum hold; the returned score keeps to the same
    side of 0.5 as that latch, so a rule at level 0.5 follows the detector's decision instead of flickering
    while the raw score hovers near the level.
    """

    def __init__(self) -> None:
        self._detectors: dict[str, StreamingDetector] = {}

    def score(self, key: str, channels: Sequence[str], ts: datetime, values: Mapping[str, float]) -> float:
        """Feed one row to the detector of ``key`` (created on first use) and return its score."""
        detector = self._detectors.get(key)
        if detector is None:
            detector = self._detectors[key] = StreamingDetector(channels)
        result = detector.update(ts, values)
        return max(result.value, ALARM_LEVEL) if result.is_anomaly else min(result.value, BELOW_ALARM_LEVEL)


class TrendForecaster:
    """``Forecaster`` over ``rules.anomaly.forecast.Forecaster`` (a Theil–Sen trend), one per series."""

    def __init__(self, window_s: float = 6 * 3600.0, min_points: int = 6) -> None:
        self.window_s = window_s
        self.min_points = min_points
        self._series: dict[str, TheilSen] = {}

    def seconds_to(self, key: str, ts: datetime, value: float, threshold: float,
                   direction: Literal["above", "below"]) -> float | None:
        """Seconds until the trend reaches ``threshold`` in ``direction`` (0 if the value already has)."""
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = TheilSen(window_s=self.window_s, min_points=self.min_points)
        series.update(ts, value)
        if (value >= threshold) if direction == "above" else (value <= threshold):
            return 0.0
        forecast = series.time_to_threshold(threshold, direction, ts)
        if forecast is None or forecast.confidence < MIN_FORECAST_CONFIDENCE:
            return None
        return forecast.seconds
