"""Emergency draws: eligibility, approval routes, deadlines, completion, apportionment and top-up flags."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from dispatch.fund import draws, ledger
from dispatch.fund.errors import EmptyScope, InvalidState, NotEmergency, UnknownWorkOrder, WrongApprover

from .conftest import FIRST_DEPOSIT, FUJIAN, LAYOUT, Estate, EstateFactory
from .helpers import MONDAY_10_SHANGHAI, new_work_order, open_draw, repaired_and_approved, verify_repair


def test_a_category_off_the_regions_emergency_list_cannot_open_an_emergency_draw(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    estate = make_estate(region=FUJIAN)  # Fujian's list covers elevators only
    fire_order = new_work_order(db, estate.site_id, category="fire_system_fault", component="fire_system")
    with pytest.raises(NotEmergency, match="not on the fujian emergency list"):
        open_draw(db, estate.site_id, work_order=fire_order)


def test_a_draw_for_a_work_order_of_another_estate_is_refused(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    ours, theirs = make_estate(site_id="S1"), make_estate(site_id="S2")
    their_order = new_work_order(db, theirs.site_id)
    with pytest.raises(UnknownWorkOrder, match=f"work order {their_order.id} is not a work order of site S1"):
        open_draw(db, ours.site_id, work_order=their_order)
    assert draws.list_draws(db) == []


def test_a_draw_over_a_building_without_households_is_refused(db: psycopg.Connection, estate: Estate) -> None:
    with pytest.raises(EmptyScope, match="no households in building S1B9"):
        open_draw(db, estate.site_id, scope=("building", "S1B9"))


def test_opening_records_the_dispatcher_and_the_estimate(db: psycopg.Connection, estate: Estate) -> None:
    draw = open_draw(db, estate.site_id)
    assert (draw.state, draw.opened_by, draw.estimate) == ("pending", "dispatcher:zhao", Decimal("10000.00"))
    assert [(e.event, e.actor) for e in draws.draw_events(db, draw.id)] == [("opened", "dispatcher:zhao")]


def test_opening_again_for_the_same_work_order_returns_the_same_draw(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    first = open_draw(db, estate.site_id, work_order=order)
    again = open_draw(db, estate.site_id, work_order=order, estimate="99999.00")
    assert again == first
    assert len(draws.list_draws(db, site_id=estate.site_id)) == 1


def test_a_site_with_a_committee_routes_the_review_to_the_committee(db: psycopg.Connection, estate: Estate) -> None:
    draw = open_draw(db, estate.site_id)
    assert draw.route == "committee"
    approved = draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="ok")
    assert (approved.state, approved.decided_by, approved.decided_role) == ("approved", "committee:chen", "committee")


def test_a_site_without_a_committee_routes_the_review_to_the_subdistrict_office(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    estate = make_estate(has_committee=False)
    draw = open_draw(db, estate.site_id)
    assert draw.route == "subdistrict"
    assert draws.approve(db, draw.id, actor="jiedao:liu", role="subdistrict", comment="").state == "approved"


def test_the_wrong_reviewer_is_refused(db: psycopg.Connection, make_estate: EstateFactory) -> None:
    estate = make_estate(has_committee=False)
    draw = open_draw(db, estate.site_id)
    with pytest.raises(WrongApprover):
        draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")


def test_a_rejected_draw_cannot_be_approved_or_completed(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    draws.reject(db, draw.id, actor="committee:chen", role="committee", comment="quote too high")
    verify_repair(db, order, "100.00")
    with pytest.raises(InvalidState):
        draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    with pytest.raises(InvalidState):
        draws.complete(db, draw.id, actor="dispatcher:zhao")


def test_a_pending_draw_cannot_be_completed(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    verify_repair(db, order, "100.00")
    with pytest.raises(InvalidState):
        draws.complete(db, draw.id, actor="dispatcher:zhao")


def test_beijing_review_is_due_two_working_days_later_at_local_midnight(db: psycopg.Connection, estate: Estate) -> None:
    draw = open_draw(db, estate.site_id, now=MONDAY_10_SHANGHAI)
    assert draw.review_due_at == MONDAY_10_SHANGHAI + timedelta(days=2, hours=14)  # Thursday 00:00 Shanghai


def test_fujian_deems_a_draw_approved_once_the_deadline_passes(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    estate = make_estate(region=FUJIAN)
    draw = open_draw(db, estate.site_id)
    acted = draws.apply_deemed_approvals(db, draw.review_due_at)
    assert [(d.id, d.state, d.decided_role) for d in acted] == [(draw.id, "approved", "deemed")]


def test_nothing_is_deemed_before_the_deadline(db: psycopg.Connection, make_estate: EstateFactory) -> None:
    estate = make_estate(region=FUJIAN)
    draw = open_draw(db, estate.site_id)
    assert draws.apply_deemed_approvals(db, draw.review_due_at - timedelta(seconds=1)) == []
    assert draws.get_draw(db, draw.id).state == "pending"


def test_where_silence_is_not_approval_an_overdue_draw_is_escalated_once(
    db: psycopg.Connection, estate: Estate
) -> None:
    draw = open_draw(db, estate.site_id)
    late = draw.review_due_at + timedelta(minutes=1)
    acted = draws.apply_deemed_approvals(db, late)
    assert [(d.state, d.escalated_at) for d in acted] == [("pending", late)]
    assert draws.apply_deemed_approvals(db, late + timedelta(days=1)) == []
    assert [e.event for e in draws.draw_events(db, draw.id)] == ["opened", "escalated"]


def test_completion_charges_every_household_of_the_scope_by_building_area(
    db: psycopg.Connection, estate: Estate
) -> None:
    draw = repaired_and_approved(db, estate.site_id, "4072.10", scope=("building", "S1B1"))
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    charged = {h: FIRST_DEPOSIT - ledger.balance(db, h) for h in estate.households}
    areas = {f"S1{unit}-{room}": Decimal(area) for units in LAYOUT.values() for unit, homes in units.items()
             for room, area, _ in homes}
    assert sum(charged.values()) == Decimal("4072.10")
    assert all(charged[h] == 0 for h in estate.in_building("S1B2"))
    b1_area = sum(areas[h] for h in estate.in_building("S1B1"))
    for h in estate.in_building("S1B1"):
        assert abs(charged[h] - Decimal("4072.10") * areas[h] / b1_area) < Decimal("0.01")


def test_a_unit_scope_charges_only_that_unit(db: psycopg.Connection, estate: Estate) -> None:
    draw = repaired_and_approved(db, estate.site_id, "1000.00", scope=("unit", "S1B2-U1"))
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    charged = {h for h in estate.households if ledger.balance(db, h) < FIRST_DEPOSIT}
    assert charged == set(estate.in_unit("S1B2-U1"))


def test_exclusive_area_basis_when_the_site_agreed_it(db: psycopg.Connection, make_estate: EstateFactory) -> None:
    estate = make_estate(area_basis="exclusive")
    draw = repaired_and_approved(db, estate.site_id, "165.10", scope=("unit", "S1B1-U1"))
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    # exclusive areas 70.10 and 95.00: exactly 70.10 and 95.00 yuan
    assert ledger.balance(db, "S1B1-U1-101") == FIRST_DEPOSIT - Decimal("70.10")
    assert ledger.balance(db, "S1B1-U1-102") == FIRST_DEPOSIT - Decimal("95.00")


def test_an_unsold_home_is_charged_to_the_developer_held_account(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    estate = make_estate(developer_held=("S1B1-U1-102",))
    draw = repaired_and_approved(db, estate.site_id, "209.75", scope=("unit", "S1B1-U1"))
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    assert ledger.balance(db, "S1B1-U1-102") == FIRST_DEPOSIT - Decimal("120.25")


def test_completion_takes_the_cost_the_work_order_records_and_flags_a_variance_over_ten_percent(
    db: psycopg.Connection, estate: Estate
) -> None:
    draw = repaired_and_approved(db, estate.site_id, "11000.01", estimate="10000.00")
    done = draws.complete(db, draw.id, actor="dispatcher:zhao")
    assert (done.state, done.actual_cost, done.variance_flagged) == ("completed", Decimal("11000.01"), True)


def test_a_variance_of_exactly_ten_percent_is_not_flagged(db: psycopg.Connection, estate: Estate) -> None:
    draw = repaired_and_approved(db, estate.site_id, "9000.00", estimate="10000.00")
    assert not draws.complete(db, draw.id, actor="dispatcher:zhao").variance_flagged


def test_completing_again_at_the_same_cost_charges_nothing_more(db: psycopg.Connection, estate: Estate) -> None:
    draw = repaired_and_approved(db, estate.site_id, "5000.00")
    first = draws.complete(db, draw.id, actor="dispatcher:zhao")
    again = draws.complete(db, draw.id, actual_cost=Decimal("5000.00"), actor="dispatcher:zhao")
    assert again == first
    total = db.execute("SELECT sum(amount) FROM fund_ledger WHERE draw_id = %s", (draw.id,)).fetchone()[0]
    assert total == Decimal("-5000.00")


def test_the_database_refuses_a_second_charge_for_the_same_draw(db: psycopg.Connection, estate: Estate) -> None:
    draw = repaired_and_approved(db, estate.site_id, "5000.00")
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    with pytest.raises(psycopg.errors.UniqueViolation):
        ledger.post(db, "S1B1-U1-101", "draw", Decimal("-1.00"), actor="x", draw_id=draw.id)


def test_ledger_stays_balanced_after_draws(db: psycopg.Connection, estate: Estate) -> None:
    for scope in [("site", "S1"), ("building", "S1B2"), ("unit", "S1B1-U2")]:
        draw = repaired_and_approved(db, estate.site_id, "3333.33", scope=scope)
        draws.complete(db, draw.id, actor="dispatcher:zhao")
    report = ledger.reconcile(db, estate.site_id)
    assert report.balanced
    assert report.ledger_total == FIRST_DEPOSIT * len(estate.households) - 3 * Decimal("3333.33")


def test_an_account_below_thirty_percent_of_its_first_deposit_is_flagged(
    db: psycopg.Connection, estate: Estate
) -> None:
    draw = repaired_and_approved(db, estate.site_id, "15000.00", scope=("unit", "S1B1-U1"), estimate="15000.00")
    # 15,000 over 89.50 + 120.25 m²: 101 pays 6,400.48 (left 3,599.52 ≥ 3,000), 102 pays 8,599.52 (left 1,400.48)
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    assert [a.household_id for a in ledger.low_accounts(db, estate.site_id)] == ["S1B1-U1-102"]


def test_a_deposit_that_covers_the_threshold_lifts_the_flag(db: psycopg.Connection, estate: Estate) -> None:
    draw = repaired_and_approved(db, estate.site_id, "15000.00", scope=("unit", "S1B1-U1"), estimate="15000.00")
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    ledger.deposit(db, "S1B1-U1-102", Decimal("2000.00"), actor="clerk:li", memo="top-up")
    assert ledger.low_accounts(db, estate.site_id) == []
