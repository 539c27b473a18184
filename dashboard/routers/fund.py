"""Maintenance-fund draws and approvals (``dispatch.fund``) and the owner's own balance."""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from dashboard import audit
from dashboard.errors import ApiError, not_found
from dashboard.routers.common import Comment, Page, Pagination, dependency, domain_error, pagination, plain
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User

router = APIRouter(prefix="/api/v1/fund", tags=["fund"])
READERS = ("admin", "operator", "committee", "subdistrict")
APPROVERS = ("committee", "subdistrict")


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


def _call(func: Any, conn: Any, **kwargs: Any) -> Any:
    """Call ``func`` with only the keyword arguments it accepts (tolerates small signature differences)."""
    params = inspect.signature(func).parameters
    accepted = {k: v for k, v in kwargs.items() if k in params}
    return func(conn, **accepted)


def _draw_or_404(conn: Conn, user: User, draw_id: int) -> Any:
    draws = dependency("dispatch.fund.draws")
    draw = draws.get_draw(conn, draw_id)
    if draw is None:
        raise not_found("draw", draw_id)
    check_site(user, getattr(draw, "site_id", None))
    return draw


@router.get("/draws", summary="Fund draws in your scope")
def list_draws(conn: Conn, user: Annotated[User, Depends(require(*READERS))],
               page: Annotated[Pagination, Depends(pagination)],
               site_id: Annotated[str | None, Query(max_length=64)] = None,
               state: Annotated[Literal["pending", "approved", "rejected", "completed"] | None, Query()] = None
               ) -> Page[dict[str, Any]]:
    """Newest first; filter by site and state."""
    draws = dependency("dispatch.fund.draws")
    sites = scope_site(user, site_id)
    found: list[Any] = []
    for site in [None] if sites is None else sites:
        found += _call(draws.list_draws, conn, site_id=site, states=[state] if state else None)
    found = [d for d in found if state is None or str(plain(getattr(d, "state", None))) == state]
    chunk = found[page.offset: page.offset + page.limit]
    return Page[dict[str, Any]](items=[plain(d) for d in chunk], total=len(found), limit=page.limit,
                                offset=page.offset)


@router.get("/draws/{draw_id}", summary="One draw with its apportionment")
def get_draw(draw_id: int, conn: Conn, user: Annotated[User, Depends(require(*READERS))]) -> dict[str, Any]:
    return plain(_draw_or_404(conn, user, draw_id))


def _decide(verb: str, draw_id: int, body: Decision, conn: Conn, user: User) -> dict[str, Any]:
    draws = dependency("dispatch.fund.draws")
    draw = _draw_or_404(conn, user, draw_id)
    try:
        result = getattr(draws, verb)(conn, draw_id, actor=user.username, role=user.role, comment=body.comment)
    except Exception as exc:
        if isinstance(exc, ValueError | LookupError | RuntimeError) or type(exc).__module__.startswith("dispatch"):
            raise domain_error(exc) from exc
        raise
    audit.record(conn, user, f"fund_draw.{verb}", "fund_draw", str(draw_id),
                 site_id=getattr(draw, "site_id", None), detail={"comment": body.comment})
    return plain(result if result is not None else draws.get_draw(conn, draw_id))


@router.post("/draws/{draw_id}/approve", summary="Approve a draw (owners' committee or sub-district office)")
def approve(draw_id: int, body: Decision, conn: Conn,
            user: Annotated[User, Depends(require(*APPROVERS))]) -> dict[str, Any]:
    """409 when the draw is not awaiting this approval."""
    return _decide("approve", draw_id, body, conn, user)


@router.post("/draws/{draw_id}/reject", summary="Reject a draw with a reason")
def reject(draw_id: int, body: Decision, conn: Conn,
           user: Annotated[User, Depends(require(*APPROVERS))]) -> dict[str, Any]:
    if not body.comment.strip():
        raise ApiError(422, "invalid", "a rejection needs a reason")
    return _decide("reject", draw_id, body, conn, user)


@router.post("/draws", status_code=201, summary="Apply for an emergency draw for a work order")
def open_emergency(body: EmergencyDrawIn, conn: Conn,
                   user: Annotated[User, Depends(require("admin", "operator"))]) -> dict[str, Any]:
    """The draw goes to the site's reviewer (committee, or the sub-district office where there is none)."""
    wo = dependency("dispatch.workorders")
    draws = dependency("dispatch.fund.draws")
    order = wo.get_work_order(conn, body.work_order_id)
    if order is None:
        raise not_found("work order", body.work_order_id)
    check_site(user, order.site_id)
    try:
        draw = draws.open_emergency_draw(
            conn, site_id=order.site_id, work_order_id=order.id, work_order_number=order.number, item=body.item,
            fund_category=body.fund_category or order.fund_category, contractor=body.contractor,
            scope_type=body.scope_type, scope_id=body.scope_id, estimate=body.estimate, actor=user.username)
    except (ValueError, LookupError, RuntimeError) as exc:
        raise domain_error(exc) from exc
    except Exception as exc:
        if type(exc).__module__.startswith("dispatch"):
            raise domain_error(exc) from exc
        raise
    audit.record(conn, user, "fund_draw.open", "fund_draw", str(draw.id), site_id=order.site_id,
                 detail=body.model_dump(mode="json"))
    return plain(draw)


@router.post("/draws/{draw_id}/complete", summary="Report the repair done with its actual cost (publishes the "
             "disclosure)")
def complete(draw_id: int, body: CompletionIn, conn: Conn,
             user: Annotated[User, Depends(require("admin", "operator"))]) -> dict[str, Any]:
    """Apportions the actual cost by area over the scope and posts the public disclosure."""
    draws = dependency("dispatch.fund.draws")
    draw = _draw_or_404(conn, user, draw_id)
    try:
        result = draws.complete(conn, draw_id, actual_cost=body.actual_cost, actor=user.username)
    except Exception as exc:
        if isinstance(exc, ValueError | LookupError | RuntimeError) or type(exc).__module__.startswith("dispatch"):
            raise domain_error(exc) from exc
        raise
    audit.record(conn, user, "fund_draw.complete", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"actual_cost": str(body.actual_cost)})
    return plain(result)


@router.get("/me", summary="The owner's own household account: balance and movements")
def my_account(conn: Conn, user: Annotated[User, Depends(require("owner"))]) -> dict[str, Any]:
    """Only the caller's household (clause 17: owners query in real time)."""
    if not user.household_id:
        raise ApiError(409, "conflict", "your account is not linked to a household")
    ledger = dependency("dispatch.fund.ledger")
    return {"household_id": user.household_id,
            "balance": plain(_call(ledger.balance, conn, household_id=user.household_id)),
            "history": plain(_call(ledger.history, conn, household_id=user.household_id))}


__all__ = ["Comment", "router"]
