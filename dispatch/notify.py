"""Notifications: the outbox sender and the pluggable channels (log, signed webhook, SMS/WeChat gateways).

Dispatch code never sends from inside a transaction; it queues a row in ``dispatch_notifications`` (see
``dispatch.workorders.journal.enqueue``) and ``deliver_pending`` sends committed rows. Payloads and logs carry
ids and codes, never names or phone numbers; a channel that needs a phone number gets it from the ``Recipient``
at send time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import psycopg

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Propwatch-Signature"
TIMESTAMP_HEADER = "X-Propwatch-Timestamp"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Recipient:
    """Who a notification is for. ``phone``/``wechat`` are only read by channels that need them."""

    kind: str  # "unit" or "crew"
    id: str
    phone: str | None = None
    wechat: str | None = None


@dataclass(frozen=True)
class Notification:
    """One queued notice: ``kind`` is opened, offer, unassigned or sla_breach; ``payload`` holds ids only."""

    id: int
    kind: str
    order_id: int | None
    payload: dict[str, Any]
    created_at: datetime

    def summary(self) -> str:
        """A one-line text without personal data, for logs, SMS and chat messages."""
        p = self.payload
        text = f"[{p.get('severity')}] {p.get('number')} {p.get('category')} at {p.get('site_id')}: {self.kind}"
        if self.kind == "sla_breach":
            text += f" (step {p.get('step')}, level {p.get('level')})"
            if p.get("platform_dispatch"):
                text += " — platform to dispatch the nearest other unit"
        return text


class Notifier(Protocol):
    """Anything that can deliver a notification to its recipients; raise to have it retried later."""

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None: ...


class TextGateway(Protocol):
    """An SMS or WeChat provider adaptor: send ``text`` to one address (phone number or OpenID)."""

    def send_text(self, address: str, text: str) -> None: ...


class LogNotifier:
    """Writes each notification to the log (ids and codes only)."""

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """Log one line per notification."""
        log.info("notify %s -> %s", notification.summary(), ", ".join(f"{r.kind}:{r.id}" for r in recipients))


class WebhookNotifier:
    """POSTs the notification as JSON, signed with HMAC-SHA256 over ``"<timestamp>.<body>"``.

    Headers: ``X-Propwatch-Timestamp`` (Unix seconds) and ``X-Propwatch-Signature: sha256=<hex>``; receivers check
    both with ``verify_signature`` to reject forged and replayed calls.
    """

    def __init__(self, url: str, secret: bytes, *, timeout_s: float = 5.0) -> None:
        self.url = url
        self._secret = secret
        self._timeout_s = timeout_s

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """Send one POST; raise on a non-2xx answer or a network error."""
        body = json.dumps(
            {"id": notification.id, "kind": notification.kind, "created_at": notification.created_at.isoformat(),
             "payload": notification.payload, "recipients": [{"kind": r.kind, "id": r.id} for r in recipients]},
            ensure_ascii=False, sort_keys=True,
        ).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                     SIGNATURE_HEADER: sign(self._secret, timestamp, body)},
        )
        with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
            if not 200 <= response.status < 300:
                raise RuntimeError(f"webhook answered {response.status}")


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float | None = None, tolerance_s: int = 300
) -> bool:
    """Whether a webhook call is authentic and fresh (timestamp within ``tolerance_s`` of ``now``)."""
    current = time.time() if now is None else now
    try:
        fresh = abs(current - int(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


class TextNotifier:
    """Sends the summary line through an SMS or WeChat gateway to each recipient that has an address."""

    def __init__(self, gateway: TextGateway, *, field: str = "phone") -> None:
        self._gateway = gateway
        self._field = field

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """One message per reachable recipient."""
        for recipient in recipients:
            address = getattr(recipient, self._field)
            if address:
                self._gateway.send_text(address, notification.summary())


class FanoutNotifier:
    """Delivers through several notifiers; one failing does not stop the others, but the failure is raised."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self._notifiers = list(notifiers)

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """Try every notifier, then raise the first error if any failed."""
        errors = []
        for notifier in self._notifiers:
            try:
                notifier.notify(notification, recipients)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


def resolve_recipients(conn: psycopg.Connection, payload: dict[str, Any]) -> list[Recipient]:
    """Recipients of a payload with their contact addresses (unit duty contacts, crew phones)."""
    result = []
    for entry in payload.get("recipients", []):
        if entry["kind"] == "crew":
            row = conn.execute("SELECT phone FROM dispatch_crew WHERE id = %s", (entry["id"],)).fetchone()
            result.append(Recipient("crew", entry["id"], phone=(row[0] or None) if row else None))
        else:
            row = conn.execute("SELECT contacts FROM dispatch_units WHERE id = %s", (entry["id"],)).fetchone()
            contacts = row[0] if row else {}
            result.append(Recipient("unit", entry["id"], phone=contacts.get("phone"), wechat=contacts.get("wechat")))
    return result


def deliver_pending(conn: psycopg.Connection, notifier: Notifier, *, now: datetime, limit: int = 100) -> int:
    """Send queued notifications in order; return how many were delivered.

    Each is claimed (``sent_at`` set, attempts counted) and committed before sending, so two schedulers never send
    the same row; a failed send is released for a later retry, up to ``MAX_ATTEMPTS``.
    """
    delivered, failed = 0, []
    for _ in range(limit):
        with conn.transaction():
            row = conn.execute(
                """UPDATE dispatch_notifications SET sent_at = %(now)s, attempts = attempts + 1
                   WHERE id = (SELECT id FROM dispatch_notifications
                               WHERE sent_at IS NULL AND attempts < %(max)s AND NOT (id = ANY (%(failed)s))
                               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                   RETURNING id, kind, order_id, payload, created_at""",
                {"now": now, "max": MAX_ATTEMPTS, "failed": failed},
            ).fetchone()
            if row is None:
                break
            notification = Notification(*row)
            recipients = resolve_recipients(conn, notification.payload)
        try:
            notifier.notify(notification, recipients)
        except Exception as exc:
            log.warning("notification %d (%s) failed: %s", notification.id, notification.kind, type(exc).__name__)
            with conn.transaction():
                conn.execute(
                    "UPDATE dispatch_notifications SET sent_at = NULL, last_error = %s WHERE id = %s",
                    (type(exc).__name__, notification.id),
                )
            failed.append(notification.id)
            continue
        delivered += 1
    return delivered
