"""The alarm lifecycle in the database: deduplication, restarts, append-only history, NOTIFY, operator actions."""

from __future__ import annotations

import orjson
import psycopg
import pytest

from ingest.database import connect
from ingest.records import Batch, DeviceEvent
from rules.alarms import (
    AlarmNotFound,
    InvalidAlarmTransition,
    acknowledge,
    alarm_history,
    assign,
    clear,
    get_alarm,
    list_alarms,
    transitions_since,
)

from .conftest import at, event, pack, reading

LOW_PRESSURE = """
pack: t
rules:
  - id: outlet.low
    kind: threshold
    device_type: water_supply
    metric: outlet_pressure
    below: 0.10
    clear: 0.12
    for: 60s
    category: water_outage
    severity: P2   # clears by itself (P0/P1 alarms latch until acknowledged)
    title: {zh: 出口压力低, en: outlet pressure low}
    source: test
"""


def test_the_same_batch_processed_twice_yields_one_alarm_and_no_duplicate_transitions(db, estate, make_engine):
    engine = make_engine()
    batch = Batch.of_readings(
        [(estate["ws1"], "outlet_pressure", at(s), 0.05) for s in range(0, 121, 10)]
        + [(estate["ws1"], "outlet_pressure", at(130), 0.3)],
        events=[DeviceEvent(estate["el1"], at(5), "trapped"), DeviceEvent(estate["el1"], at(90), "normal_operation")],
    )
    engine.process(batch, now=at(130))
    before = transitions_since(db, 0)
    engine.process(batch, now=at(131))
    assert transitions_since(db, 0) == before
    assert sorted(a.rule_id for a in list_alarms(db)) == ["elevator.trapped", "water.outlet_pressure_low"]


def test_redelivery_to_a_restarted_engine_does_not_duplicate_an_open_alarm(db, estate, make_engine):
    first = make_engine()
    batch = event(estate["el1"], "trapped", 0)
    first.process(batch, now=at(0))
    first.close()
    make_engine().process(batch, now=at(5))
    assert len(list_alarms(db)) == 1
    assert len(transitions_since(db, 0)) == 1


def test_a_pending_timer_survives_a_restart_and_fires_on_time(db, estate, make_engine):
    rules = pack(LOW_PRESSURE)
    first = make_engine(rules)
    first.process(reading(estate["ws1"], "outlet_pressure", 0, 0.05), now=at(0))
    first.tick(at(30))
    first.close()
    second = make_engine(rules)
    second.tick(at(59))
    assert list_alarms(db)[0].state == "pending"
    second.tick(at(60))
    [alarm] = list_alarms(db)
    assert alarm.state == "active" and alarm.activated_at == at(60)


def test_an_active_alarm_survives_a_restart_and_clears_from_the_new_engine(db, estate, make_engine):
    rules = pack(LOW_PRESSURE)
    first = make_engine(rules)
    first.process(reading(estate["ws1"], "outlet_pressure", 0, 0.05), now=at(0))
    first.tick(at(60))
    first.close()
    second = make_engine(rules)
    second.process(reading(estate["ws1"], "outlet_pressure", 70, 0.2), now=at(70))
    [alarm] = list_alarms(db)
    assert alarm.state == "cleared"
    assert [t.to_state for t in transitions_since(db, 0)] == ["pending", "active", "cleared"]


def test_the_database_refuses_a_second_open_alarm_with_the_same_fingerprint(db, estate, make_engine):
    make_engine().process(event(estate["el1"], "trapped", 0), now=at(0))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("""INSERT INTO alarms (fingerprint, rule_id, category, severity, state, site_id, title_zh,
                      title_en, first_seen, last_seen)
                      SELECT fingerprint, rule_id, category, severity, 'active', site_id, title_zh, title_en,
                             first_seen, last_seen FROM alarms""")


def test_transitions_are_append_only(db, estate, make_engine):
    make_engine().process(event(estate["el1"], "trapped", 0), now=at(0))
    db.execute("UPDATE alarm_transitions SET cause = 'rewritten'")
    db.execute("DELETE FROM alarm_transitions")
    [transition] = transitions_since(db, 0)
    assert transition.cause == "event trapped"


def test_each_transition_is_announced_on_pw_alarms(db_url, db, estate, make_engine):
    with connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN pw_alarms")
        make_engine().process(event(estate["el1"], "trapped", 0), now=at(0))
        [notice] = list(listener.notifies(timeout=5, stop_after=1))
    payload = orjson.loads(notice.payload)
    assert (payload["rule_id"], payload["to"], payload["severity"]) == ("elevator.trapped", "active", "P0")
    assert payload["transition_id"] == transitions_since(db, 0)[0].id


