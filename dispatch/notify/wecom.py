"""The WeCom (企业微信) group-robot channel: a text message to a group chat through the robot's webhook.

The robot's address is ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>``; whoever has the key can
post to the group, so the key is a secret. The body is ``{"msgtype": "text", "text": {"content": ..,
"mentioned_mobile_list": [..]}}`` (content at most 2048 bytes); the robot answers HTTP 200 with
``{"errcode": 0, "errmsg": "ok"}`` on success and a non-zero ``errcode`` otherwise (45009: over the robot's
limit of 20 messages a minute), so the answer's ``errcode`` decides, not the status.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlencode

from dispatch.notify.message import DeliveryFailed, Notification, Recipient
from dispatch.notify.posting import encode, post_json

WECOM_ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MAX_CONTENT_BYTES = 2048
Mention = Literal["none", "all", "recipients"]


class WeComRobotNotifier:
    """Posts the notification as a text message to one WeCom group robot.

    ``mention``: ``none``; ``all`` (``@all``, e.g. for a duty group); ``recipients`` (@ the recipients by their
    phone numbers, which WeCom matches to its members).
    """

    def __init__(self, key: str, *, url: str = WECOM_ROBOT_URL, mention: Mention = "none",
                 timeout_s: float = 5.0) -> None:
        self._address = f"{url}?{urlencode({'key': key})}"
        self._mention = mention
        self._timeout_s = timeout_s

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        """Send one message; raise ``DeliveryFailed`` on a network error, a non-2xx status or a non-zero errcode."""
        text: dict[str, object] = {"content": message_text(notification, recipients)}
        if self._mention == "all":
            text["mentioned_mobile_list"] = ["@all"]
        elif self._mention == "recipients":
            text["mentioned_mobile_list"] = sorted({phone for r in recipients for phone in r.phones})
        answer = post_json(self._address, encode({"msgtype": "text", "text": text}), timeout_s=self._timeout_s)
        try:
            errcode = json.loads(answer).get("errcode")
        except (ValueError, AttributeError):
            raise DeliveryFailed("WeCom answered without JSON") from None
        if errcode != 0:
            raise DeliveryFailed(f"WeCom errcode {errcode}")


def message_text(notification: Notification, recipients: Sequence[Recipient]) -> str:
    """The group message: title, summary and the units or crew it is for, cut to WeCom's 2048 bytes."""
    lines = [notification.subject(), notification.summary(),
             "→ " + ", ".join(f"{r.kind}:{r.id}" for r in recipients)]
    return truncate_utf8("\n".join(lines), MAX_CONTENT_BYTES)


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"
