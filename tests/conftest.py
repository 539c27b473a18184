"""Shared fixtures: real PostgreSQL and a real MQTT broker, each test with its own fresh database.

``PROPWATCH_TEST_DATABASE_URL`` / ``PROPWATCH_TEST_MQTT_URL`` point the suite at existing services; unset,
the suite starts throwaway ones (embedded PostgreSQL from its wheel, Mosquitto with the project's config).
Any PostgreSQL will do, TimescaleDB included: the suite then runs in the mode the server gives (``auto``), and
tests taking ``storage_db_url`` run once per mode the server can give.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest.database import connect
from ingest.migrations import StorageChoice, StorageMode, probe_server
from propwatch.embedded import BrokerHandle, EmbeddedBroker, EmbeddedPostgres
from propwatch.schema import upgrade_database

_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = name
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a database on the test server from which databases can be created."""
    configured = os.environ.get("PROPWATCH_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", durable=False)
    yield server.url()
    server.stop()


def _build_template(admin_url: str, name: str, storage: StorageChoice = "auto") -> None:
    """Create and migrate ``name``, then close it to connections so it can always be cloned.

    ``CREATE DATABASE … TEMPLATE`` fails while anyone is connected to the template, and on a TimescaleDB server
    the extension's job scheduler connects to every database that has the extension.
    """
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade_database(_with_database(admin_url, name), storage=storage)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_database(postgres_admin_url: str) -> Iterator[str]:
    """Name of a fully migrated database (in the mode the server gives) that each test clones."""
    name = f"pw_template_{os.getpid()}"
    _build_template(postgres_admin_url, name)
    yield name
    _drop(postgres_admin_url, name)


@pytest.fixture(scope="session")
def server_storage_modes(postgres_admin_url: str) -> tuple[StorageMode, ...]:
    """The storage modes the test server can give: plain always, TimescaleDB when installed and preloaded."""
    with psycopg.connect(postgres_admin_url) as conn:
        usable = probe_server(conn).usable
    return ("plain", "timescaledb") if usable else ("plain",)


@pytest.fixture(scope="session")
def mode_template(postgres_admin_url: str, server_storage_modes: tuple[StorageMode, ...]) -> Iterator[
        Callable[[StorageMode], str]]:
    """``mode_template(mode)``: name of a migrated template in that mode, built on first use; skips the test when
    the server cannot give the mode."""
    built: dict[StorageMode, str] = {}

    def get(mode: StorageMode) -> str:
        if mode not in server_storage_modes:
            pytest.skip(f"the test server cannot give {mode} storage")
        if mode not in built:
            name = f"pw_template_{mode}_{os.getpid()}"
            _build_template(postgres_admin_url, name, mode)
            built[mode] = name
        return built[mode]

    yield get
    for name in built.values():
        _drop(postgres_admin_url, name)


@pytest.fixture(params=["plain", "timescaledb"])
def storage_db_url(request: pytest.FixtureRequest, scratch_database: Callable[..., AbstractContextManager[str]],
                   mode_template: Callable[[StorageMode], str]) -> Iterator[str]:
    """URL of a fresh, migrated database in each storage mode in turn (TimescaleDB skipped where unavailable)."""
    with scratch_database(mode_template(request.param)) as url:
        yield url


@pytest.fixture(scope="session")
def scratch_database(postgres_admin_url: str) -> Callable[..., AbstractContextManager[str]]:
    """``scratch_database(template=None)``: a context manager giving the URL of a new database (empty, or a copy
    of ``template``) on the test server, dropped when the context ends."""

    @contextmanager
    def make(template: str | None = None) -> Iterator[str]:
        name = f"pw_test_{os.getpid()}_{next(_counter)}"
        # FILE_COPY beats the default WAL_LOG for a small template (PostgreSQL 15+).
        source = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{source}')
        try:
            yield _with_database(postgres_admin_url, name)
        finally:
            with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make


@pytest.fixture
def db_url(scratch_database: Callable[..., AbstractContextManager[str]], template_database: str) -> Iterator[str]:
    """URL of a fresh, migrated database for this test only."""
    with scratch_database(template_database) as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection (session in UTC) to this test's database."""
    with connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerHandle]:
    """A broker shared by the session; tests keep apart by using their own site ids."""
    configured = os.environ.get("PROPWATCH_TEST_MQTT_URL")
    if configured:
        from gateway.protocol.endpoint import MqttEndpoint

        endpoint = MqttEndpoint.parse(configured)
        yield BrokerHandle(endpoint.host, endpoint.port, "external")
        return
    broker = EmbeddedBroker(tmp_path_factory.mktemp("mqtt"))
    yield broker.handle
    broker.stop()


@pytest.fixture
def mqtt_url(mqtt_broker: BrokerHandle) -> str:
    return mqtt_broker.url


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker for this test alone, for tests that stop or restart it."""
    broker = EmbeddedBroker(tmp_path / "mqtt")
    yield broker
    broker.stop()


@pytest.fixture
def site_id() -> str:
    """A site id no other test uses, so tests sharing the broker never see each other's traffic."""
    return f"T{uuid.uuid4().hex[:10]}"
