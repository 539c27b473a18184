"""The service list of an estate (notice clause 11): services under the contract, paid extras and fee items, each
with its content, standard and price, and every price it ever had.

A price is never edited: an adjustment appends a row with the price it replaces, the date it takes effect, its
basis (the contract clause or the owners' decision that allows it) and who made it. The price in effect on a day
is the newest row whose ``effective_from`` is not after that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

import psycopg
from psycopg.rows import class_row

from ingest import registry
from services.errors import Conflict, Invalid, NotFound

Kind = Literal["contract", "extra", "fee"]
KINDS: tuple[Kind, ...] = ("contract", "extra", "fee")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Price:
    """One row of a service's price history."""

    id: int
    service_id: int
    price: Decimal
    unit: str
    previous_price: Decimal | None
    previous_unit: str | None
    effective_from: date
    basis: str
    set_by: str
    set_role: str
    set_at: datetime


@dataclass(frozen=True)
class Service:
    """A service or fee item with the price in effect today (``None`` before its first price takes effect)."""

    id: int
    site_id: str
    code: str
    kind: str
    name: str
    name_en: str | None
    content: str
    standard: str
    bookable: bool
    published: bool
    updated_by: str
    updated_role: str
    updated_at: datetime
    price: Decimal | None = None
    unit: str | None = None
    price_since: date | None = None
    min_slot_minutes: int | None = None


@dataclass(frozen=True)
class NewService:
    """What creating a service takes: its description and first price with the price's basis."""

    code: str
    kind: Kind
    name: str
    content: str
    standard: str
    price: Decimal
    unit: str
    basis: str
    effective_from: date
    name_en: str | None = None
    bookable: bool = False
    published: bool = True
    min_slot_minutes: int | None = None


@dataclass(frozen=True)
class ServiceChange:
    """Fields of a service that may change in place (its price changes only by ``adjust_price``)."""

    name: str | None = None
    name_en: str | None = None
    content: str | None = None
    standard: str | None = None
    bookable: bool | None = None
    published: bool | None = None
    min_slot_minutes: int | None = None


def _money(amount: Decimal, what: str) -> Decimal:
    if amount < 0 or amount != amount.quantize(CENT):
        raise Invalid(f"{what} must be a non-negative amount in whole cents, not {amount}")
    return amount


def _check_service(service: NewService) -> None:
    if service.kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    if service.bookable and service.kind != "extra":
        raise Invalid("only a paid extra service can be booked")
    if not service.basis.strip():
        raise Invalid("a price needs its basis (contract clause or owners' decision)")
    _money(service.price, "price")


def site_today(conn: psycopg.Connection, site_id: str, now: datetime | None = None) -> date:
    """Today's date in the estate's time zone."""
    return (now or datetime.now(UTC)).astimezone(registry.site_timezone(conn, site_id)).date()


