"""Crew registered over the API, orders assigned by hand, every operator action with its reason, search and the
full detail with the reporter's contact shown only to those who call back."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from fastapi.testclient import TestClient

from .conftest import OTHER_SITE
from .operations import crew_body, hotline_body, import_default_list

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def listed(db: psycopg.Connection, estate: str) -> str:
    """The test's estate with the default responsibility list."""
    import_default_list(db)
    return estate


def register(client: TestClient, token_for: Headers, crew_id: str, site: str, **extra) -> dict:
    res = client.post("/api/v1/crew", headers=token_for("operator"), json=crew_body(crew_id, site, **extra))
    assert res.status_code == 201, res.text
    return res.json()


def complaint(client: TestClient, token_for: Headers, site: str, ticket: str, **extra) -> int:
    res = client.post("/api/v1/complaints", headers=token_for("operator"), json=hotline_body(site, ticket, **extra))
    assert res.status_code == 201, res.text
    return res.json()["id"]


def test_a_registered_member_is_listed_with_availability_and_estates(client: TestClient, token_for: Headers,
                                                                     listed: str) -> None:
    register(client, token_for, "pe-a", listed)
    listing = client.get("/api/v1/crew?unit_id=property-eng", headers=token_for("operator")).json()
    assert listing["total"] == 1
    member = listing["items"][0]
    assert (member["id"], member["covers"], member["available_now"]) == ("pe-a", [listed], True)
    assert member["shifts"] == [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00",
                                 "end": "00:00"}]


def test_a_member_can_be_deactivated_and_then_gets_no_offer(client: TestClient, token_for: Headers,
                                                            listed: str) -> None:
    register(client, token_for, "pe-a", listed)
    res = client.patch("/api/v1/crew/pe-a", headers=token_for("operator"), json={"active": False})
    assert res.status_code == 200 and res.json()["available_now"] is False
    order_id = complaint(client, token_for, listed, "T-1")
    assert client.get(f"/api/v1/work-orders/{order_id}", headers=token_for("operator")).json()["offered_to"] is None


@pytest.mark.parametrize(("change", "status"), [
    ({"unit_id": "nobody"}, 422),
    ({"timezone": "Mars/Olympus"}, 422),
    ({"shifts": [{"days": ["mon"], "start": "25:00", "end": "06:00"}]}, 422),
    ({"colour": "red"}, 422),
])
def test_a_bad_crew_record_is_refused(client: TestClient, token_for: Headers, listed: str, change: dict,
                                      status: int) -> None:
    res = client.post("/api/v1/crew", headers=token_for("operator"), json={**crew_body("pe-b", listed), **change})
    assert res.status_code == status, res.text


def test_registering_an_existing_id_is_409(client: TestClient, token_for: Headers, listed: str) -> None:
    register(client, token_for, "pe-a", listed)
    res = client.post("/api/v1/crew", headers=token_for("operator"), json=crew_body("pe-a", listed))
    assert res.status_code == 409


def test_an_operator_may_not_register_crew_for_another_estate(client: TestClient, token_for: Headers,
                                                              listed: str) -> None:
    res = client.post("/api/v1/crew", headers=token_for("operator"), json=crew_body("pe-x", OTHER_SITE))
    assert res.status_code == 403


@pytest.mark.parametrize("role", ["crew", "committee", "owner", "public"])
def test_roles_outside_the_control_room_cannot_read_crew(client: TestClient, token_for: Headers, listed: str,
                                                         role: str) -> None:
    assert client.get("/api/v1/crew", headers=token_for(role)).status_code == 403


