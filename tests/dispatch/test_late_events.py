"""A late event (device time long before receipt) raises its alarm marked late, and its work order's deadlines
run from receipt: an entrapment replayed six days after the fact is an emergency now, not a breach already."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest
from paho.mqtt import publish

from dispatch.alarm_sync import sync_alarms
from dispatch.escalation import fire_due_steps
from dispatch.workorders import list_work_orders
from gateway.protocol import topic_for
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import Gateway
from ingest.records import Batch, DeviceEvent
from rules.alarms import list_alarms
from rules.engine import RuleEngine

from .conftest import DEVICES, SITE

LIFT = DEVICES["elevator"]


@pytest.fixture
def engine(db_url: str, estate: psycopg.Connection) -> Iterator[RuleEngine]:
    estate.commit()
    engine = RuleEngine(db_url)
    yield engine
    engine.close()


def late_entrapment(received_at: datetime) -> Batch:
    return Batch(events=[DeviceEvent(LIFT, received_at - timedelta(days=6), "trapped", seq=1,
                                     received_at=received_at, late=True)])


def test_a_late_entrapment_is_active_and_marked_late_with_its_device_time(engine, estate) -> None:
    received_at = datetime.now(UTC).replace(microsecond=0)
    engine.process(late_entrapment(received_at), now=received_at)
    [alarm] = list_alarms(estate)
    assert (alarm.state, alarm.activated_at, alarm.detail["late"]) == ("active", received_at, True)
    assert alarm.detail["device_ts"] == (received_at - timedelta(days=6)).isoformat()


def test_its_work_order_deadlines_run_from_receipt_and_nothing_breaches_at_once(engine, estate) -> None:
    received_at = datetime.now(UTC).replace(microsecond=0)
    engine.process(late_entrapment(received_at), now=received_at)
    sync_alarms(estate)
    [order] = list_work_orders(estate)
    assert order.due["ack"] == received_at + timedelta(minutes=1)
    assert order.due["resolve"] == received_at + timedelta(hours=2)
    assert fire_due_steps(estate, now=received_at + timedelta(seconds=1)) == []


def test_an_event_on_time_keeps_its_device_time(engine, estate) -> None:
    device_time = datetime.now(UTC).replace(microsecond=0)
    engine.process(Batch(events=[DeviceEvent(LIFT, device_time, "trapped", received_at=device_time
                                             + timedelta(seconds=2))]), now=device_time + timedelta(seconds=2))
    [alarm] = list_alarms(estate)
    assert (alarm.activated_at, "late" in alarm.detail) == (device_time, False)


def test_an_entrapment_published_six_days_late_opens_an_order_due_from_its_receipt(engine, estate, db_url,
                                                                                  mqtt_url, site_id) -> None:
    gateway = Gateway(endpoint=MqttEndpoint.parse(mqtt_url), database_url=db_url, client_id=f"gw-{site_id}",
                      flush_interval_s=0.05, on_committed=engine.process, urgent=engine.urgency)
    gateway.start()
    try:
        gateway.wait_connected()
        endpoint = MqttEndpoint.parse(mqtt_url)
        sent_at = datetime.now(UTC)
        device_ms = int((sent_at - timedelta(days=6)).timestamp() * 1000)
        publish.single(topic_for(SITE, LIFT, "event"), orjson.dumps({"ts": device_ms, "seq": 1, "code": "trapped"}),
                       qos=1, hostname=endpoint.host, port=endpoint.port)
        deadline = time.monotonic() + 5
        while not list_alarms(estate) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        gateway.stop()
    [alarm] = list_alarms(estate)
    assert (alarm.state, alarm.detail["late"]) == ("active", True)
    assert abs(alarm.activated_at - sent_at) < timedelta(seconds=5)
    sync_alarms(estate)
    [order] = list_work_orders(estate)
    assert order.due["ack"] == alarm.activated_at + timedelta(minutes=1)
    assert fire_due_steps(estate, now=datetime.now(UTC)) == []