def create_service(conn: psycopg.Connection, site_id: str, service: NewService, *, actor: str, role: str,
                   now: datetime | None = None) -> Service:
    """Add a service with its first price; ``Conflict`` when the estate already has its code."""
    _check_service(service)
    if registry.get_site(conn, site_id) is None:
        raise NotFound(f"site {site_id} not found")
    now = now or datetime.now(UTC)
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO service_items (site_id, code, kind, name, name_en, content, standard, bookable, published,
                   min_slot_minutes, created_by, created_at, updated_by, updated_role, updated_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (site_id, code) DO NOTHING RETURNING id""",
            (site_id, service.code, service.kind, service.name, service.name_en, service.content, service.standard,
             service.bookable, service.published, service.min_slot_minutes, actor, now, actor, role, now),
        ).fetchone()
        if row is None:
            raise Conflict(f"{site_id} already lists a service {service.code!r}")
        conn.execute(
            """INSERT INTO service_prices (service_id, price, unit, effective_from, basis, set_by, set_role, set_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (row[0], service.price, service.unit, service.effective_from, service.basis, actor, role, now),
        )
    return get_service(conn, row[0], now=now)


def update_service(conn: psycopg.Connection, service_id: int, change: ServiceChange, *, actor: str, role: str,
                   now: datetime | None = None) -> Service:
    """Change a service's description, standard or publication; its price history is untouched."""
    current = get_service(conn, service_id, now=now)
    bookable = current.bookable if change.bookable is None else change.bookable
    if bookable and current.kind != "extra":
        raise Invalid("only a paid extra service can be booked")
    conn.execute(
        """UPDATE service_items SET name = coalesce(%s, name), name_en = coalesce(%s, name_en),
               content = coalesce(%s, content), standard = coalesce(%s, standard), bookable = %s,
               published = coalesce(%s, published), min_slot_minutes = coalesce(%s, min_slot_minutes),
               updated_by = %s, updated_role = %s, updated_at = %s
           WHERE id = %s""",
        (change.name, change.name_en, change.content, change.standard, bookable, change.published,
         change.min_slot_minutes, actor, role, now or datetime.now(UTC), service_id),
    )
    return get_service(conn, service_id, now=now)


def adjust_price(conn: psycopg.Connection, service_id: int, *, price: Decimal, unit: str | None,
                 effective_from: date, basis: str, actor: str, role: str, now: datetime | None = None) -> Price:
    """Record a price adjustment taking effect on ``effective_from``, keeping the price it replaces.

    The replaced price is the one in effect just before ``effective_from``. An adjustment may not take effect on
    or before the newest recorded one (history is appended, never rewritten): ``Conflict``. A missing basis is
    ``Invalid``."""
    _money(price, "price")
    if not basis.strip():
        raise Invalid("a price adjustment needs its basis (contract clause or owners' decision)")
    now = now or datetime.now(UTC)
    with conn.transaction():
        service = conn.execute("SELECT id FROM service_items WHERE id = %s FOR UPDATE", (service_id,)).fetchone()
        if service is None:
            raise NotFound(f"service {service_id} not found")
        newest = price_history(conn, service_id)[-1]
        if effective_from <= newest.effective_from:
            raise Conflict(f"an adjustment must take effect after {newest.effective_from}, the newest recorded one")
        with conn.cursor(row_factory=class_row(Price)) as cur:
            cur.execute(
                """INSERT INTO service_prices (service_id, price, unit, previous_price, previous_unit, effective_from,
                       basis, set_by, set_role, set_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
                (service_id, price, unit or newest.unit, newest.price, newest.unit, effective_from, basis, actor,
                 role, now),
            )
            return cur.fetchone()


def price_history(conn: psycopg.Connection, service_id: int) -> list[Price]:
    """Every price of a service, oldest first; ``NotFound`` for an unknown service."""
    with conn.cursor(row_factory=class_row(Price)) as cur:
        cur.execute("SELECT * FROM service_prices WHERE service_id = %s ORDER BY effective_from", (service_id,))
        found = cur.fetchall()
    if not found:
        raise NotFound(f"service {service_id} not found")
    return found


def get_service(conn: psycopg.Connection, service_id: int, *, now: datetime | None = None) -> Service:
    """One service with its price in effect today; ``NotFound`` for an unknown id."""
    row = conn.execute("SELECT site_id FROM service_items WHERE id = %s", (service_id,)).fetchone()
    if row is None:
        raise NotFound(f"service {service_id} not found")
    with conn.cursor(row_factory=class_row(Service)) as cur:
        cur.execute(
            """SELECT s.id, s.site_id, s.code, s.kind, s.name, s.name_en, s.content, s.standard, s.bookable,
                       s.published, s.updated_by, s.updated_role, s.updated_at, p.price, p.unit,
                       p.effective_from AS price_since, s.min_slot_minutes
                FROM service_items s LEFT JOIN LATERAL (
                    SELECT price, unit, effective_from FROM service_prices
                    WHERE service_id = s.id AND effective_from <= %(today)s ORDER BY effective_from DESC LIMIT 1
                ) p ON true
                WHERE s.id = %(id)s""",
            {"id": service_id, "today": site_today(conn, row[0], now)},
        )
        return cur.fetchone()


def list_services(conn: psycopg.Connection, site_id: str, *, kinds: tuple[str, ...] = KINDS,
                  published_only: bool = False, now: datetime | None = None) -> list[Service]:
    """The estate's services of ``kinds`` with today's prices, in kind order, then in the order they were listed."""
    with conn.cursor(row_factory=class_row(Service)) as cur:
        cur.execute(
            """SELECT s.id, s.site_id, s.code, s.kind, s.name, s.name_en, s.content, s.standard, s.bookable,
                       s.published, s.updated_by, s.updated_role, s.updated_at, p.price, p.unit,
                       p.effective_from AS price_since, s.min_slot_minutes
                FROM service_items s LEFT JOIN LATERAL (
                    SELECT price, unit, effective_from FROM service_prices
                    WHERE service_id = s.id AND effective_from <= %(today)s ORDER BY effective_from DESC LIMIT 1
                ) p ON true
                WHERE s.site_id = %(site)s AND s.kind = ANY(%(kinds)s) AND (s.published OR NOT %(published)s)
                ORDER BY array_position(%(kinds)s, s.kind), s.id""",
            {"site": site_id, "kinds": list(kinds), "published": published_only,
             "today": site_today(conn, site_id, now)},
        )
        return cur.fetchall()
