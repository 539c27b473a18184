"""Work orders over ``dispatch.workorders``: list and search, the full detail, the control room's actions (assign,
hold, resume, cancel, false alarm, verify, close, reopen), transitions, costs recorded after the repair, crew
acceptance, notes, photos and their bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, images, roles
from dashboard.errors import ApiError, forbidden, not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.routers.complaints import HotlineTicketOut, ReportIn, file_report
from dashboard.routers.crew import CrewOut, crew_out
from dashboard.security import Conn, require, scope_site
from dashboard.users import User
from dispatch import complaints, crew, workorders
from dispatch.workorders import Costs, Location, OrderFilter, WorkOrder

router = APIRouter(prefix="/api/v1/work-orders", tags=["work-orders"])

State = Literal["NEW", "ACKED", "DISPATCHED", "EN_ROUTE", "ON_SITE", "IN_PROGRESS", "ON_HOLD", "RESOLVED",
                "VERIFIED", "CLOSED", "CANCELLED", "FALSE_ALARM"]
Origin = Literal["alarm", "owner_report", "hotline_12345", "preventive"]
CREW_STATES = frozenset({"EN_ROUTE", "ON_SITE", "IN_PROGRESS", "ON_HOLD", "RESOLVED"})
MAX_PHOTO_BYTES = 8 * 1024 * 1024


class WorkOrderOut(BaseModel):
    """A work order as listings show it: never the complainant's contact details. ``title`` is zh-CN (or a
    person's words as written), ``title_en`` English where the system wrote the title, else ``null``."""

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
    title_en: str | None = Field(None, description="the English title; null where a person wrote the title")
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
    offered_to: str | None
    description: str | None
    address: str | None
    building_unit: str | None
    floor: str | None


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


class ReporterOut(BaseModel):
    """Who to call back: shown to the control room and the crew member the order is assigned to."""

    contact: str | None


class WorkOrderDetail(WorkOrderOut):
    """The order with its place, reporter (when the caller may see it), costs, photos, 12345 ticket and its
    full timeline (``events``, oldest first)."""

    location: Location
    reporter: ReporterOut | None
    costs: Costs
    photos: list[PhotoOut]
    hotline: HotlineTicketOut | None
    fund_draw_open: bool = Field(description="a fund draw on the order is pending or approved: it completes at the "
                                             "order's cost, so resolving needs a cost above zero")
    events: list[WorkOrderEventOut]


class ActionIn(BaseModel):
    """Why: required to hold, cancel, declare a false alarm and reopen (422 without)."""

    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000)


class AssignIn(BaseModel):
    """Who takes the order; a reason is required when it replaces someone."""

    model_config = ConfigDict(extra="forbid")
    crew_member_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(None, max_length=2000)


class CandidateOut(BaseModel):
    """A crew member the order could be offered to now, with the open orders already on them."""

    member: CrewOut
    open_orders: int


class PartIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    quantity: Decimal = Field(Decimal(1), gt=0, le=10_000)
    unit_cost: Decimal | None = Field(None, ge=0, le=10_000_000, decimal_places=2)


class CostsIn(BaseModel):
    """Labour and parts recorded after the repair, and what they are for (required)."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(max_length=4000)
    cost: Decimal | None = Field(None, ge=0, le=100_000_000, decimal_places=2)
    parts: list[PartIn] | None = Field(None, max_length=100)


class TransitionIn(BaseModel):
    to_state: State
    note: str | None = Field(None, max_length=4000)
    cost: Decimal | None = Field(None, ge=0, le=100_000_000, decimal_places=2)
    parts: list[PartIn] | None = Field(None, max_length=100)


def _out(order: WorkOrder) -> WorkOrderOut:
    return WorkOrderOut.model_validate(order)


def visible(user: User, order: WorkOrder) -> bool:
    """Crew see their unit's orders and the ones assigned to them; everyone else sees the orders of their sites."""
    if not user.sees_site(order.site_id):
        return False
    if user.role in roles.CREW:
        return order.assignee_id == user.crew_member_id or (
            user.unit_id is not None and order.unit_id == user.unit_id)
    return True


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


