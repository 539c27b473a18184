"""Review deadlines run in the live dispatch scheduler: a real APScheduler, restarted, acts on each draw once."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from dispatch.fund import draws
from dispatch.notify import Notification, Recipient
from dispatch.scheduler import DispatchScheduler

from .conftest import FUJIAN, EstateFactory
from .helpers import new_work_order, open_draw


class Collector:
    """A notifier that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[tuple[Notification, list[Recipient]]] = []

    def notify(self, notification: Notification, recipients: Sequence[Recipient]) -> None:
        self.sent.append((notification, list(recipients)))


def no_alarms(conn: psycopg.Connection, after_id: int, limit: int) -> list:
    return []


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def events(db: psycopg.Connection, draw_id: int) -> list[str]:
    return [e.event for e in draws.draw_events(db, draw_id)]


def test_the_running_scheduler_escalates_and_deems_overdue_reviews_once_across_a_restart(
    db: psycopg.Connection, db_url: str, make_estate: EstateFactory
) -> None:
    beijing, fujian = make_estate(site_id="S1"), make_estate(site_id="S2", region=FUJIAN)
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    escalated = open_draw(db, beijing.site_id, now=ten_days_ago,
                          work_order=new_work_order(db, beijing.site_id, now=ten_days_ago))
    deemed = open_draw(db, fujian.site_id, now=ten_days_ago,
                       work_order=new_work_order(db, fujian.site_id, now=ten_days_ago))
    first_notifier = Collector()
    first = DispatchScheduler(db_url, notifier=first_notifier, interval_s=0.2, alarm_source=no_alarms)
    first.start()
    try:
        wait_until(lambda: events(db, escalated.id)[-1:] == ["escalated"] and draws.get_draw(
            db, deemed.id).state == "approved")
        wait_until(lambda: any(n.kind == "fund_review_overdue" for n, _ in first_notifier.sent))
    finally:
        first.shutdown()
    second_notifier = Collector()
    second = DispatchScheduler(db_url, notifier=second_notifier, interval_s=0.2, alarm_source=no_alarms)
    second.start()
    time.sleep(1.5)  # several passes of the restarted scheduler
    second.shutdown()
    assert events(db, escalated.id) == ["opened", "escalated"]
    assert events(db, deemed.id) == ["opened", "deemed_approved"]
    assert draws.get_draw(db, deemed.id).decided_role == "deemed"
    overdue = [(n.payload["draw_id"], [r.id for r in rs]) for n, rs in first_notifier.sent + second_notifier.sent
               if n.kind == "fund_review_overdue"]
    assert overdue == [(escalated.id, ["subdistrict", "housing-authority"])]
