"""Fund draws and approvals, KPIs, the responsibility list, and the public board."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .world import on_site, open_emergency_draw, verify_repair


def _draw(world, api, as_role, trapped, order_for) -> int:
    _, device_id = trapped()
    return open_emergency_draw(world, order_id=order_for(device_id))


def test_the_committee_approves_an_emergency_draw(world, api: TestClient, as_role, trapped, order_for) -> None:
    draw_id = _draw(world, api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/fund/draws/{draw_id}/approve", json={"comment": "同意应急使用"},
                   headers=as_role("committee"))
    assert res.status_code == 200, res.text
    assert res.json()["state"] == "approved" and res.json()["decided_role"] == "committee"
    trail = api.get(f"/api/v1/audit?target_type=fund_draw&target_id={draw_id}", headers=as_role("admin")).json()
    assert trail["items"][0]["action"] == "fund_draw.approve"


def test_the_sub_district_may_not_approve_where_a_committee_exists(world, api: TestClient, as_role, trapped,
                                                                   order_for) -> None:
    draw_id = _draw(world, api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/fund/draws/{draw_id}/approve", json={"comment": ""}, headers=as_role("subdistrict"))
    assert res.status_code == 403


def test_a_rejection_needs_a_reason(world, api: TestClient, as_role, trapped, order_for) -> None:
    draw_id = _draw(world, api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/fund/draws/{draw_id}/reject", json={"comment": " "}, headers=as_role("committee"))
    assert res.status_code == 422


def test_an_operator_applies_for_an_emergency_draw_through_the_api(world, api: TestClient, as_role, trapped,
                                                                    order_for) -> None:
    _, device_id = trapped()
    order_id = order_for(device_id)
    on_site(world, order_id)
    res = api.post("/api/v1/fund/draws", headers=as_role("operator"), json={
        "work_order_id": order_id, "item": "曳引机制动器更换", "contractor": "某电梯维保有限公司",
        "scope_type": "building", "scope_id": world.building_id, "estimate": "12000.00",
        "fund_category": "elevator"})
    assert res.status_code == 201, res.text
    assert res.json()["state"] == "pending" and res.json()["route"] == "committee"


def test_a_completed_draw_is_disclosed_on_the_public_board(world, api: TestClient, as_role, trapped,
                                                          order_for) -> None:
    _, device_id = trapped()
    order_id = order_for(device_id)
    draw_id = open_emergency_draw(world, order_id=order_id)
    api.post(f"/api/v1/fund/draws/{draw_id}/approve", json={"comment": "ok"}, headers=as_role("committee"))
    verify_repair(world, order_id, "8200.00")
    done = api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={}, headers=as_role("operator"))
    assert done.status_code == 200, done.text
    sections = api.get(f"/api/v1/public/sites/{world.site_id}/board").json()["sections"]
    disclosed = next(d for d in sections["fund_disclosures"]["disclosures"] if d["draw_id"] == draw_id)
    assert disclosed["total"] == "8200.00" and disclosed["shares"]
    assert sum(float(s["share"]) for s in disclosed["shares"]) == 8200.0
    assert float(sections["elevator_spending"]["year_total"]) >= 8200.0


def test_the_public_board_lists_units_and_complaint_phones_without_sign_in(world, api: TestClient) -> None:
    sections = api.get(f"/api/v1/public/sites/{world.site_id}/board").json()["sections"]
    assert any(u["kind"] == "elevator_maintenance" for u in sections["maintenance_units"]["units"])
    assert {"12345", "96333"} <= {p["phone"] for p in sections["complaint_phones"]["phones"]}


def test_the_public_board_page_renders_without_sign_in(world, api: TestClient) -> None:
    page = api.get(f"/board/{world.site_id}")
    assert page.status_code == 200 and "信息公示栏" in page.text and "12345" in page.text


def test_an_owner_reads_their_own_fund_account(api: TestClient, as_role) -> None:
    res = api.get("/api/v1/fund/me", headers=as_role("owner"))
    assert res.status_code == 200, res.text
    assert float(res.json()["balance"]) > 0


def test_kpis_report_mtta_and_rates_for_a_site(world, api: TestClient, as_role) -> None:
    res = api.get(f"/api/v1/kpi?site_id={world.site_id}", headers=as_role("operator"))
    assert res.status_code == 200, res.text
    assert {"mtta", "mttr", "response_rate", "arrival_rate"} <= set(res.json()["kpis"])


def test_the_responsibility_list_is_readable(api: TestClient, as_role) -> None:
    body = api.get("/api/v1/responsibility", headers=as_role("operator")).json()
    assert body["version"] >= 1
    assert any(i["category"] == "elevator_entrapment" for i in body["items"])


def test_an_invalid_responsibility_list_is_refused_with_the_parsers_message(api: TestClient, as_role) -> None:
    res = api.put("/api/v1/responsibility", json={"document": "format: wrong\n"}, headers=as_role("admin"))
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid"


def test_an_admin_saves_the_list_as_a_new_version(api: TestClient, as_role) -> None:
    current = api.get("/api/v1/responsibility", headers=as_role("admin")).json()
    edited = current["document"].replace("resolve: 2h", "resolve: 3h", 1)
    assert edited != current["document"]
    res = api.put("/api/v1/responsibility", json={"document": edited, "base_version": current["version"]},
                  headers=as_role("admin"))
    assert res.status_code == 200, res.text
    assert res.json()["version"] == current["version"] + 1