@router.get("", response_model=Page[WorkOrderOut], summary="List and search work orders in your scope")
def list_orders(
    conn: Conn,
    user: Annotated[User, Depends(require(roles.ORDER_READERS))],
    page: Annotated[Pagination, Depends(pagination)],
    state: Annotated[list[State] | None, Query(description="repeat for several states")] = None,
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee_id: Annotated[str | None, Query(max_length=64)] = None,
    origin: Annotated[list[Origin] | None, Query(description="repeat for several origins")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    severity: Annotated[Literal["P0", "P1", "P2", "P3"] | None, Query()] = None,
    building_id: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    created_since: datetime | None = None,
    created_until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="number, title, description or address")] = None,
) -> Page[WorkOrderOut]:
    """Newest first; every filter narrows, ``q`` searches number, title, description and address (also as
    normalised for repeats). ``total`` counts every match. Crew get their own unit's orders."""
    sites = scope_site(user, site_id)
    if user.role in roles.CREW:
        unit_id, assignee_id = _crew_filter(user, unit_id, assignee_id)
    where = OrderFilter(states=state, unit_id=unit_id, assignee_id=assignee_id, origins=origin, category=category,
                        severity=severity, building_id=building_id, device_id=device_id,
                        created_since=created_since, created_until=created_until, search=q)
    found, total = workorders.page_work_orders(conn, sites=sites, where=where, limit=page.limit, offset=page.offset)
    return Page[WorkOrderOut](items=[_out(o) for o in found], total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=WorkOrderOut, status_code=201,
             summary="Open a work order from an owner's report or a 12345 hotline ticket")
def open_from_report(body: ReportIn, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))]
                     ) -> WorkOrderOut:
    """The control room's intake, the same as ``POST /api/v1/complaints``: a 12345 ticket needs its ``hotline``
    block (number and deadlines). Repeats at the same address within the window are linked (``repeat_of``). The
    reporter's contact is stored for the call-back but never returned by listings or written to the audit trail."""
    return _out(file_report(conn, user, body).order)


@router.get("/{order_id}", response_model=WorkOrderDetail, summary="One work order with everything about it")
def get_order(order_id: int, conn: Conn,
              user: Annotated[User, Depends(require(roles.ORDER_READERS))]) -> WorkOrderDetail:
    """Description, location (estate, building, unit, floor, device), photos, parts and costs, the 12345 ticket
    and the full timeline. ``reporter`` (the complainant's contact) only for the control room and the assigned
    crew member; ``null`` for everyone else. 404 unknown, 403 outside scope."""
    order = _order_or_404(conn, order_id, user)
    detail = workorders.order_detail(conn, order_id)
    may_call = user.role in roles.HANDLERS or (user.role in roles.CREW and order.assignee_id is not None
                                               and order.assignee_id == user.crew_member_id)
    ticket = complaints.get_complaint(conn, order_id).hotline if order.origin == complaints.HOTLINE else None
    return WorkOrderDetail(
        **_out(detail.order).model_dump(), location=detail.location,
        reporter=ReporterOut(contact=detail.order.reporter_contact) if may_call else None,
        costs=detail.costs, photos=[PhotoOut.model_validate(p) for p in detail.photos],
        hotline=HotlineTicketOut.of(ticket) if ticket else None,
        fund_draw_open=workorders.open_draw(conn, order_id) is not None,
        events=[WorkOrderEventOut.model_validate(e) for e in detail.timeline])


@router.get("/{order_id}/candidates", response_model=list[CandidateOut],
            summary="Who the order could be offered to now, best first")
def candidates(order_id: int, conn: Conn,
               user: Annotated[User, Depends(require(roles.HANDLERS))]) -> list[CandidateOut]:
    """Members of the responsible unit with the order's skill, on shift, covering its estate, least open work
    first: the ranking automatic offers follow (unit → skill → shift → site → load)."""
    order = _order_or_404(conn, order_id, user)
    now = datetime.now(UTC)
    skill = workorders.routing(conn, order_id).skill
    ranked = crew.candidates(conn, unit_id=order.unit_id, skill=skill, site_id=order.site_id, at=now)
    return [CandidateOut(member=crew_out(conn, c.member, now), open_orders=c.open_orders) for c in ranked]


