"""Rejected messages: stored with their reason so an operator can see what a device sent and why it failed.

Storage of bad traffic is bounded three ways: each dead letter's payload is cut to ``MAX_STORED_PAYLOAD``;
a device's dead letters are rate-limited (``DeadLetterLimiter``: a burst, then a steady rate; the rest are
counted, not stored); and the table is pruned by age and row count (``prune_dead_letters``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row

MAX_STORED_PAYLOAD = 1024
MAX_TOPIC = 256
MAX_DETAIL = 500
# The reason of a message the protocol accepted but the database refused (a gap in validation, to report);
# the other reasons are the protocol's (gateway.protocol.RejectionReason).
STORAGE_FAILED = "storage_failed"
MAX_TRACKED_DEVICES = 100_000  # the limiter forgets devices whose allowance is full beyond this many


@dataclass(frozen=True)
class DeadLetterPolicy:
    """How much bad traffic is kept: per device a burst of ``burst`` dead letters, then ``per_minute``; the
    table pruned to ``max_age`` and ``max_rows`` every ``prune_interval_s``."""

    burst: int = 20
    per_minute: float = 6.0
    max_age: timedelta = timedelta(days=14)
    max_rows: int = 100_000
    prune_interval_s: float = 60.0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected message. ``payload`` is at most ``MAX_STORED_PAYLOAD`` bytes; ``payload_size`` is the original."""

    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload: bytes
    payload_size: int
    site_id: str | None = None
    device_id: str | None = None


def _clean(text: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and a hostile topic or detail must not make the whole flush fail.
    return text.replace("\x00", "\\0")[:limit]


def make_dead_letter(
    *,
    received_at: datetime,
    topic: str,
    reason: str,
    detail: str,
    payload: bytes,
    site_id: str | None = None,
    device_id: str | None = None,
) -> DeadLetter:
    """A dead letter with topic, detail and payload truncated to what is stored."""
    return DeadLetter(
        received_at=received_at,
        topic=_clean(topic, MAX_TOPIC),
        reason=reason,
        detail=_clean(detail, MAX_DETAIL),
        payload=bytes(payload[:MAX_STORED_PAYLOAD]),
        payload_size=len(payload),
        site_id=_clean(site_id, 64) if site_id else None,
        device_id=_clean(device_id, 64) if device_id else None,
    )


def insert_dead_letters(conn: psycopg.Connection, letters: Sequence[DeadLetter]) -> int:
    """Store ``letters`` in the caller's transaction with one statement; return how many."""
    if not letters:
        return 0
    conn.execute(
        """INSERT INTO dead_letters (received_at, topic, site_id, device_id, reason, detail, payload, payload_size)
           SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                                %s::bytea[], %s::int[])""",
        (
            [d.received_at for d in letters],
            [d.topic for d in letters],
            [d.site_id for d in letters],
            [d.device_id for d in letters],
            [d.reason for d in letters],
            [d.detail for d in letters],
            [d.payload for d in letters],
            [d.payload_size for d in letters],
        ),
    )
    return len(letters)


def list_dead_letters(
    conn: psycopg.Connection, *, limit: int = 100, reason: str | None = None, device_id: str | None = None,
    sites: Sequence[str] | None = None,
) -> list[DeadLetter]:
    """The newest dead letters first, optionally of one reason, one device and/or some sites (``None``: all)."""
    with conn.cursor(row_factory=class_row(DeadLetter)) as cur:
        cur.execute(
            """SELECT received_at, topic, reason, detail, payload, payload_size, site_id, device_id
               FROM dead_letters
               WHERE (%(reason)s::text IS NULL OR reason = %(reason)s)
                 AND (%(device)s::text IS NULL OR device_id = %(device)s)
                 AND (%(sites)s::text[] IS NULL OR site_id = ANY(%(sites)s))
               ORDER BY received_at DESC, id DESC LIMIT %(limit)s""",
            {"reason": reason, "device": device_id, "sites": None if sites is None else list(sites), "limit": limit},
        )
        return cur.fetchall()


def count_by_reason(conn: psycopg.Connection, *, sites: Sequence[str] | None = None) -> dict[str, int]:
    """How many dead letters each reason has (of ``sites``; ``None``: all)."""
    rows = conn.execute("""SELECT reason, count(*) FROM dead_letters
                           WHERE %(sites)s::text[] IS NULL OR site_id = ANY(%(sites)s) GROUP BY reason""",
                        {"sites": None if sites is None else list(sites)}).fetchall()
    return {reason: count for reason, count in rows}


class DeadLetterLimiter:
    """Per-device token buckets: ``allow(device)`` is true for a burst of ``burst`` dead letters, then for
    ``per_minute`` a minute. What is not allowed is still acknowledged and counted, just not stored or logged,
    so one device cannot fill the table or the log. Thread-safe."""

    def __init__(self, *, burst: int, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._burst = float(burst)
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # device -> (tokens, when counted)
        self._lock = threading.Lock()

    def allow(self, device: str) -> bool:
        """Whether a dead letter of ``device`` may be stored now (taking one from its allowance if so)."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(device, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            allowed = tokens >= 1.0
            self._buckets[device] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > MAX_TRACKED_DEVICES:
                self._forget_full(now)
            return allowed

    def _forget_full(self, now: float) -> None:
        # A device with a full allowance is the same as one never seen; if that is not enough, forgetting
        # everyone only grants each a new burst.
        full = [d for d, (tokens, at) in self._buckets.items() if tokens + (now - at) * self._rate >= self._burst]
        for device in full:
            del self._buckets[device]
        if len(self._buckets) > MAX_TRACKED_DEVICES:
            self._buckets.clear()


def prune_dead_letters(conn: psycopg.Connection, *, max_age: timedelta, max_rows: int) -> int:
    """Delete dead letters older than ``max_age`` and all but the newest ``max_rows``; return how many."""
    aged = conn.execute("DELETE FROM dead_letters WHERE received_at < now() - %s", (max_age,)).rowcount
    surplus = conn.execute(
        """DELETE FROM dead_letters
           WHERE id <= (SELECT id FROM dead_letters ORDER BY id DESC OFFSET %s LIMIT 1)""",
        (max_rows,),
    ).rowcount
    return aged + surplus
