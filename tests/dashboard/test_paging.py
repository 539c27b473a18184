"""Listings page and count in the database: past the first thousand rows the items and the total stay right,
and a user's scope limits both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from fastapi.testclient import TestClient

from .conftest import OTHER_SITE

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def insert_alarms(db: psycopg.Connection, site_id: str, count: int) -> None:
    """``count`` active P2 alarms of a site, the i-th last seen i seconds after T0."""
    db.execute(
        """INSERT INTO alarms (fingerprint, rule_id, category, severity, state, site_id, title_zh, title_en,
                               first_seen, last_seen)
           SELECT concat_ws('/', %(site)s::text, i), 'test.rule', 'test', 'P2', 'active', %(site)s, '测试', 'test',
                  %(t0)s, %(t0)s + i * interval '1 second'
           FROM generate_series(1, %(count)s) AS i""",
        {"site": site_id, "count": count, "t0": T0})


def insert_devices(db: psycopg.Connection, site_id: str, count: int) -> None:
    db.execute(
        """INSERT INTO devices (id, site_id, type, name)
           SELECT concat(%(site)s::text, '-P', lpad(i::text, 4, '0')), %(site)s, 'pump', 'pump'
           FROM generate_series(1, %(count)s) AS i""",
        {"site": site_id, "count": count})


def pages(client: TestClient, path: str, headers: dict[str, str]) -> list[dict]:
    """Every page of a listing, 500 at a time, until one comes back short."""
    found: list[dict] = []
    while True:
        page = client.get(path, params={"limit": 500, "offset": len(found)}, headers=headers).json()
        found += page["items"]
        if len(page["items"]) < 500:
            return found


def test_the_alarm_list_pages_to_the_end_past_a_thousand_alarms(client: TestClient, db: psycopg.Connection,
                                                                 estate: str, token_for: Callable) -> None:
    insert_alarms(db, estate, 1_100)
    page = client.get("/api/v1/alarms", params={"limit": 500, "offset": 1_000},
                      headers=token_for("operator")).json()
    assert page["total"] == 1_100
    assert [a["fingerprint"] for a in page["items"]] == [f"{estate}/{i}" for i in range(100, 0, -1)]


def test_paging_through_every_alarm_returns_each_once_newest_first(client: TestClient, db: psycopg.Connection,
                                                                   estate: str, token_for: Callable) -> None:
    insert_alarms(db, estate, 1_100)
    found = pages(client, "/api/v1/alarms", token_for("operator"))
    assert [a["fingerprint"] for a in found] == [f"{estate}/{i}" for i in range(1_100, 0, -1)]


def test_alarm_totals_count_only_the_callers_sites(client: TestClient, db: psycopg.Connection, estate: str,
                                                   token_for: Callable) -> None:
    insert_alarms(db, estate, 1_100)
    insert_alarms(db, OTHER_SITE, 300)
    assert client.get("/api/v1/alarms", headers=token_for("operator")).json()["total"] == 1_100
    assert client.get("/api/v1/alarms", headers=token_for("admin")).json()["total"] == 1_400


def test_the_device_list_pages_to_the_end_past_a_thousand_devices(client: TestClient, db: psycopg.Connection,
                                                                   estate: str, token_for: Callable) -> None:
    insert_devices(db, estate, 1_100)
    page = client.get("/api/v1/devices", params={"type": "pump", "limit": 500, "offset": 1_000},
                      headers=token_for("operator")).json()
    assert page["total"] == 1_100
    assert [d["id"] for d in page["items"]] == [f"{estate}-P{i:04d}" for i in range(1_001, 1_101)]
