"""Server-sent events from a real uvicorn server: alarms raised by the rules engine arrive live."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from dashboard.app import create_app
from dashboard.serve import serve_in_thread
from ingest.database import connect

from .world import World


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    with serve_in_thread(create_app(database_url=world.database_url, secret_key="k")) as base:
        yield base


def _token(base: str, world: World, role: str) -> dict[str, str]:
    username, password = world.passwords.get(role, (role, "outsider-pass-1"))
    res = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password})
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def _first_event(base: str, headers: dict[str, str], trigger, *, timeout: float = 15.0) -> dict | None:
    """Open the stream, run ``trigger`` once connected, return the first ``alarm`` event (or None) once
    ``trigger`` has returned too (the event may arrive before it does)."""
    found: dict | None = None
    triggering = threading.Thread(target=trigger, daemon=True)
    with httpx.Client(timeout=timeout) as client, client.stream(
            "GET", f"{base}/api/v1/events/stream", headers=headers) as res:
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in res.iter_lines():
            if triggering.ident is None and line.startswith(": connected"):
                triggering.start()
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "alarm":
                found = json.loads(line[6:])
                break
    triggering.join(timeout)
    return found


def test_an_operator_receives_a_new_alarm_live(server: str, world: World, trapped) -> None:
    holder: dict[str, tuple[int, str]] = {}
    event = _first_event(server, _token(server, world, "operator"), lambda: holder.update(a=trapped()))
    assert event is not None
    assert event["alarm_id"] == holder["a"][0] and event["to"] == "active"
    assert event["site_id"] == world.site_id and event["severity"] == "P0"


def test_an_operator_of_another_estate_does_not_receive_it(server: str, world: World, trapped) -> None:
    def trigger() -> None:
        trapped()
        with connect(world.database_url, autocommit=True) as conn:  # then a marker for the other estate
            conn.execute("SELECT pg_notify('pw_alarms', %s)", (json.dumps({"site_id": "OTHERSITE", "marker": 1}),))

    event = _first_event(server, _token(server, world, "outsider"), trigger)
    assert event == {"site_id": "OTHERSITE", "marker": 1}


def test_open_streams_hold_no_database_connection(server: str, world: World) -> None:
    headers = _token(server, world, "operator")
    with httpx.Client(timeout=10) as client:
        streams = [client.stream("GET", f"{server}/api/v1/events/stream", headers=headers) for _ in range(12)]
        opened = [s.__enter__() for s in streams]  # more streams than the pool has connections (8)
        try:
            assert all(r.status_code == 200 for r in opened)
            assert client.get(f"{server}/api/v1/auth/me", headers=headers).status_code == 200
        finally:
            for s in streams:
                s.__exit__(None, None, None)
