"""Preventive maintenance plans over ``dispatch.preventive``: list, add, pause, move; the templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from dispatch import preventive
from dispatch.preventive import Plan

router = APIRouter(prefix="/api/v1/preventive-plans", tags=["preventive"])


class PlanIn(BaseModel):
    """A template for a device (or a building or the estate), first due at ``first_due``."""

    model_config = ConfigDict(extra="forbid")
    template: str = Field(min_length=1, max_length=64)
    site_id: str = Field(min_length=1, max_length=64)
    building_id: str | None = Field(None, max_length=64)
    device_id: str | None = Field(None, max_length=64)
    first_due: AwareDatetime


class PlanPatch(BaseModel):
    """Move the next due date or pause/resume; fields left out stay."""

    model_config = ConfigDict(extra="forbid")
    next_due_at: AwareDatetime | None = None
    active: bool | None = None


class TemplateOut(BaseModel):
    """A recurring task: cadence in seconds, how early its order opens, and the rule it comes from."""

    id: str
    category: str
    component: str
    interval_s: int
    lead_s: int
    title_zh: str
    title_en: str
    checklist_items: int
    source: str


def _plan_or_404(conn: Conn, plan_id: int, user: User) -> Plan:
    plan = preventive.get_plan(conn, plan_id)
    if plan is None:
        raise not_found("preventive plan", plan_id)
    check_site(user, plan.site_id)
    return plan


@router.get("/templates", response_model=list[TemplateOut], summary="Preventive templates and their sources")
def templates(user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> list[TemplateOut]:
    """TSG T5002 half-month elevator maintenance, GB 50974 weekly fire-pump test, …"""
    return [TemplateOut(id=t.id, category=t.category, component=t.component,
                        interval_s=int(t.interval.total_seconds()), lead_s=int(t.lead.total_seconds()),
                        title_zh=t.title_zh, title_en=t.title_en, checklist_items=t.checklist_items, source=t.source)
            for t in preventive.templates().values()]


@router.get("", response_model=Page[Plan], summary="List preventive plans, the soonest due first")
def list_plans(
    conn: Conn,
    user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
    page: Annotated[Pagination, Depends(pagination)],
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    template: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> Page[Plan]:
    found, total = preventive.page_plans(conn, sites=scope_site(user, site_id), template=template, active=active,
                                         device_id=device_id, limit=page.limit, offset=page.offset)
    return Page[Plan](items=found, total=total, limit=page.limit, offset=page.offset)


@router.get("/{plan_id}", response_model=Plan, summary="One preventive plan")
def get_plan(plan_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> Plan:
    return _plan_or_404(conn, plan_id, user)


@router.post("", response_model=Plan, status_code=201, summary="Schedule a template for a device or place")
def add_plan(body: PlanIn, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))]) -> Plan:
    """409 when the template is already planned there; 422 for an unknown template, or a building or device
    that is not the estate's."""
    check_site(user, body.site_id)
    plan = preventive.add_plan(conn, template=body.template, site_id=body.site_id, building_id=body.building_id,
                               device_id=body.device_id, first_due=body.first_due, actor=user.username)
    audit.record(conn, user, "preventive.add", "preventive_plan", str(plan.id), site_id=plan.site_id,
                 detail={"template": plan.template, "device_id": plan.device_id,
                         "first_due": plan.next_due_at.isoformat()})
    return plan


@router.patch("/{plan_id}", response_model=Plan, summary="Move or pause a preventive plan")
def change_plan(plan_id: int, body: PlanPatch, conn: Conn,
                user: Annotated[User, Depends(require(roles.HANDLERS))]) -> Plan:
    """A paused plan opens no orders; moving the due date moves when the next order opens."""
    plan = _plan_or_404(conn, plan_id, user)
    changed = preventive.update_plan(conn, plan_id, next_due_at=body.next_due_at, active=body.active)
    audit.record(conn, user, "preventive.change", "preventive_plan", str(plan_id), site_id=plan.site_id,
                 detail=body.model_dump(mode="json", exclude_unset=True))
    return changed
