"""Property companies: who they are (name, unified social credit code, contacts) and which estates they serve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from supervision.credit_code import validate_credit_code
from supervision.errors import Conflict, Invalid, NotFound


class CompanyNotFound(NotFound):
    """No company has this id."""


class CompanyInUse(Conflict):
    """The company has projects (or records about it) and cannot be deleted."""


class DuplicateCreditCode(Conflict):
    """Another company already has this credit code."""

    field = "credit_code"


@dataclass(frozen=True)
class Company:
    """A property company (物业服务企业)."""

    id: int
    name: str
    credit_code: str
    phone: str
    address: str
    created_at: datetime
    updated_at: datetime


_COLUMNS = "id, name, credit_code, phone, address, created_at, updated_at"


def _clean_name(name: str) -> str:
    if not name.strip():
        raise Invalid("a company needs its name")
    return name.strip()


def create_company(conn: psycopg.Connection, *, name: str, credit_code: str, phone: str = "", address: str = ""
                   ) -> Company:
    """Register a company; raises ``InvalidCreditCode`` and ``DuplicateCreditCode``."""
    code = validate_credit_code(credit_code)
    _refuse_duplicate(conn, code, None)
    with conn.cursor(row_factory=class_row(Company)) as cur:
        return cur.execute(
            f"""INSERT INTO supervision_companies (name, credit_code, phone, address) VALUES (%s, %s, %s, %s)
                RETURNING {_COLUMNS}""",  # noqa: S608 - constant
            (_clean_name(name), code, phone.strip(), address.strip()),
        ).fetchone()


def update_company(conn: psycopg.Connection, company_id: int, *, name: str | None = None,
                   credit_code: str | None = None, phone: str | None = None, address: str | None = None
                   ) -> Company:
    """Change the fields given; raises ``CompanyNotFound``, ``InvalidCreditCode`` and ``DuplicateCreditCode``."""
    current = get_company(conn, company_id)
    code = validate_credit_code(credit_code) if credit_code is not None else current.credit_code
    _refuse_duplicate(conn, code, company_id)
    with conn.cursor(row_factory=class_row(Company)) as cur:
        return cur.execute(
            f"""UPDATE supervision_companies SET name = %s, credit_code = %s, phone = %s, address = %s,
                       updated_at = now() WHERE id = %s RETURNING {_COLUMNS}""",  # noqa: S608 - constant
            (_clean_name(name) if name is not None else current.name, code,
             phone.strip() if phone is not None else current.phone,
             address.strip() if address is not None else current.address, company_id),
        ).fetchone()


def delete_company(conn: psycopg.Connection, company_id: int) -> None:
    """Remove a company nothing refers to yet; raises ``CompanyNotFound`` and ``CompanyInUse``."""
    get_company(conn, company_id)
    used = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM supervision_projects WHERE company_id = %(id)s)
                  OR EXISTS (SELECT 1 FROM supervision_inspections WHERE company_id = %(id)s)
                  OR EXISTS (SELECT 1 FROM supervision_list_entries WHERE company_id = %(id)s)
                  OR EXISTS (SELECT 1 FROM supervision_opinions WHERE company_id = %(id)s)
                  OR EXISTS (SELECT 1 FROM supervision_credit_months WHERE company_id = %(id)s)""",
        {"id": company_id},
    ).fetchone()[0]
    if used:
        raise CompanyInUse(f"company {company_id} has projects or supervision records; end its contracts instead")
    conn.execute("DELETE FROM supervision_companies WHERE id = %s", (company_id,))


def get_company(conn: psycopg.Connection, company_id: int) -> Company:
    """A company by id; raises ``CompanyNotFound``."""
    with conn.cursor(row_factory=class_row(Company)) as cur:
        found = cur.execute(f"SELECT {_COLUMNS} FROM supervision_companies WHERE id = %s",  # noqa: S608
                            (company_id,)).fetchone()
    if found is None:
        raise CompanyNotFound(f"company {company_id} does not exist")
    return found


def list_companies(conn: psycopg.Connection, *, sites: Sequence[str] | None) -> list[Company]:
    """Companies by name; with ``sites``, those that serve or served one of them under a project."""
    with conn.cursor(row_factory=class_row(Company)) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM supervision_companies c
                WHERE %(sites)s::text[] IS NULL OR EXISTS (
                    SELECT 1 FROM supervision_projects p WHERE p.company_id = c.id AND p.site_id = ANY (%(sites)s))
                ORDER BY name, id""",  # noqa: S608 - constant
            {"sites": None if sites is None else list(sites)},
        ).fetchall()


def company_sites(conn: psycopg.Connection, company_id: int) -> list[str]:
    """The sites a company serves or served under a project: the scope it is seen in."""
    return [row[0] for row in conn.execute(
        "SELECT DISTINCT site_id FROM supervision_projects WHERE company_id = %s ORDER BY site_id", (company_id,))]


def _refuse_duplicate(conn: psycopg.Connection, code: str, company_id: int | None) -> None:
    other = conn.execute("SELECT id FROM supervision_companies WHERE credit_code = %s AND id IS DISTINCT FROM %s",
                         (code, company_id)).fetchone()
    if other is not None:
        raise DuplicateCreditCode(f"company {other[0]} already has credit code {code}")
