"""Batched, idempotent writes of samples and device events.

A flush is one transaction:

1. the batch's samples become one row each, ``(device_id, ts, vals)`` with ``vals[id]`` the value of metric
   ``id`` (``ingest.metric_ids``), merged in Python when two samples share a device and instant;
2. binary ``COPY`` of those rows (encoded by ``ingest.binary_copy``) into a per-connection temporary staging
   table, then one ``INSERT ... SELECT ... ON CONFLICT`` into ``readings``: a redelivered message finds its
   row and adds nothing, a sample with new metrics at a stored instant adds just those (the first value of a
   (device, metric, ts) stays);
3. one batched upsert of ``latest_readings`` (one row per device) from the newest value per metric;
4. one multi-row insert of events, each with its receipt time (``received_at``).

Rows are moved in key order so two writers touching the same keys take their row locks in the same order and
cannot deadlock.

A write can fail because of the rows (a value the database refuses, a constraint, an encoding error) or
because of the connection or the server. ``is_transient`` tells them apart, and ``isolate_failures`` finds the
rows at fault by writing halves of a failing set until each failing item stands alone, so the caller can set
those aside and store the rest instead of retrying the same failure forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import psycopg
from psycopg.types.json import Jsonb

from ingest import rollups
from ingest.binary_copy import (
    FLOAT8_OID,
    MICROSECOND,
    POSTGRES_EPOCH,
    SIGNATURE,
    TIMESTAMPTZ_OID,
    TRAILER,
    RowEncoder,
    postgres_timestamp,
)
from ingest.metric_ids import MetricIds
from ingest.records import Batch, Sample

STAGING_DDL = """
CREATE TEMPORARY TABLE IF NOT EXISTS readings_stage (
    device_id text NOT NULL,
    ts        timestamptz NOT NULL,
    vals      float8[] NOT NULL
);
CREATE TEMPORARY TABLE IF NOT EXISTS latest_stage (
    device_id text NOT NULL,
    ts        timestamptz[] NOT NULL,
    vals      float8[] NOT NULL,
    oldest    timestamptz NOT NULL,
    newest    timestamptz NOT NULL
)
"""
COPY_READINGS = "COPY readings_stage (device_id, ts, vals) FROM STDIN (FORMAT BINARY)"
# Hours a reading may arrive too late for: it is marked for the recent rollup to do again (ingest.rollups).
INVALIDATE_HOURS = """
INSERT INTO rollup_invalidations (device_id, hour)
SELECT DISTINCT d, date_bin('1 hour', t, %s::timestamptz) FROM unnest(%s::text[], %s::timestamptz[]) AS u (d, t)
ON CONFLICT DO NOTHING
"""
MOVE_READINGS = """
INSERT INTO readings AS r (device_id, ts, vals)
SELECT device_id, ts, vals FROM readings_stage ORDER BY device_id, ts
ON CONFLICT (device_id, ts) DO UPDATE SET vals = readings_merge(r.vals, excluded.vals)
WHERE r.vals IS DISTINCT FROM excluded.vals
"""
COPY_LATEST = "COPY latest_stage (device_id, ts, vals, oldest, newest) FROM STDIN (FORMAT BINARY)"
UPSERT_LATEST = """
INSERT INTO latest_readings AS l (device_id, ts, vals, oldest, newest)
SELECT device_id, ts, vals, oldest, newest FROM latest_stage ORDER BY device_id
ON CONFLICT (device_id) DO UPDATE SET (ts, vals, oldest, newest) =
    (SELECT (m).ts, (m).vals, (m).oldest, (m).newest FROM (SELECT latest_merge(l, excluded) AS m) x)
WHERE NOT (excluded.newest <= l.oldest AND latest_covers(l.ts, excluded.ts))
"""
INSERT_EVENTS = """
INSERT INTO device_events (device_id, ts, code, seq, detail, received_at)
SELECT device_id, ts, code, seq, detail, coalesce(received_at, now())
FROM unnest(%s::text[], %s::timestamptz[], %s::text[], %s::bigint[], %s::jsonb[], %s::timestamptz[])
    AS e (device_id, ts, code, seq, detail, received_at)
