"""The outbox sender: route committed notifications into deliveries, send the due ones, retry with backoff.

Dispatch never sends from inside a transaction; it queues a row in ``dispatch_notifications`` (see
``dispatch.workorders.journal.enqueue``). ``deliver_pending`` then

1. routes each new notification once, in the transaction that marks it routed: one ``dispatch_deliveries`` row
   per channel its routes name, and one ``unrouted`` row for recipients no route reaches;
2. claims each due delivery by moving its next attempt past the backoff and counting the attempt, commits, and
   only then sends. A sender that dies mid-send leaves the delivery due again after the backoff; two senders
   never claim the same row. A delivery is ``sent`` on success, ``failed`` when retrying cannot help or after
   the policy's last attempt, otherwise ``pending`` until its next attempt.

Addresses are resolved at send time from the unit's contacts, the crew member's phone and the routes, and are
never written to the delivery or the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from dispatch.notify.message import Notification, Notifier, Recipient, Undeliverable
from dispatch.notify.routing import Router

log = logging.getLogger("dispatch.notify")
UNROUTED = "-"


@dataclass(frozen=True)
class Delivery:
    """One notification through one channel, and how that went."""

    id: int
    notification_id: int
    order_id: int | None
    channel: str
    channel_type: str
    recipients: list[dict[str, str]]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class OrderNotification:
    """A notification queued for an order, with its deliveries (none yet while it waits to be routed)."""

    id: int
    kind: str
    created_at: datetime
    routed_at: datetime | None
    payload: dict[str, Any]
    deliveries: list[Delivery]


def as_router(notifier: Notifier | Router) -> Router:
    """A router as given, or one sending everything through a single notifier."""
    return notifier if isinstance(notifier, Router) else Router.single(notifier)


def deliver_pending(conn: psycopg.Connection, notifier: Notifier | Router, *, now: datetime,
                    limit: int = 100) -> int:
    """Route new notifications and send the deliveries due at ``now``; return how many were sent.

    ``conn`` must be in autocommit mode: each claim commits before its send."""
    router = as_router(notifier)
    route_new(conn, router, now=now, limit=limit)
    return send_due(conn, router, now=now, limit=limit)


def route_new(conn: psycopg.Connection, router: Router, *, now: datetime, limit: int = 100) -> int:
    """Turn up to ``limit`` unrouted notifications into deliveries; return how many were routed."""
    routed = 0
    while routed < limit:
        with conn.transaction():
            row = conn.execute(
                """UPDATE dispatch_notifications SET routed_at = %(now)s
                   WHERE id = (SELECT id FROM dispatch_notifications WHERE routed_at IS NULL
                               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                   RETURNING id, kind, order_id, payload, created_at""",
                {"now": now},
            ).fetchone()
            if row is None:
                break
            notification = Notification(*row)
            plan = router.plan(notification, resolve_recipients(conn, notification.payload))
            for name, recipients in plan.deliveries.items():
                channel = router.channel(name)
                _insert(conn, notification, name, channel.type if channel else "?", recipients, "pending", now)
            if plan.unrouted:
                _insert(conn, notification, UNROUTED, UNROUTED, plan.unrouted, "unrouted", now,
                        error=f"no route for level {notification.level} {notification.kind}")
                log.warning("notification %d (%s, level %d): no channel for %s", notification.id, notification.kind,
                            notification.level, ", ".join(f"{r.kind}:{r.id}" for r in plan.unrouted))
        routed += 1
    return routed


def _insert(conn: psycopg.Connection, notification: Notification, channel: str, channel_type: str,
            recipients: Sequence[Recipient], state: str, now: datetime, *, error: str | None = None) -> None:
    conn.execute(
        """INSERT INTO dispatch_deliveries (notification_id, order_id, channel, channel_type, recipients, state,
               next_attempt_at, last_error, created_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (notification_id, channel) DO NOTHING""",
        (notification.id, notification.order_id, channel, channel_type,
         Jsonb([{"kind": r.kind, "id": r.id} for r in recipients]), state, now, error, now),
    )


def send_due(conn: psycopg.Connection, router: Router, *, now: datetime, limit: int = 100) -> int:
    """Send up to ``limit`` deliveries due at ``now``, oldest first; return how many went through."""
    sent = 0
    for _ in range(limit):
        claimed = _claim(conn, router, now)
        if claimed is None:
            break
        delivery_id, attempts, channel_name, notification, refs = claimed
        outcome, error = _send(conn, router, channel_name, notification, refs)
        if outcome == "pending" and attempts >= router.retry.attempts:
            outcome = "failed"
        with conn.transaction():
            conn.execute(
                """UPDATE dispatch_deliveries SET state = %s, last_error = %s,
                       sent_at = CASE WHEN %s = 'sent' THEN %s END WHERE id = %s""",
                (outcome, error, outcome, now, delivery_id),
            )
        if outcome == "sent":
            sent += 1
        else:
            log.warning("delivery %d of notification %d via %s, attempt %d: %s (%s)", delivery_id, notification.id,
                        channel_name, attempts, error, outcome)
    return sent


def _claim(conn: psycopg.Connection, router: Router,
           now: datetime) -> tuple[int, int, str, Notification, list[dict[str, str]]] | None:
    # The claim schedules the retry before sending: if this process dies mid-send, the row is due again then.
    with conn.transaction():
        row = conn.execute(
            """SELECT d.id, d.attempts, d.channel, d.recipients, n.id, n.kind, n.order_id, n.payload, n.created_at
               FROM dispatch_deliveries d JOIN dispatch_notifications n ON n.id = d.notification_id
               WHERE d.state = 'pending' AND d.next_attempt_at <= %s
               ORDER BY d.next_attempt_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED""",
            (now,),
        ).fetchone()
        if row is None:
            return None
        delivery_id, attempts, channel, refs = row[0], row[1] + 1, row[2], row[3]
        conn.execute(
            "UPDATE dispatch_deliveries SET attempts = %s, next_attempt_at = %s WHERE id = %s",
            (attempts, now + router.retry.delay(attempts), delivery_id),
        )
    return delivery_id, attempts, channel, Notification(*row[4:]), refs


def _send(conn: psycopg.Connection, router: Router, channel_name: str, notification: Notification,
          refs: list[dict[str, str]]) -> tuple[str, str | None]:
    channel = router.channel(channel_name)
    if channel is None:
        return "failed", f"channel {channel_name!r} is no longer configured"
    recipients = router.addressed(notification, channel_name, resolve_recipients(conn, {"recipients": refs}))
    try:
        channel.notifier.notify(notification, recipients)
    except Undeliverable as exc:
        return "failed", str(exc)
    except Exception as exc:
        # Only the class and the channel's own status text: an exception's full text may hold an address.
        detail = str(exc) if type(exc).__module__.startswith("dispatch.") else ""
        return "pending", f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return "sent", None


def resolve_recipients(conn: psycopg.Connection, payload: dict[str, Any]) -> list[Recipient]:
    """Recipients of a payload with their contact addresses: a unit's ``contacts`` (``phone``, ``email``: one
    or a list), a crew member's phone and unit."""
    result = []
    for entry in payload.get("recipients", []):
        if entry["kind"] == "crew":
            row = conn.execute("SELECT unit_id, phone FROM dispatch_crew WHERE id = %s", (entry["id"],)).fetchone()
            unit_id, phone = row if row else (None, "")
            result.append(Recipient("crew", entry["id"], unit_id=unit_id, phones=_addresses(phone)))
        else:
            row = conn.execute("SELECT contacts FROM dispatch_units WHERE id = %s", (entry["id"],)).fetchone()
            contacts = row[0] if row else {}
            result.append(Recipient("unit", entry["id"], unit_id=entry["id"], phones=_addresses(contacts.get("phone")),
                                    emails=_addresses(contacts.get("email"))))
    return result


def _addresses(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list):
        return tuple(str(v) for v in value if v)
    return ()


def order_notifications(conn: psycopg.Connection, order_id: int) -> list[OrderNotification]:
    """The notifications of a work order, oldest first, each with its deliveries."""
    with conn.cursor(row_factory=class_row(Delivery)) as cur:
        cur.execute(
            """SELECT id, notification_id, order_id, channel, channel_type, recipients, state, attempts,
                      next_attempt_at, last_error, created_at, sent_at
               FROM dispatch_deliveries WHERE order_id = %s ORDER BY id""",
            (order_id,),
        )
        deliveries = cur.fetchall()
    rows = conn.execute(
        "SELECT id, kind, created_at, routed_at, payload FROM dispatch_notifications WHERE order_id = %s ORDER BY id",
        (order_id,),
    ).fetchall()
    return [OrderNotification(*row, deliveries=[d for d in deliveries if d.notification_id == row[0]])
            for row in rows]
