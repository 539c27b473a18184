"""Silences over the API: expiry required, listed in scope with the alarms they matched, ended on request; a P0
raised inside one is active, marked and dispatched."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from dispatch.alarm_sync import sync_alarms
from dispatch.workorders import list_work_orders
from ingest import registry
from ingest.database import connect
from ingest.records import Batch, DeviceEvent

_numbers = itertools.count(1)


def new_lift(world) -> str:
    device_id = f"{world.building_id}-SL{next(_numbers):02d}"
    with connect(world.database_url) as conn:
        registry.upsert_device(conn, registry.Device(device_id, world.site_id, "elevator", device_id,
                                                     building_id=world.building_id))
        conn.commit()
    return device_id


def window(hours: float, *, start: datetime | None = None) -> dict[str, str]:
    starts = start or datetime.now(UTC) - timedelta(minutes=1)
    return {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=hours)).isoformat()}


def silence_device(api: TestClient, headers, device_id: str, hours: float = 2, **extra):
    return api.post("/api/v1/silences", headers=headers, json={
        "scope_type": "device", "scope_id": device_id, "reason": "半月保养 half-monthly maintenance",
        **window(hours), **extra})


def test_a_trapped_passenger_in_a_two_hour_silence_is_active_marked_and_gets_its_order(api, as_role, world,
                                                                                       engine):
    lift = new_lift(world)
    created = silence_device(api, as_role("operator"), lift)
    assert created.status_code == 201, created.text
    engine.reload()
    now = datetime.now(UTC)
    engine.process(Batch(events=[DeviceEvent(lift, now, "trapped", seq=1)]), now=now)
    [alarm] = api.get(f"/api/v1/alarms?device_id={lift}&state=active", headers=as_role("operator")).json()["items"]
    assert (alarm["severity"], alarm["suppressed"], alarm["raised_in_silence"], alarm["silence_id"]) == \
        ("P0", False, True, created.json()["id"])
    with connect(world.database_url) as conn:
        sync_alarms(conn)
        conn.commit()
        orders = [o for o in list_work_orders(conn, site_id=world.site_id, limit=500, offset=0) if o.device_id == lift]
    assert [o.category for o in orders] == ["elevator_entrapment"]


def test_a_silence_longer_than_a_week_is_422_naming_ends_at(api, as_role, world):
    res = silence_device(api, as_role("operator"), new_lift(world), hours=24 * 8)
    assert res.status_code == 422
    assert res.json()["error"]["details"]["field"] == "ends_at" and "ends_at" in res.json()["error"]["message"]


def test_a_silence_without_an_end_is_422_naming_ends_at(api, as_role, world):
    res = api.post("/api/v1/silences", headers=as_role("operator"), json={
        "scope_type": "site", "scope_id": world.site_id, "reason": "x", "starts_at": "2030-01-01T00:00:00Z"})
    assert res.status_code == 422
    assert ["body", "ends_at"] in [e["loc"] for e in res.json()["error"]["details"]]


def test_a_recurring_silence_without_until_is_422_naming_the_recurrence(api, as_role, world):
    res = silence_device(api, as_role("operator"), new_lift(world), recurrence="FREQ=WEEKLY;BYDAY=MO")
    assert res.status_code == 422 and res.json()["error"]["details"]["field"] == "recurrence"


def test_the_list_shows_an_active_silence_with_the_alarms_it_matched(api, as_role, world, engine):
    lift = new_lift(world)
    silence_id = silence_device(api, as_role("operator"), lift).json()["id"]
    engine.reload()
    now = datetime.now(UTC)
    engine.process(Batch(events=[DeviceEvent(lift, now, "out_of_service", seq=1)]), now=now)
    listed = {s["id"]: s for s in api.get("/api/v1/silences?limit=500", headers=as_role("operator")).json()["items"]}
    mine = listed[silence_id]
    assert mine["status"] == "active" and mine["matched_total"] == 1
    assert [(a["rule_id"], a["suppressed"]) for a in mine["matched"]] == [("elevator.out_of_service", True)]


def test_a_user_of_another_estate_sees_none_of_its_silences(api, as_role, world):
    silence_device(api, as_role("operator"), new_lift(world))
    token = api.post("/api/v1/auth/token", data={"username": "outsider", "password": "outsider-pass-1"})
    outsider = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.get("/api/v1/silences", headers=outsider).json()["total"] == 0


def test_ending_a_silence_ends_it_now_and_is_audited(api, as_role, world):
    silence_id = silence_device(api, as_role("operator"), new_lift(world)).json()["id"]
    res = api.delete(f"/api/v1/silences/{silence_id}?reason=crew%20left", headers=as_role("operator"))
    assert res.status_code == 200, res.text
    assert (res.json()["status"], res.json()["end_reason"]) == ("ended", "crew left")
    trail = api.get(f"/api/v1/audit?target_type=silence&target_id={silence_id}", headers=as_role("admin")).json()
    assert [e["action"] for e in trail["items"]] == ["silence.end", "silence.create"]


def test_ending_a_silence_twice_is_409(api, as_role, world):
    silence_id = silence_device(api, as_role("operator"), new_lift(world)).json()["id"]
    api.delete(f"/api/v1/silences/{silence_id}", headers=as_role("operator"))
    assert api.delete(f"/api/v1/silences/{silence_id}", headers=as_role("operator")).status_code == 409


def test_ending_an_unknown_silence_is_404(api, as_role):
    assert api.delete("/api/v1/silences/987654", headers=as_role("operator")).status_code == 404


def test_the_sub_district_reads_silences_but_cannot_end_them(api, as_role, world):
    silence_id = silence_device(api, as_role("operator"), new_lift(world)).json()["id"]
    assert api.get(f"/api/v1/silences/{silence_id}", headers=as_role("subdistrict")).status_code == 200
    assert api.delete(f"/api/v1/silences/{silence_id}", headers=as_role("subdistrict")).status_code == 403