ORDER BY device_id, ts, code
ON CONFLICT DO NOTHING
"""

# SQLSTATE classes that blame the rows: data exception, integrity constraint violation, program limit exceeded
# (e.g. an index row too large). Every other server error is the server's or the schema's.
ROW_FAULT_CLASSES = frozenset(("22", "23", "54"))
T = TypeVar("T")
R = TypeVar("R")
Values = list[float | None]
Rows = dict[tuple[str, int], Values]  # (device_id, ts as postgres_timestamp) -> vals


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a flush changed: ``samples`` rows inserted into ``readings`` or given new metrics (a redelivery
    of a stored message counts nothing), events new to the table, and devices whose latest values moved."""

    samples: int
    events: int
    latest: int


class Writer:
    """Writes batches on one connection; the caller owns the connection and replaces the writer with it.

    The connection must be idle when the writer is made: the staging tables are created and committed then,
    so no later rollback can take them away.
    """

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._metric_ids = MetricIds()
        self._encoder = RowEncoder()
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
        samples = latest = events = 0
        with self.conn.cursor() as cur:
            if batch.samples:
                rows = self._rows(cur, batch.samples)
                fields = [self._encoder.array(FLOAT8_OID, vals) for vals in rows.values()]
                with cur.copy(COPY_READINGS) as copy:
                    copy.write(self._encode_readings(rows, fields))
                cur.execute(MOVE_READINGS)
                samples = cur.rowcount
                self._invalidate_late_hours(cur, rows)
                with cur.copy(COPY_LATEST) as copy:
                    copy.write(self._encode_latest(rows, fields))
                cur.execute(UPSERT_LATEST)
                latest = cur.rowcount
                # Emptied inside the transaction: a rollback restores the empty tables with the rest.
                cur.execute("TRUNCATE readings_stage, latest_stage")
            if batch.events:
                cur.execute(
                    INSERT_EVENTS,
                    (
                        [e.device_id for e in batch.events],
                        [e.ts for e in batch.events],
                        [e.code for e in batch.events],
                        [e.seq for e in batch.events],
                        [Jsonb(e.detail) for e in batch.events],
                        [e.received_at for e in batch.events],
                    ),
                )
                events = cur.rowcount
        return WriteResult(samples=samples, events=events, latest=latest)

    def _invalidate_late_hours(self, cur: psycopg.Cursor, rows: Rows) -> None:
        """Mark the hours of rows that came too late for the recent rollup (``ingest.rollups``): rare, and found
        by comparing integers, so an on-time batch costs one pass over its keys."""
        late_before = postgres_timestamp(rollups.late_before(datetime.now(UTC)))
        if not rows or min(ts for _, ts in rows) >= late_before:
            return
        late = [(device_id, ts) for device_id, ts in rows if ts < late_before]
        cur.execute(INVALIDATE_HOURS, (rollups.ORIGIN, [device_id for device_id, _ in late],
                                       [POSTGRES_EPOCH + ts * MICROSECOND for _, ts in late]))

    def _rows(self, cur: psycopg.Cursor, samples: list[Sample]) -> Rows:
        """One ``vals`` array per (device, ts); of two samples at one instant, the first value of a metric wins."""
        names: set[str] = set()
        for sample in samples:
            names.update(sample.metrics)
        ids = self._metric_ids.resolve(cur, names)
        rows: Rows = {}
        for sample in samples:
            if not sample.metrics:
                continue
            key = (sample.device_id, postgres_timestamp(sample.ts))
            vals = rows.get(key)
            if vals is None:
                vals = rows[key] = [None] * max(ids[name] for name in sample.metrics)
                for name, value in sample.metrics.items():
                    vals[ids[name] - 1] = value
            else:
                for name, value in sample.metrics.items():
                    i = ids[name] - 1
                    if i >= len(vals):
                        vals.extend([None] * (i + 1 - len(vals)))
                    if vals[i] is None:
                        vals[i] = value
        return rows

    def _encode_readings(self, rows: Rows, fields: list[bytes]) -> bytes:
        """The staged ``readings`` rows; ``fields`` holds each row's encoded ``vals``, in ``rows`` order."""
        enc = self._encoder
        return b"".join((
            SIGNATURE,
            *(enc.row(enc.text(device_id), enc.timestamptz(ts), field)
              for (device_id, ts), field in zip(rows, fields, strict=True)),
            TRAILER,
        ))

    def _encode_latest(self, rows: Rows, fields: list[bytes]) -> bytes:
        """One staged ``latest_readings`` row per device: the newest value of each metric and its instant.

        Usually a device's newest row in the batch holds every metric its other rows hold (devices send the
        same metrics each time); then that row is the device's latest as it stands, its encoded ``vals`` are
        reused and its instants repeat one timestamp. Otherwise the rows are merged metric by metric.
        """
        enc = self._encoder
        newest: dict[str, tuple[int, Values, bytes]] = {}
        merge: dict[str, list[tuple[int, Values]]] = {}  # device -> its rows, when they need merging
        for ((device_id, ts), vals), field in zip(rows.items(), fields, strict=True):
            current = newest.get(device_id)
            if current is None or ts > current[0]:
                newest[device_id] = (ts, vals, field)
            if current is None:
                continue
            if device_id in merge:
                merge[device_id].append((ts, vals))
            elif not (_covers(vals, current[1]) if ts > current[0] else _covers(current[1], vals)):
                # Rows the newest one covers are older wherever they have a value: they change nothing.
                merge[device_id] = [current[:2], (ts, vals)]
        encoded = [SIGNATURE]
        for device_id, (ts, vals, field) in newest.items():
            if device_id not in merge:
                encoded.append(enc.row(
                    enc.text(device_id), enc.timestamptz_array_like(ts, vals), field,
                    enc.timestamptz(ts), enc.timestamptz(ts),
                ))
                continue
            times, values = _newest(merge[device_id])
            present = [t for t in times if t is not None]
            encoded.append(enc.row(
                enc.text(device_id), enc.array(TIMESTAMPTZ_OID, times),
                enc.array(FLOAT8_OID, values), enc.timestamptz(min(present)), enc.timestamptz(max(present)),
            ))
        encoded.append(TRAILER)
        return b"".join(encoded)


