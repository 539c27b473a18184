"""Hourly rollups of readings (``readings_hourly``), kept longer than the raw rows.

``refresh`` rolls up whole UTC days once they are settled: the gateway refuses messages more than 7 days old
(docs/protocol.md), so an hour older than that can no longer change and is rolled up exactly once. A day at a
time matches TimescaleDB's one-day chunks (the refresh reads whole chunks) and keeps each transaction bounded.

``refresh_recent`` also rolls up the hours of the last days, each about ``RECENT_LAG`` after it ends, so a chart of
30 days reads 720 hourly rows per device instead of millions of raw ones. A reading written for an hour that
ended ``LATE_AFTER`` or more before (``late_before``) marks its hour in ``rollup_invalidations`` in the writer's
transaction (``ingest.writer``); the next pass rolls that hour up again. A mark and the reading commit together,
and a pass deletes the marks it reads in the transaction that rolls their hours up again, so no late reading is
missed; between a late reading and the next pass (the pipeline's maintenance runs every 15 minutes) its hour
answers without it. Settled days are rolled up once more by ``refresh``, as before.

``rollup_horizon`` tells ``ingest.history`` which hours to answer from here: every hour rolled up (settled or
recent); later hours come from the raw rows. The aggregates combine exactly (min, max, sum, count, last); an
average may differ from one computed over the raw rows in its last bits (another order of summation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

RELATION = "readings_hourly"
RECENT = "readings_hourly (recent hours)"  # progress of refresh_recent in rollup_progress
LATE_AFTER = timedelta(minutes=5)  # a reading for an hour that ended this long ago may miss its rollup
RECENT_LAG = timedelta(minutes=10)  # an hour is rolled up this long after it ends (more than LATE_AFTER)
HOUR = timedelta(hours=1)
SETTLE = timedelta(days=7)  # the protocol's MAX_PAST_S: the gateway refuses older messages
DAY = timedelta(days=1)
# The shortest raw retention that never drops a day before it is settled and rolled up (plain mode's CHECK).
RETENTION_FLOOR = SETTLE + DAY
ORIGIN = "2000-01-01T00:00:00Z"  # fixed origin of every bucket: the same edges whatever the query range

# One row per (device, hour): per metric id, the aggregates of that hour in array position [id]. ``unnest`` of
# every row of the range gives ids 1..n for each message, so the ids of a (device, hour) group are dense. The last
# value of a metric is read back from the row at its last ts: measured, that join costs next to nothing, where an
# ordered aggregate per metric made the refresh 2.6 times as slow.
_REFRESH = """
INSERT INTO readings_hourly AS h (device_id, hour, mins, maxs, sums, counts, lasts, last_ts)
SELECT p.device_id, p.hour,
       array_agg(p.mn ORDER BY p.id), array_agg(p.mx ORDER BY p.id), array_agg(p.sm ORDER BY p.id),
       array_agg(p.n ORDER BY p.id), array_agg(l.vals[p.id] ORDER BY p.id), array_agg(p.lts ORDER BY p.id)
FROM (SELECT r.device_id, date_bin('1 hour', r.ts, %(o)s::timestamptz) AS hour, u.id,
             min(u.v) AS mn, max(u.v) AS mx, sum(u.v) AS sm, count(u.v)::integer AS n,
             max(r.ts) FILTER (WHERE u.v IS NOT NULL) AS lts
      FROM readings r CROSS JOIN LATERAL unnest(r.vals) WITH ORDINALITY AS u (v, id)
      WHERE r.ts >= %(lo)s AND r.ts < %(hi)s{device}
      GROUP BY 1, 2, 3) p
LEFT JOIN readings l ON l.device_id = p.device_id AND l.ts = p.lts AND l.ts >= %(lo)s AND l.ts < %(hi)s
GROUP BY p.device_id, p.hour
ON CONFLICT (device_id, hour) DO UPDATE
SET mins = excluded.mins, maxs = excluded.maxs, sums = excluded.sums, counts = excluded.counts,
    lasts = excluded.lasts, last_ts = excluded.last_ts
