"""Maintenance-fund draws and approvals (``dispatch.fund``), each estate's fund settings, and the owner's own
balance."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import ApiError, not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from dispatch import workorders
from dispatch.fund import draws, estate, ledger
from dispatch.fund.draws import ApproverRole, Draw, DrawState, Organiser
from dispatch.fund.estate import SiteSettings
from dispatch.fund.ledger import LedgerEntry
from dispatch.fund.regions import load_regions
from ingest import registry

router = APIRouter(prefix="/api/v1/fund", tags=["fund"])


class Decision(BaseModel):
    comment: str = Field("", max_length=2000)


class EmergencyDrawIn(BaseModel):
    """Apply for a draw for a work order: an emergency repair (notice clause 16; Order 165 art. 24), or an ordinary
    repair the owners' committee approves within the amount the owners' assembly authorised (clause 6)."""

    work_order_id: int = Field(ge=1)
    kind: Literal["emergency", "authorised"] = "emergency"
    item: str = Field(min_length=1, max_length=500)
    contractor: str = Field(min_length=1, max_length=200)
    scope_type: Literal["site", "building", "unit"] = "building"
    scope_id: str = Field(min_length=1, max_length=128)
    estimate: Decimal = Field(gt=0, le=100_000_000, decimal_places=2)
    fund_category: str | None = Field(
        None, max_length=64, description="optional; the work order's category is used, a different one is refused")


class CompletionIn(BaseModel):
    actual_cost: Decimal | None = Field(
        None, gt=0, le=100_000_000, decimal_places=2,
        description="a work order's draw costs what its verified order records; a voted draw needs it")


class SiteSettingsIn(BaseModel):
    """Whether the estate has an owners' committee and what its owners' assembly authorised it to approve alone."""

    has_committee: bool
    committee_limit: Decimal | None = Field(None, ge=0, le=100_000_000, decimal_places=2)
    rule_set: str | None = Field(None, max_length=64, description="default: the rule set of the estate's region")
    area_basis: Literal["building", "exclusive"] | None = None


class SiteSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site_id: str
    has_committee: bool
    committee_limit: Decimal | None
    rule_set: str
    area_basis: str | None
    updated_by: str


class AccountOut(BaseModel):
    household_id: str
    balance: Decimal
    history: list[LedgerEntry]


def _draw_or_404(conn: Conn, user: User, draw_id: int) -> Draw:
    draw = draws.get_draw(conn, draw_id)
    if draw is None:
        raise not_found("draw", draw_id)
    check_site(user, draw.site_id)
    return draw


@router.get("/draws", response_model=Page[Draw], summary="Fund draws in your scope")
def list_draws(conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))],
               page: Annotated[Pagination, Depends(pagination)],
               site_id: Annotated[str | None, Query(max_length=64)] = None,
               state: Annotated[DrawState | None, Query()] = None) -> Page[Draw]:
    """Newest first; filter by site and state."""
    found, total = draws.page_draws(conn, sites=scope_site(user, site_id), states=[state] if state else None,
                                    limit=page.limit, offset=page.offset)
    return Page[Draw](items=found, total=total, limit=page.limit, offset=page.offset)


@router.get("/draws/{draw_id}", response_model=Draw, summary="One draw")
def get_draw(draw_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))]) -> Draw:
    """404 when unknown, 403 outside your sites."""
    return _draw_or_404(conn, user, draw_id)


@router.post("/draws/{draw_id}/approve", response_model=Draw,
             summary="Approve a draw (owners' committee or sub-district office)")
def approve(draw_id: int, body: Decision, conn: Conn,
            user: Annotated[User, Depends(require(roles.APPROVERS))]) -> Draw:
    """403 unless you are the site's reviewer; 409 when the draw is not awaiting a decision."""
    draw = _draw_or_404(conn, user, draw_id)
    # require(APPROVERS) let only approver roles through
    decided = draws.approve(conn, draw_id, actor=user.username, role=cast(ApproverRole, user.role),
                            comment=body.comment)
    audit.record(conn, user, "fund_draw.approve", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"comment": body.comment})
    return decided


@router.post("/draws/{draw_id}/reject", response_model=Draw, summary="Reject a draw with a reason")
def reject(draw_id: int, body: Decision, conn: Conn,
           user: Annotated[User, Depends(require(roles.APPROVERS))]) -> Draw:
    """422 without a reason; otherwise as approving."""
    if not body.comment.strip():
        raise ApiError(422, "invalid", "a rejection needs a reason")
    draw = _draw_or_404(conn, user, draw_id)
    decided = draws.reject(conn, draw_id, actor=user.username, role=cast(ApproverRole, user.role),
                           comment=body.comment)
    audit.record(conn, user, "fund_draw.reject", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"comment": body.comment})
    return decided


