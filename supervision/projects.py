"""Projects: a company serving an estate under a contract (period, service level, fee standard, project manager).

A site has at most one project on any day (a database exclusion constraint on the contract periods), so work
orders, KPIs and complaints at a site belong to the company whose project covers the day they happened
(``company_at``). Contract days are the estate's local dates, both ends included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from ingest.registry import get_site, site_timezone
from supervision.companies import Company, get_company
from supervision.credit import latest_credit
from supervision.errors import Conflict, Invalid, NotFound
from supervision.lists import ListEntry, entries_in_effect


class ProjectNotFound(NotFound):
    """No project has this id."""


class ContractOverlap(Conflict):
    """Another project covers some of these days at the same site."""


class InvalidProject(Invalid):
    """An unknown site, a period ending before it starts, a negative fee or one finer than a cent, no manager."""


@dataclass(frozen=True)
class Project:
    """A company's contract for an estate: the period (local dates, both included), service level, fee standard
    in yuan per m² per month, and the project manager."""

    id: int
    company_id: int
    site_id: str
    starts_on: date
    ends_on: date
    service_level: str
    fee_per_m2_month: Decimal
    manager_name: str
    manager_phone: str
    created_at: datetime


@dataclass(frozen=True)
class ProjectView:
    """What the board and the control room show of the project serving a site: the company and its contacts,
    the contract, the project manager, the company's latest credit, and the red and black list entries in
    effect (``blacklisted``/``redlisted`` flag them)."""

    project_id: int
    site_id: str
    company_id: int
    company_name: str
    credit_code: str
    company_phone: str
    company_address: str
    manager_name: str
    manager_phone: str
    starts_on: date
    ends_on: date
    service_level: str
    fee_per_m2_month: Decimal
    stars: int | None
    credit_score: Decimal | None
    credit_month: date | None
    list_entries: list[ListEntry]
    blacklisted: bool
    redlisted: bool


_COLUMNS = """id, company_id, site_id, starts_on, ends_on, service_level, fee_per_m2_month, manager_name,
              manager_phone, created_at"""


def create_project(
    conn: psycopg.Connection,
    *,
    company_id: int,
    site_id: str,
    starts_on: date,
    ends_on: date,
    service_level: str,
    fee_per_m2_month: Decimal,
    manager_name: str,
    manager_phone: str,
) -> Project:
    """Record a contract. Raises ``CompanyNotFound``, ``InvalidProject`` and ``ContractOverlap``."""
    get_company(conn, company_id)
    if get_site(conn, site_id) is None:
        raise InvalidProject(f"site {site_id} does not exist")
    _check(starts_on, ends_on, fee_per_m2_month, manager_name)
    return _write(conn, f"""INSERT INTO supervision_projects (company_id, site_id, starts_on, ends_on, service_level,
                                   fee_per_m2_month, manager_name, manager_phone)
                            VALUES (%(company)s, %(site)s, %(starts)s, %(ends)s, %(level)s, %(fee)s, %(manager)s,
                                    %(phone)s) RETURNING {_COLUMNS}""",  # noqa: S608 - constant
                  {"company": company_id, "site": site_id, "starts": starts_on, "ends": ends_on,
                   "level": service_level.strip(), "fee": fee_per_m2_month, "manager": manager_name.strip(),
                   "phone": manager_phone.strip()})


def update_project(
    conn: psycopg.Connection,
    project_id: int,
    *,
    starts_on: date | None = None,
    ends_on: date | None = None,
    service_level: str | None = None,
    fee_per_m2_month: Decimal | None = None,
    manager_name: str | None = None,
    manager_phone: str | None = None,
) -> Project:
    """Change the fields given (ending a contract early, a new manager). Raises ``ProjectNotFound``,
    ``InvalidProject`` and ``ContractOverlap``."""
    p = get_project(conn, project_id)
    values = {"id": project_id, "starts": starts_on or p.starts_on, "ends": ends_on or p.ends_on,
              "level": (service_level if service_level is not None else p.service_level).strip(),
              "fee": fee_per_m2_month if fee_per_m2_month is not None else p.fee_per_m2_month,
              "manager": (manager_name if manager_name is not None else p.manager_name).strip(),
              "phone": (manager_phone if manager_phone is not None else p.manager_phone).strip()}
    _check(values["starts"], values["ends"], values["fee"], values["manager"])
    return _write(conn, f"""UPDATE supervision_projects SET starts_on = %(starts)s, ends_on = %(ends)s,
                                   service_level = %(level)s, fee_per_m2_month = %(fee)s, manager_name = %(manager)s,
                                   manager_phone = %(phone)s WHERE id = %(id)s RETURNING {_COLUMNS}""",  # noqa: S608 - constant
                  values)


def get_project(conn: psycopg.Connection, project_id: int) -> Project:
    """A project by id; raises ``ProjectNotFound``."""
    with conn.cursor(row_factory=class_row(Project)) as cur:
        found = cur.execute(f"SELECT {_COLUMNS} FROM supervision_projects WHERE id = %s",  # noqa: S608
                            (project_id,)).fetchone()
    if found is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    return found


def list_projects(conn: psycopg.Connection, *, sites: Sequence[str] | None, company_id: int | None = None
                  ) -> list[Project]:
    """Projects of the given sites (all when ``None``) and company, latest contract first."""
    with conn.cursor(row_factory=class_row(Project)) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM supervision_projects
                WHERE (%(sites)s::text[] IS NULL OR site_id = ANY (%(sites)s))
                  AND (%(company)s::bigint IS NULL OR company_id = %(company)s)
                ORDER BY starts_on DESC, id DESC""",  # noqa: S608 - constant
            {"sites": None if sites is None else list(sites), "company": company_id},
        ).fetchall()