@router.post("/{order_id}/assign", response_model=WorkOrderOut, summary="Assign or reassign a crew member")
def assign(order_id: int, body: AssignIn, conn: Conn,
           user: Annotated[User, Depends(require(roles.HANDLERS))]) -> WorkOrderOut:
    """A NEW or ACKED order becomes DISPATCHED; an order that already has someone keeps its state and needs a
    ``reason``. 422 when the member cannot take it (inactive, other unit, no skill, not at this estate) or a
    reason is missing; 409 for an order no longer open."""
    order = _order_or_404(conn, order_id, user)
    moved = workorders.assign(conn, order_id, body.crew_member_id, actor=user.username, reason=body.reason)
    audit.record(conn, user, "work_order.assign", "work_order", str(order_id), site_id=order.site_id,
                 detail={"from": order.assignee_id, "to": body.crew_member_id, "reason": body.reason})
    return _out(moved)


def _act(conn: Conn, user: User, order_id: int, action: str, to_state: str, reason: str | None,
         from_states: tuple[str, ...] = ()) -> WorkOrderOut:
    order = _order_or_404(conn, order_id, user)
    if from_states and order.state not in from_states:
        raise ApiError(409, "conflict", f"{order.number} is {order.state}; {action} applies to "
                                        f"{' or '.join(from_states)} orders")
    moved = workorders.transition(conn, order_id, to_state, actor=user.username, note=reason)
    audit.record(conn, user, f"work_order.{action}", "work_order", str(order_id), site_id=order.site_id,
                 detail={"from": order.state, "to": to_state, "reason": reason})
    return _out(moved)


Handler = Annotated[User, Depends(require(roles.HANDLERS))]


@router.post("/{order_id}/ack", response_model=WorkOrderOut, summary="Acknowledge a new order")
def ack_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """NEW → ACKED; 409 from any other state."""
    return _act(conn, user, order_id, "ack", "ACKED", body.reason)


@router.post("/{order_id}/hold", response_model=WorkOrderOut, summary="Put an order in progress on hold")
def hold_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """IN_PROGRESS → ON_HOLD (waiting for parts, approval, access); the reason is required."""
    return _act(conn, user, order_id, "hold", "ON_HOLD", body.reason)


@router.post("/{order_id}/resume", response_model=WorkOrderOut, summary="Resume an order on hold")
def resume_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """ON_HOLD → IN_PROGRESS; 409 from any other state."""
    return _act(conn, user, order_id, "resume", "IN_PROGRESS", body.reason, ("ON_HOLD",))


@router.post("/{order_id}/cancel", response_model=WorkOrderOut, summary="Cancel an open order")
def cancel_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """Any open state → CANCELLED (duplicate, withdrawn, not ours); the reason is required."""
    return _act(conn, user, order_id, "cancel", "CANCELLED", body.reason)


@router.post("/{order_id}/false-alarm", response_model=WorkOrderOut, summary="Declare a false alarm")
def false_alarm_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """Up to ON_SITE → FALSE_ALARM (government code 05); the reason is required."""
    return _act(conn, user, order_id, "false_alarm", "FALSE_ALARM", body.reason)


@router.post("/{order_id}/verify", response_model=WorkOrderOut, summary="Verify a resolved order")
def verify_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """RESOLVED → VERIFIED: the control room checked the repair."""
    return _act(conn, user, order_id, "verify", "VERIFIED", body.reason)


@router.post("/{order_id}/close", response_model=WorkOrderOut, summary="Close a resolved or verified order")
def close_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """RESOLVED or VERIFIED → CLOSED."""
    return _act(conn, user, order_id, "close", "CLOSED", body.reason)


