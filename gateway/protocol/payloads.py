"""Payload models for telemetry, events and state, and the decoder that turns bytes into them.

The models are the single definition of the wire format: the gateway decodes with them, the simulators
encode with them, and ``docs/protocol.schema.json`` is exported from them.
"""

from __future__ import annotations

import math
from datetime import MINYEAR, UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from gateway.protocol.reasons import Rejection, RejectionReason
from gateway.protocol.topics import TopicKind

MAX_PAYLOAD_BYTES = 16 * 1024
MAX_METRICS = 64
MAX_SKEW_S = 300.0
MAX_PAST_S = 7 * 24 * 3600.0
# The largest integer every JSON parser reads exactly (IEEE double); sums of two stay far inside bigint.
MAX_SEQ = 2**53 - 1
MAX_DEPTH = 8  # levels of objects and arrays in a payload, the payload itself being level 1
MAX_TEXT = 256  # characters in any string of a payload: object keys and values alike
NO_NUL = r"^[^\x00]*$"
MetricName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, Field(max_length=MAX_TEXT, pattern=NO_NUL)]


class TimestampOutOfRange(ValueError):
    """A timestamp too far in the past or future for a calendar date: ``ts_too_old`` or ``ts_in_future``."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def parse_timestamp(value: object) -> datetime:
    """Epoch milliseconds (a whole number) or ISO 8601 with an offset -> aware UTC datetime.

    ``ValueError`` for anything else; ``TimestampOutOfRange`` for a time that has no UTC date (year 1 with a
    positive offset, year 9999 with a negative one, epoch milliseconds beyond year 9999).
    """
    if isinstance(value, bool):
        raise ValueError("ts must be epoch milliseconds or an ISO 8601 string")
    if isinstance(value, float):
        # JSON has one number type: 1e20 is a whole number (JSON Schema's "integer" too), and orjson reads any
        # integer beyond 64 bits as a float. Only a fraction (or NaN/infinity, from Python) is not a timestamp.
        if not value.is_integer():
            raise ValueError(f"ts {value!r} is not a whole number of epoch milliseconds")
        value = int(value)
    if isinstance(value, int):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            if value < 0:
                raise TimestampOutOfRange(RejectionReason.TS_TOO_OLD, "epoch milliseconds before year 1") from None
            raise TimestampOutOfRange(RejectionReason.TS_IN_FUTURE, "epoch milliseconds beyond year 9999") from None
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
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        reason = RejectionReason.TS_TOO_OLD if parsed.year == MINYEAR else RejectionReason.TS_IN_FUTURE
        raise TimestampOutOfRange(reason, f"ts {parsed.isoformat()!r} has no UTC date") from None


class _Message(BaseModel):
    # strict: JSON types must match exactly (no "5" or true for a number), as docs/protocol.schema.json says.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    ts: datetime = Field(description="Epoch milliseconds or ISO 8601 with offset; stored as UTC")
    seq: int = Field(ge=0, le=MAX_SEQ, description="Per-device counter, +1 per message of any kind")

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
    detail: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Free-form JSON: at most {MAX_DEPTH} levels deep counting the payload, every key and string "
                    f"at most {MAX_TEXT} characters without NUL",
    )


class StateMessage(BaseModel):
    """Retained birth (``online``) and last-will (``offline``) messages."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    status: Literal["online", "offline"]
    type: Text | None = None
    model: Text | None = None
    firmware: Text | None = None
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
        if str(exc).startswith("depth limit exceeded"):
            raise Rejection(RejectionReason.SCHEMA_VIOLATION, f"nested deeper than {MAX_DEPTH} levels") from None
        raise Rejection(RejectionReason.BAD_JSON, str(exc)) from None
    if not isinstance(raw, dict):
        raise Rejection(RejectionReason.SCHEMA_VIOLATION, "payload must be a JSON object")
    check_content(raw)
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


def check_content(raw: dict | list) -> None:
    """Raise ``Rejection(SCHEMA_VIOLATION)`` if a decoded payload nests deeper than ``MAX_DEPTH`` or holds a
    string (key or value) longer than ``MAX_TEXT`` characters or containing NUL.

    Iterative, so no depth reaches Python's recursion limit, and run before any model or encoder walks the
    payload. NUL is refused because PostgreSQL's text and jsonb cannot store it; the text ``\\u0000`` (an
    escaped backslash) is six ordinary characters and passes.
    """
    stack: list[tuple[dict | list, int]] = [(raw, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Rejection(RejectionReason.SCHEMA_VIOLATION, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key in node:
                _check_text(key)
            children = node.values()
        else:
            children = node
        for value in children:
            if type(value) is str:
                _check_text(value)
            elif type(value) is dict or type(value) is list:
                stack.append((value, depth + 1))


def _check_text(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise Rejection(RejectionReason.SCHEMA_VIOLATION, f"a string of {len(text)} characters > limit {MAX_TEXT}")
    if "\x00" in text:
        raise Rejection(RejectionReason.SCHEMA_VIOLATION, "a string contains a NUL character (\\u0000)")


def _check_skew(ts: datetime, now: datetime) -> None:
    if ts - now > timedelta(seconds=MAX_SKEW_S):
        raise Rejection(RejectionReason.TS_IN_FUTURE,
                        f"ts {ts.isoformat()} is {(ts - now).total_seconds():.0f} s ahead")
    if now - ts > timedelta(seconds=MAX_PAST_S):
        raise Rejection(RejectionReason.TS_TOO_OLD,
                        f"ts {ts.isoformat()} is older than {MAX_PAST_S / 86400:.0f} days")


def _reason_for(exc: ValidationError) -> RejectionReason:
    # docs/protocol.md §4: a missing field is a schema violation whatever else is wrong, so a payload without
    # ``ts`` never reads as a bad timestamp; only a ``ts`` present and wrong is one.
    errors = exc.errors()
    if any(error["type"] == "missing" for error in errors):
        return RejectionReason.SCHEMA_VIOLATION
    first = errors[0]
    if first["loc"] and first["loc"][0] == "ts":
        cause = first.get("ctx", {}).get("error")
        return cause.reason if isinstance(cause, TimestampOutOfRange) else RejectionReason.BAD_TIMESTAMP
    return RejectionReason.SCHEMA_VIOLATION


def _describe(exc: ValidationError) -> str:
    errors = sorted(exc.errors(), key=lambda error: error["type"] != "missing")  # the missing fields first
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "payload"
        parts.append(f"{where}: {_message(error)}")
    return "; ".join(parts)


def _message(error: ErrorDetails) -> str:
    # A seq beyond 64 bits arrives as a float and fails as "not a valid integer" before the bound is checked:
    # name the bound, as a seq of 2^53 gets.
    value = error.get("input")
    if error["loc"] == ("seq",) and type(value) in (int, float) and value > MAX_SEQ:
        return f"Input should be less than or equal to {MAX_SEQ}"
    return error["msg"]
