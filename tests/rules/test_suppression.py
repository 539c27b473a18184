"""Silences, maintenance windows and topology inhibition: suppressed alarms are recorded, flagged, and clear."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.records import Batch, DeviceEvent
from rules.alarms import Alarm, acknowledge, list_alarms, silence, transitions_since
from rules.silences import Silence, parse_recurrence

from .conftest import T0, at, event


def test_a_device_under_repair_raises_nothing_but_the_alarm_is_recorded_as_suppressed(db, estate, make_engine):
    silence(db, scope_type="device", scope_id=estate["el1"], starts_at=at(0), ends_at=at(3600),
            actor="maint-wang", reason="under repair")
    make_engine().process(event(estate["el1"], "safety_circuit_broken", 60), now=at(60))
    [alarm] = list_alarms(db)
    assert alarm.suppressed and alarm.state == "active"
    assert "under repair" in alarm.detail["suppressed_by"]
    [transition] = transitions_since(db, 0)
    assert transition.alarm.suppressed


def test_a_building_silence_covers_its_devices_only(db, estate, make_engine):
    silence(db, scope_type="building", scope_id=estate["b1"], starts_at=at(0), ends_at=at(3600),
            actor="pm", reason="drill")
    engine = make_engine()
    engine.process(event(estate["el1"], "out_of_service", 10), now=at(10))
    engine.process(event(estate["el2"], "out_of_service", 10), now=at(10))
    assert {a.device_id: a.suppressed for a in list_alarms(db)} == {estate["el1"]: True, estate["el2"]: False}


def test_alarms_after_the_window_are_not_suppressed(db, estate, make_engine):
    silence(db, scope_type="site", scope_id=estate["site"], starts_at=at(0), ends_at=at(60), actor="pm",
            reason="test")
    make_engine().process(event(estate["el1"], "trapped", 61), now=at(61))
    assert not list_alarms(db)[0].suppressed


def test_a_silence_created_while_the_engine_runs_applies_after_reload(db, estate, make_engine):
    engine = make_engine()
    silence(db, scope_type="device", scope_id=estate["el1"], starts_at=at(0), ends_at=at(600), actor="pm",
            reason="repair")
    engine.tick(at(1))
    engine.process(event(estate["el1"], "out_of_service", 2), now=at(2))
    assert list_alarms(db)[0].suppressed


def test_a_weekly_maintenance_window_recurs_on_its_days(db, estate, make_engine):
    # T0 is Monday 08:00 UTC; the window is Mondays and Wednesdays 08:00-10:00.
    silence(db, scope_type="device", scope_id=estate["el1"], starts_at=T0, ends_at=T0 + timedelta(hours=2),
            actor="maint-wang", reason="half-monthly maintenance",
            recurrence="FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261231T000000Z")
    engine = make_engine()
    wednesday, thursday = 2 * 86400 + 3600, 3 * 86400 + 3600
    engine.process(event(estate["el1"], "out_of_service", wednesday), now=at(wednesday))
    engine.process(event(estate["el1"], "normal_operation", wednesday + 60), now=at(wednesday + 60))
    engine.process(event(estate["el1"], "out_of_service", thursday), now=at(thursday))
    assert [a.suppressed for a in list_alarms(db)] == [False, True]


def test_a_recurrence_outside_the_supported_subset_is_rejected():
    with pytest.raises(ValueError, match="FREQ must be DAILY or WEEKLY"):
        parse_recurrence("FREQ=MONTHLY")


def test_a_building_fire_alarm_inhibits_the_fire_recall_of_its_lifts(db, estate, make_engine):
    engine = make_engine()
    engine.process(Batch(events=[
        DeviceEvent(estate["fs1"], at(0), "fire_alarm"),
        DeviceEvent(estate["el1"], at(5), "fire_recall"),
        DeviceEvent(estate["el2"], at(5), "fire_recall"),
    ]), now=at(5))
    recalls = {a.device_id: a for a in list_alarms(db) if a.rule_id == "elevator.fire_recall"}
    assert recalls[estate["el1"]].suppressed
    assert "fire_recall" in recalls[estate["el1"]].detail["suppressed_by"]
    assert not recalls[estate["el2"]].suppressed  # another building


def test_inhibition_never_hides_an_entrapment(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["fs1"], "fire_alarm", 0), now=at(0))
    engine.process(event(estate["el1"], "trapped", 5), now=at(5))
    assert not next(a for a in list_alarms(db) if a.rule_id == "elevator.trapped").suppressed


def test_a_pump_room_power_failure_inhibits_per_pump_alarms(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["ws1"], "power_failure", 0), now=at(0))
    engine.process(event(estate["ws1"], "pump_fault", 3), now=at(3))
    by_rule = {a.rule_id: a for a in list_alarms(db)}
    assert not by_rule["water.power_failure"].suppressed
    assert by_rule["water.pump_fault"].suppressed


def test_inhibited_alarms_still_resolve_cleanly(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["fs1"], "fire_alarm", 0), now=at(0))
    engine.process(event(estate["el1"], "fire_recall", 5), now=at(5))
    fire = next(a for a in list_alarms(db) if a.rule_id == "fire.alarm")
    acknowledge(db, fire.id, actor="op", comment="checked: drill")
    engine.process(event(estate["fs1"], "reset", 900), now=at(900))
    engine.process(event(estate["el1"], "normal_operation", 960), now=at(960))
    assert {a.rule_id: a.state for a in list_alarms(db)} == {"fire.alarm": "cleared", "elevator.fire_recall": "cleared"}
    recall = [t for t in transitions_since(db, 0) if t.alarm.rule_id == "elevator.fire_recall"]
    assert [(t.to_state, t.alarm.suppressed) for t in recall] == [("active", True), ("cleared", True)]


def test_an_alarm_still_active_when_its_silence_ends_is_released(db, estate, make_engine):
    silence(db, scope_type="device", scope_id=estate["el1"], starts_at=at(0), ends_at=at(600), actor="maint-wang",
            reason="under repair")
    engine = make_engine()
    engine.process(event(estate["el1"], "out_of_service", 60), now=at(60))
    engine.tick(at(599))
    assert out_of_service(db).suppressed
    engine.tick(at(601))
    alarm = out_of_service(db)
    assert (alarm.state, alarm.suppressed, "suppressed_by" in alarm.detail) == ("active", False, False)
    released = [t for t in transitions_since(db, 0) if t.alarm_id == alarm.id][-1]
    assert (released.from_state, released.to_state, released.at) == ("active", "active", at(601))
    assert "under repair" in released.values["silence_ended"]


def test_an_alarm_that_cleared_inside_its_silence_stays_as_it_was(db, estate, make_engine):
    silence(db, scope_type="device", scope_id=estate["el1"], starts_at=at(0), ends_at=at(600), actor="maint-wang",
            reason="under repair")
    engine = make_engine()
    engine.process(event(estate["el1"], "out_of_service", 60), now=at(60))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    engine.tick(at(601))
    assert [(t.to_state, t.alarm.suppressed) for t in transitions_since(db, 0)
            if t.alarm.rule_id == "elevator.out_of_service"] == [("active", True), ("cleared", True)]


def test_a_silenced_alarm_is_released_by_an_engine_restarted_after_the_silence(db, estate, make_engine):
    silence(db, scope_type="device", scope_id=estate["el1"], starts_at=at(0), ends_at=at(600), actor="maint-wang",
            reason="under repair")
    make_engine().process(event(estate["el1"], "out_of_service", 60), now=at(60))
    make_engine().tick(at(900))
    assert not out_of_service(db).suppressed


def test_an_inhibited_alarm_stays_suppressed_when_its_source_clears(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["fs1"], "fire_alarm", 0), now=at(0))
    engine.process(event(estate["el1"], "fire_recall", 5), now=at(5))
    fire = next(a for a in list_alarms(db) if a.rule_id == "fire.alarm")
    acknowledge(db, fire.id, actor="op", comment="checked: drill")
    engine.process(event(estate["fs1"], "reset", 900), now=at(900))
    engine.tick(at(901))
    # The lift reports normal operation once the fire linkage is reset: no order for the gap in between.
    suppressed = {a.rule_id: a.suppressed for a in list_alarms(db)}
    assert (suppressed["fire.alarm"], suppressed["elevator.fire_recall"]) == (False, True)


def out_of_service(db) -> Alarm:
    [alarm] = [a for a in list_alarms(db) if a.rule_id == "elevator.out_of_service"]
    return alarm


def test_a_daily_window_that_crosses_midnight_covers_the_small_hours():
    night = Silence(1, "site", "S1", T0.replace(hour=22), T0.replace(hour=22) + timedelta(hours=4),
                    parse_recurrence("FREQ=DAILY"), "night works")
    assert night.covers(T0.replace(hour=22) + timedelta(days=3, hours=3))
    assert not night.covers(T0.replace(hour=22) + timedelta(days=3, hours=5))
