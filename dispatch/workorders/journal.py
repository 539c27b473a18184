"""What every change to an order writes beside the row: the append-only event, the NOTIFY, the outbox entry.

Writers call these inside their own transaction; ``publish`` and ``enqueue`` take effect when it commits.
"""

from __future__ import annotations

import json
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


def publish(conn: psycopg.Connection, order_id: int, state: str) -> None:
    """NOTIFY ``pw_work_orders`` with the order's id and state (delivered when the transaction commits)."""
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps({"id": order_id, "state": str(state)})))


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
