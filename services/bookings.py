"""Home-service bookings (notice clause 15, "物业服务 + 生活服务"): an owner books a published bookable service for
their household at a wished time; the company confirms, does it, and the owner rates it.

States: requested → confirmed → done → rated; cancelled from requested (the owner, or an operator with a
reason) or from confirmed (an operator, with a reason: once confirmed, the owner asks the service centre). The
price is the service's published price on the day of booking, copied onto the booking, so a later adjustment
never changes what the owner was shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import psycopg
from psycopg.rows import class_row

from services.catalog import get_service
from services.errors import Conflict, Invalid, NotFound
from services.slots import check_slot

Canceller = Literal["owner", "operator"]
OWNER_CANCELS_FROM = ("requested",)
OPERATOR_CANCELS_FROM = ("requested", "confirmed")


@dataclass(frozen=True)
class Booking:
    """One booking. ``price``/``unit`` are frozen at booking time."""

    id: int
    site_id: str
    service_id: int
    service_name: str
    household_id: str
    slot_start: datetime
    slot_end: datetime
    note: str
    price: Decimal
    unit: str
    state: str
    requested_at: datetime
    confirmed_at: datetime | None
    done_at: datetime | None
    rated_at: datetime | None
    rating: int | None
    rating_comment: str | None
    cancelled_at: datetime | None
    cancelled_role: str | None
    cancel_reason: str | None


@dataclass(frozen=True)
class Satisfaction:
    """Rated bookings of an estate in a period, their mean rating to 2 decimals (``None`` when none was rated) and
    the exact sum of their ratings (to combine periods or estates without rounding)."""

    site_id: str
    rated: int
    mean_rating: Decimal | None
    rating_sum: int = 0


_SELECT = """SELECT b.id, b.site_id, b.service_id, s.name AS service_name, b.household_id, b.slot_start, b.slot_end,
                    b.note, b.price, b.unit, b.state, b.requested_at, b.confirmed_at, b.done_at, b.rated_at, b.rating,
                    b.rating_comment, b.cancelled_at, b.cancelled_role, b.cancel_reason
             FROM service_bookings b JOIN service_items s ON s.id = b.service_id"""


def book(conn: psycopg.Connection, *, service_id: int, household_id: str, site_id: str, slot_start: datetime,
         slot_end: datetime, note: str, actor: str, now: datetime | None = None) -> Booking:
    """Book a published bookable service of ``site_id`` for ``household_id`` at its price of today.

    An ``Invalid`` subclass for a slot that breaks a booking rule (``services.slots``: notice, horizon, end after
    start, a length the price can bill); ``Conflict`` for a service that is not bookable, not published or has no
    price in effect; ``NotFound`` for a service of another estate."""
    now = now or datetime.now(UTC)
    service = get_service(conn, service_id, now=now)
    if service.site_id != site_id:
        raise NotFound(f"service {service_id} not found")
    if not (service.bookable and service.published) or service.price is None or service.unit is None:
        raise Conflict(f"{service.name} cannot be booked")
    check_slot(slot_start, slot_end, service.unit, now, service.min_slot_minutes)
    row = conn.execute(
        """INSERT INTO service_bookings (site_id, service_id, household_id, booked_by, slot_start, slot_end, note,
               price, unit, state, requested_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'requested', %s) RETURNING id""",
        (site_id, service_id, household_id, actor, slot_start, slot_end, note, service.price, service.unit, now),
    ).fetchone()
    return get_booking(conn, row[0])


def get_booking(conn: psycopg.Connection, booking_id: int) -> Booking:
    """One booking; ``NotFound`` for an unknown id."""
    with conn.cursor(row_factory=class_row(Booking)) as cur:
        cur.execute(_SELECT + " WHERE b.id = %s", (booking_id,))
        found = cur.fetchone()
    if found is None:
        raise NotFound(f"booking {booking_id} not found")
    return found


def list_bookings(conn: psycopg.Connection, *, site_ids: list[str] | None = None, household_id: str | None = None,
                  state: str | None = None, limit: int = 100) -> list[Booking]:
    """Bookings of ``site_ids`` (``None``: every estate) or of one household, newest first."""
    with conn.cursor(row_factory=class_row(Booking)) as cur:
        cur.execute(
            _SELECT + """ WHERE (%(sites)s::text[] IS NULL OR b.site_id = ANY(%(sites)s))
                            AND (%(household)s::text IS NULL OR b.household_id = %(household)s)
                            AND (%(state)s::text IS NULL OR b.state = %(state)s)
                          ORDER BY b.requested_at DESC, b.id DESC LIMIT %(limit)s""",
            {"sites": site_ids, "household": household_id, "state": state, "limit": limit},
        )
        return cur.fetchall()


def _locked_state(conn: psycopg.Connection, booking_id: int) -> str:
    row = conn.execute("SELECT state FROM service_bookings WHERE id = %s FOR UPDATE", (booking_id,)).fetchone()
    if row is None:
        raise NotFound(f"booking {booking_id} not found")
    return row[0]


def confirm(conn: psycopg.Connection, booking_id: int, *, actor: str, now: datetime | None = None) -> Booking:
    """The service centre accepts the wished slot (requested → confirmed)."""
    with conn.transaction():
        _expect(_locked_state(conn, booking_id), "requested", "confirm")
        conn.execute("UPDATE service_bookings SET state = 'confirmed', confirmed_at = %s, confirmed_by = %s "
                     "WHERE id = %s", (now or datetime.now(UTC), actor, booking_id))
    return get_booking(conn, booking_id)


def mark_done(conn: psycopg.Connection, booking_id: int, *, actor: str, now: datetime | None = None) -> Booking:
    """The service was delivered (confirmed → done)."""
    with conn.transaction():
        _expect(_locked_state(conn, booking_id), "confirmed", "mark done")
        conn.execute("UPDATE service_bookings SET state = 'done', done_at = %s, done_by = %s WHERE id = %s",
                     (now or datetime.now(UTC), actor, booking_id))
    return get_booking(conn, booking_id)


def rate(conn: psycopg.Connection, booking_id: int, *, rating: int, comment: str = "",
         now: datetime | None = None) -> Booking:
    """The owner rates a delivered service 1–5 (done → rated); once only."""
    if not 1 <= rating <= 5:
        raise Invalid("a rating is 1 to 5")
    with conn.transaction():
        _expect(_locked_state(conn, booking_id), "done", "rate")
        conn.execute("UPDATE service_bookings SET state = 'rated', rated_at = %s, rating = %s, rating_comment = %s "
                     "WHERE id = %s", (now or datetime.now(UTC), rating, comment, booking_id))
    return get_booking(conn, booking_id)


def cancel(conn: psycopg.Connection, booking_id: int, *, by: Canceller, actor: str, reason: str = "",
           now: datetime | None = None) -> Booking:
    """Cancel a booking: the owner before it is confirmed, an operator before it is done and with a reason."""
    allowed = OWNER_CANCELS_FROM if by == "owner" else OPERATOR_CANCELS_FROM
    if by == "operator" and not reason.strip():
        raise Invalid("an operator's cancellation needs a reason")
    with conn.transaction():
        state = _locked_state(conn, booking_id)
        if state not in allowed:
            hint = ": ask the service centre" if by == "owner" and state == "confirmed" else ""
            raise Conflict(f"a {state} booking cannot be cancelled by the {by}{hint}")
        conn.execute(
            """UPDATE service_bookings SET state = 'cancelled', cancelled_at = %s, cancelled_by = %s,
                   cancelled_role = %s, cancel_reason = %s WHERE id = %s""",
            (now or datetime.now(UTC), actor, by, reason, booking_id),
        )
    return get_booking(conn, booking_id)


def _expect(state: str, wanted: str, action: str) -> None:
    if state != wanted:
        raise Conflict(f"cannot {action} a {state} booking")


def booking_satisfaction(conn: psycopg.Connection, site_id: str, start: datetime, end: datetime) -> Satisfaction:
    """How many bookings of ``site_id`` were rated in [start, end), their mean rating (2 decimals) and sum."""
    count, mean, total = conn.execute(
        """SELECT count(*), round(avg(rating), 2), coalesce(sum(rating), 0) FROM service_bookings
           WHERE site_id = %s AND rated_at >= %s AND rated_at < %s""",
        (site_id, start, end),
    ).fetchone()
    return Satisfaction(site_id, count, mean, int(total))
