"""Why a request to ``supervision`` was refused: one family per answer a caller can act on.

The families subclass the built-in exception a Python caller would expect (``NotFound`` is a
``LookupError``, ``Conflict`` and ``Invalid`` are ``ValueError``, ``Forbidden`` is a
``PermissionError``); the web layer maps each family to one HTTP status by class (``dashboard.errors``).
"""

from __future__ import annotations


class SupervisionError(Exception):
    """Base class: the request was understood and refused."""


class NotFound(SupervisionError, LookupError):
    """What the request names does not exist (HTTP 404)."""


class Conflict(SupervisionError, ValueError):
    """The request is well formed but the current state does not allow it (HTTP 409)."""


class Forbidden(SupervisionError, PermissionError):
    """The caller may not do this (HTTP 403)."""


class Invalid(SupervisionError, ValueError):
    """The request's content breaks a domain rule (HTTP 422)."""
