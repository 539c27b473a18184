"""Tuning knobs of the streaming detector, gathered in one immutable dataclass.

Windows are counted in readings (rows, or a channel's own observations), so the detector behaves the same on
1 s and 1 h sampling. The one knob that reads the clock is the alarm rate: how often a device may cross its
alarm level by chance is a rate per day, whatever its sampling interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

AlarmStyle = Literal["event", "state"]
ALARM_STYLES: tuple[str, ...] = ("event", "state")


@dataclass(frozen=True)
class DetectorConfig:
    """Parameters of :class:`rules.anomaly.detector.StreamingDetector`.

    The defaults are chosen for generality (no per-device tuning); docs/anomaly.md gives the reasoning and
    the measurements behind them.
    """

    alarm: AlarmStyle = "event"
    """``event``: ``is_anomaly`` marks the first row of an abnormal episode, then stays quiet for
    ``event_quiet_rows`` (one work order per event). ``state``: ``is_anomaly`` holds while the device is
    abnormal (the console's "still abnormal" view)."""
    alarm_rate_per_day: float = 1.0
    """How often per day a normal device may cross its alarm level by chance: the row's tail probability must be
    below this rate times the device's sampling interval over a day (a 5-min series: 3.5e-3 per row; 1 Hz
    telemetry: 1.2e-5)."""
    max_row_probability: float = 0.01
    """Upper bound of that per-row level, so sparse (hourly, daily) series are not alarmed at every few rows."""
    min_row_probability: float = 1e-9
    """Lower bound of that per-row level, so a very fast series can still alarm."""
    warmup_rows: int = 150
    """Rows before the detector may raise an alarm (the score is reported as 0 until then)."""
    point_neighbours: int = 10
    """Nearest past values whose mean distance is a value's novelty (a value unlike any seen before)."""
    pattern_window: int = 16
    """Values in a pattern: a channel's last ``pattern_window`` readings are compared with its past windows."""
    pattern_neighbours: int = 10
    """Nearest past windows whose mean distance is the pattern's novelty."""
    daily_context: float = 1.0
    """Weight of a window's time of day (UTC) in its distance to past windows, in scale units at opposite times
    of day: the same shape at another time of day is a worse match (0: time of day ignored)."""
    reference_size: int = 2000
    """Past values (and windows) a channel compares with, for a single-channel device..."""
    memory_days: float = 7.0
    """Half of each reference is a long memory: one reading in so many, with the window it ends, spread over this
    many days, so what is normal over a day or a week is not new again every hour on fast channels."""
    reference_budget: int = 2048
    """...and the total over all channels of a device: each channel gets ``budget // channels``, at least 256,
    so the cost per row stays bounded however many channels a device has."""
    refresh_rows: int = 64
    """A channel's reference, scale and calibration are rebuilt every this many of its readings."""
    calibration_history: int = 5000
    """Recent values of each statistic that its tail probability is calibrated on; on a fast channel they are
    the maxima of blocks of values (a power of two long), so that they span ``memory_days``."""
    tail_quantile: float = 0.95
    """Above this quantile of its history a statistic's tail is modelled as exponential (peaks over
    threshold), so probabilities far smaller than one over the history length can be estimated."""
    tail_prior_weight: float = 1.0
    """Pseudo-exceedances of the tail's prior (mean excess = the threshold itself), so a tail fitted on a
    short history errs on the quiet side."""
    min_calibration: int = 100
    """Values a statistic needs in its history before it may contribute."""
    residual_model: bool = True
    """Fit a joint residual model (PCA: T² and Q) on a device's healthy start (needs at least 2 channels)."""
    residual_fit_rows: int = 300
    """Row at which the residual model is first fitted, on the rows before it (the healthy start)..."""
    residual_refit_every: int = 128
    """...and refitted every this many rows after it, on the non-alarm rows: it follows slow drift (a casing
    warming up) while nothing is wrong, and stays as it was while an alarm holds."""
    residual_train_rows: int = 2048
    """Most recent non-alarm rows used for a refit."""
    residual_memory_days: float = 1.0
    """Half of the residual model's training rows are one row in so many over this many days (the other half are
    the most recent rows), so a refit knows every regime of the day (a standby pump at the demand peak)."""
    residual_variance: float = 0.9
    """Share of the standardised variance the principal components keep (T²); the rest is the residual (Q)."""
    residual_smoothing: float = 0.2
    """Weight of the newest row in the residual statistics' running average (smooths sensor noise)."""
    hold_probability: float = 0.01
    """Hysteresis: a raised alarm holds while the row's tail probability stays below this..."""
    clear_rows: int = 10
    """...and clears after this many consecutive rows above it."""
    event_quiet_rows: int = 100
    """``event`` style: after an onset, no new onset for this many rows."""
    relearn_after_rows: int = 1000
    """An alarm held this long is a new normal: the residual model resumes learning from it."""

    def __post_init__(self) -> None:
        if self.alarm not in ALARM_STYLES:
            raise ValueError(f"alarm must be one of {', '.join(ALARM_STYLES)}, got {self.alarm!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary of every field (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored so that old states still load."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
