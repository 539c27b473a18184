"""The propwatch wire protocol, version 1 (see docs/protocol.md). Shared by devices, simulators and gateway."""

from gateway.protocol.payloads import (
    MAX_DEPTH,
    MAX_METRICS,
    MAX_PAST_S,
    MAX_PAYLOAD_BYTES,
    MAX_SEQ,
    MAX_SKEW_S,
    MAX_TEXT,
    EventMessage,
    StateMessage,
    TelemetryMessage,
    decode,
    encode,
)
from gateway.protocol.reasons import Rejection, RejectionReason
from gateway.protocol.topics import TOPIC_ROOT, Topic, TopicKind, parse_topic, topic_for

__all__ = [
    "MAX_DEPTH",
    "MAX_METRICS",
    "MAX_PAST_S",
    "MAX_PAYLOAD_BYTES",
    "MAX_SEQ",
    "MAX_SKEW_S",
    "MAX_TEXT",
    "TOPIC_ROOT",
    "EventMessage",
    "Rejection",
    "RejectionReason",
    "StateMessage",
    "TelemetryMessage",
    "Topic",
    "TopicKind",
    "decode",
    "encode",
    "parse_topic",
    "topic_for",
]