"""
REFRESH_DAY = _REFRESH.format(device="")
# Two statements rather than an optional filter: a prepared generic plan of ``device_id = $n OR $n IS NULL`` would
# scan every device's rows.
REFRESH_DEVICE = _REFRESH.format(device=" AND r.device_id = %(d)s")
# An hour without readings any more (a late reading that was refused, a device removed) keeps no rollup row.
DELETE_EMPTY_HOUR = """
DELETE FROM readings_hourly h WHERE h.device_id = %(d)s AND h.hour = %(lo)s
AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.device_id = %(d)s AND r.ts >= %(lo)s AND r.ts < %(hi)s)
"""


@dataclass
class RefreshReport:
    """What one ``refresh`` did: the days rolled up and the rows written."""

    days: list[datetime] = field(default_factory=list)
    rows: int = 0


def done_until(conn: psycopg.Connection) -> datetime | None:
    """Hours before this instant are rolled up; ``None`` before the first refresh."""
    row = conn.execute("SELECT done_until FROM rollup_progress WHERE relation = %s", (RELATION,)).fetchone()
    return row[0] if row else None


def settled_until(now: datetime) -> datetime:
    """The start of the first UTC day that may still change at ``now``."""
    return (now - SETTLE).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def refresh(conn: psycopg.Connection, *, now: datetime | None = None) -> RefreshReport:
    """Roll up every settled day not rolled up yet, oldest first, one committed transaction per day.

    The first refresh of a database starts at its oldest reading, and progress is recorded only once that day
    is settled and rolled up: readings imported into an empty or young database for older days are still
    rolled up. A day without readings costs one empty range scan. Safe to run concurrently: the progress row is
    locked for the whole day's work.
    """
    until = settled_until(now or datetime.now(UTC))
    report = RefreshReport()
    while True:
        with conn.transaction():
            row = conn.execute(
                "SELECT done_until FROM rollup_progress WHERE relation = %s FOR UPDATE", (RELATION,)
            ).fetchone()
            start = row[0] if row else (first_day(conn) or until)
            if start >= until:
                return report
            report.rows += roll_up_day(conn, start)
            report.days.append(start)
            conn.execute(
                """INSERT INTO rollup_progress (relation, done_until) VALUES (%s, %s)
                   ON CONFLICT (relation) DO UPDATE SET done_until = excluded.done_until""",
                (RELATION, start + DAY),
            )


def late_before(now: datetime) -> datetime:
    """Readings before this instant, written at ``now``, may be too late for their hour's rollup."""
    return _floor_hour(now - LATE_AFTER)


def refresh_recent(conn: psycopg.Connection, *, now: datetime | None = None) -> RefreshReport:
    """Roll up again the hours late readings marked, then every hour that ended at least ``RECENT_LAG`` ago and
    is not rolled up yet (from the settled rollup's progress, or the first reading), a day per transaction."""
    until = _floor_hour((now or datetime.now(UTC)) - RECENT_LAG)
    report = RefreshReport()
    with conn.transaction():
        rolled = conn.execute("SELECT done_until FROM rollup_progress WHERE relation = %s FOR UPDATE",
                              (RECENT,)).fetchone()
        if rolled is not None:
            marked = conn.execute("DELETE FROM rollup_invalidations WHERE hour < %s RETURNING device_id, hour",
                                  (rolled[0],)).fetchall()
            for device_id, hour in sorted(marked):
                params = {"d": device_id, "lo": hour, "hi": hour + HOUR, "o": ORIGIN}
                report.rows += conn.execute(REFRESH_DEVICE, params).rowcount
                conn.execute(DELETE_EMPTY_HOUR, params)
    while True:
        with conn.transaction():
            row = conn.execute("SELECT done_until FROM rollup_progress WHERE relation = %s FOR UPDATE",
                               (RECENT,)).fetchone()
            start = row[0] if row else (done_until(conn) or first_day(conn) or until)
            if start >= until:
                return report
            end = min(until, start + DAY)
            report.rows += conn.execute(REFRESH_DAY, {"lo": start, "hi": end, "o": ORIGIN}).rowcount
            report.days.append(start)
            conn.execute(
                """INSERT INTO rollup_progress (relation, done_until) VALUES (%s, %s)
                   ON CONFLICT (relation) DO UPDATE SET done_until = excluded.done_until""",
                (RECENT, end),
            )


def _floor_hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def roll_up_day(conn: psycopg.Connection, day: datetime) -> int:
    """Roll up the UTC day starting at ``day`` (again, if it was), without recording progress; returns the rows.

    Rolling up a day that is not settled yet is safe: its refresh, once settled, overwrites the hours again.
    """
    return conn.execute(REFRESH_DAY, {"lo": day, "hi": day + DAY, "o": ORIGIN}).rowcount


def first_day(conn: psycopg.Connection) -> datetime | None:
    """The start of the UTC day of the oldest reading; ``None`` without readings."""
    oldest = conn.execute("SELECT min(ts) FROM readings").fetchone()[0]
    if oldest is None:
        return None
    return oldest.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def rollup_horizon(conn: psycopg.Connection) -> datetime | None:
    """Hours before this instant are answered from the rollups: every one is rolled up, settled or recent.

    ``None`` while nothing is rolled up.
    """
    row = conn.execute("SELECT max(done_until) FROM rollup_progress WHERE relation IN (%s, %s)",
                       (RELATION, RECENT)).fetchone()
    return row[0] if row else None
