"""SMS through an HTTP gateway: one short text per phone number of the recipients.

Providers differ (templates, signatures, field names), so the channel posts to a gateway the operator runs or
rents: ``POST <url>`` with ``{"<to_field>": phone, "<text_field>": text, ...extra}`` and
``Authorization: Bearer <token>`` when a token is configured. Any 2xx answer is acceptance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from dispatch.notify.message import Notification, Recipient, Undeliverable
from dispatch.notify.posting import encode, post_json
from dispatch.notify.wecom import truncate_utf8

# 70 Chinese characters make one SMS; a few parts are fine, a wall of text is not.
MAX_TEXT_BYTES = 600


class TextGateway(Protocol):
    """An SMS provider adaptor: send ``text`` to one phone number."""

    def send_text(self, address: str, text: str) -> None: ...


class HttpSmsGateway:
    """The configurable HTTP gateway described in the module docstring."""

    def __init__(self, url: str, *, token: str | None = None, to_field: str = "to", text_field: str = "text",
                 extra: Mapping[str, Any] | None = None, timeout_s: float = 5.0) -> None:
        self._url = url
        self._token = token
        self._to_field = to_field
        self._text_field = text_field
        self._extra = dict(extra or {})
        self._timeout_s = timeout_s

    def send_text(self, address: str, text: str) -> None:
        """POST one message; ``DeliveryFailed`` on a non-2xx answer or a network error."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        body = encode({**self._extra, self._to_field: address, self._text_field: text})
        post_json(self._url, body, headers=headers, timeout_s=self._timeout_s)


class TextNotifier:
    """Sends the summary line through a text gateway to every phone number of the recipients."""

    def __init__(self, gateway: TextGateway) -> None:
        self._gateway = gateway

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """One message per distinct phone number; ``Undeliverable`` when no recipient has one."""
        phones = sorted({phone for r in recipients for phone in r.phones})
        if not phones:
            raise Undeliverable("no phone number for " + ", ".join(f"{r.kind}:{r.id}" for r in recipients))
        text = truncate_utf8(f"【propwatch】{notification.summary()}", MAX_TEXT_BYTES)
        for phone in phones:
            self._gateway.send_text(phone, text)