def project_at(conn: psycopg.Connection, site_id: str, at: datetime | None = None) -> Project | None:
    """The project covering the site's local day of ``at`` (default: now), or ``None``."""
    day = (at or datetime.now(UTC)).astimezone(site_timezone(conn, site_id)).date()
    with conn.cursor(row_factory=class_row(Project)) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM supervision_projects
                WHERE site_id = %s AND %s BETWEEN starts_on AND ends_on""",  # noqa: S608 - constant
            (site_id, day),
        ).fetchone()


def company_at(conn: psycopg.Connection, site_id: str, at: datetime) -> Company | None:
    """The company serving ``site_id`` at ``at`` under a project, or ``None``: whom a work order, a KPI or a
    complaint of that site and moment is attributed to."""
    project = project_at(conn, site_id, at)
    return get_company(conn, project.company_id) if project else None


def current_project(conn: psycopg.Connection, site_id: str, at: datetime | None = None) -> ProjectView | None:
    """The project serving ``site_id`` at ``at`` (default: now) as the board shows it, or ``None``."""
    moment = at or datetime.now(UTC)
    project = project_at(conn, site_id, moment)
    if project is None:
        return None
    company = get_company(conn, project.company_id)
    credit = latest_credit(conn, company.id, now=moment)
    entries = entries_in_effect(conn, company.id, moment)
    return ProjectView(
        project_id=project.id, site_id=site_id, company_id=company.id, company_name=company.name,
        credit_code=company.credit_code, company_phone=company.phone, company_address=company.address,
        manager_name=project.manager_name, manager_phone=project.manager_phone, starts_on=project.starts_on,
        ends_on=project.ends_on, service_level=project.service_level, fee_per_m2_month=project.fee_per_m2_month,
        stars=credit.stars if credit else None, credit_score=credit.score if credit else None,
        credit_month=credit.month if credit else None, list_entries=entries,
        blacklisted=any(e.list == "black" for e in entries), redlisted=any(e.list == "red" for e in entries))


def _check(starts_on: date, ends_on: date, fee: Decimal, manager_name: str) -> None:
    if ends_on < starts_on:
        raise InvalidProject("the contract ends before it starts")
    if fee < 0 or fee != fee.quantize(Decimal("0.01")):
        raise InvalidProject("the fee standard is a non-negative amount in yuan with at most two decimals")
    if not manager_name.strip():
        raise InvalidProject("a project names its manager")


def _write(conn: psycopg.Connection, query: str, params: dict) -> Project:
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(Project)) as cur:
            found = cur.execute(query, params).fetchone()
    except psycopg.errors.ExclusionViolation:
        raise ContractOverlap(f"another project covers some of {params['starts']} to {params['ends']} at this "
                              "site") from None
    if found is None:
        raise ProjectNotFound(f"project {params['id']} does not exist")
    return found
