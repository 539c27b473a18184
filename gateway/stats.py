"""The gateway's counters: updated once per committed batch by the writer, read as a snapshot."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class GatewayStats:
    """Counters since ``start()``; the message counts grow as batches commit."""

    received: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int]
    dead_letters_suppressed: int
    samples_written: int
    events_written: int
    batches_committed: int
    acked: int
    seq_gaps: int
    seq_missing: int
    seq_replays: int
    on_committed_errors: int
    database_errors: int
    connected: bool
    unacknowledged: int
    cleared: int = 0  # empty messages: deletions of retained copies, acknowledged and stored nowhere


class Counters:
    """Named counts and rejections by reason, safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to one count."""
        with self._lock:
            self._counts[name] += n

    def add_all(self, counts: Mapping[str, int], reasons: Mapping[str, int]) -> None:
        """Add several counts and rejections at once (one lock per committed batch)."""
        with self._lock:
            self._counts.update(counts)
            self._reasons.update(reasons)

    def snapshot(self, *, connected: bool, unacknowledged: int) -> GatewayStats:
        """The counts as ``GatewayStats``, with the connection state and window given by the caller."""
        with self._lock:
            c = dict(self._counts)
            reasons = dict(self._reasons)
        return GatewayStats(
            received=c.get("received", 0),
            accepted=c.get("accepted", 0),
            rejected=sum(reasons.values()),
            rejected_by_reason=reasons,
            dead_letters_suppressed=c.get("dead_letters_suppressed", 0),
            samples_written=c.get("samples", 0),
            events_written=c.get("events", 0),
            batches_committed=c.get("batches", 0),
            acked=c.get("acked", 0),
            seq_gaps=c.get("gaps", 0),
            seq_missing=c.get("missing", 0),
            seq_replays=c.get("replays", 0),
            on_committed_errors=c.get("on_committed_errors", 0),
            database_errors=c.get("database_errors", 0),
            connected=connected,
            unacknowledged=unacknowledged,
            cleared=c.get("cleared", 0),
        )
