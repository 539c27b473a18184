"""The batched writer stores readings and events once, however often a batch is redelivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.database import connect
from ingest.records import Batch, DeviceEvent, Reading
from ingest.writer import Writer

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def writer(db_url: str):
    with connect(db_url) as conn:
        yield Writer(conn)


def readings(n: int, device: str = "D1", start: datetime = T0) -> list[Reading]:
    return [Reading(device, "pressure", start + timedelta(seconds=i), float(i)) for i in range(n)]


def test_a_batch_is_committed_and_counted(writer: Writer, db: psycopg.Connection) -> None:
    result = writer.write(Batch(readings=readings(100)))
    assert result.readings == 100
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 100


def test_writing_the_same_batch_twice_adds_nothing(writer: Writer, db: psycopg.Connection) -> None:
    batch = Batch(readings=readings(50), events=[DeviceEvent("D1", T0, "trapped", 3, {"floor": 2})])
    writer.write(batch)
    again = writer.write(batch)
    assert (again.readings, again.events) == (0, 0)
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 50
    assert db.execute("SELECT count(*) FROM device_events").fetchone()[0] == 1


def test_duplicates_inside_one_batch_are_stored_once(writer: Writer, db: psycopg.Connection) -> None:
    result = writer.write(Batch(readings=readings(10) + readings(10)))
    assert result.readings == 10


def test_latest_value_is_the_newest_per_metric(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch(readings=readings(5)))
    row = db.execute("SELECT ts, value FROM latest_readings WHERE device_id = 'D1'").fetchone()
    assert row == (T0 + timedelta(seconds=4), 4.0)


def test_an_older_redelivery_does_not_overwrite_the_latest_value(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch(readings=readings(5)))
    writer.write(Batch(readings=[Reading("D1", "pressure", T0 - timedelta(hours=1), 99.0)]))
    assert db.execute("SELECT value FROM latest_readings").fetchone()[0] == 4.0


def test_a_failed_batch_leaves_nothing_behind(writer: Writer, db: psycopg.Connection) -> None:
    bad = DeviceEvent("D1", T0, "x", None, {"text": "\x00"})  # jsonb rejects NUL: the whole flush rolls back
    with pytest.raises(psycopg.Error):
        writer.write(Batch(readings=readings(3), events=[bad]))
    writer.conn.rollback()
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 0
    assert writer.write(Batch(readings=readings(3))).readings == 3


def test_add_joins_the_callers_transaction(writer: Writer, db: psycopg.Connection) -> None:
    with writer.conn.transaction():
        writer.add(Batch(readings=readings(3)))
        raise psycopg.Rollback()
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 0
