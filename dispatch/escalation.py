"""SLA timers: fire each due step once, escalate the order one level along its chain and queue the notice.

A step is claimed with ``UPDATE sla_steps SET fired_at = .. WHERE fired_at IS NULL .. RETURNING`` in the same
transaction that raises the order's escalation level and queues the notification, so a crash or restart can
neither lose a step (it stays unclaimed until that transaction commits) nor fire it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from dispatch.workorders import journal, queries

SLA_ACTOR = "system:sla"
STEP_RANK = {"ack": 1, "dispatch": 2, "arrive": 3, "resolve": 4}


@dataclass(frozen=True)
class FiredStep:
    """One SLA step that ran out: which order, which step, the level the order reached and who was told."""

    order_id: int
    step: str
    due_at: datetime
    level: int
    recipients: list[str]
    platform_dispatch: bool


def fire_due_steps(conn: psycopg.Connection, *, now: datetime, limit: int = 100) -> list[FiredStep]:
    """Fire every SLA step due at or before ``now`` that is neither satisfied nor cancelled nor fired."""
    fired: list[FiredStep] = []
    while len(fired) < limit:
        with conn.transaction():
            row = conn.execute(
                """UPDATE sla_steps SET fired_at = %(now)s
                   WHERE id = (SELECT id FROM sla_steps
                               WHERE fired_at IS NULL AND satisfied_at IS NULL AND cancelled_at IS NULL
                                 AND due_at <= %(now)s
                               ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                     AND fired_at IS NULL
                   RETURNING id, order_id, step, due_at""",
                {"now": now},
            ).fetchone()
            if row is None:
                break
            fired.append(_escalate(conn, order_id=row[1], step=row[2], due_at=row[3], now=now))
    return fired


def _escalate(conn: psycopg.Connection, *, order_id: int, step: str, due_at: datetime, now: datetime) -> FiredStep:
    order = queries.fetch(conn, order_id, lock=True)
    routing = queries.routing(conn, order_id)
    chain = routing.escalation
    # A breach raises the order one level, and a later step at least to its own rank (a missed arrival reaches
    # the third level even when ack and dispatch were on time). Past the end of the chain the last level is told
    # again: every breach reaches someone.
    wanted = max(order.escalation_level + 1, STEP_RANK[step])
    level = min(wanted, len(chain)) if chain else wanted
    recipients = list(chain[level - 1]) if chain else [order.unit_id]
    platform_dispatch = routing.on_breach.get(step) == "platform_dispatch"
    conn.execute(
        """UPDATE work_orders SET escalation_level = %s, platform_dispatch = platform_dispatch OR %s, updated_at = %s
           WHERE id = %s""",
        (level, platform_dispatch, now, order_id),
    )
    note = f"SLA step {step!r} missed (due {due_at.isoformat()}); escalated to level {level}"
    if platform_dispatch:
        note += "; flagged for the platform to dispatch the nearest other unit"
    journal.record_event(
        conn, order_id, at=now, actor=SLA_ACTOR, kind="escalation", note=note,
        data={"step": step, "due_at": due_at.isoformat(), "level": level, "recipients": recipients,
              "platform_dispatch": platform_dispatch},
    )
    journal.enqueue(
        conn, order, "sla_breach", [{"kind": "unit", "id": unit} for unit in recipients], now=now,
        step=step, due_at=due_at.isoformat(), level=level, platform_dispatch=platform_dispatch,
    )
    journal.publish(conn, order.id)
    return FiredStep(order_id, step, due_at, level, recipients, platform_dispatch)
