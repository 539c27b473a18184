"""Crew members: who can take work orders, with which skills, at which estates, when they are on duty.

A member belongs to one unit. ``site_ids`` are the estates the member covers; empty means the unit's estates
(and a unit with no estates serves every site). A member is **available** at a moment when active and either
clocked in by hand (``on_shift``, e.g. called out at night) or inside one of the weekly ``shifts`` of their time
zone. ``candidates`` ranks the members an order can be offered to: unit → skill → shift → site → load.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from dispatch.errors import CrewExists, CrewNotFound, InvalidCrew
from dispatch.places import check_place
from dispatch.shifts import Shift, check_timezone, in_schedule, parse_shifts
from dispatch.states import OPEN_STATES
from dispatch.units import Unit, get_unit

ANY_SKILL = "any"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_OPEN = [s.value for s in OPEN_STATES]
_COLUMNS = sql.SQL("c.id, c.unit_id, c.name, c.phone, c.skills, c.on_shift, c.site_ids, c.shifts, c.timezone, c.active")


@dataclass(frozen=True)
class CrewMember:
    """A person of a unit who can accept work orders. ``skills`` are component names (``elevator``, …) or
    duties (``patrol``, …) that list items ask for; ``shifts`` is the weekly schedule in ``timezone``."""

    id: str
    unit_id: str
    name: str
    phone: str
    skills: list[str]
    on_shift: bool
    site_ids: list[str] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)
    timezone: str = "Asia/Shanghai"
    active: bool = True

    def available(self, at: datetime) -> bool:
        """Active and clocked in or inside a scheduled shift at ``at``."""
        return self.active and (self.on_shift or in_schedule(self.shifts, self.timezone, at))


@dataclass(frozen=True)
class CrewChanges:
    """A partial update of a crew member: ``None`` leaves a field as it is."""

    unit_id: str | None = None
    name: str | None = None
    phone: str | None = None
    skills: list[str] | None = None
    on_shift: bool | None = None
    site_ids: list[str] | None = None
    shifts: list[dict[str, Any]] | None = None
    timezone: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class Candidate:
    """A member an order could be offered to, with the open orders already assigned to them."""

    member: CrewMember
    open_orders: int


def _member(row: dict[str, Any]) -> CrewMember:
    return CrewMember(
        id=row["id"], unit_id=row["unit_id"], name=row["name"], phone=row["phone"], skills=list(row["skills"]),
        on_shift=row["on_shift"], site_ids=list(row["site_ids"]), shifts=parse_shifts(row["shifts"]),
        timezone=row["timezone"], active=row["active"],
    )


def upsert_crew_member(conn: psycopg.Connection, member: CrewMember, *, actor: str | None = None) -> None:
    """Create or update a crew member as given, unchecked (seeding and fixtures); ``actor`` goes to
    ``updated_by``. People registering crew use ``register_crew_member``, which checks the record."""
    conn.execute(
        """INSERT INTO dispatch_crew (id, unit_id, name, phone, skills, on_shift, site_ids, shifts, timezone, active,
                                      updated_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET unit_id = excluded.unit_id, name = excluded.name, phone = excluded.phone,
               skills = excluded.skills, on_shift = excluded.on_shift, site_ids = excluded.site_ids,
               shifts = excluded.shifts, timezone = excluded.timezone, active = excluded.active,
               updated_by = excluded.updated_by, updated_at = now()""",
        (member.id, member.unit_id, member.name, member.phone, list(member.skills), member.on_shift,
         list(member.site_ids), Jsonb([s.to_json() for s in member.shifts]), member.timezone, member.active, actor),
    )


def set_on_shift(conn: psycopg.Connection, crew_member_id: str, on_shift: bool, *, actor: str) -> None:
    """Clock a crew member in or out by hand, recording who did it."""
    conn.execute(
        "UPDATE dispatch_crew SET on_shift = %s, updated_by = %s, updated_at = now() WHERE id = %s",
        (on_shift, actor, crew_member_id),
    )


def get_crew_member(conn: psycopg.Connection, crew_member_id: str) -> CrewMember | None:
    """One member by id, or ``None``."""
    with conn.cursor(row_factory=dict_row) as cur:
        query = sql.SQL("SELECT {} FROM dispatch_crew c WHERE c.id = %s").format(_COLUMNS)
        row = cur.execute(query, (crew_member_id,)).fetchone()
    return _member(row) if row else None


def list_crew(conn: psycopg.Connection, unit_id: str) -> list[CrewMember]:
    """The crew of one unit, ordered by id."""
    with conn.cursor(row_factory=dict_row) as cur:
        query = sql.SQL("SELECT {} FROM dispatch_crew c WHERE c.unit_id = %s ORDER BY c.id").format(_COLUMNS)
        rows = cur.execute(query, (unit_id,)).fetchall()
    return [_member(row) for row in rows]


# The estates a member covers (``covers.sites``): their own list, else their unit's; empty = every site.
_FROM = sql.SQL("""FROM dispatch_crew c JOIN dispatch_units u ON u.id = c.unit_id,
     LATERAL (SELECT CASE WHEN cardinality(c.site_ids) > 0 THEN c.site_ids ELSE u.site_ids END AS sites) covers""")
_PAGE_FILTERS = sql.SQL("""(%(sites)s::text[] IS NULL OR cardinality(covers.sites) = 0 OR covers.sites && %(sites)s)
   AND (%(unit)s::text IS NULL OR c.unit_id = %(unit)s)
   AND (%(active)s::boolean IS NULL OR c.active = %(active)s)
   AND (%(skill)s::text IS NULL OR %(skill)s = ANY (c.skills))""")


def page_crew(
    conn: psycopg.Connection,
    *,
    sites: Sequence[str] | None,
    unit_id: str | None = None,
    active: bool | None = None,
    skill: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[CrewMember], int]:
    """One page of the members matching every filter, by id, and how many match in all.

    ``sites`` keeps the members covering at least one of them (members covering every site included);
    ``None`` means no site filter, an empty sequence matches only members covering every site.
    """
    params = {"sites": None if sites is None else list(sites), "unit": unit_id, "active": active, "skill": skill}
    total = conn.execute(sql.SQL("SELECT count(*) {} WHERE {}").format(_FROM, _PAGE_FILTERS), params).fetchone()[0]
    query = sql.SQL("SELECT {} {} WHERE {} ORDER BY c.id LIMIT %(limit)s OFFSET %(offset)s").format(
        _COLUMNS, _FROM, _PAGE_FILTERS)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, {**params, "limit": limit, "offset": offset}).fetchall()
    return [_member(row) for row in rows], total


def covered_sites(conn: psycopg.Connection, member: CrewMember) -> list[str]:
    """The estates ``member`` covers (empty = every site)."""
    if member.site_ids:
        return list(member.site_ids)
    unit = get_unit(conn, member.unit_id)
    return list(unit.site_ids) if unit else []


def covers(conn: psycopg.Connection, member: CrewMember, site_id: str) -> bool:
    """Whether ``member`` works at ``site_id``."""
    sites = covered_sites(conn, member)
    return not sites or site_id in sites


def candidates(
    conn: psycopg.Connection, *, unit_id: str, skill: str, site_id: str, at: datetime,
    exclude: Sequence[str] = (),
) -> list[Candidate]:
    """The members an order of ``unit_id`` needing ``skill`` at ``site_id`` can be offered to at ``at``, best
    first: of the unit, with the skill, on shift, covering the estate, the least open work first (ties by id)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            sql.SQL("""SELECT {columns},
                       (SELECT count(*) FROM work_orders w
                        WHERE w.assignee_id = c.id AND w.state = ANY (%(open)s)) AS open_orders
                {source}
                WHERE c.unit_id = %(unit)s AND c.active
                  AND (%(skill)s = %(any)s OR %(skill)s = ANY (c.skills))
                  AND (cardinality(covers.sites) = 0 OR %(site)s = ANY (covers.sites))
                  AND NOT (c.id = ANY (%(exclude)s))
                ORDER BY open_orders, c.id""").format(columns=_COLUMNS, source=_FROM),
            {"unit": unit_id, "skill": skill, "any": ANY_SKILL, "site": site_id, "exclude": list(exclude),
             "open": _OPEN},
        ).fetchall()
    found = [Candidate(_member(row), row["open_orders"]) for row in rows]
    return [c for c in found if c.member.available(at)]


