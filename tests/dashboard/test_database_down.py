"""PostgreSQL down: every request answers 503 with ``Retry-After`` within 2 s, and the app recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.users import User
from ingest.database import connect

from .conftest import PASSWORD
from .tcp_proxy import DatabaseRelay


@pytest.fixture
def relay(db_url: str) -> Iterator[DatabaseRelay]:
    relay = DatabaseRelay(db_url)
    yield relay
    relay.cut()


@pytest.fixture
def down_client(relay: DatabaseRelay) -> Iterator[TestClient]:
    with TestClient(create_app(database_url=relay.conninfo, secret_key="k" * 32),
                    raise_server_exceptions=False) as client:
        yield client


def _timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/alarms"), ("GET", "/api/v1/auth/me"),
                                              ("GET", "/api/v1/public/sites/S001/board"), ("GET", "/console")])
def test_every_request_is_503_with_retry_after_within_2_s_while_the_database_is_down(
        down_client: TestClient, relay: DatabaseRelay, make_user: Callable[..., User], method: str,
        path: str) -> None:
    make_user("admin")
    token = down_client.post("/api/v1/auth/token", data={"username": "admin1", "password": PASSWORD}).json()
    relay.cut()
    elapsed, res = _timed(lambda: down_client.request(method, path, headers={
        "Authorization": f"Bearer {token['access_token']}"}))
    print(f"\n{method} {path} with the database down: {res.status_code} in {elapsed * 1000:.0f} ms")
    assert res.status_code == 503 and elapsed < 2.0
    assert res.json()["error"]["code"] == "unavailable" and res.headers["retry-after"] == "2"


def test_signing_in_while_the_database_is_down_is_503(down_client: TestClient, relay: DatabaseRelay) -> None:
    down_client.post("/api/v1/auth/token", data={"username": "admin1", "password": PASSWORD})  # a warm server
    relay.cut()
    elapsed, res = _timed(lambda: down_client.post("/api/v1/auth/token",
                                                   data={"username": "admin1", "password": PASSWORD}))
    assert res.status_code == 503 and elapsed < 2.0


def test_requests_succeed_again_once_the_database_is_back(down_client: TestClient, relay: DatabaseRelay) -> None:
    relay.cut()
    assert down_client.get("/api/v1/public/sites/S001/board").status_code == 503
    relay.restore()
    deadline = time.monotonic() + 10
    status = 503
    while status == 503 and time.monotonic() < deadline:
        status = down_client.get("/api/v1/public/sites/NOPE/board").status_code
        time.sleep(0.2)
    assert status == 404


def test_a_query_stuck_behind_a_lock_is_503_at_the_statement_timeout(db_url: str) -> None:
    app = create_app(database_url=db_url, secret_key="k" * 32, statement_timeout_s=0.5)
    with TestClient(app, raise_server_exceptions=False) as client, connect(db_url) as holder:
        holder.execute("LOCK TABLE sites IN ACCESS EXCLUSIVE MODE")  # e.g. a long migration
        elapsed, res = _timed(lambda: client.get("/api/v1/public/sites/S001/board"))
        holder.rollback()
    assert res.status_code == 503 and res.json()["error"]["details"]["reason"] == "QueryCanceled"
    assert 0.5 <= elapsed < 2.0
