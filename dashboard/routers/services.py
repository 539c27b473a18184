"""Services, prices, home-service bookings and board items (``services``; notice clauses 11, 15 and 19).

Operators and admins maintain an estate's services, prices and board items and confirm bookings; the committee
and the sub-district read them; owners read the service list and book, cancel and rate for their own household.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import forbidden, not_found
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from dispatch.fund import estate
from ingest import registry
from services import board, bookings, catalog
from services.bookings import Booking
from services.catalog import Price, Service

router = APIRouter(prefix="/api/v1", tags=["services"])
Money = Annotated[Decimal, Field(ge=0, le=100_000_000, decimal_places=2)]


class ServiceIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    kind: Literal["contract", "extra", "fee"]
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    content: str = Field(min_length=1, max_length=2000)
    standard: str = Field(min_length=1, max_length=2000, description="服务标准: what the service promises")
    price: Money
    unit: str = Field(min_length=1, max_length=64, examples=["元/m²·月", "元/次", "元/小时"])
    basis: str = Field(min_length=1, max_length=500, description="contract clause or owners' decision")
    effective_from: date
    bookable: bool = False
    published: bool = True
    min_slot_minutes: int | None = Field(None, ge=1, le=480, description="shortest bookable slot, as the standard "
                                         "promises it (\"2小时起\" is 120); default: one priced unit or one hour")


class ServicePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    content: str | None = Field(None, min_length=1, max_length=2000)
    standard: str | None = Field(None, min_length=1, max_length=2000)
    bookable: bool | None = None
    published: bool | None = None
    min_slot_minutes: int | None = Field(None, ge=1, le=480)


class PriceIn(BaseModel):
    """A price adjustment: never edits history, appends the new price with its basis and effective date."""

    price: Money
    unit: str | None = Field(None, min_length=1, max_length=64, description="default: the current unit")
    effective_from: date
    basis: str = Field(min_length=1, max_length=500, description="contract clause or owners' decision reference")


class BookingIn(BaseModel):
    service_id: int = Field(ge=1)
    slot_start: datetime
    slot_end: datetime
    note: str = Field("", max_length=500)


class CancelIn(BaseModel):
    reason: str = Field("", max_length=500, description="required when the service centre cancels")


class RatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=1000)


class ParkingIn(BaseModel):
    total: int = Field(ge=0, le=100_000)
    sold: int = Field(ge=0, le=100_000)
    rented: int = Field(ge=0, le=100_000)
    visitor: int = Field(ge=0, le=100_000)
    note: str = Field("", max_length=500)


class ParkingOut(ParkingIn):
    model_config = ConfigDict(from_attributes=True)
    site_id: str
    vacant: int
    updated_by: str
    updated_role: str
    updated_at: datetime


class ApportionmentIn(BaseModel):
    total: Money
    basis: str = Field(min_length=1, max_length=500, description="what the shared meter covers and how it is read")
    method: Literal["area", "household"]


class FeeStatementIn(BaseModel):
    income: Money
    spending: Money
    note: str = Field("", max_length=500)


class FeeStatementOut(FeeStatementIn):
    model_config = ConfigDict(from_attributes=True)
    site_id: str
    period: str
    balance: Decimal
    updated_by: str
    updated_role: str
    updated_at: datetime


class PhoneIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(None, max_length=100)
    phone: str = Field(pattern=r"^[0-9+() -]{3,30}$")
    hours: str = Field("", max_length=100)


class PhonesIn(BaseModel):
    phones: list[PhoneIn] = Field(max_length=20)


class BoardItems(BaseModel):
    """The board items an estate maintains, with who changed each and when (signed-in readers)."""

    parking: ParkingOut | None
    apportionments: list[board.Apportionment]
    fee_statements: list[FeeStatementOut]
    complaint_phones: list[board.Phone]


def _service_in_scope(conn: Conn, user: User, service_id: int) -> Service:
    service = catalog.get_service(conn, service_id)
    if not user.sees_site(service.site_id):
        raise not_found("service", service_id)
    return service


def _booking_in_scope(conn: Conn, user: User, booking_id: int) -> Booking:
    """A booking the caller may see: an owner their household's, others their estates'; 404 otherwise."""
    found = bookings.get_booking(conn, booking_id)
    visible = found.household_id == user.household_id if user.role in roles.OWNERS else user.sees_site(found.site_id)
    if not visible:
        raise not_found("booking", booking_id)
    return found


def _site(conn: Conn, user: User, site_id: str) -> str:
    check_site(user, site_id)
    if registry.get_site(conn, site_id) is None:
        raise not_found("site", site_id)
    return site_id


# --- services and prices -------------------------------------------------------------------------------------


@router.get("/sites/{site_id}/services", response_model=list[Service], summary="An estate's service list")
def list_services(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.SERVICE_READERS))],
                  kind: Annotated[Literal["contract", "extra", "fee"] | None, Query()] = None) -> list[Service]:
    """Services under the contract, paid extras and fee items with today's price; owners see published ones."""
    kinds = (kind,) if kind else catalog.KINDS
    return catalog.list_services(conn, _site(conn, user, site_id), kinds=kinds,
                                 published_only=user.role in roles.OWNERS)


