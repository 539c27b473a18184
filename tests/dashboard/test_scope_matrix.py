"""Role × scope × endpoint, generated from the app's own router table, so a new endpoint cannot ship unscoped.

Every API endpoint the app serves must be listed below as public, the caller's own, global by design (with the
reason), or site-scoped. For each site-scoped endpoint and each role its ``require`` group lets in, a user of
that role scoped to another estate calls it with this estate's records: a read must answer 403/404 or carry
nothing of this estate, a change must be refused. The same reads by a user of this estate get past authorisation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.roles import ADMINS
from dashboard.users import create_user
from dispatch.crew import CrewMember, upsert_crew_member
from gateway.dead_letters import insert_dead_letters, make_dead_letter
from ingest.database import connect
from supervision import current_project
from supervision.inspections import list_inspections
from supervision.lists import add_entry

from .pictures import png
from .world import OTHER_SITE, World, crew_accepts, open_emergency_draw

PUBLIC = {("POST", "/api/v1/auth/token"), ("GET", "/api/v1/public/sites/{site_id}/board"),
          ("GET", "/api/v1/public/companies/{company_id}/credit")}
OWN = {("GET", "/api/v1/auth/me"): "the caller's own account",
       ("POST", "/api/v1/auth/logout"): "the caller's own token",
       ("GET", "/api/v1/fund/me"): "the caller's own household",
       ("GET", "/api/v1/owners/me/fund"): "the caller's own household",
       ("GET", "/api/v1/owners/me/fund/statement/{year}"): "the caller's own household",
       ("GET", "/api/v1/owners/me/votes"): "the caller's own household"}
GLOBAL = {
    ("GET", "/api/v1/responsibility"): "one responsibility list serves every estate (its items name their sites)",
    ("GET", "/api/v1/responsibility/schema"): "the list's JSON schema",
    ("GET", "/api/v1/responsibility/versions"): "versions of the one list",
    ("GET", "/api/v1/responsibility/versions/{version}"): "a version of the one list",
    ("POST", "/api/v1/responsibility/review"): "admins only, who see every estate",
    ("PUT", "/api/v1/responsibility"): "admins only, who see every estate",
    ("GET", "/api/v1/users"): "admins only",
    ("POST", "/api/v1/users"): "admins only",
    ("PATCH", "/api/v1/users/{user_id}"): "admins only",
    ("POST", "/api/v1/users/{user_id}/password"): "admins only",
    ("GET", "/api/v1/audit"): "admins only",
    ("GET", "/api/v1/complaints/categories"): "the category catalogue",
    ("GET", "/api/v1/preventive-plans/templates"): "the plan templates",
    ("GET", "/api/v1/events/stream"): "filtered per event, tested in test_events_stream.py",
    ("POST", "/api/v1/rule-packs"): "admins only: a rule pack serves every estate",
    ("POST", "/api/v1/rule-packs/review"): "admins only: checks a pack, stores nothing",
    ("GET", "/api/v1/fund/vote-rules"): "Civil Code art. 278's thresholds, the same for every estate",
    ("POST", "/api/v1/companies"): "admins only: the register of property companies",
    ("PATCH", "/api/v1/companies/{company_id}"): "admins only: the register of property companies",
    ("DELETE", "/api/v1/companies/{company_id}"): "admins only: the register of property companies",
    ("POST", "/api/v1/projects"): "admins only: contracts are filed by the administrator",
    ("PATCH", "/api/v1/projects/{project_id}"): "admins only: contracts are filed by the administrator",
}
# Site-scoped: (method, path template) -> request body (None: no body). Path parameters come from ``ids``.
SCOPED: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/alarms"): None,
    ("GET", "/api/v1/alarms/{alarm_id}"): None,
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): {"comment": "x"},
    ("POST", "/api/v1/alarms/{alarm_id}/assign"): {"assignee": "em-1", "comment": ""},
    ("POST", "/api/v1/alarms/{alarm_id}/clear"): {"comment": "x"},
    ("GET", "/api/v1/alarms/{alarm_id}/history"): None,
    ("GET", "/api/v1/alarms/counts"): None,
    ("POST", "/api/v1/alarms/ack"): {"ids": ["{alarm_id}"], "comment": "x"},
    ("GET", "/api/v1/silences"): None,
    ("GET", "/api/v1/silences/{silence_id}"): None,
    ("DELETE", "/api/v1/silences/{silence_id}"): None,
    ("POST", "/api/v1/silences"): {"scope_type": "site", "scope_id": "{site_id}", "reason": "maintenance",
                                   "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T02:00:00Z"},
    ("GET", "/api/v1/work-orders"): None,
    ("POST", "/api/v1/work-orders"): {"site_id": "{site_id}", "origin": "owner_report", "category": "water_outage",
                                      "description": "停水", "address": "1号楼", "reporter_contact": ""},
    ("GET", "/api/v1/work-orders/{order_id}"): None,
    ("GET", "/api/v1/work-orders/{order_id}/candidates"): None,
    ("POST", "/api/v1/work-orders/{order_id}/assign"): {"crew_member_id": "{crew_member_id}", "reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/ack"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/hold"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/resume"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/cancel"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/false-alarm"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/verify"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/close"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/reopen"): {"reason": "x"},
    ("POST", "/api/v1/work-orders/{order_id}/transition"): {"to_state": "EN_ROUTE"},
    ("POST", "/api/v1/work-orders/{order_id}/costs"): {"note": "x", "cost": "1.00"},
    ("POST", "/api/v1/work-orders/{order_id}/accept"): None,
    ("POST", "/api/v1/work-orders/{order_id}/photos"): "photo",
    ("GET", "/api/v1/work-orders/{order_id}/photos/{photo_id}"): None,
    ("GET", "/api/v1/sites"): None,
    ("GET", "/api/v1/sites/{site_id}/buildings"): None,
    ("GET", "/api/v1/devices"): None,
    ("GET", "/api/v1/devices/{device_id}"): None,
    ("GET", "/api/v1/devices/{device_id}/latest"): None,
    ("GET", "/api/v1/devices/{device_id}/history"): None,
    ("GET", "/api/v1/sites/{site_id}/plan"): None,
    ("PUT", "/api/v1/sites/{site_id}/plan/buildings/{building_id}"): {"x": 10, "y": 10},
    ("PUT", "/api/v1/sites/{site_id}/plan/devices/{device_id}"): {"x": 10, "y": 10},
    ("GET", "/api/v1/presence"): None,
    ("GET", "/api/v1/dead-letters"): None,
    ("GET", "/api/v1/dead-letters/reasons"): None,
    ("GET", "/api/v1/fund/draws"): None,
    ("GET", "/api/v1/fund/draws/{draw_id}"): None,
    ("POST", "/api/v1/fund/draws"): {"work_order_id": "{order_id}", "item": "x", "contractor": "c",
                                     "scope_type": "building", "scope_id": "{building_id}", "estimate": "100.00"},
    ("POST", "/api/v1/fund/draws/{draw_id}/approve"): {"comment": "ok"},
    ("POST", "/api/v1/fund/draws/{draw_id}/reject"): {"comment": "no"},
    ("POST", "/api/v1/fund/draws/{draw_id}/complete"): {"actual_cost": "100.00"},
    ("GET", "/api/v1/kpi"): None,
    ("GET", "/api/v1/units"): None,
    ("GET", "/api/v1/crew"): None,
    ("GET", "/api/v1/crew/{crew_member_id}"): None,
    ("POST", "/api/v1/crew"): {"id": "matrix-crew", "unit_id": "{unit_id}", "name": "x", "skills": ["elevator"],
                               "site_ids": ["{site_id}"]},
    ("PATCH", "/api/v1/crew/{crew_member_id}"): {"phone": "13800000000"},
    ("POST", "/api/v1/complaints"): {"site_id": "{site_id}", "category": "noise", "description": "吵",
                                     "address": "1号楼"},
    ("GET", "/api/v1/complaints"): None,
    ("GET", "/api/v1/complaints/owed"): None,
    ("GET", "/api/v1/complaints/{order_id}"): None,
    ("POST", "/api/v1/complaints/{order_id}/hotline/{record}"): {"text": "x"},
    ("POST", "/api/v1/complaints/{order_id}/satisfaction"): {"rating": "satisfied"},
    ("GET", "/api/v1/fund/sites/{site_id}/settings"): None,
    ("PUT", "/api/v1/fund/sites/{site_id}/settings"): {"has_committee": False},
    # owners and committees (issue 20): votes, shared parts, annual disclosures, elevator insurance
    ("GET", "/api/v1/fund/sites/{site_id}/votes"): None,
    ("POST", "/api/v1/fund/sites/{site_id}/votes"): {"matter": "use", "title": "x",
                                                     "closes_at": "2030-01-01T00:00:00+08:00"},
    ("GET", "/api/v1/fund/votes/{vote_id}"): None,
    ("POST", "/api/v1/fund/votes/{vote_id}/close"): None,
    ("POST", "/api/v1/owners/votes/{vote_id}/ballot"): {"choice": "yes"},
    ("GET", "/api/v1/fund/sites/{site_id}/vote-results"): None,
    ("GET", "/api/v1/fund/sites/{site_id}/shared-parts"): None,
    ("POST", "/api/v1/fund/sites/{site_id}/shared-parts"): {"direction": "income", "category": "advertising",
                                                            "amount": "1.00", "occurred_on": "2026-11-01",
                                                            "counterparty": "某传媒有限公司", "basis": "x"},
    ("GET", "/api/v1/fund/sites/{site_id}/shared-parts/summary/{year}"): None,
    ("GET", "/api/v1/fund/sites/{site_id}/annual-disclosures"): None,
    ("POST", "/api/v1/fund/sites/{site_id}/annual-disclosures"): {"year": 2030},
    ("GET", "/api/v1/fund/annual-disclosures/{disclosure_id}"): None,
    ("POST", "/api/v1/fund/annual-disclosures/{disclosure_id}/review"): {"comment": "x"},
    ("POST", "/api/v1/fund/annual-disclosures/{disclosure_id}/publish"): None,
    ("GET", "/api/v1/fund/sites/{site_id}/insurance"): None,
    ("POST", "/api/v1/fund/sites/{site_id}/insurance"): {"policy_number": "M-1", "insurer": "某保险股份有限公司",
                                                         "period_start": "2030-01-01", "period_end": "2031-01-01",
                                                         "premium": "1.00", "elevators": ["{device_id}"]},
    ("GET", "/api/v1/work-orders/{order_id}/notifications"): None,
    ("GET", "/api/v1/preventive-plans"): None,
    ("GET", "/api/v1/preventive-plans/{plan_id}"): None,
    ("POST", "/api/v1/preventive-plans"): {"template": "elevator_half_monthly", "site_id": "{site_id}",
                                           "device_id": "{device_id}", "first_due": "2030-01-01T00:00:00Z"},
    ("PATCH", "/api/v1/preventive-plans/{plan_id}"): {"active": False},
    # services, prices, bookings and board items (issue 20, clauses 11, 15, 19)
    ("GET", "/api/v1/sites/{site_id}/services"): None,
    ("POST", "/api/v1/sites/{site_id}/services"): {"code": "matrix", "kind": "extra", "name": "x", "content": "x",
                                                   "standard": "x", "price": "1.00", "unit": "元/次", "basis": "x",
                                                   "effective_from": "2030-01-01"},
    ("GET", "/api/v1/services/{service_id}"): None,
    ("PATCH", "/api/v1/services/{service_id}"): {"standard": "x"},
    ("GET", "/api/v1/services/{service_id}/prices"): None,
    ("POST", "/api/v1/services/{service_id}/prices"): {"price": "1.00", "effective_from": "2031-01-01", "basis": "x"},
    ("POST", "/api/v1/bookings"): {"service_id": "{service_id}", "slot_start": "2030-01-01T01:00:00Z",
                                   "slot_end": "2030-01-01T03:00:00Z"},
    ("GET", "/api/v1/bookings"): None,
    ("GET", "/api/v1/bookings/{booking_id}"): None,
    ("POST", "/api/v1/bookings/{booking_id}/confirm"): None,
    ("POST", "/api/v1/bookings/{booking_id}/done"): None,
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): {"reason": "x"},
    ("POST", "/api/v1/bookings/{booking_id}/rate"): {"rating": 5},
    ("GET", "/api/v1/sites/{site_id}/board-items"): None,
    ("PUT", "/api/v1/sites/{site_id}/board-items/parking"): {"total": 1, "sold": 0, "rented": 0, "visitor": 0},
    ("PUT", "/api/v1/sites/{site_id}/board-items/apportionments/{month}/{utility}"): {"total": "1.00", "basis": "x",
                                                                                     "method": "area"},
    ("PUT", "/api/v1/sites/{site_id}/board-items/fee-statements/{period}"): {"income": "1.00", "spending": "1.00"},
    ("PUT", "/api/v1/sites/{site_id}/board-items/complaint-phones"): {"phones": []},
    # supervision of property companies (issue 20, clauses 20 and 21): a company is seen where it serves
    ("GET", "/api/v1/companies"): None,
    ("GET", "/api/v1/companies/{company_id}"): None,
    ("GET", "/api/v1/projects"): None,
    ("GET", "/api/v1/sites/{site_id}/project"): None,
    ("POST", "/api/v1/inspections"): {"site_id": "{site_id}", "inspected_on": "2026-11-20", "score": "80",
                                      "items": [{"item": "x", "result": "pass"}]},
    ("GET", "/api/v1/inspections"): None,
    ("GET", "/api/v1/inspections/{inspection_id}"): None,
    ("PUT", "/api/v1/companies/{company_id}/opinions/{month}"): {"rating": "good"},
    ("GET", "/api/v1/companies/{company_id}/opinions"): None,
    ("GET", "/api/v1/companies/{company_id}/credit"): None,
    ("POST", "/api/v1/companies/{company_id}/credit/{month}/recompute"): None,
    ("GET", "/api/v1/companies/{company_id}/list-entries"): None,
    ("POST", "/api/v1/companies/{company_id}/list-entries"): {"list": "black", "reason": "x",
                                                              "effective_from": "2026-11-01"},
    ("POST", "/api/v1/list-entries/{entry_id}/publish"): None,
    ("POST", "/api/v1/list-entries/{entry_id}/revoke"): {"reason": "x"},
}
QUERIES = {("GET", "/api/v1/devices/{device_id}/history"): "metric=speed"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def api_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Every (method, path) the app serves under /api/, from its router table."""
    found = {}
    for context in iter_route_contexts(list(app.routes)):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path and context.path.startswith("/api/"):
            for method in context.methods or ():
                found[(method, context.path)] = route
    return found


