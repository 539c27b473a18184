"""E-mail over SMTP: one message to every e-mail address of the recipients."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from dispatch.notify.message import DeliveryFailed, Notification, Recipient, Undeliverable

Security = Literal["starttls", "ssl", "none"]


class EmailNotifier:
    """Sends the notification as a plain-text e-mail through an SMTP server.

    ``security``: ``starttls`` (port 587, upgrade after connecting), ``ssl`` (port 465, TLS from the start) or
    ``none`` (a relay on a trusted network). ``username``/``password`` log in when given.
    """

    def __init__(self, host: str, port: int, *, sender: str, security: Security = "starttls",
                 username: str | None = None, password: str | None = None, timeout_s: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._security = security
        self._username = username
        self._password = password
        self._timeout_s = timeout_s

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """Send one message to all addresses; ``Undeliverable`` without any, ``DeliveryFailed`` on SMTP errors."""
        addresses = sorted({email for r in recipients for email in r.emails})
        if not addresses:
            raise Undeliverable("no e-mail address for " + ", ".join(f"{r.kind}:{r.id}" for r in recipients))
        try:
            with self._connect() as smtp:
                if self._security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(self._message(notification, recipients, addresses))
        except smtplib.SMTPException as exc:
            code = getattr(exc, "smtp_code", None)
            raise DeliveryFailed(f"{type(exc).__name__}" + (f" {code}" if code else "")) from None
        except OSError as exc:
            raise DeliveryFailed(type(exc).__name__) from None

    def _connect(self) -> smtplib.SMTP:
        if self._security == "ssl":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout_s,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)

    def _message(self, notification: Notification, recipients: Sequence[Recipient],
                 addresses: list[str]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = notification.subject()
        message["From"] = self._sender
        message["To"] = ", ".join(addresses)
        message["Date"] = format_datetime(notification.created_at)
        message["Message-ID"] = make_msgid(idstring=f"propwatch-{notification.id}")
        lines = [notification.summary(), "", "For: " + ", ".join(f"{r.kind}:{r.id}" for r in recipients), ""]
        lines += [f"{key}: {value}" for key, value in sorted(notification.payload.items()) if key != "recipients"]
        message.set_content("\n".join(lines))
        return message