@router.post("/sites/{site_id}/services", response_model=Service, status_code=201, summary="List a service")
def create_service(site_id: str, body: ServiceIn, conn: Conn,
                   user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> Service:
    created = catalog.create_service(conn, _site(conn, user, site_id), catalog.NewService(**body.model_dump()),
                                     actor=user.username, role=user.role)
    audit.record(conn, user, "service.create", "service", str(created.id), site_id=site_id,
                 detail={"code": created.code, "price": str(body.price), "unit": body.unit, "basis": body.basis})
    return created


@router.get("/services/{service_id}", response_model=Service, summary="One service with today's price")
def get_service(service_id: int, conn: Conn,
                user: Annotated[User, Depends(require(roles.SERVICE_READERS))]) -> Service:
    return _service_in_scope(conn, user, service_id)


@router.patch("/services/{service_id}", response_model=Service, summary="Change a service's description")
def update_service(service_id: int, body: ServicePatch, conn: Conn,
                   user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> Service:
    """Content, standard, name, bookable, published; prices change only by an adjustment."""
    service = _service_in_scope(conn, user, service_id)
    changed = catalog.update_service(conn, service_id, catalog.ServiceChange(**body.model_dump()),
                                     actor=user.username, role=user.role)
    audit.record(conn, user, "service.update", "service", str(service_id), site_id=service.site_id,
                 detail=body.model_dump(exclude_none=True))
    return changed


@router.get("/services/{service_id}/prices", response_model=list[Price], summary="A service's price history")
def price_history(service_id: int, conn: Conn,
                  user: Annotated[User, Depends(require(roles.SERVICE_READERS))]) -> list[Price]:
    """Every price, oldest first, each with the price it replaced, its effective date, basis and author."""
    _service_in_scope(conn, user, service_id)
    return catalog.price_history(conn, service_id)


@router.post("/services/{service_id}/prices", response_model=Price, status_code=201, summary="Adjust a price")
def adjust_price(service_id: int, body: PriceIn, conn: Conn,
                 user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> Price:
    """Append a price taking effect on ``effective_from`` (after the newest recorded one), with its basis."""
    service = _service_in_scope(conn, user, service_id)
    price = catalog.adjust_price(conn, service_id, price=body.price, unit=body.unit,
                                 effective_from=body.effective_from, basis=body.basis, actor=user.username,
                                 role=user.role)
    audit.record(conn, user, "service.price", "service", str(service_id), site_id=service.site_id,
                 detail={"from": str(price.previous_price), "to": str(price.price), "unit": price.unit,
                         "effective_from": str(price.effective_from), "basis": price.basis})
    return price


# --- bookings --------------------------------------------------------------------------------------------------


@router.post("/bookings", response_model=Booking, status_code=201, summary="Book a home service (owners)")
def book(body: BookingIn, conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))]) -> Booking:
    """Book a published bookable service for the owner's household; the price shown today is kept."""
    household = estate.get_household(conn, user.household_id) if user.household_id else None
    if household is None or not user.sees_site(household.site_id):
        raise forbidden("your login is linked to no household of this estate")
    made = bookings.book(conn, service_id=body.service_id, household_id=household.id, site_id=household.site_id,
                         slot_start=body.slot_start, slot_end=body.slot_end, note=body.note, actor=user.username)
    audit.record(conn, user, "booking.request", "booking", str(made.id), site_id=made.site_id,
                 detail={"service_id": made.service_id, "price": str(made.price), "unit": made.unit})
    return made


