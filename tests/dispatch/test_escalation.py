"""SLA timers: steps fire on schedule, escalate along the chain, survive scheduler restarts, never fire twice."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import psycopg
import pytest

from dispatch.alarm_sync import handle_transition
from dispatch.notify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    FanoutNotifier,
    LogNotifier,
    Notification,
    Recipient,
    WebhookNotifier,
    verify_signature,
)
from dispatch.scheduler import DispatchScheduler
from dispatch.workorders import accept, events, get_work_order, transition

from .conftest import DEVICES, T0, Alarm, alarm_transition


def no_alarms(conn: psycopg.Connection, after_id: int, limit: int) -> list:
    return []


class Collector:
    """A notifier that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[tuple[Notification, list[Recipient]]] = []

    def notify(self, notification: Notification, recipients) -> None:
        self.sent.append((notification, list(recipients)))


def scheduler(db_url: str, notifier=None) -> DispatchScheduler:
    return DispatchScheduler(db_url, notifier=notifier or Collector(), alarm_source=no_alarms)


def entrapment(conn: psycopg.Connection, *, at: datetime = T0):
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    return handle_transition(conn, alarm_transition(1, alarm, at=at))


def escalations(conn: psycopg.Connection, order_id: int) -> list[tuple[str, int]]:
    return [(e.data["step"], e.data["level"]) for e in events(conn, order_id) if e.kind == "escalation"]


def test_an_unacknowledged_entrapment_escalates_one_level_per_missed_step(estate, db_url) -> None:
    order = entrapment(estate)
    first = scheduler(db_url)
    assert first.run_once(T0 + timedelta(seconds=59)).steps_fired == 0
    assert first.run_once(T0 + timedelta(minutes=1)).steps_fired == 1
    assert first.run_once(T0 + timedelta(minutes=5)).steps_fired == 1
    assert escalations(estate, order.id) == [("ack", 1), ("dispatch", 2)]
    assert get_work_order(estate, order.id).escalation_level == 2


def test_a_restarted_scheduler_neither_repeats_nor_loses_a_step(estate, db_url) -> None:
    order = entrapment(estate)
    before = scheduler(db_url)
    before.run_once(T0 + timedelta(minutes=2))
    after = scheduler(db_url)  # a new process: nothing carried over but the database
    assert after.run_once(T0 + timedelta(minutes=2)).steps_fired == 0
    assert after.run_once(T0 + timedelta(minutes=31)).steps_fired == 2  # dispatch and arrive, both overdue
    assert escalations(estate, order.id) == [("ack", 1), ("dispatch", 2), ("arrive", 3)]


def test_a_late_arrival_flags_the_order_for_the_platform_and_tells_the_third_level(estate, db_url) -> None:
    order = entrapment(estate)
    accept(estate, order.id, "em-1", now=T0 + timedelta(seconds=30))
    collector = Collector()
    scheduler(db_url, collector).run_once(T0 + timedelta(minutes=30))
    flagged = get_work_order(estate, order.id)
    assert flagged.platform_dispatch is True
    breach = [n for n, _ in collector.sent if n.kind == "sla_breach"]
    assert [(n.payload["step"], n.payload["platform_dispatch"]) for n in breach] == [("arrive", True)]
    assert [r.id for n, rs in collector.sent if n.kind == "sla_breach" for r in rs] == ["platform-96333", "subdistrict"]
    assert flagged.escalation_level == 3


def test_acknowledging_stops_the_ack_timer_but_not_the_arrival_timer(estate, db_url) -> None:
    order = entrapment(estate)
    accept(estate, order.id, "em-1", now=T0 + timedelta(seconds=30))
    transition(estate, order.id, "EN_ROUTE", actor="crew:em-1", now=T0 + timedelta(minutes=2))
    report = scheduler(db_url).run_once(T0 + timedelta(minutes=29))
    assert report.steps_fired == 0
    transition(estate, order.id, "ON_SITE", actor="crew:em-1", now=T0 + timedelta(minutes=29, seconds=30))
    assert scheduler(db_url).run_once(T0 + timedelta(hours=1)).steps_fired == 0


def test_notifications_are_sent_once_each(estate, db_url) -> None:
    entrapment(estate)
    collector = Collector()
    first = scheduler(db_url, collector)
    first.run_once(T0 + timedelta(minutes=1))
    first.run_once(T0 + timedelta(minutes=1))
    assert [n.kind for n, _ in collector.sent] == ["opened", "offer", "sla_breach"]


@pytest.mark.slow
def test_the_background_scheduler_fires_due_steps_across_a_restart(estate, db_url) -> None:
    now = datetime.now(UTC)
    order = entrapment(estate, at=now - timedelta(minutes=2))  # ack and nothing else overdue
    first = DispatchScheduler(db_url, notifier=Collector(), interval_s=0.2, alarm_source=no_alarms)
    first.start()
    wait_until(lambda: escalations(estate, order.id) == [("ack", 1)])
    first.shutdown()
    estate.execute("UPDATE sla_steps SET due_at = %s WHERE order_id = %s AND step = 'dispatch'",
                   (datetime.now(UTC), order.id))
    second = DispatchScheduler(db_url, notifier=Collector(), interval_s=0.2, alarm_source=no_alarms)
    second.start()
    wait_until(lambda: len(escalations(estate, order.id)) == 2)
    time.sleep(0.5)  # a few more passes: nothing else is due
    second.shutdown()
    assert escalations(estate, order.id) == [("ack", 1), ("dispatch", 2)]


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook_server():
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Receiver.received
    server.shutdown()
    thread.join(5)


def test_webhook_notifications_are_signed_with_hmac_sha256(estate, db_url, webhook_server) -> None:
    url, received = webhook_server
    entrapment(estate)
    scheduler(db_url, WebhookNotifier(url, b"s3cret")).run_once(T0)
    assert len(received) == 2
    headers, body = received[0]
    assert verify_signature(b"s3cret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify_signature(b"wrong", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert json.loads(body)["payload"]["number"] == "WO-20261125-0001"


def test_a_failed_webhook_is_retried_on_the_next_pass(estate, db_url, webhook_server) -> None:
    url, _ = webhook_server
    entrapment(estate)
    assert scheduler(db_url, WebhookNotifier("http://127.0.0.1:9/closed", b"k")).run_once(T0).notifications_sent == 0
    retry_at = T0 + timedelta(seconds=30)  # the first retry waits out the backoff
    assert scheduler(db_url, WebhookNotifier(url, b"k")).run_once(retry_at).notifications_sent == 2


def test_notifications_carry_no_personal_data(estate, db_url, webhook_server, caplog) -> None:
    url, received = webhook_server
    entrapment(estate)
    caplog.set_level(logging.INFO, logger="dispatch")
    scheduler(db_url, FanoutNotifier([LogNotifier(), WebhookNotifier(url, b"k")])).run_once(T0)
    assert "em-1" in caplog.text
    assert "13800000000" not in caplog.text and "Worker" not in caplog.text
    assert all(b"13800000000" not in body and b"Worker" not in body for _, body in received)
