"""What a finished repair must say: the note of what was done, and a cost the order's fund draw can complete at.

A work order's fund draw completes at exactly the labour and parts the order records (``dispatch.fund.draws``),
so a repair resolved at ¥0.00 while a draw is pending or approved would leave the draw impossible to complete.
``check_resolution`` refuses such a resolution; ``record_costs`` adds labour and parts to an order already
resolved, verified or closed (a ``cost`` event, summed into ``cost_total`` like every other event's).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg

from dispatch.errors import Conflict, CostRequired, InvalidOrder, NoteRequired
from dispatch.workorders import journal, queries
from dispatch.workorders.lifecycle import money, priced_parts
from dispatch.workorders.model import WorkOrder

# Draws still waiting for the order's cost: the reviewer has not decided, or approved and it is not yet paid.
OPEN_DRAW_STATES = ("pending", "approved")
# Where a cost may still be recorded after the repair: resolved, checked, or closed after the check.
COSTED_STATES = frozenset({"RESOLVED", "VERIFIED", "CLOSED"})


def open_draw(conn: psycopg.Connection, order_id: int) -> int | None:
    """The id of the order's fund draw that is pending or approved, if there is one."""
    row = conn.execute("SELECT id FROM fund_draws WHERE work_order_id = %s AND state = ANY(%s)",
                       (order_id, list(OPEN_DRAW_STATES))).fetchone()
    return row[0] if row else None


def check_resolution(conn: psycopg.Connection, order: WorkOrder, *, note: str | None, cost: Decimal | None,
                     parts: list[dict[str, Any]] | None) -> None:
    """Refuse a resolution without a note of what was done (``NoteRequired``), and one that leaves the order's
    cost at zero while a fund draw on it is pending or approved (``CostRequired``)."""
    if not (note and note.strip()):
        raise NoteRequired(f"{order.number}: say what was done to resolve it (note)")
    labour = money(cost, "cost") or Decimal("0.00")
    _, parts_cost = priced_parts(parts)
    draw = open_draw(conn, order.id)
    if draw is not None and order.cost_total + labour + parts_cost <= 0:
        raise CostRequired(f"{order.number}: fund draw {draw} completes at the order's cost; record the labour "
                           "and parts (above ¥0.00)")


def record_costs(conn: psycopg.Connection, order_id: int, *, actor: str, note: str | None,
                 cost: Decimal | None, parts: list[dict[str, Any]] | None, now: datetime | None = None) -> WorkOrder:
    """Add labour ``cost`` and ``parts`` to an order whose repair is done (RESOLVED, VERIFIED or CLOSED), with a
    note saying why they come late. Raises ``NoteRequired`` without the note, ``InvalidOrder`` when nothing is
    added, ``Conflict`` for an order still being worked or ended without a repair."""
    now = now or datetime.now(UTC)
    if not (note and note.strip()):
        raise NoteRequired("say what the cost is for (note)")
    labour = money(cost, "cost")
    stored, parts_cost = priced_parts(parts)
    if (labour or Decimal(0)) + parts_cost <= 0:
        raise InvalidOrder("record a labour cost or parts above ¥0.00")
    with conn.transaction():
        order = queries.fetch(conn, order_id, lock=True)
        if order.state not in COSTED_STATES:
            raise Conflict(f"{order.number} is {order.state}: costs are added here once the repair is done; "
                           "while it is worked, the crew records them")
        journal.record_event(conn, order.id, at=now, actor=actor, kind="cost", note=note.strip(),
                             labour_cost=labour, parts=stored, parts_cost=parts_cost)
        journal.publish(conn, order.id)
    return queries.fetch(conn, order_id)
