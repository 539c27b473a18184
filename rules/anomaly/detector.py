"""Streaming, self-calibrating anomaly detector for one device (several channels)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rules.anomaly.calibration import AlarmLatch, ComponentCalibrator
from rules.anomaly.channel import ChannelModel, ChannelStats
from rules.anomaly.config import DetectorConfig
from rules.anomaly.multivariate import MultivariateModel, next_fit_row

STATE_VERSION = 1
# What calibration learns of a statistic saturates at this many times its floors, so one wild reading cannot
# dominate the history. Only what is learnt is capped: the statistic compared with the alarm level is not, or a
# channel whose learnt level rose above the cap (spiky, quantised) could never alarm again.
LEARN_CAP = 20.0


@dataclass(frozen=True)
class Score:
    """Result of one :meth:`StreamingDetector.update`."""

    value: float
    """Anomaly score in [0, 1]; 0.5 is the alarm level, 0 during warm-up."""
    is_anomaly: bool
    """Alarm state after this row (with hysteresis and minimum hold)."""
    warmed_up: bool
    """False while the detector has seen too little data to raise alarms."""
    channel_scores: dict[str, float]
    """Per-channel score in [0, 1] on the same scale as ``value`` (which channel looks anomalous)."""


def epoch_seconds(ts: datetime) -> float:
    """Epoch seconds of ``ts``; a naive datetime is taken to be UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


# Readings beyond this magnitude are treated as missing: no sensor reports them, and their squares would
# overflow the statistics.
MAX_READING = 1e100


