"""A payload missing a field is a schema violation, whatever else is wrong with it (docs/protocol.md §4), and a
seq beyond what JSON parsers read exactly names the limit, however large it is."""

from __future__ import annotations

import time

import pytest

from gateway.protocol.payloads import MAX_SEQ, decode
from gateway.protocol.reasons import Rejection, RejectionReason
from gateway.protocol.topics import TopicKind


def rejection(kind: TopicKind, payload: bytes) -> Rejection:
    with pytest.raises(Rejection) as caught:
        decode(kind, payload)
    return caught.value


def now_ms() -> int:
    return int(time.time() * 1000)


def test_an_empty_object_on_an_event_topic_is_a_schema_violation() -> None:
    refused = rejection(TopicKind.EVENT, b"{}")
    assert refused.reason is RejectionReason.SCHEMA_VIOLATION
    assert "ts: Field required" in refused.detail


def test_telemetry_without_ts_is_a_schema_violation() -> None:
    refused = rejection(TopicKind.TELEMETRY, b'{"seq":60,"metrics":{"temperature":21.5}}')
    assert refused.reason is RejectionReason.SCHEMA_VIOLATION
    assert refused.detail == "ts: Field required"


def test_a_missing_field_outranks_a_bad_timestamp() -> None:
    refused = rejection(TopicKind.TELEMETRY, b'{"ts":"x","seq":1}')
    assert refused.reason is RejectionReason.SCHEMA_VIOLATION
    assert refused.detail.startswith("metrics: Field required")


def test_a_present_but_unreadable_ts_stays_a_bad_timestamp() -> None:
    refused = rejection(TopicKind.TELEMETRY, b'{"ts":"x","seq":1,"metrics":{"temperature":21.5}}')
    assert refused.reason is RejectionReason.BAD_TIMESTAMP


@pytest.mark.parametrize("seq", [2**53, 2**64 - 1, 2**64], ids=["2^53", "2^64-1", "2^64"])
def test_a_seq_beyond_2_53_minus_1_names_the_limit(seq: int) -> None:
    payload = f'{{"ts":{now_ms()},"seq":{seq},"metrics":{{"temperature":21.5}}}}'.encode()
    refused = rejection(TopicKind.TELEMETRY, payload)
    assert refused.reason is RejectionReason.SCHEMA_VIOLATION
    assert refused.detail == f"seq: Input should be less than or equal to {MAX_SEQ}"
