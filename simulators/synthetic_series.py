"""Synthetic sensor series with injected anomalies: ground truth for the anomaly tests and benchmarks/anomaly.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

START_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z
STEP_S = 60.0


@dataclass(frozen=True)
class Series:
    """Rows of a multichannel series and the index range of the injected anomaly (empty if none)."""

    times: np.ndarray
    values: np.ndarray
    start: int
    end: int


def normal_series(rows: int, channels: int, seed: int) -> np.ndarray:
    """Correlated, slowly wandering, noisy channels with a daily cycle: a plausible plant at rest."""
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 0.02, rows))
    daily = np.sin(2 * np.pi * np.arange(rows) * STEP_S / 86_400.0)
    values = np.empty((rows, channels))
    for c in range(channels):
        gain = 1.0 + 0.3 * c
        values[:, c] = 10.0 * (c + 1) + gain * (common + 0.5 * daily) + rng.normal(0, 0.2, rows)
    return values


def inject(kind: str, rows: int = 3000, channels: int = 4, at: int = 2000, length: int = 200,
           seed: int = 0, magnitude: float = 1.0) -> Series:
    """A normal series with one anomaly of ``kind`` starting at row ``at`` (``"none"`` for no anomaly).

    Kinds: spike, level_shift, drift, variance, correlation_break, none. Sizes are in noise sigmas
    (0.2) times ``magnitude`` and are deliberately modest at 1: 3-10 sigma, which is what real faults
    usually look like early.
    """
    values = normal_series(rows, channels, seed)
    rng = np.random.default_rng(seed + 1000)
    end = at + length
    if kind == "spike":
        values[at, 0] += 8 * 0.2 * magnitude
        end = at + 1
    elif kind == "level_shift":
        values[at:end, 1] += 5 * 0.2 * magnitude
    elif kind == "drift":
        values[at:end, 0] += np.linspace(0, 10 * 0.2 * magnitude, length)
    elif kind == "variance":
        values[at:end, 2] += rng.normal(0, 3 * 0.2 * magnitude, length)
    elif kind == "correlation_break":
        # Channel 0 stops following the shared wander (stuck at its own recent mean plus noise): each
        # value stays in its normal range, only the relation to the other channels breaks.
        values[at:end, 0] = values[at - 50 : at, 0].mean() + rng.normal(0, 0.2, length) \
            + 0.8 * magnitude * np.sin(np.linspace(0, 6 * np.pi, length))
    elif kind == "none":
        at = end = rows
    else:
        raise ValueError(kind)
    times = START_S + STEP_S * np.arange(rows)
    return Series(times, values, at, end)
