"""Novelty of a value, or of a window of recent values, as the distance to its nearest neighbours in the past.

This is the nonconformity measure of KNN-CAD (Burnaev and Ishimtsev, "Conformalized density- and distance-based
anomaly detection in time-series data", 2016): a channel's last ``length`` readings form a point in
``length`` dimensions, and its mean distance to the ``k`` nearest windows of the channel's own past says how
unlike anything seen before it is. Windows catch what single values cannot (a missing daily peak, a flat
stretch, a changed rhythm); ``length`` 1 is the plain "value never seen" test.

Values are centred and scaled by the reference's median and interquartile range and rounded to 1/16 of that
scale, so every distance is a sum of integer products that floating point computes exactly in any order: the
matrix product that finds the neighbours of many windows at once gives bit for bit what it gives for one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Quantisation steps per unit of scale, and the largest step count kept (256 scales: beyond that, "very far"
# is all that matters). Squares of LIMIT summed over a window stay far below 2**53, so integer sums are exact.
QUANTUM = 16.0
LIMIT = 4096.0
_IQR_TO_SIGMA = 1.349
_MAD_TO_SIGMA = 1.2533


def robust_scale(ordered: np.ndarray) -> tuple[float, float]:
    """Median and a noise scale of sorted values: IQR/1.349, else the mean absolute deviation (quantised or
    mostly-constant channels), else a tiny floor relative to the level (a constant channel: any change counts)."""
    n = len(ordered)
    centre = 0.5 * float(ordered[(n - 1) // 2] + ordered[n // 2])
    scale = float(ordered[(3 * n) // 4] - ordered[n // 4]) / _IQR_TO_SIGMA
    if scale <= 0.0:
        scale = float(np.mean(np.abs(ordered - centre))) * _MAD_TO_SIGMA
    return centre, max(scale, 1e-6 * max(1.0, abs(centre)))


def quantise(values: np.ndarray, centre: float, scale: float) -> np.ndarray:
    """Values in steps of ``scale / QUANTUM`` from ``centre``, as integral floats within +-LIMIT."""
    # maximum and minimum are what clip does, without its Python wrapper (quantise runs for every row).
    return np.minimum(np.maximum(np.rint((np.asarray(values, dtype=float) - centre) * (QUANTUM / scale)), -LIMIT),
                      LIMIT)


@dataclass(frozen=True)
class Reference:
    """The past windows of one length a channel's new windows are compared with, quantised."""

    windows: np.ndarray
    norms: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, length: int, size: int, centre: float, scale: float) -> Reference:
        """The last ``size`` windows of ``length`` consecutive ``values``."""
        steps = quantise(values[-(size + length - 1) :], centre, scale)
        windows = steps[np.arange(max(0, len(steps) - length + 1))[:, None] + np.arange(length)]
        return cls(windows, np.einsum("ij,ij->i", windows, windows))

    def __len__(self) -> int:
        return len(self.windows)


def value_novelty(values: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """``novelty`` for windows of one value, against the reference values sorted: the ``k`` nearest are among the
    ``k`` on either side of where each value would be inserted, so only those are compared."""
    k = min(k, len(reference))
    padded = np.concatenate([np.full(k, -np.inf), reference, np.full(k, np.inf)])
    start = np.searchsorted(reference, values)
    candidates = padded[start[:, None] + np.arange(2 * k)]
    squared = (candidates - values[:, None]) ** 2
    nearest = np.partition(squared, k - 1, axis=1)[:, :k]
    return np.sqrt(nearest.sum(axis=1) / k) / QUANTUM


def novelty(windows: np.ndarray, reference: Reference, k: int) -> np.ndarray:
    """Root-mean-square distance per value, in units of scale, from each quantised window (a row) to the mean of
    its ``k`` nearest reference windows' squared distances."""
    length = windows.shape[1]
    squared = (np.einsum("ij,ij->i", windows, windows)[:, None] + reference.norms[None, :]
               - 2.0 * (windows @ reference.windows.T))
    k = min(k, len(reference))
    nearest = np.partition(squared, k - 1, axis=1)[:, :k] if k < squared.shape[1] else squared
    return np.sqrt(np.maximum(nearest.sum(axis=1), 0.0) / (k * length)) / QUANTUM