def as_reading(value: object) -> float | None:
    """A finite float, or None for anything missing, non-numeric, non-finite or absurdly large."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_READING else None


def _to_score(ratio: float) -> float:
    # Monotone map of "multiples of the alarm level" onto [0, 1) with the alarm level at exactly 0.5.
    return 1.0 - 2.0 ** (-ratio)


class StreamingDetector:
    """Unsupervised anomaly detector for the channels of one device, fed one row at a time.

    Each channel has a robust seasonal baseline giving a robust z-score, a CUSUM for small persistent
    shifts, a squared-residual average for variance changes and a long reference level for drifts; with
    two or more channels an IsolationForest and a Mahalanobis distance on the joint residuals catch
    broken correlations. Each
    statistic is divided by its own alarm level (absolute floor or a multiple of its running quantile) and
    the row's score is the largest ratio. No alarm is raised during warm-up.
    """

    def __init__(self, channels: Sequence[str], *, config: DetectorConfig | None = None) -> None:
        if not channels:
            raise ValueError("a detector needs at least one channel")
        self.channels = tuple(channels)
        self.config = config or DetectorConfig()
        cfg = self.config
        self._models = [ChannelModel(cfg) for _ in self.channels]
        # One calibrator per channel, on the channel statistic expressed in multiples of its floors.
        self._calibrators = [self._channel_calibrator() for _ in self.channels]
        self._generations = [0] * len(self.channels)
        self._mv = (MultivariateModel(2 * len(self.channels), cfg)
                    if cfg.multivariate and len(self.channels) >= 2 else None)
        self._mv_calibrator = ComponentCalibrator(cfg.floor_multivariate, cfg.quantile, cfg.quantile_factor,
                                                  cfg.calibration_memory)
        self._latch = AlarmLatch(cfg.clear_ratio, cfg.clear_rows, cfg.min_hold_rows)
        self._rows = 0
        self._z_average = [0.0] * len(self.channels)
        self._peaks: list[float | None] = [None] * (len(self.channels) + 1)

    def _channel_calibrator(self) -> ComponentCalibrator:
        cfg = self.config
        return ComponentCalibrator(1.0, cfg.quantile, cfg.quantile_factor, cfg.calibration_memory)

    @property
    def rows_seen(self) -> int:
        """Rows processed so far."""
        return self._rows

    def update(self, ts: datetime, values: Mapping[str, float | None]) -> Score:
        """Process one row: ``values`` maps channel name to reading (absent, None or NaN = missing)."""
        row = [as_reading(values.get(name)) for name in self.channels]
        return self._process([epoch_seconds(ts)], [[value] for value in row])[0]

    def update_batch(self, times: Sequence[float], values: np.ndarray) -> list[Score]:
        """Process many rows at once; identical to calling :meth:`update` row by row, only faster.

        ``times`` are epoch seconds and ``values`` an (n, channels) array with NaN for missing values.
        Rows are taken in runs that end at the multivariate model's refit rows: within a run each channel
        is processed as one column and the multivariate model scores all rows in one call, while the
        calibration and alarm latch still go row by row.
        """
        columns = [[None if v != v or abs(v) > MAX_READING else v for v in column]
                   for column in np.asarray(values, dtype=float).reshape(len(times), len(self.channels)).T.tolist()]
        all_times = [float(t) for t in times]
        scores: list[Score] = []
        start = 0
        while start < len(all_times):
            end = len(all_times)
            if self._mv is not None:
                end = min(end, start + next_fit_row(self._mv.row, self.config) - self._mv.row)
            scores.extend(self._process(all_times[start:end], [column[start:end] for column in columns]))
            start = end
        return scores

    def _process(self, times: list[float], columns: list[list[float | None]]) -> list[Score]:
        # A run of rows with no multivariate refit inside it (the refit, if due, happens first).
        per_channel = [model.observe_many(times, column) for model, column in zip(self._models, columns,
                                                                                   strict=True)]
        rows = list(zip(*per_channel, strict=True))
        features = self._features(rows)
        mv_values: list[float | None] = [None] * len(rows)
        if self._mv is not None:
            self._mv.prepare()
            if self._mv.fitted:
                mv_values = self._mv.score(np.asarray(features)).tolist()
        return [self._fuse(list(stats), row_features, mv_value)
                for stats, row_features, mv_value in zip(rows, features, mv_values, strict=True)]

    def _features(self, rows: list[tuple[ChannelStats | None, ...]]) -> list[list[float]]:
        # A missing value contributes z = 0 (as expected) and the channel's last short average.
        last = self._z_average
        features = []
        for stats in rows:
            row: list[float] = []
            for c, stat in enumerate(stats):
                if stat is None:
                    row.extend((0.0, last[c]))
                else:
                    row.extend(stat.features())
                    last[c] = stat.z_average
            features.append(row)
        return features

    def _fuse(self, stats: list[ChannelStats | None], features: list[float], mv_value: float | None) -> Score:
        armed = self._rows >= self.config.warmup_rows
        for c, stat in enumerate(stats):
            if stat is not None and stat.generation != self._generations[c]:
                # The channel's baseline changed model (a seasonal profile came into use): recalibrate.
                self._generations[c] = stat.generation
                self._calibrators[c] = self._channel_calibrator()
                self._peaks[c] = None
        levels = [None if stat is None or not stat.ready else stat.statistic for stat in stats]
        ratios = [0.0 if level is None else calibrator.ratio(level)
                  for level, calibrator in zip(levels, self._calibrators, strict=True)]
        mv_ratio = 0.0 if mv_value is None else self._mv_calibrator.ratio(mv_value)
        combined = max(max(ratios), mv_ratio)
        was_active = self._latch.active
        active = self._latch.update(combined, armed)
        learning = not active or self._latch.held > self.config.relearn_after_rows
        values = [*levels, mv_value]
        calibrators = [*self._calibrators, self._mv_calibrator]
        if learning:
            # Quiet rows (and conditions that have lasted long enough to be the new normal) teach the
            # calibrators what normal looks like.
            for value, calibrator in zip(values, calibrators, strict=True):
                if value is not None:
                    calibrator.learn(min(value, LEARN_CAP))
        else:
            # A fresh alarm teaches nothing row by row, but its peak is remembered as one observation when it
            # ends: a condition that keeps coming back (a jockey pump's start every hour) becomes normal
            # after a few occurrences, while one long anomaly cannot raise its own bar.
            self._peaks = [p if v is None or (p is not None and p >= v) else v
                           for p, v in zip(self._peaks, values, strict=True)]
        if was_active and (learning or not active):
            for peak, calibrator in zip(self._peaks, calibrators, strict=True):
                if peak is not None:
                    calibrator.learn(min(peak, LEARN_CAP))
            self._peaks = [None] * len(self._peaks)
        if self._mv is not None:
            self._mv.remember(features, in_alarm=not learning)
        self._rows += 1
        channel_scores = {name: _to_score(r) if armed else 0.0
                          for name, r in zip(self.channels, ratios, strict=True)}
        return Score(_to_score(combined) if armed else 0.0, active, armed, channel_scores)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; :meth:`from_state` continues exactly where this detector stopped."""
        return {
            "version": STATE_VERSION,
            "channels": list(self.channels),
            "config": self.config.to_dict(),
            "rows": self._rows,
            "z_average": list(self._z_average),
            "peaks": list(self._peaks),
            "generations": list(self._generations),
            "models": [m.state_dict() for m in self._models],
            "calibrators": [c.state_dict() for c in self._calibrators],
            "mv": None if self._mv is None else self._mv.state_dict(),
            "mv_calibrator": self._mv_calibrator.state_dict(),
            "latch": self._latch.state_dict(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StreamingDetector:
        """Rebuild a detector from :meth:`state_dict` output."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {state.get('version')!r}")
        config = DetectorConfig.from_dict(state["config"])
        detector = cls(state["channels"], config=config)
        detector._rows = state["rows"]
        detector._z_average = list(state["z_average"])
        detector._peaks = list(state["peaks"])
        detector._generations = list(state["generations"])
        detector._models = [ChannelModel.from_state(config, m) for m in state["models"]]
        detector._calibrators = [ComponentCalibrator.from_state(c) for c in state["calibrators"]]
        if state["mv"] is not None:
            detector._mv = MultivariateModel.from_state(config, state["mv"])
        detector._mv_calibrator = ComponentCalibrator.from_state(state["mv_calibrator"])
        detector._latch.load_state(state["latch"])
        return detector
