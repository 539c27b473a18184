"""Weekly shift schedules: when a crew member is on duty, in the member's own time zone.

A shift is written ``{"days": ["mon", "tue"], "start": "08:00", "end": "20:00"}``. ``days`` are the days a
shift starts on; a shift whose end is not after its start runs past midnight into the next day (a night
shift ``22:00``–``06:00``), and one whose end equals its start lasts 24 hours. Times are wall-clock times in
the member's IANA time zone, so a schedule follows daylight-saving changes where they exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Shift:
    """One weekly shift: the days it starts on, its start and end (wall-clock, the member's time zone)."""

    days: tuple[str, ...]
    start: time
    end: time

    def to_json(self) -> dict[str, Any]:
        """The shift as stored and answered: ``{"days", "start": "HH:MM", "end": "HH:MM"}``."""
        return {"days": list(self.days), "start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}

    def covers(self, local: datetime) -> bool:
        """Whether the local (naive or aware, already in the member's zone) moment falls in this shift."""
        day, clock = DAYS[local.weekday()], local.time().replace(tzinfo=None)
        if self.start < self.end:
            return day in self.days and self.start <= clock < self.end
        yesterday = DAYS[(local - timedelta(days=1)).weekday()]
        return (day in self.days and clock >= self.start) or (yesterday in self.days and clock < self.end)


def parse_shift(raw: Any) -> Shift:
    """A shift from its JSON form; raises ``ValueError`` naming what is wrong."""
    if not isinstance(raw, dict) or set(raw) != {"days", "start", "end"}:
        raise ValueError('a shift is {"days": [...], "start": "HH:MM", "end": "HH:MM"}')
    days = raw["days"]
    if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
        raise ValueError(f"shift days must be a non-empty list of {', '.join(DAYS)}, not {days!r}")
    return Shift(tuple(sorted(set(days), key=DAYS.index)), _clock(raw["start"]), _clock(raw["end"]))


def parse_shifts(raw: Sequence[Any]) -> list[Shift]:
    """Every shift of a schedule; raises ``ValueError`` naming the first bad one by position."""
    shifts = []
    for index, item in enumerate(raw):
        try:
            shifts.append(parse_shift(item))
        except ValueError as exc:
            raise ValueError(f"shift {index + 1}: {exc}") from None
    return shifts


def check_timezone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; raises ``ValueError`` for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)") from None


def in_schedule(shifts: Sequence[Shift], timezone: str, at: datetime) -> bool:
    """Whether ``at`` (aware) falls in one of ``shifts``, read in ``timezone``."""
    local = at.astimezone(ZoneInfo(timezone))
    return any(shift.covers(local) for shift in shifts)


def _clock(text: Any) -> time:
    try:
        hours, minutes = str(text).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"shift times are HH:MM (00:00–23:59), not {text!r}") from None
