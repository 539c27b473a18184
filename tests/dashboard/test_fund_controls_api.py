"""Fund controls over the API: each bypass issue 19 found answers with its status and a message that says why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dispatch.workorders import NewOrder, open_order, transition
from ingest.database import connect

from .world import World, on_site, open_emergency_draw, verify_repair

Headers = Callable[[str], dict[str, str]]


def draw_request(world: World, order_id: int, **changes: object) -> dict[str, object]:
    return {"work_order_id": order_id, "item": "曳引机制动器更换", "contractor": "某电梯维保有限公司",
            "scope_type": "building", "scope_id": world.building_id, "estimate": "12000.00", **changes}


@pytest.fixture
def lift_order(world: World, trapped, order_for) -> int:
    """A trapped-passenger order on a new lift (category elevator_entrapment, NEW)."""
    _, device_id = trapped()
    return order_for(device_id)


@pytest.fixture
def ordinary_order(world: World) -> int:
    """An elevator fault order (not on the emergency list), the crew on site."""
    with connect(world.database_url) as conn:
        order = open_order(conn, NewOrder(site_id=world.site_id, category="elevator_fault", component="elevator",
                                          severity="P2", origin="alarm", title="门机皮带磨损 door belt worn"),
                           actor="test", now=datetime.now(UTC))
        conn.commit()
    on_site(world, order.id)
    return order.id


@pytest.fixture
def settings(api: TestClient, as_role: Headers, world: World) -> Iterator[Callable[..., None]]:
    """Change the estate's fund settings for one test; the committee without an authorised amount after it."""

    def put(**body: object) -> None:
        res = api.put(f"/api/v1/fund/sites/{world.site_id}/settings", json=body, headers=as_role("admin"))
        assert res.status_code == 200, res.text

    yield put
    put(has_committee=True)


def test_a_fund_category_other_than_the_orders_is_refused(world: World, api: TestClient, as_role: Headers,
                                                          lift_order: int) -> None:
    on_site(world, lift_order)
    res = api.post("/api/v1/fund/draws", json=draw_request(world, lift_order, fund_category="roof_leak"),
                   headers=as_role("operator"))
    assert res.status_code == 422
    assert "fund category 'elevator', not 'roof_leak'" in res.json()["error"]["message"]


def test_an_order_off_the_emergency_list_gets_no_emergency_draw(world: World, api: TestClient, as_role: Headers,
                                                                ordinary_order: int) -> None:
    res = api.post("/api/v1/fund/draws", json=draw_request(world, ordinary_order, estimate="50000.00",
                                                           scope_type="site", scope_id=world.site_id),
                   headers=as_role("operator"))
    assert res.status_code == 422 and "not on the" in res.json()["error"]["message"]


def test_a_cancelled_order_and_a_new_one_draw_nothing(world: World, api: TestClient, as_role: Headers,
                                                      lift_order: int) -> None:
    res = api.post("/api/v1/fund/draws", json=draw_request(world, lift_order), headers=as_role("operator"))
    assert res.status_code == 409 and "is NEW" in res.json()["error"]["message"]
    with connect(world.database_url) as conn:
        transition(conn, lift_order, "CANCELLED", actor="operator", note="duplicate")
        conn.commit()
    res = api.post("/api/v1/fund/draws", json=draw_request(world, lift_order), headers=as_role("operator"))
    assert res.status_code == 409 and "is CANCELLED" in res.json()["error"]["message"]


def test_completion_waits_for_the_verified_repair_and_takes_its_recorded_cost(
    world: World, api: TestClient, as_role: Headers, lift_order: int
) -> None:
    draw_id = open_emergency_draw(world, order_id=lift_order)
    api.post(f"/api/v1/fund/draws/{draw_id}/approve", json={"comment": "同意"}, headers=as_role("committee"))
    early = api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={}, headers=as_role("operator"))
    assert early.status_code == 409 and "completes only after its repair is verified" in early.text
    verify_repair(world, lift_order, "6300.00")
    other = api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={"actual_cost": "9000.00"},
                     headers=as_role("operator"))
    assert other.status_code == 409 and "records a cost of ¥6300.00, not ¥9000.00" in other.text
    done = api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={}, headers=as_role("operator"))
    assert done.status_code == 200 and done.json()["actual_cost"] == "6300.00"
    again = api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={"actual_cost": "7000.00"},
                     headers=as_role("operator"))
    assert again.status_code == 409 and "was completed at ¥6300.00, not ¥7000.00" in again.text


