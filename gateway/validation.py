"""From topic and payload to an accepted message, or a ``Rejection`` naming the reason.

Order of checks: topic, device identity (registry), payload (``gateway.protocol.decode`` semantics, with a
fast path for well-formed telemetry), then the device type's catalogue (metric names, ranges, event codes).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from gateway.directory import DeviceDirectory
from gateway.protocol import (
    MAX_METRICS,
    MAX_PAST_S,
    MAX_PAYLOAD_BYTES,
    MAX_SKEW_S,
    EventMessage,
    Rejection,
    RejectionReason,
    StateMessage,
    TelemetryMessage,
    Topic,
    TopicKind,
    decode,
    parse_topic,
)
from gateway.protocol.catalog import DeviceType, catalog
from gateway.protocol.payloads import parse_timestamp

Message = TelemetryMessage | EventMessage | StateMessage
TELEMETRY_KEYS = frozenset(("ts", "seq", "metrics"))
METRIC_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_SEQ = 2**63 - 1
AHEAD = timedelta(seconds=MAX_SKEW_S)
BEHIND = timedelta(seconds=MAX_PAST_S)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message that passed every check, with where it came from."""

    topic: Topic
    message: Message


def decode_payload(kind: TopicKind, payload: bytes, now: datetime) -> Message:
    """Exactly ``gateway.protocol.decode``, faster for telemetry.

    The fast path builds the message only when every field is unmistakably valid (exact types, pattern,
    bounds, skew); anything else goes to ``decode``, which accepts or names the reason. So the fast path can
    only save time, never change an outcome.
    """
    if kind is TopicKind.TELEMETRY and len(payload) <= MAX_PAYLOAD_BYTES:
        message = _fast_telemetry(payload, now)
        if message is not None:
            return message
    return decode(kind, payload, now=now)


def _fast_telemetry(payload: bytes, now: datetime) -> TelemetryMessage | None:
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if type(raw) is not dict or raw.keys() != TELEMETRY_KEYS:
        return None
    seq, metrics, ts_raw = raw["seq"], raw["metrics"], raw["ts"]
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        return None
    if type(metrics) is not dict or not 1 <= len(metrics) <= MAX_METRICS:
        return None
    values: dict[str, float] = {}
    for name, value in metrics.items():
        kind = type(value)
        if (kind is not float and kind is not int) or not METRIC_NAME.fullmatch(name):
            return None
        value = float(value)
        if not math.isfinite(value):
            return None
        values[name] = value
    if type(ts_raw) is not int and type(ts_raw) is not str:
        return None
    try:
        ts = parse_timestamp(ts_raw)
    except ValueError:
        return None
    if ts - now > AHEAD or now - ts > BEHIND:
        return None
    return TelemetryMessage.model_construct(ts=ts, seq=seq, metrics=values)


def check_catalogue(device_type: DeviceType | None, type_name: str, message: Message) -> None:
    """Raise ``Rejection`` if the message names a metric or event code its device type does not have."""
    if isinstance(message, TelemetryMessage):
        for name, value in message.metrics.items():
            spec = device_type.metrics.get(name) if device_type else None
            if spec is None:
                raise Rejection(RejectionReason.UNKNOWN_METRIC, f"{type_name} has no metric {name!r}")
            if not spec.min <= value <= spec.max:
                raise Rejection(
                    RejectionReason.OUT_OF_RANGE, f"{name}={value} outside [{spec.min}, {spec.max}] {spec.unit}"
                )
    elif isinstance(message, EventMessage) and (device_type is None or message.code not in device_type.events):
        raise Rejection(RejectionReason.UNKNOWN_EVENT_CODE, f"{type_name} has no event {message.code!r}")


def validate(topic_name: str, payload: bytes, directory: DeviceDirectory, now: datetime) -> Accepted:
    """Every check the gateway makes, in order; raise ``Rejection`` at the first failure.

    ``DirectoryUnavailable`` propagates: the message is neither accepted nor rejected until the registry
    can be read.
    """
    topic = parse_topic(topic_name)
    device = directory.lookup(topic.device)
    if device is None:
        raise Rejection(RejectionReason.UNKNOWN_DEVICE, f"device {topic.device!r} is not registered")
    if device.site_id != topic.site:
        raise Rejection(
            RejectionReason.SITE_MISMATCH, f"device {topic.device!r} belongs to another site than {topic.site!r}"
        )
    message = decode_payload(topic.kind, payload, now)
    check_catalogue(catalog().get(device.type), device.type, message)
    if isinstance(message, EventMessage) and b"\\u0000" in payload:
        # JSON allows NUL in strings but PostgreSQL jsonb does not; storing it would fail the whole flush.
        raise Rejection(RejectionReason.SCHEMA_VIOLATION, "event detail contains a NUL character (\\u0000)")
    return Accepted(topic, message)
