"""Work orders opened by dispatch from real alarms, driven through the API by operators and crew."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dispatch.workorders import transition
from ingest.database import connect

from .pictures import png
from .world import open_emergency_draw

PNG = png(4, 3)


def _order(api, as_role, trapped, order_for) -> int:
    _, device_id = trapped()
    return order_for(device_id)


def test_the_alarms_work_order_is_listed_with_its_sla_deadlines(api: TestClient, as_role, trapped,
                                                                 order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    order = api.get(f"/api/v1/work-orders/{order_id}", headers=as_role("operator")).json()
    assert order["category"] == "elevator_entrapment" and order["severity"] == "P0"
    assert order["unit_id"] == "elevator-maint" and order["state"] in ("NEW", "ACKED", "DISPATCHED")
    assert {"ack", "arrive"} <= set(order["due"])
    assert "reporter_contact" not in order


def test_an_alarm_order_gives_its_title_in_chinese_and_in_english_apart(api: TestClient, as_role, trapped,
                                                                       order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    order = api.get(f"/api/v1/work-orders/{order_id}", headers=as_role("operator")).json()
    listed = next(o for o in api.get("/api/v1/work-orders?limit=500", headers=as_role("operator")).json()["items"]
                  if o["id"] == order_id)
    assert " / " not in order["title"] and any("\u4e00" <= ch <= "\u9fff" for ch in order["title"])
    assert order["title_en"] and order["title_en"].isascii()
    assert (listed["title"], listed["title_en"]) == (order["title"], order["title_en"])


def test_the_english_title_finds_the_order(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    english = api.get(f"/api/v1/work-orders/{order_id}", headers=as_role("operator")).json()["title_en"]
    found = api.get("/api/v1/work-orders", params={"q": english, "limit": 500}, headers=as_role("operator")).json()
    assert order_id in [o["id"] for o in found["items"]]


def test_the_board_filters_by_state(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    state = api.get(f"/api/v1/work-orders/{order_id}", headers=as_role("operator")).json()["state"]
    ids = [o["id"] for o in api.get(f"/api/v1/work-orders?state={state}&limit=500",
                                    headers=as_role("operator")).json()["items"]]
    assert order_id in ids
    assert api.get("/api/v1/work-orders?state=CLOSED", headers=as_role("operator")).json()["total"] == 0


def test_crew_see_their_units_orders(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    ids = [o["id"] for o in api.get("/api/v1/work-orders?limit=500", headers=as_role("crew")).json()["items"]]
    assert order_id in ids


def test_a_crew_member_accepts_and_works_the_order_to_resolved(api: TestClient, as_role, trapped,
                                                                order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    crew = as_role("crew")
    accepted = api.post(f"/api/v1/work-orders/{order_id}/accept", headers=crew)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["assignee_id"] and accepted.json()["state"] == "DISPATCHED"
    for state in ("EN_ROUTE", "ON_SITE", "IN_PROGRESS"):
        res = api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": state}, headers=crew)
        assert res.status_code == 200 and res.json()["state"] == state, res.text
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew, json={
        "to_state": "RESOLVED", "note": "门锁开关更换，乘客已安全救出", "cost": "300.00",
        "parts": [{"name": "门锁开关", "quantity": "1", "unit_cost": "120.00"}]})
    assert res.status_code == 200 and res.json()["state"] == "RESOLVED"
    assert res.json()["cost_total"] == "420.00"


def test_the_operator_verifies_a_resolved_order(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    crew = as_role("crew")
    api.post(f"/api/v1/work-orders/{order_id}/accept", headers=crew)
    for state in ("EN_ROUTE", "ON_SITE", "IN_PROGRESS"):
        api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": state}, headers=crew)
    api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew,
             json={"to_state": "RESOLVED", "note": "更换门锁开关", "cost": "200.00"})
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": "VERIFIED", "note": "复核完成"},
                   headers=as_role("operator"))
    assert res.status_code == 200 and res.json()["state"] == "VERIFIED"
    events = api.get(f"/api/v1/work-orders/{order_id}", headers=as_role("operator")).json()["events"]
    assert [e["to_state"] for e in events if e.get("to_state")][-1] == "VERIFIED"


def test_crew_may_not_verify_their_own_work(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    crew = as_role("crew")
    api.post(f"/api/v1/work-orders/{order_id}/accept", headers=crew)
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": "VERIFIED"}, headers=crew)
    assert res.status_code == 403


def test_crew_must_accept_before_changing_the_state(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": "EN_ROUTE"},
                   headers=as_role("crew"))
    assert res.status_code == 403 and "accept" in res.json()["error"]["message"]


def test_an_illegal_transition_is_409(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": "CLOSED"},
                   headers=as_role("operator"))
    assert res.status_code == 409 and res.json()["error"]["code"] == "conflict"


def test_an_unknown_state_is_422(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": "DONE"},
                   headers=as_role("operator"))
    assert res.status_code == 422


def test_transitions_are_audited_with_the_actor(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": "CANCELLED", "note": "重复工单"},
             headers=as_role("operator"))
    trail = api.get(f"/api/v1/audit?target_type=work_order&target_id={order_id}", headers=as_role("admin")).json()
    assert trail["items"][0]["action"] == "work_order.transition"
    assert trail["items"][0]["detail"]["to"] == "CANCELLED"


def test_the_assigned_crew_member_attaches_a_photo(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    crew = as_role("crew")
    api.post(f"/api/v1/work-orders/{order_id}/accept", headers=crew)
    res = api.post(f"/api/v1/work-orders/{order_id}/photos", headers=crew,
                   files={"photo": ("site.png", PNG, "image/png")})
    assert res.status_code == 201, res.text


def test_a_non_image_upload_is_415(api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/work-orders/{order_id}/photos", headers=as_role("operator"),
                   files={"photo": ("x.txt", b"hello", "text/plain")})
    assert res.status_code == 415 and res.json()["error"]["code"] == "unsupported_media_type"


def test_the_control_room_opens_an_order_from_a_12345_ticket(api: TestClient, as_role, world) -> None:
    res = api.post("/api/v1/work-orders", headers=as_role("operator"), json={
        "site_id": world.site_id, "origin": "hotline_12345", "category": "drainage_flood",
        "description": "地下车库积水", "address": "地下车库B区", "reporter_contact": "139-0000-0000",
        "hotline": {"ticket_no": "T-garage-1", "received_at": "2026-11-25T02:00:00Z",
                    "reply_due": "2026-11-30T02:00:00Z"}})
    assert res.status_code == 201, res.text
    assert res.json()["origin"] == "hotline_12345" and res.json()["state"] == "NEW"
    assert "139-0000-0000" not in res.text


def test_a_second_ticket_at_the_same_address_is_marked_a_repeat(api: TestClient, as_role, world) -> None:
    body = {"site_id": world.site_id, "origin": "owner_report", "category": "water_outage",
            "description": "停水", "address": "3号楼2单元", "reporter_contact": ""}
    first = api.post("/api/v1/work-orders", headers=as_role("operator"), json=body).json()
    second = api.post("/api/v1/work-orders", headers=as_role("operator"), json=body).json()
    assert second["repeat_of"] == first["id"]


def _worked(api: TestClient, as_role, trapped, order_for) -> tuple[int, dict[str, str]]:
    """A new alarm order the crew member works up to IN_PROGRESS: (order id, the crew's headers)."""
    order_id = _order(api, as_role, trapped, order_for)
    crew = as_role("crew")
    _at_work(api, crew, order_id)
    return order_id, crew


def _at_work(api: TestClient, crew: dict[str, str], order_id: int) -> None:
    """The crew member takes the order (unless already on it) and works it up to IN_PROGRESS."""
    state = api.get(f"/api/v1/work-orders/{order_id}", headers=crew).json()["state"]
    if state in ("NEW", "ACKED"):
        assert api.post(f"/api/v1/work-orders/{order_id}/accept", headers=crew).status_code == 200
    for step in ("EN_ROUTE", "ON_SITE", "IN_PROGRESS"):
        api.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": step}, headers=crew)


def test_resolving_without_saying_what_was_done_is_refused_with_its_reason(api: TestClient, as_role, trapped,
                                                                           order_for) -> None:
    order_id, crew = _worked(api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew,
                   json={"to_state": "RESOLVED", "note": "  ", "cost": "300.00"})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["details"]["reason"] == "NoteRequired"
    assert api.get(f"/api/v1/work-orders/{order_id}", headers=crew).json()["state"] == "IN_PROGRESS"


def test_resolving_at_no_cost_is_refused_while_a_fund_draw_waits_for_the_cost(world, api: TestClient, as_role,
                                                                              trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    open_emergency_draw(world, order_id=order_id)
    crew = as_role("crew")
    _at_work(api, crew, order_id)
    assert api.get(f"/api/v1/work-orders/{order_id}", headers=crew).json()["fund_draw_open"] is True
    free = api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew,
                    json={"to_state": "RESOLVED", "note": "更换门机皮带", "cost": "0"})
    assert free.status_code == 422, free.text
    assert free.json()["error"]["details"]["reason"] == "CostRequired"
    paid = api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew, json={
        "to_state": "RESOLVED", "note": "更换门机皮带", "cost": "0",
        "parts": [{"name": "门机皮带", "quantity": "1", "unit_cost": "680.00"}]})
    assert paid.status_code == 200 and paid.json()["cost_total"] == "680.00", paid.text


