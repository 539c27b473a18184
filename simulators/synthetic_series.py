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


PUMP_CHANNELS = ("vibration_1", "vibration_2", "current", "pressure", "temperature", "thermocouple", "voltage",
                 "flow")
PUMP_FAULTS = ("valve_closure", "rotor_imbalance", "cavitation", "leak", "none")


@dataclass(frozen=True)
class Rig:
    """A multichannel rig recording, 1 row per second, and the rows of its fault (start == end: none)."""

    channels: tuple[str, ...]
    times: np.ndarray
    values: np.ndarray
    start: int
    end: int


def pump_rig(fault: str, *, rows: int = 1200, start: int = 700, end: int | None = None, seed: int = 0) -> Rig:
    """A centrifugal pump on a test loop with one fault from row ``start`` to ``end`` (the last row by default).

    The channels follow one operating point that wanders slowly (demand), with sensor noise: flow, head and
    motor current rise and fall together, the supply voltage sags with the current, the casing warms up over the
    run. Faults change the relations between channels, as on a real rig: a partly closed valve cuts the flow and
    raises the head; an unbalanced rotor shakes the casing; cavitation makes head, flow and vibration noisy; a
    leak downstream lowers the head and raises the measured flow.
    """
    if fault not in PUMP_FAULTS:
        raise ValueError(fault)
    rng = np.random.default_rng(seed)
    end = rows if end is None else end
    demand = np.empty(rows)
    demand[0] = 0.0
    for i in range(1, rows):
        demand[i] = 0.995 * demand[i - 1] + rng.normal(0, 0.004)
    fault_on = np.zeros(rows)
    if fault != "none":
        # Faults set in over about 20 s.
        fault_on[start:end] = np.minimum(1.0, np.arange(end - start) / 20.0)
    flow = 32.0 * (1.0 + demand) + rng.normal(0, 0.25, rows)
    head = 0.85 - 0.12 * demand + rng.normal(0, 0.004, rows)
    vibration = 0.21 + 0.02 * demand + rng.normal(0, 0.004, rows)
    noise = np.ones(rows)
    if fault == "valve_closure":
        flow -= 6.0 * fault_on
        head += 0.05 * fault_on
    elif fault == "rotor_imbalance":
        vibration += 0.03 * fault_on * (1.0 + 0.3 * np.sin(np.arange(rows) / 3.0))
    elif fault == "cavitation":
        noise += 3.0 * fault_on
        vibration += 0.01 * fault_on
    elif fault == "leak":
        head -= 0.03 * fault_on
        flow += 2.5 * fault_on
    flow += (noise - 1.0) * rng.normal(0, 0.25, rows)
    head += (noise - 1.0) * rng.normal(0, 0.004, rows)
    current = 1.9 + 0.012 * flow * head / 0.85 + rng.normal(0, 0.01, rows)
    voltage = 229.0 - 3.0 * (current - 2.2) + rng.normal(0, 0.3, rows)
    temperature = 66.0 + 1.0 * np.arange(rows) / rows + 0.5 * demand + rng.normal(0, 0.05, rows)
    values = np.column_stack([
        vibration + (noise - 1.0) * rng.normal(0, 0.004, rows),
        0.8 * vibration + rng.normal(0, 0.004, rows),
        current,
        head,
        temperature,
        temperature + 2.0 + rng.normal(0, 0.1, rows),
        voltage,
        flow,
    ])
    times = START_S + np.arange(rows, dtype=float)
    return Rig(PUMP_CHANNELS, times, values, start if fault != "none" else rows, end if fault != "none" else rows)
