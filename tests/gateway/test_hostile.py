"""A hostile stream: malformed payloads mixed with good ones. Good readings are stored, every bad message is
dead-lettered with the reason the protocol gives it, and the gateway keeps running."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.dead_letters import DeadLetterPolicy, count_by_reason
from gateway.protocol import Rejection, TopicKind, decode
from gateway.protocol.catalog import device_type

from .conftest import count, now_ms, wait_until

ELEVATOR = device_type("elevator")
_ts_counter = itertools.count()
BASE_MS = now_ms() - 60_000


def unique_ts() -> int:
    """A recent timestamp no other generated message has, so every good message is its own set of rows."""
    return BASE_MS - next(_ts_counter)


json_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
                | st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=3)
                           | st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=6)
metric_names = st.sampled_from(sorted(ELEVATOR.metrics)) | st.text(max_size=10)
timestamps = st.one_of(
    st.builds(unique_ts),
    st.just("2026-01-01T00:00:00"),  # no offset
    st.integers(-(2**62), 2**62),
    st.text(max_size=12),
    st.just(True),
)


def good_telemetry() -> st.SearchStrategy[tuple[str, bytes, bool]]:
    def build(names: list[str], fractions: list[float]) -> tuple[str, bytes, bool]:
        metrics = {n: ELEVATOR.metrics[n].min + f * (ELEVATOR.metrics[n].max - ELEVATOR.metrics[n].min)
                   for n, f in zip(names, fractions, strict=False)}
        ts = unique_ts()
        return "telemetry", orjson.dumps({"ts": ts, "seq": 1, "metrics": metrics}), True

    names = st.lists(st.sampled_from(sorted(ELEVATOR.metrics)), min_size=1, max_size=5, unique=True)
    return st.builds(build, names, st.lists(st.floats(0, 1), min_size=5, max_size=5))


def dumps(value: object) -> bytes:
    """Stdlib JSON: unlike orjson it writes integers beyond 64 bits (and Infinity), which devices may send."""
    return json.dumps(value).encode()


def bad_payloads() -> st.SearchStrategy[tuple[str, bytes, bool]]:
    kinds = st.sampled_from(["telemetry", "event", "state"])
    telemetry_like = st.fixed_dictionaries(
        {"ts": timestamps, "seq": st.integers(-5, 2**64) | json_scalars,
         "metrics": st.dictionaries(metric_names, st.floats(-1e6, 1e11) | json_scalars, max_size=4) | json_values},
        optional={"extra": json_values},
    )
    event_like = st.fixed_dictionaries(
        {"ts": timestamps, "seq": st.integers(0, 100),
         "code": st.sampled_from(sorted(ELEVATOR.events)) | st.text(max_size=8),
         "detail": st.dictionaries(st.text(max_size=4), st.text(max_size=4) | st.just("\x00"), max_size=2)},
    )
    state_like = st.fixed_dictionaries({"status": st.sampled_from(["online", "offline", "sleepy"]) | json_scalars})
    raw = st.binary(max_size=64) | st.builds(dumps, json_values)
    return st.one_of(
        st.tuples(kinds, raw),
        st.tuples(st.just("telemetry"), st.builds(dumps, telemetry_like)),
        st.tuples(st.just("event"), st.builds(dumps, event_like)),
        st.tuples(st.just("state"), st.builds(dumps, state_like)),
        st.tuples(kinds, st.just(b"{" + b" " * 17_000 + b"}")),
    ).map(lambda kp: (kp[0], kp[1], False))


def expected_reason(kind: str, payload: bytes) -> str | None:
    """The protocol's verdict (decode), then the elevator catalogue; ``None`` means the message is good."""
    try:
        message = decode(TopicKind(kind), payload, now=datetime.now(UTC))
    except Rejection as rejection:
        return str(rejection.reason)
    if kind == "telemetry":
        for name, value in message.metrics.items():
            spec = ELEVATOR.metrics.get(name)
            if spec is None:
                return "unknown_metric"
            if not spec.min <= value <= spec.max:
                return "out_of_range"
    if kind == "event" and message.code not in ELEVATOR.events:
        return "unknown_event_code"
    return None


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=st.lists(good_telemetry() | bad_payloads(), min_size=1, max_size=25))
def test_a_hostile_stream_stores_every_good_reading_and_dead_letters_every_bad_one(
    stream, hostile_gateway, publisher, db, site_id, elevators
):
    device = elevators[0]
    before_letters = Counter(count_by_reason(db))
    before_acked = hostile_gateway.stats().acked
    expected_letters: Counter[str] = Counter()
    good: list[dict] = []
    for kind, payload, _ in stream:
        publisher.publish(f"pw/v1/{site_id}/{device}/{kind}", payload)
        if not payload and kind in ("telemetry", "event"):
            continue  # the deletion of a retained copy (gateway.retained): acknowledged, nothing stored or kept
        reason = expected_reason(kind, payload)
        if reason is None:
            if kind == "telemetry":
                good.append(orjson.loads(payload))
        else:
            expected_letters[reason] += 1
    wait_until(lambda: hostile_gateway.stats().acked == before_acked + len(stream))
    assert Counter(count_by_reason(db)) - before_letters == expected_letters
    for message in good:
        ts = datetime.fromtimestamp(message["ts"] / 1000, tz=UTC)
        stored = dict(db.execute("SELECT metric, value FROM reading_values WHERE device_id = %s AND ts = %s",
                                 (device, ts)).fetchall())
        assert stored == pytest.approx(message["metrics"])
    assert count(db, "SELECT count(*) FROM dead_letters WHERE reason = ''") == 0


@pytest.fixture
def hostile_gateway(make_gateway):
    # Every dead letter kept: the examples all come from one device, far beyond its usual allowance.
    return make_gateway(dead_letters=DeadLetterPolicy(burst=100_000))
