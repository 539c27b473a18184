"""Supervision fixtures: an estate with the default responsibility list and crews, a company serving it, and the
seeded estate with one login per role of tests/dashboard for API tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest

from dispatch.crew import CrewMember, upsert_crew_member
from dispatch.responsibility import default_list_path, import_list, parse_list
from ingest.registry import Building, Site, upsert_building, upsert_site
from supervision.companies import Company, create_company
from supervision.projects import create_project
from tests.dashboard.conftest import api, as_role, world  # noqa: F401 - fixtures

SITE = "S1"
T0 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
MONTH = date(2026, 11, 1)
CODE = "91350100M000100Y43"
OTHER_CODE = "91440300708461136T"


@pytest.fixture
def served(db: psycopg.Connection) -> psycopg.Connection:
    """Site S1 with a building, the default responsibility list and a crew member for every unit."""
    upsert_site(db, Site(id=SITE, name="测试小区"))
    upsert_building(db, Building(id="S1-B01", site_id=SITE, name="1号楼", floors=18))
    import_list(db, parse_list(default_list_path().read_text(encoding="utf-8")), actor="user:admin")
    for crew_id, unit_id, skills in [("em-1", "elevator-maint", ["elevator"]), ("fm-1", "fire-maint", ["fire_system"]),
                                     ("pe-1", "property-eng", ["water_supply", "drainage", "elevator"]),
                                     ("wu-1", "water-utility", ["water_supply"]),
                                     ("ps-1", "property-service", ["patrol", "cleaning"])]:
        upsert_crew_member(db, CrewMember(id=crew_id, unit_id=unit_id, name=crew_id, phone="13800000000",
                                          skills=skills, on_shift=True))
    return db


@pytest.fixture
def company(served: psycopg.Connection) -> Company:
    """A company serving S1 for 2026 and 2027."""
    found = create_company(served, name="闽安物业服务有限公司", credit_code=CODE, phone="0591-12345678")
    create_project(served, company_id=found.id, site_id=SITE, starts_on=date(2026, 1, 1), ends_on=date(2027, 12, 31),
                   service_level="二级", fee_per_m2_month=Decimal("2.30"), manager_name="林经理",
                   manager_phone="13900000000")
    return found