def test_the_control_room_assigns_by_hand_and_reassigns_with_a_reason(client: TestClient, token_for: Headers,
                                                                      listed: str) -> None:
    register(client, token_for, "pe-a", listed)
    register(client, token_for, "pe-b", listed)
    order_id = complaint(client, token_for, listed, "T-1")
    ranked = client.get(f"/api/v1/work-orders/{order_id}/candidates", headers=token_for("operator")).json()
    assert [c["member"]["id"] for c in ranked] == ["pe-a", "pe-b"]
    op = token_for("operator")
    res = client.post(f"/api/v1/work-orders/{order_id}/assign", headers=op, json={"crew_member_id": "pe-b"})
    assert res.status_code == 200 and (res.json()["state"], res.json()["assignee_id"]) == ("DISPATCHED", "pe-b")
    res = client.post(f"/api/v1/work-orders/{order_id}/assign", headers=op, json={"crew_member_id": "pe-a"})
    assert res.status_code == 422 and res.json()["error"]["details"]["reason"] == "ReasonRequired"
    res = client.post(f"/api/v1/work-orders/{order_id}/assign", headers=op,
                      json={"crew_member_id": "pe-a", "reason": "pe-b 请假"})
    assert res.status_code == 200 and res.json()["assignee_id"] == "pe-a"


def test_assigning_a_member_of_another_unit_is_422(client: TestClient, token_for: Headers, listed: str) -> None:
    register(client, token_for, "ps-a", listed, unit_id="property-service", skills=["patrol"])
    order_id = complaint(client, token_for, listed, "T-1")
    res = client.post(f"/api/v1/work-orders/{order_id}/assign", headers=token_for("operator"),
                      json={"crew_member_id": "ps-a"})
    assert res.status_code == 422 and res.json()["error"]["details"]["reason"] == "AssignRefused"


def test_dispatching_by_transition_without_an_assignee_is_409(client: TestClient, token_for: Headers,
                                                              listed: str) -> None:
    order_id = complaint(client, token_for, listed, "T-1")
    op = token_for("operator")
    client.post(f"/api/v1/work-orders/{order_id}/ack", headers=op, json={})
    res = client.post(f"/api/v1/work-orders/{order_id}/transition", headers=op, json={"to_state": "DISPATCHED"})
    assert res.status_code == 409 and res.json()["error"]["details"]["reason"] == "AssigneeRequired"


def test_every_operator_action_moves_the_order_and_records_its_reason(client: TestClient, token_for: Headers,
                                                                      listed: str) -> None:
    register(client, token_for, "pe-a", listed)
    crew = token_for("crew", crew_member_id="pe-a", unit_id="property-eng")
    op = token_for("operator")
    order_id = complaint(client, token_for, listed, "T-1")
    steps = [("op", "assign", {"crew_member_id": "pe-a"}, "DISPATCHED"),
             ("crew", "transition", {"to_state": "ON_SITE"}, "ON_SITE"),
             ("crew", "transition", {"to_state": "IN_PROGRESS"}, "IN_PROGRESS"),
             ("op", "hold", {"reason": "等待业主开门"}, "ON_HOLD"),
             ("op", "resume", {}, "IN_PROGRESS"),
             ("crew", "transition", {"to_state": "RESOLVED", "note": "已劝停施工"}, "RESOLVED"),
             ("op", "reopen", {"reason": "当晚又有噪声"}, "IN_PROGRESS"),
             ("crew", "transition", {"to_state": "RESOLVED", "note": "约谈施工队，改为白天施工"}, "RESOLVED"),
             ("op", "verify", {}, "VERIFIED"),
             ("op", "close", {"reason": "回访无噪声"}, "CLOSED")]
    for who, action, body, state in steps:
        res = client.post(f"/api/v1/work-orders/{order_id}/{action}", headers=op if who == "op" else crew, json=body)
        assert res.status_code == 200 and res.json()["state"] == state, (action, res.text)
    notes = [e["note"] for e in client.get(f"/api/v1/work-orders/{order_id}", headers=op).json()["events"]]
    assert {"等待业主开门", "当晚又有噪声", "回访无噪声"} <= set(notes)


@pytest.mark.parametrize("action", ["hold", "cancel", "false-alarm", "reopen"])
def test_actions_that_need_a_reason_refuse_without_one(client: TestClient, token_for: Headers, listed: str,
                                                       action: str) -> None:
    order_id = complaint(client, token_for, listed, "T-1")
    res = client.post(f"/api/v1/work-orders/{order_id}/{action}", headers=token_for("operator"), json={})
    assert res.status_code in (409, 422)
    if action in ("cancel", "false-alarm"):
        assert res.status_code == 422 and res.json()["error"]["details"]["reason"] == "ReasonRequired"


