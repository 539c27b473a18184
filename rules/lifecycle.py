"""The alarm lifecycle in memory: pending → active → acknowledged → cleared, with keep-firing, recovery and
latching.

``Lifecycle`` is the one place that changes an open alarm's state. Evaluators tell it that a condition holds
(``fire``) or no longer holds (``calm``) at a data timestamp; ``tick`` applies the passage of time (``for``
periods, ``clear_for`` recovery, the end of a silence); ``follow`` applies what operators did. Every state
change is collected as a ``Change`` for the store to write in one transaction per batch.

Against flapping: a condition must hold for ``for`` before the alarm is active, and must stay false for
``clear_for`` before an active alarm clears; a relapse while recovering keeps the same alarm (no new row,
no transition), so a value dancing around its threshold raises one alarm, not one per crossing.

Latching (ISA-18.2 "return to normal unacknowledged"): a P0 or P1 alarm whose condition ends while it is still
active and unacknowledged does not clear; it stays active with ``returned_at`` set until someone acknowledges
it, so an entrapment that resolved itself at 3 a.m. is still on the console in the morning. A P0 (life safety)
is never muted: a silence or inhibition covering it is recorded, and the alarm is raised and dispatched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from rules.model import Rule

if TYPE_CHECKING:
    from rules.suppression import Mute

PENDING, ACTIVE, ACKNOWLEDGED, CLEARED = "pending", "active", "acknowledged", "cleared"
STATES = (PENDING, ACTIVE, ACKNOWLEDGED, CLEARED)
# Life safety (DOMAIN.md §8.2): never muted by a silence or an inhibition.
LIFE_SAFETY = "P0"
# Severities whose alarms latch when they return to normal unacknowledged.
LATCHING = frozenset({"P0", "P1"})
# A re-fire only moves last_seen; writing that more often than this per alarm buys nothing.
TOUCH_INTERVAL = timedelta(seconds=5)


class Owner(Protocol):
    """What the lifecycle needs from the evaluator behind an alarm."""

    rule: Rule
    fingerprint: str
    site_id: str
    building_id: str | None
    device_id: str | None
    alarm: OpenAlarm | None

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """A one-line cause and the values that support it, for a transition."""
        ...


@dataclass(slots=True, eq=False)
class OpenAlarm:
    """An alarm that is not cleared, as the engine holds it (the database row mirrors it)."""

    fingerprint: str
    rule: Rule
    site_id: str
    building_id: str | None
    device_id: str | None
    state: str
    first_seen: datetime
    last_seen: datetime
    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    activated_at: datetime | None = None
    recovering_since: datetime | None = None
    cleared_at: datetime | None = None
    suppressed: bool = False
    owner: Owner | None = None
    persisted_seen: datetime | None = None
    raised_in_silence: bool = False
    silence_id: int | None = None
    returned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """A transition made by a person (ack, assign, manual clear) that a running engine must follow."""

    transition_id: int
    alarm_id: int
    to_state: str


@dataclass(slots=True)
class Change:
    """One state transition to record."""

    alarm: OpenAlarm
    from_state: str | None
    to_state: str
    at: datetime
    cause: str
    values: dict[str, Any]


class Lifecycle:
    """Applies fire/calm observations, time and operator actions to the open alarms, collecting what changed.

    ``mutes`` decides whether an alarm becoming active is suppressed, and why (``rules.suppression``).
    """

    def __init__(self, open_alarms: dict[str, OpenAlarm],
                 mutes: Callable[[OpenAlarm, datetime], Mute | None]) -> None:
        self.open = open_alarms
        self.mutes = mutes
        self.changes: list[Change] = []
        self.dirty: set[OpenAlarm] = set()
        self.touched: set[OpenAlarm] = set()
        self.now: datetime | None = None

    def fire(self, owner: Owner, ts: datetime, value: float | None, detail: dict[str, Any] | None = None) -> None:
        """The owner's condition holds at ``ts``."""
        alarm = owner.alarm
        rule = owner.rule
        if alarm is None:
            alarm = OpenAlarm(owner.fingerprint, rule, owner.site_id, owner.building_id, owner.device_id, PENDING,
                              ts, ts, value, dict(detail or {}), owner=owner)
            owner.alarm = alarm
            self.open[alarm.fingerprint] = alarm
            self.dirty.add(alarm)
            cause, values = owner.describe(value)
            if rule.for_s <= 0:
                self._suppress(alarm, ts)
                alarm.state, alarm.activated_at = ACTIVE, ts
                self._record(alarm, None, ACTIVE, ts, cause, values)
            else:
                self._record(alarm, None, PENDING, ts, f"{cause}; active after {rule.for_s:g} s", values)
            return
        if ts > alarm.last_seen:
            alarm.last_seen = ts
        alarm.value = value
        if detail:
            alarm.detail.update(detail)
        if alarm.returned_at is not None:
            alarm.returned_at = None
            cause, values = owner.describe(value)
            self._record(alarm, alarm.state, alarm.state, ts, f"{cause}; again before it was acknowledged",
                         {**values, "relapse": True})
            return
        if alarm.recovering_since is not None:
            alarm.recovering_since = None
            self.dirty.add(alarm)
        else:
            self.touched.add(alarm)
        if alarm.state == PENDING:
            due = alarm.first_seen + timedelta(seconds=rule.for_s)
            if max(ts, self.now or ts) >= due:
                self._activate(alarm, due, f"held for {rule.for_s:g} s", value)

    def calm(self, owner: Owner, ts: datetime, value: float | None, cause: str | None = None) -> None:
        """The owner's condition no longer holds at ``ts`` (or a clearing event arrived)."""
        alarm = owner.alarm
        if alarm is None or alarm.returned_at is not None:
            return
        if cause is None:
            cause = owner.describe(value)[0]
        if alarm.state == PENDING:
            self.clear(alarm, ts, f"ended before the for period: {cause}", {"value": value})
            return
        clear_for = alarm.rule.clear_for_s
        if clear_for <= 0:
            self._end(alarm, ts, f"cleared: {cause}", {"value": value})
        elif alarm.recovering_since is None:
            alarm.recovering_since = ts
            self.dirty.add(alarm)
        elif (ts - alarm.recovering_since).total_seconds() >= clear_for:
            self._end(alarm, alarm.recovering_since + timedelta(seconds=clear_for),
                      f"recovered for {clear_for:g} s: {cause}", {"value": value})

    def tick(self, now: datetime) -> None:
        """Activate pending alarms whose ``for`` elapsed, clear those that recovered for ``clear_for``, and release
        silenced alarms that nothing mutes any more."""
        for alarm in list(self.open.values()):
            rule = alarm.rule
            if alarm.state == PENDING:
                due = alarm.first_seen + timedelta(seconds=rule.for_s)
                if now >= due:
                    self._activate(alarm, due, f"held for {rule.for_s:g} s", alarm.value)
            elif alarm.recovering_since is not None:
                due = alarm.recovering_since + timedelta(seconds=rule.clear_for_s)
                if now >= due:
                    self._end(alarm, due, f"recovered for {rule.clear_for_s:g} s", {"value": alarm.value})
        for alarm in [a for a in self.open.values() if a.suppressed and a.detail.get("silenced")]:
            if alarm.state in (ACTIVE, ACKNOWLEDGED) and self.mutes(alarm, now) is None:
                self.release(alarm, now)

    def _end(self, alarm: OpenAlarm, at: datetime, cause: str, values: dict[str, Any]) -> None:
        """The condition is over: clear the alarm, or latch it if it is an unacknowledged P0/P1 that counts (an
        alarm muted by a silence was expected and clears)."""
        if alarm.state == ACTIVE and not alarm.suppressed and alarm.rule.severity in LATCHING:
            alarm.returned_at, alarm.recovering_since = at, None
            self._record(alarm, ACTIVE, ACTIVE, at, f"returned to normal unacknowledged, kept until acknowledged "
                         f"({cause})", {**values, "latched": True})
        else:
            self.clear(alarm, at, cause, values)

    def clear(self, alarm: OpenAlarm, at: datetime, cause: str, values: dict[str, Any]) -> None:
        """Close ``alarm`` and detach it from its evaluator."""
        self._record(alarm, alarm.state, CLEARED, at, cause, values)
        alarm.state, alarm.cleared_at, alarm.recovering_since = CLEARED, at, None
        self.open.pop(alarm.fingerprint, None)
        if alarm.owner is not None and alarm.owner.alarm is alarm:
            alarm.owner.alarm = None
        self.dirty.add(alarm)

    def _activate(self, alarm: OpenAlarm, at: datetime, cause: str, value: float | None) -> None:
        if not alarm.suppressed:
            self._suppress(alarm, at)
        alarm.state, alarm.activated_at = ACTIVE, at
        self.dirty.add(alarm)
        self._record(alarm, PENDING, ACTIVE, at, cause, {"value": value})

    def release(self, alarm: OpenAlarm, at: datetime) -> None:
        """The silence that suppressed ``alarm`` is over and the alarm is still open: from now on it counts
        like any other (dispatch opens its work order). Recorded as a transition to the same state."""
        reason = alarm.detail.pop("suppressed_by", None)
        alarm.detail.pop("silenced", None)
        alarm.suppressed = False
        self._record(alarm, alarm.state, alarm.state, at, f"still {alarm.state} after its silence ended ({reason})",
                     {"silence_ended": reason})

    def follow(self, actions: Sequence[OperatorAction], changes: Sequence[Change] = ()) -> set[OpenAlarm]:
        """Apply acknowledgements and manual clears that operators made through ``rules.alarms``.

        ``changes`` not yet written are corrected to start from the acknowledged state. An alarm that latched here
        while an operator acknowledged it (before the latch was written) is cleared, as the acknowledgement of a
        latched alarm does. Returns the alarms an operator has cleared, whose pending writes must be dropped.
        """
        by_id = {a.id: a for a in self.open.values() if a.id is not None}
        by_id.update((c.alarm.id, c.alarm) for c in changes if c.alarm.id is not None)
        cleared_by_operator = {a.alarm_id for a in actions if a.to_state == CLEARED}
        cleared: set[OpenAlarm] = set()
        for action in actions:
            alarm = by_id.get(action.alarm_id)
            if alarm is None:
                continue
            if action.to_state == CLEARED:
                cleared.add(alarm)
                self.open.pop(alarm.fingerprint, None)
                alarm.state = CLEARED
                if alarm.owner is not None and alarm.owner.alarm is alarm:
                    alarm.owner.alarm = None
            elif action.to_state == ACKNOWLEDGED:
                if alarm.state == ACTIVE:
                    alarm.state = ACKNOWLEDGED
                for change in changes:
                    if change.alarm is alarm and change.from_state == ACTIVE:
                        change.from_state = ACKNOWLEDGED
                if alarm.returned_at is not None and alarm.state == ACKNOWLEDGED and \
                        action.alarm_id not in cleared_by_operator:
                    self.clear(alarm, max(alarm.returned_at, self.now or alarm.returned_at),
                               "cleared on acknowledgement: it had returned to normal", {})
        return cleared

    def _suppress(self, alarm: OpenAlarm, at: datetime) -> None:
        mute = self.mutes(alarm, at)
        if mute is None:
            return
        if mute.silence:
            alarm.raised_in_silence, alarm.silence_id = True, mute.silence_id
        if mute.maintenance:
            alarm.detail["maintenance_in_progress"] = True
        if alarm.rule.severity == LIFE_SAFETY:
            # Raised and dispatched all the same; what would have muted it is kept for the record.
            alarm.detail["raised_despite"] = mute.reason
            return
        alarm.suppressed = True
        alarm.detail["suppressed_by"] = mute.reason
        if mute.silence:
            # Kept with the alarm (and so across restarts): only a silenced alarm is released.
            alarm.detail["silenced"] = True

    def _record(self, alarm: OpenAlarm, from_state: str | None, to_state: str, at: datetime, cause: str,
                values: dict[str, Any]) -> None:
        self.changes.append(Change(alarm, from_state, to_state, at, cause, values))
        self.dirty.add(alarm)

    def restore(self, changes: list[Change], alarms: list[OpenAlarm]) -> None:
        """Put back what ``take`` returned when writing it failed, ahead of anything newer."""
        self.changes = changes + self.changes
        self.dirty.update(alarms)

    def take(self) -> tuple[list[Change], list[OpenAlarm]]:
        """The changes and the alarms to write now; alarms only re-seen are written every TOUCH_INTERVAL."""
        changes, self.changes = self.changes, []
        due = [a for a in self.touched if a not in self.dirty
               and (a.persisted_seen is None or a.last_seen - a.persisted_seen >= TOUCH_INTERVAL)]
        alarms = list(self.dirty) + due
        self.touched.difference_update(alarms)
        self.dirty = set()
        return changes, alarms
