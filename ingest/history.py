"""History queries: raw points, bucketed rollups and latest values of a device's metrics.

``readings`` holds one row per message with a metric's value at ``vals[metric id]`` (docs/ingest.md); every
query here reads one device's rows of a time range through the primary key (device_id, ts) and picks the
metric out of them. Rollups are computed with ``date_bin`` in both storage modes; a rollup in whole hours that
reaches back past raw retention takes those hours from the hourly rollups (``ingest.rollups``), so it still
answers once the raw rows are gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import class_row

from ingest import errors
from ingest.rollups import ORIGIN, rollup_horizon

MAX_POINTS = 100_000
MAX_BUCKETS = 10_000
# The metric's position in ``vals``; an unknown metric gives NULL, and so no rows.
INDEX = "(SELECT id FROM metric_names WHERE name = %(m)s)"
HOUR = timedelta(hours=1)
# Per-hour partial aggregates from the rollups (whole hours in [rs, re)) and from the raw rows (the rest of
# [s, e)), combined per bucket: min, max, sum and count combine exactly, last is the one with the newest ts.
FROM_ROLLUPS = f"""
SELECT date_bin(%(b)s, hour, %(o)s::timestamptz) AS bucket, min(mn) AS min, max(mx) AS max,
       sum(sm) / sum(n) AS avg, (array_agg(lst ORDER BY lts DESC))[1] AS last, sum(n)::bigint AS count
FROM (SELECT h.hour, h.mins[m.id] AS mn, h.maxs[m.id] AS mx, h.sums[m.id] AS sm, h.counts[m.id]::bigint AS n,
             h.lasts[m.id] AS lst, h.last_ts[m.id] AS lts
      FROM readings_hourly h JOIN metric_names m ON m.name = %(m)s
      WHERE h.device_id = %(d)s AND h.hour >= %(rs)s AND h.hour < %(re)s AND h.counts[m.id] > 0
      UNION ALL
      SELECT date_bin('1 hour', ts, %(o)s::timestamptz), min(value), max(value), sum(value), count(*),
             (array_agg(value ORDER BY ts DESC))[1], max(ts)
      FROM (SELECT ts, vals[{INDEX}] AS value FROM readings
            WHERE device_id = %(d)s AND ts >= %(s)s AND ts < %(e)s AND (ts < %(rs)s OR ts >= %(re)s)) r
      WHERE value IS NOT NULL
      GROUP BY 1) parts
GROUP BY 1 ORDER BY 1
"""  # noqa: S608 -- INDEX is a constant


class HistoryError(errors.Invalid):
    """A history request that cannot be answered as asked; the message says what to change."""


class BadRange(HistoryError):
    """``start``/``end`` are naive, reversed or empty."""


class ResultTooLarge(HistoryError):
    """The range holds more points or buckets than allowed; narrow it or use a coarser bucket."""


@dataclass(frozen=True, slots=True)
class Point:
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Bucket:
    bucket: datetime
    min: float
    max: float
    avg: float
    last: float
    count: int


def _check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise BadRange("start and end must be timezone-aware (UTC)")
    if end <= start:
        raise BadRange(f"end {end.isoformat()} must be after start {start.isoformat()}")


def raw_points(
    conn: psycopg.Connection, device_id: str, metric: str, start: datetime, end: datetime, *, limit: int = 10_000
) -> list[Point]:
    """Every reading in ``[start, end)`` in time order; ``ResultTooLarge`` if there are more than ``limit``."""
    _check_range(start, end)
    if not 1 <= limit <= MAX_POINTS:
        raise HistoryError(f"limit must be between 1 and {MAX_POINTS}, got {limit}")
    with conn.cursor(row_factory=class_row(Point)) as cur:
        cur.execute(
            f"""SELECT ts, value FROM (SELECT ts, vals[{INDEX}] AS value FROM readings
                                       WHERE device_id = %(d)s AND ts >= %(s)s AND ts < %(e)s) r
                WHERE value IS NOT NULL ORDER BY ts LIMIT %(n)s""",  # noqa: S608 -- INDEX is a constant
            {"m": metric, "d": device_id, "s": start, "e": end, "n": limit + 1},
        )
        points = cur.fetchall()
    if len(points) > limit:
        raise ResultTooLarge(f"more than {limit} points between {start.isoformat()} and {end.isoformat()}; "
                             "narrow the range or use rollup()")
    return points


def rollup(
    conn: psycopg.Connection, device_id: str, metric: str, start: datetime, end: datetime, *, bucket: timedelta
) -> list[Bucket]:
    """Min, max, avg, last and count per ``bucket`` in ``[start, end)``; empty buckets are omitted.

    With a bucket of whole hours, hours past raw retention come from the hourly rollups (``ingest.rollups``).
    """
    _check_range(start, end)
    if bucket <= timedelta(0):
        raise HistoryError(f"bucket must be positive, got {bucket}")
    if (end - start) / bucket > MAX_BUCKETS:
        raise ResultTooLarge(f"{(end - start) / bucket:.0f} buckets > {MAX_BUCKETS}; use a coarser bucket")
    params = {"b": bucket, "o": ORIGIN, "m": metric, "d": device_id, "s": start, "e": end}
    horizon = rollup_horizon(conn) if bucket % HOUR == timedelta(0) else None
    with conn.cursor(row_factory=class_row(Bucket)) as cur:
        if horizon is not None and start < horizon:
            cur.execute(FROM_ROLLUPS, {**params, "rs": _ceil_hour(start), "re": _floor_hour(min(end, horizon))})
            return cur.fetchall()
        cur.execute(
            f"""SELECT date_bin(%(b)s, ts, %(o)s::timestamptz) AS bucket, min(value) AS min, max(value) AS max,
                       avg(value) AS avg, (array_agg(value ORDER BY ts DESC))[1] AS last, count(*) AS count
                FROM (SELECT ts, vals[{INDEX}] AS value FROM readings
                      WHERE device_id = %(d)s AND ts >= %(s)s AND ts < %(e)s) r
                WHERE value IS NOT NULL
                GROUP BY 1 ORDER BY 1""",  # noqa: S608 -- INDEX is a constant
            params,
        )
        return cur.fetchall()


def _floor_hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(ts: datetime) -> datetime:
    floor = _floor_hour(ts)
    return floor if floor == ts else floor + HOUR


def latest(conn: psycopg.Connection, device_id: str) -> dict[str, tuple[datetime, float]]:
    """The newest value of every metric the device has reported: metric -> (ts, value)."""
    rows = conn.execute(
        "SELECT metric, ts, value FROM latest_values WHERE device_id = %s ORDER BY metric",
        (device_id,),
    ).fetchall()
    return {metric: (ts, value) for metric, ts, value in rows}


def first_reading(conn: psycopg.Connection, device_id: str) -> datetime | None:
    """The oldest raw reading stored for the device (one look at the primary key); ``None`` without any."""
    return conn.execute("SELECT min(ts) FROM readings WHERE device_id = %s", (device_id,)).fetchone()[0]


def last_seen(conn: psycopg.Connection) -> dict[str, datetime]:
    """Every device that has reported telemetry -> the newest ``ts`` stored for it."""
    return dict(conn.execute("SELECT device_id, newest FROM latest_readings").fetchall())