@router.get("/bookings", response_model=list[Booking], summary="Bookings: an owner's own, an estate's")
def list_bookings(conn: Conn, user: Annotated[User, Depends(require(roles.BOOKING_PARTIES))],
                  site_id: str | None = None,
                  state: Literal["requested", "confirmed", "done", "rated", "cancelled"] | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[Booking]:
    """Owners see their household's bookings; operators and admins their estates' (``site_id`` narrows)."""
    if user.role in roles.OWNERS:
        if not user.household_id:
            return []
        return [b for b in bookings.list_bookings(conn, household_id=user.household_id, state=state, limit=limit)
                if site_id is None or b.site_id == site_id]
    return bookings.list_bookings(conn, site_ids=scope_site(user, site_id), state=state, limit=limit)


@router.get("/bookings/{booking_id}", response_model=Booking, summary="One booking")
def get_booking(booking_id: int, conn: Conn,
                user: Annotated[User, Depends(require(roles.BOOKING_PARTIES))]) -> Booking:
    return _booking_in_scope(conn, user, booking_id)


@router.post("/bookings/{booking_id}/confirm", response_model=Booking, summary="Confirm a booking's slot")
def confirm(booking_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> Booking:
    found = _booking_in_scope(conn, user, booking_id)
    done = bookings.confirm(conn, booking_id, actor=user.username)
    audit.record(conn, user, "booking.confirm", "booking", str(booking_id), site_id=found.site_id)
    return done


@router.post("/bookings/{booking_id}/done", response_model=Booking, summary="Record a booked service as done")
def mark_done(booking_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> Booking:
    found = _booking_in_scope(conn, user, booking_id)
    done = bookings.mark_done(conn, booking_id, actor=user.username)
    audit.record(conn, user, "booking.done", "booking", str(booking_id), site_id=found.site_id)
    return done


@router.post("/bookings/{booking_id}/cancel", response_model=Booking, summary="Cancel a booking")
def cancel(booking_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.BOOKING_PARTIES))],
           body: CancelIn | None = None) -> Booking:
    """Owners cancel before the booking is confirmed (no body needed); operators before it is done, with a
    reason (409/422)."""
    body = body or CancelIn()
    found = _booking_in_scope(conn, user, booking_id)
    by = "owner" if user.role in roles.OWNERS else "operator"
    done = bookings.cancel(conn, booking_id, by=by, actor=user.username, reason=body.reason)
    audit.record(conn, user, "booking.cancel", "booking", str(booking_id), site_id=found.site_id,
                 detail={"by": by, "reason": body.reason})
    return done


@router.post("/bookings/{booking_id}/rate", response_model=Booking, summary="Rate a delivered service (owners)")
def rate(booking_id: int, body: RatingIn, conn: Conn,
         user: Annotated[User, Depends(require(roles.OWNERS))]) -> Booking:
    found = _booking_in_scope(conn, user, booking_id)
    done = bookings.rate(conn, booking_id, rating=body.rating, comment=body.comment)
    audit.record(conn, user, "booking.rate", "booking", str(booking_id), site_id=found.site_id,
                 detail={"rating": body.rating})
    return done


