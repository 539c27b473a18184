"""ISA-18.2 "return to normal unacknowledged": P0/P1 alarms stay until acknowledged; event alarms without a
clearing code clear when their work order closes."""

from __future__ import annotations

import pytest

from rules.alarms import (
    InvalidAlarmTransition,
    acknowledge,
    alarm_history,
    clear,
    close_for_work_order,
    list_alarms,
    page_alarms,
)

from .conftest import at, event, reading


def only(db):
    [alarm] = list_alarms(db)
    return alarm


def test_an_entrapment_that_ends_unacknowledged_stays_active_and_latched(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    alarm = only(db)
    assert (alarm.state, alarm.latched, alarm.returned_at) == ("active", True, at(300))


def test_a_latched_alarm_is_in_the_active_list(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    found, total = page_alarms(db, sites=[estate["site"]], states=["active"], limit=10, offset=0)
    assert total == 1 and found[0].latched


def test_acknowledging_a_latched_alarm_clears_it(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    done = acknowledge(db, only(db).id, actor="op-li", comment="passenger out, called the family")
    assert (done.state, done.acked_by) == ("cleared", "op-li")
    assert [(t.from_state, t.to_state, t.actor) for t in alarm_history(db, done.id)][-2:] == [
        ("active", "acknowledged", "op-li"), ("acknowledged", "cleared", "op-li")]


def test_a_latched_alarm_cannot_be_cleared_by_hand_without_its_acknowledgement(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    with pytest.raises(InvalidAlarmTransition, match="acknowledge it"):
        clear(db, only(db).id, actor="op-li", comment="tidy the console")
    assert only(db).state == "active"


def test_the_engine_follows_the_acknowledgement_of_a_latched_alarm(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    acknowledge(db, only(db).id, actor="op-li", comment="seen")
    engine.process(event(estate["el1"], "trapped", 900), now=at(900))
    assert [a.state for a in list_alarms(db)] == ["active", "cleared"]


def test_a_latched_alarm_raised_again_is_the_same_alarm_and_no_longer_latched(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    engine.process(event(estate["el1"], "trapped", 400), now=at(400))
    alarm = only(db)
    assert (alarm.state, alarm.latched) == ("active", False)
    assert alarm_history(db, alarm.id)[-1].values["relapse"] is True


def test_a_p1_threshold_latches_and_only_its_trip_level_raises_it_again(db, estate, make_engine):
    engine = make_engine()
    lift = estate["el1"]  # rated 1.75 m/s: trips above 2.1, clears below 1.8375 held for 10 s
    for second, speed in ((0, 2.5), (20, 1.0), (31, 1.0), (40, 2.0)):
        engine.process(reading(lift, "speed", second, speed), now=at(second))
    alarm = only(db)
    assert alarm.latched and alarm.returned_at == at(30)


def test_an_acknowledged_alarm_clears_when_its_condition_ends(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    acknowledge(db, only(db).id, actor="op", comment="crew sent")
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    assert only(db).state == "cleared"


def test_a_lesser_alarm_clears_unacknowledged(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "door_close_fault", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    assert only(db).state == "cleared"


def test_a_latched_alarm_survives_a_restart(db, estate, make_engine):
    first = make_engine()
    first.process(event(estate["el1"], "trapped", 0), now=at(0))
    first.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    first.close()
    make_engine().process(event(estate["el1"], "normal_operation", 600), now=at(600))
    assert only(db).latched


def test_closing_the_work_order_clears_an_alarm_with_no_clearing_event(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "alarm_button", 0), now=at(0))
    [closed] = close_for_work_order(db, [only(db).id], actor="crew-1", reason="WO-1 closed")
    assert closed.state == "cleared"
    assert "its rule has no clearing event" in alarm_history(db, closed.id)[-1].cause


def test_closing_the_work_order_clears_a_latched_alarm(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    assert [a.state for a in close_for_work_order(db, [only(db).id], actor="crew-1", reason="WO-1")] == ["cleared"]


def test_closing_the_work_order_leaves_an_alarm_whose_condition_still_holds(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    assert close_for_work_order(db, [only(db).id], actor="crew-1", reason="WO-1 closed") == []
    assert only(db).state == "active"


def test_the_engine_follows_a_clear_made_by_a_work_order_close(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "alarm_button", 0), now=at(0))
    close_for_work_order(db, [only(db).id], actor="crew-1", reason="WO-1 closed")
    engine.process(event(estate["el1"], "alarm_button", 600), now=at(600))
    assert [a.state for a in list_alarms(db)] == ["active", "cleared"]
