"""The records that flow from the gateway into storage and on to the rules engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Sample:
    """One telemetry message: values of several metrics of one device at one instant (SI units per the metric
    catalogue). Stored as one row; a (device, metric, ts) has one value, the first one stored."""

    device_id: str
    ts: datetime
    metrics: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A discrete device event. ``code`` is a catalogue code, or ``online``/``offline`` from presence.

    ``ts`` is the device's time; ``received_at`` when the platform received it (stored; the commit time when
    not given). ``late`` marks an event whose device time was well before its receipt (a device replaying a
    buffer, a clock behind): clocks that measure the platform's response, such as SLA deadlines, start at
    ``received_at``, never at ``ts``.
    """

    device_id: str
    ts: datetime
    code: str
    seq: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    received_at: datetime | None = None
    late: bool = False


@dataclass(slots=True)
class Batch:
    """What one flush commits: samples and events, in arrival order."""

    samples: list[Sample] = field(default_factory=list)
    events: list[DeviceEvent] = field(default_factory=list)

    @classmethod
    def of_readings(
        cls, readings: Iterable[tuple[str, str, datetime, float]], events: Iterable[DeviceEvent] = ()
    ) -> Batch:
        """A batch from single (device_id, metric, ts, value) readings: one sample per (device, ts), first
        value of a metric kept, as the writer would store them."""
        grouped: dict[tuple[str, datetime], dict[str, float]] = {}
        for device_id, metric, ts, value in readings:
            grouped.setdefault((device_id, ts), {}).setdefault(metric, value)
        return cls([Sample(device_id, ts, metrics) for (device_id, ts), metrics in grouped.items()], list(events))

    def reading_count(self) -> int:
        """How many metric values the samples hold."""
        return sum(len(sample.metrics) for sample in self.samples)

    def __len__(self) -> int:
        return self.reading_count() + len(self.events)