@router.post("/{order_id}/reopen", response_model=WorkOrderOut, summary="Reopen a resolved order")
def reopen_order(order_id: int, body: ActionIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """RESOLVED → IN_PROGRESS (the fault came back, the repair did not hold); the reason is required."""
    return _act(conn, user, order_id, "reopen", "IN_PROGRESS", body.reason, ("RESOLVED",))


@router.post("/{order_id}/transition", response_model=WorkOrderOut, summary="Move a work order to another state")
def transition(order_id: int, body: TransitionIn, conn: Conn,
               user: Annotated[User, Depends(require(roles.FIELD))]) -> WorkOrderOut:
    """Operators drive any allowed transition; crew only field states on orders assigned to them.
    409 when the state machine forbids the move. Resolving needs a ``note`` of what was done (422
    ``NoteRequired``) and, while the order's fund draw is pending or approved, a cost above zero (labour and
    parts; 422 ``CostRequired``): the draw completes at the order's cost."""
    order = _order_or_404(conn, order_id, user)
    if user.role in roles.CREW:
        if order.assignee_id != user.crew_member_id:
            raise forbidden("accept the order before working on it")
        if body.to_state not in CREW_STATES:
            raise forbidden(f"crew may not move an order to {body.to_state}")
    parts = [p.model_dump(mode="json") for p in body.parts] if body.parts is not None else None
    if body.to_state == "RESOLVED":
        workorders.check_resolution(conn, order, note=body.note, cost=body.cost, parts=parts)
    moved = workorders.transition(conn, order_id, body.to_state, actor=user.username, note=body.note,
                                  cost=body.cost, parts=parts)
    audit.record(conn, user, "work_order.transition", "work_order", str(order_id), site_id=order.site_id,
                 detail={"from": order.state, "to": body.to_state, "note": body.note,
                         "cost": str(body.cost) if body.cost is not None else None, "parts": parts})
    return _out(moved)


@router.post("/{order_id}/costs", response_model=WorkOrderOut,
             summary="Record labour and parts on a resolved, verified or closed order")
def record_costs(order_id: int, body: CostsIn, conn: Conn, user: Handler) -> WorkOrderOut:
    """For a repair resolved without its cost (its fund draw completes at the order's cost): adds a ``cost``
    event to the timeline, audited. 422 without a note (``NoteRequired``) or with nothing above ¥0.00; 409 while
    the order is still worked or when it ended without a repair."""
    order = _order_or_404(conn, order_id, user)
    parts = [p.model_dump(mode="json") for p in body.parts] if body.parts is not None else None
    moved = workorders.record_costs(conn, order_id, actor=user.username, note=body.note, cost=body.cost,
                                    parts=parts)
    audit.record(conn, user, "work_order.costs", "work_order", str(order_id), site_id=order.site_id,
                 detail={"state": order.state, "note": body.note,
                         "cost": str(body.cost) if body.cost is not None else None, "parts": parts,
                         "cost_total": str(moved.cost_total)})
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
    verified = images.read_photo(photo, max_bytes=MAX_PHOTO_BYTES)
    stored = workorders.attach_photo(conn, order_id, data=verified.data, content_type=verified.content_type,
                                     actor=user.username, uploads_dir=request.app.state.uploads_dir)
    audit.record(conn, user, "work_order.photo", "work_order", str(order_id), site_id=order.site_id,
                 detail={"bytes": len(verified.data), "content_type": verified.content_type})
    return PhotoAdded(work_order_id=order_id, photo=PhotoOut.model_validate(stored))


@router.get("/{order_id}/photos/{photo_id}", response_class=FileResponse,
            summary="A photo of the order, its bytes as uploaded")
def photo_file(order_id: int, photo_id: int, request: Request, conn: Conn,
               user: Annotated[User, Depends(require(roles.ORDER_READERS))]) -> FileResponse:
    """Whoever may read the order sees its photos (the detail lists their ids). 404 for a photo of another
    order; 403 outside scope. Private caching: a stored photo never changes (its name is its hash)."""
    _order_or_404(conn, order_id, user)
    photo = next((p for p in workorders.list_photos(conn, order_id) if p.id == photo_id), None)
    stored = request.app.state.uploads_dir / photo.path if photo else None
    if stored is None or not stored.is_file():
        raise not_found("photo", photo_id)
    return FileResponse(stored, media_type=photo.content_type,
                        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})
