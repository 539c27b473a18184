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


class InvalidAmount(FundError, errors.Invalid):
    """An amount is not a positive Decimal in whole cents where one is required."""


class EmptyScope(FundError, errors.Invalid):
    """The building or unit a cost or a vote falls on has no households."""


class NotInElectorate(FundError, errors.Forbidden):
    """The household may not vote in this vote: it was not in the scope when the vote opened."""


class UnknownPlace(FundError, errors.UnknownPlace):
    """The site does not exist, or the building or unit named with it is not one of that site's."""


class UnknownWorkOrder(FundError, errors.Invalid):
    """The work order a draw is opened for does not exist or belongs to another site."""


class CalendarError(FundError, errors.Invalid):
    """The holiday file is malformed; the message names the year and the date at fault."""


class CategoryMismatch(FundError, errors.Invalid):
    """A draw request names a fund category other than its work order's; only the order's category counts."""


class WrongOrderState(FundError, errors.Conflict):
    """The work order is not in a state that allows this fund step: a draw needs a repair assessed on site, a
    completion a repair verified; cancelled, false-alarm and closed orders open none."""


class CostMismatch(FundError, errors.Conflict):
    """A completion's cost disagrees with the cost the work order records, or with the draw's completed cost."""


class VoteRequired(FundError, errors.Conflict):
    """The amount is above what the owners' assembly authorised the committee to approve alone (notice clause 6),
    or the estate has no committee: the owners must vote (Civil Code art. 278)."""


class WrongOrganiser(FundError, errors.Forbidden):
    """The sub-district office organises repairs and draws only for an estate without an owners' committee
    (notice clause 16)."""


class UnknownMatter(FundError, errors.Invalid):
    """A vote's matter is not one of those ``data/vote_rules.yaml`` defines (Civil Code art. 278)."""


class Immutable(FundError, errors.Conflict):
    """A published annual disclosure is never changed; generate a new version instead."""


class NotAnOrganisation(FundError, errors.Invalid):
    """A shared-part record names a person, not a company or other organisation, as its counterparty."""


class UnknownCategory(FundError, errors.Invalid):
    """A shared-part record's category is not one ``data/shared_parts.yaml`` lists for its direction."""


class UnknownElevator(FundError, errors.Invalid):
    """An insurance policy names an elevator that is not a registered elevator of the site."""
