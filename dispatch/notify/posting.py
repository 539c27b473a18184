"""One HTTP POST of a JSON body, for the webhook, WeCom and SMS gateway channels."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from dispatch.notify.message import DeliveryFailed


def post_json(url: str, body: bytes, *, headers: dict[str, str] | None = None, timeout_s: float) -> bytes:
    """POST ``body`` as JSON and return the answer's body; ``DeliveryFailed`` names the status or the error class
    (never the URL, which may carry a key)."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(type(reason).__name__) from None


def encode(document: Any) -> bytes:
    """Compact UTF-8 JSON with keys sorted (what signatures are computed over)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
