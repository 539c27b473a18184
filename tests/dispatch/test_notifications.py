"""Notifications reach people: each channel delivers to a real local receiver, routed per unit and escalation
level, retried with backoff, and every delivery's status is recorded per order."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from dispatch.alarm_sync import handle_transition
from dispatch.errors import NotificationConfigError
from dispatch.escalation import fire_due_steps
from dispatch.notify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Router,
    deliver_pending,
    order_notifications,
    parse_config,
    router_from_environment,
    verify_signature,
)
from dispatch.scheduler import DispatchScheduler
from dispatch.workorders import WorkOrder

from .conftest import DEVICES, T0, Alarm, alarm_transition
from .receivers import HttpReceiver, Mailbox, serve_http, serve_smtp

ENV = {"PW_HOOK_SECRET": "hook-secret-1", "PW_WECOM_KEY": "robot-key-1", "PW_SMS_TOKEN": "sms-token-1"}
ARRIVAL_MISSED = T0 + timedelta(minutes=30)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    with serve_http() as receiver:
        yield receiver


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    with serve_smtp() as mailbox:
        yield mailbox


def router(text: str, environ: dict[str, str] | None = None) -> Router:
    return parse_config(text, ENV if environ is None else environ)


def entrapment(conn: psycopg.Connection, *, at: datetime = T0) -> WorkOrder:
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    return handle_transition(conn, alarm_transition(1, alarm, at=at))


def escalation_config(hook: str, mailbox: Mailbox, *, extra: str = "") -> str:
    """The 96333 platform by signed webhook, the sub-district office by e-mail, from escalation level 3."""
    return f"""
format: propwatch-notifications/1
channels:
  platform-hook: {{type: webhook, url: "{hook}/hooks/propwatch", secret_env: PW_HOOK_SECRET}}
  duty-mail: {{type: email, host: {mailbox.host}, port: {mailbox.port}, security: none,
              sender: propwatch@estate.example.cn}}
{extra}
routes:
  - {{units: [platform-96333], levels: [3, 4], channels: [platform-hook]}}
  - {{units: [subdistrict], levels: [3, 4], channels: [duty-mail], emails: [duty@jiedao.example.cn]}}
  - {{units: "*", levels: [0, 1, 2], channels: [log]}}
"""


def deliveries(conn: psycopg.Connection, order_id: int, kind: str) -> list[tuple[str, str, int, list[str]]]:
    """(channel, state, attempts, recipient ids) of the order's deliveries of one kind."""
    return [(d.channel, d.state, d.attempts, [r["id"] for r in d.recipients])
            for n in order_notifications(conn, order_id) if n.kind == kind for d in n.deliveries]


def test_a_missed_arrival_reaches_the_platform_by_signed_webhook_and_the_subdistrict_by_email(
    estate: psycopg.Connection, db_url: str, http_receiver: HttpReceiver, smtp_server: Mailbox
) -> None:
    order = entrapment(estate)
    scheduler = DispatchScheduler(db_url, notifier=router(escalation_config(http_receiver.url, smtp_server)),
                                  alarm_source=lambda *_: [])
    scheduler.run_once(ARRIVAL_MISSED)
    [call] = http_receiver.requests
    assert call.path == "/hooks/propwatch"
    assert verify_signature(b"hook-secret-1", call.headers[TIMESTAMP_HEADER], call.body, call.headers[SIGNATURE_HEADER])
    body = call.json()
    assert (body["kind"], body["payload"]["step"], body["payload"]["number"]) == ("sla_breach", "arrive", order.number)
    [(envelope, message)] = smtp_server.messages
    assert envelope == ["duty@jiedao.example.cn"]
    assert order.number in message["Subject"] and "step arrive, level 3" in message.get_content()
    assert deliveries(estate, order.id, "sla_breach")[-2:] == [
        ("platform-hook", "sent", 1, ["platform-96333"]), ("duty-mail", "sent", 1, ["subdistrict"])]


