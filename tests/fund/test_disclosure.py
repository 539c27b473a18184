"""Each completed draw is disclosed publicly: item, work order, contractor, totals, shares by room, no names."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import psycopg
import pytest

from dispatch.fund import draws
from dispatch.fund.disclosure import Disclosure, DisclosureShare, public_disclosures

from .conftest import Estate
from .helpers import open_draw, repaired_and_approved


@pytest.fixture
def completed(db: psycopg.Connection, estate: Estate) -> draws.Draw:
    draw = repaired_and_approved(db, estate.site_id, "4072.10", scope=("building", "S1B1"))
    return draws.complete(db, draw.id, actor="dispatcher:zhao")


def test_a_completed_draw_is_disclosed_with_item_work_order_contractor_and_total(
    db: psycopg.Connection, completed: draws.Draw
) -> None:
    [disclosure] = public_disclosures(db, completed.site_id)
    assert (disclosure.item, disclosure.work_order_number, disclosure.contractor, disclosure.total) == (
        completed.item, completed.work_order_number, "某电梯维保有限公司", Decimal("4072.10"))
    assert disclosure.work_order_number.startswith("WO-")
    assert disclosure.completed_at == completed.completed_at


def test_the_disclosure_states_cost_per_square_metre(db: psycopg.Connection, completed: draws.Draw) -> None:
    [disclosure] = public_disclosures(db, completed.site_id)
    assert disclosure.total_area == Decimal("407.05")  # 89.50 + 120.25 + 64.00 + 133.30
    assert disclosure.cost_per_m2 == Decimal("10.0039")


def test_shares_are_keyed_by_building_unit_and_room_and_sum_to_the_total(
    db: psycopg.Connection, completed: draws.Draw
) -> None:
    [disclosure] = public_disclosures(db, completed.site_id)
    assert [(s.building_id, s.unit_name, s.room) for s in disclosure.shares] == [
        ("S1B1", "U1", "101"), ("S1B1", "U1", "102"), ("S1B1", "U2", "101"), ("S1B1", "U2", "102")]
    assert sum(s.share for s in disclosure.shares) == disclosure.total


def test_the_disclosure_has_no_field_that_could_identify_an_owner() -> None:
    fields = {f.name for f in dataclasses.fields(Disclosure)} | {f.name for f in dataclasses.fields(DisclosureShare)}
    assert not fields & {"owner_user", "owner", "name", "phone", "household_id", "actor", "opened_by", "decided_by"}


def test_no_owner_login_appears_anywhere_in_the_disclosure(db: psycopg.Connection, completed: draws.Draw) -> None:
    text = repr(public_disclosures(db, completed.site_id))
    assert "owner-" not in text
    assert "committee:chen" not in text and "dispatcher:zhao" not in text


def test_a_disclosure_cannot_be_edited_after_publication(db: psycopg.Connection, completed: draws.Draw) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("UPDATE fund_disclosure_shares SET share = 0")


def test_pending_draws_are_not_disclosed_yet(db: psycopg.Connection, estate: Estate) -> None:
    open_draw(db, estate.site_id)
    assert public_disclosures(db, estate.site_id) == []
