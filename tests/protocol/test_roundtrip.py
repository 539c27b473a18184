"""Messages survive encode -> bytes -> decode unchanged, in both timestamp forms."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.protocol import MAX_SEQ, EventMessage, StateMessage, TelemetryMessage, TopicKind, decode, encode

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
values = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)


@given(metrics=st.dictionaries(names, values, min_size=1, max_size=64), seq=st.integers(0, MAX_SEQ),
       offset_ms=st.integers(-86_400_000, 200_000))
def test_telemetry_round_trips(metrics, seq, offset_ms):
    message = TelemetryMessage(ts=NOW + timedelta(milliseconds=offset_ms), seq=seq, metrics=metrics)
    assert decode(TopicKind.TELEMETRY, encode(message), now=NOW) == message


def test_event_round_trips_with_nested_detail():
    message = EventMessage(ts=NOW, seq=41, code="fire_alarm", detail={"loop": 2, "address": 17, "zone": "B1"})
    assert decode(TopicKind.EVENT, encode(message), now=NOW) == message


def test_birth_and_will_round_trip():
    birth = StateMessage(status="online", type="elevator", model="HGP-1000", firmware="1.0",
                         metrics=["car_position", "speed"], ts=NOW)
    will = StateMessage(status="offline")
    assert decode(TopicKind.STATE, encode(birth), now=NOW) == birth
    assert decode(TopicKind.STATE, encode(will), now=NOW) == will


def test_epoch_milliseconds_and_iso_with_offset_mean_the_same_instant():
    epoch = decode(TopicKind.TELEMETRY, b'{"ts": 1795593600000, "seq": 1, "metrics": {"speed": 1.0}}',
                   now=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    china = decode(TopicKind.TELEMETRY, b'{"ts": "2026-11-25T16:00:00+08:00", "seq": 1, "metrics": {"speed": 1.0}}',
                   now=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert epoch.ts == china.ts == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_decoded_times_are_utc():
    decoded = decode(TopicKind.EVENT, b'{"ts": "2026-11-25T20:00:00+08:00", "seq": 3, "code": "trapped"}',
                     now=NOW)
    assert decoded.ts.utcoffset() == UTC.utcoffset(None)
