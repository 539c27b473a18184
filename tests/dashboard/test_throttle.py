"""Sign-in throttling by (username, source) and by source: it slows a guesser and never locks the real user out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dashboard import throttle
from dashboard.app import create_app
from dashboard.serve import serve_in_thread
from dashboard.users import User
from ingest.database import connect

from .conftest import PASSWORD

Clients = tuple[TestClient, TestClient]


@pytest.fixture
def clients(app: FastAPI) -> Iterator[Clients]:
    """Two clients of one app: the real user at 127.0.0.1 and an attacker at 127.0.0.2."""
    with TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50000)) as user_side:
        yield user_side, TestClient(app, raise_server_exceptions=False, client=("127.0.0.2", 50000))


def _token(client: TestClient | httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_a_flood_from_one_address_does_not_stop_the_user_signing_in_from_another(
        clients: Clients, make_user: Callable[..., User]) -> None:
    user = make_user("admin")
    mine, attacker = clients
    statuses = [_token(attacker, user.username, "guess-guess").status_code for _ in range(12)]
    assert statuses[-1] == 429
    assert _token(mine, user.username, PASSWORD).status_code == 200


def test_the_flooding_address_waits_even_with_the_right_password(clients: Clients,
                                                                  make_user: Callable[..., User]) -> None:
    user = make_user("admin")
    _, attacker = clients
    for _ in range(7):
        _token(attacker, user.username, "guess-guess")
    res = _token(attacker, user.username, PASSWORD)
    assert res.status_code == 429 and res.json()["error"]["code"] == "rate_limited"
    assert int(res.headers["retry-after"]) >= 1


def test_delays_grow_after_the_free_failures(clients: Clients, make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    _, attacker = clients
    free = [_token(attacker, user.username, "guess-guess").status_code for _ in range(throttle.FREE_PER_ACCOUNT)]
    assert free == [401] * throttle.FREE_PER_ACCOUNT
    first = _token(attacker, user.username, "guess-guess")
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    time.sleep(1.1)
    assert _token(attacker, user.username, "guess-guess").status_code == 401
    second = _token(attacker, user.username, "guess-guess")
    assert second.status_code == 429 and second.headers["retry-after"] == "2"


def test_spraying_one_password_over_many_usernames_is_throttled_per_address(clients: Clients) -> None:
    mine, attacker = clients
    sprayed = [_token(attacker, f"user{n}", "Spring2026!").status_code for n in range(throttle.FREE_PER_SOURCE + 1)]
    assert sprayed[: throttle.FREE_PER_SOURCE] == [401] * throttle.FREE_PER_SOURCE
    assert sprayed[-1] == 429
    assert _token(mine, "user99", "Spring2026!").status_code == 401


def test_a_good_sign_in_forgets_the_failures_of_that_username_and_address(clients: Clients,
                                                                           make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    mine, _ = clients
    for _ in range(throttle.FREE_PER_ACCOUNT - 1):
        assert _token(mine, user.username, "typo-typo").status_code == 401
    assert _token(mine, user.username, PASSWORD).status_code == 200
    statuses = [_token(mine, user.username, "typo-typo").status_code for _ in range(throttle.FREE_PER_ACCOUNT)]
    assert statuses == [401] * throttle.FREE_PER_ACCOUNT


def test_the_login_form_shows_the_wait_instead_of_a_json_error(clients: Clients,
                                                              make_user: Callable[..., User]) -> None:
    user = make_user("operator")
    _, attacker = clients
    for _ in range(throttle.FREE_PER_ACCOUNT + 1):
        _token(attacker, user.username, "guess-guess")
    form = attacker.get("/login")
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    res = attacker.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": csrf})
    assert res.status_code == 429 and "登录失败次数过多" in res.text and "retry-after" in res.headers


@pytest.mark.parametrize(("address", "key"), [("127.0.0.2", "127.0.0.2"), ("::ffff:10.0.0.9", "10.0.0.9"),
                                              ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), (None, "unknown")])
def test_sources_are_counted_per_address_and_per_ipv6_network(address: str | None, key: str) -> None:
    assert throttle.source_key(address) == key


def test_login_from_127_0_0_1_succeeds_at_once_while_127_0_0_2_fails_100_times(
        db_url: str, make_user: Callable[..., User]) -> None:
    """Against a real server: the attacker's connections come from 127.0.0.2, the user's from 127.0.0.1."""
    user = make_user("admin")
    statuses: list[int] = []

    def flood(base: str) -> None:
        with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address="127.0.0.2"),
                          timeout=30) as attacker:
            statuses.extend(_token(attacker, user.username, f"guess-{n}").status_code for n in range(100))

    with serve_in_thread(create_app(database_url=db_url, secret_key="k" * 32)) as base:
        attack = threading.Thread(target=flood, args=(base,))
        attack.start()
        while len(statuses) < 10:
            time.sleep(0.05)
        with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address="127.0.0.1"),
                          timeout=30) as mine:
            started = time.perf_counter()
            res = _token(mine, user.username, PASSWORD)
            elapsed = time.perf_counter() - started
        attack.join(timeout=120)
    print(f"\nreal user's sign-in during the flood: {res.status_code} in {elapsed * 1000:.0f} ms; "
          f"attacker: {statuses.count(401)} x 401, {statuses.count(429)} x 429")
    assert res.status_code == 200 and elapsed < 2.0
    assert len(statuses) == 100 and set(statuses) <= {401, 429} and statuses.count(429) >= 85


def test_a_spray_over_48_usernames_is_throttled_and_the_alarm_list_stays_fast(world, as_role, api) -> None:
    """Against a real server: 127.0.0.2 sprays one password over 48 usernames, 8 at a time, while an operator at
    127.0.0.1 keeps reading the alarm list."""
    headers = as_role("operator")
    sprayed: list[int] = []
    latencies: list[float] = []
    with serve_in_thread(create_app(database_url=world.database_url, secret_key="k")) as base:
        def spray(names: range) -> None:
            with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address="127.0.0.2"),
                              timeout=60) as attacker:
                sprayed.extend(_token(attacker, f"sprayed-{n}", "Spring2026!").status_code for n in names)

        sprayers = [threading.Thread(target=spray, args=(range(k, 48, 8),)) for k in range(8)]
        for sprayer in sprayers:
            sprayer.start()
        with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address="127.0.0.1"),
                          timeout=60, headers=headers) as operator:
            while any(sprayer.is_alive() for sprayer in sprayers):
                started = time.perf_counter()
                assert operator.get("/api/v1/alarms").status_code == 200
                latencies.append(time.perf_counter() - started)
        for sprayer in sprayers:
            sprayer.join()
    with connect(world.database_url) as conn:  # the estate is shared with later tests
        conn.execute("DELETE FROM web_login_failures")
        conn.commit()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95)] if latencies else 0.0
    print(f"\nspray of 48 usernames: {sprayed.count(401)} x 401, {sprayed.count(429)} x 429; alarm list during it: "
          f"{len(latencies)} reads, p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
    assert len(sprayed) == 48 and sprayed.count(429) >= 48 - throttle.FREE_PER_SOURCE - 4
    assert p95 < 1.5  # the issue saw 1.1–5.6 s before throttling; this machine is shared and often loaded
