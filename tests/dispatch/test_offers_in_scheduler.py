"""The scheduler's pass drives offers: an unaccepted offer moves to the next candidate, then the order is
escalated and the units are told to assign by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import psycopg

from dispatch.alarm_sync import handle_transition
from dispatch.notify import Notification, Recipient
from dispatch.scheduler import DispatchScheduler
from dispatch.workorders import events, get_work_order

from .conftest import DEVICES, T0, Alarm, alarm_transition


class Recorder:
    """A notifier that keeps what it was asked to deliver."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str]]] = []

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        self.sent.append((notification.kind, [f"{r.kind}:{r.id}" for r in recipients]))


def test_the_scheduler_moves_an_unaccepted_offer_on_and_then_escalates(estate: psycopg.Connection,
                                                                       db_url: str) -> None:
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    order = handle_transition(estate, alarm_transition(1, alarm))
    recorder = Recorder()
    scheduler = DispatchScheduler(db_url, notifier=recorder)
    scheduler.run_once(now=T0 + timedelta(minutes=5))
    assert get_work_order(estate, order.id).offered_to == "em-2"
    report = scheduler.run_once(now=T0 + timedelta(minutes=10))
    assert report.offers_expired == 1
    assert get_work_order(estate, order.id).offered_to is None
    unassigned = [e.data for e in events(estate, order.id) if e.data.get("reason") == "unassigned"]
    assert len(unassigned) == 1 and unassigned[0]["level"] >= 1
    assert any(kind == "unassigned" and "unit:elevator-maint" in to for kind, to in recorder.sent)
    assert [kind for kind, _ in recorder.sent].count("offer") == 2
