"""What every change to an order writes beside the row: the append-only event, the NOTIFY, the outbox entry.

Writers call these inside their own transaction; ``publish`` and ``enqueue`` take effect when it commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dispatch.workorders.model import WorkOrder

CHANNEL = "pw_work_orders"


def record_event(
    conn: psycopg.Connection,
    order_id: int,
    *,
    at: datetime,
    actor: str,
    kind: str,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str | None = None,
    labour_cost: Decimal | None = None,
    parts: list[dict[str, Any]] | None = None,
    parts_cost: Decimal = Decimal("0.00"),
    photo_ids: list[int] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Append one event to an order's history and return its id."""
    return conn.execute(
        """INSERT INTO work_order_events (order_id, at, actor, kind, from_state, to_state, note, labour_cost, parts,
               parts_cost, photo_ids, data)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (order_id, at, actor, kind, from_state, to_state, note, labour_cost, Jsonb(parts or []), parts_cost,
         photo_ids or [], Jsonb(data or {})),
    ).fetchone()[0]


# What a crew member's phone needs to decide on an offer: what, where, whose. Never the reporter's contact; the
# description is cut so the payload stays far below PostgreSQL's 8000-byte NOTIFY limit.
_NOTICE = """
SELECT pg_notify(%s, json_build_object(
    'id', id, 'state', state, 'number', number, 'site_id', site_id, 'building_id', building_id,
    'unit_id', unit_id, 'assignee_id', assignee_id, 'offered_to', offered_to, 'category', category,
    'severity', severity, 'origin', origin, 'title', title, 'title_en', title_en, 'address', address,
    'description', left(description, %s))::text)
FROM work_orders WHERE id = %s
"""
NOTICE_DESCRIPTION_CHARS = 500


def publish(conn: psycopg.Connection, order_id: int) -> None:
    """NOTIFY ``pw_work_orders`` with the order as it now is in this transaction (delivered at commit): id,
    state, number, place, unit, assignee and offeree, category, titles, address and the start of the
    description."""
    conn.execute(_NOTICE, (CHANNEL, NOTICE_DESCRIPTION_CHARS, order_id))


def enqueue(
    conn: psycopg.Connection, order: WorkOrder, kind: str, recipients: list[dict[str, str]], *, now: datetime,
    **extra: Any,
) -> None:
    """Queue a notification for the outbox (sent by ``dispatch.notify.deliver_pending`` after commit).

    The payload carries ids and codes only: recipients are unit or crew ids, resolved to contacts at send time.
    """
    payload = {
        "order_id": order.id, "number": order.number, "site_id": order.site_id, "category": order.category,
        "severity": order.severity, "state": order.state, "recipients": recipients, **extra,
    }
    conn.execute(
        "INSERT INTO dispatch_notifications (order_id, kind, payload, created_at) VALUES (%s, %s, %s, %s)",
        (order.id, kind, Jsonb(payload), now),
    )
