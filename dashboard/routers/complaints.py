"""Complaints over ``dispatch.complaints``: owners' own reports, 12345 tickets and what is owed back to 12345."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import forbidden
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from dispatch import complaints
from dispatch.complaints import Complaint, HotlineTicket, HotlineTicketIn
from dispatch.responsibility import responsible_unit
from dispatch.workorders import OrderFilter, WorkOrder
from rules.categories import categories

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])

Record = Literal["contact", "reply", "closure"]
Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]


class HotlineIn(BaseModel):
    """The 12345 ticket as the hotline forwards it: its number, when it arrived, its deadlines."""

    model_config = ConfigDict(extra="forbid")
    ticket_no: str = Field(min_length=1, max_length=64)
    received_at: AwareDatetime
    reply_due: AwareDatetime
    contact_due: AwareDatetime | None = None


class ReportIn(BaseModel):
    """A complaint: an owner's report or a 12345 ticket (which carries ``hotline``)."""

    model_config = ConfigDict(extra="forbid")
    site_id: str = Field(min_length=1, max_length=64)
    building_id: str | None = Field(None, max_length=64)
    building_unit: str | None = Field(None, max_length=32, description="单元, e.g. 2单元")
    floor: str | None = Field(None, max_length=16, description="e.g. 12, B1")
    origin: Literal["owner_report", "hotline_12345"] = "owner_report"
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    address: str = Field(min_length=1, max_length=500)
    reporter_contact: str = Field("", max_length=200)
    hotline: HotlineIn | None = None


class HotlineTicketOut(BaseModel):
    """A 12345 ticket: deadlines, what was sent back when, what is still owed or late, the satisfaction.

    Restates ``dispatch.complaints.HotlineTicket`` without ``order_id`` (the enclosing order gives it) and with
    the computed ``owed`` and ``overdue``."""

    ticket_no: str
    received_at: datetime
    contact_due: datetime | None
    reply_due: datetime
    contacted_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    satisfaction: str | None
    satisfaction_at: datetime | None
    owed: list[str]
    overdue: list[str]

    @classmethod
    def of(cls, ticket: HotlineTicket, now: datetime | None = None) -> HotlineTicketOut:
        """The API form of ``ticket``, overdue as of ``now``."""
        fields = {k: v for k, v in vars(ticket).items() if k != "order_id"}
        return cls(**fields, owed=ticket.owed(), overdue=ticket.overdue(now or datetime.now(UTC)))


class ComplaintOut(BaseModel):
    """A complaint as its filer and the control room follow it (never the reporter's contact)."""

    id: int
    number: str
    site_id: str
    building_id: str | None
    building_unit: str | None
    floor: str | None
    origin: str
    category: str
    severity: str
    state: str
    title: str
    title_en: str | None = None
    description: str | None
    address: str | None
    unit_id: str
    repeat_of: int | None
    created_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    hotline: HotlineTicketOut | None


class CategoryOut(BaseModel):
    """A category that can be reported, and the unit the current list makes responsible for it site-wide."""

    id: str
    zh: str
    en: str
    severity: str
    unit_id: str | None


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class SatisfactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: Rating
    note: str | None = Field(None, max_length=2000)


def complaint_out(found: Complaint) -> ComplaintOut:
    """The API form of a complaint."""
    order: WorkOrder = found.order
    return ComplaintOut(
        id=order.id, number=order.number, site_id=order.site_id, building_id=order.building_id,
        building_unit=order.building_unit, floor=order.floor, origin=order.origin, category=order.category,
        severity=order.severity, state=order.state, title=order.title, title_en=order.title_en,
        description=order.description,
        address=order.address, unit_id=order.unit_id, repeat_of=order.repeat_of, created_at=order.created_at,
        resolved_at=order.resolved_at, closed_at=order.closed_at,
        hotline=HotlineTicketOut.of(found.hotline) if found.hotline else None,
    )


def file_report(conn: Conn, user: User, body: ReportIn) -> Complaint:
    """File ``body`` for ``user``: owners only an owner report for their own estate, recorded as theirs. A
    call-back number must be a mainland mobile or a landline with its area code (422 ``InvalidPhone``)."""
    check_site(user, body.site_id)
    owner = user.role in roles.OWNERS
    if owner and body.origin != complaints.OWNER_REPORT:
        raise forbidden("owners file their own reports; 12345 tickets come through the control room")
    hotline = HotlineTicketIn(**body.hotline.model_dump()) if body.hotline else None
    filed = complaints.file_complaint(
        conn, site_id=body.site_id, origin=body.origin, category=body.category, description=body.description,
        address=body.address, reporter_contact=complaints.check_callback_phone(body.reporter_contact),
        building_id=body.building_id,
        building_unit=body.building_unit, floor=body.floor, reporter_user=user.username if owner else None,
        hotline=hotline, actor=user.username)
    audit.record(conn, user, "work_order.open", "work_order", str(filed.order.id), site_id=body.site_id,
                 detail={"origin": body.origin, "category": body.category,
                         "ticket_no": body.hotline.ticket_no if body.hotline else None})
    return filed


