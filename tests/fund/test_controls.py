"""Fund controls: every way around the rules that issue 19 found is refused with an error that says why."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from dispatch.fund import draws, ledger
from dispatch.fund import estate as fund_estate
from dispatch.fund.errors import (
    CategoryMismatch,
    CostMismatch,
    InvalidAmount,
    NotEmergency,
    VoteRequired,
    WrongApprover,
    WrongOrderState,
    WrongOrganiser,
)
from dispatch.workorders import transition

from .conftest import FIRST_DEPOSIT, Estate, EstateFactory
from .helpers import CREW, MONDAY_10_SHANGHAI, new_order, new_work_order, open_draw, verify_repair

LATER = MONDAY_10_SHANGHAI + timedelta(hours=4)


def charged(db: psycopg.Connection, estate: Estate) -> Decimal:
    return sum((FIRST_DEPOSIT - ledger.balance(db, h) for h in estate.households), Decimal("0.00"))


def test_the_draw_takes_the_work_orders_fund_category_and_refuses_another(
    db: psycopg.Connection, estate: Estate
) -> None:
    order = new_work_order(db, estate.site_id)
    with pytest.raises(CategoryMismatch, match="fund category 'elevator', not 'roof_leak'"):
        open_draw(db, estate.site_id, work_order=order, fund_category="roof_leak")
    assert open_draw(db, estate.site_id, work_order=order).fund_category == "elevator"


def test_a_non_emergency_order_gets_no_emergency_draw(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id, category="elevator_fault")
    with pytest.raises(NotEmergency, match=r"elevator_fault.*not on the beijing emergency list"):
        open_draw(db, estate.site_id, work_order=order, estimate="50000.00")
    assert draws.list_draws(db) == []


def test_a_cancelled_order_draws_nothing(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    transition(db, order.id, "CANCELLED", actor="operator:wang", note="duplicate", now=LATER)
    with pytest.raises(WrongOrderState, match="is CANCELLED"):
        open_draw(db, estate.site_id, work_order=order)


def test_an_order_nobody_has_assessed_on_site_draws_nothing(db: psycopg.Connection, estate: Estate) -> None:
    order = new_order(db, estate.site_id)
    with pytest.raises(WrongOrderState, match="is NEW: a draw needs a repair assessed on site"):
        open_draw(db, estate.site_id, work_order=order)


def test_a_draw_is_not_completed_before_its_repair_is_verified(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    with pytest.raises(WrongOrderState, match=r"is ON_SITE: draw .* completes only after its repair is verified"):
        draws.complete(db, draw.id, actor="dispatcher:zhao")
    transition(db, order.id, "RESOLVED", actor=f"crew:{CREW}", cost=Decimal("800.00"), now=LATER)
    with pytest.raises(WrongOrderState, match="is RESOLVED"):
        draws.complete(db, draw.id, actor="dispatcher:zhao")
    assert charged(db, estate) == 0


def test_an_order_closed_without_verification_never_completes_a_draw(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    transition(db, order.id, "RESOLVED", actor=f"crew:{CREW}", cost=Decimal("800.00"), now=LATER)
    transition(db, order.id, "CLOSED", actor="operator:wang", now=LATER)
    with pytest.raises(WrongOrderState, match="is CLOSED"):
        draws.complete(db, draw.id, actor="dispatcher:zhao")


def test_an_order_closed_after_verification_completes_its_draw(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    verify_repair(db, order, "800.00")
    transition(db, order.id, "CLOSED", actor="operator:wang", now=LATER)
    assert draws.complete(db, draw.id, actor="dispatcher:zhao").actual_cost == Decimal("800.00")


def test_a_completion_cost_other_than_the_orders_is_refused(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    verify_repair(db, order, "800.00")
    with pytest.raises(CostMismatch, match=r"records a cost of ¥800.00, not ¥9000.00"):
        draws.complete(db, draw.id, actual_cost=Decimal("9000.00"), actor="dispatcher:zhao")
    assert charged(db, estate) == 0


def test_a_second_completion_with_another_cost_is_a_conflict(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    verify_repair(db, order, "800.00")
    draws.complete(db, draw.id, actor="dispatcher:zhao")
    with pytest.raises(CostMismatch, match=r"completed at ¥800.00, not ¥7000.00"):
        draws.complete(db, draw.id, actual_cost=Decimal("7000.00"), actor="dispatcher:zhao")
    assert charged(db, estate) == Decimal("800.00")


def test_a_repair_that_records_no_cost_charges_nothing(db: psycopg.Connection, estate: Estate) -> None:
    order = new_work_order(db, estate.site_id)
    draw = open_draw(db, estate.site_id, work_order=order)
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    verify_repair(db, order, "0.00")
    with pytest.raises(InvalidAmount, match="records no cost"):
        draws.complete(db, draw.id, actor="dispatcher:zhao")


def test_the_committee_approves_an_ordinary_repair_within_its_authorised_amount(
    db: psycopg.Connection, estate: Estate
) -> None:
    fund_estate.configure_site(db, estate.site_id, has_committee=True, committee_limit=Decimal("20000.00"),
                               actor="admin")
    order = new_work_order(db, estate.site_id, category="elevator_fault")
    draw = draws.open_authorised_draw(
        db, site_id=estate.site_id, work_order_id=order.id, item="门机皮带更换", contractor="某电梯维保有限公司",
        scope_type="building", scope_id="S1B1", estimate=Decimal("20000.00"), actor="dispatcher:zhao")
    assert (draw.kind, draw.route, draw.deemed_approval) == ("authorised", "committee", False)
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="within our mandate")
    verify_repair(db, order, "19500.00")
    assert draws.complete(db, draw.id, actor="dispatcher:zhao").state == "completed"


def authorised(db: psycopg.Connection, site_id: str, estimate: str) -> draws.Draw:
    order = new_work_order(db, site_id, category="elevator_fault")
    return draws.open_authorised_draw(
        db, site_id=site_id, work_order_id=order.id, item="门机皮带更换", contractor="某电梯维保有限公司",
        scope_type="site", scope_id=site_id, estimate=Decimal(estimate), actor="dispatcher:zhao")


def test_above_the_committees_authorised_amount_the_owners_must_vote(db: psycopg.Connection, estate: Estate) -> None:
    fund_estate.configure_site(db, estate.site_id, has_committee=True, committee_limit=Decimal("20000.00"),
                               actor="admin")
    with pytest.raises(VoteRequired, match=r"¥20000.01 is above .* \(¥20000.00, notice clause 6\)"):
        authorised(db, estate.site_id, "20000.01")


def test_without_an_authorised_amount_every_ordinary_repair_needs_a_vote(
    db: psycopg.Connection, estate: Estate
) -> None:
    with pytest.raises(VoteRequired, match=r"\(no amount, notice clause 6\)"):
        authorised(db, estate.site_id, "1.00")


def test_an_estate_without_a_committee_votes_on_every_ordinary_repair(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    estate = make_estate(has_committee=False)
    with pytest.raises(VoteRequired, match="has no owners' committee"):
        authorised(db, estate.site_id, "1.00")


def test_a_lowered_authorised_amount_stops_the_approval_of_a_larger_draw(
    db: psycopg.Connection, estate: Estate
) -> None:
    fund_estate.configure_site(db, estate.site_id, has_committee=True, committee_limit=Decimal("20000.00"),
                               actor="admin")
    draw = authorised(db, estate.site_id, "15000.00")
    fund_estate.configure_site(db, estate.site_id, has_committee=True, committee_limit=Decimal("10000.00"),
                               actor="admin")
    with pytest.raises(VoteRequired):
        draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    assert draws.get_draw(db, draw.id).state == "pending"


def test_an_authorised_repair_that_costs_more_than_the_amount_is_not_charged(
    db: psycopg.Connection, estate: Estate
) -> None:
    fund_estate.configure_site(db, estate.site_id, has_committee=True, committee_limit=Decimal("20000.00"),
                               actor="admin")
    order = new_work_order(db, estate.site_id, category="elevator_fault")
    draw = draws.open_authorised_draw(
        db, site_id=estate.site_id, work_order_id=order.id, item="门机皮带更换", contractor="c",
        scope_type="site", scope_id=estate.site_id, estimate=Decimal("19000.00"), actor="dispatcher:zhao")
    draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    verify_repair(db, order, "26000.00")
    with pytest.raises(VoteRequired, match=r"actual cost ¥26000\.00 is above"):
        draws.complete(db, draw.id, actor="dispatcher:zhao")
    assert charged(db, estate) == 0


def test_an_estate_without_a_committee_has_no_authorised_amount(db: psycopg.Connection, estate: Estate) -> None:
    with pytest.raises(InvalidAmount, match="without an owners' committee"):
        fund_estate.configure_site(db, estate.site_id, has_committee=False, committee_limit=Decimal("1000.00"),
                                   actor="admin")


def test_without_a_committee_the_subdistrict_organises_and_approves_the_draw(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    estate = make_estate(has_committee=False)
    draw = open_draw(db, estate.site_id, organiser="subdistrict", actor="jiedao:liu")
    assert (draw.organiser, draw.route) == ("subdistrict", "subdistrict")
    assert [(e.event, e.role) for e in draws.draw_events(db, draw.id)] == [("opened", "subdistrict")]
    with pytest.raises(WrongApprover):
        draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
    assert draws.approve(db, draw.id, actor="jiedao:liu", role="subdistrict", comment="").state == "approved"


def test_the_subdistrict_does_not_organise_the_draw_of_an_estate_with_a_committee(
    db: psycopg.Connection, estate: Estate
) -> None:
    with pytest.raises(WrongOrganiser, match="has an owners' committee"):
        open_draw(db, estate.site_id, organiser="subdistrict", actor="jiedao:liu")


def test_an_overdue_review_notifies_the_subdistrict_and_the_housing_authority(
    db: psycopg.Connection, estate: Estate
) -> None:
    draw = open_draw(db, estate.site_id)
    draws.apply_deemed_approvals(db, draw.review_due_at)
    rows = db.execute("SELECT kind, order_id, payload FROM dispatch_notifications WHERE kind = 'fund_review_overdue'"
                      ).fetchall()
    assert [(kind, order_id, payload["draw_id"], [r["id"] for r in payload["recipients"]])
            for kind, order_id, payload in rows] == [
        ("fund_review_overdue", draw.work_order_id, draw.id, ["subdistrict", "housing-authority"])]
