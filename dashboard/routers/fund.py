"""Maintenance-fund draws and approvals (``dispatch.fund``) and the owner's own balance."""

from __future__ import annotations

from datetime import datetime
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
from dispatch.fund import draws, ledger
from dispatch.fund.draws import ApproverRole, Draw, DrawState

router = APIRouter(prefix="/api/v1/fund", tags=["fund"])


class Decision(BaseModel):
    comment: str = Field("", max_length=2000)


class EmergencyDrawIn(BaseModel):
    """Apply for an emergency draw for a work order (notice clause 16; 165号令 art. 24)."""

    work_order_id: int = Field(ge=1)
    item: str = Field(min_length=1, max_length=500)
    contractor: str = Field(min_length=1, max_length=200)
    scope_type: Literal["site", "building", "unit"] = "building"
    scope_id: str = Field(min_length=1, max_length=128)
    estimate: Decimal = Field(gt=0, le=100_000_000, decimal_places=2)
    fund_category: str | None = Field(None, max_length=64)


class CompletionIn(BaseModel):
    actual_cost: Decimal = Field(gt=0, le=100_000_000, decimal_places=2)


class DrawOut(BaseModel):
    """A draw with its route, review deadline and decision."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    site_id: str
    kind: str
    work_order_id: int | None
    work_order_number: str | None
    vote_id: int | None
    item: str
    fund_category: str | None
    contractor: str
    scope_type: str
    scope_id: str
    estimate: Decimal
    actual_cost: Decimal | None
    variance_flagged: bool | None
    state: str
    route: str
    rule_set: str
    area_basis: str
    review_due_at: datetime | None
    deemed_approval: bool
    escalated_at: datetime | None
    opened_by: str
    opened_at: datetime
    decided_by: str | None
    decided_role: str | None
    decided_at: datetime | None
    decision_comment: str | None
    completed_by: str | None
    completed_at: datetime | None


class LedgerEntryOut(BaseModel):
    """One movement on a household's account (credits positive, debits negative)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    household_id: str
    kind: str
    amount: Decimal
    balance_after: Decimal
    draw_id: int | None
    memo: str
    actor: str
    created_at: datetime


class AccountOut(BaseModel):
    household_id: str
    balance: Decimal
    history: list[LedgerEntryOut]


def _out(draw: Draw) -> DrawOut:
    return DrawOut.model_validate(draw)


def _draw_or_404(conn: Conn, user: User, draw_id: int) -> Draw:
    draw = draws.get_draw(conn, draw_id)
    if draw is None:
        raise not_found("draw", draw_id)
    check_site(user, draw.site_id)
    return draw


@router.get("/draws", response_model=Page[DrawOut], summary="Fund draws in your scope")
def list_draws(conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))],
               page: Annotated[Pagination, Depends(pagination)],
               site_id: Annotated[str | None, Query(max_length=64)] = None,
               state: Annotated[DrawState | None, Query()] = None) -> Page[DrawOut]:
    """Newest first; filter by site and state."""
    found, total = draws.page_draws(conn, sites=scope_site(user, site_id), states=[state] if state else None,
                                    limit=page.limit, offset=page.offset)
    return Page[DrawOut](items=[_out(d) for d in found], total=total, limit=page.limit, offset=page.offset)


@router.get("/draws/{draw_id}", response_model=DrawOut, summary="One draw")
def get_draw(draw_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))]) -> DrawOut:
    """404 when unknown, 403 outside your sites."""
    return _out(_draw_or_404(conn, user, draw_id))


@router.post("/draws/{draw_id}/approve", response_model=DrawOut,
             summary="Approve a draw (owners' committee or sub-district office)")
def approve(draw_id: int, body: Decision, conn: Conn,
            user: Annotated[User, Depends(require(roles.APPROVERS))]) -> DrawOut:
    """403 unless you are the site's reviewer; 409 when the draw is not awaiting a decision."""
    draw = _draw_or_404(conn, user, draw_id)
    # require(APPROVERS) let only approver roles through
    decided = draws.approve(conn, draw_id, actor=user.username, role=cast(ApproverRole, user.role),
                            comment=body.comment)
    audit.record(conn, user, "fund_draw.approve", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"comment": body.comment})
    return _out(decided)


@router.post("/draws/{draw_id}/reject", response_model=DrawOut, summary="Reject a draw with a reason")
def reject(draw_id: int, body: Decision, conn: Conn,
           user: Annotated[User, Depends(require(roles.APPROVERS))]) -> DrawOut:
    """422 without a reason; otherwise as approving."""
    if not body.comment.strip():
        raise ApiError(422, "invalid", "a rejection needs a reason")
    draw = _draw_or_404(conn, user, draw_id)
    decided = draws.reject(conn, draw_id, actor=user.username, role=cast(ApproverRole, user.role),
                           comment=body.comment)
    audit.record(conn, user, "fund_draw.reject", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"comment": body.comment})
    return _out(decided)


@router.post("/draws", response_model=DrawOut, status_code=201,
             summary="Apply for an emergency draw for a work order")
def open_emergency(body: EmergencyDrawIn, conn: Conn,
                   user: Annotated[User, Depends(require(roles.HANDLERS))]) -> DrawOut:
    """The draw goes to the site's reviewer (committee, or the sub-district office where there is none);
    422 when the order's category is not on the site's emergency list."""
    order = workorders.get_work_order(conn, body.work_order_id)
    if order is None:
        raise not_found("work order", body.work_order_id)
    check_site(user, order.site_id)
    draw = draws.open_emergency_draw(
        conn, site_id=order.site_id, work_order_id=order.id, work_order_number=order.number, item=body.item,
        fund_category=body.fund_category or order.fund_category, contractor=body.contractor,
        scope_type=body.scope_type, scope_id=body.scope_id, estimate=body.estimate, actor=user.username)
    audit.record(conn, user, "fund_draw.open", "fund_draw", str(draw.id), site_id=order.site_id,
                 detail=body.model_dump(mode="json"))
    return _out(draw)


@router.post("/draws/{draw_id}/complete", response_model=DrawOut,
             summary="Report the repair done with its actual cost (publishes the disclosure)")
def complete(draw_id: int, body: CompletionIn, conn: Conn,
             user: Annotated[User, Depends(require(roles.HANDLERS))]) -> DrawOut:
    """Apportions the actual cost by area over the scope and posts the public disclosure; 409 unless approved."""
    draw = _draw_or_404(conn, user, draw_id)
    completed = draws.complete(conn, draw_id, actual_cost=body.actual_cost, actor=user.username)
    audit.record(conn, user, "fund_draw.complete", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"actual_cost": str(body.actual_cost)})
    return _out(completed)


@router.get("/me", response_model=AccountOut, summary="The owner's own household account: balance and movements")
def my_account(conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))]) -> AccountOut:
    """Only the caller's household (clause 17: owners query in real time); 404 when it has no account."""
    if not user.household_id:
        raise ApiError(409, "conflict", "your account is not linked to a household")
    return AccountOut(household_id=user.household_id, balance=ledger.balance(conn, user.household_id),
                      history=[LedgerEntryOut.model_validate(e) for e in ledger.history(conn, user.household_id)])
