"""Bounded storage of bad traffic: a device's dead letters are rate-limited, and the table is pruned by age and
by row count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from gateway.dead_letters import (
    DeadLetterLimiter,
    count_by_reason,
    insert_dead_letters,
    make_dead_letter,
    prune_dead_letters,
)

NOW = datetime.now(UTC)


def letter(age: timedelta, reason: str = "bad_json"):
    return make_dead_letter(received_at=NOW - age, topic="pw/v1/S1/D1/telemetry", reason=reason, detail="",
                            payload=b"x", site_id="S1", device_id="D1")


def test_a_device_gets_a_burst_then_a_steady_rate() -> None:
    clock = [0.0]
    limiter = DeadLetterLimiter(burst=3, per_minute=6.0, clock=lambda: clock[0])
    assert [limiter.allow("D1") for _ in range(5)] == [True, True, True, False, False]
    clock[0] = 10.0  # one more after 10 s at 6 a minute
    assert [limiter.allow("D1") for _ in range(2)] == [True, False]


def test_devices_have_allowances_of_their_own() -> None:
    limiter = DeadLetterLimiter(burst=1, per_minute=0.0, clock=lambda: 0.0)
    assert [limiter.allow("D1"), limiter.allow("D1"), limiter.allow("D2")] == [True, False, True]


def test_dead_letters_older_than_the_maximum_age_are_pruned(db: psycopg.Connection) -> None:
    insert_dead_letters(db, [letter(timedelta(days=20), "old"), letter(timedelta(days=1), "recent")])
    assert prune_dead_letters(db, max_age=timedelta(days=14), max_rows=1_000) == 1
    assert count_by_reason(db) == {"recent": 1}


def test_only_the_newest_rows_are_kept(db: psycopg.Connection) -> None:
    insert_dead_letters(db, [letter(timedelta(seconds=i), f"r{i}") for i in range(10, 0, -1)])
    assert prune_dead_letters(db, max_age=timedelta(days=14), max_rows=3) == 7
    assert count_by_reason(db) == {"r3": 1, "r2": 1, "r1": 1}
