"""Why a fund operation was refused. Each error names the rule it enforces.

``NotFound`` is also a ``LookupError`` and ``WrongApprover`` a ``PermissionError`` so callers that map
built-in exception families (the web layer: 404, 403) need not know this package.
"""

from __future__ import annotations


class FundError(Exception):
    """Base class: the request was understood and refused."""


class NotFound(FundError, LookupError):
    """The household, draw or vote does not exist."""


class NotEmergency(FundError):
    """The work order's fund category is not on the site's emergency list."""


class WrongApprover(FundError, PermissionError):
    """The approving role is not the one the site's route requires (committee vs sub-district office)."""


class InvalidState(FundError):
    """The draw or vote is not in a state that allows this step."""


class SiteNotConfigured(FundError):
    """The site has no fund settings yet (committee or not, rule set)."""