def is_transient(exc: BaseException) -> bool:
    """Whether writing the same rows again may succeed: the connection was lost, the server is shutting down or
    short of resources, a serialization failure or deadlock, or a server error that names no row (a missing
    table, a privilege). ``False`` for errors the rows cause, on the server (SQLSTATE classes 22, 23, 54) or
    in Python while encoding them (``RecursionError``, ``OverflowError``, ``ValueError`` ...)."""
    if not isinstance(exc, psycopg.Error):
        return False
    if exc.sqlstate is None:
        # Raised by psycopg itself: losing the connection, or refusing a value it cannot send.
        return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))
    return exc.sqlstate[:2] not in ROW_FAULT_CLASSES


def isolate_failures(
    items: Sequence[T], attempt: Callable[[Sequence[T]], R], *,
    transient: Callable[[BaseException], bool] = is_transient,
) -> tuple[list[R], list[tuple[T, Exception]]]:
    """Run ``attempt`` on ``items``; where it fails because of its rows, on each half instead, down to single
    items. Returns the results of the attempts that succeeded, in order, and every item that fails on its own
    with its error. A ``transient`` error propagates: the caller retries everything later.

    Each attempt must leave nothing behind when it fails (its own transaction, or a savepoint). One bad item
    among n costs about 2·log2(n) attempts.
    """
    done: list[R] = []
    failed: list[tuple[T, Exception]] = []
    pending: list[Sequence[T]] = [items] if items else []
    while pending:
        part = pending.pop()
        try:
            done.append(attempt(part))
        except Exception as exc:
            if transient(exc):
                raise
            if len(part) == 1:
                failed.append((part[0], exc))
            else:
                middle = len(part) // 2
                pending += (part[middle:], part[:middle])  # the first half is taken next: items keep their order
    return done, failed


def _covers(newer: Values, older: Values) -> bool:
    """Whether ``newer`` has a value wherever ``older`` has one."""
    if len(older) > len(newer):
        return False
    if None not in newer:
        return True
    return all(n is not None or o is None for n, o in zip(newer, older, strict=False))


def _newest(rows: list[tuple[int, Values]]) -> tuple[list[int | None], Values]:
    """The newest (ts, value) of each metric position among one device's ``(ts, vals)`` rows."""
    width = max(len(vals) for _, vals in rows)
    times: list[int | None] = [None] * width
    values: Values = [None] * width
    for ts, vals in rows:
        for i, v in enumerate(vals):
            if v is not None and (times[i] is None or ts > times[i]):
                times[i] = ts
                values[i] = v
    return times, values
