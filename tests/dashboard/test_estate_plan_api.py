"""The estate plan over the API: generated from the registry, coloured by the worst open alarm; admins move
buildings and devices of the estate (kept, audited), nothing outside it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ingest.database import connect
from tests.dashboard.world import OTHER_SITE, World


def plan_item(plan: dict, item_id: str) -> dict:
    return next(i for i in plan["items"] if i["id"] == item_id)


def test_the_plan_places_the_estate_devices_inside_their_building(api: TestClient, as_role, world: World) -> None:
    plan = api.get(f"/api/v1/sites/{world.site_id}/plan", headers=as_role("operator")).json()
    lift = plan_item(plan, world.elevator_id)
    assert lift["building_id"] == world.building_id
    assert plan_item(plan, world.building_id)["kind"] == "building"
    assert plan_item(plan, f"{world.site_id}-FIRE01")["building_id"] is None


def test_a_device_with_an_open_p0_is_p0_and_so_is_its_building(api: TestClient, as_role, world: World,
                                                               trapped) -> None:
    alarm_id, device_id = trapped()
    plan = api.get(f"/api/v1/sites/{world.site_id}/plan", headers=as_role("operator")).json()
    assert (plan_item(plan, device_id)["severity"], plan_item(plan, device_id)["alarm_id"]) == ("P0", alarm_id)
    assert plan_item(plan, world.building_id)["severity"] == "P0"


def test_a_moved_building_keeps_its_position_and_the_move_is_audited(api: TestClient, as_role,
                                                                     world: World) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/plan/buildings/{world.building_id}", headers=as_role("admin"),
                  json={"x": 412.5, "y": 64})
    assert res.status_code == 200, res.text
    building = plan_item(res.json(), world.building_id)
    assert (building["x"], building["y"], building["moved"]) == (412.5, 64, True)
    with connect(world.database_url) as conn:
        row = conn.execute("SELECT detail FROM audit_log WHERE action = 'plan.move' AND target_id = %s "
                           "ORDER BY id DESC LIMIT 1", (world.building_id,)).fetchone()
    assert row == ({"x": 412.5, "y": 64},)


def test_a_device_of_another_estate_cannot_be_moved_on_this_plan(api: TestClient, as_role, world: World) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/plan/devices/OTHER-EL01", headers=as_role("admin"),
                  json={"x": 10, "y": 10})
    assert res.status_code == 404
    other = api.get(f"/api/v1/sites/{OTHER_SITE}/plan", headers=as_role("admin")).json()
    assert plan_item(other, "OTHER-EL01")["moved"] is False


def test_a_position_off_the_plan_is_refused(api: TestClient, as_role, world: World) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/plan/devices/{world.elevator_id}", headers=as_role("admin"),
                  json={"x": -5, "y": 10})
    assert res.status_code == 422


def test_an_operator_may_not_move_anything(api: TestClient, as_role, world: World) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/plan/devices/{world.elevator_id}", headers=as_role("operator"),
                  json={"x": 10, "y": 10})
    assert res.status_code == 403
