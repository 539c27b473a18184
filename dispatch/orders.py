"""Work-order records and their storage: reading orders, the append-only event log, change notifications.

This is the layer the lifecycle (``dispatch.workorders``), assignment and escalation modules share. Writers call
these inside their own transaction; ``publish`` and ``enqueue`` take effect when that transaction commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from dispatch.states import GOV_CODES, State

CHANNEL = "pw_work_orders"
CENT = Decimal("0.01")


class WorkOrderNotFound(ValueError):
    """No work order has this id."""


class IllegalTransition(ValueError):
    """The state machine does not allow the requested move (the message names both states)."""


@dataclass(frozen=True)
class WorkOrder:
    """One work order. ``due`` maps SLA steps (ack, dispatch, arrive, resolve) to deadlines;
    ``cost_total`` is labour plus parts over all its events."""

    id: int
    number: str
    site_id: str
    building_id: str | None
    device_id: str | None
    category: str
    severity: str
    origin: str
    state: str
    title: str
    unit_id: str
    assignee_id: str | None
    created_at: datetime
    acked_at: datetime | None
    dispatched_at: datetime | None
    on_site_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    due: dict[str, datetime]
    escalation_level: int
    emergency: bool
    fund_category: str | None
    gov_code: str
    component: str = ""
    en_route_at: datetime | None = None
    description: str | None = None
    address: str | None = None
    reporter_contact: str | None = None
    repeat_of: int | None = None
    incident_key: str | None = None
    alarm_id: int | None = None
    offered_to: str | None = None
    offer_expires_at: datetime | None = None
    platform_dispatch: bool = False
    cost_total: Decimal = Decimal("0.00")
    responsibility_version: int | None = None


@dataclass(frozen=True)
class WorkOrderEvent:
    """One append-only entry of an order's history: a transition, an attached alarm, an offer, an escalation."""

    id: int
    order_id: int
    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    note: str | None
    labour_cost: Decimal | None
    parts: list[dict[str, Any]]
    parts_cost: Decimal
    photo_ids: list[int]
    data: dict[str, Any] = field(default_factory=dict)


_SELECT = """
SELECT wo.*,
       (SELECT jsonb_object_agg(s.step, s.due_at) FROM sla_steps s WHERE s.order_id = wo.id) AS due,
       (SELECT coalesce(sum(coalesce(e.labour_cost, 0) + e.parts_cost), 0)
          FROM work_order_events e WHERE e.order_id = wo.id) AS cost_total,
       (SELECT min(a.alarm_id) FROM work_order_alarms a WHERE a.order_id = wo.id) AS alarm_id
FROM work_orders wo
"""
_FIELDS = {f for f in WorkOrder.__dataclass_fields__}


def _to_order(row: dict[str, Any]) -> WorkOrder:
    values = {k: v for k, v in row.items() if k in _FIELDS}
    values["due"] = {step: datetime.fromisoformat(at) for step, at in (row["due"] or {}).items()}
    values["gov_code"] = GOV_CODES[State(row["state"])]
    values["cost_total"] = Decimal(row["cost_total"]).quantize(CENT)
    return WorkOrder(**values)


def fetch(conn: psycopg.Connection, order_id: int, *, lock: bool = False) -> WorkOrder:
    """One order; ``lock`` takes its row lock first (callers inside a transaction). Raises ``WorkOrderNotFound``."""
    if lock and conn.execute("SELECT 1 FROM work_orders WHERE id = %s FOR UPDATE", (order_id,)).fetchone() is None:
        raise WorkOrderNotFound(f"work order {order_id} does not exist")
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE wo.id = %s", (order_id,)).fetchone()
    if row is None:
        raise WorkOrderNotFound(f"work order {order_id} does not exist")
    return _to_order(row)


def query(conn: psycopg.Connection, where: str, params: dict[str, Any], *, limit: int, offset: int) -> list[WorkOrder]:
    """Orders matching a fixed ``where`` clause written by this package (parameters bound, never formatted)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _SELECT + f" WHERE {where} ORDER BY wo.created_at DESC, wo.id DESC LIMIT %(limit)s OFFSET %(offset)s",
            {**params, "limit": limit, "offset": offset},
        ).fetchall()
    return [_to_order(row) for row in rows]


def page(
    conn: psycopg.Connection, where: str, params: dict[str, Any], *, limit: int, offset: int
) -> tuple[list[WorkOrder], int]:
    """One page of ``query`` (newest first) and the count of every order the clause matches."""
    count = sql.SQL("SELECT count(*) FROM work_orders wo WHERE {}").format(sql.SQL(where))  # type: ignore[arg-type]
    total = conn.execute(count, params).fetchone()[0]
    return query(conn, where, params, limit=limit, offset=offset), total


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


def list_events(conn: psycopg.Connection, order_id: int) -> list[WorkOrderEvent]:
    """An order's history, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """SELECT id, order_id, at, actor, kind, from_state, to_state, note, labour_cost, parts, parts_cost,
                      photo_ids, data
               FROM work_order_events WHERE order_id = %s ORDER BY id""",
            (order_id,),
        ).fetchall()
    return [WorkOrderEvent(**row) for row in rows]


def publish(conn: psycopg.Connection, order: WorkOrder | int, state: str | None = None) -> None:
    """NOTIFY ``pw_work_orders`` with the order's id and state (delivered when the transaction commits)."""
    order_id, state = (order.id, order.state) if isinstance(order, WorkOrder) else (order, state)
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps({"id": order_id, "state": state})))


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
