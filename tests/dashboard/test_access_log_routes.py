"""The access log names the route template of every request whose path matches one, even when the request is
refused before routing or the route is not a FastAPI endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest

from dashboard.limits import DEFAULT_MAX_BODY_BYTES

from .live_server import LiveServer, propwatch_serve


@pytest.fixture(scope="module")
def live(scratch_database: Callable[..., AbstractContextManager[str]], template_database: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with scratch_database(template_database) as database, \
            propwatch_serve(database, tmp_path_factory.mktemp("serve")) as server:
        yield server


def _route_of(server: LiveServer, method: str, path: str) -> str:
    """The ``route`` of the access line for ``method path``, once it is written (it follows the response)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in server.log_lines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("logger") == "propwatch.web.access" and (entry["method"], entry["path"]) == (method, path):
                return entry["route"]
        time.sleep(0.05)
    raise LookupError(f"{method} {path}")


def test_a_body_refused_as_too_large_is_logged_under_its_route(live: LiveServer) -> None:
    res = httpx.post(f"{live.url}/api/v1/alarms/1/ack", headers={"Authorization": "Bearer x"},
                     json={"note": "x" * (DEFAULT_MAX_BODY_BYTES + 1)})
    assert res.status_code == 413
    assert _route_of(live, "POST", "/api/v1/alarms/1/ack") == "/api/v1/alarms/{alarm_id}/ack"


def test_the_openapi_document_is_logged_under_its_route(live: LiveServer) -> None:
    assert httpx.get(f"{live.url}/openapi.json").status_code == 200
    assert _route_of(live, "GET", "/openapi.json") == "/openapi.json"


def test_a_path_no_route_matches_is_logged_as_unmatched(live: LiveServer) -> None:
    assert httpx.get(f"{live.url}/no/such/page").status_code == 404
    assert _route_of(live, "GET", "/no/such/page") == "unmatched"
