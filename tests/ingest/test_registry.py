"""The estate registry: the one place other packages read sites, buildings and devices from."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import psycopg

from ingest import registry
from ingest.registry import Device, Site


def _site(conn: psycopg.Connection, site_id: str, **kw: str) -> None:
    registry.upsert_site(conn, Site(id=site_id, name=f"estate {site_id}", **kw))


def test_get_site_returns_the_stored_site(db: psycopg.Connection) -> None:
    _site(db, "S1", region="3301", timezone="Asia/Urumqi")
    assert registry.get_site(db, "S1") == Site(id="S1", name="estate S1", region="3301", timezone="Asia/Urumqi")


def test_get_site_of_an_unknown_id_is_none(db: psycopg.Connection) -> None:
    assert registry.get_site(db, "nowhere") is None


def test_site_timezone_is_the_estates_zone(db: psycopg.Connection) -> None:
    _site(db, "S1", timezone="Asia/Urumqi")
    assert registry.site_timezone(db, "S1") == ZoneInfo("Asia/Urumqi")


def test_site_timezone_of_an_unknown_site_is_china_standard_time(db: psycopg.Connection) -> None:
    assert registry.site_timezone(db, "nowhere") == ZoneInfo("Asia/Shanghai")


def test_site_region_is_the_stored_gb2260_code(db: psycopg.Connection) -> None:
    _site(db, "S1", region="3301")
    assert registry.site_region(db, "S1") == "3301"
    assert registry.site_region(db, "nowhere") == "default"


def test_get_devices_returns_the_known_ones_in_id_order(db: psycopg.Connection) -> None:
    _site(db, "S1")
    for device_id in ("d2", "d1"):
        registry.upsert_device(db, Device(id=device_id, site_id="S1", type="elevator", name=device_id))
    found = registry.get_devices(db, ["d2", "unknown", "d1"])
    assert [d.id for d in found] == ["d1", "d2"]


def test_device_count_moves_when_a_device_is_added(db: psycopg.Connection) -> None:
    _site(db, "S1")
    before = registry.device_count(db)
    registry.upsert_device(db, Device(id="d9", site_id="S1", type="pump", name="pump"))
    assert registry.device_count(db) == before + 1


def test_page_sites_pages_in_id_order_with_the_total(db: psycopg.Connection) -> None:
    for site_id in ("S3", "S1", "S2"):
        _site(db, site_id)
    found, total = registry.page_sites(db, sites=None, limit=2, offset=1)
    assert ([s.id for s in found], total) == (["S2", "S3"], 3)


def test_page_sites_keeps_to_the_given_sites(db: psycopg.Connection) -> None:
    for site_id in ("S1", "S2", "S3"):
        _site(db, site_id)
    found, total = registry.page_sites(db, sites=["S3", "S1", "elsewhere"], limit=10, offset=0)
    assert ([s.id for s in found], total) == (["S1", "S3"], 2)


def test_page_sites_of_no_sites_is_empty(db: psycopg.Connection) -> None:
    _site(db, "S1")
    assert registry.page_sites(db, sites=[], limit=10, offset=0) == ([], 0)


def test_page_devices_counts_every_match_past_the_page(db: psycopg.Connection) -> None:
    _site(db, "S1")
    _site(db, "S2")
    with db.cursor() as cur:
        cur.executemany("INSERT INTO devices (id, site_id, type, name) VALUES (%s, %s, %s, %s)",
                        [(f"d{n:04d}", "S1" if n % 2 else "S2", "elevator", f"lift {n}") for n in range(1100)])
    found, total = registry.page_devices(db, sites=["S1"], limit=50, offset=500)
    assert total == 550
    assert [d.id for d in found] == [f"d{n:04d}" for n in range(1001, 1100, 2)]


def test_page_devices_filters_by_type(db: psycopg.Connection) -> None:
    _site(db, "S1")
    registry.upsert_device(db, Device(id="d1", site_id="S1", type="elevator", name="lift"))
    registry.upsert_device(db, Device(id="d2", site_id="S1", type="pump", name="pump"))
    found, total = registry.page_devices(db, sites=None, type="pump", limit=10, offset=0)
    assert ([d.id for d in found], total) == (["d2"], 1)


def test_placements_give_each_devices_site_and_type(db: psycopg.Connection) -> None:
    _site(db, "S1")
    registry.upsert_device(db, Device(id="d1", site_id="S1", type="elevator", name="Lift 1", model="X"))
    assert registry.list_placements(db) == [registry.Placement(id="d1", site_id="S1", type="elevator")]
