"""Moving an order through the state machine: stamps, SLA steps met or cancelled, labour and parts recorded.

Every move happens in one transaction that also appends the event (actor, time, note, cost) and NOTIFYs
``pw_work_orders`` with ``{"id": .., "state": ..}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg import sql

from dispatch.errors import AssigneeRequired, IllegalTransition, InvalidOrder, ReasonRequired
from dispatch.states import SATISFIES, STAMPS, TERMINAL_STATES, TRANSITIONS, State, can_transition
from dispatch.workorders import journal, queries
from dispatch.workorders.model import CENT, WorkOrder
from rules.alarms import close_for_work_order

REASONED_TARGETS = frozenset({State.ON_HOLD, State.CANCELLED, State.FALSE_ALARM})


def transition(
    conn: psycopg.Connection,
    order_id: int,
    to_state: str,
    *,
    actor: str,
    note: str | None = None,
    cost: Decimal | None = None,
    parts: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
    photo_ids: list[int] | None = None,
) -> WorkOrder:
    """Move an order to ``to_state`` if the state machine allows it, recording actor, note, labour cost and parts.

    ``cost`` is labour cost in yuan; ``parts`` are ``{"name", "quantity", "unit_cost"}`` mappings. Raises
    ``IllegalTransition`` (naming the allowed targets), ``AssigneeRequired`` (DISPATCHED with nobody on it: use
    ``assign``), ``ReasonRequired`` (hold, cancel, false alarm or reopen without a note), ``InvalidOrder`` (a
    bad amount or part) or ``WorkOrderNotFound``.
    """
    now = now or datetime.now(UTC)
    try:
        target = State(to_state)
    except ValueError:
        raise IllegalTransition(f"unknown state {to_state!r}") from None
    labour = money(cost, "cost")
    parts_list, parts_cost = priced_parts(parts)
    with conn.transaction():
        order = queries.fetch(conn, order_id, lock=True)
        move(conn, order, target, actor=actor, now=now, note=note, labour_cost=labour, parts=parts_list,
             parts_cost=parts_cost, photo_ids=photo_ids)
    return queries.fetch(conn, order_id)


def move(
    conn: psycopg.Connection,
    order: WorkOrder,
    target: State,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
    labour_cost: Decimal | None = None,
    parts: list[dict[str, Any]] | None = None,
    parts_cost: Decimal = Decimal("0.00"),
    photo_ids: list[int] | None = None,
) -> None:
    """Move ``order``, whose row the caller has locked in its transaction, to ``target``; raises
    ``IllegalTransition`` when the state machine does not allow it, ``AssigneeRequired`` and ``ReasonRequired``
    as ``transition`` does."""
    current = State(order.state)
    if not can_transition(current, target):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        raise IllegalTransition(f"{order.number}: {current} → {target} is not allowed (from {current}: {allowed})")
    if target is State.DISPATCHED and order.assignee_id is None:
        raise AssigneeRequired(f"{order.number}: nobody is on it; assign a crew member to dispatch it")
    if needs_reason(current, target) and not (note and note.strip()):
        raise ReasonRequired(f"{order.number}: {current} → {target} needs a reason")
    _apply_state(conn, order.id, current, target, now)
    if target in TERMINAL_STATES:  # alarms with no clearing event, and latched ones, end with their order
        alarm_ids = [r[0] for r in conn.execute("SELECT alarm_id FROM work_order_alarms WHERE order_id = %s",
                                                (order.id,))]
        close_for_work_order(conn, alarm_ids, actor=actor, reason=f"{order.number} {target.value}")
    journal.record_event(
        conn, order.id, at=now, actor=actor, kind="transition", from_state=current, to_state=target, note=note,
        labour_cost=labour_cost, parts=parts, parts_cost=parts_cost, photo_ids=photo_ids,
    )
    journal.publish(conn, order.id)


def needs_reason(current: State, target: State) -> bool:
    """Whether a move must say why: holding, cancelling, declaring a false alarm, reopening."""
    return target in REASONED_TARGETS or (current is State.RESOLVED and target is State.IN_PROGRESS)


def _apply_state(conn: psycopg.Connection, order_id: int, current: State, target: State, now: datetime) -> None:
    sets = [sql.SQL("state = %(to)s"), sql.SQL("updated_at = %(now)s")]
    stamp = "closed_at" if target in TERMINAL_STATES else STAMPS.get(target)
    if stamp:
        column = sql.Identifier(stamp)
        sets.append(sql.SQL("{} = coalesce({}, %(now)s)").format(column, column))
    reopened = current is State.RESOLVED and target is State.IN_PROGRESS
    if reopened:
        sets.append(sql.SQL("resolved_at = NULL"))
    if target in TERMINAL_STATES or target is State.DISPATCHED:
        sets.append(sql.SQL("offered_to = NULL, offer_expires_at = NULL"))
        conn.execute("UPDATE work_order_offers SET outcome = 'superseded' WHERE order_id = %s AND outcome IS NULL",
                     (order_id,))
    conn.execute(
        sql.SQL("UPDATE work_orders SET {} WHERE id = %(id)s").format(sql.SQL(", ").join(sets)),
        {"to": target.value, "now": now, "id": order_id},
    )
    satisfy_steps(conn, order_id, SATISFIES.get(target, ()), now)
    if reopened:
        conn.execute("UPDATE sla_steps SET satisfied_at = NULL WHERE order_id = %s AND step = 'resolve'", (order_id,))
    if target in TERMINAL_STATES:
        conn.execute(
            """UPDATE sla_steps SET cancelled_at = %s
               WHERE order_id = %s AND satisfied_at IS NULL AND fired_at IS NULL AND cancelled_at IS NULL""",
            (now, order_id),
        )


def satisfy_steps(conn: psycopg.Connection, order_id: int, steps: tuple[str, ...], now: datetime) -> None:
    """Mark the order's ``steps`` met at ``now`` (those not met already)."""
    if steps:
        conn.execute(
            "UPDATE sla_steps SET satisfied_at = %s WHERE order_id = %s AND step = ANY (%s) AND satisfied_at IS NULL",
            (now, order_id, list(steps)),
        )


def money(value: Any, name: str) -> Decimal | None:
    """``value`` as yuan in whole fen, ``None`` when absent; ``InvalidOrder`` (naming ``name``) when it is not a
    non-negative amount."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidOrder(f"{name} must be a decimal amount, not {value!r}") from None
    if amount < 0 or amount != amount.quantize(CENT):
        raise InvalidOrder(f"{name} must be a non-negative amount in whole fen (0.01), not {value!r}")
    return amount.quantize(CENT)


def priced_parts(parts: list[dict[str, Any]] | None) -> tuple[list[dict[str, str]], Decimal]:
    """The parts as stored (name, quantity, unit cost as text) and their total; ``InvalidOrder`` for a part
    without a name or a positive quantity, or with a bad unit cost."""
    stored, total = [], Decimal("0.00")
    for part in parts or []:
        name = str(part.get("name") or "").strip()
        if not name:
            raise InvalidOrder("every part needs a name")
        try:
            quantity = Decimal(str(part.get("quantity", 1)))
        except InvalidOperation:
            raise InvalidOrder(f"part {name!r}: quantity must be a number") from None
        if quantity <= 0:
            raise InvalidOrder(f"part {name!r}: quantity must be positive")
        unit_cost = money(part.get("unit_cost"), f"part {name!r} unit_cost") or Decimal("0.00")
        total += (quantity * unit_cost).quantize(CENT)
        stored.append({"name": name, "quantity": str(quantity), "unit_cost": str(unit_cost)})
    return stored, total
