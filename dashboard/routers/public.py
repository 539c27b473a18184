"""The public information board (信息公示栏, notice clause 19): no sign-in, no personal data."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from dashboard.errors import not_found
from dashboard.routers.common import plain
from dashboard.security import Conn
from ingest import registry

router = APIRouter(prefix="/api/v1/public", tags=["public"])

COMPLAINT_PHONES: list[dict[str, str]] = [
    {"name_zh": "政务服务便民热线", "name_en": "Citizen service hotline", "phone": "12345"},
    {"name_zh": "电梯应急救援", "name_en": "Elevator emergency rescue", "phone": "96333"},
    {"name_zh": "火警", "name_en": "Fire", "phone": "119"},
]
PUBLIC_CONTACT_KEYS = ("duty_phone", "phone", "hotline", "emergency_phone", "office_phone")
ELEVATOR_WORDS = ("elevator", "电梯")


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _public_unit(unit: Any) -> dict[str, Any]:
    """A unit's name, kind and business phone numbers (no webhooks, no people)."""
    contacts = getattr(unit, "contacts", {}) or {}
    phones = {k: str(v) for k, v in contacts.items() if k in PUBLIC_CONTACT_KEYS and v}
    return {"id": unit.id, "kind": unit.kind, "name": unit.name, "name_en": getattr(unit, "name_en", None),
            "phones": phones}


def _public_disclosure(entry: Any) -> dict[str, Any]:
    """A completed draw: item, totals, cost per m² and each home's share by building, unit and room."""
    data = plain(entry)
    data["shares"] = [{k: s.get(k) for k in ("building_id", "unit_name", "room", "area", "share")}
                      for s in data.get("shares") or []]
    return data


def board_data(conn: Conn, site_id: str) -> dict[str, Any]:
    """Everything the board shows for one site; sections whose package is missing are ``None``."""
    site = next((s for s in registry.list_sites(conn) if s.id == site_id), None)
    if site is None:
        raise not_found("site", site_id)
    units_mod = _optional("dispatch.units")
    units: list[dict[str, Any]] | None = None
    if units_mod is not None:
        units = [_public_unit(u) for u in units_mod.list_units(conn, site_id=site_id)]
    disclosure = _optional("dispatch.fund.disclosure")
    draws: list[dict[str, Any]] | None = None
    elevator_spend: str | None = None
    if disclosure is not None:
        found = disclosure.public_disclosures(conn, site_id)
        draws = [_public_disclosure(d) for d in found]
        total = Decimal(0)
        for d in found:
            label = f"{d.fund_category or ''} {d.item}".lower()
            if any(word in label for word in ELEVATOR_WORDS):
                total += d.total
        elevator_spend = str(total.quantize(Decimal("0.01")))
    return {
        "site": {"id": site.id, "name": site.name, "name_en": site.name_en, "address": site.address},
        "maintenance_units": units,
        "elevator_maintenance_spending": elevator_spend,
        "fund_disclosures": draws,
        "complaint_phones": COMPLAINT_PHONES,
    }


@router.get("/sites/{site_id}/board", summary="The public board of one site (no sign-in)")
def board(site_id: str, conn: Conn) -> dict[str, Any]:
    """Maintenance units and their public business phones, elevator maintenance spending, fund draws with
    apportionment (by household and area, no names), complaint phone numbers."""
    return board_data(conn, site_id)
