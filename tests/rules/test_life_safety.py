"""A P0 (life-safety) alarm is never muted: raised, dispatched, and marked as raised during a silence."""

from __future__ import annotations

from rules.alarms import list_alarms, transitions_since
from rules.silences import silence

from .conftest import at, event, pack


def silence_lift(db, device_id: str, **extra) -> int:
    return silence(db, scope_type="device", scope_id=device_id, starts_at=at(0), ends_at=at(2 * 3600),
                   actor="maint-wang", reason="half-monthly maintenance", **extra)


def by_rule(db) -> dict:
    return {a.rule_id: a for a in list_alarms(db)}


def test_an_entrapment_during_a_silence_is_active_and_not_suppressed(db, estate, make_engine):
    silence_id = silence_lift(db, estate["el1"])
    make_engine().process(event(estate["el1"], "trapped", 600), now=at(600))
    [alarm] = list_alarms(db)
    assert (alarm.state, alarm.suppressed, alarm.raised_in_silence, alarm.silence_id) == \
        ("active", False, True, silence_id)
    assert not transitions_since(db, 0)[0].alarm.suppressed


def test_a_lesser_alarm_in_the_same_silence_is_suppressed_and_also_marked(db, estate, make_engine):
    silence_lift(db, estate["el1"])
    make_engine().process(event(estate["el1"], "door_close_fault", 600), now=at(600))
    [alarm] = list_alarms(db)
    assert (alarm.suppressed, alarm.raised_in_silence) == (True, True)


def test_maintenance_in_progress_marks_the_entrapment_but_does_not_mute_it(db, estate, make_engine):
    silence_lift(db, estate["el1"], maintenance=True)
    make_engine().process(event(estate["el1"], "trapped", 600), now=at(600))
    [alarm] = list_alarms(db)
    assert alarm.maintenance_in_progress and not alarm.suppressed


def test_an_inhibition_aimed_at_a_p0_rule_does_not_mute_it(db, estate, make_engine):
    rules = pack("""
pack: t
rules:
  - id: lift.trapped
    kind: event
    device_type: elevator
    code: trapped
    category: elevator_entrapment
    title: {zh: 困人, en: trapped}
    source: test
  - id: lift.power
    kind: event
    device_type: elevator
    code: main_power_off
    category: elevator_fault
    title: {zh: 断电, en: power off}
    source: test
inhibitions:
  - id: power_explains_everything
    scope: device
    source: {rules: [lift.power]}
    targets: {rules: [lift.trapped]}
    reason: a misguided inhibition
""")
    engine = make_engine(rules)
    engine.process(event(estate["el1"], "main_power_off", 0), now=at(0))
    engine.process(event(estate["el1"], "trapped", 5), now=at(5))
    trapped = by_rule(db)["lift.trapped"]
    assert not trapped.suppressed and not trapped.raised_in_silence
    assert "power_explains_everything" in trapped.detail["raised_despite"]