# --- board items ------------------------------------------------------------------------------------------------


@router.get("/sites/{site_id}/board-items", response_model=BoardItems, summary="The board items an estate keeps")
def board_items(site_id: str, conn: Conn,
                user: Annotated[User, Depends(require(roles.SERVICE_READERS))]) -> BoardItems:
    _site(conn, user, site_id)
    parking = board.get_parking(conn, site_id)
    return BoardItems(
        parking=ParkingOut.model_validate(parking) if parking else None,
        apportionments=board.list_apportionments(conn, site_id),
        fee_statements=[FeeStatementOut.model_validate(s) for s in board.list_fee_statements(conn, site_id)],
        complaint_phones=board.estate_phones(conn, site_id),
    )


@router.put("/sites/{site_id}/board-items/parking", response_model=ParkingOut, summary="Record parking use")
def put_parking(site_id: str, body: ParkingIn, conn: Conn,
                user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> ParkingOut:
    saved = board.set_parking(conn, _site(conn, user, site_id), **body.model_dump(), actor=user.username,
                              role=user.role)
    audit.record(conn, user, "board.parking", "board_item", f"{site_id}/parking", site_id=site_id,
                 detail=body.model_dump())
    return ParkingOut.model_validate(saved)


@router.put("/sites/{site_id}/board-items/apportionments/{month}/{utility}", response_model=board.Apportionment,
            summary="Record a month's shared water or power apportionment")
def put_apportionment(site_id: str, month: Annotated[str, Path(pattern=r"^[1-9]\d{3}-(0[1-9]|1[0-2])$")],
                      utility: Literal["water", "power"], body: ApportionmentIn, conn: Conn,
                      user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> board.Apportionment:
    """``month`` is ``YYYY-MM``; a second PUT for the same month and utility corrects it (the audit keeps both)."""
    first = date.fromisoformat(f"{month}-01")
    saved = board.set_apportionment(conn, _site(conn, user, site_id), month=first, utility=utility,
                                    total=body.total, basis=body.basis, method=body.method, actor=user.username,
                                    role=user.role)
    audit.record(conn, user, "board.apportionment", "board_item", f"{site_id}/apportionment/{month}/{utility}",
                 site_id=site_id, detail={**body.model_dump(mode="json")})
    return saved


@router.put("/sites/{site_id}/board-items/fee-statements/{period}", response_model=FeeStatementOut,
            summary="Record property fee income and spending of a period")
def put_fee_statement(site_id: str, period: str, body: FeeStatementIn, conn: Conn,
                      user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> FeeStatementOut:
    """``period``: ``YYYY``, ``YYYY-H1``, ``YYYY-Q3`` or ``YYYY-MM``."""
    saved = board.set_fee_statement(conn, _site(conn, user, site_id), period=period, income=body.income,
                                    spending=body.spending, note=body.note, actor=user.username, role=user.role)
    audit.record(conn, user, "board.fee_statement", "board_item", f"{site_id}/fee-statement/{period}",
                 site_id=site_id, detail=body.model_dump(mode="json"))
    return FeeStatementOut.model_validate(saved)


@router.put("/sites/{site_id}/board-items/complaint-phones", response_model=list[board.Phone],
            summary="Replace the estate's own complaint phones")
def put_complaint_phones(site_id: str, body: PhonesIn, conn: Conn,
                         user: Annotated[User, Depends(require(roles.PUBLISHERS))]) -> list[board.Phone]:
    phones = [board.Phone(p.name, p.name_en, p.phone, p.hours) for p in body.phones]
    saved = board.set_complaint_phones(conn, _site(conn, user, site_id), phones, actor=user.username,
                                       role=user.role)
    audit.record(conn, user, "board.complaint_phones", "board_item", f"{site_id}/complaint-phones", site_id=site_id,
                 detail=body.model_dump())
    return saved
