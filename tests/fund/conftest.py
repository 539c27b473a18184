"""Fixtures for the fund tests: a small estate with known areas and deposits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pytest

from dispatch.fund.estate import BuildingUnit, Household, add_building_unit, add_household, configure_site
from dispatch.fund.ledger import deposit
from ingest.registry import Building, Site, upsert_building, upsert_site

BEIJING = "110105"
FUJIAN = "350102"
FIRST_DEPOSIT = Decimal("10000.00")

# Two buildings, two units each, two homes per unit; areas chosen so shares do not divide evenly.
LAYOUT: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "B1": {"B1-U1": [("101", "89.50", "70.10"), ("102", "120.25", "95.00")],
           "B1-U2": [("101", "64.00", "50.33"), ("102", "133.30", "104.70")]},
    "B2": {"B2-U1": [("101", "75.75", "60.00"), ("102", "98.60", "77.77")],
           "B2-U2": [("101", "110.00", "88.80"), ("102", "59.99", "45.45")]},
}


@dataclass(frozen=True)
class Estate:
    site_id: str
    households: tuple[str, ...]

    def in_building(self, building_id: str) -> list[str]:
        return [h for h in self.households if h.startswith(f"{building_id}-")]

    def in_unit(self, unit_id: str) -> list[str]:
        return [h for h in self.households if h.startswith(f"{unit_id}-")]


EstateFactory = Callable[..., Estate]


@pytest.fixture
def make_estate(db: psycopg.Connection) -> EstateFactory:
    """Build the LAYOUT estate in a region, with or without an owners' committee; every home deposits 10,000."""

    def build(*, site_id: str = "S1", region: str = BEIJING, has_committee: bool = True,
              developer_held: tuple[str, ...] = (), area_basis: str | None = None) -> Estate:
        upsert_site(db, Site(id=site_id, name=f"小区 {site_id}", region=region))
        ids = []
        for building_id, units in LAYOUT.items():
            upsert_building(db, Building(id=f"{site_id}{building_id}", site_id=site_id, name=building_id))
            for unit_id, homes in units.items():
                full_unit = f"{site_id}{unit_id}"
                add_building_unit(db, BuildingUnit(full_unit, site_id, f"{site_id}{building_id}", unit_id[-2:]))
                for room, area, exclusive in homes:
                    household_id = f"{full_unit}-{room}"
                    add_household(db, Household(
                        id=household_id, site_id=site_id, building_id=f"{site_id}{building_id}", unit_id=full_unit,
                        room=room, building_area=Decimal(area), exclusive_area=Decimal(exclusive),
                        developer_held=household_id in developer_held,
                        owner_user=None if household_id in developer_held else f"owner-{household_id}",
                    ), actor="clerk:li")
                    deposit(db, household_id, FIRST_DEPOSIT, actor="clerk:li", memo="first deposit")
                    ids.append(household_id)
        configure_site(db, site_id, has_committee=has_committee, actor="clerk:li", area_basis=area_basis)
        return Estate(site_id, tuple(ids))

    return build


@pytest.fixture
def estate(make_estate: EstateFactory) -> Estate:
    """A Beijing estate with an owners' committee."""
    return make_estate()
