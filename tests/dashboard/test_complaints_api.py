"""Complaints over the API: estate categories, owners filing for their own estate, 12345 records owed back."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from fastapi.testclient import TestClient

from .conftest import OTHER_SITE
from .operations import hotline_body, import_default_list

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def listed(db: psycopg.Connection, estate: str) -> str:
    import_default_list(db)
    return estate


def owner_report(site: str, category: str = "pets", address: str = "3号楼1单元") -> dict:
    return {"site_id": site, "category": category, "description": "犬只未拴绳在楼道便溺", "address": address,
            "reporter_contact": "13700000000"}


@pytest.mark.parametrize("category", ["noise", "illegal_parking", "ebike_charging", "fire_lane_blocked",
                                      "illegal_construction", "garbage", "pets", "green_space", "sanitation",
                                      "security", "water_leak", "public_lighting", "other"])
def test_estate_categories_are_accepted_from_the_control_room(client: TestClient, token_for: Headers, listed: str,
                                                              category: str) -> None:
    res = client.post("/api/v1/complaints", headers=token_for("operator"),
                      json={**owner_report(listed, category), "origin": "owner_report"})
    assert res.status_code == 201, res.text
    assert res.json()["category"] == category


def test_the_category_catalogue_names_the_unit_responsible_here(client: TestClient, token_for: Headers,
                                                                listed: str) -> None:
    found = {c["id"]: c for c in client.get("/api/v1/complaints/categories", headers=token_for("owner")).json()}
    assert (found["noise"]["unit_id"], found["fire_lane_blocked"]["unit_id"]) == ("property-eng",
                                                                                  "property-service")
    assert found["elevator_entrapment"]["unit_id"] == "elevator-maint"


def test_leaks_lighting_and_other_matters_go_to_the_property_companys_teams(client: TestClient,
                                                                             token_for: Headers, listed: str) -> None:
    found = {c["id"]: c for c in client.get("/api/v1/complaints/categories", headers=token_for("owner")).json()}
    assert [(found[c]["zh"], found[c]["unit_id"]) for c in ("water_leak", "public_lighting", "other")] == [
        ("漏水", "property-eng"), ("公共照明", "property-eng"), ("其他", "property-service")]


@pytest.mark.parametrize("phone", ["139", "12345678901", "1380013800", "010-1234", "电话13800138000"])
def test_a_call_back_number_that_is_no_phone_number_is_refused_with_its_field(client: TestClient,
                                                                               token_for: Headers, listed: str,
                                                                               phone: str) -> None:
    res = client.post("/api/v1/complaints", headers=token_for("owner"),
                      json={**owner_report(listed), "reporter_contact": phone})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["details"] == {"reason": "InvalidPhone", "field": "reporter_contact"}


@pytest.mark.parametrize("phone", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "010-62345678",
                                   "0571 8765 4321", "(021)62345678", ""])
def test_mobiles_and_landlines_with_their_area_code_are_taken(client: TestClient, token_for: Headers, listed: str,
                                                               phone: str) -> None:
    res = client.post("/api/v1/complaints", headers=token_for("owner"),
                      json={**owner_report(listed), "reporter_contact": phone})
    assert res.status_code == 201, res.text


def test_an_owner_files_for_their_own_estate_and_sees_only_their_reports(client: TestClient, token_for: Headers,
                                                                         listed: str) -> None:
    mine = client.post("/api/v1/complaints", headers=token_for("owner"), json=owner_report(listed))
    assert mine.status_code == 201, mine.text
    other = token_for("owner", username="owner2")
    client.post("/api/v1/complaints", headers=other, json=owner_report(listed, address="8号楼"))
    listing = client.get("/api/v1/complaints", headers=token_for("owner")).json()
    assert [c["id"] for c in listing["items"]] == [mine.json()["id"]] and listing["total"] == 1
    assert client.get(f"/api/v1/complaints/{mine.json()['id']}", headers=other).status_code == 403
    assert "13700000000" not in client.get("/api/v1/complaints", headers=token_for("operator")).text


def test_an_owner_may_not_file_for_another_estate_or_as_12345(client: TestClient, token_for: Headers,
                                                               listed: str) -> None:
    owner = token_for("owner")
    assert client.post("/api/v1/complaints", headers=owner, json=owner_report(OTHER_SITE)).status_code == 403
    res = client.post("/api/v1/complaints", headers=owner, json=hotline_body(listed, "T-owner"))
    assert res.status_code == 403


def test_a_12345_ticket_without_its_block_is_422(client: TestClient, token_for: Headers, listed: str) -> None:
    body = {**hotline_body(listed, "T-1"), "hotline": None}
    res = client.post("/api/v1/complaints", headers=token_for("operator"), json=body)
    assert res.status_code == 422 and res.json()["error"]["details"]["reason"] == "InvalidHotlineTicket"


def test_the_same_12345_ticket_twice_is_409(client: TestClient, token_for: Headers, listed: str) -> None:
    op = token_for("operator")
    assert client.post("/api/v1/complaints", headers=op, json=hotline_body(listed, "T-1")).status_code == 201
    assert client.post("/api/v1/complaints", headers=op, json=hotline_body(listed, "T-1")).status_code == 409


def test_a_repeat_from_the_same_address_is_linked(client: TestClient, token_for: Headers, listed: str) -> None:
    op = token_for("operator")
    first = client.post("/api/v1/complaints", headers=op, json=hotline_body(listed, "T-1")).json()
    second = client.post("/api/v1/complaints", headers=op, json=hotline_body(listed, "T-2")).json()
    assert second["repeat_of"] == first["id"]


def test_the_closure_is_refused_until_the_order_is_resolved_or_ended(client: TestClient, token_for: Headers,
                                                                     listed: str) -> None:
    op = token_for("operator")
    order_id = client.post("/api/v1/complaints", headers=op, json=hotline_body(listed, "T-1")).json()["id"]
    res = client.post(f"/api/v1/complaints/{order_id}/hotline/closure", headers=op, json={"text": "已处理"})
    assert res.status_code == 409
    res = client.post(f"/api/v1/complaints/{order_id}/satisfaction", headers=op, json={"rating": "satisfied"})
    assert res.status_code == 409
    client.post(f"/api/v1/work-orders/{order_id}/cancel", headers=op, json={"reason": "非物业管辖，转城管"})
    res = client.post(f"/api/v1/complaints/{order_id}/hotline/closure", headers=op, json={"text": "非物业管辖"})
    assert res.status_code == 200 and res.json()["hotline"]["owed"] == ["contact"]


def test_tickets_owed_to_12345_are_listed_with_what_is_owed(client: TestClient, token_for: Headers,
                                                            listed: str) -> None:
    op = token_for("operator")
    first = client.post("/api/v1/complaints", headers=op, json=hotline_body(listed, "T-1")).json()["id"]
    client.post(f"/api/v1/complaints/{first}/hotline/reply", headers=op, json={"text": "已安排工程部上门"})
    owed = client.get("/api/v1/complaints/owed", headers=op).json()
    assert owed["total"] == 1 and owed["items"][0]["hotline"]["owed"] == ["contact", "closure"]


@pytest.mark.parametrize("role", ["crew", "committee", "subdistrict", "public"])
def test_roles_that_do_not_file_complaints_are_refused(client: TestClient, token_for: Headers, listed: str,
                                                       role: str) -> None:
    assert client.post("/api/v1/complaints", headers=token_for(role), json=owner_report(listed)).status_code == 403
