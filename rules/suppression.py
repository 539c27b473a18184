"""Whether an alarm starts muted (recorded as suppressed), and why: silences and inhibitions behind one ``mutes``.

As in Alertmanager, where ``silence`` and ``inhibit`` each implement one ``Mutes()`` and the pipeline composes
them, a ``Silencer`` and an ``Inhibitor`` each answer ``mutes(alarm, at) -> Mute | None`` and ``Suppression``
asks them in turn. The lifecycle asks when an alarm becomes active; a muted alarm is still stored, flagged
``suppressed`` with the reason in its detail. A P0 alarm is the exception (``rules.lifecycle``): it is recorded as
raised in the silence and dispatched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rules.lifecycle import ACKNOWLEDGED, ACTIVE, OpenAlarm
from rules.model import Inhibition
from rules.silences import Silence


@dataclass(frozen=True, slots=True)
class Mute:
    """Why an alarm is muted. A silence ends at a known time and the alarm is released then if it is still
    open; an inhibition holds until the alarm clears (its source is the incident being handled). ``silence_id``
    and ``maintenance`` describe the silence (maintenance in progress on the scope)."""

    reason: str
    silence: bool
    silence_id: int | None = None
    maintenance: bool = False


class Muter(Protocol):
    """Decides whether an alarm becoming active at ``at`` is muted."""

    def mutes(self, alarm: OpenAlarm, at: datetime) -> Mute | None:
        """Why ``alarm`` is muted at ``at``, or ``None``."""
        ...


def _scope_id(alarm: OpenAlarm, scope_type: str) -> str | None:
    """The alarm's device, building or site id."""
    if scope_type == "device":
        return alarm.device_id
    if scope_type == "building":
        return alarm.building_id
    return alarm.site_id if scope_type == "site" else None


class Silencer:
    """Silences and maintenance windows: a window covering the time over the alarm's device, building or site."""

    def __init__(self, silences: Sequence[Silence]) -> None:
        self._silences = tuple(silences)

    def mutes(self, alarm: OpenAlarm, at: datetime) -> Mute | None:
        """The first silence over the alarm's scope that covers ``at``."""
        for silence in self._silences:
            if _scope_id(alarm, silence.scope_type) == silence.scope_id and silence.covers(at):
                return Mute(f"silence {silence.id}: {silence.reason}", silence=True, silence_id=silence.id,
                            maintenance=silence.maintenance)
        return None


class Inhibitor:
    """Topology inhibition: an active or acknowledged alarm of a source rule or category mutes the alarms of the
    targets that start in the same device, building or site."""

    def __init__(self, inhibitions: Sequence[Inhibition], open_alarms: Mapping[str, OpenAlarm]) -> None:
        self._inhibitions = tuple(inhibitions)
        self._open = open_alarms

    def mutes(self, alarm: OpenAlarm, at: datetime) -> Mute | None:
        """The first inhibition targeting the alarm's rule or category whose source is open in its scope."""
        rule = alarm.rule
        for inhibition in self._inhibitions:
            if rule.id not in inhibition.target_rules and rule.category not in inhibition.target_categories:
                continue
            wanted = _scope_id(alarm, inhibition.scope)
            if wanted is None:
                continue
            for source in self._open.values():
                if source is alarm or source.state not in (ACTIVE, ACKNOWLEDGED):
                    continue
                if source.rule.id not in inhibition.source_rules and \
                        source.rule.category not in inhibition.source_categories:
                    continue
                if _scope_id(source, inhibition.scope) == wanted:
                    return Mute(f"inhibited by {source.fingerprint} ({inhibition.id}): {inhibition.reason}",
                                silence=False)
        return None


class Suppression:
    """Muters asked in turn (silences before inhibitions): the first that mutes an alarm says why."""

    def __init__(self, *muters: Muter) -> None:
        self._muters = muters

    def mutes(self, alarm: OpenAlarm, at: datetime) -> Mute | None:
        """Why ``alarm`` is muted at ``at``, or ``None``."""
        for muter in self._muters:
            mute = muter.mutes(alarm, at)
            if mute is not None:
                return mute
        return None