def test_acknowledge_records_actor_and_comment(db, estate, make_engine):
    make_engine().process(event(estate["el1"], "trapped", 0), now=at(0))
    [alarm] = list_alarms(db)
    acked = acknowledge(db, alarm.id, actor="duty-li", comment="calling the maintainer")
    assert (acked.state, acked.acked_by, acked.ack_comment) == ("acknowledged", "duty-li", "calling the maintainer")
    last = alarm_history(db, alarm.id)[-1]
    assert (last.from_state, last.to_state, last.actor) == ("active", "acknowledged", "duty-li")


def test_an_acknowledged_alarm_still_clears_when_its_condition_ends(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    acknowledge(db, list_alarms(db)[0].id, actor="duty-li", comment="on it")
    engine.process(event(estate["el1"], "normal_operation", 300), now=at(300))
    [alarm] = list_alarms(db)
    assert alarm.state == "cleared" and alarm.acked_by == "duty-li"
    assert [(t.from_state, t.to_state) for t in transitions_since(db, 0)][-1] == ("acknowledged", "cleared")


def test_assign_keeps_the_state_and_names_the_assignee(db, estate, make_engine):
    make_engine().process(event(estate["el1"], "trapped", 0), now=at(0))
    alarm = assign(db, list_alarms(db)[0].id, actor="duty-li", assignee="maint-wang", comment="nearest")
    assert (alarm.state, alarm.assigned_to) == ("active", "maint-wang")


def test_a_manual_clear_is_refused_for_a_measured_condition(db, estate, make_engine):
    engine = make_engine(pack(LOW_PRESSURE))
    engine.process(reading(estate["ws1"], "outlet_pressure", 0, 0.05), now=at(0))
    with pytest.raises(InvalidAlarmTransition, match="does not allow a manual clear"):
        clear(db, list_alarms(db)[0].id, actor="duty-li", comment="looks fine")


def test_a_manually_cleared_event_alarm_is_not_reopened_by_the_engine(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    cleared = clear(db, list_alarms(db)[0].id, actor="rescuer-zhao", comment="passenger out")
    engine.tick(at(10))
    engine.process(event(estate["el1"], "normal_operation", 20), now=at(20))
    assert get_alarm(db, cleared.id).state == "cleared"
    assert [t.actor for t in transitions_since(db, 0)] == [None, "rescuer-zhao"]


def test_acting_on_a_missing_alarm_raises_alarm_not_found(db):
    with pytest.raises(AlarmNotFound):
        acknowledge(db, 999, actor="x", comment="y")


def test_acknowledging_a_cleared_alarm_is_an_invalid_transition(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "door_close_fault", 0), now=at(0))
    engine.process(event(estate["el1"], "normal_operation", 5), now=at(5))
    with pytest.raises(InvalidAlarmTransition, match="only an active alarm"):
        acknowledge(db, list_alarms(db)[0].id, actor="x", comment="late")


def test_list_alarms_puts_the_most_severe_first_then_the_newest(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "out_of_service", 0), now=at(0))
    engine.process(event(estate["el2"], "trapped", 5), now=at(5))
    engine.process(event(estate["el1"], "alarm_button", 10), now=at(10))
    assert [a.severity for a in list_alarms(db)] == ["P0", "P1", "P3"]
    assert [a.rule_id for a in list_alarms(db, severity="P3")] == ["elevator.out_of_service"]
    assert [a.device_id for a in list_alarms(db, device_id=estate["el2"])] == [estate["el2"]]


def test_the_engine_carries_on_after_losing_its_database_connection(db, estate, make_engine):
    engine = make_engine()
    db.execute("""SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()""")
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    assert [a.rule_id for a in list_alarms(db)] == ["elevator.trapped"]


def test_an_entrapment_right_after_a_manual_clear_opens_a_new_alarm(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    first = clear(db, list_alarms(db)[0].id, actor="rescuer-zhao", comment="passenger out")
    engine.process(event(estate["el1"], "trapped", 5), now=at(5))
    states = {a.id: a.state for a in list_alarms(db)}
    assert states.pop(first.id) == "cleared"
    assert list(states.values()) == ["active"]


def test_redelivery_to_a_restarted_engine_does_not_raise_a_cleared_alarm_again(db, estate, make_engine):
    batch = Batch(events=[DeviceEvent(estate["el1"], at(0), "door_close_fault"),
                          DeviceEvent(estate["el1"], at(60), "normal_operation")])
    first = make_engine()
    first.process(batch, now=at(60))
    first.close()
    make_engine().process(batch, now=at(65))
    assert [a.state for a in list_alarms(db)] == ["cleared"]
    assert len(transitions_since(db, 0)) == 2


def test_redelivery_to_a_restarted_engine_does_not_raise_a_latched_alarm_again(db, estate, make_engine):
    batch = Batch(events=[DeviceEvent(estate["el1"], at(0), "trapped"),
                          DeviceEvent(estate["el1"], at(60), "normal_operation")])
    first = make_engine()
    first.process(batch, now=at(60))
    first.close()
    make_engine().process(batch, now=at(65))
    [alarm] = list_alarms(db)
    assert alarm.latched
    assert len(transitions_since(db, 0)) == 2
