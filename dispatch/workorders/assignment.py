"""Putting a crew member on an order by hand: the control room assigns, and reassigns with a reason.

Assigning an order that nobody holds dispatches it (acknowledging it on the way), like a crew member's accept;
reassigning an order already being worked keeps its state and says why. The member must be active, of the
responsible unit, have the order's skill and cover its estate; being off shift does not stop a hand assignment
(the control room may call someone in) but is recorded on the event.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import psycopg

from dispatch.crew import ANY_SKILL, CrewMember, covers, get_crew_member
from dispatch.errors import AssignRefused, IllegalTransition, ReasonRequired
from dispatch.states import OPEN_STATES, SATISFIES, State
from dispatch.workorders import journal, queries
from dispatch.workorders.lifecycle import satisfy_steps
from dispatch.workorders.model import WorkOrder

_UNDISPATCHED = (State.NEW, State.ACKED)


def assign(
    conn: psycopg.Connection,
    order_id: int,
    crew_member_id: str,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """Make ``crew_member_id`` the assignee of an open order and return the order.

    A NEW or ACKED order becomes DISPATCHED. An order that already has an assignee is reassigned: ``reason`` is
    then required (``ReasonRequired``). Assigning the current assignee again changes nothing. Raises
    ``AssignRefused`` when the member cannot take the order, ``IllegalTransition`` for an order that is no
    longer open and ``WorkOrderNotFound``.
    """
    now = now or datetime.now(UTC)
    reason = (reason or "").strip() or None
    with conn.transaction():
        member = get_crew_member(conn, crew_member_id)
        order = queries.fetch(conn, order_id, lock=True)
        current = State(order.state)
        if current not in OPEN_STATES:
            raise IllegalTransition(f"{order.number} is {current}; only open orders can be assigned")
        if member is None:
            raise AssignRefused(f"crew member {crew_member_id!r} does not exist")
        if order.assignee_id == member.id:
            return order
        if order.assignee_id is not None and reason is None:
            raise ReasonRequired(f"{order.number}: reassigning from {order.assignee_id} needs a reason")
        _check(conn, order, member)
        _assign(conn, order, member, actor=actor, reason=reason, now=now)
    return queries.fetch(conn, order_id)


def _check(conn: psycopg.Connection, order: WorkOrder, member: CrewMember) -> None:
    if not member.active:
        raise AssignRefused(f"crew member {member.id!r} is no longer active")
    if member.unit_id != order.unit_id:
        raise AssignRefused(f"{order.number} belongs to unit {order.unit_id}, not {member.unit_id}")
    skill = queries.routing(conn, order.id).skill
    if skill != ANY_SKILL and skill not in member.skills:
        raise AssignRefused(f"{order.number} needs skill {skill!r}, which {member.id!r} lacks")
    if not covers(conn, member, order.site_id):
        raise AssignRefused(f"crew member {member.id!r} does not cover site {order.site_id}")


def _assign(conn: psycopg.Connection, order: WorkOrder, member: CrewMember, *, actor: str, reason: str | None,
            now: datetime) -> None:
    current = State(order.state)
    dispatching = current in _UNDISPATCHED
    conn.execute(
        """UPDATE work_orders SET assignee_id = %(crew)s, offered_to = NULL, offer_expires_at = NULL,
               updated_at = %(now)s,
               state = CASE WHEN %(dispatching)s THEN 'DISPATCHED' ELSE state END,
               acked_at = CASE WHEN %(dispatching)s THEN coalesce(acked_at, %(now)s) ELSE acked_at END,
               dispatched_at = CASE WHEN %(dispatching)s THEN coalesce(dispatched_at, %(now)s) ELSE dispatched_at END
           WHERE id = %(id)s""",
        {"crew": member.id, "now": now, "dispatching": dispatching, "id": order.id},
    )
    conn.execute(
        """UPDATE work_order_offers SET outcome = CASE WHEN crew_id = %s THEN 'accepted' ELSE 'superseded' END
           WHERE order_id = %s AND outcome IS NULL""",
        (member.id, order.id),
    )
    journal.record_event(
        conn, order.id, at=now, actor=actor, kind="assignment", note=reason,
        data={"from": order.assignee_id, "to": member.id, "off_shift": not member.available(now)},
    )
    if current is State.NEW:
        journal.record_event(conn, order.id, at=now, actor=actor, kind="transition", from_state=State.NEW,
                             to_state=State.ACKED)
    if dispatching:
        journal.record_event(conn, order.id, at=now, actor=actor, kind="transition", from_state=State.ACKED,
                             to_state=State.DISPATCHED, data={"assignee_id": member.id})
        satisfy_steps(conn, order.id, SATISFIES[State.DISPATCHED], now)
    after = dataclasses.replace(order, state=State.DISPATCHED.value if dispatching else order.state,
                                assignee_id=member.id)
    journal.enqueue(conn, after, "assigned", [{"kind": "crew", "id": member.id}], now=now, previous=order.assignee_id)
    journal.publish(conn, order.id)
