"""Sub-district inspections (日常检查) of the estates property companies serve, and the sub-district's monthly
opinion (评价意见) of each company."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ingest.registry import site_timezone
from supervision.companies import get_company
from supervision.errors import Invalid, NotFound
from supervision.model import opinion_ratings

RESULTS: tuple[str, ...] = ("pass", "fail")


class InspectionNotFound(NotFound):
    """No inspection has this id."""


class InvalidInspection(Invalid):
    """An inspection without items, with an unknown result or a score outside 0-100, or of a company that does
    not serve the estate that day."""


class InvalidOpinion(Invalid):
    """An opinion with a rating the model does not know."""


@dataclass(frozen=True)
class InspectionItem:
    """One thing checked and what was found."""

    item: str
    result: str
    remarks: str = ""


@dataclass(frozen=True)
class Inspection:
    """An inspection of a company's service at an estate on a day: the items checked and the overall score."""

    id: int
    site_id: str
    company_id: int
    inspected_on: date
    inspector_id: int
    inspector: str
    items: list[InspectionItem]
    score: Decimal
    created_at: datetime


@dataclass(frozen=True)
class Opinion:
    """The sub-district's opinion of a company for one month (``month`` is its first day)."""

    company_id: int
    month: date
    rating: str
    text: str
    author: str
    updated_at: datetime


_COLUMNS = "id, site_id, company_id, inspected_on, inspector_id, inspector, items, score, created_at"


def record_inspection(
    conn: psycopg.Connection,
    *,
    site_id: str,
    company_id: int | None,
    inspected_on: date,
    inspector_id: int,
    inspector: str,
    items: Sequence[InspectionItem],
    score: Decimal,
    now: datetime | None = None,
) -> Inspection:
    """Record an inspection of ``company_id``'s service at ``site_id`` (``None``: the company serving the site
    that day). The company must serve the site under a project on that day, and the day must have come in the
    estate's time zone (``InvalidInspection`` otherwise)."""
    if company_id is None:
        company_id = _serving(conn, site_id, inspected_on)
    get_company(conn, company_id)
    if not items:
        raise InvalidInspection("an inspection lists the items checked")
    wrong = sorted({i.result for i in items if i.result not in RESULTS})
    if wrong:
        raise InvalidInspection(f"an item's result is pass or fail, not {', '.join(wrong)}")
    if any(not i.item.strip() for i in items):
        raise InvalidInspection("every item names what was checked")
    if not Decimal(0) <= score <= Decimal(100):
        raise InvalidInspection("the overall score lies between 0 and 100")
    served = conn.execute(
        """SELECT 1 FROM supervision_projects WHERE site_id = %s AND company_id = %s
           AND %s BETWEEN starts_on AND ends_on""", (site_id, company_id, inspected_on)).fetchone()
    if served is None:
        raise InvalidInspection(f"company {company_id} does not serve {site_id} on {inspected_on.isoformat()}")
    today = (now or datetime.now(UTC)).astimezone(site_timezone(conn, site_id)).date()
    if inspected_on > today:
        raise InvalidInspection(f"{inspected_on.isoformat()} is after today ({today.isoformat()}) at {site_id}")
    payload = [{"item": i.item.strip(), "result": i.result, "remarks": i.remarks.strip()} for i in items]
    row = conn.execute(
        """INSERT INTO supervision_inspections (site_id, company_id, inspected_on, inspector_id, inspector, items,
                  score) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (site_id, company_id, inspected_on, inspector_id, inspector, Jsonb(payload), score),
    ).fetchone()
    return get_inspection(conn, row[0])


def _serving(conn: psycopg.Connection, site_id: str, day: date) -> int:
    row = conn.execute("SELECT company_id FROM supervision_projects WHERE site_id = %s AND %s BETWEEN starts_on "
                       "AND ends_on", (site_id, day)).fetchone()
    if row is None:
        raise InvalidInspection(f"no company serves {site_id} on {day.isoformat()}")
    return row[0]


def get_inspection(conn: psycopg.Connection, inspection_id: int) -> Inspection:
    """An inspection by id; raises ``InspectionNotFound``."""
    found = _select(conn, "id = %(id)s", {"id": inspection_id})
    if not found:
        raise InspectionNotFound(f"inspection {inspection_id} does not exist")
    return found[0]


def list_inspections(conn: psycopg.Connection, *, sites: Sequence[str] | None, company_id: int | None = None,
                     limit: int = 100, offset: int = 0) -> list[Inspection]:
    """Inspections newest first, of the given sites (all when ``None``) and company."""
    return _select(conn, """(%(sites)s::text[] IS NULL OR site_id = ANY (%(sites)s))
                            AND (%(company)s::bigint IS NULL OR company_id = %(company)s)""",
                   {"sites": None if sites is None else list(sites), "company": company_id}, limit, offset)


def inspection_scores(conn: psycopg.Connection, company_id: int, start: date, end: date) -> list[Decimal]:
    """The overall scores of a company's inspections on days in ``[start, end)``."""
    return [row[0] for row in conn.execute(
        """SELECT score FROM supervision_inspections WHERE company_id = %s AND inspected_on >= %s
           AND inspected_on < %s ORDER BY id""", (company_id, start, end))]


def set_opinion(conn: psycopg.Connection, *, company_id: int, month: date, rating: str, text: str, author: str,
                now: datetime | None = None) -> Opinion:
    """Record (or replace) the sub-district's opinion of a company for the month starting on ``month``."""
    get_company(conn, company_id)
    if rating not in opinion_ratings():
        raise InvalidOpinion(f"rating must be one of {', '.join(opinion_ratings())}, not {rating!r}")
    with conn.cursor(row_factory=class_row(Opinion)) as cur:
        return cur.execute(
            """INSERT INTO supervision_opinions (company_id, month, rating, text, author, updated_at)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (company_id, month) DO UPDATE SET rating = excluded.rating, text = excluded.text,
                   author = excluded.author, updated_at = excluded.updated_at
               RETURNING company_id, month, rating, text, author, updated_at""",
            (company_id, month.replace(day=1), rating, text.strip(), author, now or datetime.now(UTC)),
        ).fetchone()


def get_opinion(conn: psycopg.Connection, company_id: int, month: date) -> Opinion | None:
    """The opinion of a company for a month, or ``None``."""
    with conn.cursor(row_factory=class_row(Opinion)) as cur:
        return cur.execute(
            """SELECT company_id, month, rating, text, author, updated_at FROM supervision_opinions
               WHERE company_id = %s AND month = %s""", (company_id, month.replace(day=1))).fetchone()


def list_opinions(conn: psycopg.Connection, company_id: int) -> list[Opinion]:
    """A company's opinions, latest month first."""
    with conn.cursor(row_factory=class_row(Opinion)) as cur:
        return cur.execute(
            """SELECT company_id, month, rating, text, author, updated_at FROM supervision_opinions
               WHERE company_id = %s ORDER BY month DESC""", (company_id,)).fetchall()


def _select(conn: psycopg.Connection, where: str, params: dict, limit: int = 100, offset: int = 0
            ) -> list[Inspection]:
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM supervision_inspections WHERE {where}
            ORDER BY inspected_on DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s""",  # noqa: S608 - constant
        {**params, "limit": limit, "offset": offset},
    ).fetchall()
    return [Inspection(*row[:6], [InspectionItem(**i) for i in row[6]], *row[7:]) for row in rows]
