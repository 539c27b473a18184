"""Concurrent sign-ins against `propwatch serve` in its own process: they neither starve the API of database
connections nor get more guesses past the throttle than it allows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from dashboard import throttle
from dashboard.users import User

from .conftest import PASSWORD
from .live_server import LiveServer, propwatch_serve

ATTACKERS = [f"127.0.0.{n}" for n in range(10, 22)]


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with propwatch_serve(db_url, tmp_path) as server:
        yield server


def _sign_in(base: str, address: str, username: str, password: str) -> int:
    with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=address), timeout=60) as client:
        return client.post("/api/v1/auth/token", data={"username": username, "password": password}).status_code


def _together(calls: list[Callable[[], int]]) -> list[int]:
    """Run ``calls`` on threads released at the same moment; their results in order."""
    results = [0] * len(calls)
    start = threading.Barrier(len(calls))

    def run(k: int) -> None:
        start.wait()
        results[k] = calls[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twelve_failing_sign_ins_from_twelve_addresses_leave_the_api_its_connections(
        live: LiveServer, make_user: Callable[..., User]) -> None:
    admin = make_user("admin")
    with httpx.Client(base_url=live.url, timeout=60) as client:
        token = client.post("/api/v1/auth/token", data={"username": admin.username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    latencies: list[float] = []

    def read_orders() -> int:
        time.sleep(0.2)  # the sign-ins are queued for the password check by now
        with httpx.Client(base_url=live.url, transport=httpx.HTTPTransport(local_address="127.0.0.1"),
                          timeout=60, headers=headers) as client:
            started = time.perf_counter()
            status = client.get("/api/v1/work-orders").status_code
            latencies.append(time.perf_counter() - started)
            return status

    sign_ins = [lambda address=address: _sign_in(live.url, address, admin.username, "wrong-guess")
                for address in ATTACKERS]
    statuses = _together([*sign_ins, *[read_orders] * 5])
    print(f"\n12 failing sign-ins: {statuses[:12]}; 5 work-order reads alongside: {statuses[12:]}, "
          f"slowest {max(latencies) * 1000:.0f} ms")
    assert statuses[12:] == [200] * 5
    assert statuses[:12] == [401] * 12


def test_concurrent_guesses_from_one_address_are_all_counted_before_any_is_checked(
        live: LiveServer, make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    statuses = _together([lambda: _sign_in(live.url, "127.0.0.2", user.username, "wrong-guess")] * 12)
    print(f"\n12 concurrent guesses from one address: {statuses.count(401)} x 401, {statuses.count(429)} x 429")
    assert statuses.count(401) == throttle.FREE_PER_ACCOUNT
    assert statuses.count(429) == 12 - throttle.FREE_PER_ACCOUNT
