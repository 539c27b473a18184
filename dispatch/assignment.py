"""Offering orders to crew: the on-shift member of the responsible unit with the skill and the least open work.

An offer expires after the list item's acceptance timeout; ``reassign_expired`` then offers the order to the next
best member who has not had it yet. Accepting (``dispatch.workorders.accept``) is open to any eligible member of
the unit, so a late accept by the first offeree and an accept by the second can race; row locks make exactly one
of them win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from dispatch import orders
from dispatch.states import OPEN_STATES, State

SYSTEM_ACTOR = "system:dispatch"
_OPEN = [s.value for s in OPEN_STATES]


def choose_crew(conn: psycopg.Connection, order: orders.WorkOrder, *, skill: str, exclude: list[str]) -> str | None:
    """The eligible crew member with the least open work (ties by id), or ``None``."""
    row = conn.execute(
        """SELECT c.id FROM dispatch_crew c
           WHERE c.unit_id = %(unit)s AND c.on_shift AND (%(skill)s = 'any' OR %(skill)s = ANY (c.skills))
             AND NOT (c.id = ANY (%(exclude)s))
           ORDER BY (SELECT count(*) FROM work_orders w WHERE w.assignee_id = c.id AND w.state = ANY (%(open)s)),
                    c.id
           LIMIT 1""",
        {"unit": order.unit_id, "skill": skill, "exclude": exclude, "open": _OPEN},
    ).fetchone()
    return row[0] if row else None


def offer(conn: psycopg.Connection, order_id: int, *, now: datetime) -> str | None:
    """Offer an unassigned order to the best crew member who has not had it yet; return who, or ``None``.

    Runs inside the caller's transaction. With nobody left, the responsible unit is told to assign by hand.
    """
    order = orders.fetch(conn, order_id, lock=True)
    if order.assignee_id is not None or State(order.state) not in (State.NEW, State.ACKED):
        return None
    skill, timeout_s = conn.execute(
        "SELECT skill, accept_timeout_s FROM work_orders WHERE id = %s", (order_id,)
    ).fetchone()
    previous = [r[0] for r in conn.execute("SELECT crew_id FROM work_order_offers WHERE order_id = %s", (order_id,))]
    crew_id = choose_crew(conn, order, skill=skill, exclude=previous)
    if crew_id is None:
        conn.execute(
            "UPDATE work_orders SET offered_to = NULL, offer_expires_at = NULL, updated_at = %s WHERE id = %s",
            (now, order_id),
        )
        orders.record_event(conn, order_id, at=now, actor=SYSTEM_ACTOR, kind="offer",
                            note="no eligible crew member left: assign by hand", data={"crew_id": None})
        orders.enqueue(conn, order, "unassigned", [{"kind": "unit", "id": order.unit_id}], now=now)
        return None
    expires = now + timedelta(seconds=timeout_s)
    conn.execute(
        "INSERT INTO work_order_offers (order_id, crew_id, offered_at, expires_at) VALUES (%s, %s, %s, %s)",
        (order_id, crew_id, now, expires),
    )
    conn.execute(
        "UPDATE work_orders SET offered_to = %s, offer_expires_at = %s, updated_at = %s WHERE id = %s",
        (crew_id, expires, now, order_id),
    )
    orders.record_event(conn, order_id, at=now, actor=SYSTEM_ACTOR, kind="offer",
                        data={"crew_id": crew_id, "expires_at": expires.isoformat()})
    orders.enqueue(conn, order, "offer", [{"kind": "crew", "id": crew_id}], now=now,
                   expires_at=expires.isoformat())
    orders.publish(conn, order)
    return crew_id


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
            orders.record_event(conn, order_id, at=now, actor=SYSTEM_ACTOR, kind="offer_timeout",
                                data={"crew_id": crew_id})
            offer(conn, order_id, now=now)
            count += 1
    return count
