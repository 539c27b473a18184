"""The demo seed builds a plausible, balanced fund and can run twice."""

from __future__ import annotations

from decimal import Decimal

import psycopg

from dispatch import fund
from dispatch.fund import ledger
from dispatch.fund.disclosure import public_disclosures
from ingest.registry import Building, Site, upsert_building, upsert_site

BUILDINGS = [("D-B1", "1号楼"), ("D-B2", "2号楼")]


def _seed(db: psycopg.Connection) -> None:
    upsert_site(db, Site(id="D", name="演示小区", region="330106"))
    for building_id, name in BUILDINGS:
        upsert_building(db, Building(id=building_id, site_id="D", name=name))
    fund.seed_demo(db, "D", BUILDINGS)


def test_seed_creates_24_households_per_building_with_areas_between_60_and_140(db: psycopg.Connection) -> None:
    _seed(db)
    homes = fund.estate.list_households(db, "D")
    assert len(homes) == 48
    assert all(Decimal(60) <= h.building_area <= Decimal(140) for h in homes)
    assert any(h.developer_held for h in homes)


def test_seeding_twice_changes_nothing_and_stays_balanced(db: psycopg.Connection) -> None:
    _seed(db)
    before = ledger.reconcile(db, "D")
    _seed(db)
    after = ledger.reconcile(db, "D")
    assert after.balanced and after.ledger_total == before.ledger_total
    assert len(public_disclosures(db, "D")) == 1