@router.post("/draws", response_model=Draw, status_code=201,
             summary="Apply for a draw for a work order (emergency, or within the committee's authorised amount)")
def open_draw(body: EmergencyDrawIn, conn: Conn,
              user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> Draw:
    """The draw takes the work order's fund category and goes to the site's reviewer (the committee, or the
    sub-district office where there is none, which then also organises it). 409 unless the repair has been
    assessed on site, or above the committee's authorised amount; 422 off the emergency list or for another
    category; 403 for the sub-district office where the estate has a committee."""
    order = workorders.get_work_order(conn, body.work_order_id)
    if order is None:
        raise ApiError(422, "invalid", f"work order {body.work_order_id} does not exist", {"field": "work_order_id"})
    check_site(user, order.site_id)
    # The control room's other member is the sub-district office, which organises draws where there is no committee.
    organiser: Organiser = "property" if user.role in roles.HANDLERS else "subdistrict"
    opener = draws.open_emergency_draw if body.kind == "emergency" else draws.open_authorised_draw
    draw = opener(conn, site_id=order.site_id, work_order_id=order.id, item=body.item, contractor=body.contractor,
                  scope_type=body.scope_type, scope_id=body.scope_id, estimate=body.estimate,
                  fund_category=body.fund_category, organiser=organiser, actor=user.username)
    # What was stored, not what was asked: a repeated request returns the draw the order already has.
    audit.record(conn, user, "fund_draw.open", "fund_draw", str(draw.id), site_id=order.site_id,
                 detail={"work_order_id": draw.work_order_id, "item": draw.item, "contractor": draw.contractor,
                         "scope_type": draw.scope_type, "scope_id": draw.scope_id, "estimate": str(draw.estimate),
                         "fund_category": draw.fund_category, "state": draw.state})
    return draw


@router.post("/draws/{draw_id}/complete", response_model=Draw,
             summary="Report the repair done (publishes the disclosure)")
def complete(draw_id: int, body: CompletionIn, conn: Conn,
             user: Annotated[User, Depends(require(roles.HANDLERS))]) -> Draw:
    """Charges the cost the verified work order records, apportioned by area over the scope, and posts the
    public disclosure. 409 unless approved and the repair verified, or when a cost given disagrees with the
    order's or with the draw's completed cost."""
    draw = _draw_or_404(conn, user, draw_id)
    completed = draws.complete(conn, draw_id, actual_cost=body.actual_cost, actor=user.username)
    audit.record(conn, user, "fund_draw.complete", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"actual_cost": str(completed.actual_cost)})
    return completed


@router.get("/sites/{site_id}/settings", response_model=SiteSettingsOut, summary="An estate's fund settings")
def get_settings(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))]
                 ) -> SiteSettingsOut:
    """Whether it has an owners' committee, the committee's authorised amount, the rule set; 409 unconfigured."""
    check_site(user, site_id)
    return SiteSettingsOut.model_validate(estate.get_site_settings(conn, site_id))


@router.put("/sites/{site_id}/settings", response_model=SiteSettingsOut,
            summary="Record an estate's committee (or its absence) and the committee's authorised amount")
def put_settings(site_id: str, body: SiteSettingsIn, conn: Conn,
                 user: Annotated[User, Depends(require(roles.ADMINS))]) -> SiteSettingsOut:
    """Without a committee the sub-district office organises and approves draws (notice clause 16), and there is
    no authorised amount (422 if one is given). 404 for an unknown estate."""
    if registry.get_site(conn, site_id) is None:
        raise not_found("site", site_id)
    check_site(user, site_id)
    known = load_regions().rule_sets
    if body.rule_set is not None and body.rule_set not in known:
        raise ApiError(422, "invalid", f"unknown rule set {body.rule_set!r}; known: {', '.join(sorted(known))}")
    saved: SiteSettings = estate.configure_site(
        conn, site_id, has_committee=body.has_committee, committee_limit=body.committee_limit,
        rule_set=body.rule_set, area_basis=body.area_basis, actor=user.username)
    audit.record(conn, user, "fund_settings.update", "fund_site", site_id, site_id=site_id,
                 detail=body.model_dump(mode="json"))
    return SiteSettingsOut.model_validate(saved)


@router.get("/me", response_model=AccountOut, summary="The owner's own household account: balance and movements")
def my_account(conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))]) -> AccountOut:
    """Only the caller's household (clause 17: owners query in real time); 404 when it has no account."""
    if not user.household_id:
        raise ApiError(409, "conflict", "your account is not linked to a household")
    return AccountOut(household_id=user.household_id, balance=ledger.balance(conn, user.household_id),
                      history=ledger.history(conn, user.household_id))
