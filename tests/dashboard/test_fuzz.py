"""Schemathesis fuzzes every operation of the OpenAPI document against a live server, as every role and as an
anonymous caller: no 5xx, ever. Bounded: a few examples per operation and caller."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from dashboard.app import create_app
from dashboard.roles import ROLES
from dashboard.serve import serve_in_thread
from ingest.database import connect

from .world import World, fresh_database, seed

pytestmark = pytest.mark.slow
SKIP = {("GET", "/api/v1/events/stream"), ("POST", "/api/v1/auth/logout")}
# Admins reach deepest into every operation; the other roles mostly meet their refusals sooner.
EXAMPLES = {"admin": 5, "anonymous": 1}
OTHER_ROLES_EXAMPLES = 2


@pytest.fixture(scope="module")
def world(postgres_admin_url: str, template_database: str) -> Iterator[World]:
    """An estate of this module's own: fuzzed as an admin, the user endpoints reset passwords and deactivate
    accounts, which the package's shared estate must keep for the modules after this one."""
    with fresh_database(postgres_admin_url, template_database) as url:
        yield seed(url, "FUZZ01")


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(database_url=world.database_url, secret_key="k", uploads_dir=tmp_path_factory.mktemp("up"))
    with serve_in_thread(app) as base:
        yield base
    # The fuzzed sign-ins failed from this address; later modules sign in from it on the same estate.
    with connect(world.database_url) as conn:
        conn.execute("DELETE FROM web_login_failures")
        conn.commit()


@pytest.fixture(scope="module")
def callers(server: str, world: World) -> dict[str, dict[str, str]]:
    headers = {"anonymous": {}}
    for role in ROLES:
        username, password = world.passwords[role]
        res = httpx.post(f"{server}/api/v1/auth/token", data={"username": username, "password": password},
                         timeout=30)
        headers[role] = {"Authorization": f"Bearer {res.json()['access_token']}"}
    return headers


def test_no_operation_answers_with_a_server_error_for_any_caller(server: str,
                                                                 callers: dict[str, dict[str, str]]) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in SKIP]
    def fuzz(operation, caller: str, headers: dict[str, str]) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES.get(caller, OTHER_ROLES_EXAMPLES), deadline=None,
                  suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def probe(case) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=server, headers=headers, timeout=10)
            if response.status_code >= 500:
                failures.append(f"{caller}: {case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:200]}")

        probe()

    for caller, headers in callers.items():
        for operation in operations:
            fuzz(operation, caller, headers)
    print(f"\nschemathesis: {len(operations)} operations x {len(callers)} callers, {calls} calls, "
          f"{len(failures)} server errors")
    assert len(operations) > 30 and len(callers) == len(ROLES) + 1
    assert not failures, "\n".join(sorted(set(failures)))
