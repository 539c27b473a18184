"""The signed webhook channel: the notification as JSON, signed with HMAC-SHA256 so receivers can trust it."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

from dispatch.notify.message import Notification, Recipient
from dispatch.notify.posting import encode, post_json

SIGNATURE_HEADER = "X-Propwatch-Signature"
TIMESTAMP_HEADER = "X-Propwatch-Timestamp"


class WebhookNotifier:
    """POSTs the notification as JSON, signed with HMAC-SHA256 over ``"<timestamp>.<body>"``.

    Headers: ``X-Propwatch-Timestamp`` (Unix seconds) and ``X-Propwatch-Signature: sha256=<hex>``; receivers check
    both with ``verify_signature`` to reject forged and replayed calls. Any 2xx answer is a delivery.
    """

    def __init__(self, url: str, secret: bytes, *, timeout_s: float = 5.0) -> None:
        self.url = url
        self._secret = secret
        self._timeout_s = timeout_s

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """Send one POST; raise ``DeliveryFailed`` on a non-2xx answer or a network error."""
        body = encode({
            "id": notification.id, "kind": notification.kind, "created_at": notification.created_at.isoformat(),
            "payload": notification.payload, "text": notification.summary(),
            "recipients": [{"kind": r.kind, "id": r.id} for r in recipients],
        })
        timestamp = str(int(time.time()))
        post_json(self.url, body, timeout_s=self._timeout_s,
                  headers={TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self._secret, timestamp, body)})


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
