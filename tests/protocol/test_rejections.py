"""Every rejection reason, provoked by the example documented in docs/protocol.md.

Reasons decided by the payload alone are checked with ``decode``/``parse_topic``; reasons that need the
device registry, the catalogue or the device's seq history (checked by the gateway's validator) are checked
as facts about the example against that data.
"""

from datetime import UTC, datetime

import orjson
import pytest

from gateway.protocol import MAX_METRICS, MAX_PAYLOAD_BYTES, Rejection, RejectionReason, TopicKind, decode, parse_topic
from gateway.protocol.catalog import device_type

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TS = 1795593600000  # NOW in epoch ms


def reason_of(kind: TopicKind, payload: bytes) -> RejectionReason:
    with pytest.raises(Rejection) as caught:
        decode(kind, payload, now=NOW)
    return caught.value.reason


@pytest.mark.parametrize("topic", ["pw/v2/S001/S001-PR01/telemetry", "pw/v1/S001/S001-PR01/status",
                                   "pw/v1/S001/S001 PR01/telemetry", "pw/v1/S001/telemetry"])
def test_bad_topic(topic):
    with pytest.raises(Rejection) as caught:
        parse_topic(topic)
    assert caught.value.reason is RejectionReason.BAD_TOPIC


def test_bad_topic_for_a_kind_devices_do_not_publish():
    assert reason_of(TopicKind.CMD, b"{}") is RejectionReason.BAD_TOPIC


def test_oversize():
    payload = orjson.dumps({"ts": TS, "seq": 1, "code": "fault", "detail": {"pad": "x" * MAX_PAYLOAD_BYTES}})
    assert reason_of(TopicKind.EVENT, payload) is RejectionReason.OVERSIZE


def test_bad_json():
    assert reason_of(TopicKind.TELEMETRY, b'{"ts": 1795593600000, "seq": ') is RejectionReason.BAD_JSON


@pytest.mark.parametrize("payload", [
    b'{"ts": 1795593600000, "seq": 1, "metrics": "hot"}',
    b'{"ts": 1795593600000, "seq": -1, "metrics": {"speed": 1}}',
    b'{"ts": 1795593600000, "seq": 1, "metrics": {}}',
    b'{"ts": 1795593600000, "seq": 1, "metrics": {"speed": 1}, "extra": true}',
    b'[1, 2, 3]',
    b'{"ts": 1795593600000, "seq": true, "metrics": {"speed": 1}}',
    b'{"ts": 1795593600000, "seq": "5", "metrics": {"speed": 1}}',
    b'{"ts": 1795593600000, "seq": 1, "metrics": {"speed": "2.5"}}',
    b'{"ts": 1795593600000, "seq": 1, "metrics": {"door_status": true}}',
])
def test_schema_violation(payload):
    assert reason_of(TopicKind.TELEMETRY, payload) is RejectionReason.SCHEMA_VIOLATION


@pytest.mark.parametrize("ts", ['"yesterday"', '"2026-11-25T08:00:00"', "true"])
def test_bad_timestamp(ts):
    payload = b'{"ts": %s, "seq": 1, "metrics": {"speed": 1}}' % ts.encode()
    assert reason_of(TopicKind.TELEMETRY, payload) is RejectionReason.BAD_TIMESTAMP


@pytest.mark.parametrize("ts", [TS + 3_600_000, '"9999-12-31T23:59:59-08:00"', 2**62])
def test_ts_in_future(ts):
    payload = b'{"ts": %s, "seq": 1, "metrics": {"speed": 1}}' % str(ts).encode()
    assert reason_of(TopicKind.TELEMETRY, payload) is RejectionReason.TS_IN_FUTURE


@pytest.mark.parametrize("ts", [TS - 8 * 86_400_000, '"0001-01-01T00:00:00+08:00"', -(2**62)])
def test_ts_too_old(ts):
    payload = b'{"ts": %s, "seq": 1, "metrics": {"speed": 1}}' % str(ts).encode()
    assert reason_of(TopicKind.TELEMETRY, payload) is RejectionReason.TS_TOO_OLD


def test_too_many_metrics():
    payload = orjson.dumps({"ts": TS, "seq": 1, "metrics": {f"m{i}": 0 for i in range(MAX_METRICS + 1)}})
    assert reason_of(TopicKind.TELEMETRY, payload) is RejectionReason.TOO_MANY_METRICS


def test_unknown_metric_example_is_valid_protocol_but_not_in_the_catalogue():
    decode(TopicKind.TELEMETRY, b'{"ts": 1795593600000, "seq": 1, "metrics": {"flux_capacitor": 1.21}}', now=NOW)
    assert "flux_capacitor" not in device_type("water_supply").metrics


def test_out_of_range_example_is_outside_the_catalogue_range():
    spec = device_type("water_supply").metrics["outlet_pressure"]
    assert not spec.min <= 16.0 <= spec.max


def test_unknown_event_code_example_is_not_in_the_catalogue():
    decode(TopicKind.EVENT, b'{"ts": 1795593600000, "seq": 1, "code": "warp_core_breach"}', now=NOW)
    assert "warp_core_breach" not in device_type("elevator").events
