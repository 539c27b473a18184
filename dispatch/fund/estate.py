"""The estate as the fund sees it: site settings, units (单元) and households with their areas.

Unsold homes are households flagged ``developer_held``; they bear their share like any other (Order 165
art. 21). Each household gets its fund account when it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from dispatch.fund.errors import InvalidAmount, SiteNotConfigured, UnknownPlace
from dispatch.fund.regions import AreaBasis, RuleSet, load_regions
from ingest.registry import Site, get_site, list_buildings

ScopeType = Literal["site", "building", "unit"]
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Scope:
    """Which households a cost falls on: the whole estate, one building or one unit."""

    type: ScopeType
    id: str


@dataclass(frozen=True)
class BuildingUnit:
    """A unit (单元, one stairwell) of a building."""

    id: str
    site_id: str
    building_id: str
    name: str


@dataclass(frozen=True)
class Household:
    """One home. ``owner_user`` is a login id, never a name; it is not published anywhere."""

    id: str
    site_id: str
    building_id: str
    unit_id: str
    room: str
    building_area: Decimal
    exclusive_area: Decimal
    developer_held: bool = False
    owner_user: str | None = None


@dataclass(frozen=True)
class SiteSettings:
    """Whether the estate has an owners' committee, the amount its owners' assembly authorised the committee to
    approve alone (``None``: none, notice clause 6), and which regional rules apply."""

    site_id: str
    has_committee: bool
    rule_set: str
    area_basis: AreaBasis | None = None
    updated_by: str = SYSTEM_ACTOR
    committee_limit: Decimal | None = None
    insurance_by_vote: bool = False

    @property
    def steward(self) -> Literal["committee", "subdistrict"]:
        """Who acts for the owners between assemblies: the owners' committee, or the sub-district office where
        the estate has none (notice clauses 6-8, 16)."""
        return "committee" if self.has_committee else "subdistrict"

    @property
    def rules(self) -> RuleSet:
        """The regional rule set in force."""
        return load_regions().get(self.rule_set)

    @property
    def effective_basis(self) -> AreaBasis:
        """The area basis for apportionment: the site's agreed basis, else the region's."""
        return self.area_basis or self.rules.apportionment_basis


def configure_site(
    conn: psycopg.Connection,
    site_id: str,
    *,
    has_committee: bool,
    actor: str,
    rule_set: str | None = None,
    area_basis: AreaBasis | None = None,
    committee_limit: Decimal | None = None,
    insurance_by_vote: bool = False,
) -> SiteSettings:
    """Record the site's fund settings; the rule set defaults to the one matching the site's region code.

    ``has_committee=False`` marks an estate without an owners' committee: its draws are reviewed by the sub-district
    office (notice clause 16). ``committee_limit`` is the amount the owners' assembly authorised the committee to
    approve alone (clause 6). ``insurance_by_vote``: the assembly wants an owners' vote on each elevator insurance
    purchase rather than the committee's approval within its amount (clause 16). Raises ``UnknownPlace`` for a
    site that does not exist, ``InvalidAmount`` for a limit that is not a non-negative amount in whole cents or
    that is given for an estate without a committee."""
    site = _site(conn, site_id)
    _check_limit(committee_limit, has_committee)
    regions = load_regions()
    if rule_set is None:
        rule_set = regions.for_area_code(site.region).id
    regions.get(rule_set)  # unknown ids fail here, before anything is written
    conn.execute(
        """INSERT INTO fund_site_settings (site_id, has_committee, rule_set, area_basis, committee_limit,
               insurance_by_vote, updated_by, updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, now())
           ON CONFLICT (site_id) DO UPDATE SET has_committee = excluded.has_committee,
               rule_set = excluded.rule_set, area_basis = excluded.area_basis,
               committee_limit = excluded.committee_limit, insurance_by_vote = excluded.insurance_by_vote,
               updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
        (site_id, has_committee, rule_set, area_basis, committee_limit, insurance_by_vote, actor),
    )
    return get_site_settings(conn, site_id)


def _check_limit(limit: Decimal | None, has_committee: bool) -> None:
    if limit is None:
        return
    if not has_committee:
        raise InvalidAmount("an estate without an owners' committee has no committee authorised amount")
    if not isinstance(limit, Decimal) or limit < 0 or limit != limit.quantize(Decimal("0.01")):
        raise InvalidAmount(f"the committee's authorised amount must be a Decimal >= 0 in whole cents, got {limit!r}")