def test_resolving_at_no_cost_is_allowed_where_no_fund_draw_waits(api: TestClient, as_role, trapped,
                                                                  order_for) -> None:
    order_id, crew = _worked(api, as_role, trapped, order_for)
    res = api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew,
                   json={"to_state": "RESOLVED", "note": "复位安全回路，试运行正常", "cost": "0"})
    assert res.status_code == 200 and res.json()["cost_total"] == "0.00", res.text


def test_the_control_room_records_the_cost_a_verified_order_lacked_and_its_draw_completes(
        world, api: TestClient, as_role, trapped, order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    draw_id = open_emergency_draw(world, order_id=order_id)
    api.post(f"/api/v1/fund/draws/{draw_id}/approve", json={"comment": "同意"}, headers=as_role("committee"))
    with connect(world.database_url) as conn:  # resolved and verified at ¥0.00 before resolving asked for a cost
        transition(conn, order_id, "RESOLVED", actor=f"crew:{world.crew_member_id}")
        transition(conn, order_id, "VERIFIED", actor="operator")
        conn.commit()
    stuck = api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={}, headers=as_role("operator"))
    assert stuck.status_code == 422, stuck.text
    res = api.post(f"/api/v1/work-orders/{order_id}/costs", headers=as_role("operator"), json={
        "note": "按维保单位结算单补登", "cost": "600.00",
        "parts": [{"name": "门机皮带", "quantity": "1", "unit_cost": "680.00"}]})
    assert res.status_code == 200 and res.json()["cost_total"] == "1280.00", res.text
    done = api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={}, headers=as_role("operator"))
    assert done.status_code == 200 and done.json()["actual_cost"] == "1280.00", done.text
    trail = api.get(f"/api/v1/audit?target_type=work_order&target_id={order_id}", headers=as_role("admin")).json()
    recorded = next(i for i in trail["items"] if i["action"] == "work_order.costs")
    assert recorded["detail"]["note"] == "按维保单位结算单补登" and recorded["detail"]["cost_total"] == "1280.00"


