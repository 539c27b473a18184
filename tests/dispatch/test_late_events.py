"""A late event (device time long before receipt) raises its alarm marked late, and its work order's deadlines
run from receipt: an entrapment replayed six days after the fact is an emergency now, not a breach already."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dispatch.alarm_sync import sync_alarms
from dispatch.escalation import fire_due_steps
from dispatch.workorders import list_work_orders
from ingest.records import Batch, DeviceEvent
from rules.alarms import list_alarms
from rules.engine import RuleEngine

from .conftest import DEVICES

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
