"""The annual disclosure of fund management and shared-part income (notice clauses 8 and 17; Order 165 art. 30).

Generated for a site and calendar year (the estate's time zone) from the ledger (deposits, interest, draws,
refunds, balances, each home's account keyed by building/unit/room), the draws completed in the year with their
purpose (repairs, elevator insurance) and the shared-part records. The owners' committee, or the sub-district
office where there is none, reviews it (with a comment) and publishes it: ``draft`` → ``reviewed`` →
``published``. A published version is immutable (the database refuses changes); generating again makes a new
version, and the newest published version of a year is the one shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from dispatch.fund.errors import Immutable, InvalidState, NotFound, WrongApprover
from dispatch.fund.estate import get_site_settings
from dispatch.fund.insurance import site_policies
from dispatch.fund.shared_parts import shared_parts_summary
from dispatch.fund.statement import annual_statement
from ingest.registry import site_timezone

SOURCES = {
    "fund": "Order 165 art. 30: totals deposited, used, earned and remaining; projects and apportionment; each "
            "home's account [P-jbk30]; notice 2020 clause (17)",
    "shared_parts": "Civil Code art. 282 [P-uianet]; notice 2020 clause (8)",
    "insurance": "notice 2020 clause (16): elevator safety liability insurance from the fund",
}


@dataclass(frozen=True)
class AnnualDisclosure:
    """One version of a site's disclosure for one year and where it stands."""

    id: int
    site_id: str
    year: int
    version: int
    state: str
    content: dict[str, Any]
    generated_by: str
    generated_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str | None
    published_by: str | None
    published_at: datetime | None


COLUMNS = ("id, site_id, year, version, state, content, generated_by, generated_at, reviewed_by, reviewed_at, "
           "review_comment, published_by, published_at")


def _sql(text: str) -> sql.Composed:
    return sql.SQL(text).format(columns=sql.SQL(COLUMNS))


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def build_content(conn: psycopg.Connection, site_id: str, year: int) -> dict[str, Any]:
    """The figures of the year, JSON-ready (money as strings, times in the estate's zone with their offset)."""
    zone = site_timezone(conn, site_id)
    statement = annual_statement(conn, site_id, year)
    purposes = dict(conn.execute("SELECT id, purpose FROM fund_draws WHERE site_id = %s", (site_id,)).fetchall())
    policies = [(p, d) for p, d in site_policies(conn, site_id)
                if d.completed_at is not None and statement.period_start <= d.completed_at < statement.period_end]

    def local(at: datetime | None) -> str | None:
        return at.astimezone(zone).isoformat() if at else None

    return {
        "site_id": site_id, "year": year, "timezone": zone.key,
        "period_start": local(statement.period_start), "period_end": local(statement.period_end),
        "fund": {key: str(getattr(statement, key))
                 for key in ("opening", "deposited", "interest", "used", "refunded", "closing")}
        | {"households": len(statement.accounts)},
        "draws": [{"draw_id": p.draw_id, "purpose": purposes.get(p.draw_id, "repair"), "item": p.item,
                   "work_order_number": p.work_order_number, "contractor": p.contractor, "total": str(p.total),
                   "area_basis": p.area_basis, "cost_per_m2": str(p.cost_per_m2),
                   "completed_at": local(p.completed_at)} for p in statement.projects],
        "insurance": [{"draw_id": p.draw_id, "policy_number": p.policy_number, "insurer": p.insurer,
                       "period_start": p.period_start.isoformat(), "period_end": p.period_end.isoformat(),
                       "premium": str(p.premium), "elevators": list(p.elevators)} for p, _ in policies],
        "shared_parts": shared_parts_summary(conn, site_id, year).to_json(),
        "accounts": [{"building_id": a.building_id, "unit_name": a.unit_name, "room": a.room,
                      "opening": str(a.opening), "deposited": str(a.deposited), "interest": str(a.interest),
                      "used": str(a.used), "refunded": str(a.refunded), "closing": str(a.closing)}
                     for a in statement.accounts],
        "sources": SOURCES,
    }


