"""Why a fund operation was refused. Each error names the rule it enforces.

Each error belongs to one of the ``dispatch.errors`` families (``NotFound``, ``Conflict``, ``Forbidden``,
``Invalid``), which the web layer maps to HTTP statuses by class.
"""

from __future__ import annotations

from dispatch import errors


class FundError(errors.DispatchError):
    """Base class: the request was understood and refused."""


class NotFound(FundError, errors.NotFound):
    """The household, draw or vote does not exist."""


class NotEmergency(FundError, errors.Invalid):
    """The work order's fund category is not on the site's emergency list."""


class WrongApprover(FundError, errors.Forbidden):
    """The approving role is not the one the site's route requires (committee vs sub-district office)."""


class InvalidState(FundError, errors.Conflict):
    """The draw or vote is not in a state that allows this step."""


class SiteNotConfigured(FundError, errors.Conflict):
    """The site has no fund settings yet (committee or not, rule set)."""
