"""What a channel is given to deliver: the notification, its recipients with their addresses, and the text.

Payloads and texts carry ids and codes, never names or phone numbers; a channel that needs an address (a phone,
an e-mail box) finds it on the ``Recipient``, resolved at send time and never stored with the delivery or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

log = logging.getLogger("dispatch.notify")

KIND_LABELS = {
    "opened": "新工单 new order",
    "offer": "派单 offer",
    "unassigned": "无人接单 nobody accepted",
    "sla_breach": "超时升级 SLA missed",
    "fund_review_overdue": "维修资金审核逾期 fund review overdue",
}


@dataclass(frozen=True)
class Recipient:
    """Who a notification is for: a unit or a crew member (``unit_id`` is a crew member's unit), with the
    addresses an address-based channel sends to."""

    kind: str  # "unit" or "crew"
    id: str
    unit_id: str | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notification:
    """One queued notice: ``kind`` is opened, offer, unassigned, sla_breach, fund_review_overdue …; ``payload``
    holds ids and codes only."""

    id: int
    kind: str
    order_id: int | None
    payload: dict[str, Any]
    created_at: datetime

    @property
    def level(self) -> int:
        """The escalation level it reports (an SLA breach); 0 for notices that are not escalations."""
        return int(self.payload.get("level") or 0)

    def subject(self) -> str:
        """A short title: severity, order number, what happened."""
        p = self.payload
        label = KIND_LABELS.get(self.kind, self.kind)
        return f"[{p.get('severity')}] {p.get('number')} {label}"

    def summary(self) -> str:
        """A one-line text without personal data, for logs, SMS and chat messages."""
        p = self.payload
        text = f"[{p.get('severity')}] {p.get('number')} {p.get('category')} at {p.get('site_id')}: {self.kind}"
        if self.kind == "sla_breach":
            text += f" (step {p.get('step')}, level {p.get('level')})"
            if p.get("platform_dispatch"):
                text += " — platform to dispatch the nearest other unit"
        elif self.kind == "fund_review_overdue":
            text += f" (draw {p.get('draw_id')}, {p.get('route')} review due {p.get('review_due_at')})"
        return text


class Notifier(Protocol):
    """A channel: anything that can deliver a notification to its recipients. Raise ``Undeliverable`` when
    retrying cannot help, any other exception to have it retried later."""

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None: ...


class DeliveryFailed(Exception):
    """The receiving end refused or failed; retried. The message is a status or code, never an address."""


class Undeliverable(Exception):
    """Retrying cannot help (e.g. no address to send to); the delivery is marked failed at once."""


class LogNotifier:
    """Writes each notification to the log (ids and codes only)."""

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """Log one line per notification."""
        log.info("notify %s -> %s", notification.summary(), ", ".join(f"{r.kind}:{r.id}" for r in recipients))


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
