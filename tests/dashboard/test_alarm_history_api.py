"""Alarm history and latching over the API, and rule packs refused when an override would flap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from ingest.records import Batch, DeviceEvent


def returns_to_normal(engine, device_id: str) -> None:
    later = datetime.now(UTC) + timedelta(seconds=5)
    engine.process(Batch(events=[DeviceEvent(device_id, later, "normal_operation", seq=2)]), now=later)


def test_an_unacknowledged_entrapment_that_ends_is_still_in_the_active_list_latched(api, as_role, trapped, engine):
    alarm_id, lift = trapped()
    returns_to_normal(engine, lift)
    [alarm] = api.get(f"/api/v1/alarms?device_id={lift}&state=active", headers=as_role("operator")).json()["items"]
    assert (alarm["id"], alarm["latched"]) == (alarm_id, True) and alarm["returned_at"]


def test_acknowledging_a_latched_alarm_clears_it(api, as_role, trapped, engine):
    alarm_id, lift = trapped()
    returns_to_normal(engine, lift)
    res = api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "乘客已自行离开"}, headers=as_role("operator"))
    assert res.status_code == 200 and res.json()["state"] == "cleared"


def test_the_history_lists_every_transition_with_cause_actor_and_time(api, as_role, trapped, engine):
    alarm_id, lift = trapped()
    returns_to_normal(engine, lift)
    api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "seen"}, headers=as_role("operator"))
    res = api.get(f"/api/v1/alarms/{alarm_id}/history", headers=as_role("subdistrict"))
    assert res.status_code == 200
    steps = [(t["from_state"], t["to_state"], t["actor"]) for t in res.json()]
    operator = steps[2][2]
    assert steps == [(None, "active", None), ("active", "active", None), ("active", "acknowledged", operator),
                     ("acknowledged", "cleared", operator)]
    assert "returned to normal unacknowledged" in res.json()[1]["cause"]
    assert all(t["at"] for t in res.json())


def test_the_history_of_an_unknown_alarm_is_404(api, as_role):
    assert api.get("/api/v1/alarms/987654/history", headers=as_role("operator")).status_code == 404


def test_the_history_of_another_estates_alarm_is_403(api, as_role, trapped):
    alarm_id, _ = trapped()
    token = api.post("/api/v1/auth/token", data={"username": "outsider", "password": "outsider-pass-1"})
    outsider = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.get(f"/api/v1/alarms/{alarm_id}/history", headers=outsider).status_code == 403


SUMP_RAISED_ONLY = """
pack: api-site
overrides:
  - rule: drainage.sump_high
    site: DASH01
    set: {above: 0.6}
"""


def test_publishing_an_override_that_would_flap_is_422_naming_rule_field_and_values(api: TestClient, as_role):
    res = api.post("/api/v1/rule-packs", json={"text": SUMP_RAISED_ONLY}, headers=as_role("admin"))
    assert res.status_code == 422
    [problem] = res.json()["error"]["details"]["problems"]
    assert problem["path"] == "overrides[0].set.above"
    assert "drainage.sump_high" in problem["message"] and "0.6" in problem["message"]
    assert "high_level × 0.9" in problem["message"]


def test_publishing_the_override_with_its_clear_level_is_accepted(api: TestClient, as_role):
    text = SUMP_RAISED_ONLY.replace("{above: 0.6}", "{above: 0.6, clear: 0.55}")
    res = api.post("/api/v1/rule-packs", json={"text": text}, headers=as_role("admin"))
    assert res.status_code == 201 and res.json()["name"] == "api-site"


def test_only_an_admin_publishes_rule_packs(api: TestClient, as_role):
    assert api.post("/api/v1/rule-packs", json={"text": "pack: x\n"}, headers=as_role("operator")).status_code == 403
