"""Silences and maintenance windows: the windows in which alarms of a device, building or site start muted
(matched against alarms by ``rules.suppression.Silencer``).

A window is one-off (``starts_at``..``ends_at``) or recurring with an RFC 5545 RRULE subset:
``FREQ=DAILY`` or ``FREQ=WEEKLY`` with optional ``BYDAY=MO,WE`` and ``UNTIL=20261231T000000Z``; ``starts_at``
and ``ends_at`` are then the first occurrence. Weekdays are those of ``starts_at`` in UTC (China keeps no
daylight saving, so a local window is a fixed UTC window).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from rules.errors import InvalidSilence

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Recurrence:
    freq: str
    byday: frozenset[int] = frozenset()
    until: datetime | None = None


def parse_recurrence(text: str) -> Recurrence:
    """Parse the supported RRULE subset; ``InvalidSilence`` names the bad part."""
    parts: dict[str, str] = {}
    for part in text.strip().removeprefix("RRULE:").split(";"):
        key, sep, value = part.partition("=")
        if not sep:
            raise InvalidSilence(f"recurrence part {part!r} is not KEY=VALUE")
        parts[key.upper()] = value.upper()
    unknown = set(parts) - {"FREQ", "BYDAY", "UNTIL"}
    if unknown:
        raise InvalidSilence(f"unsupported recurrence keys: {', '.join(sorted(unknown))} (use FREQ, BYDAY, UNTIL)")
    freq = parts.get("FREQ")
    if freq not in ("DAILY", "WEEKLY"):
        raise InvalidSilence(f"FREQ must be DAILY or WEEKLY, got {freq!r}")
    byday: set[int] = set()
    for day in filter(None, parts.get("BYDAY", "").split(",")):
        if day not in WEEKDAYS:
            raise InvalidSilence(f"BYDAY day {day!r} is not one of {','.join(WEEKDAYS)}")
        byday.add(WEEKDAYS.index(day))
    if byday and freq != "WEEKLY":
        raise InvalidSilence("BYDAY needs FREQ=WEEKLY")
    until = None
    if "UNTIL" in parts:
        try:
            until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise InvalidSilence(f"UNTIL must look like 20261231T000000Z, got {parts['UNTIL']!r}") from None
    return Recurrence(freq, frozenset(byday), until)


@dataclass(frozen=True, slots=True)
class Silence:
    """One silence or maintenance window over a device, building or site."""

    id: int
    scope_type: str
    scope_id: str
    starts_at: datetime
    ends_at: datetime
    recurrence: Recurrence | None
    reason: str

    def covers(self, ts: datetime) -> bool:
        """Whether ``ts`` falls inside this window (or one of its occurrences)."""
        if ts < self.starts_at:
            return False
        if self.recurrence is None:
            return ts < self.ends_at
        duration = self.ends_at - self.starts_at
        days_in = (ts - self.starts_at) // DAY
        # An occurrence that started up to ``duration`` ago may still be running.
        for back in range(duration // DAY + 2):
            day = days_in - back
            if day < 0:
                break
            start = self.starts_at + day * DAY
            if not self._occurs(day, start):
                continue
            if start <= ts < start + duration:
                return True
        return False

    def _occurs(self, day: int, start: datetime) -> bool:
        rec = self.recurrence
        assert rec is not None
        if rec.until is not None and start > rec.until:
            return False
        if rec.freq == "DAILY":
            return True
        if rec.byday:
            return start.astimezone(UTC).weekday() in rec.byday
        return day % 7 == 0


def load_silences(conn: psycopg.Connection) -> list[Silence]:
    """Every silence on record (the engine is given its own clock, so none is dismissed as past here)."""
    rows = conn.execute(
        "SELECT id, scope_type, scope_id, starts_at, ends_at, recurrence, reason FROM silences ORDER BY id"
    ).fetchall()
    return [Silence(r[0], r[1], r[2], r[3], r[4], parse_recurrence(r[5]) if r[5] else None, r[6]) for r in rows]
