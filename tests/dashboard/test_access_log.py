"""`propwatch serve`'s access log: one JSON line per request, the path without its query string, and the
client's address only when configured."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from .live_server import LiveServer, propwatch_serve

CLIENT = "127.0.0.3"


def _requests(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address=CLIENT)) as client:
        client.get("/api/v1/public/sites/NOPE/board?phone=13800000000&name=%E5%BC%A0%E4%B8%89")
        client.post("/api/v1/auth/token", data={"username": "someone", "password": "secret-secret"})
        client.get("/api/v1/alarms?site_id=S001")


def _access_lines(server: LiveServer, expected: int = 3) -> list[dict]:
    """The test's access lines (not the fixture's start-up probes of /healthz), once ``expected`` are written: a
    request's line follows its response."""
    deadline = time.monotonic() + 5
    while True:
        found = [entry for entry in (json.loads(line) for line in server.log_lines() if line.startswith("{"))
                 if entry["logger"] == "propwatch.web.access" and entry["path"] != "/healthz"]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_each_request_is_logged_once_without_query_string_or_client_address(db_url: str, tmp_path: Path) -> None:
    with propwatch_serve(db_url, tmp_path) as server:
        _requests(server)
        text = "\n".join(server.log_lines())
        access = _access_lines(server)
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("GET", "/api/v1/public/sites/NOPE/board", 404), ("POST", "/api/v1/auth/token", 401),
        ("GET", "/api/v1/alarms", 401)]
    assert all(a["route"] and a["duration_ms"] >= 0 and "client" not in a for a in access)
    for secret in (CLIENT, "13800000000", "%E5%BC%A0", "S001", "someone", "secret-secret", "?phone"):
        assert secret not in text, secret


def test_the_client_address_is_logged_when_configured(db_url: str, tmp_path: Path) -> None:
    with propwatch_serve(db_url, tmp_path, web_log_client_address="true") as server:
        _requests(server)
        access = _access_lines(server)
    assert [a["client"] for a in access] == [CLIENT] * 3
