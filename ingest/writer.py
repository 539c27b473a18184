"""Batched, idempotent writes of readings and device events.

One flush = binary ``COPY`` of the readings into a per-connection temporary staging table, then one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` into ``readings`` (so a redelivered message adds nothing),
one batched upsert of ``latest_readings`` and one multi-row insert of events. Rows are moved in key order so
two writers touching the same keys take their row locks in the same order and cannot deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from ingest.records import Batch

STAGING_DDL = """
CREATE TEMPORARY TABLE IF NOT EXISTS readings_stage (
    device_id text NOT NULL,
    metric    text NOT NULL,
    ts        timestamptz NOT NULL,
    value     double precision NOT NULL
)
"""
COPY_READINGS = "COPY readings_stage (device_id, metric, ts, value) FROM STDIN (FORMAT BINARY)"
COPY_TYPES = ("text", "text", "timestamptz", "float8")
MOVE_READINGS = """
INSERT INTO readings (device_id, metric, ts, value)
SELECT device_id, metric, ts, value FROM readings_stage ORDER BY device_id, metric, ts
ON CONFLICT DO NOTHING
"""
# Only the newest staged value per key competes with the stored one, and an older redelivery never wins.
UPSERT_LATEST = """
INSERT INTO latest_readings AS l (device_id, metric, ts, value)
SELECT DISTINCT ON (device_id, metric) device_id, metric, ts, value
FROM readings_stage ORDER BY device_id, metric, ts DESC
ON CONFLICT (device_id, metric) DO UPDATE SET ts = excluded.ts, value = excluded.value
WHERE excluded.ts > l.ts
"""
INSERT_EVENTS = """
INSERT INTO device_events (device_id, ts, code, seq, detail)
SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::text[], %s::bigint[], %s::jsonb[])
    AS e (device_id, ts, code, seq, detail)
ORDER BY device_id, ts, code
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a flush stored: rows new to the tables (duplicates of stored rows are not counted)."""

    readings: int
    events: int
    latest: int


class Writer:
    """Writes batches on one connection; the caller owns the connection and replaces the writer with it.

    The connection must be idle when the writer is made: the staging table is created and committed then,
    so no later rollback can take it away.
    """

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        with conn.transaction():
            conn.execute(STAGING_DDL)
        if not conn.autocommit:
            conn.commit()

    def write(self, batch: Batch) -> WriteResult:
        """Store ``batch`` in one transaction and commit it."""
        with self.conn.transaction():
            result = self.add(batch)
        if not self.conn.autocommit:
            self.conn.commit()
        return result

    def add(self, batch: Batch) -> WriteResult:
        """Store ``batch`` inside the caller's open transaction (no commit), for callers that add more rows."""
        inserted = latest = events = 0
        with self.conn.cursor() as cur:
            if batch.readings:
                with cur.copy(COPY_READINGS) as copy:
                    copy.set_types(COPY_TYPES)
                    for r in batch.readings:
                        copy.write_row((r.device_id, r.metric, r.ts, r.value))
                cur.execute(MOVE_READINGS)
                inserted = cur.rowcount
                cur.execute(UPSERT_LATEST)
                latest = cur.rowcount
                # Emptied inside the transaction: a rollback restores the empty table with the rest.
                cur.execute("TRUNCATE readings_stage")
            if batch.events:
                cur.execute(
                    INSERT_EVENTS,
                    (
                        [e.device_id for e in batch.events],
                        [e.ts for e in batch.events],
                        [e.code for e in batch.events],
                        [e.seq for e in batch.events],
                        [Jsonb(e.detail) for e in batch.events],
                    ),
                )
                events = cur.rowcount
        return WriteResult(readings=inserted, events=events, latest=latest)
