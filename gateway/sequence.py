"""Per-device ``seq`` bookkeeping: gaps (lost messages upstream) and replays, counted in the database.

The highest seq per device lives in ``seq_stats`` and is read under a row lock in the flush transaction, so
restarts and several gateway workers share one view. With shared subscriptions a device's messages can be
split across workers and committed out of order; a late one then counts as a replay and the hole it filled
stays counted as a gap, so the counters over-report in that case (docs/ingest.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg


@dataclass(frozen=True, slots=True)
class SeqStats:
    """A device's sequence counters."""

    device_id: str
    last_seq: int
    messages: int
    gaps: int
    missing: int
    replays: int


@dataclass(frozen=True, slots=True)
class SeqDelta:
    """What one flush adds to the counters (for the gateway's in-process totals)."""

    gaps: int = 0
    missing: int = 0
    replays: int = 0


def record_sequences(conn: psycopg.Connection, seen: Sequence[tuple[str, int]]) -> SeqDelta:
    """Fold ``(device_id, seq)`` pairs, in arrival order, into ``seq_stats`` inside the caller's transaction."""
    if not seen:
        return SeqDelta()
    ids = sorted({device for device, _ in seen})
    rows = conn.execute(
        "SELECT device_id, last_seq, messages, gaps, missing, replays FROM seq_stats"
        " WHERE device_id = ANY(%b) ORDER BY device_id FOR UPDATE",
        (ids,),
    ).fetchall()
    state = {r[0]: list(r[1:]) for r in rows}
    gaps = missing = replays = 0
    for device, seq in seen:
        counters = state.get(device)
        if counters is None:
            state[device] = [seq, 1, 0, 0, 0]
            continue
        last = counters[0]
        counters[1] += 1
        if seq <= last:
            counters[4] += 1
            replays += 1
        else:
            if seq > last + 1:
                counters[2] += 1
                counters[3] += seq - last - 1
                gaps += 1
                missing += seq - last - 1
            counters[0] = seq
    columns = list(zip(*([device, *state[device]] for device in ids), strict=True))
    # Binary parameters (%b): psycopg's text format escapes every array element with a regular expression,
    # which showed up as the writer's largest cost after the COPY itself.
    conn.execute(
        """INSERT INTO seq_stats (device_id, last_seq, messages, gaps, missing, replays, updated_at)
           SELECT *, %b FROM unnest(%b::text[], %b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[],
                                    %b::bigint[])
           ON CONFLICT (device_id) DO UPDATE SET last_seq = excluded.last_seq, messages = excluded.messages,
               gaps = excluded.gaps, missing = excluded.missing, replays = excluded.replays,
               updated_at = excluded.updated_at""",
        (datetime.now(UTC), *(list(c) for c in columns)),
    )
    return SeqDelta(gaps=gaps, missing=missing, replays=replays)


def get_seq_stats(conn: psycopg.Connection, device_id: str) -> SeqStats | None:
    """One device's counters, or ``None`` if it never sent a sequenced message."""
    row = conn.execute(
        "SELECT device_id, last_seq, messages, gaps, missing, replays FROM seq_stats WHERE device_id = %s",
        (device_id,),
    ).fetchone()
    return SeqStats(*row) if row else None
