"""The hand-encoded binary COPY rows read back from PostgreSQL exactly as the values they were made from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.binary_copy import (
    FLOAT8_OID,
    SIGNATURE,
    TIMESTAMPTZ_OID,
    TRAILER,
    RowEncoder,
    postgres_timestamp,
)

TABLE = "CREATE TEMPORARY TABLE copied (name text, at timestamptz, times timestamptz[], vals float8[])"
# Hypothesis takes naive bounds; timezones= makes the drawn values aware.
instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),  # noqa: DTZ001
                        timezones=st.just(UTC))


def copy_back(conn: psycopg.Connection, rows: list[tuple]) -> list[tuple]:
    enc = RowEncoder()
    data = [SIGNATURE]
    for name, at, times, vals in rows:
        data.append(enc.row(
            enc.text(name), enc.timestamptz(postgres_timestamp(at)),
            enc.array(TIMESTAMPTZ_OID, [None if t is None else postgres_timestamp(t) for t in times]),
            enc.array(FLOAT8_OID, vals),
        ))
    data.append(TRAILER)
    with conn.transaction(force_rollback=True):
        conn.execute(TABLE)
        with conn.cursor() as cur, cur.copy("COPY copied FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(b"".join(data))
        return conn.execute("SELECT * FROM copied").fetchall()


@pytest.fixture(scope="module")
def conn(postgres_admin_url: str):
    with psycopg.connect(postgres_admin_url, options="-c TimeZone=UTC") as conn:
        yield conn


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s),
    instants,
    st.lists(st.none() | instants, max_size=8),
    st.lists(st.none() | st.floats(allow_nan=False), max_size=16),
), min_size=1, max_size=5))
def test_rows_read_back_exactly(conn: psycopg.Connection, rows: list[tuple]) -> None:
    assert copy_back(conn, rows) == rows


def test_a_timestamp_keeps_its_microseconds(conn: psycopg.Connection) -> None:
    at = datetime(2026, 11, 25, 8, 30, 1, 999_999, tzinfo=UTC)
    [(_, stored, *_)] = copy_back(conn, [("D1", at, [], [])])
    assert stored == at


def test_an_instant_in_another_zone_is_the_same_instant(conn: psycopg.Connection) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 11, 25, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    [(_, stored, *_)] = copy_back(conn, [("D1", local, [], [])])
    assert stored == local and stored.utcoffset() == timedelta(0)
