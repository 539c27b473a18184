"""Topic layout ``pw/v1/{site}/{device}/{kind}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from gateway.protocol.reasons import Rejection, RejectionReason

TOPIC_ROOT = "pw/v1"
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class TopicKind(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATE = "state"
    CMD = "cmd"


@dataclass(frozen=True, slots=True)
class Topic:
    site: str
    device: str
    kind: TopicKind


def topic_for(site: str, device: str, kind: TopicKind | str) -> str:
    """The topic a device publishes (or receives commands) on."""
    return f"{TOPIC_ROOT}/{site}/{device}/{TopicKind(kind)}"


def parse_topic(topic: str) -> Topic:
    """Split a topic into site, device and kind; raise ``Rejection(BAD_TOPIC)`` saying what is wrong."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != TOPIC_ROOT:
        raise Rejection(RejectionReason.BAD_TOPIC, f"expected {TOPIC_ROOT}/<site>/<device>/<kind>, got {topic!r}")
    site, device, kind = parts[2], parts[3], parts[4]
    if not IDENTIFIER.match(site):
        raise Rejection(RejectionReason.BAD_TOPIC, f"site id {site!r} is not a valid identifier")
    if not IDENTIFIER.match(device):
        raise Rejection(RejectionReason.BAD_TOPIC, f"device id {device!r} is not a valid identifier")
    try:
        return Topic(site, device, TopicKind(kind))
    except ValueError:
        raise Rejection(RejectionReason.BAD_TOPIC, f"unknown message kind {kind!r}") from None
