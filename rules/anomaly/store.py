"""Versioned storage of detector states, and training/refreshing detectors from stored history.

The database-backed job belongs to the rules engine: it reads a device's recent readings, calls
:func:`refresh_model`, and the engine loads :meth:`ModelStore.latest` when it (re)starts a device.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from rules.anomaly.config import DetectorConfig
from rules.anomaly.detector import StreamingDetector, as_reading, epoch_seconds


@dataclass(frozen=True)
class ModelRecord:
    """One stored version of a model."""

    key: str
    """Which model: by convention ``"{device_id}:{model name}"``."""
    version: int
    """1, 2, 3, ... per key."""
    trained_at: datetime
    """When the version was produced (UTC)."""
    rows: int
    """Rows of history the model has seen; 0 rows means it is still warming up."""
    state: dict[str, Any]
    """``StreamingDetector.state_dict()``."""


class ModelStore(Protocol):
    """Where model versions live; the in-memory store below and a database table can both implement it."""

    def put(self, key: str, state: dict[str, Any], *, trained_at: datetime, rows: int) -> ModelRecord:
        """Store a new version of ``key`` and return its record."""
        ...

    def latest(self, key: str) -> ModelRecord | None:
        """Newest version of ``key``, or None."""
        ...

    def versions(self, key: str) -> list[int]:
        """All stored version numbers of ``key``, oldest first."""
        ...


class InMemoryModelStore:
    """Model store held in a dictionary, serialisable to JSON as a whole."""

    def __init__(self, keep: int = 3) -> None:
        self.keep = keep
        self._records: dict[str, list[ModelRecord]] = {}

    def put(self, key: str, state: dict[str, Any], *, trained_at: datetime, rows: int) -> ModelRecord:
        """Store a new version of ``key``, keeping only the newest ``keep`` versions."""
        if trained_at.tzinfo is None:
            raise ValueError("trained_at must be timezone-aware")
        records = self._records.setdefault(key, [])
        version = records[-1].version + 1 if records else 1
        record = ModelRecord(key, version, trained_at, rows, state)
        records.append(record)
        del records[: -self.keep]
        return record

    def latest(self, key: str) -> ModelRecord | None:
        """Newest version of ``key``, or None."""
        records = self._records.get(key)
        return records[-1] if records else None

    def versions(self, key: str) -> list[int]:
        """Stored version numbers of ``key``, oldest first."""
        return [r.version for r in self._records.get(key, [])]

    def to_json(self) -> str:
        """The whole store as a JSON document."""
        return json.dumps({
            "keep": self.keep,
            "records": [{"key": r.key, "version": r.version, "trained_at": r.trained_at.isoformat(),
                         "rows": r.rows, "state": r.state}
                        for records in self._records.values() for r in records],
        })

    @classmethod
    def from_json(cls, text: str) -> InMemoryModelStore:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        store = cls(keep=data["keep"])
        for r in data["records"]:
            store._records.setdefault(r["key"], []).append(ModelRecord(
                r["key"], r["version"], datetime.fromisoformat(r["trained_at"]), r["rows"], r["state"]))
        return store


def train_detector(channels: Sequence[str], history: Iterable[tuple[datetime, Mapping[str, float | None]]],
                   *, config: DetectorConfig | None = None) -> StreamingDetector:
    """A detector that has replayed ``history`` (oldest first), ready to continue on live readings.

    Warm-up is honest: if the history is shorter than the warm-up, the detector still reports
    ``warmed_up=False`` for the live rows that make up the difference.
    """
    detector = StreamingDetector(channels, config=config)
    times: list[float] = []
    rows: list[list[float]] = []
    for ts, values in history:
        times.append(epoch_seconds(ts))
        rows.append([math.nan if (v := as_reading(values.get(c))) is None else v for c in channels])
    if rows:
        # Same result as feeding update() row by row, with the multivariate model scored in batches.
        detector.update_batch(times, np.asarray(rows, dtype=float))
    return detector


def refresh_model(store: ModelStore, key: str, channels: Sequence[str],
                  history: Iterable[tuple[datetime, Mapping[str, float | None]]], *, now: datetime,
                  config: DetectorConfig | None = None) -> ModelRecord:
    """Train a fresh detector from ``history`` and store it as the next version of ``key``."""
    detector = train_detector(channels, history, config=config)
    return store.put(key, detector.state_dict(), trained_at=now, rows=detector.rows_seen)


def load_detector(store: ModelStore, key: str, channels: Sequence[str],
                  *, config: DetectorConfig | None = None) -> StreamingDetector:
    """The latest stored detector for ``key``, or a fresh (warming-up) one if none is stored or it no
    longer matches ``channels``."""
    record = store.latest(key)
    if record is None or record.state.get("channels") != list(channels):
        return StreamingDetector(channels, config=config)
    return StreamingDetector.from_state(record.state)
