"""Offering orders to crew and crew accepting them.

An order is offered to the best member ``dispatch.crew.candidates`` ranks: of the responsible unit, with the
skill, on shift, covering the estate, with the least open work. The offer expires after the list item's
acceptance timeout; ``reassign_expired`` (run by the scheduler) then offers the order to the next best member who
has not had it yet, and when nobody is left the order is escalated one level and the units are asked to assign
by hand. ``accept`` is open to any eligible member of the unit, so a late accept by the first offeree and an
accept by the second can race; row locks make exactly one of them win.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import psycopg

from dispatch.crew import ANY_SKILL, candidates, covers, get_crew_member
from dispatch.errors import AcceptConflict, AcceptRefused, IllegalTransition
from dispatch.states import SATISFIES, State
from dispatch.workorders import journal, queries
from dispatch.workorders.lifecycle import satisfy_steps
from dispatch.workorders.model import WorkOrder

SYSTEM_ACTOR = "system:dispatch"


def choose_crew(conn: psycopg.Connection, order: WorkOrder, *, skill: str, exclude: list[str], now: datetime
                ) -> str | None:
    """The best member to offer ``order`` to at ``now`` (``dispatch.crew.candidates``), or ``None``."""
    found = candidates(conn, unit_id=order.unit_id, skill=skill, site_id=order.site_id, at=now, exclude=exclude)
    return found[0].member.id if found else None


def offer(conn: psycopg.Connection, order: WorkOrder, *, skill: str, timeout: timedelta, now: datetime) -> WorkOrder:
    """Offer an unassigned order to the best crew member who has not had it yet; return the order as it now is.

    The caller holds the order's row lock in its transaction. With nobody left, the responsible unit is told to
    assign by hand.
    """
    if order.assignee_id is not None or State(order.state) not in (State.NEW, State.ACKED):
        return order
    previous = [r[0] for r in conn.execute("SELECT crew_id FROM work_order_offers WHERE order_id = %s", (order.id,))]
    crew_id = choose_crew(conn, order, skill=skill, exclude=previous, now=now)
    if crew_id is None:
        return _escalate_unassigned(conn, order, now=now)
    expires = now + timeout
    conn.execute(
        "INSERT INTO work_order_offers (order_id, crew_id, offered_at, expires_at) VALUES (%s, %s, %s, %s)",
        (order.id, crew_id, now, expires),
    )
    conn.execute(
        "UPDATE work_orders SET offered_to = %s, offer_expires_at = %s, updated_at = %s WHERE id = %s",
        (crew_id, expires, now, order.id),
    )
    journal.record_event(conn, order.id, at=now, actor=SYSTEM_ACTOR, kind="offer",
                         data={"crew_id": crew_id, "expires_at": expires.isoformat()})
    journal.enqueue(conn, order, "offer", [{"kind": "crew", "id": crew_id}], now=now, expires_at=expires.isoformat())
    journal.publish(conn, order.id)
    return dataclasses.replace(order, offered_to=crew_id, offer_expires_at=expires)


def _escalate_unassigned(conn: psycopg.Connection, order: WorkOrder, *, now: datetime) -> WorkOrder:
    """Nobody (left) can take the order: raise it one level along its chain and ask those units and the
    responsible one to assign by hand."""
    chain = queries.routing(conn, order.id).escalation
    level = min(order.escalation_level + 1, len(chain)) if chain else order.escalation_level + 1
    units = list(dict.fromkeys([order.unit_id, *(chain[level - 1] if chain else [])]))
    conn.execute(
        """UPDATE work_orders SET offered_to = NULL, offer_expires_at = NULL, escalation_level = %s, updated_at = %s
           WHERE id = %s""",
        (level, now, order.id),
    )
    journal.record_event(conn, order.id, at=now, actor=SYSTEM_ACTOR, kind="offer",
                         note="no eligible crew member left: assign by hand", data={"crew_id": None})
    journal.record_event(conn, order.id, at=now, actor=SYSTEM_ACTOR, kind="escalation",
                         note=f"nobody accepted the order; escalated to level {level}",
                         data={"reason": "unassigned", "level": level, "recipients": units})
    journal.enqueue(conn, order, "unassigned", [{"kind": "unit", "id": unit} for unit in units], now=now, level=level)
    journal.publish(conn, order.id)
    return dataclasses.replace(order, offered_to=None, offer_expires_at=None, escalation_level=level)


def reassign_expired(conn: psycopg.Connection, *, now: datetime, limit: int = 100) -> int:
    """Move every offer that expired unaccepted to the next crew member; return how many expired.

    Each order is handled in its own transaction, claimed with ``FOR UPDATE SKIP LOCKED`` so concurrent
    schedulers share the work instead of repeating it.
    """
    count = 0
    while count < limit:
        with conn.transaction():
            row = conn.execute(
                """SELECT id, offered_to FROM work_orders
                   WHERE offered_to IS NOT NULL AND assignee_id IS NULL AND offer_expires_at <= %s
                   ORDER BY offer_expires_at, id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                (now,),
            ).fetchone()
            if row is None:
                break
            order_id, crew_id = row
            conn.execute(
                "UPDATE work_order_offers SET outcome = 'timed_out' WHERE order_id = %s AND outcome IS NULL",
                (order_id,),
            )
            journal.record_event(conn, order_id, at=now, actor=SYSTEM_ACTOR, kind="offer_timeout",
                                 data={"crew_id": crew_id})
            routing = queries.routing(conn, order_id)
            offer(conn, queries.fetch(conn, order_id), skill=routing.skill, timeout=routing.accept_timeout, now=now)
            count += 1
    return count


