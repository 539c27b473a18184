"""Users, roles and the audit trail."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from fastapi.testclient import TestClient

from dashboard import audit
from dashboard.users import ROLES, authenticate, create_user


def test_the_seven_roles() -> None:
    assert ROLES == ("admin", "operator", "crew", "committee", "subdistrict", "owner", "public")


def test_passwords_are_stored_as_argon2id_hashes(db: psycopg.Connection, estate: str) -> None:
    create_user(db, username="op", password="secret-pass-1", role="operator", display_name="Op", site_ids=[estate])
    stored = db.execute("SELECT password_hash FROM web_users WHERE username = 'op'").fetchone()
    assert stored and stored[0].startswith("$argon2id$") and "secret-pass-1" not in stored[0]


def test_authenticate_returns_the_user_with_its_sites(db: psycopg.Connection, estate: str) -> None:
    create_user(db, username="op", password="secret-pass-1", role="operator", display_name="Op", site_ids=[estate])
    user = authenticate(db, "op", "secret-pass-1")
    assert user is not None and user.site_ids == [estate]
    assert authenticate(db, "op", "wrong-pass-1") is None


def test_an_unknown_role_is_refused(db: psycopg.Connection) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        create_user(db, username="x", password="secret-pass-1", role="king", display_name="X")


def test_admin_creates_a_user_and_the_change_is_audited(client: TestClient, token_for, estate: str) -> None:
    res = client.post("/api/v1/users", headers=token_for("admin"), json={
        "username": "crew7", "password": "long-enough-7", "role": "crew", "display_name": "张师傅",
        "site_ids": [estate], "crew_member_id": "C7", "unit_id": "U1"})
    assert res.status_code == 201 and res.json()["crew_member_id"] == "C7"
    trail = client.get("/api/v1/audit?target_type=user", headers=token_for("admin")).json()
    assert trail["total"] == 1
    entry = trail["items"][0]
    assert entry["action"] == "user.create" and entry["actor"] == "admin1"
    assert "password" not in entry["detail"]


def test_a_taken_username_is_409(client: TestClient, token_for: Callable[..., dict[str, str]]) -> None:
    body = {"username": "dup", "password": "long-enough-1", "role": "operator", "display_name": "D"}
    assert client.post("/api/v1/users", headers=token_for("admin"), json=body).status_code == 201
    res = client.post("/api/v1/users", headers=token_for("admin"), json=body)
    assert res.status_code == 409 and res.json()["error"]["code"] == "conflict"


def test_user_listing_is_paginated_with_a_total(client: TestClient, token_for) -> None:
    token_for("operator")
    token_for("crew")
    page = client.get("/api/v1/users?limit=1&offset=1", headers=token_for("admin")).json()
    assert page["total"] == 3 and page["limit"] == 1 and page["offset"] == 1 and len(page["items"]) == 1


def test_validation_errors_use_the_error_body(client: TestClient, token_for) -> None:
    res = client.post("/api/v1/users", headers=token_for("admin"), json={"username": "x"})
    assert res.status_code == 422
    err = res.json()["error"]
    assert err["code"] == "invalid" and any(d["loc"][-1] == "password" for d in err["details"])


def test_the_audit_trail_is_append_only(db: psycopg.Connection, make_user) -> None:
    user = make_user("admin")
    audit.record(db, user, "test.change", "thing", "1", detail={"password": "never", "x": 1})
    row = db.execute("SELECT detail FROM audit_log").fetchone()
    assert row == ({"x": 1},)
    with pytest.raises(psycopg.errors.RaiseException):
        db.execute("DELETE FROM audit_log")
