"""The estate as the fund sees it: settings, units and households refer to the registry's sites and buildings."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from dispatch.fund.errors import UnknownPlace
from dispatch.fund.estate import (
    BuildingUnit,
    Household,
    add_building_unit,
    add_household,
    configure_site,
    list_households,
)
from ingest.registry import Building, Site, upsert_building, upsert_site

from .conftest import Estate


def household(**overrides: str) -> Household:
    values = dict(id="S1B1-U1-999", site_id="S1", building_id="S1B1", unit_id="S1B1-U1", room="999")
    values.update(overrides)
    return Household(**values, building_area=Decimal("80.00"), exclusive_area=Decimal("60.00"))  # type: ignore[arg-type]


def test_settings_for_a_site_that_does_not_exist_are_refused(db: psycopg.Connection) -> None:
    with pytest.raises(UnknownPlace, match="site 'S404' does not exist"):
        configure_site(db, "S404", has_committee=True, actor="clerk:li")


def test_the_rule_set_follows_the_site_region(db: psycopg.Connection) -> None:
    upsert_site(db, Site(id="S7", name="福州小区", region="350102"))
    assert configure_site(db, "S7", has_committee=False, actor="clerk:li").rule_set == "fujian"


def test_a_unit_in_a_building_of_another_estate_is_refused(db: psycopg.Connection, estate: Estate) -> None:
    upsert_site(db, Site(id="S2", name="另一个小区"))
    upsert_building(db, Building(id="S2B1", site_id="S2", name="B1"))
    with pytest.raises(UnknownPlace, match="building 'S2B1' is not a building of site 'S1'"):
        add_building_unit(db, BuildingUnit("S1B1-U9", "S1", "S2B1", "U9"))


def test_a_household_in_a_unit_of_another_building_is_refused(db: psycopg.Connection, estate: Estate) -> None:
    with pytest.raises(UnknownPlace, match="unit 'S1B1-U1' is not a unit of building 'S1B2'"):
        add_household(db, household(building_id="S1B2"))
    assert [h.id for h in list_households(db, "S1") if h.room == "999"] == []


def test_a_household_in_its_own_unit_is_added(db: psycopg.Connection, estate: Estate) -> None:
    add_household(db, household())
    assert [h.id for h in list_households(db, "S1") if h.room == "999"] == ["S1B1-U1-999"]
