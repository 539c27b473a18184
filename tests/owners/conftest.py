"""Fixtures for the owner portal and committee API: the real app on this test's database, an estate with known
areas (so the Civil Code art. 278 boundaries fall on exact cents), and one signed-in user per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.users import create_user
from dispatch.fund.estate import BuildingUnit, Household, add_building_unit, add_household, configure_site
from dispatch.fund.ledger import deposit
from ingest.registry import Building, Device, Site, upsert_building, upsert_device, upsert_site

PASSWORD = "correct-horse-42"
SITE = "OWN1"
OTHER = "OWN2"
BEIJING = "110105"
ROLES = ("admin", "operator", "crew", "committee", "subdistrict", "owner", "public")
# Three homes in one unit of one building. Exclusive areas 100.00 each: two of three households are exactly 2/3
# of the area and of the heads.
EXACT = (("101", "120.00", "100.00"), ("102", "120.00", "100.00"), ("103", "120.00", "100.00"))
# The same with the second home one cent smaller (the third one cent larger): the first two hold 199.99 of 300.00.
CENT_SHORT = (("101", "120.00", "100.00"), ("102", "119.99", "99.99"), ("103", "120.01", "100.01"))
FIRST_DEPOSIT = Decimal("18000.00")
Headers = dict[str, str]


@dataclass(frozen=True)
class Estate:
    site_id: str
    building_id: str
    households: tuple[str, ...]
    elevators: tuple[str, ...]


def build_estate(db: psycopg.Connection, site_id: str, homes: tuple[tuple[str, str, str], ...], *,
                 has_committee: bool = True, committee_limit: str | None = "20000.00",
                 first_deposit_at: datetime | None = None) -> Estate:
    """A site with one building, one unit, the given homes (room, building area, exclusive area), two elevators,
    and a first deposit in every home."""
    upsert_site(db, Site(id=site_id, name=f"小区 {site_id}", region=BEIJING))
    building = f"{site_id}-B1"
    upsert_building(db, Building(id=building, site_id=site_id, name="1号楼", floors=6))
    elevators = (f"{building}-EL1", f"{building}-EL2")
    for number, elevator in enumerate(elevators, 1):
        upsert_device(db, Device(elevator, site_id, "elevator", f"1号楼{number}号梯", building_id=building))
    unit = f"{building}-U1"
    add_building_unit(db, BuildingUnit(unit, site_id, building, "1单元"), actor="clerk")
    ids = []
    for room, area, exclusive in homes:
        household = f"{unit}-{room}"
        add_household(db, Household(id=household, site_id=site_id, building_id=building, unit_id=unit, room=room,
                                    building_area=Decimal(area), exclusive_area=Decimal(exclusive)), actor="clerk")
        deposit(db, household, FIRST_DEPOSIT, actor="clerk", memo="首次交存 first deposit", now=first_deposit_at)
        ids.append(household)
    configure_site(db, site_id, has_committee=has_committee, actor="clerk",
                   committee_limit=Decimal(committee_limit) if has_committee and committee_limit else None)
    return Estate(site_id, building, tuple(ids), elevators)


@pytest.fixture
def estate(db: psycopg.Connection) -> Estate:
    """The exact-boundary estate, with a committee authorised up to ¥20,000, and another estate nobody here sees."""
    built = build_estate(db, SITE, EXACT, first_deposit_at=datetime(2025, 1, 15, 2, tzinfo=UTC))
    build_estate(db, OTHER, EXACT)
    return built


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> FastAPI:
    return create_app(database_url=db_url, secret_key="test-secret", uploads_dir=tmp_path / "uploads")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def login(db: psycopg.Connection, client: TestClient, estate: Estate) -> Callable[..., Headers]:
    """``login(role, household=None, site=SITE)``: bearer headers of a user of that role scoped to one estate (an
    owner linked to a household: the first one by default)."""
    cache: dict[tuple[str, str | None, str], Headers] = {}

    def headers(role: str, household: str | None = None, site: str = SITE) -> Headers:
        if role == "owner" and household is None:
            household = f"{site}-B1-U1-101"
        key = (role, household, site)
        if key not in cache:
            name = f"{role}-{household or site}".lower()
            create_user(db, username=name, password=PASSWORD, role=role, display_name=f"{role} user",
                        site_ids=[site], household_id=household)
            res = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            assert res.status_code == 200, res.text
            cache[key] = {"Authorization": f"Bearer {res.json()['access_token']}"}
        return cache[key]

    return headers


def vote_body(**changes: Any) -> dict[str, Any]:
    """A site-wide vote on using the fund, closing in a week."""
    closes = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return {"matter": "use", "title": "电梯更换 lift replacement", "amount": "300000.00", "closes_at": closes,
            **changes}


def audit_actions(db: psycopg.Connection, target_type: str) -> list[tuple[str, str, str]]:
    """(action, actor role, target id) of the audit rows about ``target_type``, in order."""
    return [tuple(r) for r in db.execute(  # type: ignore[misc]
        "SELECT action, role, target_id FROM audit_log WHERE target_type = %s ORDER BY id", (target_type,))]
