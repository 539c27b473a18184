"""Multivariate model per device: IsolationForest and Mahalanobis distance on the channels' joint residuals.

Both catch signatures no single channel shows (two pressures that always move together suddenly disagree).
Models are refitted only at fixed row indices, from past non-alarm rows, so the result at a row never
depends on later rows and never on how the rows were batched.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from rules.anomaly.config import DetectorConfig
from rules.anomaly.forest import CompiledForest

# Fewer rows than this make neither a forest nor a covariance worth trusting.
_MIN_TRAIN_ROWS = 128
# Shrinkage of the covariance towards its diagonal, so nearly collinear channels stay invertible.
_SHRINKAGE = 0.1
# Variance floor (features are in z units): a channel that was constant while the model was trained (a pump
# that stayed off) must not turn its first ordinary wobble into an infinite distance.
_VARIANCE_FLOOR = 0.25


def is_fit_row(row: int, config: DetectorConfig) -> bool:
    """Whether the model is refitted just before scoring row ``row`` (0-based count of observed rows)."""
    if row < config.mv_first_fit:
        return False
    if row < config.mv_refit_every:
        # Doubling phase: first_fit, 2*first_fit, 4*first_fit, ...
        ratio, remainder = divmod(row, config.mv_first_fit)
        return remainder == 0 and ratio & (ratio - 1) == 0
    return row % config.mv_refit_every == 0


def next_fit_row(row: int, config: DetectorConfig) -> int:
    """Smallest fit row strictly greater than ``row``."""
    candidate = row + 1
    while not is_fit_row(candidate, config):
        candidate += 1
    return candidate


@dataclass
class _Fit:
    """One fitted model and the spread of its scores on its own training rows."""

    forest: CompiledForest
    mean: np.ndarray
    precision: np.ndarray
    forest_median: float
    forest_spread: float
    distance_median: float
    distance_spread: float


def _spread(scores: np.ndarray) -> tuple[float, float]:
    median = float(np.median(scores))
    return median, max(float(np.quantile(scores, 0.99)) - median, 1e-9)


def _fit(rows: np.ndarray, config: DetectorConfig) -> _Fit:
    forest = CompiledForest(IsolationForest(n_estimators=config.mv_trees, max_samples=min(256, len(rows)),
                                            random_state=config.seed).fit(rows))
    mean = rows.mean(axis=0)
    cov = np.cov(rows, rowvar=False)
    cov = (1 - _SHRINKAGE) * cov + _SHRINKAGE * np.diag(np.diag(cov)) + _VARIANCE_FLOOR * np.eye(len(mean))
    precision = np.linalg.inv(cov)
    distances = np.array([_distance(row, mean, precision) for row in rows])
    forest_median, forest_spread = _spread(-forest.score_samples(rows))
    distance_median, distance_spread = _spread(distances)
    return _Fit(forest, mean, precision, forest_median, forest_spread, distance_median, distance_spread)


def _distance(row: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> float:
    # Computed one row at a time on purpose: a batched matrix product may round differently by batch size,
    # which would make a row's score depend on how many rows follow it.
    diff = row - mean
    return float(np.sqrt(max(0.0, float(diff @ precision @ diff))))


class MultivariateModel:
    """Joint-residual model of one device, refitted on a fixed schedule from its own recent history."""

    def __init__(self, n_features: int, config: DetectorConfig) -> None:
        self.config = config
        self.n_features = n_features
        self.row = 0
        self.history: deque[list[float]] = deque(maxlen=config.mv_train_rows)
        self.fit_rows: list[list[float]] | None = None
        self._fit: _Fit | None = None

    @property
    def fitted(self) -> bool:
        """Whether a model is available to score rows."""
        return self._fit is not None

    def prepare(self) -> None:
        """Refit if the next row is a fit row and there is enough history (call before scoring a row)."""
        if is_fit_row(self.row, self.config) and len(self.history) >= _MIN_TRAIN_ROWS:
            self.fit_rows = [list(row) for row in self.history]
            self._fit = _fit(np.asarray(self.fit_rows), self.config)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Anomaly statistic per row, in units of the training median-to-99th-percentile spread (>= 0)."""
        fit = self._fit
        if fit is None:
            return np.zeros(len(rows))
        forest = (-fit.forest.score_samples(rows) - fit.forest_median) / fit.forest_spread
        distance = np.array([(_distance(row, fit.mean, fit.precision) - fit.distance_median)
                             / fit.distance_spread for row in rows])
        return np.maximum(0.0, np.maximum(forest, distance))

    def remember(self, features: list[float], in_alarm: bool) -> None:
        """Advance one row; rows in alarm are kept out of the training history."""
        if not in_alarm:
            self.history.append(features)
        self.row += 1

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; the fitted model is stored as its training rows and refitted on load."""
        return {"n_features": self.n_features, "row": self.row, "history": [list(r) for r in self.history],
                "fit_rows": self.fit_rows}

    @classmethod
    def from_state(cls, config: DetectorConfig, state: dict[str, Any]) -> MultivariateModel:
        """Rebuild from :meth:`state_dict`; a fixed seed makes the refitted model identical to the original."""
        model = cls(state["n_features"], config)
        model.row = state["row"]
        model.history.extend(state["history"])
        model.fit_rows = state["fit_rows"]
        if model.fit_rows is not None:
            model._fit = _fit(np.asarray(model.fit_rows), config)
        return model