def register_crew_member(conn: psycopg.Connection, member: CrewMember, *, actor: str) -> CrewMember:
    """Register a new crew member after checking unit, estates, skills, shifts and time zone.

    Raises ``CrewExists`` when the id is taken and ``InvalidCrew`` (or ``UnknownPlace`` for an estate that does
    not exist) when the record breaks a rule.
    """
    with conn.transaction():
        _check(conn, member)
        inserted = conn.execute(
            """INSERT INTO dispatch_crew (id, unit_id, name, phone, skills, on_shift, site_ids, shifts, timezone,
                                          active, updated_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING""",
            (member.id, member.unit_id, member.name, member.phone, list(member.skills), member.on_shift,
             list(member.site_ids), Jsonb([s.to_json() for s in member.shifts]), member.timezone, member.active,
             actor),
        ).rowcount
        if not inserted:
            raise CrewExists(f"crew member {member.id!r} already exists")
    return member


def update_crew_member(
    conn: psycopg.Connection, crew_member_id: str, changes: CrewChanges, *, actor: str
) -> CrewMember:
    """Apply ``changes`` to a member, checked like a registration; raises ``CrewNotFound``."""
    with conn.transaction():
        current = get_crew_member(conn, crew_member_id)
        if current is None:
            raise CrewNotFound(f"crew member {crew_member_id!r} does not exist")
        given = {k: v for k, v in vars(changes).items() if v is not None}
        if "shifts" in given:
            given["shifts"] = _shifts(given["shifts"])
        updated = replace(current, **given)
        _check(conn, updated)
        upsert_crew_member(conn, updated, actor=actor)
    return updated


