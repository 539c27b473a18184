"""Self-calibration of score components (running quantiles) and the alarm latch (hysteresis, minimum hold)."""

from __future__ import annotations

import math
from typing import Any

# Log-spaced histogram: 20 bins per decade from 1e-3 to 1e3, plus an underflow and an overflow bin.
_LOW_EXP = -3.0
_BINS_PER_DECADE = 20
_DECADES = 6
_N_BINS = _DECADES * _BINS_PER_DECADE + 2
# The quantile is recomputed every this many additions; between them the cached value is used.
_REFRESH = 16


class RunningQuantile:
    """Streaming upper quantile of a non-negative statistic over its recent history.

    A log-spaced histogram keeps it O(1) per value and exact to one bin width (12 %), which is plenty for a
    threshold. The reported quantile is the upper edge of its bin, so it errs on the quiet side. Counts decay
    with a memory of ``memory`` observations, so what was unusual while a model was still learning (a daily
    step before the daily profile existed) is eventually forgotten.
    """

    def __init__(self, q: float, memory: float = 5000.0) -> None:
        self.q = q
        self.memory = memory
        self.counts = [0.0] * _N_BINS
        self.total = 0.0
        self.adds = 0
        self._cached = 0.0

    def add(self, value: float) -> None:
        """Count one observation."""
        if value <= 10.0**_LOW_EXP:
            index = 0
        else:
            index = min(_N_BINS - 1, 1 + int((math.log10(value) - _LOW_EXP) * _BINS_PER_DECADE))
        self.counts[index] += 1.0
        self.total += 1.0
        self.adds += 1
        if self.adds % _REFRESH == 0:
            decay = (1.0 - 1.0 / self.memory) ** _REFRESH
            self.counts = [count * decay for count in self.counts]
            self.total *= decay
        if self.adds % _REFRESH == 0 or self.adds < _REFRESH:
            self._cached = self._compute()

    def _compute(self) -> float:
        target = self.q * self.total
        cumulative = 0.0
        for index, count in enumerate(self.counts):
            cumulative += count
            if cumulative >= target:
                return 10.0 ** (_LOW_EXP + index / _BINS_PER_DECADE)
        return 10.0 ** (_LOW_EXP + _DECADES)

    def value(self) -> float:
        """Current quantile estimate (0 before any observation)."""
        return self._cached

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"q": self.q, "memory": self.memory, "counts": list(self.counts), "total": self.total,
                "adds": self.adds, "cached": self._cached}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RunningQuantile:
        """Rebuild from :meth:`state_dict`."""
        quantile = cls(state["q"], state["memory"])
        quantile.counts = list(state["counts"])
        quantile.total = state["total"]
        quantile.adds = state["adds"]
        quantile._cached = state["cached"]
        return quantile


class ComponentCalibrator:
    """Turns a raw statistic into "multiples of its alarm level".

    The alarm level is the larger of an absolute floor (what is statistically unusual for that statistic
    in any data) and ``factor`` times the statistic's own running quantile (what is unusual for this
    device), so noisy or heavy-tailed channels raise their own bar instead of flooding the operator.
    """

    def __init__(self, floor: float, q: float, factor: float, memory: float, min_count: int = 50) -> None:
        self.floor = floor
        self.factor = factor
        self.min_count = min_count
        self.quantile = RunningQuantile(q, memory)

    def ratio(self, value: float) -> float:
        """``value`` divided by the current alarm level; 0 while the calibrator has too little history."""
        if self.quantile.adds < self.min_count:
            return 0.0
        return value / max(self.floor, self.factor * self.quantile.value())

    def learn(self, value: float) -> None:
        """Add ``value`` to the history that defines normal."""
        self.quantile.add(value)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"floor": self.floor, "factor": self.factor, "min_count": self.min_count,
                "quantile": self.quantile.state_dict()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ComponentCalibrator:
        """Rebuild from :meth:`state_dict`."""
        quantile = RunningQuantile.from_state(state["quantile"])
        calibrator = cls(state["floor"], quantile.q, state["factor"], quantile.memory, state["min_count"])
        calibrator.quantile = quantile
        return calibrator


class AlarmLatch:
    """Alarm state with hysteresis: raise at ratio >= 1, clear after a run of quiet rows and a minimum hold."""

    def __init__(self, clear_ratio: float, clear_rows: int, min_hold_rows: int) -> None:
        self.clear_ratio = clear_ratio
        self.clear_rows = clear_rows
        self.min_hold_rows = min_hold_rows
        self.active = False
        self.held = 0
        self.quiet = 0

    def update(self, ratio: float, armed: bool) -> bool:
        """Feed one row's combined ratio; ``armed`` False (warm-up) forbids a raise. Returns the state."""
        if not self.active:
            if armed and ratio >= 1.0:
                self.active, self.held, self.quiet = True, 1, 0
            return self.active
        self.held += 1
        self.quiet = self.quiet + 1 if ratio < self.clear_ratio else 0
        if self.held >= self.min_hold_rows and self.quiet >= self.clear_rows:
            self.active = False
        return self.active

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"active": self.active, "held": self.held, "quiet": self.quiet}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.active, self.held, self.quiet = state["active"], state["held"], state["quiet"]