def get_site_settings(conn: psycopg.Connection, site_id: str) -> SiteSettings:
    """The site's fund settings; ``SiteNotConfigured`` if there are none."""
    with conn.cursor(row_factory=class_row(SiteSettings)) as cur:
        cur.execute(
            """SELECT site_id, has_committee, rule_set, area_basis, updated_by, committee_limit, insurance_by_vote
               FROM fund_site_settings WHERE site_id = %s""",
            (site_id,),
        )
        settings = cur.fetchone()
    if settings is None:
        raise SiteNotConfigured(f"site {site_id} has no fund settings")
    return settings


def _site(conn: psycopg.Connection, site_id: str) -> Site:
    site = get_site(conn, site_id)
    if site is None:
        raise UnknownPlace(f"site {site_id!r} does not exist")
    return site


def _check_building(conn: psycopg.Connection, site_id: str, building_id: str) -> None:
    if building_id not in {b.id for b in list_buildings(conn, site_id=site_id)}:
        raise UnknownPlace(f"building {building_id!r} is not a building of site {site_id!r}")


def add_building_unit(conn: psycopg.Connection, unit: BuildingUnit, *, actor: str = SYSTEM_ACTOR) -> None:
    """Create a unit, or rename it if it exists. Raises ``UnknownPlace`` when the building is not the site's."""
    _check_building(conn, unit.site_id, unit.building_id)
    conn.execute(
        """INSERT INTO fund_building_units (id, site_id, building_id, name, created_by)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name""",
        (unit.id, unit.site_id, unit.building_id, unit.name, actor),
    )


def add_household(conn: psycopg.Connection, household: Household, *, actor: str = SYSTEM_ACTOR) -> None:
    """Create a household and its (empty) fund account; re-adding the same id is a no-op.

    Raises ``UnknownPlace`` when the building is not the site's or the unit not the building's."""
    _check_building(conn, household.site_id, household.building_id)
    unit = conn.execute(
        "SELECT 1 FROM fund_building_units WHERE id = %s AND site_id = %s AND building_id = %s",
        (household.unit_id, household.site_id, household.building_id),
    ).fetchone()
    if unit is None:
        raise UnknownPlace(f"unit {household.unit_id!r} is not a unit of building {household.building_id!r}")
    with conn.transaction():
        conn.execute(
            """INSERT INTO fund_households (id, site_id, building_id, unit_id, room, building_area,
                   exclusive_area, developer_held, owner_user, created_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING""",
            (household.id, household.site_id, household.building_id, household.unit_id, household.room,
             household.building_area, household.exclusive_area, household.developer_held,
             household.owner_user, actor),
        )
        conn.execute(
            "INSERT INTO fund_accounts (household_id, site_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (household.id, household.site_id),
        )


SELECT_HOUSEHOLDS = sql.SQL(
    """SELECT id, site_id, building_id, unit_id, room, building_area, exclusive_area, developer_held, owner_user
       FROM fund_households WHERE {condition} ORDER BY id"""
)


def get_household(conn: psycopg.Connection, household_id: str) -> Household | None:
    """One household by id, or ``None``."""
    with conn.cursor(row_factory=class_row(Household)) as cur:
        cur.execute(SELECT_HOUSEHOLDS.format(condition=sql.SQL("id = %s")), (household_id,))
        return cur.fetchone()


def list_households(conn: psycopg.Connection, site_id: str, scope: Scope | None = None) -> list[Household]:
    """The households of a site, or of one building or unit of it, ordered by id."""
    scope = scope or Scope("site", site_id)
    column = {"site": "site_id", "building": "building_id", "unit": "unit_id"}[scope.type]
    condition = sql.SQL("site_id = %s AND {column} = %s").format(column=sql.Identifier(column))
    with conn.cursor(row_factory=class_row(Household)) as cur:
        cur.execute(SELECT_HOUSEHOLDS.format(condition=condition), (site_id, scope.id))
        return cur.fetchall()


def households_of_owner(conn: psycopg.Connection, owner_user: str) -> list[Household]:
    """The homes a login owns, for the owner's own balance query."""
    with conn.cursor(row_factory=class_row(Household)) as cur:
        cur.execute(SELECT_HOUSEHOLDS.format(condition=sql.SQL("owner_user = %s")), (owner_user,))
        return cur.fetchall()


def list_building_units(conn: psycopg.Connection, site_id: str) -> list[BuildingUnit]:
    """The units (单元) of a site, ordered by id: what a page needs to name a home by its unit."""
    with conn.cursor(row_factory=class_row(BuildingUnit)) as cur:
        cur.execute("SELECT id, site_id, building_id, name FROM fund_building_units WHERE site_id = %s ORDER BY id",
                    (site_id,))
        return cur.fetchall()
