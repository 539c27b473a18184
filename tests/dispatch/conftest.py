"""Dispatch fixtures: a small estate with the default responsibility list, crews, and alarm-shaped records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from dispatch.crew import CrewMember, upsert_crew_member
from dispatch.responsibility import default_list_path, import_list, parse_list
from dispatch.workorders import WorkOrder, assign, get_work_order, transition
from ingest.registry import Building, Device, Site, upsert_building, upsert_device, upsert_site

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SITE = "S1"
BUILDING = "S1-B01"
DEVICES = {
    "elevator": "S1-B01-EL01",
    "fire_system": "S1-B01-FP01",
    "water_supply": "S1-PR-WP01",
    "drainage": "S1-B01-SP01",
}


@dataclass(frozen=True)
class Alarm:
    """The alarm fields dispatch reads, as rules.alarms.Alarm carries them."""

    id: int
    category: str
    severity: str
    site_id: str = SITE
    building_id: str | None = BUILDING
    device_id: str | None = None
    fingerprint: str = ""
    title_zh: str = "告警"
    title_en: str = "alarm"
    suppressed: bool = False


@dataclass(frozen=True)
class Transition:
    """An alarm transition as rules.alarms.AlarmTransition carries it."""

    id: int
    alarm_id: int
    to_state: str
    at: datetime
    alarm: Alarm
    from_state: str | None = None
    cause: str = "rule"
    actor: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def alarm_transition(transition_id: int, alarm: Alarm, to_state: str = "active", *, at: datetime = T0,
                     actor: str | None = None) -> Transition:
    """A transition of ``alarm`` to ``to_state``."""
    return Transition(id=transition_id, alarm_id=alarm.id, to_state=to_state, at=at, alarm=alarm, actor=actor)


@pytest.fixture
def estate(db: psycopg.Connection) -> psycopg.Connection:
    """Site S1 (urban) with one building, four devices, the default list, and crews for every unit."""
    upsert_site(db, Site(id=SITE, name="测试小区", region="default"))
    upsert_building(db, Building(id=BUILDING, site_id=SITE, name="1号楼", floors=18))
    for component, device_id in DEVICES.items():
        upsert_device(db, Device(id=device_id, site_id=SITE, building_id=BUILDING, type=component, name=device_id))
    import_list(db, parse_list(default_list_path().read_text(encoding="utf-8")), actor="user:admin")
    crews = [
        ("em-1", "elevator-maint", ["elevator"]),
        ("em-2", "elevator-maint", ["elevator"]),
        ("fm-1", "fire-maint", ["fire_system"]),
        ("pe-1", "property-eng", ["water_supply", "drainage", "fire_system", "elevator", "inspection"]),
        ("ps-1", "property-service", ["patrol", "cleaning", "greening"]),
        ("wu-1", "water-utility", ["water_supply"]),
    ]
    for crew_id, unit_id, skills in crews:
        upsert_crew_member(db, CrewMember(id=crew_id, unit_id=unit_id, name=f"Worker {crew_id}",
                                          phone="13800000000", skills=skills, on_shift=True))
    return db


CREW_OF_UNIT = {"elevator-maint": "em-1", "fire-maint": "fm-1", "property-eng": "pe-1", "water-utility": "wu-1",
                "property-service": "ps-1"}


def step_to(conn: psycopg.Connection, order_id: int, state: str, *, now: datetime, actor: str = "user:op",
            note: str | None = None, **extra: Any) -> WorkOrder:
    """Move an order to ``state`` as the control room does: DISPATCHED by assigning its unit's crew member of the
    ``estate`` fixture, a hold, cancellation, false alarm or reopening with a reason."""
    if state == "DISPATCHED":
        order = get_work_order(conn, order_id)
        return assign(conn, order_id, CREW_OF_UNIT[order.unit_id], actor=actor, now=now)
    return transition(conn, order_id, state, actor=actor, now=now, note=note or "reason given", **extra)