@pytest.mark.slow
def test_the_running_scheduler_delivers_the_escalation_of_a_missed_step_end_to_end(
    estate: psycopg.Connection, db_url: str, http_receiver: HttpReceiver, smtp_server: Mailbox, tmp_path: Path
) -> None:
    config = tmp_path / "notifications.yaml"
    config.write_text(escalation_config(http_receiver.url, smtp_server), encoding="utf-8")
    notifier = router_from_environment({"PROPWATCH_NOTIFICATIONS_FILE": str(config), **ENV})
    order = entrapment(estate, at=datetime.now(UTC) - timedelta(minutes=31))  # arrival due a minute ago
    scheduler = DispatchScheduler(db_url, notifier=notifier, interval_s=0.2, alarm_source=lambda *_: [])
    scheduler.start()
    try:
        wait_until(lambda: len(http_receiver.requests) == 1 and len(smtp_server.messages) == 1)
    finally:
        scheduler.shutdown()
    assert http_receiver.requests[0].json()["payload"]["step"] == "arrive"
    assert smtp_server.messages[0][0] == ["duty@jiedao.example.cn"]
    assert deliveries(estate, order.id, "sla_breach")[-2:] == [
        ("platform-hook", "sent", 1, ["platform-96333"]), ("duty-mail", "sent", 1, ["subdistrict"])]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_a_breach_below_the_routed_levels_goes_only_to_the_log(
    estate: psycopg.Connection, db_url: str, http_receiver: HttpReceiver, smtp_server: Mailbox
) -> None:
    order = entrapment(estate)
    notifier = router(escalation_config(http_receiver.url, smtp_server))
    DispatchScheduler(db_url, notifier=notifier, alarm_source=lambda *_: []).run_once(T0 + timedelta(minutes=1))
    assert http_receiver.requests == [] and smtp_server.messages == []
    assert deliveries(estate, order.id, "sla_breach") == [("log", "sent", 1, ["elevator-maint"])]


def test_the_wecom_robot_gets_a_text_message_with_its_key(
    estate: psycopg.Connection, http_receiver: HttpReceiver
) -> None:
    http_receiver.answer = {"errcode": 0, "errmsg": "ok"}
    order = entrapment(estate)
    notifier = router(f"""
format: propwatch-notifications/1
channels:
  lift-group: {{type: wecom, url: "{http_receiver.url}/cgi-bin/webhook/send", key_env: PW_WECOM_KEY, mention: all}}
routes: [{{units: [elevator-maint], kinds: [opened], channels: [lift-group]}}]
""")
    deliver_pending(estate, notifier, now=T0)
    [call] = http_receiver.requests
    assert call.path == "/cgi-bin/webhook/send?key=robot-key-1"
    message = call.json()
    assert message["msgtype"] == "text" and message["text"]["mentioned_mobile_list"] == ["@all"]
    assert order.number in message["text"]["content"] and "elevator_entrapment" in message["text"]["content"]
    assert len(message["text"]["content"].encode()) <= 2048
    assert deliveries(estate, order.id, "opened") == [("lift-group", "sent", 1, ["elevator-maint"])]


def test_a_wecom_error_code_is_a_failed_attempt_even_with_http_200(
    estate: psycopg.Connection, http_receiver: HttpReceiver
) -> None:
    http_receiver.answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
    order = entrapment(estate)
    notifier = router(f"""
format: propwatch-notifications/1
channels:
  lift-group: {{type: wecom, url: "{http_receiver.url}/send", key_env: PW_WECOM_KEY}}
routes: [{{units: [elevator-maint], kinds: [opened], channels: [lift-group]}}]
""")
    assert deliver_pending(estate, notifier, now=T0) == 0
    [notification] = [n for n in order_notifications(estate, order.id) if n.kind == "opened"]
    [delivery] = notification.deliveries
    assert (delivery.state, delivery.attempts, delivery.last_error) == (
        "pending", 1, "DeliveryFailed: WeCom errcode 45009")


