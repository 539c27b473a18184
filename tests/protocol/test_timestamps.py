"""Every ``ts`` a device can send gets one answer, the same from the gateway's checks and the published schema:
accepted inside the window around receipt, ``ts_too_old`` before it, ``ts_in_future`` after it (however far,
in whatever form of number or ISO string), ``bad_timestamp`` only for what is not a timestamp at all; never an
internal error.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.protocol import MAX_PAST_S, MAX_SKEW_S, Rejection, RejectionReason, TopicKind
from gateway.protocol.catalog import device_type
from gateway.protocol.schema import protocol_schema
from gateway.validation import ValidatorFailure, check_payload

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
NOW_US = (NOW - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
AHEAD_US, BEHIND_US = int(MAX_SKEW_S * 1e6), int(MAX_PAST_S * 1e6)
ELEVATOR = device_type("elevator")
TS_SCHEMA = jsonschema.Draft202012Validator(protocol_schema()["$defs"]["telemetry"]["properties"]["ts"])


def verdict(ts_json: str) -> str | None:
    """What the gateway says of an elevator's telemetry carrying ``ts_json``: the reason, or ``None``."""
    payload = b'{"ts": %s, "seq": 1, "metrics": {"speed": 1.0}}' % ts_json.encode()
    try:
        check_payload(TopicKind.TELEMETRY, payload, NOW, ELEVATOR, "elevator")
    except Rejection as rejection:
        assert not isinstance(rejection, ValidatorFailure), rejection.detail
        return str(rejection.reason)
    return None


def by_window(ts_us: int) -> str | None:
    """The answer the protocol gives a time ``ts_us`` microseconds after the epoch, by exact arithmetic."""
    if ts_us - NOW_US > AHEAD_US:
        return RejectionReason.TS_IN_FUTURE
    if NOW_US - ts_us > BEHIND_US:
        return RejectionReason.TS_TOO_OLD
    return None


def iso_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime, without asking ``datetime`` (it overflows at the
    calendar's ends, which is what is under test)."""
    naive = moment.replace(tzinfo=None)
    days = naive.toordinal() - date(1970, 1, 1).toordinal()
    seconds = days * 86_400 + naive.hour * 3600 + naive.minute * 60 + naive.second
    return seconds * 1_000_000 + naive.microsecond - moment.utcoffset() // timedelta(microseconds=1)


NOW_MS = NOW_US // 1000
near_now_ms = st.integers(NOW_MS - BEHIND_US // 1000 - 5_000, NOW_MS + AHEAD_US // 1000 + 5_000)
epoch_ms = st.integers() | st.integers(-(2**80), 2**80) | near_now_ms
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = (st.datetimes(timezones=offsets)
           | st.datetimes(NOW.replace(tzinfo=None) - timedelta(days=8), NOW.replace(tzinfo=None) + timedelta(hours=1),
                          timezones=offsets))


@given(ms=epoch_ms)
def test_an_integer_of_epoch_milliseconds_is_judged_by_the_window_alone(ms: int) -> None:
    assert verdict(str(ms)) == by_window(ms * 1000)


@given(ms=epoch_ms.filter(lambda ms: abs(ms) < 2**1000))
def test_a_whole_number_written_with_an_exponent_is_judged_as_the_same_integer(ms: int) -> None:
    written = repr(float(ms))  # 1e+20, 1795593600000.0: JSON numbers a device may send for the same integer
    assert verdict(written) == by_window(int(float(ms)) * 1000)


@given(moment=moments)
def test_an_iso_time_with_an_offset_is_judged_by_the_window_alone_even_at_the_calendars_ends(
        moment: datetime) -> None:
    assert verdict(f'"{moment.isoformat()}"') == by_window(iso_us(moment))


@given(ms=st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()))
def test_a_number_with_a_fraction_is_not_a_timestamp(ms: float) -> None:
    assert verdict(repr(ms)) == RejectionReason.BAD_TIMESTAMP


@given(ts=st.integers(-(2**80), 2**80) | st.floats(allow_nan=False, allow_infinity=False)
       | moments.map(datetime.isoformat))
def test_the_schema_refuses_exactly_the_timestamps_refused_as_bad_timestamp(ts: int | float | str) -> None:
    written = f'"{ts}"' if isinstance(ts, str) else repr(ts)
    assert TS_SCHEMA.is_valid(ts) == (verdict(written) != RejectionReason.BAD_TIMESTAMP)


@pytest.mark.parametrize("written,reason", [("1e20", "ts_in_future"), ("-1e20", "ts_too_old"),
                                            ("100000000000000000000000", "ts_in_future"),
                                            ('"9999-12-31T23:59:59-08:00"', "ts_in_future"),
                                            ('"0001-01-01T00:00:00+08:00"', "ts_too_old")])
def test_a_time_far_outside_the_window_is_named_for_its_side(written: str, reason: str) -> None:
    assert verdict(written) == reason
