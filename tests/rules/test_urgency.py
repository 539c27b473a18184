"""Urgency: the engine tells the gateway which records may raise an alarm at once (an event an immediate rule
listens for, a reading crossing an immediate threshold), so they are committed without waiting for a batch."""

from __future__ import annotations

from ingest.records import DeviceEvent, Sample
from ingest.registry import Building, Device, upsert_building, upsert_device
from rules.store import publish_pack
from rules.urgency import Triggers, Urgency

from .conftest import at, create_estate, reading


def sample(device_id: str, seconds: float, **metrics: float) -> Sample:
    return Sample(device_id, at(seconds), metrics)


def urgency_of(triggers: dict[str, Triggers]) -> Urgency:
    urgency = Urgency()
    urgency.publish(triggers)
    return urgency


def test_an_event_code_an_immediate_rule_listens_for_is_urgent() -> None:
    urgency = urgency_of({"EL1": Triggers.of(["trapped"], [])})
    assert urgency(DeviceEvent("EL1", at(0), "trapped"))
    assert not urgency(DeviceEvent("EL1", at(0), "door_reopen"))


def test_a_reading_is_urgent_when_it_crosses_not_while_it_stays_beyond() -> None:
    urgency = urgency_of({"EL1": Triggers.of([], [("speed", True, 2.1)])})
    assert [urgency(sample("EL1", s, speed=v)) for s, v in enumerate([1.0, 2.5, 2.6, 2.4])] == [
        False, True, False, False]


def test_a_reading_crossing_again_after_coming_back_is_urgent_again() -> None:
    urgency = urgency_of({"EL1": Triggers.of([], [("speed", True, 2.1)])})
    assert [urgency(sample("EL1", s, speed=v)) for s, v in enumerate([2.5, 1.0, 2.5])] == [True, False, True]


def test_the_first_level_crossed_on_a_metric_is_the_one_that_counts() -> None:
    urgency = urgency_of({"T1": Triggers.of([], [("level", False, 1.0), ("level", False, 0.5)])})
    assert urgency(sample("T1", 0, level=0.9))


def test_rising_and_falling_levels_on_one_metric_are_followed_apart() -> None:
    urgency = urgency_of({"T1": Triggers.of([], [("level", True, 4.0), ("level", False, 1.0)])})
    assert [urgency(sample("T1", s, level=v)) for s, v in enumerate([4.5, 0.5, 4.5, 4.6])] == [
        True, True, True, False]


def test_a_device_without_triggers_is_never_urgent() -> None:
    urgency = urgency_of({"EL1": Triggers.of(["trapped"], [("speed", True, 2.1)])})
    assert not urgency(DeviceEvent("EL2", at(0), "trapped"))
    assert not urgency(sample("EL2", 0, speed=9.0))


def test_the_engine_marks_an_entrapment_and_an_overspeed_urgent(estate, make_engine) -> None:
    urgency = make_engine().urgency
    assert urgency(DeviceEvent(estate["el1"], at(0), "trapped"))
    assert not urgency(sample(estate["el1"], 0, speed=1.0))
    assert urgency(sample(estate["el1"], 1, speed=2.5))  # over 1.2 x its rated 1.75 m/s


def test_a_threshold_with_a_for_period_is_not_urgent(estate, make_engine) -> None:
    urgency = make_engine().urgency
    # fire.tank_low holds 60 s before it fires: committing the first low reading early gains nothing.
    assert not urgency(sample(estate["fs1"], 0, fire_tank_level=0.5))


def test_urgency_follows_a_published_override(db, estate, make_engine) -> None:
    engine = make_engine()
    publish_pack(db, f"""
pack: site-{estate['site']}
overrides:
  - rule: fire.tank_low
    device: {estate['fs1']}
    set: {{for: 0s}}
  - rule: elevator.trapped
    device: {estate['el1']}
    set: {{enabled: false}}
""", actor="admin")
    engine.tick(at(10))
    assert engine.urgency(sample(estate["fs1"], 11, fire_tank_level=0.5))
    assert not engine.urgency(DeviceEvent(estate["el1"], at(11), "trapped"))


def test_a_device_registered_after_start_becomes_urgent_once_seen(db, estate, make_engine) -> None:
    engine = make_engine()
    upsert_building(db, Building(f"{estate['site']}-B3", estate["site"], "3号楼", floors=6))
    upsert_device(db, Device(f"{estate['site']}-EL3", estate["site"], "elevator", "el3", f"{estate['site']}-B3",
                             attributes={"rated_speed": 1.0}))
    db.commit()
    engine.process(reading(f"{estate['site']}-EL3", "speed", 0, 0.5), now=at(0))
    assert engine.urgency(DeviceEvent(f"{estate['site']}-EL3", at(1), "trapped"))


def test_a_partition_marks_no_other_sites_device_urgent(db, estate, site_id, make_engine) -> None:
    other = create_estate(db, f"{site_id}-X")
    urgency = make_engine(sites=[site_id]).urgency
    assert urgency(DeviceEvent(estate["el1"], at(0), "trapped"))
    assert not urgency(DeviceEvent(other["el1"], at(0), "trapped"))
