"""Companies with a valid unified social credit code, projects that never overlap at a site, attribution of a
site's records to the company serving it at the time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from dispatch.workorders import open_from_report
from supervision import company_at, current_project
from supervision.companies import Company, CompanyInUse, DuplicateCreditCode, create_company, delete_company
from supervision.credit import evaluate
from supervision.credit_code import InvalidCreditCode, validate_credit_code
from supervision.inspections import InspectionItem, InvalidInspection, record_inspection
from supervision.projects import ContractOverlap, InvalidProject, create_project, update_project

from .conftest import CODE, OTHER_CODE, SITE


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91440300708461136T", " 91440300708461136t "])
def test_a_code_with_its_gb_32100_check_character_is_valid(code: str) -> None:
    assert validate_credit_code(code) == code.strip().upper()


@pytest.mark.parametrize(("code", "why"), [
    ("91350100M000100Y44", "check character is 4, GB 32100-2015 gives 3"),
    ("91350100M000100Y4", "18 characters, not 17"),
    ("91350100M000100I43", "outside the GB 32100-2015 code table: I"),
    ("91350100M0001O0Y43", "outside the GB 32100-2015 code table: O"),
])
def test_a_code_with_a_wrong_length_character_or_check_is_refused(code: str, why: str) -> None:
    with pytest.raises(InvalidCreditCode, match=why):
        validate_credit_code(code)


def test_two_companies_cannot_share_a_credit_code(company: Company, served: psycopg.Connection) -> None:
    with pytest.raises(DuplicateCreditCode):
        create_company(served, name="另一家", credit_code=CODE.lower())


def project(conn: psycopg.Connection, company_id: int, starts: date, ends: date):
    return create_project(conn, company_id=company_id, site_id=SITE, starts_on=starts, ends_on=ends,
                          service_level="一级", fee_per_m2_month=Decimal("3.10"), manager_name="赵经理",
                          manager_phone="13700000000")


def test_overlapping_contracts_at_one_site_are_refused(company: Company, served: psycopg.Connection) -> None:
    other = create_company(served, name="后来物业", credit_code=OTHER_CODE)
    with pytest.raises(ContractOverlap):
        project(served, other.id, date(2027, 12, 31), date(2029, 12, 31))  # one shared day
    project(served, other.id, date(2028, 1, 1), date(2029, 12, 31))


def test_a_contract_cannot_be_extended_over_the_next_one(company: Company, served: psycopg.Connection) -> None:
    other = create_company(served, name="后来物业", credit_code=OTHER_CODE)
    later = project(served, other.id, date(2028, 1, 1), date(2029, 12, 31))
    with pytest.raises(ContractOverlap):
        update_project(served, later.id, starts_on=date(2027, 6, 1))


def test_a_project_needs_a_period_in_order_and_a_fee_in_cents(company: Company, served: psycopg.Connection) -> None:
    with pytest.raises(InvalidProject, match="ends before"):
        project(served, company.id, date(2029, 2, 1), date(2029, 1, 1))
    with pytest.raises(InvalidProject, match="two decimals"):
        create_project(served, company_id=company.id, site_id=SITE, starts_on=date(2030, 1, 1),
                       ends_on=date(2030, 2, 1), service_level="一级", fee_per_m2_month=Decimal("1.005"),
                       manager_name="赵", manager_phone="1")


def test_a_company_with_projects_cannot_be_deleted(company: Company, served: psycopg.Connection) -> None:
    with pytest.raises(CompanyInUse):
        delete_company(served, company.id)


def test_records_belong_to_the_company_serving_the_site_that_day(company: Company, served: psycopg.Connection
                                                                 ) -> None:
    other = create_company(served, name="后来物业", credit_code=OTHER_CODE)
    project(served, other.id, date(2028, 1, 1), date(2029, 12, 31))
    # the contract days are Shanghai dates: 2027-12-31 16:00 UTC is already 2028-01-01 there
    assert company_at(served, SITE, datetime(2027, 12, 31, 15, 59, tzinfo=UTC)).id == company.id
    assert company_at(served, SITE, datetime(2027, 12, 31, 16, 0, tzinfo=UTC)).id == other.id
    assert company_at(served, SITE, datetime(2025, 6, 1, tzinfo=UTC)) is None


def test_a_month_counts_only_the_orders_of_the_contract_days(served: psycopg.Connection) -> None:
    newcomer = create_company(served, name="月中接管物业", credit_code=OTHER_CODE)
    project(served, newcomer.id, date(2026, 11, 15), date(2027, 11, 14))
    for day in (3, 20):  # before and after the handover, at noon in Shanghai
        open_from_report(served, site_id=SITE, origin="owner_report", category="water_outage", description="x",
                         address=f"{day}号楼", reporter_contact="", actor="user:desk",
                         now=datetime(2026, 11, day, 4, tzinfo=UTC))
    handling = next(f for f in evaluate(served, newcomer.id, date(2026, 11, 1)).factors if f.id == "complaint_handling")
    assert handling.counts == {"handled": 0, "filed": 1}


def test_the_board_view_names_the_company_the_manager_and_the_contract(company: Company,
                                                                       served: psycopg.Connection) -> None:
    view = current_project(served, SITE, datetime(2026, 11, 10, tzinfo=UTC))
    assert (view.company_name, view.credit_code, view.company_phone) == (company.name, CODE, "0591-12345678")
    assert (view.manager_name, view.manager_phone, view.service_level) == ("林经理", "13900000000", "二级")
    assert (view.starts_on, view.ends_on, view.fee_per_m2_month) == (date(2026, 1, 1), date(2027, 12, 31),
                                                                     Decimal("2.30"))
    assert (view.stars, view.credit_score, view.blacklisted, view.list_entries) == (None, None, False, [])
    assert current_project(served, SITE, datetime(2028, 1, 1, tzinfo=UTC) + timedelta(days=1)) is None


def test_an_inspection_cannot_be_dated_after_today_at_the_estate(company, served) -> None:
    with pytest.raises(InvalidInspection, match="after today"):
        record_inspection(served, site_id=SITE, company_id=company.id, inspected_on=date(2026, 12, 8),
                          inspector_id=1, inspector="inspector", items=[InspectionItem("消防通道", "pass")],
                          score=Decimal("90"), now=datetime(2026, 12, 7, 15, 59, tzinfo=UTC))  # 23:59 in China
