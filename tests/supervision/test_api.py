"""The supervision API on the seeded demo estate: who may call what, scope, audit rows for every write, the public
credit page."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard.users import ROLES, create_user
from dispatch.fund.estate import list_households
from ingest.database import connect
from services.bookings import book, confirm, mark_done, rate
from supervision.credit_code import check_character
from supervision.demo import DEMO_COMPANY, seed_demo
from supervision.lists import add_entry
from tests.dashboard.world import OTHER_SITE, World

ADMIN = {"admin"}
SUPERVISORS = {"admin", "subdistrict"}
INSPECTORS = {"subdistrict"}
READERS = {"admin", "operator", "committee", "subdistrict"}
_codes = itertools.count(1)


def fresh_code() -> str:
    head = f"9133020173{next(_codes):07d}"
    return head + check_character(head)


@pytest.fixture(scope="module")
def ids(world: World) -> dict[str, str]:
    """The demo company serving the estate (seeded twice: the seed is idempotent) and a draft list entry."""
    with connect(world.database_url) as conn:
        seed_demo(conn, world.site_id)
        seed_demo(conn, world.site_id)
        company = conn.execute("SELECT id FROM supervision_companies WHERE credit_code = %s",
                               (DEMO_COMPANY["credit_code"],)).fetchone()[0]
        project = conn.execute("SELECT id FROM supervision_projects WHERE company_id = %s", (company,)).fetchone()[0]
        inspection = conn.execute("SELECT min(id) FROM supervision_inspections").fetchone()[0]
        entry = add_entry(conn, company_id=company, list_name="red", reason="连续三年无重大投诉",
                          effective_from=conn.execute("SELECT current_date").fetchone()[0], added_by="subdistrict-x")
        conn.commit()
    return {"site": world.site_id, "company": str(company), "project": str(project), "inspection": str(inspection),
            "entry": str(entry.id), "month": "2026-11"}


# (method, path, body, roles allowed); {name} is filled from ``ids``
TABLE: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/api/v1/companies", None, SUPERVISORS),
    ("POST", "/api/v1/companies", {"name": "新物业", "credit_code": "{new_code}"}, ADMIN),
    ("GET", "/api/v1/companies/{company}", None, SUPERVISORS),
    ("PATCH", "/api/v1/companies/{company}", {"phone": "0574-87361234"}, ADMIN),
    ("DELETE", "/api/v1/companies/{company}", None, ADMIN),
    ("GET", "/api/v1/projects", None, SUPERVISORS),
    ("POST", "/api/v1/projects", {"company_id": "{company}", "site_id": "{site}", "starts_on": "2020-01-01",
                                  "ends_on": "2020-12-31", "service_level": "二级", "fee_per_m2_month": "2.30",
                                  "manager_name": "陈建国", "manager_phone": "13957800123"}, ADMIN),
    ("PATCH", "/api/v1/projects/{project}", {"manager_phone": "13957800123"}, ADMIN),
    ("GET", "/api/v1/sites/{site}/project", None, READERS),
    ("POST", "/api/v1/inspections", {"site_id": "{site}", "inspected_on": "2026-11-20", "score": "80",
                                     "items": [{"item": "消防通道", "result": "pass"}]}, INSPECTORS),
    ("GET", "/api/v1/inspections", None, READERS),
    ("GET", "/api/v1/inspections/{inspection}", None, READERS),
    ("PUT", "/api/v1/companies/{company}/opinions/{month}", {"rating": "good", "text": "良好"}, INSPECTORS),
    ("GET", "/api/v1/companies/{company}/opinions", None, READERS),
    ("GET", "/api/v1/companies/{company}/credit", None, READERS),
    ("POST", "/api/v1/companies/{company}/credit/{month}/recompute", None, SUPERVISORS),
    ("GET", "/api/v1/companies/{company}/list-entries", None, READERS),
    ("POST", "/api/v1/companies/{company}/list-entries", {"list": "black", "reason": "弄虚作假",
                                                          "effective_from": "2026-11-01"}, INSPECTORS),
    ("POST", "/api/v1/list-entries/{entry}/publish", None, INSPECTORS),
    ("POST", "/api/v1/list-entries/{entry}/revoke", {"reason": "撤销"}, INSPECTORS),
    ("GET", "/api/v1/public/companies/{company}/credit", None, set(ROLES)),
]


def call(api: TestClient, ids: dict[str, str], method: str, path: str, body: Any, headers: dict[str, str]):
    values = {**ids, "new_code": fresh_code()}
    url = path.format(**values)
    if body is None:
        return api.request(method, url, headers=headers)
    payload = {k: (v.format(**values) if isinstance(v, str) else v) for k, v in body.items()}
    if "company_id" in payload:
        payload["company_id"] = int(payload["company_id"])
    return api.request(method, url, headers=headers, json=payload)


@pytest.mark.parametrize(("method", "path", "body", "role", "allowed"), [
    pytest.param(m, p, b, r, r in allowed, id=f"{m} {p} as {r}") for m, p, b, allowed in TABLE for r in ROLES
    if not (m == "DELETE" and r == "admin")])  # the admin's delete is in the audit test
def test_each_role_may_or_may_not_call_each_endpoint(api: TestClient, ids: dict[str, str], as_role: Callable,
                                                     method: str, path: str, body: Any, role: str,
                                                     allowed: bool) -> None:
    res = call(api, ids, method, path, body, as_role(role))
    assert res.status_code < 500, res.text
    if allowed:
        assert res.status_code not in (401, 403), res.text
    else:
        assert res.status_code == 403, res.text


@pytest.mark.parametrize(("method", "path", "body"), [pytest.param(m, p, b, id=f"{m} {p}") for m, p, b, _ in TABLE])
def test_anonymous_callers_get_401_except_on_the_public_credit(api: TestClient, ids: dict[str, str], method: str,
                                                               path: str, body: Any) -> None:
    res = call(api, ids, method, path, body, {})
    assert res.status_code == (200 if "/public/" in path else 401), res.text


@pytest.fixture(scope="module")
def outsider(world: World, api: TestClient) -> dict[str, str]:
    """A sub-district user of the other estate."""
    with connect(world.database_url) as conn:
        create_user(conn, username="sub-outside", password="outsider-pass-1", role="subdistrict",
                    display_name="x", site_ids=[OTHER_SITE])
        conn.commit()
    token = api.post("/api/v1/auth/token", data={"username": "sub-outside", "password": "outsider-pass-1"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_a_sub_district_sees_only_the_companies_serving_its_estates(api: TestClient, ids: dict[str, str],
                                                                    as_role: Callable, outsider: dict) -> None:
    mine = api.get("/api/v1/companies", headers=as_role("subdistrict")).json()
    assert int(ids["company"]) in [c["id"] for c in mine]
    assert api.get("/api/v1/companies", headers=outsider).json() == []
    for path in ("/api/v1/companies/{company}", "/api/v1/companies/{company}/credit",
                 "/api/v1/companies/{company}/list-entries"):
        assert api.get(path.format(**ids), headers=outsider).status_code == 403
    res = api.put("/api/v1/companies/{company}/opinions/2026-11".format(**ids), headers=outsider,
                  json={"rating": "unqualified"})
    assert res.status_code == 403


def test_every_write_leaves_an_audit_row(api: TestClient, ids: dict[str, str], as_role: Callable,
                                         world: World) -> None:
    admin, sub = as_role("admin"), as_role("subdistrict")
    made = api.post("/api/v1/companies", headers=admin, json={"name": "审计物业", "credit_code": fresh_code()}).json()
    assert api.patch(f"/api/v1/companies/{made['id']}", headers=admin, json={"address": "宁波"}).status_code == 200
    project = api.post("/api/v1/projects", headers=admin, json={
        "company_id": made["id"], "site_id": OTHER_SITE, "starts_on": "2030-01-01", "ends_on": "2030-12-31",
        "service_level": "一级", "fee_per_m2_month": "3.50", "manager_name": "周", "manager_phone": "1"}).json()
    assert api.patch(f"/api/v1/projects/{project['id']}", headers=admin,
                     json={"ends_on": "2030-06-30"}).status_code == 200
    gone = api.post("/api/v1/companies", headers=admin, json={"name": "注销物业", "credit_code": fresh_code()}).json()
    assert api.delete(f"/api/v1/companies/{gone['id']}", headers=admin).status_code == 204
    inspection = api.post("/api/v1/inspections", headers=sub, json={
        "site_id": ids["site"], "inspected_on": "2026-11-25", "score": "70.5",
        "items": [{"item": "电梯", "result": "fail", "remarks": "年检标志过期"}]})
    assert inspection.status_code == 201, inspection.text
    company = ids["company"]
    assert api.put(f"/api/v1/companies/{company}/opinions/2026-11", headers=sub,
                   json={"rating": "qualified"}).status_code == 200
    assert api.post(f"/api/v1/companies/{company}/credit/2026-11/recompute", headers=sub).status_code == 200
    entry = api.post(f"/api/v1/companies/{company}/list-entries", headers=sub, json={
        "list": "black", "reason": "拒不整改", "effective_from": "2026-11-01"}).json()
    assert api.post(f"/api/v1/list-entries/{entry['id']}/publish", headers=sub).status_code == 200
    assert api.post(f"/api/v1/list-entries/{entry['id']}/revoke", headers=sub,
                    json={"reason": "复核撤销"}).status_code == 200
    with connect(world.database_url) as conn:
        rows = conn.execute("SELECT action, target_id FROM audit_log WHERE action LIKE ANY (%s)",
                            (["company.%", "project.%", "inspection.%", "opinion.%", "credit.%", "list_entry.%"],)
                            ).fetchall()
    assert {
        ("company.create", str(made["id"])), ("company.update", str(made["id"])),
        ("project.create", str(project["id"])), ("project.update", str(project["id"])),
        ("company.delete", str(gone["id"])), ("inspection.create", str(inspection.json()["id"])),
        ("opinion.set", company), ("credit.recompute", company), ("list_entry.add", str(entry["id"])),
        ("list_entry.publish", str(entry["id"])), ("list_entry.revoke", str(entry["id"])),
    } <= set(rows)


def test_the_credit_api_explains_each_factor(api: TestClient, ids: dict[str, str], as_role: Callable) -> None:
    month = api.post("/api/v1/companies/{company}/credit/2026-11/recompute".format(**ids),
                     headers=as_role("admin")).json()
    inspections = next(f for f in month["factors"] if f["id"] == "inspections")
    assert set(inspections) >= {"measured", "score", "weight", "effective_weight", "contribution", "counts",
                                "no_data"}
    assert api.get("/api/v1/companies/{company}/credit".format(**ids),
                   headers=as_role("operator")).json()[0]["month"] == "2026-11-01"


def test_a_month_not_begun_cannot_be_computed(api: TestClient, ids: dict[str, str], as_role: Callable) -> None:
    res = api.post("/api/v1/companies/{company}/credit/2999-01/recompute".format(**ids), headers=as_role("admin"))
    assert (res.status_code, res.json()["error"]["details"]["field"]) == (422, "month")


def test_a_bad_credit_code_is_refused_with_its_reason(api: TestClient, as_role: Callable) -> None:
    res = api.post("/api/v1/companies", headers=as_role("admin"),
                   json={"name": "错码物业", "credit_code": "91350100M000100Y44"})
    assert res.status_code == 422
    assert res.json()["error"]["details"] == {"reason": "InvalidCreditCode", "field": "credit_code"}


def test_an_overlapping_contract_is_refused_over_the_api(api: TestClient, ids: dict[str, str],
                                                         as_role: Callable) -> None:
    res = api.post("/api/v1/projects", headers=as_role("admin"), json={
        "company_id": int(ids["company"]), "site_id": ids["site"], "starts_on": "2026-06-01",
        "ends_on": "2026-06-30", "service_level": "二级", "fee_per_m2_month": "2.30", "manager_name": "x",
        "manager_phone": "1"})
    assert (res.status_code, res.json()["error"]["details"]["reason"]) == (409, "ContractOverlap")


def test_the_public_credit_shows_published_entries_without_officials_names(api: TestClient, ids: dict[str, str],
                                                                           as_role: Callable) -> None:
    sub = as_role("subdistrict")
    api.post("/api/v1/companies/{company}/list-entries".format(**ids), headers=sub, json={
        "list": "black", "reason": "草稿不公开", "effective_from": "2026-11-01"})
    api.post("/api/v1/companies/{company}/list-entries".format(**ids), headers=sub, json={
        "list": "black", "reason": "公开的黑名单记录", "effective_from": "2026-11-01", "published": True,
        "evidence_links": ["https://example.org/decision/7"]})
    res = api.get("/api/v1/public/companies/{company}/credit".format(**ids))
    assert res.status_code == 200
    body = res.json()
    reasons = [e["reason"] for e in body["list_entries"]]
    assert "公开的黑名单记录" in reasons and "草稿不公开" not in reasons
    assert "added_by" not in res.text and "subdistrict" not in res.text
    assert body["credit_code"] == DEMO_COMPANY["credit_code"]
    assert api.get(f"/api/v1/sites/{ids['site']}/project", headers=as_role("operator")).json()["blacklisted"]


def test_a_rated_home_service_booking_counts_in_the_credit(api: TestClient, ids: dict[str, str], as_role: Callable,
                                                           world: World) -> None:
    at = datetime(2026, 11, 10, 2, tzinfo=UTC)
    with connect(world.database_url) as conn:
        service = conn.execute("SELECT id FROM service_items WHERE site_id = %s AND bookable AND published "
                               "ORDER BY id LIMIT 1", (world.site_id,)).fetchone()[0]
        household = list_households(conn, world.site_id)[0].id
        booking = book(conn, service_id=service, household_id=household, site_id=world.site_id,
                       slot_start=at + timedelta(days=1), slot_end=at + timedelta(days=1, hours=2), note="",
                       actor="owner", now=at)
        confirm(conn, booking.id, actor="operator", now=at + timedelta(hours=1))
        mark_done(conn, booking.id, actor="operator", now=at + timedelta(days=1, hours=3))
        rate(conn, booking.id, rating=4, now=at + timedelta(days=2))
        conn.commit()
    month = api.post("/api/v1/companies/{company}/credit/2026-11/recompute".format(**ids),
                     headers=as_role("subdistrict")).json()
    bookings = next(f for f in month["factors"] if f["id"] == "booking_satisfaction")
    assert (bookings["counts"], bookings["score"]) == ({"rated": 1, "rating_sum": "4.00"}, "75.00")  # 4 of 1..5
