"""The responsibility list edited over the API (review the diff, then save from a base version) and preventive
plans managed one by one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from .operations import import_default_list

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def listed(db: psycopg.Connection, estate: str) -> str:
    import_default_list(db)
    return estate


def edited_body(client: TestClient, admin: dict[str, str]) -> tuple[dict, int]:
    current = client.get("/api/v1/responsibility", headers=admin).json()
    body = current["body"]
    entrapment = next(i for i in body["items"] if i["category"] == "elevator_entrapment")
    entrapment["sla"]["resolve"] = "3h"
    return body, current["version"]


def entrapment_resolve(client: TestClient, headers: dict[str, str]) -> str:
    items = client.get("/api/v1/responsibility", headers=headers).json()["items"]
    return next(i for i in items if i["category"] == "elevator_entrapment")["sla"]["resolve"]


def test_what_the_old_editor_sent_is_refused_instead_of_discarded(client: TestClient, token_for: Headers,
                                                                  listed: str) -> None:
    admin = token_for("admin")
    current = client.get("/api/v1/responsibility", headers=admin).json()
    next(i for i in current["items"] if i["category"] == "elevator_entrapment")["sla"]["resolve"] = "3h"
    res = client.put("/api/v1/responsibility", headers=admin, json=current)  # the whole GET answer, edited
    assert res.status_code == 422
    assert entrapment_resolve(client, admin) == "2h"


def test_an_edit_is_reviewed_then_saved_and_is_what_the_list_then_says(client: TestClient, token_for: Headers,
                                                                      listed: str) -> None:
    admin = token_for("admin")
    body, version = edited_body(client, admin)
    review = client.post("/api/v1/responsibility/review", headers=admin, json={"document": body}).json()
    assert (review["valid"], review["base_version"]) == (True, version)
    assert [(c["op"], c["key"]) for c in review["changes"]] == [("changed", "elevator_entrapment/elevator/*/*")]
    res = client.put("/api/v1/responsibility", headers=admin, json={"document": body, "base_version": version})
    assert res.status_code == 200, res.text
    assert res.json()["version"] == version + 1 and len(res.json()["changes"]) == 1
    assert entrapment_resolve(client, admin) == "3h"
    versions = client.get("/api/v1/responsibility/versions", headers=admin).json()
    assert [v["version"] for v in versions] == [version + 1, version]


def test_a_save_from_a_stale_version_is_409(client: TestClient, token_for: Headers, listed: str) -> None:
    admin = token_for("admin")
    body, version = edited_body(client, admin)
    client.put("/api/v1/responsibility", headers=admin, json={"document": body, "base_version": version})
    body["items"][0]["sla"]["resolve"] = "4h"
    res = client.put("/api/v1/responsibility", headers=admin, json={"document": body, "base_version": version})
    assert res.status_code == 409 and res.json()["error"]["details"]["reason"] == "StaleVersion"


def test_a_review_names_every_problem_by_path(client: TestClient, token_for: Headers, listed: str) -> None:
    admin = token_for("admin")
    body, _ = edited_body(client, admin)
    body["items"][0]["sla"]["arrive"] = "soon"
    review = client.post("/api/v1/responsibility/review", headers=admin, json={"document": body}).json()
    assert review["valid"] is False
    assert any(p.startswith("items/0/sla/arrive") for p in review["problems"])


def test_the_schema_is_served(client: TestClient, token_for: Headers, listed: str) -> None:
    schema = client.get("/api/v1/responsibility/schema", headers=token_for("operator")).json()
    assert schema["properties"]["format"] == {"const": "propwatch-responsibility/1"}


@pytest.mark.parametrize("role", ["operator", "subdistrict"])
def test_only_admins_review_and_save(client: TestClient, token_for: Headers, listed: str, role: str) -> None:
    body = {"document": "format: x", "base_version": 1}
    assert client.post("/api/v1/responsibility/review", headers=token_for(role), json=body).status_code == 403
    assert client.put("/api/v1/responsibility", headers=token_for(role), json=body).status_code == 403


def plan_body(site: str, **extra) -> dict:
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    return {"template": "elevator_half_monthly", "site_id": site, "building_id": f"{site}-B01",
            "device_id": f"{site}-B01-EL01", "first_due": due, **extra}


def test_a_plan_is_added_listed_paused_and_moved(client: TestClient, token_for: Headers, listed: str) -> None:
    op = token_for("operator")
    res = client.post("/api/v1/preventive-plans", headers=op, json=plan_body(listed))
    assert res.status_code == 201, res.text
    plan_id = res.json()["id"]
    assert client.get("/api/v1/preventive-plans", headers=op).json()["total"] == 1
    later = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0)
    res = client.patch(f"/api/v1/preventive-plans/{plan_id}", headers=op,
                       json={"active": False, "next_due_at": later.isoformat()})
    assert res.status_code == 200 and res.json()["active"] is False
    assert datetime.fromisoformat(res.json()["next_due_at"]) == later
    assert client.get("/api/v1/preventive-plans?active=true", headers=op).json()["total"] == 0


def test_the_same_plan_twice_is_409_and_a_device_of_another_estate_is_422(client: TestClient, token_for: Headers,
                                                                          listed: str) -> None:
    op = token_for("operator")
    client.post("/api/v1/preventive-plans", headers=op, json=plan_body(listed))
    assert client.post("/api/v1/preventive-plans", headers=op, json=plan_body(listed)).status_code == 409
    res = client.post("/api/v1/preventive-plans", headers=op, json=plan_body(listed, device_id="OTHER-EL01"))
    assert res.status_code == 422


def test_a_plan_needs_a_due_date_with_its_offset(client: TestClient, token_for: Headers, listed: str) -> None:
    res = client.post("/api/v1/preventive-plans", headers=token_for("operator"),
                      json=plan_body(listed, first_due="2030-01-01T08:00:00"))
    assert res.status_code == 422


def test_the_templates_name_their_source(client: TestClient, token_for: Headers, listed: str) -> None:
    found = {t["id"]: t for t in client.get("/api/v1/preventive-plans/templates",
                                            headers=token_for("operator")).json()}
    assert found["elevator_half_monthly"]["interval_s"] == 15 * 86400
    assert "TSG T5002" in found["elevator_half_monthly"]["source"]


@pytest.mark.parametrize("role", ["crew", "committee", "owner"])
def test_plans_are_the_control_rooms(client: TestClient, token_for: Headers, listed: str, role: str) -> None:
    assert client.get("/api/v1/preventive-plans", headers=token_for(role)).status_code == 403