def test_sms_goes_through_the_http_gateway_to_the_units_duty_phone_and_the_routes(
    estate: psycopg.Connection, http_receiver: HttpReceiver
) -> None:
    estate.execute("UPDATE dispatch_units SET contacts = %s WHERE id = 'elevator-maint'",
                   (Jsonb({"phone": "13900000001"}),))
    order = entrapment(estate)
    notifier = router(f"""
format: propwatch-notifications/1
channels:
  sms: {{type: sms, url: "{http_receiver.url}/sms", token_env: PW_SMS_TOKEN, to_field: mobile,
        text_field: content, extra: {{sign: propwatch}}}}
routes: [{{units: [elevator-maint], kinds: [opened], channels: [sms], phones: ["13900000002"]}}]
""")
    deliver_pending(estate, notifier, now=T0)
    sent = sorted((r.json()["mobile"], r.headers["Authorization"]) for r in http_receiver.requests)
    assert sent == [("13900000001", "Bearer sms-token-1"), ("13900000002", "Bearer sms-token-1")]
    first = http_receiver.requests[0].json()
    assert first["sign"] == "propwatch" and order.number in first["content"]


def test_an_sms_route_without_any_phone_number_fails_at_once(estate: psycopg.Connection,
                                                             http_receiver: HttpReceiver) -> None:
    order = entrapment(estate)
    notifier = router(f"""
format: propwatch-notifications/1
channels: {{sms: {{type: sms, url: "{http_receiver.url}/sms"}}}}
routes: [{{units: [elevator-maint], kinds: [opened], channels: [sms]}}]
""")
    deliver_pending(estate, notifier, now=T0)
    assert http_receiver.requests == []
    assert deliveries(estate, order.id, "opened") == [("sms", "failed", 1, ["elevator-maint"])]


def test_a_failed_delivery_is_retried_with_doubling_backoff_until_it_goes_through(
    estate: psycopg.Connection, http_receiver: HttpReceiver, smtp_server: Mailbox
) -> None:
    http_receiver.fail_first = 2
    order = entrapment(estate)
    notifier = router(escalation_config(http_receiver.url, smtp_server))
    fire_due_steps(estate, now=ARRIVAL_MISSED)
    deliver_pending(estate, notifier, now=ARRIVAL_MISSED)
    hook = next(d for n in order_notifications(estate, order.id) for d in n.deliveries if d.channel == "platform-hook")
    assert (hook.state, hook.attempts, hook.next_attempt_at, hook.last_error) == (
        "pending", 1, ARRIVAL_MISSED + timedelta(seconds=30), "DeliveryFailed: HTTP 500")
    assert deliver_pending(estate, notifier, now=ARRIVAL_MISSED + timedelta(seconds=29)) == 0
    assert deliver_pending(estate, notifier, now=ARRIVAL_MISSED + timedelta(seconds=30)) == 0  # 500 again
    assert deliver_pending(estate, notifier, now=ARRIVAL_MISSED + timedelta(seconds=89)) == 0  # 30 s, then 60 s
    assert deliver_pending(estate, notifier, now=ARRIVAL_MISSED + timedelta(seconds=90)) == 1
    assert len(http_receiver.requests) == 3
    assert len(smtp_server.messages) == 1  # the e-mail went once, untouched by the webhook's retries
    assert deliveries(estate, order.id, "sla_breach")[-2:] == [
        ("platform-hook", "sent", 3, ["platform-96333"]), ("duty-mail", "sent", 1, ["subdistrict"])]


def test_a_delivery_gives_up_after_the_last_attempt(estate: psycopg.Connection, http_receiver: HttpReceiver) -> None:
    http_receiver.fail_first = 100
    order = entrapment(estate)
    notifier = router(f"""
format: propwatch-notifications/1
channels: {{hook: {{type: webhook, url: "{http_receiver.url}/h", secret_env: PW_HOOK_SECRET}}}}
retry: {{first: 10s, longest: 20s, attempts: 3}}
routes: [{{units: [elevator-maint], kinds: [opened], channels: [hook]}}]
""")
    for seconds in (0, 10, 30, 50, 70):
        deliver_pending(estate, notifier, now=T0 + timedelta(seconds=seconds))
    assert len(http_receiver.requests) == 3
    assert deliveries(estate, order.id, "opened") == [("hook", "failed", 3, ["elevator-maint"])]


