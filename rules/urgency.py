"""Which records may raise an alarm at once, so the gateway commits them without waiting for their batch.

The gateway batches readings for throughput: a record waits up to the flush interval before it is committed
and evaluated. For an entrapment or an overspeeding car that wait would be most of the time to the alarm. So
the engine tells the gateway which records deserve a commit of their own: an event code that an immediate rule
(one with no ``for`` period) listens for, or a reading that crosses the trip level of an immediate threshold. A
reading counts when it crosses, once: a device that stays beyond the level does not hurry every batch.

Urgency decides when records are committed, never what is stored or evaluated, and each device's records keep
their order. A wrong guess (a device not seen yet, a pack being reloaded) costs latency, not correctness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ingest.records import DeviceEvent, Sample


@dataclass(frozen=True, slots=True)
class Triggers:
    """One device's urgent inputs: event codes, and per metric the trip levels of its immediate thresholds."""

    events: frozenset[str] = frozenset()
    above: Mapping[str, float] = field(default_factory=dict)  # the lowest level a rising value trips
    below: Mapping[str, float] = field(default_factory=dict)  # the highest level a falling value trips

    @classmethod
    def of(cls, events: Iterable[str], levels: Iterable[tuple[str, bool, float]]) -> Triggers:
        """From event codes and ``(metric, upward, trip)`` levels; of several levels on a metric, the first
        one crossed is the one that matters."""
        above: dict[str, float] = {}
        below: dict[str, float] = {}
        for metric, upward, trip in levels:
            if upward:
                above[metric] = min(trip, above.get(metric, trip))
            else:
                below[metric] = max(trip, below.get(metric, trip))
        return cls(frozenset(events), above, below)

    def __bool__(self) -> bool:
        return bool(self.events or self.above or self.below)


class Urgency:
    """``urgency(record)``: whether ``record`` may raise an alarm at once (see the module docstring).

    The engine publishes its devices' triggers (``publish``) from its own thread; the gateway asks from its
    network thread. Published mappings are never changed afterwards, only replaced, so a reader sees one
    whole version. The memory of which readings are beyond their level belongs to the asking thread: one
    gateway's network thread asks.
    """

    def __init__(self) -> None:
        self._triggers: Mapping[str, Triggers] = {}
        self._beyond: set[tuple[str, str, bool]] = set()

    def publish(self, triggers: Mapping[str, Triggers]) -> None:
        """Replace the triggers, by device id."""
        self._triggers = dict(triggers)

    def __call__(self, record: Sample | DeviceEvent) -> bool:
        triggers = self._triggers.get(record.device_id)
        if triggers is None:
            return False
        if isinstance(record, DeviceEvent):
            return record.code in triggers.events
        urgent = False
        for metric, value in record.metrics.items():
            trip = triggers.above.get(metric)
            if trip is not None:
                urgent |= self._crossed((record.device_id, metric, True), value > trip)
            trip = triggers.below.get(metric)
            if trip is not None:
                urgent |= self._crossed((record.device_id, metric, False), value < trip)
        return urgent

    def _crossed(self, key: tuple[str, str, bool], beyond: bool) -> bool:
        """Whether (device, metric, upward) has just gone beyond its level: it was not at the last reading."""
        if not beyond:
            self._beyond.discard(key)
            return False
        if key in self._beyond:
            return False
        self._beyond.add(key)
        return True
