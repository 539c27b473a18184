"""Fixtures for the web app: an app on this test's database, a client, users of every role."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.users import User, create_user
from ingest import registry
from ingest.database import connect
from ingest.records import Batch, DeviceEvent

from .world import World, fresh_database, seed

PASSWORD = "correct-horse-42"
OTHER_SITE = "OTHERSITE"
_lift_numbers = itertools.count(10)


@pytest.fixture
def estate(db: psycopg.Connection, site_id: str) -> str:
    """Two sites: the test's own (with a building and an elevator) and another one nobody is scoped to."""
    registry.upsert_site(db, registry.Site(site_id, "阳光花园", name_en="Sunshine Garden"))
    registry.upsert_site(db, registry.Site(OTHER_SITE, "别的小区"))
    registry.upsert_building(db, registry.Building(f"{site_id}-B01", site_id, "1号楼", floors=18))
    registry.upsert_device(db, registry.Device(f"{site_id}-B01-EL01", site_id, "elevator", "1号楼1号梯",
                                               building_id=f"{site_id}-B01"))
    registry.upsert_device(db, registry.Device("OTHER-EL01", OTHER_SITE, "elevator", "other lift"))
    return site_id


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> FastAPI:
    return create_app(database_url=db_url, secret_key="test-secret", uploads_dir=tmp_path / "uploads")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_user(db: psycopg.Connection, estate: str) -> Callable[..., User]:
    """Create a user of ``role`` scoped to the test's site (``site_ids`` overrides)."""
    made: dict[str, User] = {}

    def make(role: str, *, username: str | None = None, site_ids: list[str] | None = None, **extra: str) -> User:
        name = username or f"{role}1"
        if name not in made:
            sites = [estate] if site_ids is None else site_ids
            made[name] = create_user(db, username=name, password=PASSWORD, role=role,
                                     display_name=f"{role} user", site_ids=sites, **extra)
        return made[name]

    return make


@pytest.fixture
def token_for(client: TestClient, make_user: Callable[..., User]) -> Callable[..., dict[str, str]]:
    """Authorization headers for a (new) user of ``role``."""
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str, **extra: str) -> dict[str, str]:
        key = role + repr(sorted(extra.items()))
        if key not in cache:
            user = make_user(role, **extra)
            res = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
            assert res.status_code == 200, res.text
            cache[key] = {"Authorization": f"Bearer {res.json()['access_token']}"}
        return cache[key]

    return headers


# --- one seeded estate per test module (seeding takes seconds) ----------------------------------------------



@pytest.fixture(scope="package")
def world(postgres_admin_url: str, template_database: str) -> Iterator[World]:
    with fresh_database(postgres_admin_url, template_database) as url:
        yield seed(url, "DASH01")


@pytest.fixture(scope="package")
def engine(world: World) -> Iterator[object]:
    from rules.engine import RuleEngine

    e = RuleEngine(world.database_url)
    yield e
    e.close()


@pytest.fixture(scope="module")
def api(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(database_url=world.database_url, secret_key="k",
                     uploads_dir=tmp_path_factory.mktemp("uploads"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def as_role(world: World, api: TestClient) -> Callable[[str], dict[str, str]]:
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        if role not in cache:
            username, password = world.passwords[role]
            res = api.post("/api/v1/auth/token", data={"username": username, "password": password})
            cache[role] = {"Authorization": f"Bearer {res.json()['access_token']}"}
        return cache[role]

    return headers


@pytest.fixture(scope="package")
def trapped(world: World, engine) -> Callable[[], tuple[int, str]]:
    """Raise a trapped-passenger alarm on a new elevator through the rules engine; returns (alarm id, device)."""
    from rules.alarms import list_alarms

    def make() -> tuple[int, str]:
        device_id = f"{world.building_id}-EL{next(_lift_numbers):02d}"
        with connect(world.database_url) as conn:
            registry.upsert_device(conn, registry.Device(device_id, world.site_id, "elevator", f"{device_id}号梯",
                                                         building_id=world.building_id))
            conn.commit()
        now = datetime.now(UTC)
        engine.process(Batch(events=[DeviceEvent(device_id, now, "trapped", seq=1)]), now=now)
        with connect(world.database_url) as conn:
            found = list_alarms(conn, device_id=device_id)
        assert found
        return found[0].id, device_id

    return make


@pytest.fixture(scope="package")
def order_for(world: World) -> Callable[[str], int]:
    """Let dispatch open the work order of a device's alarm; returns its id."""
    from dispatch.alarm_sync import sync_alarms
    from dispatch.workorders import list_work_orders

    def make(device_id: str) -> int:
        with connect(world.database_url) as conn:
            sync_alarms(conn)
            conn.commit()
            found = [o for o in list_work_orders(conn, site_id=world.site_id, limit=500, offset=0)
                     if o.device_id == device_id]
        assert found
        return found[0].id

    return make