def accept(conn: psycopg.Connection, order_id: int, crew_member_id: str, *, now: datetime | None = None) -> WorkOrder:
    """A crew member of the responsible unit (on shift, with the skill) takes an unassigned order.

    The order becomes DISPATCHED (acknowledged on the way if it was NEW). Race-safe: the order row is locked and
    the update is conditional on no assignee, so of two concurrent accepts exactly one wins and the other gets
    ``AcceptConflict``.
    """
    now = now or datetime.now(UTC)
    actor = f"crew:{crew_member_id}"
    with conn.transaction():
        crew = get_crew_member(conn, crew_member_id)
        if crew is None:
            raise AcceptRefused(f"crew member {crew_member_id!r} does not exist")
        order = queries.fetch(conn, order_id, lock=True)
        if order.assignee_id is not None:
            raise AcceptConflict(f"{order.number} was already accepted by another crew member")
        current = State(order.state)
        if current not in (State.NEW, State.ACKED):
            raise IllegalTransition(f"{order.number} is {current}; only NEW or ACKED orders can be accepted")
        skill = queries.routing(conn, order_id).skill
        if crew.unit_id != order.unit_id:
            raise AcceptRefused(f"{order.number} belongs to unit {order.unit_id}, not {crew.unit_id}")
        if not crew.available(now):
            raise AcceptRefused(f"crew member {crew_member_id!r} is not on shift")
        if skill != ANY_SKILL and skill not in crew.skills:
            raise AcceptRefused(f"{order.number} needs skill {skill!r}")
        if not covers(conn, crew, order.site_id):
            raise AcceptRefused(f"crew member {crew_member_id!r} does not cover site {order.site_id}")
        updated = conn.execute(
            """UPDATE work_orders SET assignee_id = %(crew)s, state = 'DISPATCHED', updated_at = %(now)s,
                   acked_at = coalesce(acked_at, %(now)s), dispatched_at = coalesce(dispatched_at, %(now)s),
                   offered_to = NULL, offer_expires_at = NULL
               WHERE id = %(id)s AND assignee_id IS NULL""",
            {"crew": crew_member_id, "now": now, "id": order_id},
        ).rowcount
        if updated != 1:
            raise AcceptConflict(f"{order.number} was already accepted by another crew member")
        conn.execute(
            """UPDATE work_order_offers SET outcome = CASE WHEN crew_id = %s THEN 'accepted' ELSE 'superseded' END
               WHERE order_id = %s AND outcome IS NULL""",
            (crew_member_id, order_id),
        )
        if current is State.NEW:
            journal.record_event(conn, order_id, at=now, actor=actor, kind="transition", from_state=State.NEW,
                                 to_state=State.ACKED)
        journal.record_event(conn, order_id, at=now, actor=actor, kind="transition", from_state=State.ACKED,
                             to_state=State.DISPATCHED, data={"assignee_id": crew_member_id})
        satisfy_steps(conn, order_id, SATISFIES[State.DISPATCHED], now)
        journal.publish(conn, order_id)
    return queries.fetch(conn, order_id)
