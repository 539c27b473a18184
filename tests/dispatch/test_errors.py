"""Every refusal of dispatch belongs to one family, which is what callers (and HTTP statuses) act on."""

from __future__ import annotations

import pytest

from dispatch import errors
from dispatch.fund import errors as fund_errors

FAMILIES = {
    errors.NoteRequired: errors.Invalid,
    errors.CostRequired: errors.Invalid,
    errors.InvalidPhone: errors.Invalid,
    errors.WorkOrderNotFound: errors.NotFound,
    errors.ResponsibilityNotFound: errors.NotFound,
    errors.CrewNotFound: errors.NotFound,
    errors.PlanNotFound: errors.NotFound,
    errors.ResponsibilityVersionNotFound: errors.NotFound,
    errors.IllegalTransition: errors.Conflict,
    errors.AcceptConflict: errors.Conflict,
    errors.AssigneeRequired: errors.Conflict,
    errors.CrewExists: errors.Conflict,
    errors.PlanExists: errors.Conflict,
    errors.StaleVersion: errors.Conflict,
    errors.HotlineStateConflict: errors.Conflict,
    errors.AcceptRefused: errors.Forbidden,
    errors.UnknownPlace: errors.Invalid,
    errors.InvalidOrder: errors.Invalid,
    errors.PhotoRejected: errors.Invalid,
    errors.ReasonRequired: errors.Invalid,
    errors.InvalidCrew: errors.Invalid,
    errors.AssignRefused: errors.Invalid,
    errors.InvalidHotlineTicket: errors.Invalid,
    errors.ResponsibilityListError: errors.Invalid,
    errors.NotificationConfigError: errors.Invalid,
    fund_errors.NotFound: errors.NotFound,
    fund_errors.InvalidState: errors.Conflict,
    fund_errors.SiteNotConfigured: errors.Conflict,
    fund_errors.WrongApprover: errors.Forbidden,
    fund_errors.NotInElectorate: errors.Forbidden,
    fund_errors.NotEmergency: errors.Invalid,
    fund_errors.InvalidAmount: errors.Invalid,
    fund_errors.EmptyScope: errors.Invalid,
    fund_errors.UnknownPlace: errors.Invalid,
    fund_errors.UnknownWorkOrder: errors.Invalid,
    fund_errors.CalendarError: errors.Invalid,
    fund_errors.CategoryMismatch: errors.Invalid,
    fund_errors.WrongOrderState: errors.Conflict,
    fund_errors.CostMismatch: errors.Conflict,
    fund_errors.VoteRequired: errors.Conflict,
    fund_errors.WrongOrganiser: errors.Forbidden,
    fund_errors.UnknownMatter: errors.Invalid,
    fund_errors.Immutable: errors.Conflict,
    fund_errors.NotAnOrganisation: errors.Invalid,
    fund_errors.UnknownCategory: errors.Invalid,
    fund_errors.UnknownElevator: errors.Invalid,
}
EVERY_FAMILY = (errors.NotFound, errors.Conflict, errors.Forbidden, errors.Invalid)


@pytest.mark.parametrize(("error", "family"), FAMILIES.items(), ids=lambda c: c.__name__)
def test_each_error_belongs_to_exactly_one_family(error: type[Exception], family: type[Exception]) -> None:
    assert [f for f in EVERY_FAMILY if issubclass(error, f)] == [family]


def test_every_error_class_of_the_package_is_listed() -> None:
    defined = {
        value for module in (errors, fund_errors) for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, errors.DispatchError) and value.__module__ == module.__name__
    }
    bases = {errors.DispatchError, fund_errors.FundError, *EVERY_FAMILY}
    assert defined - bases == set(FAMILIES)


def test_the_families_are_the_builtin_errors_python_callers_catch() -> None:
    assert issubclass(errors.NotFound, LookupError)
    assert issubclass(errors.Conflict, ValueError) and issubclass(errors.Invalid, ValueError)
    assert issubclass(errors.Forbidden, PermissionError)