def role_group(route: APIRoute) -> tuple[str, ...] | None:
    """The roles the route's ``require`` dependency lets in, ``None`` without one."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        group = getattr(dependency.call, "group", None)
        if group is not None:
            return tuple(group)
        pending.extend(dependency.dependencies)
    return None


APP = create_app(database_url="postgresql://unused@127.0.0.1/unused")
ROUTES = api_routes(APP)


def test_every_endpoint_is_in_the_matrix() -> None:
    listed = PUBLIC | set(OWN) | set(GLOBAL) | set(SCOPED)
    missing = sorted(set(ROUTES) - listed)
    assert not missing, "endpoints not in the scope matrix (add each to SCOPED, or to GLOBAL with the reason):\n" + \
        "\n".join(f"  {m} {p}" for m, p in missing)
    assert not sorted(listed - set(ROUTES)), "the matrix lists endpoints the app no longer serves"


def test_every_scoped_endpoint_lets_in_only_the_roles_of_a_group() -> None:
    unchecked = [key for key in (set(SCOPED) | set(GLOBAL) - {("GET", "/api/v1/events/stream")})
                 if key in ROUTES and role_group(ROUTES[key]) is None]
    assert not unchecked, f"endpoints with no role check: {sorted(unchecked)}"


@dataclass(frozen=True)
class Ids:
    values: dict[str, str]

    def fill(self, text: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.values[m[1]], text)


@pytest.fixture(scope="module")
def ids(world: World, trapped, order_for, api: TestClient, as_role) -> Ids:
    silence = api.post("/api/v1/silences", headers=as_role("admin"), json={
        "scope_type": "site", "scope_id": world.site_id, "reason": "matrix", "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-01-01T02:00:00Z"})
    assert silence.status_code == 201, silence.text
    alarm_id, device_id = trapped()
    order_id = order_for(device_id)
    crew_accepts(world, order_id)
    draw_id = open_emergency_draw(world, order_id=order_id)
    photo = api.post(f"/api/v1/work-orders/{order_id}/photos", headers=as_role("admin"),
                     files={"photo": ("p.png", png(8, 8), "image/png")})
    assert photo.status_code == 201, photo.text
    with connect(world.database_url) as conn:
        plan = conn.execute("SELECT id FROM preventive_plans WHERE site_id = %s LIMIT 1", (world.site_id,)).fetchone()
        unit = conn.execute("SELECT unit_id FROM dispatch_crew WHERE id = %s", (world.crew_member_id,)).fetchone()
        service = conn.execute("SELECT id FROM service_items WHERE site_id = %s AND bookable LIMIT 1",
                               (world.site_id,)).fetchone()
        booking = conn.execute("SELECT id FROM service_bookings WHERE site_id = %s LIMIT 1",
                               (world.site_id,)).fetchone()
        project = current_project(conn, world.site_id)
        # A rejected message of this estate's lift: the dead-letter listings must not show it to outsiders.
        insert_dead_letters(conn, [make_dead_letter(
            received_at=datetime.now(UTC), topic=f"pw/v1/{world.site_id}/{device_id}/telemetry", reason="bad_json",
            detail=f"matrix probe of {world.site_id}", payload=b"{", site_id=world.site_id, device_id=device_id)])
        inspection = list_inspections(conn, sites=[world.site_id])[0]
        entry = add_entry(conn, company_id=project.company_id, list_name="red", reason="matrix",
                          effective_from=date(2026, 11, 1), added_by="matrix")
        conn.commit()
        vote = conn.execute("SELECT id FROM fund_votes WHERE site_id = %s LIMIT 1", (world.site_id,)).fetchone()
        disclosure = conn.execute("SELECT id FROM fund_annual_disclosures WHERE site_id = %s LIMIT 1",
                                  (world.site_id,)).fetchone()
    return Ids({"alarm_id": str(alarm_id), "order_id": str(order_id), "draw_id": str(draw_id),
                "site_id": world.site_id, "device_id": device_id, "building_id": world.building_id,
                "crew_member_id": world.crew_member_id, "plan_id": str(plan[0]), "unit_id": unit[0],
                "version": "1", "record": "reply", "silence_id": str(silence.json()["id"]),
                "service_id": str(service[0]), "booking_id": str(booking[0]), "month": "2030-01", "utility": "water",
                "period": "2030", "company_id": str(project.company_id), "project_id": str(project.project_id),
                "inspection_id": str(inspection.id), "entry_id": str(entry.id),
                "vote_id": str(vote[0]), "disclosure_id": str(disclosure[0]), "year": "2030",
                "photo_id": str(photo.json()["photo"]["id"])})


@pytest.fixture(scope="module")
def outsiders(world: World, ids: Ids, api: TestClient) -> dict[str, dict[str, str]]:
    """Bearer headers for one user of every role scoped to the other estate (a crew member of the same unit)."""
    headers = {}
    with connect(world.database_url) as conn:
        upsert_crew_member(conn, CrewMember(id="crew-outsider", unit_id=ids.values["unit_id"], name="外区维保",
                                            phone="", skills=["elevator"], on_shift=True, site_ids=[OTHER_SITE]))
        for role in ("operator", "crew", "committee", "subdistrict", "owner", "public"):
            extra = {"crew_member_id": "crew-outsider", "unit_id": ids.values["unit_id"]} if role == "crew" else {}
            create_user(conn, username=f"out-{role}", password="outsider-pass-1", role=role,
                        display_name="outsider", site_ids=[OTHER_SITE], **extra)
        conn.commit()
    for role in ("operator", "crew", "committee", "subdistrict", "owner", "public"):
        res = api.post("/api/v1/auth/token", data={"username": f"out-{role}", "password": "outsider-pass-1"})
        headers[role] = {"Authorization": f"Bearer {res.json()['access_token']}"}
    return headers


def _call(api: TestClient, ids: Ids, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    url = ids.fill(path) + (f"?{QUERIES[(method, path)]}" if (method, path) in QUERIES else "")
    if body == "photo":
        return api.request(method, url, headers=headers, files={"photo": ("p.png", PNG, "image/png")})
    if body is None:
        return api.request(method, url, headers=headers)
    payload = {k: (ids.fill(v) if isinstance(v, str) else v) for k, v in body.items()}
    payload = {k: ([ids.fill(x) if isinstance(x, str) else x for x in v] if isinstance(v, list) else v)
               for k, v in payload.items()}
    if "work_order_id" in payload:
        payload["work_order_id"] = int(payload["work_order_id"])
    return api.request(method, url, headers=headers, json=payload)


def _cases() -> Iterator[Any]:
    for (method, path), body in sorted(SCOPED.items()):
        route = ROUTES.get((method, path))
        for role in role_group(route) or () if route else ():
            if role not in ADMINS:
                yield pytest.param(method, path, body, role, id=f"{method} {path} as {role} of another estate")


@pytest.mark.parametrize(("method", "path", "body", "role"), list(_cases()))
def test_a_user_of_another_estate_gets_nothing_of_this_one(api: TestClient, world: World, ids: Ids,
                                                           outsiders: dict[str, dict[str, str]], method: str,
                                                           path: str, body: Any, role: str) -> None:
    res = _call(api, ids, method, path, body, outsiders[role])
    assert res.status_code < 500, res.text
    if method == "GET" and res.status_code == 200:
        assert world.site_id not in res.text, f"{role} of {OTHER_SITE} sees {world.site_id}: {res.text[:300]}"
    else:
        assert res.status_code in (403, 404), res.text


def _in_scope_reads() -> Iterator[Any]:
    for (method, path), _ in sorted(SCOPED.items()):
        route = ROUTES.get((method, path))
        if method == "GET" and route is not None:
            for role in role_group(route) or ():
                yield pytest.param(path, role, id=f"GET {path} as {role} of this estate")


@pytest.mark.parametrize(("path", "role"), list(_in_scope_reads()))
def test_a_user_of_this_estate_gets_past_authorisation(api: TestClient, ids: Ids, as_role, path: str,
                                                       role: str) -> None:
    res = _call(api, ids, "GET", path, None, as_role(role))
    assert res.status_code not in (401, 403, 500), res.text
