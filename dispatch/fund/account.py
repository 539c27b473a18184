"""A household's own view of its fund account (notice clause 17: owners query in real time): every ledger line
with the draw and work order it paid, newest first, and the household's yearly statement (the web layer renders it
as JSON for machines and as a CSV document for people).

Read straight from the ledger on every call: nothing is cached, so a charge is visible as soon as it commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from dispatch.fund.errors import NotFound
from ingest.registry import site_timezone

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerLine:
    """One movement on the account, with what a draw paid for."""

    id: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    memo: str
    created_at: datetime
    draw_id: int | None
    draw_item: str | None
    draw_purpose: str | None
    work_order_id: int | None
    work_order_number: str | None
    draw_scope_type: str | None
    draw_scope_id: str | None
    first_deposit: bool


# ``first_deposit``: the account's first deposit (首次交存), which a person reading the ledger tells from later ones.
LINE_QUERY = """SELECT l.id, l.kind, l.amount, l.balance_after, l.memo, l.created_at, l.draw_id, d.item AS draw_item,
                       d.purpose AS draw_purpose, d.work_order_id, d.work_order_number,
                       d.scope_type AS draw_scope_type, d.scope_id AS draw_scope_id,
                       l.kind = 'deposit' AND l.id = (SELECT min(f.id) FROM fund_ledger f
                                                      WHERE f.household_id = l.household_id AND f.kind = 'deposit')
                           AS first_deposit
                FROM fund_ledger l LEFT JOIN fund_draws d ON d.id = l.draw_id"""


def account_lines(conn: psycopg.Connection, household_id: str, *, limit: int, offset: int
                  ) -> tuple[list[LedgerLine], int]:
    """One page of the household's ledger, newest first, and how many lines it has in all."""
    total = conn.execute("SELECT count(*) FROM fund_ledger WHERE household_id = %s", (household_id,)).fetchone()[0]
    with conn.cursor(row_factory=class_row(LedgerLine)) as cur:
        cur.execute(LINE_QUERY + " WHERE l.household_id = %s ORDER BY l.created_at DESC, l.id DESC LIMIT %s OFFSET %s",
                    (household_id, limit, offset))
        return cur.fetchall(), total


@dataclass(frozen=True)
class HouseholdStatement:
    """A household's year: opening and closing balance, the year's totals by kind, and every line of the year."""

    household_id: str
    site_id: str
    building_id: str
    unit_name: str
    room: str
    year: int
    period_start: datetime
    period_end: datetime
    opening: Decimal
    deposited: Decimal
    interest: Decimal
    used: Decimal
    refunded: Decimal
    closing: Decimal
    lines: tuple[LedgerLine, ...]


def household_statement(conn: psycopg.Connection, household_id: str, year: int) -> HouseholdStatement:
    """The household's statement of calendar ``year`` in its estate's time zone; ``NotFound`` without an account."""
    home = conn.execute(
        """SELECT h.site_id, h.building_id, u.name, h.room FROM fund_households h
           JOIN fund_building_units u ON u.id = h.unit_id JOIN fund_accounts a ON a.household_id = h.id
           WHERE h.id = %s""", (household_id,)).fetchone()
    if home is None:
        raise NotFound(f"household {household_id} has no fund account")
    site_id, building_id, unit_name, room = home
    zone = site_timezone(conn, site_id)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    opening = conn.execute("SELECT coalesce(sum(amount), 0.00) FROM fund_ledger WHERE household_id = %s"
                           " AND created_at < %s", (household_id, start)).fetchone()[0]
    with conn.cursor(row_factory=class_row(LedgerLine)) as cur:
        cur.execute(LINE_QUERY + " WHERE l.household_id = %s AND l.created_at >= %s AND l.created_at < %s"
                    " ORDER BY l.created_at, l.id", (household_id, start, end))
        lines = tuple(cur.fetchall())

    def total(kind: str) -> Decimal:
        return sum((line.amount for line in lines if line.kind == kind), ZERO)

    return HouseholdStatement(
        household_id=household_id, site_id=site_id, building_id=building_id, unit_name=unit_name, room=room,
        year=year, period_start=start, period_end=end, opening=opening, deposited=total("deposit"),
        interest=total("interest"), used=-total("draw"), refunded=-total("refund"),
        closing=opening + sum((line.amount for line in lines), ZERO), lines=lines,
    )
