"""From topic and payload to an accepted message, or a ``Rejection`` naming the reason.

Order of checks: topic, device identity (registry), payload (``gateway.protocol.decode`` semantics), then the
device type's catalogue (metric names, ranges, event codes); well-formed telemetry takes a fast path through
the last two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import orjson

from gateway.directory import DeviceDirectory, DirectoryUnavailable
from gateway.protocol import (
    MAX_METRICS,
    MAX_PAST_S,
    MAX_PAYLOAD_BYTES,
    MAX_SEQ,
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
from gateway.protocol.catalog import DeviceType, MetricSpec, catalog
from gateway.protocol.payloads import parse_timestamp

TELEMETRY_KEYS = frozenset(("ts", "seq", "metrics"))
AHEAD = timedelta(seconds=MAX_SKEW_S)
BEHIND = timedelta(seconds=MAX_PAST_S)


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Accepted telemetry: every metric is in the device type's catalogue and within its range."""

    ts: datetime
    seq: int
    metrics: dict[str, float]


Message = Telemetry | EventMessage | StateMessage


class ValidatorFailure(Rejection):
    """The validator itself failed on a message (a bug to fix): dead-lettered as ``schema_violation``."""


@dataclass(frozen=True, slots=True)
class Cleared:
    """An empty message on a telemetry or event topic: the deletion of a retained copy (``gateway.retained``),
    which the broker forwards to subscribers too. Acknowledged, neither stored nor dead-lettered."""

    topic: str


CLEARABLE = (f"/{TopicKind.TELEMETRY}", f"/{TopicKind.EVENT}")


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message that passed every check, with where it came from."""

    topic: Topic
    message: Message


def check_payload(kind: TopicKind, payload: bytes, now: datetime, device_type: DeviceType | None,
                  type_name: str) -> Message:
    """Decode ``payload`` and check it against the device type's catalogue; raise ``Rejection`` naming the
    first failure.

    Exactly ``gateway.protocol.decode`` followed by ``check_catalogue``, with a fast path for telemetry that
    accepts only what is unmistakably valid (exact types, catalogue names, in-range values, bounds, skew) and
    hands anything else to that pair, which accepts or names the reason. So the fast path can only save time,
    never change an outcome.
    """
    if kind is TopicKind.TELEMETRY and device_type is not None and len(payload) <= MAX_PAYLOAD_BYTES:
        telemetry = _fast_telemetry(payload, now, device_type.metrics)
        if telemetry is not None:
            return telemetry
    message = decode(kind, payload, now=now)
    check_catalogue(device_type, type_name, message)
    if isinstance(message, TelemetryMessage):
        return Telemetry(message.ts, message.seq, message.metrics)
    return message


def _fast_telemetry(payload: bytes, now: datetime, specs: dict[str, MetricSpec]) -> Telemetry | None:
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
    integers = False
    for name, value in metrics.items():
        spec = specs.get(name)
        kind = type(value)
        # NaN fails the range comparison, so only finite numbers pass.
        if spec is None or (kind is not float and kind is not int) or not spec.min <= value <= spec.max:
            return None
        integers = integers or kind is int
    if integers:
        metrics = {name: float(value) for name, value in metrics.items()}
    if type(ts_raw) is not int and type(ts_raw) is not str:
        return None
    try:
        ts = parse_timestamp(ts_raw)
    except ValueError:
        return None
    if ts - now > AHEAD or now - ts > BEHIND:
        return None
    return Telemetry(ts, seq, metrics)


@lru_cache(maxsize=65_536)
def _parse_topic(topic_name: str) -> Topic:
    """``parse_topic``, remembered: a device publishes on the same few topics all its life."""
    return parse_topic(topic_name)


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
    topic = _parse_topic(topic_name)
    device = directory.lookup(topic.device)
    if device is None:
        raise Rejection(RejectionReason.UNKNOWN_DEVICE, f"device {topic.device!r} is not registered")
    if device.site_id != topic.site:
        raise Rejection(
            RejectionReason.SITE_MISMATCH, f"device {topic.device!r} belongs to another site than {topic.site!r}"
        )
    return Accepted(topic, check_payload(topic.kind, payload, now, catalog().get(device.type), device.type))


def outcome(topic_name: str, payload: bytes, directory: DeviceDirectory,
            now: datetime) -> Accepted | Cleared | Rejection:
    """``validate``, with its rejection returned rather than raised, or ``Cleared`` for an empty message on a
    telemetry or event topic; ``DirectoryUnavailable`` propagates."""
    if not payload and topic_name.endswith(CLEARABLE):
        return Cleared(topic_name)
    try:
        return validate(topic_name, payload, directory, now)
    except Rejection as rejection:
        return rejection
    except DirectoryUnavailable:
        raise
    except Exception as exc:
        # A validator bug must not stop ingestion: the message is kept as a dead letter for analysis.
        return ValidatorFailure(RejectionReason.SCHEMA_VIOLATION, f"internal validation error: {type(exc).__name__}")
