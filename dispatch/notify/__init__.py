"""Notifications that reach people: the outbox sender, routing per unit and escalation level, and the channels
(signed webhook, WeCom group robot, SMS through an HTTP gateway, e-mail over SMTP, the log).

``message`` what a channel is given; ``webhook``, ``wecom``, ``sms``, ``mail`` the channels; ``routing`` which
channels a notification goes through and the retry policy; ``config`` the YAML configuration; ``outbox`` routing
queued notifications into deliveries, sending and retrying them, and each order's delivery status.
"""

from dispatch.notify.config import FILE_VARIABLE, default_router, load_config, parse_config, router_from_environment
from dispatch.notify.mail import EmailNotifier
from dispatch.notify.message import (
    DeliveryFailed,
    FanoutNotifier,
    LogNotifier,
    Notification,
    Notifier,
    Recipient,
    Undeliverable,
)
from dispatch.notify.outbox import Delivery, OrderNotification, deliver_pending, order_notifications
from dispatch.notify.routing import Channel, RetryPolicy, Route, Router
from dispatch.notify.sms import HttpSmsGateway, TextGateway, TextNotifier
from dispatch.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookNotifier, sign, verify_signature
from dispatch.notify.wecom import WeComRobotNotifier

__all__ = [
    "FILE_VARIABLE", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "Channel", "Delivery", "DeliveryFailed", "EmailNotifier",
    "FanoutNotifier", "HttpSmsGateway", "LogNotifier", "Notification", "Notifier", "OrderNotification", "Recipient",
    "RetryPolicy", "Route", "Router", "TextGateway", "TextNotifier", "Undeliverable", "WeComRobotNotifier",
    "WebhookNotifier", "default_router", "deliver_pending", "load_config", "order_notifications", "parse_config",
    "router_from_environment", "sign", "verify_signature",
]
