"""Calibration: the tail probability of a statistic under the distribution it has shown so far.

Every statistic the detector computes (a value's novelty, a pattern's novelty, a device's residual) has its own
scale: a distance of 3 is ordinary on one channel and unheard of on another. Each is therefore turned into the
probability of a value at least as large under its own recent history, which is comparable across statistics,
channels and series, so one threshold serves all of them. This is the anomaly likelihood of Numenta's HTM
detector (the probability of the recent anomaly score under the distribution learnt so far), with the tail
modelled by peaks over a threshold (Siffer et al., "Anomaly detection in streams with extreme value theory",
KDD 2017) instead of a normal fit: in the body the probability is the empirical share of the history at least as
large; above the history's ``quantile`` the excesses follow a generalised Pareto distribution (exponential or
heavier), so probabilities far below one over the history length, which an alarm level needs, can still be
estimated. The exponential's mean excess is
shrunk towards the threshold itself by a few pseudo-observations, so a tail fitted on little data errs on the
quiet side.

The estimate is rebuilt only when :meth:`TailProbability.refresh` is called (the callers refresh when
:attr:`TailProbability.due` says so, at fixed points of their own schedule), so between refreshes the
probabilities of many values can be computed at once and equal those computed one by one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rules.anomaly.arrays import pack, unpack

# A mean excess below this fraction of the threshold (or below _TINY) would make any wobble above the threshold
# astronomically unlikely.
_MIN_EXCESS = 1e-3
_TINY = 1e-12
# The tail's shape is estimated from at least this many excesses, and kept below this (beyond it the moment
# estimator does not hold: the excesses' variance is infinite).
_MIN_SHAPE_EXCESSES = 20
_MAX_SHAPE = 0.45
# Refresh schedule (see TailProbability.due): at least this many new values (or their blocks), at most this many.
_MIN_PENDING = 16
_MAX_PENDING = 512
# Values a calibration's history buffer holds before it first grows.
_FIRST_CAPACITY = 256


class TailProbability:
    """Tail probability of a non-negative statistic under its last ``size`` values."""

    def __init__(self, size: int, quantile: float, prior_weight: float, min_count: int, block: int = 1,
                 min_blocks: int = 20) -> None:
        self.size = size
        self.quantile = quantile
        self.prior_weight = prior_weight
        self.min_count = min_count
        self.min_blocks = min_blocks
        # With ``block`` > 1 the history holds the maximum of each ``block`` consecutive values, so it spans
        # ``block`` times longer (a day of a 1 Hz channel instead of an hour and a half); a value's probability
        # is then the per-value probability that gives its block maximum's: 1 - (1 - P_block) ** (1 / block).
        self.block = block
        self._block_max = -math.inf
        self._block_count = 0
        # Learnt values, oldest first; the values learnt since the last refresh are kept beyond ``size`` so a
        # saved state can rebuild the estimate in use. The buffer starts small and doubles up to its full
        # capacity: a device seen for the first time creates a dozen calibrations in the gateway's commit path.
        self._capacity = 2 * size + _MAX_PENDING
        self._history = np.empty(min(self._capacity, _FIRST_CAPACITY))
        self._length = 0
        self._learnt = 0
        self._refreshed_at = 0
        self._sorted = np.empty(0)
        self._threshold = math.inf
        self._above = 0.0
        self._excess = 1.0
        self._shape = 0.0
        self._ready = False

    @property
    def ready(self) -> bool:
        """Whether the last refresh had enough history for probabilities below 1: ``min_count`` values, in at
        least ``min_blocks`` blocks."""
        return self._ready

    @property
    def due(self) -> bool:
        """Whether enough values were learnt since the last refresh to rebuild the estimate: often while the
        history is short, then every eighth of it (at most every ``_MAX_PENDING`` values)."""
        pending = self._learnt - self._refreshed_at
        return pending >= max(_MIN_PENDING, min(_MAX_PENDING, self._learnt // 8))

    def learn(self, values: np.ndarray) -> None:
        """Add values (NaN ignored) to the history; they count from the next :meth:`refresh`."""
        if len(values) == 1:
            self._learn_one(float(values[0]))
            return
        values = values[values == values]
        if self.block > 1:
            values = self._block_maxima(values)
        if not len(values):
            return
        self._make_room(len(values))
        self._history[self._length : self._length + len(values)] = values
        self._length += len(values)
        self._learnt += len(values)

    def _learn_one(self, value: float) -> None:
        # One value at a time (the engine's path): the steps of learn and _block_maxima without array calls.
        if value != value:
            return
        if self.block > 1:
            self._block_max = max(self._block_max, value)
            self._block_count += 1
            if self._block_count < self.block:
                return
            value, self._block_max, self._block_count = self._block_max, -math.inf, 0
        self._make_room(1)
        self._history[self._length] = value
        self._length += 1
        self._learnt += 1

    def _make_room(self, count: int) -> None:
        if self._length + count <= len(self._history):
            return
        if len(self._history) < self._capacity:
            # Still growing: nothing is dropped before the buffer has its full capacity.
            grown = np.empty(min(self._capacity, max(2 * len(self._history), self._length + count)))
            grown[: self._length] = self._history[: self._length]
            self._history = grown
            if self._length + count <= len(self._history):
                return
        keep = min(self._length, self.size + self._learnt - self._refreshed_at)
        self._history[:keep] = self._history[self._length - keep : self._length]
        self._length = keep
        if keep + count > len(self._history):
            self._history = np.concatenate([self._history[:keep], np.empty(keep + count)])

    @property
    def needed(self) -> int:
        """History values needed before probabilities go below 1."""
        return max(self.min_blocks, math.ceil(self.min_count / self.block))

    def learnt_since(self, count: int) -> int:
        """Values learnt after the first ``count``."""
        return self._learnt - count

    def _block_maxima(self, values: np.ndarray) -> np.ndarray:
        maxima = []
        head = values[: self.block - self._block_count]
        if len(head):
            self._block_max = max(self._block_max, float(head.max()))
            self._block_count += len(head)
        if self._block_count == self.block:
            maxima.append(self._block_max)
            self._block_max, self._block_count = -math.inf, 0
            rest = values[len(head) :]
            whole = len(rest) // self.block * self.block
            maxima.extend(rest[:whole].reshape(-1, self.block).max(axis=1).tolist())
            tail = rest[whole:]
            if len(tail):
                self._block_max, self._block_count = float(tail.max()), len(tail)
        return np.asarray(maxima)

    def forget_first(self, count: int) -> None:
        """Drop the first ``count`` values ever learnt (if still held) and refresh: a calibration seeded with
        provisional values lets them go once enough real ones have come."""
        held_from = self._learnt - self._length
        drop = max(0, min(self._length, count - held_from))
        self._history[: self._length - drop] = self._history[drop : self._length]
        self._length -= drop
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the estimate from the last ``size`` learnt values."""
        self._refreshed_at = self._learnt
        self._fit(self._history[max(0, self._length - self.size) : self._length])

    def _fit(self, history: np.ndarray) -> None:
        ordered = np.sort(history)
        self._sorted = ordered
        n = len(ordered)
        self._ready = n >= self.needed
        if n < self.needed:
            self._threshold, self._above, self._excess, self._shape = math.inf, 0.0, 1.0, 0.0
            return
        threshold = float(ordered[min(n - 1, int(self.quantile * n))])
        excesses = ordered[ordered > threshold] - threshold
        prior = max(threshold, _TINY)
        self._threshold = threshold
        self._above = len(excesses) / (n + 1)
        mean = max((float(excesses.sum()) + self.prior_weight * prior) / (len(excesses) + self.prior_weight),
                   _MIN_EXCESS * prior, _TINY)
        # Generalised Pareto tail by the method of moments (Hosking and Wallis, 1987): shape 0 is the
        # exponential; a heavier tail (shape > 0) decays as a power, so a value twice the largest seen on a
        # heavy-tailed statistic is not called impossible. Lighter-than-exponential tails are not assumed.
        self._shape = 0.0
        if len(excesses) >= _MIN_SHAPE_EXCESSES:
            ratio = mean * mean / max(float(excesses.var()), _TINY)
            self._shape = min(_MAX_SHAPE, max(0.0, 0.5 * (1.0 - ratio)))
        self._excess = mean * (1.0 - self._shape)

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        """Tail probability of each value (1 for NaN, and for everything until the history is long enough)."""
        return tail_probabilities([self], np.asarray(values, dtype=float)[:, None])[:, 0]

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        pending = self._learnt - self._refreshed_at
        kept = self._history[max(0, self._length - self.size - pending) : self._length]
        return {"size": self.size, "quantile": self.quantile, "prior_weight": self.prior_weight,
                "min_count": self.min_count, "history": pack(kept), "learnt": self._learnt,
                "refreshed_at": self._refreshed_at, "block": self.block, "min_blocks": self.min_blocks,
                "block_max": None if self._block_count == 0 else self._block_max, "block_count": self._block_count}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TailProbability:
        """Rebuild from :meth:`state_dict`, with the estimate of the last refresh."""
        tail = cls(state["size"], state["quantile"], state["prior_weight"], state["min_count"], state["block"],
                   state["min_blocks"])
        if state["block_count"]:
            tail._block_max, tail._block_count = state["block_max"], state["block_count"]
        history = unpack(state["history"])
        tail._learnt = state["learnt"]
        tail._refreshed_at = state["refreshed_at"]
        tail._history = np.concatenate([history, np.empty(tail._capacity)])
        tail._length = len(history)
        before = history[: len(history) - (tail._learnt - tail._refreshed_at)]
        tail._fit(before[max(0, len(before) - tail.size) :])
        return tail


