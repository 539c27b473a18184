"""Downlink commands on ``pw/v1/{site}/{device}/cmd``. Version 1 knows one action: inject a fault into a
simulated device (real devices ignore commands they do not understand)."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.protocol.payloads import MAX_PAYLOAD_BYTES
from gateway.protocol.reasons import Rejection, RejectionReason


class CommandMessage(BaseModel):
    """``{"action": "inject", "fault": "trapped", "duration_s": 120, "params": {...}}`` or ``clear``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["inject", "clear"]
    fault: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    duration_s: float | None = Field(default=None, gt=0, description="Simulated seconds; absent = until cleared")
    params: dict[str, Any] = Field(default_factory=dict)


def decode_command(payload: bytes) -> CommandMessage:
    """Bytes -> command, or ``Rejection`` naming what is wrong (same reasons as uplink payloads)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejection(RejectionReason.OVERSIZE, f"{len(payload)} bytes > limit {MAX_PAYLOAD_BYTES}")
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise Rejection(RejectionReason.BAD_JSON, str(exc)) from None
    try:
        return CommandMessage.model_validate(raw)
    except ValidationError as exc:
        raise Rejection(RejectionReason.SCHEMA_VIOLATION, str(exc.errors()[0]["msg"])) from None


def encode_command(command: CommandMessage) -> bytes:
    """Command -> compact JSON bytes."""
    return orjson.dumps(command.model_dump(mode="json", exclude_none=True))
