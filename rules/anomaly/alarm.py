"""The two alarm styles: a held state (hysteresis) and events cut from it (one onset, then quiet)."""

from __future__ import annotations

from typing import Any


class AlarmState:
    """Abnormal from a row whose probability is at or below the alarm level; held while rows stay at or below
    ``hold`` and cleared after ``clear_rows`` consecutive rows above it."""

    def __init__(self, hold: float, clear_rows: int) -> None:
        self.hold = hold
        self.clear_rows = clear_rows
        self.active = False
        self.held = 0
        self.calm = 0

    def update(self, probability: float, level: float, armed: bool) -> bool:
        """Feed one row's device probability; ``level`` is the alarm probability, ``armed`` False forbids a raise.
        Returns whether the state is abnormal."""
        if not self.active:
            if armed and probability <= level:
                self.active, self.held, self.calm = True, 1, 0
            return self.active
        self.held += 1
        self.calm = 0 if probability <= self.hold else self.calm + 1
        if self.calm >= self.clear_rows:
            self.active = False
        return self.active

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"active": self.active, "held": self.held, "calm": self.calm}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.active, self.held, self.calm = state["active"], state["held"], state["calm"]


class EventGate:
    """Cuts events out of the abnormal state: an onset where the state rises, unless an onset was given less than
    ``quiet_rows`` rows before (one work order per event, not one per flicker). A severe rise (its probability at
    or below the square of the level: score 1) still gives an onset within the quiet rows of a mild one, once, so
    a sensor's small wobble cannot hide the large fault that follows it."""

    def __init__(self, quiet_rows: int) -> None:
        self.quiet_rows = quiet_rows
        self.since = quiet_rows
        self.severe = False

    def update(self, rising: bool, severe: bool = False) -> bool:
        """Feed one row (whether the abnormal state rose on it, and whether that rise is severe); returns whether
        it is an onset."""
        onset = rising and (self.since >= self.quiet_rows or (severe and not self.severe))
        if onset:
            self.since, self.severe = 0, severe
        else:
            self.since += 1
        return onset

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"since": self.since, "severe": self.severe}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (a state saved before severity was kept counts its onset as mild)."""
        self.since = state["since"]
        self.severe = state.get("severe", False)
