"""Why a request to ``dispatch`` was refused: one family per answer a caller can act on.

The families subclass the built-in exception a Python caller would expect (``NotFound`` is a
``LookupError``, ``Conflict`` and ``Invalid`` are ``ValueError``, ``Forbidden`` is a
``PermissionError``); the web layer maps each family to one HTTP status by class (``dashboard.errors``).
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base class: the request was understood and refused."""


class NotFound(DispatchError, LookupError):
    """What the request names does not exist (HTTP 404)."""


class Conflict(DispatchError, ValueError):
    """The request is well formed but the current state does not allow it (HTTP 409)."""


class Forbidden(DispatchError, PermissionError):
    """The caller may not do this (HTTP 403)."""


class Invalid(DispatchError, ValueError):
    """The request's content breaks a domain rule, e.g. it refers to something that does not exist (HTTP 422)."""


class WorkOrderNotFound(NotFound):
    """No work order has this id."""


class ResponsibilityNotFound(NotFound):
    """No item of the current responsibility list covers the category, component and scope asked for."""


class CrewNotFound(NotFound):
    """No crew member has this id."""


class PlanNotFound(NotFound):
    """No preventive plan has this id."""


class ResponsibilityVersionNotFound(NotFound):
    """No stored version of the responsibility list has this number."""


class IllegalTransition(Conflict):
    """The state machine does not allow the requested move (the message names both states)."""


class AcceptConflict(Conflict):
    """Another crew member accepted the order first."""


class AssigneeRequired(Conflict):
    """The order has nobody on it and the move needs someone (DISPATCHED): assign a crew member instead."""


class CrewExists(Conflict):
    """A crew member with this id is already registered."""


class PlanExists(Conflict):
    """A plan of this template already exists for this device (or place)."""


class StaleVersion(Conflict):
    """The responsibility list changed since the version the edit started from (someone else saved first)."""


class HotlineStateConflict(Conflict):
    """The 12345 record cannot be made yet or any more (closure before the repair is done, a second closure,
    satisfaction before the closure was sent)."""


class AcceptRefused(Forbidden):
    """This crew member may not take the order (other unit, off shift, lacks the skill, unknown)."""


class UnknownPlace(Invalid):
    """The site does not exist, or the building or device named with it is not one of that site's; ``field``
    names the request field that holds the wrong place (``site_id``, ``building_id``, ``device_id``)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidOrder(Invalid):
    """What an order is opened or moved with breaks a rule: an unknown origin, category or preventive template,
    a cost that is not a non-negative amount in whole fen, a part without a name or a positive quantity."""


class ReasonRequired(Invalid):
    """Holding, cancelling, declaring a false alarm, reopening and reassigning an order need a reason."""


class NoteRequired(Invalid):
    """Resolving an order needs a note of what was done."""


class CostRequired(Invalid):
    """The order has a fund draw pending or approved: its resolution (or a later entry) must record a cost above
    zero, the amount the draw completes at."""


class InvalidPhone(Invalid):
    """A call-back number that is neither a mainland mobile (1[3-9] and 9 digits) nor a landline with its area
    code; ``field`` names the request field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidCrew(Invalid):
    """A crew record breaks a rule: unknown unit or time zone, a bad shift, no skill, an estate the unit does not
    serve."""


class AssignRefused(Invalid):
    """The crew member named cannot take this order: inactive, of another unit, without the skill, or not
    covering the order's estate."""


class InvalidHotlineTicket(Invalid):
    """A 12345 ticket without its number or reply deadline, or with a deadline before it was received."""


class PhotoRejected(Invalid):
    """The upload is empty, too large, or not the JPEG/PNG/WebP its content type claims."""


class ResponsibilityListError(Invalid):
    """The list is malformed, has gaps or overlaps. ``problems`` holds one line-numbered message each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("responsibility list rejected:\n  " + "\n  ".join(problems))
        self.problems = problems


class NotificationConfigError(Invalid):
    """The notification configuration is malformed, routes to a channel it does not declare, or names a secret
    variable that is not set. ``problems`` holds one message each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"notification configuration {source} rejected:\n  " + "\n  ".join(problems))
        self.source = source
        self.problems = problems
