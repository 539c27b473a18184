"""Alarms become work orders: the right unit per category, one order per incident, exactly-once sync."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dispatch.alarm_sync import handle_transition, sync_alarms
from dispatch.responsibility import default_list_path, parse_list
from dispatch.workorders import events, get_work_order, list_work_orders
from rules.categories import categories

from .conftest import DEVICES, SITE, T0, Alarm, Transition, alarm_transition, step_to

DEFAULT_LIST = parse_list(default_list_path().read_text(encoding="utf-8"))


def expected_unit(category: str, component: str) -> str:
    items = [i for i in DEFAULT_LIST.items if i.category == category and i.site == "*"]
    exact = [i for i in items if i.component == component]
    return (exact or [i for i in items if i.component == "*"])[0].unit


def test_an_active_alarm_of_every_category_opens_an_order_for_the_listed_unit(estate: psycopg.Connection) -> None:
    opened, expected = {}, {}
    for n, (category, known) in enumerate(categories().items(), start=1):
        # Each alarm on its own building so that no two share an incident.
        alarm = Alarm(id=n, category=category, severity=known.severity, building_id=f"B{n}")
        order = handle_transition(estate, alarm_transition(n, alarm))
        opened[category] = (order.unit_id, order.origin, order.state, order.gov_code, order.alarm_id)
        component = "*" if known.component == "any" else known.component
        expected[category] = (expected_unit(category, component), "alarm", "NEW", "01", n)
    assert opened == expected


def test_an_offline_alarm_goes_to_the_unit_of_the_device_type(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="device_offline", severity="P3", device_id=DEVICES["elevator"])
    assert handle_transition(estate, alarm_transition(1, alarm)).unit_id == "elevator-maint"


def test_deadlines_run_from_the_alarm(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    order = handle_transition(estate, alarm_transition(10, alarm))
    assert order.due == {"ack": T0 + timedelta(minutes=1), "dispatch": T0 + timedelta(minutes=5),
                         "arrive": T0 + timedelta(minutes=30), "resolve": T0 + timedelta(hours=2)}
    assert order.number == "WO-20261125-0001"


def test_the_emergency_flag_and_fund_category_come_from_the_list(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="drainage_flood", severity="P1", device_id=DEVICES["drainage"])
    order = handle_transition(estate, alarm_transition(10, alarm))
    assert (order.emergency, order.fund_category) == (True, "drainage")


def test_a_refire_of_the_same_incident_attaches_to_the_open_order(estate: psycopg.Connection) -> None:
    first = Alarm(id=1, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    again = Alarm(id=2, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    order = handle_transition(estate, alarm_transition(10, first))
    refired = handle_transition(estate, alarm_transition(11, again, at=T0 + timedelta(minutes=5)))
    assert refired.id == order.id
    assert len(list_work_orders(estate)) == 1
    assert [e.data["alarm_id"] for e in events(estate, order.id) if e.kind == "alarm"] == [1, 2]


def test_a_more_severe_related_alarm_upgrades_the_order(estate: psycopg.Connection) -> None:
    fault = Alarm(id=1, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    trapped = Alarm(id=2, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    order = handle_transition(estate, alarm_transition(10, fault))
    later = T0 + timedelta(minutes=10)
    upgraded = handle_transition(estate, alarm_transition(11, trapped, at=later))
    assert upgraded.id == order.id
    assert (upgraded.category, upgraded.severity) == ("elevator_entrapment", "P0")
    assert upgraded.due["arrive"] == later + timedelta(minutes=30)


def test_a_new_alarm_after_resolution_opens_a_new_order_marked_as_repeat(estate: psycopg.Connection) -> None:
    first = Alarm(id=1, category="drainage_equipment", severity="P2", device_id=DEVICES["drainage"])
    order = handle_transition(estate, alarm_transition(10, first))
    for state in ("ACKED", "DISPATCHED", "ON_SITE", "RESOLVED"):
        step_to(estate, order.id, state, now=T0 + timedelta(hours=1))
    second = Alarm(id=2, category="drainage_equipment", severity="P2", device_id=DEVICES["drainage"])
    reopened = handle_transition(estate, alarm_transition(11, second, at=T0 + timedelta(days=2)))
    assert reopened.id != order.id
    assert reopened.repeat_of == order.id


def test_an_operator_acknowledging_the_alarm_acknowledges_the_order(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="fire_alarm", severity="P0", device_id=DEVICES["fire_system"])
    order = handle_transition(estate, alarm_transition(10, alarm))
    acked = handle_transition(estate, alarm_transition(11, alarm, "acknowledged", at=T0 + timedelta(seconds=40),
                                                       actor="user:duty"))
    assert (acked.id, acked.state, acked.acked_at) == (order.id, "ACKED", T0 + timedelta(seconds=40))
    assert events(estate, order.id)[-1].actor == "user:duty"


def test_a_cleared_alarm_is_noted_but_does_not_resolve_the_order(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="water_outage", severity="P1", device_id=DEVICES["water_supply"])
    order = handle_transition(estate, alarm_transition(10, alarm))
    cleared = handle_transition(estate, alarm_transition(11, alarm, "cleared", at=T0 + timedelta(minutes=3)))
    assert (cleared.id, cleared.state) == (order.id, "NEW")
    assert events(estate, order.id)[-1].data["to_state"] == "cleared"


def test_a_pending_alarm_opens_nothing(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="water_outage", severity="P1", device_id=DEVICES["water_supply"])
    assert handle_transition(estate, alarm_transition(10, alarm, "pending")) is None


def test_handling_the_same_transition_twice_changes_nothing(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="water_outage", severity="P1", device_id=DEVICES["water_supply"])
    first = handle_transition(estate, alarm_transition(10, alarm))
    second = handle_transition(estate, alarm_transition(10, alarm))
    assert second.id == first.id
    assert len(events(estate, first.id)) == len([e for e in events(estate, second.id)])
    assert len(list_work_orders(estate)) == 1


class Feed:
    """Transitions as the rules engine would list them, after an id and up to a limit."""

    def __init__(self, transitions: list, *, fail_after: int | None = None) -> None:
        self.transitions = transitions
        self.fail_after = fail_after

    def __call__(self, conn: psycopg.Connection, after_id: int, limit: int) -> list:
        batch = [t for t in self.transitions if t.id > after_id][:limit]
        if self.fail_after is not None and len(batch) > self.fail_after:
            raise ConnectionError("lost the database mid-batch")
        return batch


def feed_of_three() -> list:
    return [
        alarm_transition(1, Alarm(id=1, category="water_outage", severity="P1", device_id=DEVICES["water_supply"])),
        alarm_transition(2, Alarm(id=2, category="fire_alarm", severity="P0", device_id=DEVICES["fire_system"])),
        alarm_transition(3, Alarm(id=3, category="drainage_flood", severity="P1", device_id=DEVICES["drainage"])),
    ]


def test_sync_handles_each_transition_once(estate: psycopg.Connection) -> None:
    feed = Feed(feed_of_three())
    assert sync_alarms(estate, source=feed, batch=2) == 3
    assert sync_alarms(estate, source=feed) == 0
    assert len(list_work_orders(estate, site_id=SITE)) == 3


def test_a_failed_sync_commits_nothing_and_the_next_one_catches_up(estate: psycopg.Connection) -> None:
    transitions = feed_of_three()
    with pytest.raises(ConnectionError):
        sync_alarms(estate, source=Feed(transitions, fail_after=0))
    assert list_work_orders(estate) == []
    assert sync_alarms(estate, source=Feed(transitions)) == 3
    assert estate.execute("SELECT last_id FROM dispatch_cursors").fetchone() == (3,)


def test_an_alarm_the_list_does_not_cover_is_skipped_without_blocking(estate: psycopg.Connection) -> None:
    unknown = alarm_transition(1, Alarm(id=1, category="gas_leak", severity="P0", device_id=DEVICES["drainage"]))
    known = alarm_transition(2, Alarm(id=2, category="fire_alarm", severity="P0", device_id=DEVICES["fire_system"]))
    assert sync_alarms(estate, source=Feed([unknown, known])) == 2
    assert [o.category for o in list_work_orders(estate)] == ["fire_alarm"]


def test_an_alarm_of_a_site_that_does_not_exist_is_skipped_without_blocking(estate: psycopg.Connection) -> None:
    # It used to fail the whole batch on the work order's foreign key, so the cursor never moved past it.
    nowhere = alarm_transition(1, Alarm(id=1, category="fire_alarm", severity="P0", site_id="S404", building_id=None))
    known = alarm_transition(2, Alarm(id=2, category="fire_alarm", severity="P0", device_id=DEVICES["fire_system"]))
    assert sync_alarms(estate, source=Feed([nowhere, known])) == 2
    assert [o.site_id for o in list_work_orders(estate)] == [SITE]
    assert estate.execute("SELECT last_id FROM dispatch_cursors").fetchone() == (2,)


def test_get_work_order_of_an_unknown_id_is_none(estate: psycopg.Connection) -> None:
    assert get_work_order(estate, 999) is None


def test_a_silenced_alarm_opens_no_order(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="water_outage", severity="P1", device_id=DEVICES["water_supply"], suppressed=True)
    assert handle_transition(estate, alarm_transition(1, alarm)) is None


def test_a_silenced_alarm_released_when_its_silence_ended_opens_an_order(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="water_outage", severity="P1", device_id=DEVICES["water_supply"])
    released = Transition(id=2, alarm_id=1, from_state="active", to_state="active", at=T0, alarm=alarm,
                          values={"silence_ended": "silence 4: pump overhaul"})
    order = handle_transition(estate, released)
    assert order is not None and order.category == "water_outage"


def test_a_fault_outlasting_its_maintenance_window_gets_an_order(estate: psycopg.Connection, db_url: str) -> None:
    from ingest.records import Batch, DeviceEvent
    from rules.alarms import silence
    from rules.engine import RuleEngine

    lift = DEVICES["elevator"]
    silence(estate, scope_type="device", scope_id=lift, starts_at=T0, ends_at=T0 + timedelta(hours=2),
            actor="user:maint", reason="half-monthly maintenance")
    engine = RuleEngine(db_url)
    try:
        engine.process(Batch(events=[DeviceEvent(lift, T0 + timedelta(minutes=5), "out_of_service")]),
                       now=T0 + timedelta(minutes=5))
        sync_alarms(estate)
        assert list_work_orders(estate) == []
        end = T0 + timedelta(hours=2)
        # Still reporting, still out of service: no offline alarm joins in.
        engine.process(Batch.of_readings([(lift, "car_position", end, 1.0)]), now=end)
        engine.tick(end + timedelta(seconds=1))
    finally:
        engine.close()
    sync_alarms(estate)
    assert [(o.device_id, o.category) for o in list_work_orders(estate)] == [(lift, "elevator_advisory")]


def test_a_refire_of_an_active_alarm_opens_no_order(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="water_outage", severity="P1", device_id=DEVICES["water_supply"])
    again = Transition(id=2, alarm_id=1, from_state="active", to_state="active", at=T0, alarm=alarm)
    assert handle_transition(estate, again) is None


def raise_alarm(conn: psycopg.Connection, *, category: str, severity: str, device_id: str) -> int:
    """An active alarm as the rules engine stores it: the alarm row and its pending → active transition."""
    alarm_id = conn.execute(
        """INSERT INTO alarms (fingerprint, rule_id, category, severity, state, site_id, building_id, device_id,
               title_zh, title_en, first_seen, last_seen, activated_at)
           VALUES (%s, 'test-rule', %s, %s, 'active', %s, 'S1-B01', %s, '困人', 'Trapped', %s, %s, %s) RETURNING id""",
        (f"test-rule/{device_id}", category, severity, SITE, device_id, T0, T0, T0),
    ).fetchone()[0]
    conn.execute(
        """INSERT INTO alarm_transitions (alarm_id, from_state, to_state, at, cause)
           VALUES (%s, 'pending', 'active', %s, 'threshold held')""",
        (alarm_id, T0),
    )
    return alarm_id


def test_sync_reads_the_rules_engine_transition_log(estate: psycopg.Connection) -> None:
    from rules.alarms import acknowledge

    alarm_id = raise_alarm(estate, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    assert sync_alarms(estate) == 1
    (order,) = list_work_orders(estate)
    assert (order.alarm_id, order.unit_id, order.state) == (alarm_id, "elevator-maint", "NEW")
    acknowledge(estate, alarm_id, actor="user:duty", comment="calling the maintainer")
    assert sync_alarms(estate) == 1
    assert get_work_order(estate, order.id).state == "ACKED"
    assert events(estate, order.id)[-1].actor == "user:duty"


def test_an_upgrade_after_arrival_keeps_the_deadlines_already_met(estate: psycopg.Connection) -> None:
    fault = Alarm(id=1, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    trapped = Alarm(id=2, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    order = handle_transition(estate, alarm_transition(10, fault))
    for state in ("ACKED", "DISPATCHED", "ON_SITE"):
        step_to(estate, order.id, state, now=T0 + timedelta(minutes=20))
    upgraded = handle_transition(estate, alarm_transition(11, trapped, at=T0 + timedelta(minutes=30)))
    open_steps = estate.execute(
        "SELECT step, due_at FROM sla_steps WHERE order_id = %s AND satisfied_at IS NULL", (order.id,)).fetchall()
    assert upgraded.category == "elevator_entrapment"
    assert open_steps == [("resolve", T0 + timedelta(minutes=30) + timedelta(hours=2))]


@contextmanager
def order_reads(conn: psycopg.Connection) -> Iterator[list[str]]:
    """The statements that read a whole work order (its row with deadlines, cost and first alarm)."""
    reads: list[str] = []

    class Logged(psycopg.Cursor):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            text = query.as_string(self) if isinstance(query, sql.Composable) else str(query)
            if "FROM work_orders wo" in text and "jsonb_object_agg" in text:
                reads.append(text)
            return super().execute(query, params, **kwargs)

    conn.cursor_factory = Logged
    try:
        yield reads
    finally:
        conn.cursor_factory = psycopg.Cursor


def test_opening_an_order_from_an_alarm_reads_the_order_once(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    with order_reads(estate) as reads:
        handle_transition(estate, alarm_transition(10, alarm))
    # One looks for an open order of the incident and finds none; one reads the order just inserted.
    assert len(reads) == 2


def test_a_refire_joining_an_open_order_reads_it_once(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    handle_transition(estate, alarm_transition(10, alarm))
    with order_reads(estate) as reads:
        handle_transition(estate, alarm_transition(11, alarm, at=T0 + timedelta(minutes=1)))
    assert len(reads) == 1


def test_an_order_opened_from_an_alarm_is_returned_as_stored(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=7, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    opened = handle_transition(estate, alarm_transition(10, alarm))
    assert opened == get_work_order(estate, opened.id)


def test_an_order_joined_by_an_alarm_with_a_lower_id_shows_that_alarm(estate: psycopg.Connection) -> None:
    later_raised = Alarm(id=7, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    earlier_raised = Alarm(id=3, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    handle_transition(estate, alarm_transition(10, later_raised))
    joined = handle_transition(estate, alarm_transition(11, earlier_raised, at=T0 + timedelta(minutes=2)))
    assert joined.alarm_id == 3
    assert joined == get_work_order(estate, joined.id)


@pytest.mark.parametrize("to_state", ["acknowledged", "cleared"])
def test_an_order_noted_with_a_later_transition_is_returned_as_stored(
    estate: psycopg.Connection, to_state: str
) -> None:
    alarm = Alarm(id=7, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"])
    handle_transition(estate, alarm_transition(10, alarm))
    noted = handle_transition(estate, alarm_transition(11, alarm, to_state, at=T0 + timedelta(minutes=2)))
    assert noted == get_work_order(estate, noted.id)
