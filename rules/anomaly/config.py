"""Tuning knobs of the streaming detector, gathered in one immutable dataclass.

Every window is counted in rows (readings), not seconds, so the detector behaves the same on 1 s and 5 min
sampling; the seasonal profiles are the only part that reads the clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class DetectorConfig:
    """Parameters of :class:`rules.anomaly.detector.StreamingDetector`.

    The defaults are chosen for generality (no per-device tuning); see docs/anomaly.md for the reasoning.
    """

    window: int = 32
    """Rows in the rolling median that is each channel's baseline (short, to follow slow wander)."""
    scale_window: int = 256
    """Rows of accepted residuals whose IQR is each channel's noise scale (long, to be stable)."""
    min_points: int = 32
    """Values a channel needs before its residuals count."""
    warmup_rows: int = 150
    """Rows before the detector may raise an alarm (the score is reported as 0 until then)."""
    reject_z: float = 6.0
    """Values further than this many robust sigmas are kept out of the baseline (outlier-robust learning)..."""
    max_reject: int = 64
    """...unless that many consecutive values were rejected: then the new level is accepted as normal."""
    cusum_drift: float = 0.75
    """CUSUM allowance k in sigmas: level shifts smaller than this are ignored."""
    cusum_cap: float = 40.0
    """Upper bound on the CUSUM statistic so that it recovers quickly once a shift has been learnt."""
    variance_alpha: float = 0.05
    """Smoothing of the squared-residual average that reveals variance changes."""
    seasonal: bool = True
    """Learn daily and weekly profiles; each is used only once it has seen two periods and helps."""
    multivariate: bool = True
    """Fit IsolationForest and Mahalanobis models on the joint residuals (needs at least 2 channels)."""
    mv_first_fit: int = 256
    """Row index of the first multivariate fit; the fit rows double until ``mv_refit_every``."""
    mv_refit_every: int = 8192
    """After the doubling phase, refit every this many rows."""
    mv_train_rows: int = 1024
    """Most recent non-alarm rows used for a multivariate fit."""
    mv_trees: int = 50
    """Trees in the IsolationForest."""
    seed: int = 0
    """Random seed of the IsolationForest, so that fits are reproducible."""
    quantile: float = 0.999
    """Running quantile of each score component that defines its normal range."""
    calibration_memory: float = 5000.0
    """Rows of memory of the running quantiles (exponential forgetting)."""
    quantile_factor: float = 1.5
    """An alarm needs a component beyond this multiple of its running quantile..."""
    floor_z: float = 5.0
    """...and beyond its absolute floor: robust |z| for spikes and level jumps,"""
    floor_cusum: float = 15.0
    """CUSUM statistic (sigma units) for small persistent shifts,"""
    floor_variance: float = 4.0
    """squared-residual average for variance increases,"""
    floor_drift: float = 8.0
    """distance of the baseline from its long-run reference (slow drifts),"""
    floor_multivariate: float = 2.0
    """and multivariate distance, in units of the training set's median-to-99th-percentile spread."""
    clear_ratio: float = 0.7
    """Hysteresis: an alarm clears once the score stays below this fraction of the raise level..."""
    clear_rows: int = 30
    """...for this many consecutive rows..."""
    min_hold_rows: int = 10
    """...and has been held at least this many rows, so one anomaly gives one raise."""
    relearn_after_rows: int = 256
    """An alarm that lasts longer than this many rows is a new normal: calibration (at full weight) and the
    multivariate training history resume learning from it, so the alarm ends instead of latching forever."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary of every field (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored so that old states still load."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
