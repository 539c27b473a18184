"""A device's joint residual model: principal components of its channels, fitted on healthy operation.

Equipment channels move together (a pump's current, vibration, pressure and flow); a fault shows as a row that
breaks their usual relation even when each channel stays within its own range. The model standardises each
channel, keeps the principal components that carry ``residual_variance`` of the variance, and scores a row by
Hotelling's T² (how far along the usual directions) and Q, the squared prediction error (how far off them) —
the classical PCA monitoring pair of process control. Both are smoothed over a few rows and calibrated into
tail probabilities on rows the model was not fitted on (each half of the training rows scored by a model fitted
on the other half), then on the device's own non-alarm rows.

The model is first fitted on the rows before ``residual_fit_rows`` (the healthy start) and refitted every
``residual_refit_every`` rows on the most recent rows that were not in alarm, so a fault is never learnt while it
lasts and the alarm holds while the residual stays out of bounds. Rows are scored with the model of the last
fit row before them, so a row's result never depends on later rows. Statistics are sums accumulated channel by
channel in a fixed order, so they are the same whether rows come one at a time or many at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from rules.anomaly.arrays import pack, unpack
from rules.anomaly.config import DetectorConfig
from rules.anomaly.likelihood import TailProbability

# Rows needed for a fit (each half must estimate a covariance).
MIN_FIT_ROWS = 64
# A standardised direction has at least this variance, so a channel that was constant during training does
# not turn its first ordinary wobble into an infinite distance.
_VARIANCE_FLOOR = 0.01
_IQR_TO_SIGMA = 1.349


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

    centre: np.ndarray
    scale: np.ndarray
    loadings: np.ndarray
    variances: np.ndarray

    @classmethod
    def fit(cls, rows: np.ndarray, variance_share: float) -> Components:
        """Components of ``rows`` (n, channels) keeping ``variance_share`` of the standardised variance."""
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
        return cls(centre, scale, np.ascontiguousarray(vectors[:, :kept]), values[:kept])

    def statistics(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """T² and Q of each row, accumulated channel by channel (the same for any number of rows)."""
        standard = (rows - self.centre) / self.scale
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

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"shape": list(self.loadings.shape), "centre": pack(self.centre), "scale": pack(self.scale),
                "loadings": pack(self.loadings), "variances": pack(self.variances)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Components:
        """Rebuild from :meth:`state_dict`."""
        return cls(unpack(state["centre"]), unpack(state["scale"]), unpack(state["loadings"]).reshape(state["shape"]),
                   unpack(state["variances"]))


def _smooth(values: np.ndarray, previous: float | None, weight: float) -> tuple[list[float], float | None]:
    out = []
    for value in values.tolist():
        previous = value if previous is None else previous + weight * (value - previous)
        out.append(previous)
    return out, previous


class ResidualModel:
    """T² and Q of a device's rows against its healthy operation, as one tail probability per row."""

    def __init__(self, channels: int, config: DetectorConfig) -> None:
        self.config = config
        self.channels = channels
        self.row = 0
        self.last = np.full(channels, np.nan)
        self.history: deque[list[float]] = deque(maxlen=config.residual_train_rows)
        self.components: Components | None = None
        self.smoothed: list[float | None] = [None, None]
        self.tails = [self._tail(), self._tail()]

    def _tail(self) -> TailProbability:
        cfg = self.config
        return TailProbability(cfg.calibration_history, cfg.tail_quantile, cfg.tail_prior_weight, MIN_FIT_ROWS)

    @property
    def fitted(self) -> bool:
        """Whether rows are being scored."""
        return self.components is not None

    def prepare(self) -> None:
        """Call before a run of rows: fits on a fit row (if enough healthy rows are known) and refreshes the
        calibration at the start of every ``refresh_rows`` rows."""
        if self.row % self.config.refresh_rows == 0:
            for tail in self.tails:
                if tail.due:
                    tail.refresh()
        if is_fit_row(self.row, self.config) and len(self.history) >= MIN_FIT_ROWS:
            self._fit(np.asarray(self.history, dtype=float))

    def _fit(self, rows: np.ndarray) -> None:
        half = len(rows) // 2
        share, weight = self.config.residual_variance, self.config.residual_smoothing
        # Calibrate on rows each half's model was not fitted on, in time order.
        first = Components.fit(rows[half:], share).statistics(rows[:half])
        second = Components.fit(rows[:half], share).statistics(rows[half:])
        self.tails = [self._tail(), self._tail()]
        for index, tail in enumerate(self.tails):
            smoothed, _ = _smooth(np.concatenate([first[index], second[index]]), None, weight)
            tail.learn(np.asarray(smoothed))
            tail.refresh()
        self.components = Components.fit(rows, share)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Tail probability of each row of a run (1 while unfitted, or before every channel has been seen):
        the smaller of smoothed T²'s and Q's, counted twice. Call :meth:`prepare` before and :meth:`learn`
        after; a run must not cross a multiple of ``refresh_rows`` rows."""
        filled = rows.copy()
        for c in range(self.channels):
            column = filled[:, c]
            seen = column == column
            if not seen.all():
                # Carry each channel's last reading forward (channels report at different periods).
                index = np.where(seen, np.arange(len(column)), -1)
                np.maximum.accumulate(index, out=index)
                column[:] = np.where(index >= 0, column[np.maximum(index, 0)], self.last[c])
            if len(column):
                self.last[c] = column[-1]
        complete = ~np.isnan(filled).any(axis=1)
        self._run = filled, complete, None
        result = np.ones(len(rows))
        if self.components is None or not complete.any():
            return result
        t2, q = self.components.statistics(filled[complete])
        weight = self.config.residual_smoothing
        t2_smooth, self.smoothed[0] = _smooth(t2, self.smoothed[0], weight)
        q_smooth, self.smoothed[1] = _smooth(q, self.smoothed[1], weight)
        statistics = np.asarray([t2_smooth, q_smooth])
        self._run = filled, complete, statistics
        smallest = np.minimum(self.tails[0].probabilities(statistics[0]), self.tails[1].probabilities(statistics[1]))
        result[complete] = np.minimum(1.0, 2.0 * smallest)
        return result

    def learn(self, learnt: np.ndarray) -> None:
        """End a run: rows where ``learnt`` is true join the training rows and the calibration (rows in alarm are
        not learnt, so a fault is never taken for normal while it lasts)."""
        filled, complete, statistics = self._run
        self.history.extend(filled[learnt & complete].tolist())
        if statistics is not None:
            for tail, values in zip(self.tails, statistics, strict=True):
                tail.learn(values[learnt[complete]])
        self.row += len(learnt)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"channels": self.channels, "row": self.row, "last": pack(self.last),
                "history": pack(np.asarray(self.history, dtype=float).reshape(-1)),
                "components": None if self.components is None else self.components.state_dict(),
                "smoothed": list(self.smoothed), "tails": [tail.state_dict() for tail in self.tails]}

    @classmethod
    def from_state(cls, config: DetectorConfig, state: dict[str, Any]) -> ResidualModel:
        """Rebuild from :meth:`state_dict`."""
        model = cls(state["channels"], config)
        model.row = state["row"]
        model.last = unpack(state["last"])
        model.history.extend(unpack(state["history"]).reshape(-1, model.channels).tolist())
        if state["components"] is not None:
            model.components = Components.from_state(state["components"])
        model.smoothed = list(state["smoothed"])
        model.tails = [TailProbability.from_state(tail) for tail in state["tails"]]
        return model
