"""The board items the property company maintains (notice clause 19): parking, public water and power
apportionment, property fee income and spending, and the estate's own complaint phones; each keeps who changed it
last (user and role) and when. The section list and the national complaint numbers are data
(``services/data/board_sections.yaml``, ``complaint_phones.yaml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Literal

import psycopg
import yaml
from psycopg.rows import class_row

from dispatch.fund import estate
from services.errors import Invalid

Utility = Literal["water", "power"]
Method = Literal["area", "household"]
CENT = Decimal("0.01")
RATE = Decimal("0.0001")
PERIOD = re.compile(r"[1-9][0-9]{3}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?")
PHONE = re.compile(r"[0-9+() -]{3,30}")


@dataclass(frozen=True)
class SectionTitle:
    key: str
    zh: str
    en: str


@dataclass(frozen=True)
class Phone:
    """A complaint phone: a national number (no ``updated_at``) or one the estate maintains."""

    name: str
    name_en: str | None
    phone: str
    hours: str = ""
    updated_by: str | None = None
    updated_role: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Parking:
    """Parking spaces: how many, sold, rented, kept for visitors, and so vacant."""

    site_id: str
    total: int
    sold: int
    rented: int
    visitor: int
    note: str
    updated_by: str
    updated_role: str
    updated_at: datetime

    @property
    def vacant(self) -> int:
        return self.total - self.sold - self.rented - self.visitor


@dataclass(frozen=True)
class Apportionment:
    """One month's shared water or power cost, its basis and how it is shared; ``rate`` is the cost per m² of
    building area (method ``area``) or per household (``household``), to 4 decimals, for the board."""

    site_id: str
    month: date
    utility: str
    total: Decimal
    basis: str
    method: str
    updated_by: str
    updated_role: str
    updated_at: datetime
    rate: Decimal | None = None


@dataclass(frozen=True)
class FeeStatement:
    """Property fee income and spending of one period (a year, half, quarter or month)."""

    site_id: str
    period: str
    income: Decimal
    spending: Decimal
    note: str
    updated_by: str
    updated_role: str
    updated_at: datetime

    @property
    def balance(self) -> Decimal:
        return self.income - self.spending


@cache
def _data(name: str) -> dict:
    return yaml.safe_load((resources.files("services") / "data" / name).read_text(encoding="utf-8"))


def section_titles() -> list[SectionTitle]:
    """The board's sections in order, with their Chinese and English titles."""
    return [SectionTitle(**s) for s in _data("board_sections.yaml")["sections"]]


def national_phones() -> list[Phone]:
    """The national complaint and emergency numbers every board shows."""
    return [Phone(p["name"], p.get("name_en"), p["phone"]) for p in _data("complaint_phones.yaml")["complaint_phones"]]


def set_parking(conn: psycopg.Connection, site_id: str, *, total: int, sold: int, rented: int, visitor: int,
                note: str, actor: str, role: str, now: datetime | None = None) -> Parking:
    """Record the parking figures; ``Invalid`` when they do not add up."""
    if min(total, sold, rented, visitor) < 0 or sold + rented + visitor > total:
        raise Invalid("sold, rented and visitor spaces must be non-negative and add up to at most the total")
    conn.execute(
        """INSERT INTO board_parking (site_id, total, sold, rented, visitor, note, updated_by, updated_role, updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (site_id) DO UPDATE SET total = excluded.total, sold = excluded.sold, rented = excluded.rented,
               visitor = excluded.visitor, note = excluded.note, updated_by = excluded.updated_by,
               updated_role = excluded.updated_role, updated_at = excluded.updated_at""",
        (site_id, total, sold, rented, visitor, note, actor, role, now or datetime.now(UTC)),
    )
    return get_parking(conn, site_id)


def get_parking(conn: psycopg.Connection, site_id: str) -> Parking | None:
    """The estate's parking figures, or ``None`` before they are recorded."""
    with conn.cursor(row_factory=class_row(Parking)) as cur:
        cur.execute("SELECT * FROM board_parking WHERE site_id = %s", (site_id,))
        return cur.fetchone()


def set_apportionment(conn: psycopg.Connection, site_id: str, *, month: date, utility: Utility, total: Decimal,
                      basis: str, method: Method, actor: str, role: str,
                      now: datetime | None = None) -> Apportionment:
    """Record (or correct) one month's shared water or power cost."""
    if utility not in ("water", "power") or method not in ("area", "household"):
        raise Invalid("utility is water or power; method is area or household")
    if total < 0 or total != total.quantize(CENT):
        raise Invalid("the total is a non-negative amount in whole cents")
    if not basis.strip():
        raise Invalid("an apportionment needs its basis")
    conn.execute(
        """INSERT INTO board_apportionments (site_id, month, utility, total, basis, method, updated_by, updated_role,
               updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (site_id, month, utility) DO UPDATE SET total = excluded.total, basis = excluded.basis,
               method = excluded.method, updated_by = excluded.updated_by, updated_role = excluded.updated_role,
               updated_at = excluded.updated_at""",
        (site_id, month.replace(day=1), utility, total, basis, method, actor, role, now or datetime.now(UTC)),
    )
    with conn.cursor(row_factory=class_row(Apportionment)) as cur:
        cur.execute("SELECT * FROM board_apportionments WHERE site_id = %s AND month = %s AND utility = %s",
                    (site_id, month.replace(day=1), utility))
        return _with_rates(conn, site_id, cur.fetchall())[0]


