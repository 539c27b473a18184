"""Fixtures for the database-backed model tests: a small estate, a pump-vibration anomaly rule, readings."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from ingest.records import Batch
from ingest.registry import Building, Device, Site, upsert_building, upsert_device, upsert_site
from ingest.writer import Writer
from rules.loader import parse_pack
from rules.model import RulePack
from simulators.synthetic_series import normal_series

CHANNELS = ("pump1_vibration", "pump2_vibration")
STEP = timedelta(seconds=60)
PUMP_RULE = """
pack: t
rules:
  - id: pump.anomaly
    kind: anomaly
    device_type: water_supply
    metrics: [pump1_vibration, pump2_vibration]
    level: 0.5
    category: water_equipment
    title: {zh: 测试, en: test}
    source: test
"""


@pytest.fixture
def pump_pack() -> RulePack:
    """One anomaly rule over both pumps' vibration of every water-supply device."""
    return parse_pack(PUMP_RULE, "<test>")


@pytest.fixture
def devices(db: psycopg.Connection) -> dict[str, str]:
    """Two water-supply devices (which the rule covers) and an elevator (which it does not), by short name."""
    upsert_site(db, Site("S1", "测试小区"))
    upsert_building(db, Building("S1-B1", "S1", "1号楼"))
    ids = {"ws1": "S1-B1-WS1", "ws2": "S1-B1-WS2", "el1": "S1-B1-EL1"}
    for short, device_type in (("ws1", "water_supply"), ("ws2", "water_supply"), ("el1", "elevator")):
        upsert_device(db, Device(ids[short], "S1", device_type, short, "S1-B1"))
    return ids


def vibration_rows(rows: int, *, seed: int = 0) -> list[dict[str, float]]:
    """Plausible vibration readings of the two pumps, one dict per row."""
    values = normal_series(rows, len(CHANNELS), seed) / 10.0
    return [dict(zip(CHANNELS, row.tolist(), strict=True)) for row in values]


def write_rows(db: psycopg.Connection, device_id: str, start: datetime,
               rows: list[dict[str, float]]) -> list[datetime]:
    """Store ``rows`` one minute apart from ``start`` through the ingest writer; returns their timestamps."""
    times = [start + i * STEP for i in range(len(rows))]
    Writer(db).write(Batch.of_readings([(device_id, metric, ts, value)
                                     for ts, row in zip(times, rows, strict=True) for metric, value in row.items()]))
    return times

