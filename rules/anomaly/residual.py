"""A device's joint residual model: principal components of its channels, fitted on healthy operation.

Equipment channels move together (a pump's current, vibration, pressure and flow); a fault shows as a row that
breaks their usual relation even when each channel stays within its own range. The model standardises each
channel, keeps the principal components that carry ``residual_variance`` of the variance, and scores a row by
Hotelling's T² (how far along the usual directions) and Q, the squared prediction error (how far off them) —
the classical PCA monitoring pair of process control. Both, as they are (a one-row spike) and smoothed over a
few rows (a small persistent change), are calibrated into tail probabilities on rows the model was not fitted
on (each half of the training rows scored by a model fitted on the other half), then on the device's own
non-alarm rows.

The model is first fitted on the rows before ``residual_fit_rows`` (the healthy start) and refitted every
``residual_refit_every`` rows on the most recent rows that were not in alarm, so a fault is never learnt while it
lasts and the alarm holds while the residual stays out of bounds. Rows are scored with the model of the last
fit row before them, so a row's result never depends on later rows. Statistics are sums accumulated channel by
channel in a fixed order, so they are the same whether rows come one at a time or many at once.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from rules.anomaly.arrays import pack, unpack
from rules.anomaly.blas import one_blas_thread
from rules.anomaly.config import DetectorConfig
from rules.anomaly.likelihood import TailProbability, calibration_block, tail_probabilities

# T² and Q, each as it is and smoothed: four tests, the smallest probability counted four times (Bonferroni).
_TESTS = 4
# Rows needed for a fit (each half must estimate a covariance).
MIN_FIT_ROWS = 64
# A standardised direction has at least this variance, so a channel that was constant during training does
# not turn its first ordinary wobble into an infinite distance.
_VARIANCE_FLOOR = 0.01
_IQR_TO_SIGMA = 1.349
# Channels with fewer distinct values in the training rows are states or switches, not measurements.
_MIN_DISTINCT = 10
# A channel whose training steps go one way this often is a counter.
_MONOTONIC_SHARE = 0.99


def is_fit_row(row: int, config: DetectorConfig) -> bool:
    """Whether the model is (re)fitted just before scoring row ``row`` (0-based)."""
    first, every = config.residual_fit_rows, config.residual_refit_every
    return row == first or (row > first and (row - first) % every == 0)


def next_fit_row(row: int, config: DetectorConfig) -> int:
    """Smallest fit row strictly greater than ``row``."""
    first, every = config.residual_fit_rows, config.residual_refit_every
    if row < first:
        return first
    return first + ((row - first) // every + 1) * every


@dataclass(frozen=True)
class Components:
    """Standardisation and principal components of one fit."""

    channels: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    loadings: np.ndarray
    variances: np.ndarray

    @classmethod
    def fit(cls, rows: np.ndarray, variance_share: float, channels: np.ndarray) -> Components:
        """Components of the ``channels`` (column indices) of ``rows`` keeping ``variance_share`` of the
        standardised variance."""
        rows = rows[:, channels]
        centre = np.median(rows, axis=0)
        low, high = np.quantile(rows, (0.25, 0.75), axis=0)
        scale = np.maximum(np.maximum((high - low) / _IQR_TO_SIGMA, rows.std(axis=0)), 1e-6 * (1.0 + np.abs(centre)))
        standard = (rows - centre) / scale
        covariance = np.cov(standard, rowvar=False) + _VARIANCE_FLOOR * np.eye(rows.shape[1])
        values, vectors = np.linalg.eigh(covariance)
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order]
        share = np.cumsum(values) / values.sum()
        # At least one component, and at least one direction left over for Q.
        kept = min(int(np.searchsorted(share, variance_share)) + 1, rows.shape[1] - 1)
        return cls(channels, centre, scale, np.ascontiguousarray(vectors[:, :kept]), values[:kept])

    def statistics(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """T² and Q of each row, accumulated channel by channel (the same for any number of rows)."""
        standard = (rows[:, self.channels] - self.centre) / self.scale
        if len(rows) == 1:
            return self._row_statistics(standard[0].tolist())
        channels, kept = self.loadings.shape
        scores = np.zeros((len(rows), kept))
        for c in range(channels):
            scores += standard[:, c : c + 1] * self.loadings[c]
        t2 = np.zeros(len(rows))
        for j in range(kept):
            t2 += scores[:, j] * scores[:, j] / self.variances[j]
        q = np.zeros(len(rows))
        for c in range(channels):
            fitted = np.zeros(len(rows))
            for j in range(kept):
                fitted += scores[:, j] * self.loadings[c, j]
            error = standard[:, c] - fitted
            q += error * error
        return t2, q

    def _row_statistics(self, standard: list[float]) -> tuple[np.ndarray, np.ndarray]:
        # One row in Python floats: the same products and sums in the same order as the array loops above (IEEE
        # arithmetic either way), without a hundred calls on one-element arrays.
        loadings, variances = self.loadings.tolist(), self.variances.tolist()
        scores = [0.0] * len(variances)
        for value, weights in zip(standard, loadings, strict=True):
            for j, weight in enumerate(weights):
                scores[j] += value * weight
        t2 = 0.0
        for score, variance in zip(scores, variances, strict=True):
            t2 += score * score / variance
        q = 0.0
        for value, weights in zip(standard, loadings, strict=True):
            fitted = 0.0
            for score, weight in zip(scores, weights, strict=True):
                fitted += score * weight
            error = value - fitted
            q += error * error
        return np.array([t2]), np.array([q])

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"channels": self.channels.tolist(), "shape": list(self.loadings.shape), "centre": pack(self.centre),
                "scale": pack(self.scale),
                "loadings": pack(self.loadings), "variances": pack(self.variances)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Components:
        """Rebuild from :meth:`state_dict`."""
        return cls(np.asarray(state["channels"], dtype=int), unpack(state["centre"]), unpack(state["scale"]),
                   unpack(state["loadings"]).reshape(state["shape"]), unpack(state["variances"]))


def modelled_channels(rows: np.ndarray) -> np.ndarray:
    """Columns of ``rows`` a joint Gaussian model can describe: at least ``_MIN_DISTINCT`` distinct values (not a
    state code or a switch) and not a counter (counters only ever rise, so every new reading would be out of
    bounds)."""
    steps = np.diff(rows, axis=0)
    rising = np.mean(steps >= 0, axis=0) >= _MONOTONIC_SHARE
    falling = np.mean(steps <= 0, axis=0) >= _MONOTONIC_SHARE
    distinct = np.array([len(np.unique(column)) for column in rows.T])
    return np.flatnonzero((distinct >= _MIN_DISTINCT) & ~rising & ~falling)


def _smooth(values: np.ndarray, previous: float | None, weight: float) -> tuple[list[float], float | None]:
    out = []
    for value in values.tolist():
        previous = value if previous is None else previous + weight * (value - previous)
        out.append(previous)
    return out, previous


def _rebased(tail: TailProbability, block: int) -> TailProbability:
    """A calibration learning ``block`` maxima from now on, started from ``tail``'s per-row history: each
    history value stands for a block whose maximum it is, which errs on the quiet side until real blocks come."""
    rebased = TailProbability(tail.size, tail.quantile, tail.prior_weight, tail.min_count, block, tail.min_blocks)
    rebased._history = tail._history.copy()
    rebased._length, rebased._learnt = tail._length, tail._learnt
    rebased.refresh()
    return rebased


class ResidualModel:
    """T² and Q of a device's rows against its healthy operation, as one tail probability per row."""

    def __init__(self, channels: int, config: DetectorConfig, period: int) -> None:
        self.config = config
        self.period = period
        self.channels = channels
        self.row = 0
        self.last = np.full(channels, np.nan)
        # Training rows: the most recent learnt rows, and one in every ``stride`` learnt rows over
        # ``memory_days`` (a fast device's recent rows are minutes; its normal operation is a day).
        half = config.residual_train_rows // 2
        self.history: deque[list[float]] = deque(maxlen=config.residual_train_rows - half)
        self.memory: deque[list[float]] = deque(maxlen=half)
        self.stride = 1
        self.learnt = 0
        self.components: Components | None = None
        self.smoothed: list[float | None] = [None, None]
        # Calibrations of T² and Q as they are (a one-row spike) and smoothed (a small persistent change).
        self.tails = [self._tail() for _ in range(_TESTS)]
        # Values the calibration was seeded with at a fit (cross-fitted training rows), dropped at a later refit
        # once the device's own rows have calibrated enough: a first fit on a few hundred rows scores its other
        # half poorly, and those values would otherwise blunt the calibration for thousands of rows.
        self.seeded = 0

    def _tail(self, block: int = 1) -> TailProbability:
        cfg = self.config
        return TailProbability(cfg.calibration_history, cfg.tail_quantile, cfg.tail_prior_weight, MIN_FIT_ROWS,
                               block)

    @property
    def fitted(self) -> bool:
        """Whether rows are being scored."""
        return self.components is not None

    def prepare(self, interval_s: float) -> None:
        """Call before a run of rows (``interval_s``: the device's sampling interval): fits on a fit row (if enough
        healthy rows are known) and refreshes the calibration at the start of every ``period`` rows."""
        cfg = self.config
        if self.row % self.period == 0:
            readings = cfg.residual_memory_days * 86_400.0 / interval_s
            self.stride = max(1, math.ceil(readings / (self.memory.maxlen or 1)))
            for tail in self.tails:
                if tail.due:
                    tail.refresh()
        if is_fit_row(self.row, cfg) and len(self.history) + len(self.memory) >= MIN_FIT_ROWS:
            # Covariances of a few thousand rows: BLAS threads would only contend for the cores (Decision 4).
            with one_blas_thread():
                self._fit(np.asarray([*self.memory, *self.history], dtype=float), calibration_block(
                    cfg.memory_days * 86_400.0 / interval_s, cfg.calibration_history))

    def _fit(self, rows: np.ndarray, block: int) -> None:
        channels = modelled_channels(rows)
        if len(channels) < 2:
            self.components = None
            return
        previous = self.components
        self.components = Components.fit(rows, self.config.residual_variance, channels)
        if previous is not None and np.array_equal(previous.channels, channels) and block == self.tails[0].block:
            # A refit of the same channels: T² and Q keep their meaning, and their calibration, which has seen
            # far more rows than one training set, carries on (without its seed once it has enough of its own).
            if self.seeded and self.tails[0].learnt_since(self.seeded) >= max(self.seeded, 10 * self.tails[0].needed):
                for tail in self.tails:
                    tail.forget_first(self.seeded)
                self.seeded = 0
            return
        half = len(rows) // 2
        share, weight = self.config.residual_variance, self.config.residual_smoothing
        # Calibrate on rows each half's model was not fitted on, in time order.
        first = Components.fit(rows[half:], share, channels).statistics(rows[:half])
        second = Components.fit(rows[:half], share, channels).statistics(rows[half:])
        # The cross-fitted rows calibrate one row each (blocks start once rows are learnt one by one).
        self.tails = [self._tail() for _ in range(_TESTS)]
        for index in range(2):
            raw = np.concatenate([first[index], second[index]])
            # The running average carries on from the calibration rows, so the next rows are smoothed like them.
            smoothed, self.smoothed[index] = _smooth(raw, None, weight)
            for tail, values in ((self.tails[index], raw), (self.tails[2 + index], np.asarray(smoothed))):
                tail.learn(values)
                tail.refresh()
        if block > 1:
            self.tails = [_rebased(tail, block) for tail in self.tails]
        self.seeded = self.tails[0].learnt_since(0)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Tail probability of each row of a run (1 while unfitted, or before every channel has been seen):
        the smallest of T²'s and Q's, as they are and smoothed, counted four times. Call :meth:`prepare` before
        and :meth:`learn` after; a run must not cross a multiple of ``period`` rows."""
        seen = rows == rows
        if seen.all():
            filled = rows.copy()
        else:
            # Carry each channel's last reading forward (channels report at different periods).
            index = np.where(seen, np.arange(len(rows))[:, None], -1)
            np.maximum.accumulate(index, axis=0, out=index)
            filled = np.where(index >= 0, rows[np.maximum(index, 0), np.arange(self.channels)], self.last)
        if len(filled):
            self.last = filled[-1].copy()
        complete = ~np.isnan(filled).any(axis=1)
        self._run = filled, complete, None
        result = np.ones(len(rows))
        if self.components is None or not complete.any():
            return result
        t2, q = self.components.statistics(filled[complete])
        weight = self.config.residual_smoothing
        t2_smooth, self.smoothed[0] = _smooth(t2, self.smoothed[0], weight)
        q_smooth, self.smoothed[1] = _smooth(q, self.smoothed[1], weight)
        statistics = np.asarray([t2, q, t2_smooth, q_smooth])
        self._run = filled, complete, statistics
        smallest = tail_probabilities(self.tails, statistics.T).min(axis=1)
        result[complete] = np.minimum(1.0, _TESTS * smallest)
        return result

    def learn(self, learnt: np.ndarray) -> None:
        """End a run: rows where ``learnt`` is true join the training rows and the calibration (rows in alarm are
        not learnt, so a fault is never taken for normal while it lasts)."""
        filled, complete, statistics = self._run
        for row in filled[learnt & complete].tolist():
            self.history.append(row)
            if self.learnt % self.stride == 0:
                self.memory.append(row)
            self.learnt += 1
        if statistics is not None:
            for tail, values in zip(self.tails, statistics, strict=True):
                tail.learn(values[learnt[complete]])
        self.row += len(learnt)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"channels": self.channels, "period": self.period, "row": self.row, "last": pack(self.last),
                "history": pack(np.asarray(self.history, dtype=float).reshape(-1)),
                "memory": pack(np.asarray(self.memory, dtype=float).reshape(-1)), "stride": self.stride,
                "learnt": self.learnt,
                "components": None if self.components is None else self.components.state_dict(),
                "smoothed": list(self.smoothed), "tails": [tail.state_dict() for tail in self.tails],
                "seeded": self.seeded}

    @classmethod
    def from_state(cls, config: DetectorConfig, state: dict[str, Any]) -> ResidualModel:
        """Rebuild from :meth:`state_dict`."""
        model = cls(state["channels"], config, state["period"])
        model.row = state["row"]
        model.last = unpack(state["last"])
        model.history.extend(unpack(state["history"]).reshape(-1, model.channels).tolist())
        model.memory.extend(unpack(state["memory"]).reshape(-1, model.channels).tolist())
        model.stride = state["stride"]
        model.learnt = state["learnt"]
        if state["components"] is not None:
            model.components = Components.from_state(state["components"])
        model.smoothed = list(state["smoothed"])
        model.tails = [TailProbability.from_state(tail) for tail in state["tails"]]
        model.seeded = state["seeded"]
        return model
