"""Every endpoint, every role: who may call what. One seeded estate shared by the whole table.

An allowed role must get past authorisation (any status but 401/403); every other role gets 403; a caller
without credentials gets 401 (public endpoints excepted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.users import ROLES

from .world import (
    OTHER_SITE,
    World,
    crew_accepts,
    open_emergency_draw,
)

ALL = set(ROLES)
CONTROL = {"admin", "operator", "subdistrict"}
HANDLERS = {"admin", "operator"}
WO_READERS = {"admin", "operator", "crew", "committee", "subdistrict"}
FUND_READERS = {"admin", "operator", "committee", "subdistrict"}
PUBLIC = ALL | {None}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# (method, path, json body or files, roles allowed)
TABLE: list[tuple[str, str, Any, set[str | None]]] = [
    ("GET", "/api/v1/auth/me", None, ALL),
    ("GET", "/api/v1/alarms", None, CONTROL),
    ("GET", "/api/v1/alarms/{alarm}", None, CONTROL),
    ("POST", "/api/v1/alarms/{alarm}/ack", {"comment": "on it"}, HANDLERS),
    ("POST", "/api/v1/alarms/{alarm}/assign", {"assignee": "em-1", "comment": ""}, HANDLERS),
    ("POST", "/api/v1/alarms/{alarm}/clear", {"comment": "test"}, HANDLERS),
    ("POST", "/api/v1/silences", {"scope_type": "device", "scope_id": "{device}", "reason": "maintenance",
                                  "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T02:00:00Z"}, HANDLERS),
    ("GET", "/api/v1/work-orders", None, WO_READERS),
    ("GET", "/api/v1/work-orders/{order}", None, WO_READERS),
    ("POST", "/api/v1/work-orders", {"site_id": "{site}", "origin": "owner_report", "category": "water_outage",
                                     "description": "停水", "address": "1号楼", "reporter_contact": ""}, HANDLERS),
    ("POST", "/api/v1/work-orders/{order}/transition", {"to_state": "EN_ROUTE"}, {"admin", "operator", "crew"}),
    ("POST", "/api/v1/work-orders/{order}/accept", None, {"crew"}),
    ("POST", "/api/v1/work-orders/{order}/photos", "photo", {"admin", "operator", "crew"}),
    ("GET", "/api/v1/sites", None, CONTROL),
    ("GET", "/api/v1/sites/{site}/buildings", None, CONTROL),
    ("GET", "/api/v1/devices", None, CONTROL),
    ("GET", "/api/v1/devices/{device}", None, CONTROL),
    ("GET", "/api/v1/devices/{device}/latest", None, CONTROL),
    ("GET", "/api/v1/devices/{device}/history?metric=speed", None, CONTROL),
    ("GET", "/api/v1/presence", None, CONTROL),
    ("GET", "/api/v1/dead-letters", None, {"admin", "operator", "subdistrict"}),
    ("GET", "/api/v1/dead-letters/reasons", None, {"admin", "operator", "subdistrict"}),
    ("GET", "/api/v1/fund/draws", None, FUND_READERS),
    ("GET", "/api/v1/fund/draws/{draw}", None, FUND_READERS),
    ("POST", "/api/v1/fund/draws", {"work_order_id": "{order}", "item": "x", "contractor": "c",
                                    "scope_type": "building", "scope_id": "{building}", "estimate": "100.00"},
     HANDLERS),
    # The sub-district office approves only where there is no owners' committee; this estate has one.
    ("POST", "/api/v1/fund/draws/{draw}/approve", {"comment": "ok"}, {"committee"}),
    ("POST", "/api/v1/fund/draws/{draw}/reject", {"comment": "no"}, {"committee"}),
    ("POST", "/api/v1/fund/draws/{draw}/complete", {"actual_cost": "100.00"}, HANDLERS),
    ("GET", "/api/v1/fund/me", None, {"owner"}),
    ("GET", "/api/v1/kpi?site_id={site}", None, FUND_READERS),
    ("GET", "/api/v1/responsibility", None, CONTROL),
    ("PUT", "/api/v1/responsibility", {"document": "format: nonsense"}, {"admin"}),
    ("GET", "/api/v1/units", None, CONTROL),
    ("GET", "/api/v1/users", None, {"admin"}),
    ("POST", "/api/v1/users", {"username": "made-{role}", "password": "long-enough-1", "role": "owner",
                               "display_name": "x"}, {"admin"}),
    ("GET", "/api/v1/audit", None, {"admin"}),
    ("GET", "/api/v1/public/sites/{site}/board", None, PUBLIC),
]


@dataclass(frozen=True)
class Ids:
    alarm: int
    order: int
    draw: int


@pytest.fixture(scope="module")
def ids(world: World, trapped, order_for) -> Ids:
    """An alarm, its work order (accepted by the crew member) and an emergency draw, for this table only."""
    alarm_id, device_id = trapped()
    order_id = order_for(device_id)
    crew_accepts(world, order_id)
    return Ids(alarm_id, order_id, open_emergency_draw(world, order_id=order_id))


@pytest.fixture(scope="module")
def api(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(database_url=world.database_url, secret_key="k"),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(world: World, api: TestClient) -> dict[str, dict[str, str]]:
    out = {}
    for role, (username, password) in world.passwords.items():
        res = api.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert res.status_code == 200, res.text
        out[role] = {"Authorization": f"Bearer {res.json()['access_token']}"}
    res = api.post("/api/v1/auth/token", data={"username": "outsider", "password": "outsider-pass-1"})
    out["outsider"] = {"Authorization": f"Bearer {res.json()['access_token']}"}
    return out


def _fill(text: str, world: World, ids: Ids, role: str) -> str:
    found = ids
    return (text.replace("{alarm}", str(found.alarm)).replace("{order}", str(found.order))
            .replace("{draw}", str(found.draw)).replace("{site}", world.site_id)
            .replace("{device}", world.elevator_id).replace("{building}", world.building_id)
            .replace("{role}", role))


def _call(api: TestClient, world: World, ids: Ids, method: str, path: str, body: Any, role: str,
          headers: dict[str, str]) -> Any:
    url = _fill(path, world, ids, role)
    if body == "photo":
        return api.request(method, url, headers=headers, files={"photo": ("p.png", PNG, "image/png")})
    if body is None:
        return api.request(method, url, headers=headers)
    payload = {k: (_fill(v, world, ids, role) if isinstance(v, str) else v) for k, v in body.items()}
    if "work_order_id" in payload:
        payload["work_order_id"] = int(payload["work_order_id"])
    return api.request(method, url, headers=headers, json=payload)


CASES = [pytest.param(m, p, b, role, role in allowed, id=f"{m} {p.split('?')[0]} as {role}")
         for m, p, b, allowed in TABLE for role in ROLES]


@pytest.mark.parametrize(("method", "path", "body", "role", "allowed"), CASES)
def test_role_may_or_may_not_call_the_endpoint(api: TestClient, world: World, ids: Ids,
                                               tokens: dict[str, dict[str, str]], method: str, path: str, body: Any,
                                               role: str, allowed: bool) -> None:
    res = _call(api, world, ids, method, path, body, role, tokens[role])
    assert res.status_code != 500, res.text
    if allowed:
        assert res.status_code not in (401, 403), res.text
    else:
        assert res.status_code == 403, res.text
        assert res.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body", "allowed"),
                         [pytest.param(m, p, b, a, id=f"{m} {p.split('?')[0]}") for m, p, b, a in TABLE])
def test_anonymous_callers_get_401_except_on_the_public_board(api: TestClient, world: World, ids: Ids,
                                                               method: str, path: str, body: Any,
                                                               allowed: set) -> None:
    res = _call(api, world, ids, method, path, body, "anon", {})
    if None in allowed:
        assert res.status_code == 200
    else:
        assert res.status_code == 401
        assert res.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ["committee", "owner", "public"])
def test_the_event_stream_is_closed_to_roles_outside_operations(api: TestClient, tokens, role: str) -> None:
    assert api.get("/api/v1/events/stream", headers=tokens[role]).status_code == 403


def test_the_event_stream_needs_credentials(api: TestClient) -> None:
    assert api.get("/api/v1/events/stream").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/alarms/{alarm}", "/api/v1/work-orders/{order}",
                                  "/api/v1/devices/{device}", "/api/v1/fund/draws/{draw}",
                                  "/api/v1/sites/{site}/buildings"])
def test_an_operator_of_another_estate_is_refused_this_estates_records(api: TestClient, world: World, ids: Ids,
                                                                       tokens, path: str) -> None:
    res = api.get(_fill(path, world, ids, "outsider"), headers=tokens["outsider"])
    assert res.status_code == 403


def test_listings_only_show_the_callers_sites(api: TestClient, world: World, tokens) -> None:
    assert api.get("/api/v1/alarms", headers=tokens["outsider"]).json()["total"] == 0
    assert api.get("/api/v1/work-orders", headers=tokens["outsider"]).json()["total"] == 0
    sites = api.get("/api/v1/sites", headers=tokens["outsider"]).json()["items"]
    assert [s["id"] for s in sites] == [OTHER_SITE]


def test_asking_for_another_estates_site_is_403(api: TestClient, world: World, tokens) -> None:
    assert api.get(f"/api/v1/alarms?site_id={world.site_id}", headers=tokens["outsider"]).status_code == 403
