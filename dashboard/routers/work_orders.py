"""Work orders over ``dispatch.workorders``: list, show, transitions, crew acceptance, notes and photos."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import ApiError, forbidden, not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from dispatch import workorders
from dispatch.workorders import WorkOrder

router = APIRouter(prefix="/api/v1/work-orders", tags=["work-orders"])

State = Literal["NEW", "ACKED", "DISPATCHED", "EN_ROUTE", "ON_SITE", "IN_PROGRESS", "ON_HOLD", "RESOLVED",
                "VERIFIED", "CLOSED", "CANCELLED", "FALSE_ALARM"]
CREW_STATES = frozenset({"EN_ROUTE", "ON_SITE", "IN_PROGRESS", "ON_HOLD", "RESOLVED"})
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MAX_PHOTO_BYTES = 8 * 1024 * 1024


class WorkOrderOut(BaseModel):
    """A work order as listings show it: never the complainant's contact details."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    site_id: str
    building_id: str | None
    device_id: str | None
    category: str
    severity: str
    origin: str
    state: str
    title: str
    unit_id: str
    assignee_id: str | None
    created_at: datetime
    due: dict[str, datetime]
    escalation_level: int
    emergency: bool
    fund_category: str | None
    alarm_id: int | None
    repeat_of: int | None
    gov_code: str
    cost_total: Decimal
    acked_at: datetime | None
    dispatched_at: datetime | None
    en_route_at: datetime | None
    on_site_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


class WorkOrderEventOut(BaseModel):
    """One entry of an order's history."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    note: str | None
    labour_cost: Decimal | None
    parts: list[dict[str, Any]]
    parts_cost: Decimal
    photo_ids: list[int]
    data: dict[str, Any]


class PhotoOut(BaseModel):
    """A stored photo; ``path`` is relative to the uploads directory."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    path: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class PhotoAdded(BaseModel):
    work_order_id: int
    photo: PhotoOut


class WorkOrderDetail(WorkOrderOut):
    events: list[WorkOrderEventOut]


class PartIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    quantity: Decimal = Field(Decimal(1), gt=0, le=10_000)
    unit_cost: Decimal | None = Field(None, ge=0, le=10_000_000, decimal_places=2)


class ReportIn(BaseModel):
    """An owner's report or a 12345 hotline ticket taken by the control room."""

    site_id: str = Field(min_length=1, max_length=64)
    building_id: str | None = Field(None, max_length=64)
    origin: Literal["owner_report", "hotline_12345"]
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    address: str = Field(min_length=1, max_length=500)
    reporter_contact: str = Field("", max_length=200)


class TransitionIn(BaseModel):
    to_state: State
    note: str | None = Field(None, max_length=4000)
    cost: Decimal | None = Field(None, ge=0, le=100_000_000, decimal_places=2)
    parts: list[PartIn] | None = Field(None, max_length=100)


def _out(order: WorkOrder) -> WorkOrderOut:
    return WorkOrderOut.model_validate(order)


def visible(user: User, order: WorkOrder) -> bool:
    """Crew see their unit's orders and the ones assigned to them; everyone else sees the orders of their sites."""
    if user.role in roles.CREW:
        return order.assignee_id == user.crew_member_id or (
            user.unit_id is not None and order.unit_id == user.unit_id)
    return user.sees_site(order.site_id)


def _order_or_404(conn: Conn, order_id: int, user: User) -> WorkOrder:
    order = workorders.get_work_order(conn, order_id)
    if order is None:
        raise not_found("work order", order_id)
    if not visible(user, order):
        raise forbidden("this work order is outside your scope")
    return order


def _crew_filter(user: User, unit_id: str | None, assignee_id: str | None) -> tuple[str | None, str | None]:
    """The (unit, assignee) a crew member's listing is narrowed to: their unit, or without one, themselves."""
    if unit_id is not None and unit_id != user.unit_id:
        raise forbidden("crew see their own unit's orders")
    if user.unit_id is not None:
        return user.unit_id, assignee_id
    if user.crew_member_id is None or assignee_id not in (None, user.crew_member_id):
        raise forbidden("crew without a unit see the orders assigned to them")
    return None, user.crew_member_id


