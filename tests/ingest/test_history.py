"""History queries answer raw points, rollups and latest values, and refuse bad requests clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.database import connect
from ingest.history import BadRange, HistoryError, ResultTooLarge, latest, raw_points, rollup
from ingest.records import Batch
from ingest.writer import Writer

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def series(db_url: str) -> None:
    """D1 pressure every 10 s for one hour with value = minute index; plus one flow reading."""
    rows = [("D1", "pressure", T0 + timedelta(seconds=10 * i), float(i // 6)) for i in range(360)]
    rows.append(("D1", "flow", T0, 2.5))
    with connect(db_url) as conn:
        Writer(conn).write(Batch.of_readings(rows))


def test_raw_points_come_in_time_order_within_the_range(db: psycopg.Connection, series: None) -> None:
    points = raw_points(db, "D1", "pressure", T0, T0 + timedelta(minutes=1))
    assert [p.ts for p in points] == [T0 + timedelta(seconds=10 * i) for i in range(6)]


def test_raw_points_beyond_the_limit_are_refused(db: psycopg.Connection, series: None) -> None:
    with pytest.raises(ResultTooLarge):
        raw_points(db, "D1", "pressure", T0, T0 + timedelta(hours=1), limit=100)


def test_a_reversed_range_is_refused(db: psycopg.Connection) -> None:
    with pytest.raises(BadRange):
        raw_points(db, "D1", "pressure", T0, T0 - timedelta(minutes=1))


def test_a_naive_datetime_is_refused(db: psycopg.Connection) -> None:
    with pytest.raises(BadRange):
        rollup(db, "D1", "pressure", T0.replace(tzinfo=None), T0, bucket=timedelta(minutes=1))


def test_history_errors_are_value_errors(db: psycopg.Connection) -> None:
    with pytest.raises(ValueError):
        rollup(db, "D1", "pressure", T0, T0 + timedelta(hours=1), bucket=timedelta(0))
    assert issubclass(ResultTooLarge, HistoryError)


def test_too_many_buckets_are_refused(db: psycopg.Connection) -> None:
    with pytest.raises(ResultTooLarge):
        rollup(db, "D1", "pressure", T0, T0 + timedelta(days=30), bucket=timedelta(seconds=1))


def test_rollup_gives_min_max_avg_last_count_per_bucket(db: psycopg.Connection, series: None) -> None:
    buckets = rollup(db, "D1", "pressure", T0, T0 + timedelta(hours=1), bucket=timedelta(minutes=15))
    assert [b.bucket for b in buckets] == [T0 + timedelta(minutes=15 * i) for i in range(4)]
    first = buckets[0]
    assert (first.min, first.max, first.last, first.count) == (0.0, 14.0, 14.0, 90)
    assert first.avg == pytest.approx(7.0)


def test_latest_gives_the_newest_value_of_each_metric(db: psycopg.Connection, series: None) -> None:
    assert latest(db, "D1") == {
        "flow": (T0, 2.5),
        "pressure": (T0 + timedelta(seconds=3590), 59.0),
    }


def test_a_metric_never_stored_has_no_points_and_no_buckets(db: psycopg.Connection, series: None) -> None:
    end = T0 + timedelta(hours=1)
    assert raw_points(db, "D1", "no_such_metric", T0, end) == []
    assert rollup(db, "D1", "no_such_metric", T0, end, bucket=timedelta(minutes=15)) == []