def tail_probabilities(tails: list[TailProbability], values: np.ndarray) -> np.ndarray:
    """Tail probability of each value of an (n, len(tails)) array under its column's calibration: what
    :meth:`TailProbability.probabilities` gives column by column, element for element, in a few array calls for all
    columns (a device's channels and tests) instead of a dozen per column."""
    result = np.ones(values.shape)
    columns = [j for j, tail in enumerate(tails) if tail._ready]
    if not columns:
        return result
    chosen = [tails[j] for j in columns]
    known = values if len(columns) == len(tails) else values[:, columns]
    ranks = np.empty(known.shape)
    for j, tail in enumerate(chosen):
        ranks[:, j] = tail._sorted.searchsorted(known[:, j], side="left")
    counts = np.array([len(tail._sorted) for tail in chosen], dtype=float)
    threshold = np.array([tail._threshold for tail in chosen])
    above = np.array([tail._above for tail in chosen])
    shape = np.array([tail._shape for tail in chosen])
    block = np.array([tail.block for tail in chosen], dtype=float)
    body = (counts - ranks + 1.0) / (counts + 1.0)
    over = np.maximum(known - threshold, 0.0) / np.array([tail._excess for tail in chosen])
    tail_part = above * np.exp(-over)
    heavy = shape > 0.0
    if heavy.any():
        # A heavier-than-exponential tail decays as a power (generalised Pareto with shape > 0).
        tail_part[:, heavy] = above[heavy] * np.exp(-np.log1p(shape[heavy] * over[:, heavy]) / shape[heavy])
    probability = np.where(known > threshold, np.minimum(body, tail_part), body)
    blocked = block > 1.0
    if blocked.any():
        # A block maximum's probability, as the per-value probability that gives it.
        probability[:, blocked] = -np.expm1(np.log1p(-np.minimum(probability[:, blocked], 1.0 - 1e-16))
                                            / block[blocked])
    probability[known != known] = 1.0
    result[:, columns] = probability
    return result


def calibration_block(readings: float, history: int) -> int:
    """Block length (a power of two) whose maxima let a calibration history of ``history`` values span
    ``readings`` readings."""
    return 2 ** max(0, math.floor(math.log2(readings / history))) if readings > history else 1


def scores_of(probabilities: np.ndarray, level: float) -> np.ndarray:
    """Map tail probabilities onto [0, 1] with ``level`` (the alarm probability) at exactly 0.5:
    ``0.5 * log(p) / log(level)``, so a score doubles when the probability is the square of the level; 0 for 1."""
    surprise = np.maximum(-np.log(np.maximum(probabilities, 1e-300)), 0.0)
    return np.minimum(1.0, 0.5 * surprise / -math.log(level))