@router.get("", response_model=Page[WorkOrderOut], summary="List work orders in your scope")
def list_orders(
    conn: Conn,
    user: Annotated[User, Depends(require(roles.ORDER_READERS))],
    page: Annotated[Pagination, Depends(pagination)],
    state: Annotated[list[State] | None, Query(description="repeat for several states")] = None,
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[WorkOrderOut]:
    """Newest first, filtered by state, site, responsible unit and assignee. Crew get their own unit's orders."""
    if user.role in roles.CREW:
        sites = None if site_id is None else [site_id]
        unit_id, assignee_id = _crew_filter(user, unit_id, assignee_id)
    else:
        sites = scope_site(user, site_id)
    found, total = workorders.page_work_orders(conn, sites=sites, states=state, unit_id=unit_id,
                                               assignee_id=assignee_id, limit=page.limit, offset=page.offset)
    return Page[WorkOrderOut](items=[_out(o) for o in found], total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=WorkOrderOut, status_code=201,
             summary="Open a work order from an owner's report or a 12345 hotline ticket")
def open_from_report(body: ReportIn, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))]
                     ) -> WorkOrderOut:
    """Repeats at the same address within the window are linked (``repeat_of``). The reporter's contact is
    stored for the crew's call-back but never returned by listings or written to the audit trail."""
    check_site(user, body.site_id)
    order = workorders.open_from_report(
        conn, site_id=body.site_id, building_id=body.building_id, origin=body.origin, category=body.category,
        description=body.description, address=body.address, reporter_contact=body.reporter_contact,
        actor=user.username)
    audit.record(conn, user, "work_order.open", "work_order", str(order.id), site_id=body.site_id,
                 detail={"origin": body.origin, "category": body.category})
    return _out(order)


@router.get("/{order_id}", response_model=WorkOrderDetail, summary="One work order with its event history")
def get_order(order_id: int, conn: Conn,
              user: Annotated[User, Depends(require(roles.ORDER_READERS))]) -> WorkOrderDetail:
    """404 unknown, 403 outside scope."""
    order = _order_or_404(conn, order_id, user)
    events = [WorkOrderEventOut.model_validate(e) for e in workorders.events(conn, order_id)]
    return WorkOrderDetail(**_out(order).model_dump(), events=events)


@router.post("/{order_id}/transition", response_model=WorkOrderOut, summary="Move a work order to another state")
def transition(order_id: int, body: TransitionIn, conn: Conn,
               user: Annotated[User, Depends(require(roles.FIELD))]) -> WorkOrderOut:
    """Operators drive any allowed transition; crew only field states on orders assigned to them.
    409 when the state machine forbids the move."""
    order = _order_or_404(conn, order_id, user)
    if user.role in roles.CREW:
        if order.assignee_id != user.crew_member_id:
            raise forbidden("accept the order before working on it")
        if body.to_state not in CREW_STATES:
            raise forbidden(f"crew may not move an order to {body.to_state}")
    parts = [p.model_dump(mode="json") for p in body.parts] if body.parts is not None else None
    moved = workorders.transition(conn, order_id, body.to_state, actor=user.username, note=body.note,
                                  cost=body.cost, parts=parts)
    audit.record(conn, user, "work_order.transition", "work_order", str(order_id), site_id=order.site_id,
                 detail={"from": order.state, "to": body.to_state, "note": body.note,
                         "cost": str(body.cost) if body.cost is not None else None, "parts": parts})
    return _out(moved)


@router.post("/{order_id}/accept", response_model=WorkOrderOut, summary="A crew member takes the order")
def accept(order_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.CREW))]) -> WorkOrderOut:
    """The caller becomes the assignee. 409 when someone else already took it."""
    order = _order_or_404(conn, order_id, user)
    if not user.crew_member_id:
        raise ApiError(409, "conflict", "your account is not linked to a crew member")
    accepted = workorders.accept(conn, order_id, user.crew_member_id)
    audit.record(conn, user, "work_order.accept", "work_order", str(order_id), site_id=order.site_id,
                 detail={"crew_member_id": user.crew_member_id})
    return _out(accepted)


@router.post("/{order_id}/photos", response_model=PhotoAdded, status_code=201,
             summary="Attach a photo (JPEG, PNG or WebP, ≤ 8 MiB)")
def add_photo(order_id: int, photo: UploadFile, request: Request, conn: Conn,
              user: Annotated[User, Depends(require(roles.FIELD))]) -> PhotoAdded:
    """Stored under the uploads directory by dispatch; 415 for other types, 413 when too large."""
    order = _order_or_404(conn, order_id, user)
    if user.role in roles.CREW and order.assignee_id != user.crew_member_id:
        raise forbidden("accept the order before adding photos")
    if photo.content_type not in PHOTO_TYPES:
        raise ApiError(415, "unsupported_media_type", "photos must be JPEG, PNG or WebP")
    data = photo.file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(413, "too_large", "photo larger than 8 MiB")
    stored = workorders.attach_photo(conn, order_id, data=data, content_type=photo.content_type,
                                     actor=user.username, uploads_dir=request.app.state.uploads_dir)
    audit.record(conn, user, "work_order.photo", "work_order", str(order_id), site_id=order.site_id,
                 detail={"bytes": len(data), "content_type": photo.content_type})
    return PhotoAdded(work_order_id=order_id, photo=PhotoOut.model_validate(stored))
