"""What the ``anomaly`` and ``forecast`` rule kinds need from a model, and the adapters the engine uses.

The engine only depends on the two Protocols below. ``DetectorScorer`` adapts the streaming detector of
``rules.anomaly`` (one detector per device and rule, fed one row per timestamp, its state kept in a model
store so a restart continues instead of warming up again); ``TrendForecaster`` adapts its robust trend
forecaster (one per device and rule), e.g. "the tank reaches its low level within 6 h".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import psycopg

from rules.anomaly.dbstore import DatabaseModelStore
from rules.anomaly.detector import StreamingDetector
from rules.anomaly.forecast import Forecaster as TheilSen

log = logging.getLogger(__name__)

ALARM_LEVEL = 0.5
BELOW_ALARM_LEVEL = 0.4999
# A forecast must be this sure of its trend before it raises an early warning (docs/anomaly.md).
MIN_FORECAST_CONFIDENCE = 0.9


class AnomalyScorer(Protocol):
    """Scores rows of one device's channels; a score at or above the rule's ``level`` is anomalous."""

    def score(self, key: str, channels: Sequence[str], ts: datetime, values: Mapping[str, float], *,
              alarm: str = "state") -> float:
        """Feed one row (``values`` may lack some channels) of the series ``key``; return its score (``alarm``:
        the rule's alarm style, ``state`` or ``event``)."""
        ...

    def flush(self, now: datetime) -> None:
        """Persist model state; the engine calls it every checkpoint interval and when it closes."""
        ...


class Forecaster(Protocol):
    """Predicts when one series crosses a level."""

    def seconds_to(self, key: str, ts: datetime, value: float, threshold: float,
                   direction: Literal["above", "below"]) -> float | None:
        """Feed one value of series ``key``; return the seconds until it crosses ``threshold`` (0 if it already
        has), or ``None`` when it is not heading there."""
        ...


@dataclass(eq=False)
class _Running:
    """A detector in use, the stored version it continues (None: not stored yet) and its rows at the last save."""

    detector: StreamingDetector
    version: int | None
    saved_rows: int


class DetectorScorer:
    """``AnomalyScorer`` over ``rules.anomaly.detector.StreamingDetector`` (score in [0, 1], 0.5 = alarm).

    The detector latches its alarm with hysteresis and a minimum hold; the returned score keeps to the same
    side of 0.5 as that latch, so a rule at level 0.5 follows the detector's decision instead of flickering
    while the raw score hovers near the level.

    With a ``store``, a key's detector is the newest stored version on first use (a fresh, warming-up one if
    there is none or its channels differ), and ``flush`` saves each detector that has scored rows since its last
    save, or takes up a newer stored version made by the daily refresh. Without one, detectors live in memory.

    Which keys have a stored version is read once (again after each ``flush``), so a first sight of a key
    without one costs no query: an engine meeting 10,000 new devices at once otherwise made 10,000 lookups in
    the gateway's commit path. A version stored elsewhere in between is taken up at the next ``flush``.
    """

    def __init__(self, store: DatabaseModelStore | None = None) -> None:
        self._store = store
        self._running: dict[str, _Running] = {}
        self._stored_keys: set[str] | None = None  # None: to be read at the next first sight

    def score(self, key: str, channels: Sequence[str], ts: datetime, values: Mapping[str, float], *,
              alarm: str = "state") -> float:
        """Feed one row to the detector of ``key`` (loaded or created on first use) and return its score: at or
        above the alarm level on every abnormal row (``state``) or on an event's onset row (``event``)."""
        running = self._running.get(key)
        if running is None:
            running = self._first_sight(key, channels)
            self._running[key] = running
        result = running.detector.update(ts, values)
        flagged = result.onset if alarm == "event" else result.abnormal
        return max(result.value, ALARM_LEVEL) if flagged else min(result.value, BELOW_ALARM_LEVEL)

    def flush(self, now: datetime) -> None:
        """Save detectors with unsaved rows and adopt newer stored versions; a failure is retried next time."""
        if self._store is None or not self._running:
            return
        try:
            self._flush(self._store, now)
        except psycopg.Error as exc:
            # Scoring goes on from memory; what is not saved now is saved by the next flush.
            log.warning("could not save anomaly models (%s); retrying at the next checkpoint", exc)
        self._stored_keys = None

    def _flush(self, store: DatabaseModelStore, now: datetime) -> None:
        newest = store.newest_versions(list(self._running))
        for key, running in self._running.items():
            detector = running.detector
            stored = newest.get(key)
            if stored is not None and stored != running.version:
                adopted = self._stored(key, detector.channels)
                if adopted is not None:
                    self._running[key] = adopted
                    continue
                # The newest stored version has other channels (the rule changed): ours becomes the next one.
                running.version = None
            elif detector.rows_seen == running.saved_rows:
                continue
            state = detector.state_dict()
            if running.version is None or stored is None:
                running.version = store.put(key, state, trained_at=now, rows=detector.rows_seen).version
            elif not store.checkpoint(key, running.version, state, rows=detector.rows_seen):
                # A refresh stored a newer version since the check above; take it up at the next flush.
                continue
            running.saved_rows = detector.rows_seen

    def _first_sight(self, key: str, channels: Sequence[str]) -> _Running:
        """The stored detector of ``key`` if there is one for these channels, else a fresh one."""
        if self._store is not None and self._stored_keys is None:
            self._stored_keys = self._store.keys()
        stored = self._stored(key, channels) if self._stored_keys and key in self._stored_keys else None
        return stored or _Running(StreamingDetector(channels), None, 0)

    def _stored(self, key: str, channels: Sequence[str]) -> _Running | None:
        """The newest stored version of ``key`` if it has these channels."""
        record = self._store.latest(key) if self._store is not None else None
        if record is None or record.state.get("channels") != list(channels):
            return None
        return _Running(StreamingDetector.from_state(record.state), record.version, record.rows)


class TrendForecaster:
    """``Forecaster`` over ``rules.anomaly.forecast.Forecaster`` (a Theil–Sen trend), one per series."""

    def __init__(self, window_s: float = 6 * 3600.0, min_points: int = 6) -> None:
        self.window_s = window_s
        self.min_points = min_points
        self._series: dict[str, TheilSen] = {}

    def seconds_to(self, key: str, ts: datetime, value: float, threshold: float,
                   direction: Literal["above", "below"]) -> float | None:
        """Seconds until the trend reaches ``threshold`` in ``direction`` (0 if the value already has)."""
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = TheilSen(window_s=self.window_s, min_points=self.min_points)
        series.update(ts, value)
        if (value >= threshold) if direction == "above" else (value <= threshold):
            return 0.0
        forecast = series.time_to_threshold(threshold, direction, ts)
        if forecast is None or forecast.confidence < MIN_FORECAST_CONFIDENCE:
            return None
        return forecast.seconds