def _complaint_or_404(conn: Conn, order_id: int, user: User) -> Complaint:
    found = complaints.get_complaint(conn, order_id)
    if not user.sees_site(found.order.site_id):
        raise forbidden("this complaint is outside your scope")
    if user.role in roles.OWNERS and found.order.reporter_user != user.username:
        raise forbidden("owners see the complaints they filed")
    return found


@router.get("/categories", response_model=list[CategoryOut], summary="What can be reported, and who handles it")
def list_categories(conn: Conn, user: Annotated[User, Depends(require(roles.REPORTERS))],
                    site_id: Annotated[str | None, Query(max_length=64)] = None) -> list[CategoryOut]:
    """Every category of the catalogue, equipment and estate matters, with the unit responsible at ``site_id``
    (default: the caller's first estate; ``null`` where the list does not cover it)."""
    site = site_id or (user.site_ids[0] if user.site_ids else None)
    if site is not None:
        check_site(user, site)
    return [CategoryOut(id=c.id, zh=c.zh, en=c.en, severity=c.severity,
                        unit_id=responsible_unit(conn, category=c.id, site_id=site) if site else None)
            for c in categories().values()]


@router.post("", response_model=ComplaintOut, status_code=201, summary="File a complaint")
def file_one(body: ReportIn, conn: Conn, user: Annotated[User, Depends(require(roles.REPORTERS))]
             ) -> ComplaintOut:
    """Owners file for their own estate; the control room files owners' calls and 12345 tickets (with
    ``hotline``: number, received, reply and contact deadlines). Any category of the catalogue. 422 for an
    unknown category or place, a 12345 ticket without its block, a call-back number that is not a mainland
    mobile or landline with area code (``InvalidPhone``); 409 for a ticket number already filed."""
    return complaint_out(file_report(conn, user, body))


@router.get("", response_model=Page[ComplaintOut], summary="List complaints (owners: their own)")
def list_complaints(
    conn: Conn,
    user: Annotated[User, Depends(require(roles.REPORTERS))],
    page: Annotated[Pagination, Depends(pagination)],
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    origin: Literal["owner_report", "hotline_12345"] | None = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[ComplaintOut]:
    """Newest first, with each 12345 ticket's deadlines and what is still owed."""
    reporter = user.username if user.role in roles.OWNERS else None
    found, total = complaints.page_complaints(
        conn, sites=scope_site(user, site_id), origin=origin, reporter_user=reporter,
        where=OrderFilter(category=category, search=q), limit=page.limit, offset=page.offset)
    return Page[ComplaintOut](items=[complaint_out(c) for c in found], total=total, limit=page.limit,
                              offset=page.offset)


@router.get("/owed", response_model=Page[ComplaintOut], summary="12345 tickets whose closure is still owed")
def owed(conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))],
         page: Annotated[Pagination, Depends(pagination)],
         site_id: Annotated[str | None, Query(max_length=64)] = None) -> Page[ComplaintOut]:
    """The earliest reply deadline first; each ticket lists what is owed and what is late."""
    found, total = complaints.owed_to_hotline(conn, sites=scope_site(user, site_id), limit=page.limit,
                                              offset=page.offset)
    return Page[ComplaintOut](items=[complaint_out(c) for c in found], total=total, limit=page.limit,
                              offset=page.offset)


@router.get("/{order_id}", response_model=ComplaintOut, summary="One complaint")
def get_one(order_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.REPORTERS))]) -> ComplaintOut:
    """404 for an order that is not a complaint; owners see only theirs (403)."""
    return complaint_out(_complaint_or_404(conn, order_id, user))


@router.post("/{order_id}/hotline/{record}", response_model=ComplaintOut,
             summary="Record what was sent back to 12345: contact, reply or closure")
def record(order_id: int, record: Record, body: RecordIn, conn: Conn,
           user: Annotated[User, Depends(require(roles.HANDLERS))]) -> ComplaintOut:
    """``contact``: the complainant was called; ``reply``: the answer sent; ``closure``: the final record, once
    the order is resolved or ended (409 before, and for anything after it). Late records are marked late."""
    _complaint_or_404(conn, order_id, user)
    complaints.record_to_hotline(conn, order_id, record, text=body.text, actor=user.username)
    found = complaints.get_complaint(conn, order_id)
    audit.record(conn, user, f"hotline.{record}", "work_order", str(order_id), site_id=found.order.site_id,
                 detail={"ticket_no": found.hotline.ticket_no if found.hotline else None})
    return complaint_out(found)


@router.post("/{order_id}/satisfaction", response_model=ComplaintOut,
             summary="Record the complainant's satisfaction from 12345's call-back")
def satisfaction(order_id: int, body: SatisfactionIn, conn: Conn,
                 user: Annotated[User, Depends(require(roles.HANDLERS))]) -> ComplaintOut:
    """Once, after the closure was sent (409 otherwise)."""
    _complaint_or_404(conn, order_id, user)
    complaints.record_satisfaction(conn, order_id, body.rating, note=body.note, actor=user.username)
    found = complaints.get_complaint(conn, order_id)
    audit.record(conn, user, "hotline.satisfaction", "work_order", str(order_id), site_id=found.order.site_id,
                 detail={"rating": body.rating})
    return complaint_out(found)
