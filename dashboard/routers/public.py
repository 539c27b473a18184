"""The public information board (信息公示栏, notice clause 19): no sign-in, no personal data."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from dashboard.errors import not_found
from dashboard.security import Conn
from dispatch import units
from dispatch.fund import disclosure
from dispatch.fund.disclosure import Disclosure
from dispatch.units import Unit
from ingest import registry

router = APIRouter(prefix="/api/v1/public", tags=["public"])

PUBLIC_CONTACT_KEYS = ("duty_phone", "phone", "hotline", "emergency_phone", "office_phone")
ELEVATOR_WORDS = ("elevator", "电梯")
CENT = Decimal("0.01")


class ComplaintPhone(BaseModel):
    name_zh: str
    name_en: str
    phone: str


COMPLAINT_PHONES = (
    ComplaintPhone(name_zh="政务服务便民热线", name_en="Citizen service hotline", phone="12345"),
    ComplaintPhone(name_zh="电梯应急救援", name_en="Elevator emergency rescue", phone="96333"),
    ComplaintPhone(name_zh="火警", name_en="Fire", phone="119"),
)


class BoardSite(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    name_en: str | None
    address: str | None


class PublicUnit(BaseModel):
    """A unit's name, kind and business phone numbers (no webhooks, no people)."""

    id: str
    kind: str
    name: str
    name_en: str | None
    phones: dict[str, str]


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


class Board(BaseModel):
    site: BoardSite
    maintenance_units: list[PublicUnit]
    elevator_maintenance_spending: Decimal
    fund_disclosures: list[PublicDisclosure]
    complaint_phones: list[ComplaintPhone]


def public_unit(unit: Unit) -> PublicUnit:
    """The public face of a unit: its business phone numbers only."""
    phones = {k: str(v) for k, v in unit.contacts.items() if k in PUBLIC_CONTACT_KEYS and v}
    return PublicUnit(id=unit.id, kind=unit.kind, name=unit.name, name_en=unit.name_en, phones=phones)


def elevator_spending(found: list[Disclosure]) -> Decimal:
    """What the disclosed draws spent on elevators, told apart by their category or item."""
    total = sum((d.total for d in found
                 if any(word in f"{d.fund_category or ''} {d.item}".lower() for word in ELEVATOR_WORDS)), Decimal(0))
    return total.quantize(CENT)


def board_data(conn: Conn, site_id: str) -> Board:
    """Everything the board shows for one site; 404 for an unknown site."""
    site = registry.get_site(conn, site_id)
    if site is None:
        raise not_found("site", site_id)
    found = disclosure.public_disclosures(conn, site_id)
    return Board(
        site=BoardSite.model_validate(site),
        maintenance_units=[public_unit(u) for u in units.list_units(conn, site_id=site_id)],
        elevator_maintenance_spending=elevator_spending(found),
        fund_disclosures=[PublicDisclosure.model_validate(d) for d in found],
        complaint_phones=list(COMPLAINT_PHONES),
    )


@router.get("/sites/{site_id}/board", response_model=Board, summary="The public board of one site (no sign-in)")
def board(site_id: str, conn: Conn) -> Board:
    """Maintenance units and their public business phones, elevator maintenance spending, fund draws with
    apportionment (by household and area, no names), complaint phone numbers."""
    return board_data(conn, site_id)
