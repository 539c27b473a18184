"""Shared fixtures: real PostgreSQL and a real MQTT broker, each test with its own fresh database.

``PROPWATCH_TEST_DATABASE_URL`` / ``PROPWATCH_TEST_MQTT_URL`` point the suite at existing services; unset,
the suite starts throwaway ones (embedded PostgreSQL from its wheel, Mosquitto with the project's config).
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


@pytest.fixture(scope="session")
def template_database(postgres_admin_url: str) -> Iterator[str]:
    """Name of a fully migrated database that each test clones."""
    name = f"pw_template_{os.getpid()}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade_database(_with_database(postgres_admin_url, name))
    yield name
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
