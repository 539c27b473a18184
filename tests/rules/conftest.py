"""Fixtures for the rules tests: an estate with one device of each type, an engine factory, a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.records import Batch, DeviceEvent
from ingest.registry import Building, Device, Site, upsert_building, upsert_device, upsert_site
from rules.engine import RuleEngine
from rules.loader import parse_pack
from rules.model import RulePack

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """The test clock: ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def reading(device_id: str, metric: str, seconds: float, value: float) -> Batch:
    """A batch with one reading."""
    return Batch.of_readings([(device_id, metric, at(seconds), value)])


def event(device_id: str, code: str, seconds: float) -> Batch:
    """A batch with one event."""
    return Batch(events=[DeviceEvent(device_id, at(seconds), code)])


def pack(text: str) -> RulePack:
    """A rule pack from YAML text (fails the test on a validation error)."""
    return parse_pack(text, "<test>")


def create_estate(db: psycopg.Connection, site_id: str) -> dict[str, str]:
    """Site, two buildings, and devices: elevators EL1 (B1) and EL2 (B2), fire systems FS1 (B1, with levels) and
    FS2 (B2, no attributes), water supply WS1 and drainage DR1 (B1). Returns their ids by short name."""
    upsert_site(db, Site(site_id, "测试小区"))
    ids = {"site": site_id, "b1": f"{site_id}-B1", "b2": f"{site_id}-B2"}
    upsert_building(db, Building(ids["b1"], site_id, "1号楼", floors=18))
    upsert_building(db, Building(ids["b2"], site_id, "2号楼", floors=6))
    devices = [
        ("el1", "elevator", "b1", {"rated_speed": 1.75}),
        ("el2", "elevator", "b2", {"rated_speed": 1.0}),
        ("fs1", "fire_system", "b1", {"tank_low_level": 2.0, "hydrant_min_pressure": 0.35}),
        ("fs2", "fire_system", "b2", {}),
        ("ws1", "water_supply", "b1", {"tank_low_level": 1.0}),
        ("dr1", "drainage", "b1", {"high_level": 1.2, "overflow_level": 1.6}),
    ]
    for key, device_type, building, attributes in devices:
        ids[key] = f"{site_id}-{key.upper()}"
        upsert_device(db, Device(ids[key], site_id, device_type, key, ids[building], attributes=attributes))
    return ids


@pytest.fixture
def estate(db: psycopg.Connection, site_id: str) -> dict[str, str]:
    """The test estate in this test's own database."""
    return create_estate(db, site_id)


def engine_factory(url: str) -> Iterator[Callable[..., RuleEngine]]:
    """Build engines on ``url``; every engine built is closed at the end."""
    engines: list[RuleEngine] = []

    def build(rule_pack: RulePack | None = None, **options: object) -> RuleEngine:
        engine = RuleEngine(url, rule_pack, **options)
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.close()


@pytest.fixture
def make_engine(db_url: str, estate: dict[str, str]) -> Iterator[Callable[..., RuleEngine]]:
    """Build engines on this test's database."""
    yield from engine_factory(db_url)
