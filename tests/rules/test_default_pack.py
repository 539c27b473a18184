"""The default pack raises the right alarm for representative fault signatures (DOMAIN.md §1-§3, §8).

The signatures share one database (each test has its own site in it), which keeps this module fast.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from ingest.database import connect
from ingest.records import Batch, DeviceEvent
from rules.alarms import list_alarms

from .conftest import at, create_estate, engine_factory


@pytest.fixture(scope="module")
def shared_url(scratch_database, template_database: str) -> Iterator[str]:
    """One migrated database for the whole module."""
    with scratch_database(template_database) as url:
        yield url


@pytest.fixture
def db(shared_url: str) -> Iterator[psycopg.Connection]:
    with connect(shared_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def estate(db: psycopg.Connection) -> dict[str, str]:
    return create_estate(db, f"P{uuid.uuid4().hex[:10]}")


@pytest.fixture
def make_engine(shared_url: str, estate: dict[str, str]):
    yield from engine_factory(shared_url)


def metric(name: str, value: float, every: int = 10, count: int = 13) -> list[tuple[str, str, int, float]]:
    """``count`` readings of ``name`` every ``every`` seconds."""
    return [("reading", name, i * every, value) for i in range(count)]


SIGNATURES = [
    ("el1", [("event", "trapped", 0, 0)], "elevator.trapped", "elevator_entrapment", "P0"),
    ("el1", [("event", "unintended_movement", 0, 0)], "elevator.unintended_movement", "elevator_safety", "P0"),
    ("el1", [("event", "safety_circuit_broken", 0, 0)], "elevator.safety_circuit", "elevator_safety", "P1"),
    ("el1", metric("speed", 2.2, every=1, count=3), "elevator.overspeed", "elevator_safety", "P1"),
    ("el1", [("event", "door_close_fault", 0, 0)], "elevator.fault", "elevator_fault", "P2"),
    ("el1", [("event", "door_reopen", i * 10, 0) for i in range(5)], "elevator.door_reopen_repeated",
     "elevator_advisory", "P3"),
    ("fs1", [("event", "fire_alarm", 0, 0)], "fire.alarm", "fire_alarm", "P0"),
    ("fs1", metric("sprinkler_end_pressure", 0.03), "fire.sprinkler_end_pressure_low", "fire_water", "P1"),
    ("fs1", metric("hydrant_pressure", 0.30), "fire.hydrant_pressure_low", "fire_water", "P1"),  # high-rise: 0.35
    ("fs2", metric("hydrant_pressure", 0.20), "fire.hydrant_pressure_low", "fire_water", "P1"),  # default 0.25
    ("fs1", metric("hydrant_pressure", 0.62), "fire.hydrant_pressure_high", "fire_water", "P2"),
    ("fs1", metric("fire_pump_auto", 0), "fire.pump_not_auto", "fire_system_fault", "P1"),
    ("fs1", metric("fire_tank_level", 1.5), "fire.tank_low", "fire_water", "P1"),
    ("fs1", [("event", "bus_fault", 0, 0)], "fire.fault", "fire_system_fault", "P1"),
    ("ws1", metric("outlet_pressure", 0.06), "water.outlet_pressure_low", "water_outage", "P1"),
    ("ws1", metric("residual_chlorine", 0.02, every=60, count=6), "water.residual_chlorine_low", "water_quality",
     "P2"),
    ("ws1", metric("turbidity", 2.5, every=60, count=6), "water.turbidity_high", "water_quality", "P2"),
    ("ws1", [("event", "pump_fault", 0, 0)], "water.pump_fault", "water_equipment", "P2"),
    ("ws1", [("event", "power_failure", 0, 0)], "water.power_failure", "water_outage", "P1"),
    ("dr1", metric("sump_level", 1.3, count=4), "drainage.sump_high", "drainage_flood", "P1"),
    ("dr1", metric("sump_level", 1.7, count=1), "drainage.sump_overflow", "drainage_flood", "P0"),
    ("dr1", [("event", "pump_fault", 0, 0)], "drainage.pump_fault", "drainage_equipment", "P2"),
]


@pytest.mark.parametrize(("device", "signals", "rule_id", "category", "severity"), SIGNATURES,
                         ids=[s[2] + "-" + s[0] for s in SIGNATURES])
def test_fault_signature_raises_its_alarm(db, estate, make_engine, device, signals, rule_id, category, severity):
    engine = make_engine()
    device_id = estate[device]
    for kind, name, seconds, value in signals:
        if kind == "event":
            batch = Batch(events=[DeviceEvent(device_id, at(seconds), name)])
        else:
            batch = Batch.of_readings([(device_id, name, at(seconds), value)])
        engine.process(batch, now=at(seconds))
    engine.tick(at(signals[-1][2] + 1))
    active = {a.rule_id: a for a in list_alarms(db, states=["active"], site_id=estate["site"])}
    assert rule_id in active, f"active: {sorted(active)}"
    assert (active[rule_id].category, active[rule_id].severity) == (category, severity)


def test_an_offline_device_raises_device_offline(db, estate, make_engine):
    engine = make_engine()
    engine.process(Batch(events=[DeviceEvent(estate["dr1"], at(0), "offline")]), now=at(0))
    engine.tick(at(61))
    [alarm] = list_alarms(db, states=["active"], site_id=estate["site"])
    assert (alarm.rule_id, alarm.category, alarm.severity) == ("drainage.offline", "device_offline", "P3")
