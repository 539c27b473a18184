"""Payload models for telemetry, events and state, and the decoder that turns bytes into them.

The models are the single definition of the wire format: the gateway decodes with them, the simulators
encode with them, and ``docs/protocol.schema.json`` is exported from them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.protocol.reasons import Rejection, RejectionReason
from gateway.protocol.topics import TopicKind

MAX_PAYLOAD_BYTES = 16 * 1024
MAX_METRICS = 64
MAX_SKEW_S = 300.0
MAX_PAST_S = 7 * 24 * 3600.0
MetricName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def parse_timestamp(value: object) -> datetime:
    """Epoch milliseconds (int) or ISO 8601 with an offset -> aware UTC datetime."""
    if isinstance(value, bool):
        raise ValueError("ts must be epoch milliseconds or an ISO 8601 string")
    if isinstance(value, int):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch milliseconds {value} out of range") from None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"ts {value[:40]!r} is not ISO 8601") from None
    else:
        raise ValueError("ts must be epoch milliseconds or an ISO 8601 string")
    if parsed.tzinfo is None:
        raise ValueError("ts must carry a UTC offset (e.g. 2026-01-01T08:00:00+08:00 or ...Z)")
    return parsed.astimezone(UTC)


class _Message(BaseModel):
    # strict: JSON types must match exactly (no "5" or true for a number), as docs/protocol.schema.json says.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    ts: datetime = Field(description="Epoch milliseconds or ISO 8601 with offset; stored as UTC")
    seq: int = Field(ge=0, le=2**63 - 1, description="Per-device counter, +1 per message of any kind")

    @field_validator("ts", mode="before")
    @classmethod
    def _ts(cls, value: object) -> datetime:
        return parse_timestamp(value)


class TelemetryMessage(_Message):
    """Several metric values sampled at one instant, in the SI units of the metric catalogue."""

    metrics: dict[MetricName, float] = Field(min_length=1, max_length=MAX_METRICS)

    @field_validator("metrics")
    @classmethod
    def _finite(cls, metrics: dict[str, float]) -> dict[str, float]:
        for name, value in metrics.items():
            if not math.isfinite(value):
                raise ValueError(f"metric {name!r} is not a finite number")
        return metrics


class EventMessage(_Message):
    """A discrete event (fault, state change, alarm input) named by a catalogue code."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    detail: dict[str, Any] = Field(default_factory=dict)


class StateMessage(BaseModel):
    """Retained birth (``online``) and last-will (``offline``) messages."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    status: Literal["online", "offline"]
    type: str | None = None
    model: str | None = None
    firmware: str | None = None
    metrics: list[MetricName] = Field(default_factory=list, max_length=MAX_METRICS)
    ts: datetime | None = None

    @field_validator("ts", mode="before")
    @classmethod
    def _ts(cls, value: object) -> datetime | None:
        return None if value is None else parse_timestamp(value)


Message = TelemetryMessage | EventMessage | StateMessage
MODELS: dict[TopicKind, type[BaseModel]] = {
    TopicKind.TELEMETRY: TelemetryMessage,
    TopicKind.EVENT: EventMessage,
    TopicKind.STATE: StateMessage,
}


def decode(kind: TopicKind, payload: bytes, *, now: datetime | None = None) -> Message:
    """Bytes -> validated message, or ``Rejection`` with the precise reason.

    Checks size, JSON, schema and clock skew; catalogue checks (known metric, range, event code) and
    device identity belong to the gateway's validator, which knows the device type.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejection(RejectionReason.OVERSIZE, f"{len(payload)} bytes > limit {MAX_PAYLOAD_BYTES}")
    model = MODELS.get(kind)
    if model is None:
        raise Rejection(RejectionReason.BAD_TOPIC, f"devices do not publish {kind} messages")
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise Rejection(RejectionReason.BAD_JSON, str(exc)) from None
    if not isinstance(raw, dict):
        raise Rejection(RejectionReason.SCHEMA_VIOLATION, "payload must be a JSON object")
    if kind is TopicKind.TELEMETRY and isinstance(raw.get("metrics"), dict) and len(raw["metrics"]) > MAX_METRICS:
        raise Rejection(RejectionReason.TOO_MANY_METRICS, f"{len(raw['metrics'])} metrics > limit {MAX_METRICS}")
    try:
        message = model.model_validate(raw)
    except ValidationError as exc:
        raise Rejection(_reason_for(exc), _describe(exc)) from None
    ts = getattr(message, "ts", None)
    if ts is not None:
        _check_skew(ts, now or datetime.now(UTC))
    return message


def encode(message: Message) -> bytes:
    """Message -> compact JSON bytes with ``ts`` as ISO 8601 UTC."""
    return orjson.dumps(message.model_dump(mode="json", exclude_none=True))


def _check_skew(ts: datetime, now: datetime) -> None:
    if ts - now > timedelta(seconds=MAX_SKEW_S):
        raise Rejection(RejectionReason.CLOCK_SKEW, f"ts {ts.isoformat()} is {(ts - now).total_seconds():.0f} s ahead")
    if now - ts > timedelta(seconds=MAX_PAST_S):
        raise Rejection(RejectionReason.CLOCK_SKEW, f"ts {ts.isoformat()} is older than {MAX_PAST_S / 86400:.0f} days")


def _reason_for(exc: ValidationError) -> RejectionReason:
    first = exc.errors()[0]
    if first["loc"] and first["loc"][0] == "ts":
        return RejectionReason.BAD_TIMESTAMP
    return RejectionReason.SCHEMA_VIOLATION


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "payload"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
