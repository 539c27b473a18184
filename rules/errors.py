"""Why a request to ``rules`` was refused: one family per answer a caller can act on, and the specific errors.

The families subclass the built-in exception a Python caller would expect (``NotFound`` is a
``LookupError``, ``Conflict`` and ``Invalid`` are ``ValueError``, ``Forbidden`` is a
``PermissionError``); the web layer maps each family to one HTTP status by class (``dashboard.errors``).
"""

from __future__ import annotations

from dataclasses import dataclass


class RulesError(Exception):
    """Base class: the request was understood and refused."""


class NotFound(RulesError, LookupError):
    """What the request names does not exist (HTTP 404)."""


class Conflict(RulesError, ValueError):
    """The request is well formed but the current state does not allow it (HTTP 409)."""


class Forbidden(RulesError, PermissionError):
    """The caller may not do this (HTTP 403)."""


class Invalid(RulesError, ValueError):
    """The request's content breaks a domain rule, e.g. it refers to something that does not exist (HTTP 422)."""


class AlarmNotFound(NotFound):
    """No alarm has the given id."""


class InvalidAlarmTransition(Conflict):
    """The requested action is not allowed in the alarm's state, or by its rule."""


class CommentRequired(Invalid):
    """An acknowledgement without a comment: whoever acknowledges says what they did or whom they told."""

    field = "comment"


class InvalidSilence(Invalid):
    """A silence's scope, window, expiry or recurrence cannot be used; ``field`` names the offending field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SilenceNotFound(NotFound):
    """No silence has the given id."""


class SilenceEnded(Conflict):
    """The silence has already ended (by hand or by expiring); there is nothing left to end."""


class UnknownAlarmState(Invalid):
    """A filter names an alarm state that does not exist."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a rule pack: its line, where in the document, and what."""

    line: int
    path: str
    message: str


class RulePackError(Invalid):
    """A rule pack failed validation; ``problems`` lists each one and ``str()`` prints them one per line."""

    def __init__(self, origin: str, problems: list[Problem]) -> None:
        self.origin = origin
        self.problems = problems
        super().__init__("\n".join(f"{origin}:{p.line}: {p.path}: {p.message}" for p in problems))
