"""Event rules: a code (or a count of codes within a window) opens an alarm; clearing events close it."""

from __future__ import annotations

from rules.alarms import acknowledge, list_alarms, transitions_since

from .conftest import at, event, pack

DOOR_REOPEN = """
pack: t
rules:
  - id: door.reopen
    kind: event
    device_type: elevator
    code: door_reopen
    count: 5
    window: 2m
    category: elevator_advisory
    title: {zh: 反复开关门, en: repeated door re-open}
    source: test
"""


def test_trapped_passenger_is_an_active_p0_entrapment_alarm_at_once(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    [alarm] = list_alarms(db)
    assert (alarm.rule_id, alarm.state, alarm.severity, alarm.category) == (
        "elevator.trapped", "active", "P0", "elevator_entrapment")
    assert alarm.activated_at == at(0)
    assert [(t.from_state, t.to_state) for t in transitions_since(db, 0)] == [(None, "active")]


def test_normal_operation_clears_the_acknowledged_entrapment(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    acknowledge(db, list_alarms(db)[0].id, actor="op", comment="rescue on the way")
    engine.process(event(estate["el1"], "normal_operation", 600), now=at(600))
    [alarm] = list_alarms(db)
    assert alarm.state == "cleared"
    assert alarm.cleared_at == at(600)


def test_a_repeated_event_updates_the_open_alarm_instead_of_opening_another(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "trapped", 30), now=at(30))
    [alarm] = list_alarms(db)
    assert alarm.last_seen == at(30)
    assert len(transitions_since(db, 0)) == 1


def test_five_door_reopens_within_two_minutes_raise_the_alarm(db, estate, make_engine):
    engine = make_engine(pack(DOOR_REOPEN))
    for i in range(5):
        engine.process(event(estate["el1"], "door_reopen", i * 20), now=at(i * 20))
    [alarm] = list_alarms(db)
    assert (alarm.rule_id, alarm.state, alarm.value) == ("door.reopen", "active", 5.0)


def test_door_reopens_spread_beyond_the_window_raise_nothing(db, estate, make_engine):
    engine = make_engine(pack(DOOR_REOPEN))
    for i in range(8):
        engine.process(event(estate["el1"], "door_reopen", i * 40), now=at(i * 40))
    assert list_alarms(db) == []


def test_offline_will_becomes_an_alarm_only_after_its_for_period(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "offline", 0), now=at(0))
    engine.tick(at(30))
    assert [a.state for a in list_alarms(db)] == ["pending"]
    engine.tick(at(61))
    [alarm] = list_alarms(db)
    assert (alarm.rule_id, alarm.state, alarm.category) == ("elevator.offline", "active", "device_offline")


def test_a_birth_within_the_for_period_cancels_the_offline_alarm(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "offline", 0), now=at(0))
    engine.process(event(estate["el1"], "online", 20), now=at(20))
    engine.tick(at(120))
    assert [a.state for a in list_alarms(db)] == ["cleared"]
    assert [t.to_state for t in transitions_since(db, 0)] == ["pending", "cleared"]
