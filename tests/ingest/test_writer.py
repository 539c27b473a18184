"""The batched writer stores each (device, metric, ts) once, however often a batch is redelivered."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.database import connect
from ingest.history import latest, raw_points
from ingest.records import Batch, DeviceEvent, Sample
from ingest.writer import Writer, is_transient, isolate_failures

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def writer(db_url: str):
    with connect(db_url) as conn:
        yield Writer(conn)


def samples(n: int, device: str = "D1", start: datetime = T0) -> list[Sample]:
    return [Sample(device, start + timedelta(seconds=i), {"pressure": float(i), "flow": 2.0 * i}) for i in range(n)]


def values(db: psycopg.Connection, metric: str, device: str = "D1") -> list[float]:
    return [p.value for p in raw_points(db, device, metric, T0 - HOUR, T0 + HOUR)]


def test_a_batch_is_committed_and_counted(writer: Writer, db: psycopg.Connection) -> None:
    result = writer.write(Batch(samples(100)))
    assert result.samples == 100
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 100


def test_each_metric_of_a_sample_is_read_back(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch(samples(3)))
    assert (values(db, "pressure"), values(db, "flow")) == ([0.0, 1.0, 2.0], [0.0, 2.0, 4.0])


def test_writing_the_same_batch_twice_adds_nothing(writer: Writer, db: psycopg.Connection) -> None:
    batch = Batch(samples(50), events=[DeviceEvent("D1", T0, "trapped", 3, {"floor": 2})])
    writer.write(batch)
    again = writer.write(batch)
    assert (again.samples, again.events) == (0, 0)
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 50
    assert db.execute("SELECT count(*) FROM device_events").fetchone()[0] == 1


def test_duplicates_inside_one_batch_are_stored_once(writer: Writer, db: psycopg.Connection) -> None:
    result = writer.write(Batch(samples(10) + samples(10)))
    assert result.samples == 10


def test_new_metrics_at_a_stored_instant_are_added(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch([Sample("D1", T0, {"pressure": 1.0})]))
    writer.write(Batch([Sample("D1", T0, {"level": 3.0})]))
    assert (values(db, "pressure"), values(db, "level")) == ([1.0], [3.0])


def test_the_first_value_of_a_reading_stays(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch([Sample("D1", T0, {"pressure": 1.0})]))
    writer.write(Batch([Sample("D1", T0, {"pressure": 9.0, "level": 3.0})]))
    assert (values(db, "pressure"), values(db, "level")) == ([1.0], [3.0])


def test_the_first_value_stays_inside_one_batch_too(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch([Sample("D1", T0, {"pressure": 1.0}), Sample("D1", T0, {"pressure": 9.0, "level": 3.0})]))
    assert (values(db, "pressure"), values(db, "level")) == ([1.0], [3.0])


def test_a_sample_without_metrics_stores_nothing(writer: Writer, db: psycopg.Connection) -> None:
    assert writer.write(Batch([Sample("D1", T0, {}), *samples(1)])).samples == 1


def test_latest_value_is_the_newest_per_metric(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch(samples(5)))
    assert latest(db, "D1") == {"flow": (T0 + timedelta(seconds=4), 8.0), "pressure": (T0 + timedelta(seconds=4), 4.0)}


def test_an_older_redelivery_does_not_overwrite_the_latest_value(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch(samples(5)))
    writer.write(Batch([Sample("D1", T0 - HOUR, {"pressure": 99.0})]))
    assert latest(db, "D1")["pressure"] == (T0 + timedelta(seconds=4), 4.0)


def test_latest_keeps_metrics_a_newer_sample_did_not_report(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch([Sample("D1", T0, {"pressure": 1.0, "level": 3.0})]))
    writer.write(Batch([Sample("D1", T0 + HOUR, {"pressure": 2.0})]))
    assert latest(db, "D1") == {"level": (T0, 3.0), "pressure": (T0 + HOUR, 2.0)}


def test_latest_takes_the_newer_value_metric_by_metric(writer: Writer, db: psycopg.Connection) -> None:
    writer.write(Batch([Sample("D1", T0, {"pressure": 1.0}), Sample("D1", T0 + HOUR, {"level": 3.0})]))
    writer.write(Batch([Sample("D1", T0 + timedelta(minutes=30), {"pressure": 2.0, "level": 9.0})]))
    assert latest(db, "D1") == {"level": (T0 + HOUR, 3.0), "pressure": (T0 + timedelta(minutes=30), 2.0)}


# Samples of one device: (second, {metric: value}), a few metrics over a few instants so they overlap.
device_samples = st.lists(
    st.tuples(st.integers(0, 5), st.dictionaries(st.sampled_from(["a", "b", "c", "d"]),
                                                 st.floats(-1e6, 1e6), min_size=1)),
    min_size=1, max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(device_samples, min_size=1, max_size=3))
def test_latest_is_the_newest_stored_value_of_each_metric_whatever_the_batches(
    writer: Writer, db: psycopg.Connection, batches: list[list[tuple[int, dict[str, float]]]]
) -> None:
    device = f"H{uuid.uuid4().hex[:8]}"  # a device of its own for each example
    stored: dict[tuple[str, datetime], float] = {}
    for batch in batches:
        writer.write(Batch([Sample(device, T0 + timedelta(seconds=s), m) for s, m in batch]))
        for s, m in batch:
            for metric, value in m.items():
                stored.setdefault((metric, T0 + timedelta(seconds=s)), value)  # the first value stays
    newest = {metric: max(ts for m, ts in stored if m == metric) for metric, _ in stored}
    assert latest(db, device) == {metric: (ts, stored[metric, ts]) for metric, ts in newest.items()}


def test_a_failed_batch_leaves_nothing_behind(writer: Writer, db: psycopg.Connection) -> None:
    bad = DeviceEvent("D1", T0, "x", None, {"text": "\x00"})  # jsonb rejects NUL: the whole flush rolls back
    with pytest.raises(psycopg.Error):
        writer.write(Batch(samples(3), events=[bad]))
    writer.conn.rollback()
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 0
    assert writer.write(Batch(samples(3))).samples == 3


def test_a_metric_first_seen_in_a_rolled_back_flush_is_stored_later(writer: Writer, db: psycopg.Connection) -> None:
    with writer.conn.transaction():
        writer.add(Batch([Sample("D1", T0, {"tilt": 1.0})]))
        raise psycopg.Rollback()
    writer.write(Batch([Sample("D1", T0, {"tilt": 2.0})]))
    assert values(db, "tilt") == [2.0]


def test_add_joins_the_callers_transaction(writer: Writer, db: psycopg.Connection) -> None:
    with writer.conn.transaction():
        writer.add(Batch(samples(3)))
        raise psycopg.Rollback()
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 0


def test_two_writers_naming_a_new_metric_at_once_agree_on_it(db_url: str, db: psycopg.Connection) -> None:
    barrier = threading.Barrier(4)

    def write(device: str) -> None:
        with connect(db_url) as conn:
            writer = Writer(conn)
            barrier.wait()
            writer.write(Batch([Sample(device, T0, {"brand_new_metric": 1.0})]))

    threads = [threading.Thread(target=write, args=(f"D{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.execute("SELECT count(*) FROM metric_names WHERE name = 'brand_new_metric'").fetchone()[0] == 1
    assert all(values(db, "brand_new_metric", f"D{i}") == [1.0] for i in range(4))


def test_an_event_keeps_its_device_time_and_its_receipt_time(writer: Writer, db: psycopg.Connection) -> None:
    received = T0 + timedelta(days=6)
    writer.write(Batch(events=[DeviceEvent("D1", T0, "trapped", 1, {}, received_at=received, late=True)]))
    assert db.execute("SELECT ts, received_at FROM device_events").fetchone() == (T0, received)


def nested(levels: int) -> dict:
    detail: dict = {}
    for _ in range(levels):
        detail = {"x": detail}
    return detail


@pytest.mark.parametrize("poison", [
    DeviceEvent("D2", T0, "fault", 1, {"text": "\x00"}),  # refused by PostgreSQL: DataError
    DeviceEvent("D2", T0, "fault", 1, nested(5000)),  # refused while encoding: RecursionError
], ids=["nul", "recursion"])
def test_isolation_sets_the_rows_at_fault_aside_and_stores_the_rest(writer: Writer, db: psycopg.Connection,
                                                                     poison: DeviceEvent) -> None:
    events = [DeviceEvent("D1", T0 + timedelta(seconds=i), "fault", i) for i in range(7)]
    events.insert(5, poison)
    stored, failed = isolate_failures(events, lambda part: writer.write(Batch(events=list(part))).events)
    assert [event for event, _ in failed] == [poison]
    assert sum(stored) == 7
    assert db.execute("SELECT count(*) FROM device_events").fetchone()[0] == 7


def test_isolation_gives_up_at_once_on_a_transient_error() -> None:
    attempts: list[int] = []

    def lost_connection(part: Sequence[int]) -> None:
        attempts.append(len(part))
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    with pytest.raises(psycopg.OperationalError):
        isolate_failures([1, 2, 3, 4], lost_connection)
    assert attempts == [4]


@pytest.mark.parametrize("error,transient", [
    (psycopg.OperationalError("connection lost"), True),
    (psycopg.errors.AdminShutdown(), True),
    (psycopg.errors.SerializationFailure(), True),
    (psycopg.errors.UndefinedTable(), True),  # the schema's fault, not a row's: retried, never dead-lettered
    (psycopg.errors.UntranslatableCharacter(), False),
    (psycopg.errors.NumericValueOutOfRange(), False),
    (psycopg.errors.UniqueViolation(), False),
    (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), False),
    (RecursionError(), False),
    (OverflowError(), False),
])
def test_only_connection_and_server_errors_are_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
