"""Early warning (预警): time until a slowly trending value reaches a threshold, with uncertainty.

The trend is a Theil–Sen line (median of pairwise slopes) over a recent time window, which shrugs off
spikes and a minority of bad readings; its confidence interval (Sen's rank method) and the scatter of the
residuals give an interval for the crossing time.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from rules.anomaly.detector import epoch_seconds

Direction = Literal["above", "below"]
# Two-sided 90 % normal quantile, for the slope confidence interval and the residual band.
_Z90 = 1.6449
# Pairwise slopes are O(n^2); beyond this many points the window is thinned evenly.
_MAX_POINTS = 200


@dataclass(frozen=True)
class Forecast:
    """Predicted crossing of a threshold."""

    eta: datetime
    """Predicted time of the crossing (the ``now`` given plus ``seconds``)."""
    seconds: float
    """Predicted seconds from now until the crossing (0 if the trend line is already past it)."""
    low_s: float
    """Early end of the 90 % interval, in seconds from now."""
    high_s: float
    """Late end of the 90 % interval, in seconds from now; ``inf`` when a flat trend cannot be excluded."""
    slope_per_s: float
    """Trend in value units per second."""
    confidence: float
    """Share of pairwise slopes pointing towards the threshold, in [0.5, 1]: how sure the direction is."""


class Forecaster:
    """Robust linear trend of one metric over the last ``window_s`` seconds."""

    def __init__(self, *, window_s: float, min_points: int) -> None:
        if window_s <= 0 or min_points < 3:
            raise ValueError("window_s must be positive and min_points at least 3")
        self.window_s = window_s
        self.min_points = min_points
        self._points: deque[tuple[float, float]] = deque()

    def update(self, ts: datetime, value: float | None) -> None:
        """Add a reading; missing or non-finite values are ignored, readings older than the window dropped."""
        if value is None or not math.isfinite(value):
            return
        t = epoch_seconds(ts)
        self._points.append((t, float(value)))
        while self._points and self._points[0][0] < t - self.window_s:
            self._points.popleft()

    def time_to_threshold(self, threshold: float, direction: Direction, now: datetime) -> Forecast | None:
        """Forecast of when the value goes ``direction`` ``threshold``, or None without a trend towards it."""
        if direction not in ("above", "below"):
            raise ValueError(f"direction must be 'above' or 'below', not {direction!r}")
        now_s = epoch_seconds(now)
        points = [(t, v) for t, v in self._points if now_s - self.window_s <= t <= now_s]
        if len(points) < self.min_points:
            return None
        if len(points) > _MAX_POINTS:
            keep = np.linspace(0, len(points) - 1, _MAX_POINTS).round().astype(int)
            points = [points[i] for i in keep]
        t = np.array([p[0] for p in points]) - now_s
        v = np.array([p[1] for p in points])
        i, j = np.triu_indices(len(t), k=1)
        dt = t[j] - t[i]
        moving = dt > 0
        if not moving.any():
            return None
        slopes = np.sort((v[j] - v[i])[moving] / dt[moving])
        slope = float(np.median(slopes))
        sign = 1.0 if direction == "above" else -1.0
        if sign * slope <= 0:
            return None
        level_now = float(np.median(v - slope * t))
        band = _Z90 * 1.4826 * float(np.median(np.abs(v - level_now - slope * t)))
        slow, fast = sorted(sign * s for s in _slope_interval(slopes, len(t)))
        gap = sign * (threshold - level_now)
        seconds = max(0.0, gap / (sign * slope))
        low_s = max(0.0, gap - band) / fast
        high_s = (gap + band) / slow if slow > 0 else math.inf
        confidence = float(np.mean(sign * slopes > 0))
        return Forecast(eta=_utc(now) + timedelta(seconds=seconds), seconds=seconds, low_s=min(low_s, seconds),
                        high_s=max(high_s, seconds), slope_per_s=slope, confidence=confidence)


def _slope_interval(sorted_slopes: np.ndarray, n: int) -> tuple[float, float]:
    # Sen (1968): the interval's ends are order statistics of the pairwise slopes, from the variance of
    # Kendall's S under no trend (no tie correction: ties are rare for sensor readings).
    count = len(sorted_slopes)
    half_width = _Z90 * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    lower = int(max(0, math.floor((count - half_width) / 2.0)))
    upper = int(min(count - 1, math.ceil((count + half_width) / 2.0)))
    return float(sorted_slopes[lower]), float(sorted_slopes[upper])


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
