"""Threshold rules: a level held for `for`, a separate clear level, and recovery time against flapping."""

from __future__ import annotations

from rules.alarms import list_alarms, transitions_since

from .conftest import at, pack, reading

SPRINKLER = """
pack: t
rules:
  - id: sprinkler.low
    kind: threshold
    device_type: fire_system
    metric: sprinkler_end_pressure
    below: 0.05
    clear: 0.06
    for: 30s
    clear_for: 60s
    category: fire_water
    severity: P2   # clears by itself (P0/P1 alarms latch until acknowledged)
    title: {zh: 喷淋末端压力不足, en: sprinkler pressure low}
    source: test
"""


def feed(engine, device, metric, values, step=10):
    """Feed ``values`` one reading every ``step`` seconds from T0."""
    for i, value in enumerate(values):
        engine.process(reading(device, metric, i * step, value), now=at(i * step))


def test_a_breach_shorter_than_for_is_pending_then_dropped(db, estate, make_engine):
    engine = make_engine(pack(SPRINKLER))
    feed(engine, estate["fs1"], "sprinkler_end_pressure", [0.04, 0.04, 0.07])
    [alarm] = list_alarms(db)
    assert alarm.state == "cleared" and alarm.activated_at is None
    assert [t.to_state for t in transitions_since(db, 0)] == ["pending", "cleared"]


def test_a_breach_held_for_the_for_period_activates(db, estate, make_engine):
    engine = make_engine(pack(SPRINKLER))
    feed(engine, estate["fs1"], "sprinkler_end_pressure", [0.04, 0.04, 0.04, 0.04])
    [alarm] = list_alarms(db)
    assert alarm.state == "active"
    assert alarm.activated_at == at(30)


def test_tick_activates_when_the_for_period_ends_without_new_data(db, estate, make_engine):
    engine = make_engine(pack(SPRINKLER))
    engine.process(reading(estate["fs1"], "sprinkler_end_pressure", 0, 0.03), now=at(0))
    engine.tick(at(29))
    assert list_alarms(db)[0].state == "pending"
    engine.tick(at(30))
    assert list_alarms(db)[0].state == "active"


def test_a_value_between_trip_and_clear_levels_keeps_the_alarm(db, estate, make_engine):
    engine = make_engine(pack(SPRINKLER))
    feed(engine, estate["fs1"], "sprinkler_end_pressure", [0.04] * 4 + [0.055] * 12)
    [alarm] = list_alarms(db)
    assert alarm.state == "active"


def test_the_alarm_clears_after_recovering_for_clear_for(db, estate, make_engine):
    engine = make_engine(pack(SPRINKLER))
    feed(engine, estate["fs1"], "sprinkler_end_pressure", [0.04] * 4 + [0.07] * 8)
    [alarm] = list_alarms(db)
    assert alarm.state == "cleared"
    assert alarm.cleared_at == at(40 + 60)


def test_flapping_around_the_clear_level_gives_one_alarm(db, estate, make_engine):
    engine = make_engine(pack(SPRINKLER))
    flapping = [0.04] * 4 + [0.07, 0.04, 0.07, 0.04] * 10
    feed(engine, estate["fs1"], "sprinkler_end_pressure", flapping)
    [alarm] = list_alarms(db)
    assert alarm.state == "active"
    assert [t.to_state for t in transitions_since(db, 0)] == ["pending", "active"]


def test_overspeed_level_comes_from_the_rated_speed_attribute(db, estate, make_engine):
    engine = make_engine()
    # EL1 is rated 1.75 m/s (trips above 2.1), EL2 1.0 m/s (trips above 1.2).
    engine.process(reading(estate["el1"], "speed", 0, 2.0), now=at(0))
    engine.process(reading(estate["el2"], "speed", 0, 2.0), now=at(0))
    [alarm] = list_alarms(db)
    assert (alarm.device_id, alarm.rule_id, alarm.severity) == (estate["el2"], "elevator.overspeed", "P1")
    assert alarm.detail == {}
    assert transitions_since(db, 0)[0].values["level"] == 1.2


def test_a_device_without_the_attribute_gets_no_attribute_rule(db, estate, make_engine):
    engine = make_engine()
    # FS1 has tank_low_level 2.0; FS2 has none, so only FS1 can raise a low-tank alarm.
    for device in (estate["fs1"], estate["fs2"]):
        engine.process(reading(device, "fire_tank_level", 0, 1.0), now=at(0))
    engine.tick(at(61))
    assert [a.device_id for a in list_alarms(db) if a.rule_id == "fire.tank_low"] == [estate["fs1"]]


def test_a_reading_stamped_minutes_ahead_does_not_blind_the_rule(db, estate, make_engine):
    # An outsider's probe: one normal reading stamped 290 s ahead (the gateway takes up to 300 s of clock skew),
    # then low pressure at the real time. The engine reads a reading from ahead of its clock as now, so the
    # low readings that follow are not taken for replays of older ones.
    engine = make_engine(pack(SPRINKLER))
    engine.process(reading(estate["fs1"], "sprinkler_end_pressure", 290, 0.08), now=at(0))
    feed_from = [(10, 0.04), (20, 0.04)]
    for second, value in feed_from:
        engine.process(reading(estate["fs1"], "sprinkler_end_pressure", second, value), now=at(second))
    [alarm] = list_alarms(db)
    assert alarm.state == "pending"
