"""The rules a wished home-service slot must meet (notice clause 15), decided for the product and written in
docs/owners.md ("Booking rules"): notice before the start, a horizon, an end after the start, and a length the
service's price can bill — whole units of a time-priced service ("元/小时", "元/2小时"), a visit window for a
service priced per visit ("元/次"). Each breach has its own error class, which the page translates."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from services.errors import (
    Invalid,
    SlotEndsBeforeStart,
    SlotNotAhead,
    SlotNotWholeUnits,
    SlotShorterThanMinimum,
    SlotShorterThanUnit,
    SlotTooFarAhead,
    SlotTooLong,
)

# An hour's notice: the service centre confirms and sends someone; a sooner need is a phone call (or a report).
MIN_NOTICE = timedelta(hours=1)
# Rosters are planned about a season ahead; a booking further out would be a promise nobody can keep.
HORIZON = timedelta(days=90)
# A visit is booked as a window of arrival; under an hour is not a window a worker can keep.
MIN_WINDOW = timedelta(hours=1)
# One working day; a longer job is booked as several days.
MAX_SLOT = timedelta(hours=8)
# "元/小时", "元/2小时", "元/半小时", "元/30分钟": a price per span of time; anything else ("元/次") is per visit.
_TIME_UNIT = re.compile(r"/\s*(\d+(?:\.\d+)?|半)?\s*(小时|分钟|h|hour|hours|min|minutes)\s*$", re.IGNORECASE)


def billed_span(unit: str) -> timedelta | None:
    """The span of time one price unit covers ("元/2小时" → 2 h), or ``None`` for a price per visit or item."""
    found = _TIME_UNIT.search(unit)
    if found is None:
        return None
    count = 0.5 if found[1] == "半" else float(found[1] or 1)
    minutes = found[2].lower() in ("分钟", "min", "minutes")
    return timedelta(minutes=count) if minutes else timedelta(hours=count)


def check_slot(slot_start: datetime, slot_end: datetime, unit: str, now: datetime,
               min_slot_minutes: int | None = None) -> None:
    """Raise the ``Invalid`` subclass naming the first rule the slot breaks; return when it meets them all.
    ``min_slot_minutes`` is the service's own shortest slot, on top of the rules'."""
    if slot_start.tzinfo is None or slot_end.tzinfo is None:
        raise Invalid("slot times need a time zone")
    if slot_end <= slot_start:
        raise SlotEndsBeforeStart("the wished slot must end after it starts")
    if slot_start < now + MIN_NOTICE:
        raise SlotNotAhead("the wished slot must start at least an hour from now")
    if slot_start > now + HORIZON:
        raise SlotTooFarAhead("the wished slot must start within 90 days")
    length = slot_end - slot_start
    if length > MAX_SLOT:
        raise SlotTooLong("a slot is at most 8 hours; book a longer job as several days")
    span = billed_span(unit)
    if length < (span or MIN_WINDOW):
        raise SlotShorterThanUnit(f"the slot is shorter than {'the priced unit ' + unit if span else 'an hour'}")
    if span is not None and length % span:
        raise SlotNotWholeUnits(f"a service priced {unit} is booked in whole units of it")
    if min_slot_minutes and length < timedelta(minutes=min_slot_minutes):
        raise SlotShorterThanMinimum(f"this service is booked for at least {min_slot_minutes} minutes")


def offered_hours(unit: str, min_slot_minutes: int | None = None) -> list[float]:
    """The lengths, in hours, a booking form offers for a service priced in ``unit``: whole units of a time price
    up to a working day; for a visit, windows of 1 to 4 hours; none shorter than the service's own minimum."""
    span = billed_span(unit)
    lengths = [timedelta(hours=h) for h in (1, 2, 3, 4)] if span is None else \
        [span * n for n in range(1, MAX_SLOT // span + 1)]
    shortest = timedelta(minutes=min_slot_minutes or 0)
    return [length / timedelta(hours=1) for length in lengths if length >= shortest]
