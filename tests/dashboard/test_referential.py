"""A request naming something that does not exist, or a place of another estate, is 422 naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .world import OTHER_SITE, World

REPORT = {"origin": "owner_report", "category": "water_outage", "description": "停水", "address": "1号楼",
          "reporter_contact": ""}


def _invalid_field(res) -> str:
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "invalid"
    return error["details"]["field"]


def test_a_work_order_for_an_unknown_site_is_422_naming_site_id(api: TestClient, as_role) -> None:
    res = api.post("/api/v1/work-orders", headers=as_role("admin"), json={**REPORT, "site_id": "NO-SUCH-SITE"})
    assert _invalid_field(res) == "site_id"


def test_a_building_of_another_estate_is_422_naming_building_id(api: TestClient, as_role, world: World) -> None:
    res = api.post("/api/v1/work-orders", headers=as_role("admin"),
                   json={**REPORT, "site_id": OTHER_SITE, "building_id": world.building_id})
    assert _invalid_field(res) == "building_id"


def test_a_user_for_an_unknown_site_is_422_naming_site_ids(api: TestClient, as_role) -> None:
    res = api.post("/api/v1/users", headers=as_role("admin"), json={
        "username": "nowhere-user", "password": "long-enough-1", "role": "operator", "display_name": "x",
        "site_ids": ["NO-SUCH-SITE"]})
    assert _invalid_field(res) == "site_ids"


def test_a_fund_draw_for_an_unknown_work_order_is_422_naming_work_order_id(api: TestClient, as_role,
                                                                          world: World) -> None:
    res = api.post("/api/v1/fund/draws", headers=as_role("operator"), json={
        "work_order_id": 999_999, "item": "x", "contractor": "c", "scope_type": "building",
        "scope_id": world.building_id, "estimate": "100.00"})
    assert _invalid_field(res) == "work_order_id"
