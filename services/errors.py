"""Why a request to ``services`` was refused: one family per answer a caller can act on.

The families subclass the built-in exception a Python caller would expect (``NotFound`` is a
``LookupError``, ``Conflict`` and ``Invalid`` are ``ValueError``, ``Forbidden`` is a
``PermissionError``); the web layer maps each family to one HTTP status by class (``dashboard.errors``).
"""

from __future__ import annotations


class ServicesError(Exception):
    """Base class: the request was understood and refused."""


class NotFound(ServicesError, LookupError):
    """What the request names does not exist (HTTP 404)."""


class Conflict(ServicesError, ValueError):
    """The request is well formed but the current state does not allow it (HTTP 409)."""


class Forbidden(ServicesError, PermissionError):
    """The caller may not do this (HTTP 403)."""


class Invalid(ServicesError, ValueError):
    """The request's content breaks a domain rule (HTTP 422)."""


class SlotNotAhead(Invalid):
    """The wished slot starts too soon (or in the past): the service centre needs notice to send someone."""


class SlotTooFarAhead(Invalid):
    """The wished slot starts beyond the booking horizon."""


class SlotEndsBeforeStart(Invalid):
    """The wished slot ends at or before its start."""


class SlotShorterThanUnit(Invalid):
    """The slot is shorter than the service's priced unit ("元/2小时") or the shortest visit window."""


class SlotShorterThanMinimum(Invalid):
    """The slot is shorter than the service's own minimum (its standard's "2小时起", ``min_slot_minutes``)."""


class SlotNotWholeUnits(Invalid):
    """A service priced by time is booked in whole units of its price (2 h, 4 h for "元/2小时")."""


class SlotTooLong(Invalid):
    """The slot is longer than one working day: that is several bookings."""