def test_a_recipient_no_route_reaches_is_recorded_as_unrouted(estate: psycopg.Connection,
                                                               http_receiver: HttpReceiver) -> None:
    order = entrapment(estate)
    notifier = router(f"""
format: propwatch-notifications/1
channels: {{hook: {{type: webhook, url: "{http_receiver.url}/h", secret_env: PW_HOOK_SECRET}}}}
routes: [{{units: [platform-96333], channels: [hook]}}]
""")
    fire_due_steps(estate, now=ARRIVAL_MISSED)
    deliver_pending(estate, notifier, now=ARRIVAL_MISSED)
    breaches = [n for n in order_notifications(estate, order.id) if n.kind == "sla_breach"]
    unrouted = [(d.recipients, d.last_error) for n in breaches for d in n.deliveries if d.state == "unrouted"]
    assert [{"kind": "unit", "id": "subdistrict"}] in [r for r, _ in unrouted]
    assert all(error.startswith("no route for level") for _, error in unrouted)


def test_secrets_come_from_the_environment_and_a_missing_one_is_named() -> None:
    text = """
format: propwatch-notifications/1
channels: {hook: {type: webhook, url: "https://hooks.example.cn/p", secret_env: PW_HOOK_SECRET}}
routes: [{channels: [hook]}]
"""
    with pytest.raises(NotificationConfigError, match="environment variable PW_HOOK_SECRET is not set"):
        router(text, environ={})


def test_a_secret_written_into_the_file_is_refused() -> None:
    text = """
format: propwatch-notifications/1
channels: {hook: {type: webhook, url: "https://hooks.example.cn/p", secret: "in-the-file"}}
routes: [{channels: [hook]}]
"""
    with pytest.raises(NotificationConfigError) as refused:
        router(text)
    assert any("channels.hook.webhook.secret: Extra inputs are not permitted" in p for p in refused.value.problems)


def test_without_a_configuration_file_notifications_are_only_logged() -> None:
    assert router_from_environment({}).channel("log") is not None
    assert router_from_environment({}).channel("platform-hook") is None


def test_a_bad_configuration_file_names_its_variable(tmp_path: Path) -> None:
    config = tmp_path / "notifications.yaml"
    config.write_text("format: propwatch-notifications/1\nroutes: []\n", encoding="utf-8")
    with pytest.raises(NotificationConfigError, match=f"PROPWATCH_NOTIFICATIONS_FILE={config} rejected"):
        router_from_environment({"PROPWATCH_NOTIFICATIONS_FILE": str(config)})


def test_a_route_to_an_undeclared_channel_is_refused() -> None:
    text = "format: propwatch-notifications/1\nroutes: [{units: [subdistrict], channels: [fax]}]\n"
    with pytest.raises(NotificationConfigError, match=r"routes\.0\.channels: no channel named 'fax'"):
        router(text)


def test_webhook_bodies_and_delivery_records_carry_no_personal_data(
    estate: psycopg.Connection, http_receiver: HttpReceiver
) -> None:
    estate.execute("UPDATE dispatch_units SET contacts = %s WHERE id = 'elevator-maint'",
                   (Jsonb({"phone": "13900000001", "email": "lift@example.cn"}),))
    entrapment(estate)
    notifier = router(f"""
format: propwatch-notifications/1
channels: {{hook: {{type: webhook, url: "{http_receiver.url}/h", secret_env: PW_HOOK_SECRET}}}}
routes: [{{channels: [hook]}}]
""")
    deliver_pending(estate, notifier, now=T0)
    stored = json.dumps(estate.execute("SELECT json_agg(d) FROM dispatch_deliveries d").fetchone()[0])
    for secret in ("13900000001", "lift@example.cn", "13800000000", "Worker"):
        assert all(secret.encode() not in r.body for r in http_receiver.requests)
        assert secret not in stored
