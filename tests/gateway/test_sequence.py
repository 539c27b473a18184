"""Sequence counters: every arrival counts as a message; a seq above the highest so far + 1 opens a gap of the
numbers skipped, one at or below it is a replay; flushes and restarts continue where the last one stopped."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.sequence import SeqDelta, SeqStats, SequenceRecorder, get_seq_stats
from ingest.database import connect


@pytest.fixture
def recorder(db_url: str):
    with connect(db_url) as conn:
        yield SequenceRecorder(conn)


def record(recorder: SequenceRecorder, seen: list[tuple[str, int]]) -> SeqDelta:
    with recorder.conn.transaction():
        return recorder.record(seen)


def model(flushes: list[list[tuple[str, int]]]) -> dict[str, SeqStats]:
    """The counting rule, one arrival at a time."""
    stats: dict[str, list[int]] = {}
    for seen in flushes:
        for device, seq in seen:
            if device not in stats:
                stats[device] = [seq, 1, 0, 0, 0]
                continue
            counters = stats[device]
            counters[1] += 1
            if seq <= counters[0]:
                counters[4] += 1
            else:
                if seq > counters[0] + 1:
                    counters[2] += 1
                    counters[3] += seq - counters[0] - 1
                counters[0] = seq
    return {device: SeqStats(device, *c) for device, c in stats.items()}


def test_a_gap_and_a_replay_in_one_flush(recorder: SequenceRecorder, db: psycopg.Connection) -> None:
    delta = record(recorder, [("D1", 1), ("D1", 2), ("D1", 5), ("D1", 5), ("D1", 6)])
    assert delta == SeqDelta(gaps=1, missing=2, replays=1)
    assert get_seq_stats(db, "D1") == SeqStats("D1", last_seq=6, messages=5, gaps=1, missing=2, replays=1)


def test_the_next_flush_continues_from_the_stored_counters(recorder: SequenceRecorder,
                                                            db: psycopg.Connection) -> None:
    record(recorder, [("D1", 1), ("D1", 2)])
    delta = record(recorder, [("D1", 2), ("D1", 4)])
    assert delta == SeqDelta(gaps=1, missing=1, replays=1)
    assert get_seq_stats(db, "D1") == SeqStats("D1", last_seq=4, messages=4, gaps=1, missing=1, replays=1)


def test_a_rolled_back_flush_counts_nothing(recorder: SequenceRecorder, db: psycopg.Connection) -> None:
    with pytest.raises(RuntimeError), recorder.conn.transaction():
        recorder.record([("D1", 1), ("D1", 3)])
        raise RuntimeError("flush failed")
    record(recorder, [("D1", 1)])
    assert get_seq_stats(db, "D1") == SeqStats("D1", last_seq=1, messages=1, gaps=0, missing=0, replays=0)


def test_a_stored_seq_at_the_top_of_bigint_does_not_stop_later_flushes(recorder: SequenceRecorder,
                                                                        db: psycopg.Connection) -> None:
    # What a device could leave behind before the protocol bounded seq: every later flush overflowed.
    top = 2**63 - 1
    record(recorder, [("D1", top)])
    assert record(recorder, [("D1", 5), ("D2", 1)]) == SeqDelta(replays=1)
    assert get_seq_stats(db, "D1") == SeqStats("D1", last_seq=top, messages=2, gaps=0, missing=0, replays=1)


BIG = 2**62
arrivals = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]),
                              st.integers(0, 12) | st.sampled_from([BIG, BIG + 1, 2 * BIG - 1])), max_size=15)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flushes=st.lists(arrivals, min_size=1, max_size=4))
def test_counters_follow_the_arrivals_one_by_one_across_flushes(
    recorder: SequenceRecorder, db: psycopg.Connection, flushes: list[list[tuple[str, int]]]
) -> None:
    prefix = uuid.uuid4().hex[:8]  # devices of their own for each example
    flushes = [[(f"{prefix}-{device}", seq) for device, seq in seen] for seen in flushes]
    for seen in flushes:
        record(recorder, seen)
    assert {device: get_seq_stats(db, device) for device in model(flushes)} == model(flushes)