def test_cancel_and_false_alarm_end_the_order(client: TestClient, token_for: Headers, listed: str) -> None:
    op = token_for("operator")
    first, second = complaint(client, token_for, listed, "T-1"), complaint(client, token_for, listed, "T-2")
    res = client.post(f"/api/v1/work-orders/{first}/cancel", headers=op, json={"reason": "重复工单"})
    assert res.status_code == 200 and (res.json()["state"], res.json()["gov_code"]) == ("CANCELLED", "05")
    res = client.post(f"/api/v1/work-orders/{second}/false-alarm", headers=op, json={"reason": "无人施工"})
    assert res.status_code == 200 and res.json()["state"] == "FALSE_ALARM"
    res = client.post(f"/api/v1/work-orders/{second}/resume", headers=op, json={})
    assert res.status_code == 409


def test_crew_may_not_use_the_control_rooms_actions(client: TestClient, token_for: Headers, listed: str) -> None:
    order_id = complaint(client, token_for, listed, "T-1")
    crew = token_for("crew", crew_member_id="pe-a", unit_id="property-eng")
    assert client.post(f"/api/v1/work-orders/{order_id}/cancel", headers=crew, json={"reason": "x"}
                       ).status_code == 403


def test_the_reporters_contact_is_shown_to_the_control_room_and_the_assignee_only(
        client: TestClient, token_for: Headers, listed: str) -> None:
    register(client, token_for, "pe-a", listed)
    register(client, token_for, "pe-b", listed)
    order_id = complaint(client, token_for, listed, "T-1")
    client.post(f"/api/v1/work-orders/{order_id}/assign", headers=token_for("operator"),
                json={"crew_member_id": "pe-a"})
    seen = {}
    for name, headers in (("operator", token_for("operator")), ("committee", token_for("committee")),
                          ("assignee", token_for("crew", crew_member_id="pe-a", unit_id="property-eng")),
                          ("colleague", token_for("crew", username="crew2", crew_member_id="pe-b",
                                                  unit_id="property-eng"))):
        seen[name] = client.get(f"/api/v1/work-orders/{order_id}", headers=headers).json()["reporter"]
    assert seen == {"operator": {"contact": "13912345678"}, "committee": None,
                    "assignee": {"contact": "13912345678"}, "colleague": None}
    listing = client.get("/api/v1/work-orders", headers=token_for("operator")).text
    assert "13912345678" not in listing


def test_the_detail_has_the_place_the_ticket_and_the_timeline(client: TestClient, token_for: Headers,
                                                              listed: str) -> None:
    order_id = complaint(client, token_for, listed, "T-1", building_id=f"{listed}-B01")
    detail = client.get(f"/api/v1/work-orders/{order_id}", headers=token_for("operator")).json()
    assert detail["location"] == {
        "site_id": listed, "site_name": "阳光花园", "building_id": f"{listed}-B01", "building_name": "1号楼",
        "building_unit": "2单元", "floor": "12", "device_id": None, "device_name": None, "address": "1号楼2单元1202"}
    assert detail["hotline"]["ticket_no"] == "T-1" and detail["hotline"]["owed"] == ["contact", "reply", "closure"]
    assert detail["costs"] == {"labour": "0.00", "parts": "0.00", "total": "0.00", "items": []}
    assert [e["kind"] for e in detail["events"]][:2] == ["transition", "offer"]


def test_search_and_filters_page_with_the_true_total(client: TestClient, token_for: Headers, listed: str) -> None:
    for n in range(3):
        complaint(client, token_for, listed, f"N-{n}", address=f"{n + 1}号楼")
    complaint(client, token_for, listed, "P-1", category="illegal_parking", description="车辆堵住消防通道口",
              address="9号楼")
    op = token_for("operator")
    page = client.get("/api/v1/work-orders?category=noise&limit=2&offset=2", headers=op).json()
    assert (page["total"], len(page["items"])) == (3, 1)
    found = client.get("/api/v1/work-orders", headers=op, params={"q": "消防通道"}).json()
    assert [o["category"] for o in found["items"]] == ["illegal_parking"]
    assert client.get("/api/v1/work-orders?origin=alarm", headers=op).json()["total"] == 0
    assert client.get("/api/v1/work-orders?origin=hotline_12345&severity=P2", headers=op).json()["total"] == 4
