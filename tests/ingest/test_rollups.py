"""Hourly rollups: settled days are rolled up once, and history in whole hours outlives raw retention in both
storage modes with the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest import maintenance, rollups
from ingest.database import connect
from ingest.history import raw_points, rollup
from ingest.records import Batch, Sample
from ingest.writer import Writer

NOW = datetime.now(UTC)
# Three days straddling the raw retention boundary (2 years): the first is past it, the last is not.
OLD = (NOW - timedelta(days=731)).replace(hour=0, minute=0, second=0, microsecond=0)
HOUR = timedelta(hours=1)


def write_days(url: str, start: datetime, days: int) -> None:
    """D1 every 5 minutes: pressure = minute of the hour / 4 (exact in binary, so sums are exact), flow on even
    hours only, so some hours have no flow at all."""
    samples = []
    for i in range(days * 288):
        ts = start + timedelta(minutes=5 * i)
        metrics = {"pressure": ts.minute / 4}
        if ts.hour % 2 == 0:
            metrics["flow"] = float(ts.hour)
        samples.append(Sample("D1", ts, metrics))
    with connect(url) as conn:
        Writer(conn).write(Batch(samples))


def apply_policies(url: str) -> None:
    """Run every storage policy now, as ``propwatch db maintain`` does."""
    with connect(url, autocommit=True) as conn:
        report = maintenance.run(conn, now=NOW, every_job=True)
    assert report.ok, report.tasks


def raw_count(url: str) -> int:
    with connect(url) as conn:
        return conn.execute("SELECT count(*) FROM readings").fetchone()[0]


def answers(conn: psycopg.Connection, bucket: timedelta, start: datetime, end: datetime) -> dict[str, list]:
    return {metric: rollup(conn, "D1", metric, start, end, bucket=bucket) for metric in ("pressure", "flow")}


def test_a_settled_day_is_rolled_up_per_device_and_hour(db: psycopg.Connection, db_url: str) -> None:
    day = (NOW - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
    write_days(db_url, day, 1)
    report = rollups.refresh(db, now=NOW)
    assert day in report.days
    mins, maxs, sums, counts, lasts = db.execute(
        """SELECT h.mins[m.id], h.maxs[m.id], h.sums[m.id], h.counts[m.id], h.lasts[m.id]
           FROM readings_hourly h JOIN metric_names m ON m.name = 'pressure'
           WHERE h.device_id = 'D1' AND h.hour = %s""", (day,)).fetchone()
    assert (mins, maxs, sums, counts, lasts) == (0.0, 13.75, sum(m / 4 for m in range(0, 60, 5)), 12, 13.75)


def test_days_that_may_still_change_are_not_rolled_up(db: psycopg.Connection, db_url: str) -> None:
    recent = (NOW - timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
    write_days(db_url, recent, 1)
    rollups.refresh(db, now=NOW)
    assert db.execute("SELECT count(*) FROM readings_hourly").fetchone()[0] == 0
    assert rollups.done_until(db) is None


def test_readings_imported_after_a_pass_on_an_empty_database_are_rolled_up(
    db: psycopg.Connection, db_url: str,
) -> None:
    rollups.refresh(db, now=NOW)
    day = (NOW - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)
    write_days(db_url, day, 1)
    report = rollups.refresh(db, now=NOW)
    assert report.days[0] == day
    assert rollups.done_until(db) == rollups.settled_until(NOW)


def test_a_day_is_rolled_up_once(db: psycopg.Connection, db_url: str) -> None:
    write_days(db_url, (NOW - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0), 2)
    first = rollups.refresh(db, now=NOW)
    again = rollups.refresh(db, now=NOW)
    assert (len(first.days), first.rows) == (13, 48)
    assert (again.days, again.rows) == ([], 0)


def test_whole_hours_from_rollups_answer_as_the_raw_rows_did(storage_db_url: str) -> None:
    write_days(storage_db_url, OLD, 3)
    ranges = [(bucket, OLD + offset, OLD + timedelta(days=3) - offset)
              for bucket in (HOUR, 2 * HOUR, timedelta(days=1)) for offset in (timedelta(0), timedelta(minutes=25))]
    with connect(storage_db_url, autocommit=True) as conn:
        from_raw = [answers(conn, *r) for r in ranges]
        rollups.refresh(conn, now=NOW)
        assert rollups.rollup_horizon(conn) is not None
        assert [answers(conn, *r) for r in ranges] == from_raw


def test_hourly_history_survives_raw_retention(storage_db_url: str) -> None:
    write_days(storage_db_url, OLD, 3)
    end = OLD + timedelta(days=3)
    with connect(storage_db_url, autocommit=True) as conn:
        hourly, daily = answers(conn, HOUR, OLD, end), answers(conn, timedelta(days=1), OLD, end)
    apply_policies(storage_db_url)
    assert raw_count(storage_db_url) < 3 * 288  # the oldest day's raw rows are gone
    with connect(storage_db_url, autocommit=True) as conn:
        assert raw_points(conn, "D1", "pressure", OLD, OLD + HOUR) == []
        assert answers(conn, HOUR, OLD, end) == hourly
        assert answers(conn, timedelta(days=1), OLD, end) == daily


def test_minute_history_past_raw_retention_is_gone(storage_db_url: str) -> None:
    write_days(storage_db_url, OLD, 3)
    apply_policies(storage_db_url)
    with connect(storage_db_url, autocommit=True) as conn:
        assert rollup(conn, "D1", "pressure", OLD, OLD + HOUR, bucket=timedelta(minutes=1)) == []


def test_raw_readings_are_kept_until_rolled_up(mode_template, scratch_database) -> None:
    with scratch_database(mode_template("plain")) as url:
        write_days(url, OLD, 1)
        with connect(url, autocommit=True) as conn:
            maintenance.run(conn, now=OLD + rollups.SETTLE)  # as if the rollups had stopped at OLD
            assert rollups.done_until(conn) is None  # nothing rolled up yet
        assert raw_count(url) == 288


@pytest.mark.parametrize("bucket", [HOUR, timedelta(days=1)])
def test_a_metric_absent_from_some_hours_has_no_buckets_there(storage_db_url: str, bucket: timedelta) -> None:
    write_days(storage_db_url, OLD, 1)
    apply_policies(storage_db_url)
    with connect(storage_db_url, autocommit=True) as conn:
        flow = rollup(conn, "D1", "flow", OLD, OLD + timedelta(days=1), bucket=bucket)
    assert [b.count for b in flow] == ([12] * 12 if bucket == HOUR else [144])
    assert {b.bucket.hour % 2 for b in flow} == {0}


def test_recent_hours_are_rolled_up_and_answer_as_the_raw_rows_did(storage_db_url: str) -> None:
    this_hour = NOW.replace(minute=0, second=0, microsecond=0)
    write_days(storage_db_url, this_hour - timedelta(days=1), 1)
    ranges = [(bucket, this_hour - timedelta(days=1), this_hour) for bucket in (HOUR, timedelta(hours=6))]
    with connect(storage_db_url, autocommit=True) as conn:
        from_raw = [answers(conn, *r) for r in ranges]
        rollups.refresh_recent(conn, now=NOW)
        assert rollups.rollup_horizon(conn) >= this_hour - HOUR
        assert conn.execute("SELECT count(*) FROM readings_hourly").fetchone()[0] >= 23
        assert [answers(conn, *r) for r in ranges] == from_raw


def test_a_late_reading_for_a_rolled_up_hour_counts_after_the_next_pass(storage_db_url: str) -> None:
    this_hour = NOW.replace(minute=0, second=0, microsecond=0)
    write_days(storage_db_url, this_hour - timedelta(days=1), 1)
    late_hour = this_hour - 3 * HOUR
    with connect(storage_db_url, autocommit=True) as conn:
        rollups.refresh_recent(conn, now=NOW)
        before = rollup(conn, "D1", "pressure", late_hour, late_hour + HOUR, bucket=HOUR)
        Writer(conn).write(Batch([Sample("D1", late_hour + timedelta(minutes=2, seconds=30), {"pressure": 100.0})]))
        assert rollup(conn, "D1", "pressure", late_hour, late_hour + HOUR, bucket=HOUR) == before
        rollups.refresh_recent(conn, now=NOW)
        after = rollup(conn, "D1", "pressure", late_hour, late_hour + HOUR, bucket=HOUR)
    assert (after[0].count, after[0].max) == (before[0].count + 1, 100.0)


def test_an_on_time_reading_marks_no_hour(storage_db_url: str) -> None:
    with connect(storage_db_url, autocommit=True) as conn:
        Writer(conn).write(Batch([Sample("D1", datetime.now(UTC), {"pressure": 1.0})]))
        assert conn.execute("SELECT count(*) FROM rollup_invalidations").fetchone()[0] == 0