def list_apportionments(conn: psycopg.Connection, site_id: str, *, months: int = 12) -> list[Apportionment]:
    """The newest ``months`` months of apportionments, newest first, each with its rate per m² or household."""
    with conn.cursor(row_factory=class_row(Apportionment)) as cur:
        cur.execute(
            """SELECT * FROM board_apportionments WHERE site_id = %s
                 AND month > (SELECT max(month) FROM board_apportionments WHERE site_id = %s) - %s * interval '1 month'
               ORDER BY month DESC, utility""",
            (site_id, site_id, months),
        )
        return _with_rates(conn, site_id, cur.fetchall())


def _with_rates(conn: psycopg.Connection, site_id: str, found: list[Apportionment]) -> list[Apportionment]:
    """Each apportionment with its cost per m² of building area or per household (developer-held homes count
    only where the estate has no other)."""
    if not found:
        return []
    households = [h for h in estate.list_households(conn, site_id) if not h.developer_held] or \
        estate.list_households(conn, site_id)
    area = sum((h.building_area for h in households), Decimal(0))
    return [_with_rate(a, area, len(households)) for a in found]


def _with_rate(item: Apportionment, area: Decimal, households: int) -> Apportionment:
    divisor = area if item.method == "area" else Decimal(households)
    rate = (item.total / divisor).quantize(RATE) if divisor > 0 else None
    return Apportionment(**{**item.__dict__, "rate": rate})


def set_fee_statement(conn: psycopg.Connection, site_id: str, *, period: str, income: Decimal, spending: Decimal,
                      note: str, actor: str, role: str, now: datetime | None = None) -> FeeStatement:
    """Record (or correct) the property fee income and spending of ``period``."""
    for amount in (income, spending):
        if amount < 0 or amount != amount.quantize(CENT):
            raise Invalid("income and spending are non-negative amounts in whole cents")
    if not PERIOD.fullmatch(period):
        raise Invalid("a period is YYYY, YYYY-H1/H2, YYYY-Q1..Q4 or YYYY-MM")
    conn.execute(
        """INSERT INTO board_fee_statements (site_id, period, income, spending, note, updated_by, updated_role,
               updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (site_id, period) DO UPDATE SET income = excluded.income, spending = excluded.spending,
               note = excluded.note, updated_by = excluded.updated_by, updated_role = excluded.updated_role,
               updated_at = excluded.updated_at""",
        (site_id, period, income, spending, note, actor, role, now or datetime.now(UTC)),
    )
    return next(s for s in list_fee_statements(conn, site_id) if s.period == period)


def list_fee_statements(conn: psycopg.Connection, site_id: str) -> list[FeeStatement]:
    """The estate's fee statements, newest period first."""
    with conn.cursor(row_factory=class_row(FeeStatement)) as cur:
        cur.execute("SELECT * FROM board_fee_statements WHERE site_id = %s ORDER BY period DESC", (site_id,))
        return cur.fetchall()


def set_complaint_phones(conn: psycopg.Connection, site_id: str, phones: list[Phone], *, actor: str, role: str,
                         now: datetime | None = None) -> list[Phone]:
    """Replace the estate's own complaint phones (in the order given)."""
    if any(not PHONE.fullmatch(p.phone) or not p.name.strip() for p in phones):
        raise Invalid("each phone has a name and a number of 3-30 digits, spaces, +, -, ( or )")
    now = now or datetime.now(UTC)
    with conn.transaction():
        conn.execute("DELETE FROM board_complaint_phones WHERE site_id = %s", (site_id,))
        for position, p in enumerate(phones):
            conn.execute(
                """INSERT INTO board_complaint_phones (site_id, position, name, name_en, phone, hours, updated_by,
                       updated_role, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (site_id, position, p.name, p.name_en, p.phone, p.hours, actor, role, now),
            )
    return estate_phones(conn, site_id)


def estate_phones(conn: psycopg.Connection, site_id: str) -> list[Phone]:
    """The estate's own complaint phones, in order."""
    with conn.cursor(row_factory=class_row(Phone)) as cur:
        cur.execute("""SELECT name, name_en, phone, hours, updated_by, updated_role, updated_at
                       FROM board_complaint_phones WHERE site_id = %s ORDER BY position""", (site_id,))
        return cur.fetchall()
