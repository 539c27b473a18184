"""Working-day deadlines, counted in the site's local time and returned in UTC.

Counting follows the Civil Code's rule for periods in days (art. 201, 203): the day of the event does not
count, and the period ends at 24:00 of its last day. Working days are Monday to Friday, except the national
public holidays, plus the weekend days worked in exchange (调休), as ``data/holidays.yaml`` lists them per
year from the State Council's notice. A year the file does not list counts Monday to Friday only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from dispatch.fund.errors import CalendarError

log = logging.getLogger(__name__)
SATURDAY = 5


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days: weekdays, less ``holidays``, plus the weekend ``workdays`` (调休)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: frozenset[int] = frozenset()  # the years the lists cover

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays


def parse_calendar(text: str) -> WorkCalendar:
    """The calendar in ``text`` (the format of ``data/holidays.yaml``); ``CalendarError`` says what is wrong."""
    raw = yaml.safe_load(text) or {}
    years: Mapping[Any, Any] = raw.get("years") or {}
    holidays: set[date] = set()
    workdays: set[date] = set()
    for year, entry in years.items():
        if not entry.get("source"):
            raise CalendarError(f"{year}: no source")
        days_off: set[date] = set()
        for period in entry.get("holidays", ()):
            first, last = _date(year, period.get("from")), _date(year, period.get("to"))
            if last < first:
                raise CalendarError(f"{year}: holiday {period.get('name', '')} ends ({last}) before it starts")
            days_off.update(first + timedelta(days=n) for n in range((last - first).days + 1))
        worked = {_date(year, day) for day in entry.get("workdays", ())}
        for day in sorted(worked):
            if day.weekday() < SATURDAY:
                raise CalendarError(f"{year}: make-up working day {day} is not a weekend day")
            if day in days_off:
                raise CalendarError(f"{year}: {day} is both a holiday and a make-up working day")
        holidays |= days_off
        workdays |= worked
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))


def _date(year: int, value: object) -> date:
    if not isinstance(value, date):
        raise CalendarError(f"{year}: {value!r} is not a date (YYYY-MM-DD)")
    if value.year != year:
        raise CalendarError(f"{year}: {value} is not in {year}")
    return value


@cache
def national_calendar() -> WorkCalendar:
    """The shipped calendar (read once)."""
    return parse_calendar((resources.files("dispatch.fund") / "data" / "holidays.yaml").read_text(encoding="utf-8"))


def working_days_deadline(start: datetime, working_days: int, timezone: str,
                          calendar: WorkCalendar | None = None) -> datetime:
    """End (24:00 local) of the ``working_days``-th working day after ``start``'s local date, in UTC.

    ``calendar`` defaults to the national one."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if working_days < 1:
        raise ValueError("working_days must be at least 1")
    calendar = calendar or national_calendar()
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    uncovered = sorted({start.astimezone(zone).year, day.year} - calendar.years)
    if uncovered:
        log.warning("no holiday calendar for %s: counting Monday to Friday (add it to dispatch/fund/data/"
                    "holidays.yaml)", ", ".join(map(str, uncovered)))
    end_local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return end_local.astimezone(UTC)
