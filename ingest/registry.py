"""The estate registry: sites, buildings and devices. The one place other packages read them from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    region: str = "default"
    name_en: str | None = None
    address: str | None = None
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class Building:
    id: str
    site_id: str
    name: str
    floors: int | None = None


@dataclass(frozen=True)
class Device:
    id: str
    site_id: str
    type: str
    name: str
    building_id: str | None = None
    model: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def upsert_site(conn: psycopg.Connection, site: Site) -> None:
    """Create or update a site."""
    conn.execute(
        """INSERT INTO sites (id, name, name_en, region, address, timezone)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en,
               region = excluded.region, address = excluded.address, timezone = excluded.timezone""",
        (site.id, site.name, site.name_en, site.region, site.address, site.timezone),
    )


def upsert_building(conn: psycopg.Connection, building: Building) -> None:
    """Create or update a building."""
    conn.execute(
        """INSERT INTO buildings (id, site_id, name, floors) VALUES (%s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, name = excluded.name,
               floors = excluded.floors""",
        (building.id, building.site_id, building.name, building.floors),
    )


def upsert_device(conn: psycopg.Connection, device: Device) -> None:
    """Create or update a device."""
    conn.execute(
        """INSERT INTO devices (id, site_id, building_id, type, name, model, attributes)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, building_id = excluded.building_id,
               type = excluded.type, name = excluded.name, model = excluded.model,
               attributes = excluded.attributes""",
        (device.id, device.site_id, device.building_id, device.type, device.name, device.model,
         Jsonb(device.attributes)),
    )


def get_device(conn: psycopg.Connection, device_id: str) -> Device | None:
    """One device by id, or ``None``."""
    with conn.cursor(row_factory=class_row(Device)) as cur:
        cur.execute(
            "SELECT id, site_id, type, name, building_id, model, attributes FROM devices WHERE id = %s",
            (device_id,),
        )
        return cur.fetchone()


def list_devices(conn: psycopg.Connection, *, site_id: str | None = None) -> list[Device]:
    """All devices, optionally of one site, ordered by id."""
    with conn.cursor(row_factory=class_row(Device)) as cur:
        cur.execute(
            """SELECT id, site_id, type, name, building_id, model, attributes FROM devices
               WHERE %(site)s::text IS NULL OR site_id = %(site)s ORDER BY id""",
            {"site": site_id},
        )
        return cur.fetchall()


def get_devices(conn: psycopg.Connection, device_ids: Sequence[str]) -> list[Device]:
    """The devices among ``device_ids`` that exist, ordered by id (unknown ids are left out)."""
    with conn.cursor(row_factory=class_row(Device)) as cur:
        cur.execute(
            """SELECT id, site_id, type, name, building_id, model, attributes FROM devices
               WHERE id = ANY(%s) ORDER BY id""",
            (list(device_ids),),
        )
        return cur.fetchall()


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a device is and what it is: all the gateway needs to accept its messages."""

    id: str
    site_id: str
    type: str


def list_placements(conn: psycopg.Connection) -> list[Placement]:
    """Every device's site and type: the registry without names and attributes (~10x cheaper to read)."""
    with conn.cursor(row_factory=class_row(Placement)) as cur:
        cur.execute("SELECT id, site_id, type FROM devices")
        return cur.fetchall()


def device_count(conn: psycopg.Connection) -> int:
    """How many devices are registered: a cheap marker that moves when devices are added or removed."""
    row = conn.execute("SELECT count(*) FROM devices").fetchone()
    assert row is not None
    return int(row[0])


def get_site(conn: psycopg.Connection, site_id: str) -> Site | None:
    """One site by id, or ``None``."""
    with conn.cursor(row_factory=class_row(Site)) as cur:
        cur.execute("SELECT id, name, region, name_en, address, timezone FROM sites WHERE id = %s", (site_id,))
        return cur.fetchone()


def site_timezone(conn: psycopg.Connection, site_id: str) -> ZoneInfo:
    """The estate's time zone (IANA name stored with the site); Asia/Shanghai for an unknown site."""
    site = get_site(conn, site_id)
    return ZoneInfo(site.timezone if site is not None else Site.timezone)


def site_region(conn: psycopg.Connection, site_id: str) -> str:
    """The site's GB/T 2260 region code, ``"default"`` for an unknown site."""
    site = get_site(conn, site_id)
    return site.region if site is not None else Site.region


def list_sites(conn: psycopg.Connection) -> list[Site]:
    """All sites ordered by id."""
    with conn.cursor(row_factory=class_row(Site)) as cur:
        cur.execute("SELECT id, name, region, name_en, address, timezone FROM sites ORDER BY id")
        return cur.fetchall()


def list_buildings(conn: psycopg.Connection, *, site_id: str | None = None) -> list[Building]:
    """All buildings, optionally of one site, ordered by id."""
    with conn.cursor(row_factory=class_row(Building)) as cur:
        cur.execute(
            """SELECT id, site_id, name, floors FROM buildings
               WHERE %(site)s::text IS NULL OR site_id = %(site)s ORDER BY id""",
            {"site": site_id},
        )
        return cur.fetchall()



def page_sites(conn: psycopg.Connection, *, sites: Sequence[str] | None, limit: int,
               offset: int) -> tuple[list[Site], int]:
    """One page of sites ordered by id, and how many there are in all; ``sites=None`` means every site."""
    params = {"sites": None if sites is None else list(sites), "limit": limit, "offset": offset}
    with conn.cursor(row_factory=class_row(Site)) as cur:
        cur.execute(
            """SELECT id, name, region, name_en, address, timezone FROM sites
               WHERE %(sites)s::text[] IS NULL OR id = ANY(%(sites)s)
               ORDER BY id LIMIT %(limit)s OFFSET %(offset)s""", params)
        found = cur.fetchall()
    row = conn.execute("SELECT count(*) FROM sites WHERE %(sites)s::text[] IS NULL OR id = ANY(%(sites)s)",
                       params).fetchone()
    assert row is not None
    return found, int(row[0])


def page_devices(conn: psycopg.Connection, *, sites: Sequence[str] | None, type: str | None = None, limit: int,
                 offset: int) -> tuple[list[Device], int]:
    """One page of devices ordered by id, optionally of one type, and how many match in all;
    ``sites=None`` means every site."""
    params = {"sites": None if sites is None else list(sites), "type": type, "limit": limit, "offset": offset}
    with conn.cursor(row_factory=class_row(Device)) as cur:
        cur.execute(
            """SELECT id, site_id, type, name, building_id, model, attributes FROM devices
               WHERE (%(sites)s::text[] IS NULL OR site_id = ANY(%(sites)s))
                 AND (%(type)s::text IS NULL OR type = %(type)s)
               ORDER BY id LIMIT %(limit)s OFFSET %(offset)s""", params)
        found = cur.fetchall()
    row = conn.execute(
        """SELECT count(*) FROM devices
           WHERE (%(sites)s::text[] IS NULL OR site_id = ANY(%(sites)s))
             AND (%(type)s::text IS NULL OR type = %(type)s)""", params).fetchone()
    assert row is not None
    return found, int(row[0])
