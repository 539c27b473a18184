"""The records that flow from the gateway into storage and on to the rules engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Reading:
    """One metric value of one device at one instant (SI unit per the metric catalogue)."""

    device_id: str
    metric: str
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A discrete device event. ``code`` is a catalogue code, or ``online``/``offline`` from presence."""

    device_id: str
    ts: datetime
    code: str
    seq: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Batch:
    """What one flush commits: readings and events, in arrival order."""

    readings: list[Reading] = field(default_factory=list)
    events: list[DeviceEvent] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.readings) + len(self.events)
