"""An engine given sites is one partition: it evaluates those sites' devices only, raises nothing about the
others (not even their silence), and after a restart takes up only its own sites' open alarms."""

from __future__ import annotations

import psycopg

from rules.alarms import list_alarms

from .conftest import at, create_estate, event, reading


def test_a_partition_evaluates_its_own_sites_only(db, estate, site_id, make_engine) -> None:
    other = create_estate(db, f"{site_id}-X")
    engine = make_engine(sites=[site_id])
    engine.process(event(estate["el1"], "trapped", 0), now=at(0))
    engine.process(event(other["el1"], "trapped", 0), now=at(0))
    assert [a.device_id for a in list_alarms(db)] == [estate["el1"]]


def test_a_partition_raises_no_absence_alarm_for_other_sites_devices(db, estate, site_id, make_engine) -> None:
    other = create_estate(db, f"{site_id}-X")
    engine = make_engine(sites=[site_id])
    engine.process(reading(estate["el1"], "car_position", 0, 3), now=at(0))
    engine.process(reading(other["el1"], "car_position", 0, 3), now=at(0))
    engine.tick(at(61))
    assert {(a.rule_id, a.device_id) for a in list_alarms(db)} == {("elevator.silent", estate["el1"])}


def test_a_restarted_partition_takes_up_only_its_own_open_alarms(db: psycopg.Connection, estate, site_id,
                                                                 make_engine) -> None:
    other = create_estate(db, f"{site_id}-X")
    everything = make_engine()
    everything.process(event(estate["el1"], "trapped", 0), now=at(0))
    everything.process(event(other["el1"], "trapped", 0), now=at(0))
    partition = make_engine(sites=[site_id])
    assert [a.device_id for a in partition.open_alarms()] == [estate["el1"]]
