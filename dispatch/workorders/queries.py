"""Reading work orders: one by id, the open order of an incident or an alarm, filtered pages, an order's history.

Each read is one statement; ``lock`` variants take the order's row lock in the same statement (callers inside
a transaction).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dispatch.errors import WorkOrderNotFound
from dispatch.states import GOV_CODES, OPEN_STATES, State
from dispatch.workorders.addresses import address_key
from dispatch.workorders.model import CENT, Routing, WorkOrder, WorkOrderEvent

_OPEN = [s.value for s in OPEN_STATES]
_SELECT = """
SELECT wo.*,
       (SELECT jsonb_object_agg(s.step, s.due_at) FROM sla_steps s WHERE s.order_id = wo.id) AS due,
       (SELECT coalesce(sum(coalesce(e.labour_cost, 0) + e.parts_cost), 0)
          FROM work_order_events e WHERE e.order_id = wo.id) AS cost_total,
       (SELECT min(a.alarm_id) FROM work_order_alarms a WHERE a.order_id = wo.id) AS alarm_id
FROM work_orders wo
WHERE {where}
"""
_FIELDS = frozenset(WorkOrder.__dataclass_fields__)


def _to_order(row: dict[str, Any]) -> WorkOrder:
    values = {k: v for k, v in row.items() if k in _FIELDS}
    values["due"] = {step: datetime.fromisoformat(at) for step, at in (row["due"] or {}).items()}
    values["gov_code"] = GOV_CODES[State(row["state"])]
    values["cost_total"] = Decimal(row["cost_total"]).quantize(CENT)
    return WorkOrder(**values)


def _first(conn: psycopg.Connection, where: str, params: dict[str, Any], *, lock: bool) -> WorkOrder | None:
    query = sql.SQL(_SELECT + " ORDER BY wo.id DESC LIMIT 1 {lock}").format(
        where=sql.SQL(where), lock=sql.SQL("FOR UPDATE OF wo" if lock else "")  # type: ignore[arg-type]
    )
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, params).fetchone()
    return _to_order(row) if row else None


def fetch(conn: psycopg.Connection, order_id: int, *, lock: bool = False) -> WorkOrder:
    """One order; ``lock`` takes its row lock. Raises ``WorkOrderNotFound``."""
    order = _first(conn, "wo.id = %(id)s", {"id": order_id}, lock=lock)
    if order is None:
        raise WorkOrderNotFound(f"work order {order_id} does not exist")
    return order


def get_work_order(conn: psycopg.Connection, order_id: int) -> WorkOrder | None:
    """One order, or ``None``."""
    return _first(conn, "wo.id = %(id)s", {"id": order_id}, lock=False)


def open_order_of_incident(conn: psycopg.Connection, incident_key: str) -> WorkOrder | None:
    """The open order of an incident, row-locked, or ``None``."""
    return _first(conn, "wo.incident_key = %(key)s AND wo.state = ANY (%(open)s)",
                  {"key": incident_key, "open": _OPEN}, lock=True)


def open_order_of_alarm(conn: psycopg.Connection, alarm_id: int) -> WorkOrder | None:
    """The newest open order an alarm is attached to, row-locked, or ``None``."""
    return _first(
        conn,
        """wo.state = ANY (%(open)s)
           AND wo.id IN (SELECT a.order_id FROM work_order_alarms a WHERE a.alarm_id = %(alarm)s)""",
        {"alarm": alarm_id, "open": _OPEN}, lock=True,
    )


def routing(conn: psycopg.Connection, order_id: int) -> Routing:
    """The order's skill, offer timeout, escalation chain and breach actions."""
    skill, timeout_s, escalation, on_breach = conn.execute(
        "SELECT skill, accept_timeout_s, escalation, on_breach FROM work_orders WHERE id = %s", (order_id,)
    ).fetchone()
    return Routing(skill, timedelta(seconds=timeout_s), escalation, on_breach)


