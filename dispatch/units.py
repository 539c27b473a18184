"""Responsible units: the property team, maintainers, utilities, the sub-district office … (crew: ``dispatch.crew``)."""

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
