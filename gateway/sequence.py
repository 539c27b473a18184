"""Per-device ``seq`` bookkeeping: gaps (lost messages upstream) and replays, counted in the database.

The highest seq per device lives in ``seq_stats`` and is read under a row lock in the flush transaction, so
restarts and several gateway workers share one view. With shared subscriptions a device's messages can be
split across workers and committed out of order; a late one then counts as a replay and the hole it filled
stays counted as a gap, so the counters over-report in that case (docs/ingest.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from ingest.binary_copy import SIGNATURE, TRAILER, RowEncoder


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


STAGE_DDL = """
CREATE TEMPORARY TABLE IF NOT EXISTS seq_stage (
    ord       int    NOT NULL,
    device_id text   NOT NULL,
    seq       bigint NOT NULL
) ON COMMIT DELETE ROWS
"""
COPY_SEEN = "COPY seq_stage (ord, device_id, seq) FROM STDIN (FORMAT BINARY)"
# ``prev`` is the highest seq before an arrival: the stored one or an earlier one of this flush. Above
# prev + 1 is a gap, at or below it a replay; a device's first ever message is neither. Written as differences
# (``seq - prev``), which cannot leave bigint for non-negative operands: ``prev + 1`` overflowed for a stored
# 2^63 - 1 and failed every later flush.
FOLD = """
WITH stored AS (
    SELECT device_id, last_seq, messages, gaps, missing, replays FROM seq_stats
    WHERE device_id IN (SELECT device_id FROM seq_stage) ORDER BY device_id FOR UPDATE
), walk AS (
    SELECT a.device_id, a.seq,
           greatest(s.last_seq, max(a.seq) OVER (PARTITION BY a.device_id ORDER BY a.ord
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) AS prev
    FROM seq_stage a LEFT JOIN stored s USING (device_id)
), folded AS (
    SELECT device_id, max(seq) AS top, count(*) AS messages,
           count(*) FILTER (WHERE seq - prev > 1) AS gaps,
           coalesce(sum(seq - prev - 1) FILTER (WHERE seq - prev > 1), 0) AS missing,
           count(*) FILTER (WHERE seq - prev <= 0) AS replays
    FROM walk GROUP BY device_id
), written AS (
    INSERT INTO seq_stats AS t (device_id, last_seq, messages, gaps, missing, replays, updated_at)
    SELECT f.device_id, greatest(s.last_seq, f.top), coalesce(s.messages, 0) + f.messages,
           coalesce(s.gaps, 0) + f.gaps, coalesce(s.missing, 0) + f.missing, coalesce(s.replays, 0) + f.replays,
           now()
    FROM folded f LEFT JOIN stored s USING (device_id)
    ORDER BY f.device_id
    ON CONFLICT (device_id) DO UPDATE SET last_seq = excluded.last_seq, messages = excluded.messages,
        gaps = excluded.gaps, missing = excluded.missing, replays = excluded.replays,
        updated_at = excluded.updated_at
)
-- numeric: the missing numbers of several devices together can exceed bigint.
SELECT coalesce(sum(gaps), 0), coalesce(sum(missing), 0), coalesce(sum(replays), 0) FROM folded
"""


class SequenceRecorder:
    """Folds each flush's ``(device_id, seq)`` arrivals into ``seq_stats`` on one connection.

    The arrivals go in by binary ``COPY`` and the counting is one statement: walking them in Python, reading
    the stored counters back and sending them as arrays took a tenth of the gateway's interpreter time. The
    connection must be idle when the recorder is made (its staging table, emptied by every commit and
    rollback, is created and committed then).
    """

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._encoder = RowEncoder()
        with conn.transaction():
            conn.execute(STAGE_DDL)
        if not conn.autocommit:
            conn.commit()

    def record(self, seen: Sequence[tuple[str, int]]) -> SeqDelta:
        """Fold ``(device_id, seq)`` pairs, in arrival order, into ``seq_stats`` inside the caller's
        transaction, once per transaction (the staged arrivals are cleared when it ends); return what they
        added."""
        if not seen:
            return SeqDelta()
        enc = self._encoder
        with self.conn.cursor() as cur:
            with cur.copy(COPY_SEEN) as copy:
                copy.write(b"".join((
                    SIGNATURE,
                    *(enc.row(enc.integer(i), enc.text(device), enc.bigint(seq))
                      for i, (device, seq) in enumerate(seen)),
                    TRAILER,
                )))
            gaps, missing, replays = cur.execute(FOLD).fetchone()
        return SeqDelta(gaps=int(gaps), missing=int(missing), replays=int(replays))


def get_seq_stats(conn: psycopg.Connection, device_id: str) -> SeqStats | None:
    """One device's counters, or ``None`` if it never sent a sequenced message."""
    row = conn.execute(
        "SELECT device_id, last_seq, messages, gaps, missing, replays FROM seq_stats WHERE device_id = %s",
        (device_id,),
    ).fetchone()
    return SeqStats(*row) if row else None