def test_costs_recorded_after_the_repair_need_a_note(api: TestClient, as_role, trapped, order_for) -> None:
    order_id, crew = _worked(api, as_role, trapped, order_for)
    api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew,
             json={"to_state": "RESOLVED", "note": "复位", "cost": "0"})
    res = api.post(f"/api/v1/work-orders/{order_id}/costs", headers=as_role("operator"),
                   json={"note": "", "cost": "100.00"})
    assert res.status_code == 422 and res.json()["error"]["details"]["reason"] == "NoteRequired", res.text


def test_costs_are_not_added_by_the_control_room_while_the_crew_works_the_order(api: TestClient, as_role, trapped,
                                                                                order_for) -> None:
    order_id = _order(api, as_role, trapped, order_for)
    _at_work(api, as_role("crew"), order_id)
    res = api.post(f"/api/v1/work-orders/{order_id}/costs", headers=as_role("operator"),
                   json={"note": "预估", "cost": "100.00"})
    assert res.status_code == 409, res.text


def test_crew_may_not_record_costs_after_the_repair(api: TestClient, as_role, trapped, order_for) -> None:
    order_id, crew = _worked(api, as_role, trapped, order_for)
    api.post(f"/api/v1/work-orders/{order_id}/transition", headers=crew,
             json={"to_state": "RESOLVED", "note": "复位", "cost": "0"})
    res = api.post(f"/api/v1/work-orders/{order_id}/costs", headers=crew, json={"note": "补登", "cost": "100.00"})
    assert res.status_code == 403


def test_a_call_back_number_that_is_no_phone_number_is_refused(api: TestClient, as_role, world) -> None:
    res = api.post("/api/v1/work-orders", headers=as_role("operator"), json={
        "site_id": world.site_id, "origin": "owner_report", "category": "water_leak", "description": "顶楼漏水",
        "address": "2号楼 屋顶", "reporter_contact": "139"})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["details"] == {"reason": "InvalidPhone", "field": "reporter_contact"}
