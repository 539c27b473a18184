"""Rate of change, absence, composite, anomaly and forecast rules."""

from __future__ import annotations

import math
from datetime import datetime

from ingest.records import Batch
from rules.alarms import acknowledge, list_alarms

from .conftest import at, event, pack, reading

COMMON = """
    category: {category}
    title: {{zh: 测试, en: test}}
    source: test
"""


def rule_pack(body: str, category: str = "drainage_flood") -> str:
    return "pack: t\nrules:\n" + body + COMMON.format(category=category)


SUMP_RISING = rule_pack("""
  - id: sump.rising
    kind: rate
    device_type: drainage
    metric: sump_level
    window: 5m
    rise: 0.5""")


def test_a_rise_within_the_window_fires_a_rate_rule(db, estate, make_engine):
    engine = make_engine(pack(SUMP_RISING))
    for i, level in enumerate([0.2, 0.3, 0.45, 0.6, 0.75]):
        engine.process(reading(estate["dr1"], "sump_level", i * 60, level), now=at(i * 60))
    [alarm] = list_alarms(db)
    assert alarm.rule_id == "sump.rising" and alarm.state == "active"
    assert math.isclose(alarm.value, 0.55)


def test_the_same_rise_spread_over_longer_than_the_window_does_not(db, estate, make_engine):
    engine = make_engine(pack(SUMP_RISING))
    for i in range(12):
        engine.process(reading(estate["dr1"], "sump_level", i * 60, 0.2 + 0.06 * i), now=at(i * 60))
    assert list_alarms(db) == []


def test_a_silent_device_raises_an_absence_alarm_and_clears_when_it_speaks(db, estate, make_engine):
    engine = make_engine()
    engine.process(reading(estate["el1"], "car_position", 0, 3), now=at(0))
    engine.tick(at(59))
    assert list_alarms(db) == []
    engine.tick(at(61))
    [alarm] = list_alarms(db)
    assert (alarm.rule_id, alarm.state, alarm.category) == ("elevator.silent", "active", "device_offline")
    engine.process(reading(estate["el1"], "car_position", 70, 3), now=at(70))
    assert list_alarms(db)[0].state == "cleared"


def test_fire_alarm_and_sprinkler_flow_in_one_building_confirm_a_fire(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["fs1"], "fire_alarm", 0), now=at(0))
    engine.process(event(estate["fs1"], "water_flow", 90), now=at(90))
    confirmed = [a for a in list_alarms(db) if a.rule_id == "fire.confirmed"]
    assert [(a.building_id, a.device_id, a.severity, a.state) for a in confirmed] == [
        (estate["b1"], None, "P0", "active")]
    assert confirmed[0].fingerprint == f"fire.confirmed/building:{estate['b1']}"


def test_conditions_in_different_buildings_do_not_combine(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["fs1"], "fire_alarm", 0), now=at(0))
    engine.process(event(estate["fs2"], "water_flow", 30), now=at(30))
    assert not [a for a in list_alarms(db) if a.rule_id == "fire.confirmed"]


def test_conditions_further_apart_than_within_do_not_combine(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["fs1"], "fire_alarm", 0), now=at(0))
    engine.process(event(estate["fs1"], "water_flow", 301), now=at(301))
    assert not [a for a in list_alarms(db) if a.rule_id == "fire.confirmed"]


def test_a_panel_reset_clears_the_confirmed_fire(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["fs1"], "fire_alarm", 0), now=at(0))
    engine.process(event(estate["fs1"], "water_flow", 10), now=at(10))
    for alarm in list_alarms(db):
        acknowledge(db, alarm.id, actor="op", comment="fire brigade called")
    engine.process(event(estate["fs1"], "reset", 600), now=at(600))
    assert {a.rule_id: a.state for a in list_alarms(db)}["fire.confirmed"] == "cleared"


PUMP_ANOMALY = rule_pack("""
  - id: pump.anomaly
    kind: anomaly
    device_type: water_supply
    metrics: [pump1_vibration]
    level: 0.5""", "water_equipment")


def test_an_anomaly_score_at_or_above_level_fires(db, estate, make_engine):
    engine = make_engine(pack(PUMP_ANOMALY))
    # Steady vibration with a little texture to learn from (a detector is calibrated after ~320 readings at
    # 10 s, docs/anomaly.md), then a jump far outside it.
    normal = [2.0 + 0.05 * ((i * 7) % 5 - 2) for i in range(400)]
    engine.process(Batch.of_readings([(estate["ws1"], "pump1_vibration", at(i * 10), v)
                                   for i, v in enumerate(normal)]), now=at(4000))
    assert list_alarms(db) == []
    engine.process(Batch.of_readings([(estate["ws1"], "pump1_vibration", at(4000 + i * 10), 9.0)
                                   for i in range(3)]), now=at(4030))
    [alarm] = list_alarms(db)
    assert alarm.rule_id == "pump.anomaly" and alarm.value >= 0.5


class RecordingScorer:
    """An anomaly scorer that records the rows it is given and calls every row normal."""

    def __init__(self) -> None:
        self.rows: list[tuple[datetime, dict[str, float]]] = []

    def score(self, key, channels, ts, values, *, alarm="state") -> float:
        self.rows.append((ts, dict(values)))
        return 0.0

    def flush(self, now) -> None:
        pass


def test_readings_faster_than_the_catalogue_period_are_averaged_into_fewer_scored_rows(estate, make_engine):
    # pump1_vibration's catalogue period is 10 s: rows are scored at most every 5 s, each the mean since the last.
    scorer = RecordingScorer()
    engine = make_engine(pack(PUMP_ANOMALY), scorer=scorer)
    engine.process(Batch.of_readings([(estate["ws1"], "pump1_vibration", at(s), float(s)) for s in range(21)]),
                   now=at(20))
    assert [(ts, row["pump1_vibration"]) for ts, row in scorer.rows] == [
        (at(0), 0.0), (at(5), 3.0), (at(10), 8.0), (at(15), 13.0), (at(20), 18.0)]


def test_readings_at_the_catalogue_period_are_each_scored(estate, make_engine):
    scorer = RecordingScorer()
    engine = make_engine(pack(PUMP_ANOMALY), scorer=scorer)
    for i in range(6):
        engine.process(reading(estate["ws1"], "pump1_vibration", i * 10, 2.0 + i), now=at(i * 10))
    assert [row["pump1_vibration"] for _, row in scorer.rows] == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


TANK_FORECAST = rule_pack("""
  - id: tank.forecast
    kind: forecast
    device_type: fire_system
    metric: fire_tank_level
    threshold: {attribute: tank_low_level}
    direction: below
    horizon: 2h""", "fire_water")


def test_a_level_trending_to_its_low_mark_within_the_horizon_is_forecast(db, estate, make_engine):
    engine = make_engine(pack(TANK_FORECAST))
    # FS1's low level is 2.0 m; the tank falls 0.1 m every 10 minutes from 4.0 m: 2.0 m in under 2 h.
    for i in range(12):
        engine.process(reading(estate["fs1"], "fire_tank_level", i * 600, 4.0 - 0.1 * i), now=at(i * 600))
    [alarm] = list_alarms(db)
    assert alarm.rule_id == "tank.forecast" and alarm.value <= 7200


def test_a_steady_level_is_not_forecast(db, estate, make_engine):
    engine = make_engine(pack(TANK_FORECAST))
    for i in range(12):
        engine.process(reading(estate["fs1"], "fire_tank_level", i * 600, 3.0), now=at(i * 600))
    assert list_alarms(db) == []
