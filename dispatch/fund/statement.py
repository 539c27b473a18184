"""The annual fund statement (Order 165 art. 30): totals deposited, used, earned and remaining; each project
charged with its apportionment; each home's account. Homes are keyed by building/unit/room, never by owner.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from dispatch.fund.disclosure import Disclosure, public_disclosures
from ingest.registry import site_timezone

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StatementAccount:
    """One home's account over the year."""

    building_id: str
    unit_name: str
    room: str
    opening: Decimal
    deposited: Decimal
    interest: Decimal
    used: Decimal
    refunded: Decimal
    closing: Decimal


@dataclass(frozen=True)
class AnnualStatement:
    """Everything art. 30 asks to be published for one site and calendar year (site time zone)."""

    site_id: str
    year: int
    period_start: datetime
    period_end: datetime
    opening: Decimal
    deposited: Decimal
    interest: Decimal
    used: Decimal
    refunded: Decimal
    closing: Decimal
    projects: tuple[Disclosure, ...]
    accounts: tuple[StatementAccount, ...]


def _year_bounds(conn: psycopg.Connection, site_id: str, year: int) -> tuple[datetime, datetime]:
    zone = site_timezone(conn, site_id)
    return (datetime(year, 1, 1, tzinfo=zone).astimezone(UTC), datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC))


def annual_statement(conn: psycopg.Connection, site_id: str, year: int) -> AnnualStatement:
    """Build the statement of ``year`` for ``site_id`` from the ledger and the published disclosures."""
    start, end = _year_bounds(conn, site_id, year)
    with conn.cursor(row_factory=class_row(StatementAccount)) as cur:
        cur.execute(
            """SELECT h.building_id, u.name AS unit_name, h.room,
                      coalesce(sum(l.amount) FILTER (WHERE l.created_at < %(start)s), 0.00) AS opening,
                      coalesce(sum(l.amount) FILTER (WHERE l.kind = 'deposit' AND in_year), 0.00) AS deposited,
                      coalesce(sum(l.amount) FILTER (WHERE l.kind = 'interest' AND in_year), 0.00) AS interest,
                      coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'draw' AND in_year), 0.00) AS used,
                      coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'refund' AND in_year), 0.00) AS refunded,
                      coalesce(sum(l.amount) FILTER (WHERE l.created_at < %(end)s), 0.00) AS closing
               FROM fund_households h
               JOIN fund_building_units u ON u.id = h.unit_id
               LEFT JOIN LATERAL (
                   SELECT amount, kind, created_at,
                          created_at >= %(start)s AND created_at < %(end)s AS in_year
                   FROM fund_ledger WHERE household_id = h.id) l ON true
               WHERE h.site_id = %(site)s
               GROUP BY h.id, h.building_id, u.name, h.room
               ORDER BY h.building_id, u.name, h.room""",
            {"site": site_id, "start": start, "end": end},
        )
        accounts = tuple(cur.fetchall())
    projects = tuple(
        sorted(
            (d for d in public_disclosures(conn, site_id) if d.completed_at and start <= d.completed_at < end),
            key=lambda d: (d.completed_at, d.draw_id),
        )
    )

    def total(attr: str) -> Decimal:
        return sum((getattr(a, attr) for a in accounts), ZERO)

    return AnnualStatement(
        site_id=site_id, year=year, period_start=start, period_end=end,
        opening=total("opening"), deposited=total("deposited"), interest=total("interest"), used=total("used"),
        refunded=total("refunded"), closing=total("closing"), projects=projects, accounts=accounts,
    )


def to_csv(statement: AnnualStatement) -> str:
    """The statement as CSV text in three sections (summary, projects with shares, accounts)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "site", "year"])
    writer.writerow(["summary", statement.site_id, statement.year])
    writer.writerow(["opening", "deposited", "interest", "used", "refunded", "closing"])
    writer.writerow([statement.opening, statement.deposited, statement.interest, statement.used,
                     statement.refunded, statement.closing])
    writer.writerow([])
    writer.writerow(["project", "draw", "work_order", "item", "contractor", "total", "cost_per_m2", "completed_at",
                     "building", "unit", "room", "area", "share"])
    for project in statement.projects:
        for share in project.shares:
            writer.writerow(["project", project.draw_id, project.work_order_number or "", project.item,
                             project.contractor, project.total, project.cost_per_m2,
                             project.completed_at.isoformat() if project.completed_at else "",
                             share.building_id, share.unit_name, share.room, share.area, share.share])
    writer.writerow([])
    writer.writerow(["account", "building", "unit", "room", "opening", "deposited", "interest", "used", "refunded",
                     "closing"])
    for account in statement.accounts:
        writer.writerow(["account", account.building_id, account.unit_name, account.room, account.opening,
                         account.deposited, account.interest, account.used, account.refunded, account.closing])
    return out.getvalue()