def new_member(
    *, id: str, unit_id: str, name: str, phone: str = "", skills: Sequence[str] = (), on_shift: bool = False,
    site_ids: Sequence[str] = (), shifts: Sequence[dict[str, Any]] = (), timezone: str = "Asia/Shanghai",
    active: bool = True,
) -> CrewMember:
    """A member from its JSON-shaped fields (shifts as ``{"days", "start", "end"}``); raises ``InvalidCrew``."""
    return CrewMember(id=id, unit_id=unit_id, name=name, phone=phone, skills=list(skills), on_shift=on_shift,
                      site_ids=list(site_ids), shifts=_shifts(shifts), timezone=timezone, active=active)


def _shifts(raw: Sequence[dict[str, Any]]) -> list[Shift]:
    try:
        return parse_shifts(raw)
    except ValueError as exc:
        raise InvalidCrew(str(exc)) from None


def _check(conn: psycopg.Connection, member: CrewMember) -> Unit:
    if not _ID.match(member.id):
        raise InvalidCrew(f"crew id {member.id!r}: letters, digits, '.', '_' and '-', at most 64 characters")
    if not member.name.strip():
        raise InvalidCrew("a crew member needs a name")
    if not member.skills or any(not s.strip() for s in member.skills):
        raise InvalidCrew("a crew member needs at least one skill (e.g. elevator, patrol)")
    try:
        check_timezone(member.timezone)
    except ValueError as exc:
        raise InvalidCrew(str(exc)) from None
    unit = get_unit(conn, member.unit_id)
    if unit is None:
        raise InvalidCrew(f"unit {member.unit_id!r} does not exist")
    for site_id in member.site_ids:
        check_place(conn, site_id)
        if unit.site_ids and site_id not in unit.site_ids:
            raise InvalidCrew(f"unit {unit.id!r} does not serve site {site_id!r}")
    return unit
