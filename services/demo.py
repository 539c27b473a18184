"""The demo estate's published services, fees and board items (``services/data/demo_estate.yaml``), and one
rated booking. Idempotent: an estate that already lists services is left as it is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources

import psycopg
import yaml

from dispatch import units
from dispatch.fund import estate
from ingest import registry
from services import board, bookings, catalog

ROLE = "system"


@cache
def demo_data() -> dict:
    """The demo estate's figures (the project's own choice, see the file's header)."""
    return yaml.safe_load((resources.files("services") / "data" / "demo_estate.yaml").read_text(encoding="utf-8"))


def seed_demo(conn: psycopg.Connection, site_id: str, *, actor: str, now: datetime | None = None) -> None:
    """Seed services with prices and one adjustment, parking, last month's apportionment, the fee statement, the
    estate's complaint phones, the maintainers' duty phones, and one booking through to its rating."""
    now = now or datetime.now(UTC)
    data = demo_data()
    seed_unit_phones(conn, data["unit_duty_phones"], actor=actor)
    if catalog.list_services(conn, site_id, now=now):
        return
    by_code = {}
    for raw in data["services"]:
        new = catalog.NewService(
            code=raw["code"], kind=raw["kind"], name=raw["name"], name_en=raw.get("name_en"), content=raw["content"],
            standard=raw["standard"], price=Decimal(raw["price"]), unit=raw["unit"], basis=raw["basis"],
            effective_from=data["contract_start"], bookable=raw.get("bookable", False),
            min_slot_minutes=raw.get("min_slot_minutes"))
        by_code[new.code] = catalog.create_service(conn, site_id, new, actor=actor, role=ROLE, now=now)
    for raw in data["price_adjustments"]:
        catalog.adjust_price(conn, by_code[raw["code"]].id, price=Decimal(raw["price"]), unit=raw["unit"],
                             effective_from=raw["effective_from"], basis=raw["basis"], actor=actor, role=ROLE,
                             now=now)
    board.set_parking(conn, site_id, **data["parking"], actor=actor, role=ROLE, now=now)
    last_month = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    for raw in data["apportionments"]:
        board.set_apportionment(conn, site_id, month=last_month, utility=raw["utility"], total=Decimal(raw["total"]),
                                basis=raw["basis"], method=raw["method"], actor=actor, role=ROLE, now=now)
    for raw in data["fee_statements"]:
        board.set_fee_statement(conn, site_id, period=raw["period"], income=Decimal(raw["income"]),
                                spending=Decimal(raw["spending"]), note=raw["note"], actor=actor, role=ROLE, now=now)
    board.set_complaint_phones(conn, site_id, [board.Phone(p["name"], p.get("name_en"), p["phone"], p.get("hours", ""))
                                              for p in data["complaint_phones"]], actor=actor, role=ROLE, now=now)
    seed_booking(conn, site_id, by_code[data["booking"]["service"]].id, data["booking"], actor=actor, now=now)


def seed_unit_phones(conn: psycopg.Connection, phones: dict[str, str], *, actor: str) -> None:
    """Give the maintenance units their duty phones where they have none (the shipped list is national and
    knows no contractor's number)."""
    for unit_id, phone in phones.items():
        unit = units.get_unit(conn, unit_id)
        if unit is not None and not unit.contacts.get("duty_phone"):
            units.upsert_unit(conn, replace(unit, contacts={**unit.contacts, "duty_phone": phone}), actor=actor)


def seed_booking(conn: psycopg.Connection, site_id: str, service_id: int, raw: dict, *, actor: str,
                 now: datetime) -> None:
    """A household's booking, booked a week ago, confirmed, done and rated."""
    household = estate.list_households(conn, site_id)[0]
    booked_at = now - timedelta(days=7)
    local_day = (booked_at + timedelta(days=2)).astimezone(registry.site_timezone(conn, site_id))
    slot = local_day.replace(hour=9, minute=0, second=0, microsecond=0)
    made = bookings.book(conn, service_id=service_id, household_id=household.id, site_id=site_id,
                         slot_start=slot, slot_end=slot + timedelta(hours=2), note=raw["note"], actor=actor,
                         now=booked_at)
    bookings.confirm(conn, made.id, actor=actor, now=booked_at + timedelta(hours=1))
    bookings.mark_done(conn, made.id, actor=actor, now=slot + timedelta(hours=2))
    bookings.rate(conn, made.id, rating=raw["rating"], comment=raw["comment"], now=slot + timedelta(hours=3))