def test_the_committee_approves_an_ordinary_repair_only_within_its_authorised_amount(
    world: World, api: TestClient, as_role: Headers, ordinary_order: int, settings: Callable[..., None]
) -> None:
    settings(has_committee=True, committee_limit="15000.00")
    above = api.post("/api/v1/fund/draws", json=draw_request(world, ordinary_order, kind="authorised",
                                                             estimate="15000.01"), headers=as_role("operator"))
    assert above.status_code == 409 and "the owners must vote" in above.json()["error"]["message"]
    within = api.post("/api/v1/fund/draws", json=draw_request(world, ordinary_order, kind="authorised",
                                                              estimate="15000.00"), headers=as_role("operator"))
    assert within.status_code == 201, within.text
    assert (within.json()["kind"], within.json()["route"]) == ("authorised", "committee")


def test_without_a_committee_the_subdistrict_organises_and_approves_the_draw(
    world: World, api: TestClient, as_role: Headers, lift_order: int, settings: Callable[..., None]
) -> None:
    settings(has_committee=False)
    on_site(world, lift_order)
    opened = api.post("/api/v1/fund/draws", json=draw_request(world, lift_order), headers=as_role("subdistrict"))
    assert opened.status_code == 201, opened.text
    draw = opened.json()
    assert (draw["organiser"], draw["route"]) == ("subdistrict", "subdistrict")
    refused = api.post(f"/api/v1/fund/draws/{draw['id']}/approve", json={"comment": ""},
                       headers=as_role("committee"))
    assert refused.status_code == 403
    approved = api.post(f"/api/v1/fund/draws/{draw['id']}/approve", json={"comment": "街道同意"},
                        headers=as_role("subdistrict"))
    assert approved.status_code == 200 and approved.json()["decided_role"] == "subdistrict"


def test_the_subdistrict_does_not_organise_a_draw_where_there_is_a_committee(
    world: World, api: TestClient, as_role: Headers, lift_order: int
) -> None:
    on_site(world, lift_order)
    res = api.post("/api/v1/fund/draws", json=draw_request(world, lift_order), headers=as_role("subdistrict"))
    assert res.status_code == 403 and "has an owners' committee" in res.json()["error"]["message"]


def test_only_an_admin_records_the_committee_and_its_amount(world: World, api: TestClient, as_role: Headers,
                                                            settings: Callable[..., None]) -> None:
    path = f"/api/v1/fund/sites/{world.site_id}/settings"
    assert api.put(path, json={"has_committee": False}, headers=as_role("operator")).status_code == 403
    settings(has_committee=True, committee_limit="20000.00")
    shown = api.get(path, headers=as_role("committee")).json()
    assert (shown["has_committee"], shown["committee_limit"], shown["updated_by"]) == (
        True, "20000.00", world.passwords["admin"][0])


def test_an_authorised_amount_without_a_committee_or_an_unknown_rule_set_is_refused(
    world: World, api: TestClient, as_role: Headers, settings: Callable[..., None]
) -> None:
    path = f"/api/v1/fund/sites/{world.site_id}/settings"
    no_committee = api.put(path, json={"has_committee": False, "committee_limit": "1000.00"},
                           headers=as_role("admin"))
    assert no_committee.status_code == 422 and "without an owners' committee" in no_committee.text
    unknown = api.put(path, json={"has_committee": True, "rule_set": "atlantis"}, headers=as_role("admin"))
    assert unknown.status_code == 422 and "unknown rule set 'atlantis'" in unknown.text
