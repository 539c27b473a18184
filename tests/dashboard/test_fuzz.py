"""Schemathesis fuzzes every operation of the OpenAPI document against a live server: no 5xx, ever."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from dashboard.app import create_app
from dashboard.serve import serve_in_thread

from .world import World

pytestmark = pytest.mark.slow
SKIP = {("GET", "/api/v1/events/stream"), ("POST", "/api/v1/auth/logout")}


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(database_url=world.database_url, secret_key="k", uploads_dir=tmp_path_factory.mktemp("up"))
    with serve_in_thread(app) as base:
        yield base


@pytest.fixture(scope="module")
def admin_headers(server: str, world: World) -> dict[str, str]:
    username, password = world.passwords["admin"]
    res = httpx.post(f"{server}/api/v1/auth/token", data={"username": username, "password": password})
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def test_no_operation_answers_with_a_server_error(server: str, admin_headers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def probe(case) -> None:
            response = case.call(base_url=server, headers=admin_headers, timeout=10)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:200]}")

        probe()
    assert operations > 30
    assert not failures, "\n".join(sorted(set(failures)))
