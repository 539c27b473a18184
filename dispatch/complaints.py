"""Complaints: owners' own reports and 12345 hotline tickets (notice clauses 3, 4 and 10).

A complaint is a work order of origin ``owner_report`` or ``hotline_12345`` for any category of the catalogue,
equipment or estate matters (noise, parking, fire lanes …), routed by the responsibility list like any order and
marked as a repeat when the same category comes again from the same address (``open_from_report``).

A 12345 ticket also carries the hotline's own number and deadlines, and records owed back to the hotline: first
contact with the complainant (``contact_due``, when the ticket sets one), the reply (``reply_due``) and the
closure record, which can be sent only once the order is resolved or ended. The complainant's satisfaction,
as the hotline's call-back reports it, is recorded after the closure. Each record is also an event of the order
(kind ``hotline``), so the order's timeline shows it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg.rows import class_row

from dispatch.errors import HotlineStateConflict, InvalidHotlineTicket, InvalidPhone, WorkOrderNotFound
from dispatch.states import State
from dispatch.workorders import OrderFilter, WorkOrder, get_work_order, journal, open_from_report, page_work_orders

HOTLINE = "hotline_12345"
OWNER_REPORT = "owner_report"
COMPLAINT_ORIGINS: tuple[str, ...] = (OWNER_REPORT, HOTLINE)
RECORDS: tuple[str, ...] = ("contact", "reply", "closure")
SATISFACTION: tuple[str, ...] = ("satisfied", "basically_satisfied", "dissatisfied")
# The hotline is told the matter is closed once the repair is done or the order ended for a stated reason.
CLOSABLE = frozenset({State.RESOLVED, State.VERIFIED, State.CLOSED, State.CANCELLED, State.FALSE_ALARM})


# A mainland call-back number once spaces, hyphens and brackets are dropped: a mobile (1[3-9] and 9 more digits,
# with or without +86), or a landline with its area code (0 + 2–3 digits, then 7–8 digits, an extension after).
_SEPARATORS = re.compile(r"[\s()（）-]")
_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}(?:#\d{1,6})?")


def check_callback_phone(contact: str, *, field: str = "reporter_contact") -> str:
    """``contact`` stripped, or ``""`` when none was given; ``InvalidPhone`` (naming ``field``) when it is neither a
    mainland mobile number nor a landline with its area code."""
    text = contact.strip()
    digits = _SEPARATORS.sub("", text)
    if text and not (_MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits)):
        raise InvalidPhone(f"{text!r} is not a call-back number: give an 11-digit mobile (13812345678) or a "
                           "landline with its area code (010-12345678)", field=field)
    return text


@dataclass(frozen=True)
class HotlineTicketIn:
    """What the 12345 desk sends with a ticket: its number, when it was received and its deadlines."""

    ticket_no: str
    received_at: datetime
    reply_due: datetime
    contact_due: datetime | None = None


@dataclass(frozen=True)
class HotlineTicket:
    """A 12345 ticket behind an order: its deadlines, what was sent back and when, and the satisfaction."""

    order_id: int
    ticket_no: str
    received_at: datetime
    contact_due: datetime | None
    reply_due: datetime
    contacted_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    satisfaction: str | None
    satisfaction_at: datetime | None

    def owed(self) -> list[str]:
        """The records still owed to the hotline, in the order they fall due."""
        return [record for record, done, due in (("contact", self.contacted_at, self.contact_due),
                                                 ("reply", self.replied_at, self.reply_due),
                                                 ("closure", self.closed_at, self.reply_due))
                if done is None and due is not None]

    def overdue(self, now: datetime) -> list[str]:
        """The owed records whose deadline has passed at ``now`` (the closure is due with the reply)."""
        due = {"contact": self.contact_due, "reply": self.reply_due, "closure": self.reply_due}
        return [record for record in self.owed() if due[record] is not None and due[record] < now]


@dataclass(frozen=True)
class Complaint:
    """A complaint order and, for a 12345 ticket, the ticket."""

    order: WorkOrder
    hotline: HotlineTicket | None


def file_complaint(
    conn: psycopg.Connection,
    *,
    site_id: str,
    origin: str,
    category: str,
    description: str,
    address: str,
    reporter_contact: str,
    building_id: str | None = None,
    building_unit: str | None = None,
    floor: str | None = None,
    reporter_user: str | None = None,
    hotline: HotlineTicketIn | None = None,
    actor: str,
    now: datetime | None = None,
) -> Complaint:
    """Open the order of a complaint and, for a 12345 ticket, store the ticket with it in one transaction.

    Raises ``InvalidHotlineTicket`` when a 12345 complaint lacks its ticket (or an owner report has one) or the
    deadlines precede the ticket, ``HotlineStateConflict`` for a ticket number already filed, and what
    ``open_from_report`` raises (unknown category or place).
    """
    now = now or datetime.now(UTC)
    if (origin == HOTLINE) != (hotline is not None):
        raise InvalidHotlineTicket("a 12345 complaint needs its ticket (number and reply deadline), and only it")
    if hotline is not None:
        _check_ticket(hotline)
    with conn.transaction():
        if hotline is not None:
            taken = conn.execute("SELECT order_id FROM hotline_tickets WHERE ticket_no = %s",
                                 (hotline.ticket_no,)).fetchone()
            if taken:
                raise HotlineStateConflict(f"12345 ticket {hotline.ticket_no} is already work order {taken[0]}")
        order = open_from_report(
            conn, site_id=site_id, origin=origin, category=category, description=description, address=address,
            reporter_contact=reporter_contact, building_id=building_id, building_unit=building_unit, floor=floor,
            reporter_user=reporter_user, actor=actor, now=now)
        ticket = _store_ticket(conn, order, hotline, actor=actor, now=now) if hotline else None
    return Complaint(order, ticket)


def _check_ticket(ticket: HotlineTicketIn) -> None:
    if not ticket.ticket_no.strip():
        raise InvalidHotlineTicket("a 12345 ticket needs its number")
    for name, due in (("reply_due", ticket.reply_due), ("contact_due", ticket.contact_due)):
        if due is not None and due <= ticket.received_at:
            raise InvalidHotlineTicket(f"{name} {due.isoformat()} is not after the ticket was received "
                                       f"({ticket.received_at.isoformat()})")


def _store_ticket(conn: psycopg.Connection, order: WorkOrder, ticket: HotlineTicketIn, *, actor: str,
                  now: datetime) -> HotlineTicket:
    conn.execute(
        """INSERT INTO hotline_tickets (order_id, ticket_no, received_at, contact_due, reply_due)
           VALUES (%s, %s, %s, %s, %s)""",
        (order.id, ticket.ticket_no.strip(), ticket.received_at, ticket.contact_due, ticket.reply_due),
    )
    journal.record_event(
        conn, order.id, at=now, actor=actor, kind="hotline", note=f"12345 ticket {ticket.ticket_no}",
        data={"record": "received", "ticket_no": ticket.ticket_no, "reply_due": ticket.reply_due.isoformat(),
              "contact_due": ticket.contact_due.isoformat() if ticket.contact_due else None},
    )
    return _ticket(conn, order.id)


_TICKET = """SELECT order_id, ticket_no, received_at, contact_due, reply_due, contacted_at, replied_at, closed_at,
                    satisfaction, satisfaction_at FROM hotline_tickets"""


def _ticket(conn: psycopg.Connection, order_id: int, *, lock: bool = False) -> HotlineTicket | None:
    with conn.cursor(row_factory=class_row(HotlineTicket)) as cur:
        return cur.execute(_TICKET + " WHERE order_id = %s" + (" FOR UPDATE" if lock else ""),
                           (order_id,)).fetchone()


def get_complaint(conn: psycopg.Connection, order_id: int) -> Complaint:
    """A complaint by its order id. Raises ``WorkOrderNotFound`` (also for an order that is not a complaint)."""
    order = get_work_order(conn, order_id)
    if order is None or order.origin not in COMPLAINT_ORIGINS:
        raise WorkOrderNotFound(f"no complaint has work order id {order_id}")
    return Complaint(order, _ticket(conn, order_id))


def page_complaints(
    conn: psycopg.Connection,
    *,
    sites: Sequence[str] | None,
    origin: str | None = None,
    reporter_user: str | None = None,
    where: OrderFilter | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Complaint], int]:
    """One page of complaints (newest first) with their tickets, and how many match in all.

    ``reporter_user`` keeps those one owner filed; ``where`` adds the work-order filters and search.
    """
    base = where or OrderFilter()
    chosen = dataclasses.replace(base, origins=[origin] if origin else list(COMPLAINT_ORIGINS),
                                 reporter_user=reporter_user or base.reporter_user)
    orders, total = page_work_orders(conn, sites=sites, where=chosen, limit=limit, offset=offset)
    tickets = _tickets(conn, [o.id for o in orders])
    return [Complaint(o, tickets.get(o.id)) for o in orders], total


def owed_to_hotline(
    conn: psycopg.Connection, *, sites: Sequence[str] | None, limit: int, offset: int
) -> tuple[list[Complaint], int]:
    """12345 tickets whose closure record has not been sent yet, the earliest reply deadline first, and how
    many there are."""
    params = {"sites": None if sites is None else list(sites), "limit": limit, "offset": offset}
    total = conn.execute(
        """SELECT count(*) FROM hotline_tickets t JOIN work_orders w ON w.id = t.order_id
           WHERE t.closed_at IS NULL AND (%(sites)s::text[] IS NULL OR w.site_id = ANY (%(sites)s))""",
        params).fetchone()[0]
    ids = [row[0] for row in conn.execute(
        """SELECT t.order_id FROM hotline_tickets t JOIN work_orders w ON w.id = t.order_id
           WHERE t.closed_at IS NULL AND (%(sites)s::text[] IS NULL OR w.site_id = ANY (%(sites)s))
           ORDER BY t.reply_due, t.order_id LIMIT %(limit)s OFFSET %(offset)s""", params)]
    tickets = _tickets(conn, ids)
    return [Complaint(get_work_order(conn, order_id), tickets[order_id]) for order_id in ids], total


def _tickets(conn: psycopg.Connection, order_ids: list[int]) -> dict[int, HotlineTicket]:
    with conn.cursor(row_factory=class_row(HotlineTicket)) as cur:
        rows = cur.execute(_TICKET + " WHERE order_id = ANY (%s)", (order_ids,)).fetchall()
    return {t.order_id: t for t in rows}


_STAMPS = {
    "contact": "UPDATE hotline_tickets SET contacted_at = coalesce(contacted_at, %(now)s) WHERE order_id = %(id)s",
    "reply": "UPDATE hotline_tickets SET replied_at = coalesce(replied_at, %(now)s) WHERE order_id = %(id)s",
    "closure": """UPDATE hotline_tickets SET replied_at = coalesce(replied_at, %(now)s), closed_at = %(now)s
                  WHERE order_id = %(id)s""",
}


def record_to_hotline(
    conn: psycopg.Connection, order_id: int, record: str, *, text: str, actor: str, now: datetime | None = None
) -> HotlineTicket:
    """Record what was sent back to 12345 for an order's ticket: ``contact`` (the complainant was called),
    ``reply`` or ``closure`` (the final record; it counts as the reply when none was sent).

    Raises ``InvalidHotlineTicket`` (no ticket, an unknown record, no text), ``HotlineStateConflict`` (a closure
    before the order is resolved or ended, anything after the closure) and ``WorkOrderNotFound``.
    """
    now = now or datetime.now(UTC)
    if record not in RECORDS:
        raise InvalidHotlineTicket(f"record must be one of {', '.join(RECORDS)}, not {record!r}")
    if not text.strip():
        raise InvalidHotlineTicket(f"a 12345 {record} record needs its text")
    with conn.transaction():
        order, ticket = _locked(conn, order_id)
        if ticket.closed_at is not None:
            raise HotlineStateConflict(f"{order.number}: the closure of 12345 ticket {ticket.ticket_no} was sent "
                                       f"at {ticket.closed_at.isoformat()}")
        if record == "closure" and State(order.state) not in CLOSABLE:
            raise HotlineStateConflict(f"{order.number} is {order.state}; the closure is sent once it is resolved "
                                       "or ended")
        conn.execute(_STAMPS[record], {"now": now, "id": order_id})
        due = {"contact": ticket.contact_due, "reply": ticket.reply_due, "closure": ticket.reply_due}[record]
        journal.record_event(conn, order_id, at=now, actor=actor, kind="hotline", note=text.strip(),
                             data={"record": record, "ticket_no": ticket.ticket_no,
                                   "late": due is not None and now > due})
        journal.publish(conn, order_id)
    return _ticket(conn, order_id)


def record_satisfaction(
    conn: psycopg.Connection, order_id: int, rating: str, *, note: str | None = None, actor: str,
    now: datetime | None = None,
) -> HotlineTicket:
    """Record the complainant's satisfaction as 12345's call-back reports it, once, after the closure.

    Raises ``InvalidHotlineTicket`` (no ticket, an unknown rating), ``HotlineStateConflict`` (before the closure,
    or a second time) and ``WorkOrderNotFound``.
    """
    now = now or datetime.now(UTC)
    if rating not in SATISFACTION:
        raise InvalidHotlineTicket(f"satisfaction must be one of {', '.join(SATISFACTION)}, not {rating!r}")
    with conn.transaction():
        order, ticket = _locked(conn, order_id)
        if ticket.closed_at is None:
            raise HotlineStateConflict(f"{order.number}: send the closure record before recording satisfaction")
        if ticket.satisfaction is not None:
            raise HotlineStateConflict(f"{order.number}: satisfaction was recorded as {ticket.satisfaction}")
        conn.execute("UPDATE hotline_tickets SET satisfaction = %s, satisfaction_at = %s WHERE order_id = %s",
                     (rating, now, order_id))
        journal.record_event(conn, order_id, at=now, actor=actor, kind="hotline", note=note,
                             data={"record": "satisfaction", "ticket_no": ticket.ticket_no, "rating": rating})
        journal.publish(conn, order_id)
    return _ticket(conn, order_id)


def _locked(conn: psycopg.Connection, order_id: int) -> tuple[WorkOrder, HotlineTicket]:
    order = get_work_order(conn, order_id)
    if order is None:
        raise WorkOrderNotFound(f"work order {order_id} does not exist")
    ticket = _ticket(conn, order_id, lock=True)
    if ticket is None:
        raise InvalidHotlineTicket(f"{order.number} has no 12345 ticket")
    return order, ticket
