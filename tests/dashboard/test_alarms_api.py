"""The alarm console API against alarms raised by the real rules engine."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_a_trapped_passenger_alarm_is_listed_as_active_p0(api: TestClient, as_role, trapped) -> None:
    alarm_id, device_id = trapped()
    page = api.get(f"/api/v1/alarms?device_id={device_id}", headers=as_role("operator")).json()
    assert page["total"] == 1
    alarm = page["items"][0]
    assert (alarm["id"], alarm["severity"], alarm["state"], alarm["category"]) == (
        alarm_id, "P0", "active", "elevator_entrapment")
    assert alarm["title_zh"] and alarm["title_en"]


def test_the_list_filters_by_state_and_severity(api: TestClient, as_role, trapped) -> None:
    _, device_id = trapped()
    op = as_role("operator")
    assert api.get(f"/api/v1/alarms?device_id={device_id}&state=active&severity=P0", headers=op).json()["total"] == 1
    assert api.get(f"/api/v1/alarms?device_id={device_id}&state=cleared", headers=op).json()["total"] == 0
    assert api.get(f"/api/v1/alarms?device_id={device_id}&severity=P3", headers=op).json()["total"] == 0


def test_the_list_is_paginated_with_a_total(api: TestClient, as_role, trapped) -> None:
    trapped()
    trapped()
    page = api.get("/api/v1/alarms?limit=1&offset=1", headers=as_role("operator")).json()
    assert page["total"] >= 2 and len(page["items"]) == 1 and page["offset"] == 1


def test_most_severe_alarms_come_first(api: TestClient, as_role, trapped) -> None:
    trapped()
    items = api.get("/api/v1/alarms?limit=500", headers=as_role("operator")).json()["items"]
    severities = [a["severity"] for a in items]
    assert severities == sorted(severities)


def test_acknowledging_records_who_and_the_comment(api: TestClient, as_role, trapped) -> None:
    alarm_id, _ = trapped()
    res = api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "已通知维保"}, headers=as_role("operator"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["state"] == "acknowledged" and body["ack_comment"] == "已通知维保" and body["acked_by"]


def test_an_acknowledgement_is_in_the_audit_trail(api: TestClient, as_role, trapped) -> None:
    alarm_id, _ = trapped()
    api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "ok"}, headers=as_role("operator"))
    trail = api.get(f"/api/v1/audit?target_type=alarm&target_id={alarm_id}", headers=as_role("admin")).json()
    assert [e["action"] for e in trail["items"]] == ["alarm.ack"]
    assert trail["items"][0]["role"] == "operator"


def test_acknowledging_twice_is_a_409_conflict(api: TestClient, as_role, trapped) -> None:
    alarm_id, _ = trapped()
    api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "已通知维保"}, headers=as_role("operator"))
    res = api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "再次确认"}, headers=as_role("operator"))
    assert res.status_code == 409 and res.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize("blank", ["", "   ", None], ids=["empty", "spaces", "missing"])
def test_acknowledging_without_a_comment_is_refused_with_the_reason_and_the_alarm_stays(
        api: TestClient, as_role, trapped, blank: str | None) -> None:
    alarm_id, _ = trapped()
    body = {} if blank is None else {"comment": blank}
    res = api.post(f"/api/v1/alarms/{alarm_id}/ack", json=body, headers=as_role("operator"))
    assert res.status_code == 422, res.text
    assert res.json()["error"]["details"] == {"reason": "CommentRequired", "field": "comment"}
    assert api.get(f"/api/v1/alarms/{alarm_id}", headers=as_role("operator")).json()["state"] == "active"


def test_assigning_names_the_assignee(api: TestClient, as_role, trapped) -> None:
    alarm_id, _ = trapped()
    res = api.post(f"/api/v1/alarms/{alarm_id}/assign", json={"assignee": "电梯维保单位", "comment": "请到场"},
                   headers=as_role("operator"))
    assert res.status_code == 200 and res.json()["assigned_to"] == "电梯维保单位"


def test_an_unknown_alarm_is_404(api: TestClient, as_role) -> None:
    res = api.get("/api/v1/alarms/999999", headers=as_role("operator"))
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"


def test_a_silence_is_created_for_a_device_and_audited(api: TestClient, as_role, trapped) -> None:
    _, device_id = trapped()
    res = api.post("/api/v1/silences", headers=as_role("operator"), json={
        "scope_type": "device", "scope_id": device_id, "reason": "年检 annual inspection",
        "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T04:00:00Z"})
    assert res.status_code == 201, res.text
    trail = api.get("/api/v1/audit?target_type=silence", headers=as_role("admin")).json()
    assert any(e["target_id"] == str(res.json()["id"]) for e in trail["items"])


def test_a_silence_that_ends_before_it_starts_is_422(api: TestClient, as_role, world) -> None:
    res = api.post("/api/v1/silences", headers=as_role("operator"), json={
        "scope_type": "site", "scope_id": world.site_id, "reason": "x",
        "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid"


def test_a_silence_for_an_unknown_device_is_404(api: TestClient, as_role) -> None:
    res = api.post("/api/v1/silences", headers=as_role("operator"), json={
        "scope_type": "device", "scope_id": "NOPE", "reason": "x",
        "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z"})
    assert res.status_code == 404
