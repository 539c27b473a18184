"""Streaming, self-calibrating anomaly detector for one device (one or more channels)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rules.anomaly.alarm import AlarmState, EventGate
from rules.anomaly.blas import one_blas_thread
from rules.anomaly.channel import ChannelBank
from rules.anomaly.config import DetectorConfig
from rules.anomaly.likelihood import scores_of
from rules.anomaly.residual import ResidualModel, next_fit_row

STATE_VERSION = 2
DAY_S = 86_400.0
# Sampling interval assumed until two rows with different timestamps have been seen.
DEFAULT_INTERVAL_S = 60.0
# Memory of the running (geometric) mean of the sampling interval, in rows.
_INTERVAL_ALPHA = 0.05
# Readings beyond this magnitude are treated as missing: no sensor reports them.
MAX_READING = 1e100


@dataclass(frozen=True)
class Score:
    """Result of one row of :class:`StreamingDetector`."""

    value: float
    """Anomaly score in [0, 1]: 0.5 is the alarm level (the row's tail probability equals the alarm
    probability), 1 its square; 0 during warm-up."""
    is_anomaly: bool
    """The alarm in the configured style: the onset row of an event (``event``), or every abnormal row
    (``state``)."""
    warmed_up: bool
    """False while the detector has seen too little data to raise alarms."""
    channel_scores: dict[str, float]
    """Per-channel score on the same scale as ``value`` (which channel looks anomalous)."""
    abnormal: bool = False
    """The held state, whatever the style: abnormal from a raise until the rows calm down."""
    onset: bool = False
    """Whether this row starts an event (at most one onset per ``event_quiet_rows``)."""


def epoch_seconds(ts: datetime) -> float:
    """Epoch seconds of ``ts``; a naive datetime is taken to be UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def as_reading(value: object) -> float | None:
    """A finite float, or None for anything missing, non-numeric, non-finite or absurdly large."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_READING else None


class StreamingDetector:
    """Unsupervised anomaly detector for the channels of one device, fed one row at a time (or many).

    Per channel, the novelty of each reading and of each window of recent readings against the channel's own
    past (nearest neighbours); per device with two or more channels, a principal-component residual model
    fitted on healthy operation. Each statistic becomes a tail probability under its own history, so they are
    comparable; the row's probability is the smallest, corrected for the number of tests. A row is abnormal
    when that probability is below the alarm level, which is a rate per day turned into a probability per row
    by the device's sampling interval. No alarm is raised during warm-up.
    """

    def __init__(self, channels: Sequence[str], *, config: DetectorConfig | None = None) -> None:
        if not channels:
            raise ValueError("a detector needs at least one channel")
        self.channels = tuple(channels)
        self.config = cfg = config or DetectorConfig()
        count = len(self.channels)
        reference = cfg.reference_size if count == 1 else max(256, cfg.reference_budget // count)
        # Everything that is not per row (references, calibrations, the level) is rebuilt every refresh_rows rows.
        # Stretching that period on many-channel devices cut their cost by a third but gave 1 Hz lift telemetry
        # 9-15 false alarms a day (a door switch's references lagged), so it is not done (docs/anomaly.md).
        self._period = cfg.refresh_rows
        self._bank = ChannelBank(cfg, count, reference, self._period)
        self._residual = ResidualModel(count, cfg, self._period) if cfg.residual_model and count >= 2 else None
        self._tests = count + (self._residual is not None)
        self._state = AlarmState(cfg.hold_probability, cfg.clear_rows)
        self._events = EventGate(cfg.event_quiet_rows)
        self._rows = 0
        self._last_time: float | None = None
        self._log_interval: float | None = None
        self._level = self._current_level()

    @property
    def rows_seen(self) -> int:
        """Rows processed so far."""
        return self._rows

    @property
    def level(self) -> float:
        """The alarm probability per row: the alarm rate per day over the rows in a day at the device's sampling
        interval, within the configured bounds. Fixed for each ``refresh_rows`` rows."""
        return self._level

    def _interval(self) -> float:
        return DEFAULT_INTERVAL_S if self._log_interval is None else math.exp(self._log_interval)

    def _current_level(self) -> float:
        cfg = self.config
        return min(cfg.max_row_probability,
                   max(cfg.min_row_probability, cfg.alarm_rate_per_day * self._interval() / DAY_S))

    def update(self, ts: datetime, values: Mapping[str, float | None]) -> Score:
        """Process one row: ``values`` maps channel name to reading (absent, None or NaN = missing)."""
        row = [math.nan if (v := as_reading(values.get(name))) is None else v for name in self.channels]
        return self._process([epoch_seconds(ts)], np.asarray([row], dtype=float))[0]

    def update_batch(self, times: Sequence[float], values: np.ndarray) -> list[Score]:
        """Process many rows at once; identical to calling :meth:`update` row by row, only faster.

        ``times`` are epoch seconds and ``values`` an (n, channels) array with NaN for missing values.
        """
        rows = np.asarray(values, dtype=float).reshape(len(times), len(self.channels)).copy()
        rows[~(np.abs(rows) <= MAX_READING)] = np.nan
        all_times = [float(t) for t in times]
        scores: list[Score] = []
        start = 0
        # The matrix products are small: BLAS threads only contend for the cores (a 32 x 2000 neighbour search
        # took 3.4 ms with OpenBLAS's threads on a loaded 2-core machine, 0.12 ms with one). A single row (update)
        # needs no limit: its neighbour search is not a BLAS product, and the residual fit limits itself.
        with one_blas_thread():
            while start < len(all_times):
                end = min(len(all_times), start + self._run_length())
                scores.extend(self._process(all_times[start:end], rows[start:end]))
                start = end
        return scores

    def _run_length(self) -> int:
        # Runs end where the level and the residual model's calibration may change (every period) and
        # before the residual model's fit rows, so within a run everything that is not per row stays fixed.
        cfg = self.config
        length = self._period - self._rows % self._period
        if self._residual is not None:
            length = min(length, next_fit_row(self._rows, cfg) - self._rows)
        return length

    def _process(self, times: list[float], rows: np.ndarray) -> list[Score]:
        cfg = self.config
        if self._rows % self._period == 0:
            self._level = self._current_level()
            self._bank.refresh(times[0])
        level, tests, names = self._level, self._tests, self.channels
        probabilities = self._bank.probabilities(np.asarray(times), rows)
        single = probabilities.min(axis=1)
        residual = self._residual
        if residual is not None:
            residual.prepare(self._interval())
            single = np.minimum(single, residual.probabilities(rows))
        device = np.minimum(1.0, tests * single)
        # The device's score and its channels' in one call (column 0 is the device).
        both = scores_of(np.column_stack([device, np.minimum(1.0, tests * probabilities)]), level)
        values, channel_values = both[:, 0].tolist(), both[:, 1:].tolist()
        event_style = cfg.alarm == "event"
        learnt = np.ones(len(times), dtype=bool)
        scores = []
        for i, (t, probability) in enumerate(zip(times, device.tolist(), strict=True)):
            self._observe_time(t)
            armed = self._rows >= cfg.warmup_rows
            was_abnormal = self._state.active
            abnormal = self._state.update(probability, level, armed)
            onset = self._events.update(abnormal and not was_abnormal, probability <= level * level)
            # Rows in alarm are not learnt by the residual model, unless the alarm has lasted long enough to be
            # the new normal.
            learnt[i] = not abnormal or self._state.held > cfg.relearn_after_rows
            self._rows += 1
            if armed:
                channel_scores, value = dict(zip(names, channel_values[i], strict=True)), values[i]
            else:
                channel_scores, value = dict.fromkeys(names, 0.0), 0.0
            scores.append(Score(value, onset if event_style else abnormal, armed, channel_scores, abnormal, onset))
        if residual is not None:
            residual.learn(learnt)
        return scores

    def _observe_time(self, t: float) -> None:
        last, self._last_time = self._last_time, t
        if last is None or not t > last:
            return
        log_interval = math.log(t - last)
        self._log_interval = log_interval if self._log_interval is None \
            else self._log_interval + _INTERVAL_ALPHA * (log_interval - self._log_interval)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; :meth:`from_state` continues exactly where this detector stopped."""
        return {
            "version": STATE_VERSION,
            "channels": list(self.channels),
            "config": self.config.to_dict(),
            "rows": self._rows,
            "last_time": self._last_time,
            "log_interval": self._log_interval,
            "level": self._level,
            "channels_model": self._bank.state_dict(),
            "residual": None if self._residual is None else self._residual.state_dict(),
            "state": self._state.state_dict(),
            "events": self._events.state_dict(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StreamingDetector:
        """Rebuild a detector from :meth:`state_dict` output.

        A state saved by an earlier detector version cannot be continued (its models are different): a fresh
        detector for the same channels is returned, which warms up again.
        """
        if state.get("version") != STATE_VERSION:
            return cls(state["channels"])
        config = DetectorConfig.from_dict(state["config"])
        detector = cls(state["channels"], config=config)
        detector._rows = state["rows"]
        detector._last_time = state["last_time"]
        detector._log_interval = state["log_interval"]
        detector._level = state["level"]
        detector._bank = ChannelBank.from_state(config, state["channels_model"])
        if state["residual"] is not None:
            detector._residual = ResidualModel.from_state(config, state["residual"])
        detector._state.load_state(state["state"])
        detector._events.load_state(state["events"])
        return detector
