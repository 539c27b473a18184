"""What every evaluator shares, and the shapes the engine calls them through: the engine's hot path.

An evaluator is one rule compiled against one subject (a device, or a building or site for scope rules). Each
kind's evaluator lives with its kind (``rules.kinds``). Levels are resolved (attributes, overrides) when the
evaluator is built, so evaluating a reading is a comparison and, only when something changes, a call into the
lifecycle. Each evaluator ignores data at or before the last timestamp it consumed, which is what makes a
redelivered batch a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from rules.lifecycle import Lifecycle, OpenAlarm
from rules.model import Rule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alarm is about. ``name`` ends the alarm's fingerprint (``<rule_id>/<name>``); ``scopes`` are the
    device, building and site ids that overrides of the rule are matched against."""

    name: str
    site_id: str
    building_id: str | None
    device_id: str | None
    scopes: Mapping[str, str | None]


class Evaluator:
    """What every evaluator carries: its rule, the alarm subject and the open alarm, if any."""

    __slots__ = ("alarm", "building_id", "device_id", "fingerprint", "last_ts", "rule", "site_id")

    def __init__(self, rule: Rule, subject: Subject) -> None:
        self.rule = rule
        self.site_id = subject.site_id
        self.building_id = subject.building_id
        self.device_id = subject.device_id
        self.fingerprint = f"{rule.id}/{subject.name}"
        self.alarm: OpenAlarm | None = None
        self.last_ts = EPOCH

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """A one-line cause and its values, for the transition record."""
        return f"{self.rule.kind} {self.rule.id}", {"value": value}

    def adopt(self, old: Evaluator) -> None:
        """Continue from ``old`` (same fingerprint, before a reload): replay guard and sliding windows."""
        self.last_ts = old.last_ts
        if type(old) is type(self):
            for name in self._carried:
                setattr(self, name, getattr(old, name))

    # Sliding-window state that survives a reload, per kind.
    _carried: tuple[str, ...] = ()


class Reader(Protocol):
    """Takes the readings of one metric of one device."""

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        """Evaluate one value."""
        ...


class EventHandler(Protocol):
    """Takes the events of one code from one device."""

    def event(self, life: Lifecycle, code: str, ts: datetime, detail: Mapping[str, Any]) -> None:
        """Evaluate one event."""
        ...


class ClearingHandler(Protocol):
    """Ends its alarm on an event of one code from one device (``normal_operation``, ``online``, ``reset``)."""

    def clearing_event(self, life: Lifecycle, code: str, ts: datetime) -> None:
        """Take one clearing event."""
        ...


class Watcher(Protocol):
    """Looks at a device's silence: called on every tick, and after each batch while its alarm is open."""

    def check(self, life: Lifecycle, now: datetime, last_seen: datetime | None) -> None:
        """Compare the time since the device last spoke (``None``: never) with the rule."""
        ...


class Deferred(Protocol):
    """Collects a batch's values and decides once at the end of the batch."""

    def flush(self, life: Lifecycle) -> None:
        """Decide on what was collected."""
        ...
