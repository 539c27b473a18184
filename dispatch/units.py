"""Responsible units (property team, maintainers, utilities, sub-district office …) and their crew members."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class Unit:
    """An organisation that can be made responsible for an item of the responsibility list.

    ``site_ids`` empty means the unit serves every site. ``contacts`` holds organisational contacts
    (duty phone, webhook, WeChat group), never a person's data.
    """

    id: str
    kind: str
    name: str
    name_en: str | None = None
    site_ids: list[str] = field(default_factory=list)
    contacts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CrewMember:
    """A person of a unit who can accept work orders. ``skills`` are component names (``elevator``, …)."""

    id: str
    unit_id: str
    name: str
    phone: str
    skills: list[str]
    on_shift: bool


def upsert_unit(conn: psycopg.Connection, unit: Unit, *, actor: str | None = None) -> None:
    """Create or update a unit; ``actor`` (who made the change) is kept in ``updated_by``."""
    conn.execute(
        """INSERT INTO dispatch_units (id, kind, name, name_en, site_ids, contacts, updated_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, name_en = excluded.name_en,
               site_ids = excluded.site_ids, contacts = excluded.contacts, updated_by = excluded.updated_by,
               updated_at = now()""",
        (unit.id, unit.kind, unit.name, unit.name_en, list(unit.site_ids), Jsonb(unit.contacts), actor),
    )


def upsert_crew_member(conn: psycopg.Connection, member: CrewMember, *, actor: str | None = None) -> None:
    """Create or update a crew member (shift status and skills included); ``actor`` is kept in ``updated_by``."""
    conn.execute(
        """INSERT INTO dispatch_crew (id, unit_id, name, phone, skills, on_shift, updated_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET unit_id = excluded.unit_id, name = excluded.name, phone = excluded.phone,
               skills = excluded.skills, on_shift = excluded.on_shift, updated_by = excluded.updated_by,
               updated_at = now()""",
        (member.id, member.unit_id, member.name, member.phone, list(member.skills), member.on_shift, actor),
    )


def set_on_shift(conn: psycopg.Connection, crew_member_id: str, on_shift: bool, *, actor: str) -> None:
    """Start or end a crew member's shift, recording who did it."""
    conn.execute(
        "UPDATE dispatch_crew SET on_shift = %s, updated_by = %s, updated_at = now() WHERE id = %s",
        (on_shift, actor, crew_member_id),
    )


def list_units(conn: psycopg.Connection, site_id: str | None = None) -> list[Unit]:
    """All units, or those serving ``site_id`` (including units that serve every site), ordered by id."""
    with conn.cursor(row_factory=class_row(Unit)) as cur:
        cur.execute(
            """SELECT id, kind, name, name_en, site_ids, contacts FROM dispatch_units
               WHERE %(site)s::text IS NULL OR site_ids = '{}' OR %(site)s = ANY (site_ids) ORDER BY id""",
            {"site": site_id},
        )
        return cur.fetchall()


def get_unit(conn: psycopg.Connection, unit_id: str) -> Unit | None:
    """One unit by id, or ``None``."""
    with conn.cursor(row_factory=class_row(Unit)) as cur:
        cur.execute("SELECT id, kind, name, name_en, site_ids, contacts FROM dispatch_units WHERE id = %s", (unit_id,))
        return cur.fetchone()


def list_crew(conn: psycopg.Connection, unit_id: str) -> list[CrewMember]:
    """The crew of one unit, ordered by id."""
    with conn.cursor(row_factory=class_row(CrewMember)) as cur:
        cur.execute(
            "SELECT id, unit_id, name, phone, skills, on_shift FROM dispatch_crew WHERE unit_id = %s ORDER BY id",
            (unit_id,),
        )
        return cur.fetchall()
