"""Working-day deadlines, counted in the site's local time and returned in UTC.

Counting follows the Civil Code's rule for periods in days (art. 201, 203): the day of the event does not
count, and the period ends at 24:00 of its last day. Weekends are not working days; public holidays and
make-up working days (调休) are not modelled yet.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

SATURDAY = 5


def working_days_deadline(start: datetime, working_days: int, timezone: str) -> datetime:
    """End (24:00 local) of the ``working_days``-th working day after ``start``'s local date, in UTC."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if working_days < 1:
        raise ValueError("working_days must be at least 1")
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if day.weekday() < SATURDAY:
            counted += 1
    end_local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return end_local.astimezone(UTC)