def generate(conn: psycopg.Connection, site_id: str, year: int, *, actor: str,
             now: datetime | None = None) -> AnnualDisclosure:
    """Generate a new draft version of the year's disclosure from the ledger and the shared-part records."""
    now = _now(now)
    get_site_settings(conn, site_id)  # SiteNotConfigured before anything is written
    content = build_content(conn, site_id, year)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('fund_annual_disclosures'), hashtext(%s))",
                     (f"{site_id}/{year}",))  # versions of one site and year are numbered one at a time
        with conn.cursor(row_factory=class_row(AnnualDisclosure)) as cur:
            cur.execute(
                _sql("""INSERT INTO fund_annual_disclosures (site_id, year, version, state, content, generated_by,
                            generated_at)
                        SELECT %(site)s, %(year)s, coalesce(max(version), 0) + 1, 'draft', %(content)s, %(actor)s,
                            %(now)s
                        FROM fund_annual_disclosures WHERE site_id = %(site)s AND year = %(year)s
                        RETURNING {columns}"""),
                {"site": site_id, "year": year, "content": Jsonb(content), "actor": actor, "now": now},
            )
            disclosure = cur.fetchone()
    assert disclosure is not None
    return disclosure


def get(conn: psycopg.Connection, disclosure_id: int, *, lock: bool = False) -> AnnualDisclosure:
    """One version; ``NotFound`` if there is none."""
    with conn.cursor(row_factory=class_row(AnnualDisclosure)) as cur:
        cur.execute(sql.SQL("SELECT {columns} FROM fund_annual_disclosures WHERE id = %s {lock}").format(
            columns=sql.SQL(COLUMNS), lock=sql.SQL("FOR UPDATE" if lock else "")), (disclosure_id,))
        found = cur.fetchone()
    if found is None:
        raise NotFound(f"annual disclosure {disclosure_id} not found")
    return found


def list_versions(conn: psycopg.Connection, site_id: str, *, year: int | None = None) -> list[AnnualDisclosure]:
    """Every version of a site's disclosures (of one year), newest year and version first."""
    with conn.cursor(row_factory=class_row(AnnualDisclosure)) as cur:
        cur.execute(_sql("SELECT {columns} FROM fund_annual_disclosures WHERE site_id = %s"
                    " AND (%s::int IS NULL OR year = %s) ORDER BY year DESC, version DESC"),
                    (site_id, year, year))
        return cur.fetchall()


def _check_steward(conn: psycopg.Connection, disclosure: AnnualDisclosure, role: str) -> None:
    steward = get_site_settings(conn, disclosure.site_id).steward
    if role != steward:
        raise WrongApprover(f"the disclosures of site {disclosure.site_id} are reviewed and published by the "
                            f"{steward}, not the {role}")


def review(conn: psycopg.Connection, disclosure_id: int, *, actor: str, role: str, comment: str,
           now: datetime | None = None) -> AnnualDisclosure:
    """Record the steward's review of a draft with its comment; ``Immutable`` once published, ``InvalidState``
    when already reviewed."""
    now = _now(now)
    with conn.transaction():
        disclosure = get(conn, disclosure_id, lock=True)
        _check_steward(conn, disclosure, role)
        if disclosure.state == "published":
            raise Immutable(f"annual disclosure {disclosure_id} is published; generate a new version to change it")
        if disclosure.state != "draft":
            raise InvalidState(f"annual disclosure {disclosure_id} is already reviewed")
        conn.execute("""UPDATE fund_annual_disclosures SET state = 'reviewed', reviewed_by = %s, reviewed_at = %s,
                            review_comment = %s WHERE id = %s""", (actor, now, comment, disclosure_id))
    return get(conn, disclosure_id)


def publish(conn: psycopg.Connection, disclosure_id: int, *, actor: str, role: str,
            now: datetime | None = None) -> AnnualDisclosure:
    """Publish a reviewed version to the estate's owners and the public board; publishing again returns it."""
    now = _now(now)
    with conn.transaction():
        disclosure = get(conn, disclosure_id, lock=True)
        _check_steward(conn, disclosure, role)
        if disclosure.state == "published":
            return disclosure
        if disclosure.state != "reviewed":
            raise InvalidState(f"annual disclosure {disclosure_id} must be reviewed before it is published")
        conn.execute("""UPDATE fund_annual_disclosures SET state = 'published', published_by = %s,
                            published_at = %s WHERE id = %s""", (actor, now, disclosure_id))
    return get(conn, disclosure_id)


def published_disclosures(conn: psycopg.Connection, site_id: str) -> list[AnnualDisclosure]:
    """The newest published version of each year of a site, newest year first. Names no owner; safe for the
    public board."""
    with conn.cursor(row_factory=class_row(AnnualDisclosure)) as cur:
        cur.execute(_sql("""SELECT DISTINCT ON (year) {columns} FROM fund_annual_disclosures
                            WHERE site_id = %s AND state = 'published' ORDER BY year DESC, version DESC"""),
                    (site_id,))
        return cur.fetchall()