_FILTERS = sql.SQL(
    """(%(sites)s::text[] IS NULL OR wo.site_id = ANY (%(sites)s))
       AND (%(states)s::text[] IS NULL OR wo.state = ANY (%(states)s))
       AND (%(unit)s::text IS NULL OR wo.unit_id = %(unit)s)
       AND (%(assignee)s::text IS NULL OR wo.assignee_id = %(assignee)s)
       AND (%(origins)s::text[] IS NULL OR wo.origin = ANY (%(origins)s))
       AND (%(category)s::text IS NULL OR wo.category = %(category)s)
       AND (%(severity)s::text IS NULL OR wo.severity = %(severity)s)
       AND (%(building)s::text IS NULL OR wo.building_id = %(building)s)
       AND (%(device)s::text IS NULL OR wo.device_id = %(device)s)
       AND (%(reporter)s::text IS NULL OR wo.reporter_user = %(reporter)s)
       AND (%(since)s::timestamptz IS NULL OR wo.created_at >= %(since)s)
       AND (%(until)s::timestamptz IS NULL OR wo.created_at < %(until)s)
       AND (%(search)s::text IS NULL OR wo.number ILIKE %(search)s OR wo.title ILIKE %(search)s
            OR wo.title_en ILIKE %(search)s OR wo.description ILIKE %(search)s OR wo.address ILIKE %(search)s
            OR wo.address_key LIKE %(search_key)s)"""
)


@dataclass(frozen=True)
class OrderFilter:
    """What a listing of orders is narrowed to; every field left ``None`` matches everything.

    ``search`` finds the words as typed in the number, title, description and address, and in the address
    normalised as repeat detection does (``address_key``), so "3号楼２单元" finds "3号楼 2单元".
    """

    states: Sequence[str] | None = None
    unit_id: str | None = None
    assignee_id: str | None = None
    origins: Sequence[str] | None = None
    category: str | None = None
    severity: str | None = None
    building_id: str | None = None
    device_id: str | None = None
    reporter_user: str | None = None
    created_since: datetime | None = None
    created_until: datetime | None = None
    search: str | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters(sites: Sequence[str] | None, found: OrderFilter) -> dict[str, Any]:
    search = (found.search or "").strip() or None
    key = address_key(search) if search else None
    return {"sites": None if sites is None else list(sites), "states": list(found.states) if found.states else None,
            "unit": found.unit_id, "assignee": found.assignee_id,
            "origins": list(found.origins) if found.origins else None, "category": found.category,
            "severity": found.severity, "building": found.building_id, "device": found.device_id,
            "reporter": found.reporter_user, "since": found.created_since, "until": found.created_until,
            "search": _like(search) if search else None, "search_key": _like(key) if key else None}


def _newest_first(conn: psycopg.Connection, filters: dict[str, Any], *, limit: int, offset: int) -> list[WorkOrder]:
    query = sql.SQL(_SELECT + " ORDER BY wo.created_at DESC, wo.id DESC LIMIT %(limit)s OFFSET %(offset)s").format(
        where=_FILTERS
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, {**filters, "limit": limit, "offset": offset}).fetchall()
    return [_to_order(row) for row in rows]


def page_work_orders(
    conn: psycopg.Connection,
    *,
    sites: Sequence[str] | None,
    states: Sequence[str] | None = None,
    unit_id: str | None = None,
    assignee_id: str | None = None,
    where: OrderFilter | None = None,
    limit: int,
    offset: int,
) -> tuple[list[WorkOrder], int]:
    """One page of the orders matching every given filter, newest first, and how many match in all.

    ``sites=None`` means every site; an empty sequence matches nothing (a user scoped to no estate). ``where``
    holds the other filters and the search; ``states``, ``unit_id`` and ``assignee_id`` given here override it.
    """
    chosen = dataclasses.replace(where or OrderFilter(), **{k: v for k, v in (
        ("states", states), ("unit_id", unit_id), ("assignee_id", assignee_id)) if v is not None})
    filters = _filters(sites, chosen)
    count = sql.SQL("SELECT count(*) FROM work_orders wo WHERE {}").format(_FILTERS)
    total = conn.execute(count, filters).fetchone()[0]
    return _newest_first(conn, filters, limit=limit, offset=offset), total


def list_work_orders(
    conn: psycopg.Connection,
    *,
    states: list[str] | None = None,
    site_id: str | None = None,
    unit_id: str | None = None,
    assignee_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[WorkOrder]:
    """Orders matching every given filter, newest first."""
    filters = _filters(None if site_id is None else [site_id],
                       OrderFilter(states=states, unit_id=unit_id, assignee_id=assignee_id))
    return _newest_first(conn, filters, limit=limit, offset=offset)


def events(conn: psycopg.Connection, order_id: int) -> list[WorkOrderEvent]:
    """An order's history, oldest first. Raises ``WorkOrderNotFound``."""
    fetch(conn, order_id)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """SELECT id, order_id, at, actor, kind, from_state, to_state, note, labour_cost, parts, parts_cost,
                      photo_ids, data
               FROM work_order_events WHERE order_id = %s ORDER BY id""",
            (order_id,),
        ).fetchall()
    return [WorkOrderEvent(**row) for row in rows]
