"""The public information board (信息公示栏, notice clause 19): no sign-in, no personal data.

Every section of the clause is answered by its fixed key (``services/data/board_sections.yaml``, docs/api.md), in
that order, each with ``status`` (``ok`` or ``no_data``) and, where the company maintains it, when it was last
changed and by which role. Names of people are never published, except the project manager's name and business
phone, which the notice puts on the board.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from dashboard.errors import not_found
from dashboard.security import Conn
from dispatch import fund, units, workorders
from dispatch.fund import disclosure
from dispatch.units import Unit
from ingest import registry
from services import board, catalog
from services.catalog import Service
from supervision import projects

router = APIRouter(prefix="/api/v1/public", tags=["public"])

PUBLIC_CONTACT_KEYS = ("duty_phone", "phone", "hotline", "emergency_phone", "office_phone")
MAINTENANCE_KINDS = ("elevator_maintenance", "fire_maintenance")
Status = Literal["ok", "no_data"]
# Rejected fund draws on the board: the newest this many (a year of an estate's refusals, as a rule).
REJECTIONS_SHOWN = 20


class BoardSite(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    name_en: str | None
    address: str | None


class Section(BaseModel):
    """What every section carries: its key and titles, whether it has data, and its last change (the role that
    made it, never a person's name)."""

    key: str
    title_zh: str
    title_en: str
    status: Status
    updated_at: datetime | None = None
    updated_by: str | None = None


class ProjectManager(Section):
    company_name: str | None = None
    manager_name: str | None = None
    manager_phone: str | None = None
    company_phone: str | None = None
    service_level: str | None = None
    contract_starts_on: date | None = None
    contract_ends_on: date | None = None
    company_id: int | None = None
    stars: int | None = None
    credit_score: Decimal | None = None
    credit_month: date | None = None
    redlisted: bool = False
    blacklisted: bool = False


class PublicPhone(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    name_en: str | None
    phone: str
    hours: str


class ComplaintPhones(Section):
    phones: list[PublicPhone]


class PublicService(BaseModel):
    """A service or fee item as published: content, standard and today's price."""

    model_config = ConfigDict(from_attributes=True)
    code: str
    kind: str
    name: str
    name_en: str | None
    content: str
    standard: str
    price: Decimal | None
    unit: str | None
    price_since: date | None
    bookable: bool


class PriceChange(BaseModel):
    """A price adjustment with the price it replaced, when it takes effect and its basis."""

    code: str
    name: str
    previous_price: Decimal | None
    previous_unit: str | None
    price: Decimal
    unit: str
    effective_from: date
    basis: str


class ServiceList(Section):
    items: list[PublicService]
    price_changes: list[PriceChange]


class PublicUnit(BaseModel):
    """A unit's name, kind and business phone numbers (no webhooks, no people)."""

    id: str
    kind: str
    name: str
    name_en: str | None
    phones: dict[str, str]


class MaintenanceUnits(Section):
    units: list[PublicUnit]


class ParkingUse(Section):
    total: int | None = None
    sold: int | None = None
    rented: int | None = None
    visitor: int | None = None
    vacant: int | None = None
    note: str | None = None


class PublicApportionment(BaseModel):
    month: str
    utility: str
    total: Decimal
    basis: str
    method: str
    rate: Decimal | None


class UtilityApportionment(Section):
    items: list[PublicApportionment]


class PublicFeeStatement(BaseModel):
    period: str
    income: Decimal
    spending: Decimal
    balance: Decimal
    note: str


class FeeIncomeSpending(Section):
    statements: list[PublicFeeStatement]


class SharedCategory(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    direction: str
    category: str
    zh: str
    en: str
    amount: Decimal


class SharedIncomeSpending(Section):
    """The year's income from the owners' shared parts (parking, advertising …) and what was spent from it."""

    year: int
    income: Decimal | None = None
    expenses: Decimal | None = None
    balance: Decimal | None = None
    categories: list[SharedCategory] = []


class SpendingMonth(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    month: str
    work_orders: Decimal
    fund_draws: Decimal
    total: Decimal


class ElevatorSpending(Section):
    """Actual costs of accepted elevator repairs plus fund draws outside work orders, this month and year."""

    year: int
    month: str
    month_total: Decimal
    year_total: Decimal
    year_work_orders: Decimal
    year_fund_draws: Decimal
    repairs: int
    months: list[SpendingMonth]
    last_year_total: Decimal


class PublicShare(BaseModel):
    """One home's share, by building, unit and room (never a name)."""

    model_config = ConfigDict(from_attributes=True)
    building_id: str
    unit_name: str
    room: str
    area: Decimal
    share: Decimal


class PublicDisclosure(BaseModel):
    """A completed draw: item, totals, cost per m² and each home's share.

    Restates ``dispatch.fund.disclosure.Disclosure`` on purpose: this board needs no sign-in, so its fields are an
    explicit list that a field added to the domain cannot join unnoticed."""

    model_config = ConfigDict(from_attributes=True)
    draw_id: int
    site_id: str
    item: str
    purpose: str  # repair, or elevator_insurance (whose item the library words itself; the page words it instead)
    fund_category: str | None
    scope_type: str
    scope_id: str
    work_order_number: str | None
    contractor: str
    total: Decimal
    area_basis: str
    total_area: Decimal
    cost_per_m2: Decimal
    requested_at: datetime
    approved_at: datetime | None
    completed_at: datetime | None
    published_at: datetime
    shares: list[PublicShare]


class PublicRejection(BaseModel):
    """A draw its reviewer refused, with the reason given: the owners see what was asked of their fund and why it
    was refused. The reviewer is named by role (committee, sub-district office), never by login."""

    draw_id: int
    item: str
    kind: str
    scope_type: str
    scope_id: str
    work_order_number: str | None
    contractor: str
    estimate: Decimal
    decided_role: str | None
    decided_at: datetime | None
    reason: str


class FundDisclosures(Section):
    disclosures: list[PublicDisclosure]
    rejections: list[PublicRejection] = []


class PublicVoteResult(BaseModel):
    """A closed owners' vote as published: what was decided, the counts by area and by head, the outcome."""

    vote_id: int
    title: str
    matter: str
    amount: Decimal | None
    closed_at: datetime | None
    total_area: Decimal
    participating_area: Decimal
    yes_area: Decimal
    total_heads: int
    participating_heads: int
    yes_heads: int
    quorum_met: bool
    approved: bool


class VoteResults(Section):
    results: list[PublicVoteResult]


class PublicAnnualDisclosure(BaseModel):
    """A published yearly fund disclosure: the estate's totals of the year (each home's lines stay with owners)."""

    year: int
    version: int
    published_at: datetime | None
    opening: Decimal
    deposited: Decimal
    interest: Decimal
    used: Decimal
    refunded: Decimal
    closing: Decimal
    households: int


class AnnualDisclosures(Section):
    disclosures: list[PublicAnnualDisclosure]


class BoardSections(BaseModel):
    """One field per section key, in board order."""

    project_manager: ProjectManager
    complaint_phones: ComplaintPhones
    service_standards: ServiceList
    fee_standards: ServiceList
    maintenance_units: MaintenanceUnits
    parking: ParkingUse
    utility_apportionment: UtilityApportionment
    fee_income_spending: FeeIncomeSpending
    shared_income_spending: SharedIncomeSpending
    elevator_spending: ElevatorSpending
    fund_disclosures: FundDisclosures
    vote_results: VoteResults
    annual_disclosures: AnnualDisclosures


class Board(BaseModel):
    site: BoardSite
    generated_at: datetime
    section_keys: list[str]
    sections: BoardSections


def _head(key: str, ok: bool, updated_at: datetime | None = None, updated_by: str | None = None) -> dict:
    title = next(t for t in board.section_titles() if t.key == key)
    return {"key": key, "title_zh": title.zh, "title_en": title.en, "status": "ok" if ok else "no_data",
            "updated_at": updated_at, "updated_by": updated_by}


def _newest(items: list) -> tuple[datetime | None, str | None]:
    """The last change among board items: its time and the role that made it."""
    return max(((i.updated_at, i.updated_role) for i in items), default=(None, None))


def public_unit(unit: Unit) -> PublicUnit:
    """The public face of a unit: its business phone numbers only (a list of numbers is joined)."""
    phones = {k: (", ".join(map(str, v)) if isinstance(v, list) else str(v))
              for k, v in unit.contacts.items() if k in PUBLIC_CONTACT_KEYS and v}
    return PublicUnit(id=unit.id, kind=unit.kind, name=unit.name, name_en=unit.name_en, phones=phones)


def project_manager_section(conn: Conn, site_id: str, now: datetime) -> ProjectManager:
    """The company serving the estate, its project manager and contacts (``supervision.projects``): the manager's
    name and business phone are published because the notice puts them on the board."""
    found = projects.current_project(conn, site_id, now)
    if found is None:
        return ProjectManager(**_head("project_manager", False))
    return ProjectManager(
        **_head("project_manager", True), company_name=found.company_name, manager_name=found.manager_name,
        manager_phone=found.manager_phone, company_phone=found.company_phone, service_level=found.service_level,
        contract_starts_on=found.starts_on, contract_ends_on=found.ends_on, company_id=found.company_id,
        stars=found.stars, credit_score=found.credit_score, credit_month=found.credit_month,
        redlisted=found.redlisted, blacklisted=found.blacklisted)


def complaint_phones_section(conn: Conn, site_id: str) -> ComplaintPhones:
    own = board.estate_phones(conn, site_id)
    at, by = _newest(own)
    phones = [PublicPhone.model_validate(p) for p in [*own, *board.national_phones()]]
    return ComplaintPhones(**_head("complaint_phones", bool(phones), at, by), phones=phones)


def service_section(conn: Conn, key: str, services: list[Service]) -> ServiceList:
    """Published services with today's prices and every adjustment of their prices (with its basis)."""
    prices = [(s, p) for s in services for p in catalog.price_history(conn, s.id)]
    changes = [
        PriceChange(code=s.code, name=s.name, previous_price=p.previous_price, previous_unit=p.previous_unit,
                    price=p.price, unit=p.unit, effective_from=p.effective_from, basis=p.basis)
        for s, p in prices if p.previous_price is not None
    ]
    at, by = max([(s.updated_at, s.updated_role) for s in services] + [(p.set_at, p.set_role) for _, p in prices],
                 default=(None, None))
    return ServiceList(**_head(key, bool(services), at, by), items=[PublicService.model_validate(s) for s in services],
                       price_changes=sorted(changes, key=lambda c: c.effective_from, reverse=True))


def maintenance_section(conn: Conn, site_id: str) -> MaintenanceUnits:
    found = [public_unit(u) for u in units.list_units(conn, site_id=site_id) if u.kind in MAINTENANCE_KINDS]
    return MaintenanceUnits(**_head("maintenance_units", bool(found)), units=found)


def parking_section(conn: Conn, site_id: str) -> ParkingUse:
    found = board.get_parking(conn, site_id)
    if found is None:
        return ParkingUse(**_head("parking", False))
    return ParkingUse(**_head("parking", True, found.updated_at, found.updated_role), total=found.total,
                      sold=found.sold, rented=found.rented, visitor=found.visitor, vacant=found.vacant,
                      note=found.note)


def apportionment_section(conn: Conn, site_id: str) -> UtilityApportionment:
    found = board.list_apportionments(conn, site_id)
    at, by = _newest(found)
    items = [PublicApportionment(month=a.month.strftime("%Y-%m"), utility=a.utility, total=a.total, basis=a.basis,
                                 method=a.method, rate=a.rate) for a in found]
    return UtilityApportionment(**_head("utility_apportionment", bool(items), at, by), items=items)


def fee_statement_section(conn: Conn, site_id: str) -> FeeIncomeSpending:
    found = board.list_fee_statements(conn, site_id)
    at, by = _newest(found)
    statements = [PublicFeeStatement(period=s.period, income=s.income, spending=s.spending, balance=s.balance,
                                     note=s.note) for s in found]
    return FeeIncomeSpending(**_head("fee_income_spending", bool(statements), at, by), statements=statements)


def shared_parts_section(conn: Conn, site_id: str, today: date) -> SharedIncomeSpending:
    """Shared-part income and spending of this year (``dispatch.fund.shared_parts``); of last year while this
    year has no record yet."""
    summary = fund.shared_parts_summary(conn, site_id, today.year)
    if not summary.by_category:
        summary = fund.shared_parts_summary(conn, site_id, today.year - 1)
    newest = fund.shared_parts.page_entries(conn, site_id, limit=1)[0]
    head = _head("shared_income_spending", bool(summary.by_category), newest[0].recorded_at if newest else None)
    return SharedIncomeSpending(
        **head, year=summary.year, income=summary.income, expenses=summary.expenses, balance=summary.balance,
        categories=[SharedCategory.model_validate(c) for c in summary.by_category])


def elevator_section(conn: Conn, site_id: str, today: date) -> ElevatorSpending:
    """This month's and this year's elevator spending, month by month, with last year's total beside it."""
    spent = workorders.elevator_spending(conn, site_id, on=today)
    last_year = workorders.elevator_spending(conn, site_id, on=date(today.year - 1, 12, 31))
    return ElevatorSpending(last_year_total=last_year.year_total,
        **_head("elevator_spending", True), year=spent.year, month=spent.month, month_total=spent.month_total,
        year_total=spent.year_total, year_work_orders=spent.year_work_orders, year_fund_draws=spent.year_fund_draws,
        repairs=spent.repairs, months=[SpendingMonth.model_validate(m) for m in spent.months])


def disclosure_section(conn: Conn, site_id: str) -> FundDisclosures:
    """Completed draws with each home's share, and the newest rejected draws with the reviewer's reason."""
    found = [PublicDisclosure.model_validate(d) for d in disclosure.public_disclosures(conn, site_id)]
    refused = sorted(fund.draws.list_draws(conn, site_id=site_id, states=["rejected"]),
                     key=lambda d: d.decided_at or d.opened_at, reverse=True)[:REJECTIONS_SHOWN]
    rejections = [PublicRejection(
        draw_id=d.id, item=d.item, kind=d.kind, scope_type=d.scope_type, scope_id=d.scope_id,
        work_order_number=d.work_order_number, contractor=d.contractor, estimate=d.estimate,
        decided_role=d.decided_role, decided_at=d.decided_at, reason=d.decision_comment or "") for d in refused]
    at = max([d.published_at for d in found] + [r.decided_at for r in rejections if r.decided_at], default=None)
    return FundDisclosures(**_head("fund_disclosures", bool(found or rejections), at, "system" if at else None),
                           disclosures=found, rejections=rejections)


def vote_results_section(conn: Conn, site_id: str) -> VoteResults:
    """Published results of the owners' votes (``dispatch.fund.published_results``), newest first."""
    found = fund.published_results(conn, site_id)
    results = [PublicVoteResult(
        vote_id=r.vote.id, title=r.vote.title, matter=r.vote.matter, amount=r.vote.amount,
        closed_at=r.vote.closed_at, total_area=r.outcome.total_area, participating_area=r.outcome.participating_area,
        yes_area=r.outcome.yes_area, total_heads=r.outcome.total_heads,
        participating_heads=r.outcome.participating_heads, yes_heads=r.outcome.yes_heads,
        quorum_met=r.outcome.quorum_met, approved=r.outcome.approved) for r in found]
    at = found[0].published_at if found else None
    return VoteResults(**_head("vote_results", bool(results), at), results=results)


def annual_section(conn: Conn, site_id: str) -> AnnualDisclosures:
    """The published yearly fund disclosures (``dispatch.fund.published_disclosures``): the year's totals."""
    found = fund.published_disclosures(conn, site_id)
    items = [PublicAnnualDisclosure(year=d.year, version=d.version, published_at=d.published_at,
                                    households=d.content["fund"]["households"],
                                    **{k: Decimal(d.content["fund"][k]) for k in
                                       ("opening", "deposited", "interest", "used", "refunded", "closing")})
             for d in found]
    at = max((d.published_at for d in found if d.published_at), default=None)
    return AnnualDisclosures(**_head("annual_disclosures", bool(items), at),
                             disclosures=items)


def board_data(conn: Conn, site_id: str, *, now: datetime | None = None) -> Board:
    """Everything the board shows for one site; 404 for an unknown site."""
    site = registry.get_site(conn, site_id)
    if site is None:
        raise not_found("site", site_id)
    now = now or datetime.now(UTC)
    today = catalog.site_today(conn, site_id, now)
    published = catalog.list_services(conn, site_id, published_only=True, now=now)
    sections = BoardSections(
        project_manager=project_manager_section(conn, site_id, now),
        complaint_phones=complaint_phones_section(conn, site_id),
        service_standards=service_section(conn, "service_standards", [s for s in published if s.kind != "fee"]),
        fee_standards=service_section(conn, "fee_standards", [s for s in published if s.kind == "fee"]),
        maintenance_units=maintenance_section(conn, site_id),
        parking=parking_section(conn, site_id),
        utility_apportionment=apportionment_section(conn, site_id),
        fee_income_spending=fee_statement_section(conn, site_id),
        shared_income_spending=shared_parts_section(conn, site_id, today),
        elevator_spending=elevator_section(conn, site_id, today),
        fund_disclosures=disclosure_section(conn, site_id),
        vote_results=vote_results_section(conn, site_id),
        annual_disclosures=annual_section(conn, site_id),
    )
    return Board(site=BoardSite.model_validate(site), generated_at=now,
                 section_keys=[t.key for t in board.section_titles()], sections=sections)


@router.get("/sites/{site_id}/board", response_model=Board, summary="The public board of one site (no sign-in)")
def public_board(site_id: str, conn: Conn) -> Board:
    """Every section of notice clause 19 by its key (docs/api.md, "Public board"), then the fund's emergency-use
    disclosures (clause 16), the owners' vote results and the yearly fund disclosures (clauses 6-8); no sign-in,
    no personal data."""
    return board_data(conn, site_id)
