"""What the administration screens need beyond creating users: deactivating and reactivating a user, a password
reset answered once, and the audit trail filtered by action and time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from .conftest import PASSWORD

Headers = Callable[..., dict[str, str]]


def sign_in(client: TestClient, username: str, password: str) -> int:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password}).status_code


def test_a_deactivated_user_cannot_sign_in_and_a_reactivated_one_can(client: TestClient, token_for: Headers,
                                                                      make_user) -> None:
    operator = make_user("operator")
    res = client.patch(f"/api/v1/users/{operator.id}", headers=token_for("admin"), json={"active": False})
    assert res.status_code == 200 and res.json()["active"] is False
    assert sign_in(client, operator.username, PASSWORD) == 401
    client.patch(f"/api/v1/users/{operator.id}", headers=token_for("admin"), json={"active": True})
    assert sign_in(client, operator.username, PASSWORD) == 200


def test_deactivating_ends_the_users_sessions(client: TestClient, token_for: Headers, make_user) -> None:
    operator_headers = token_for("operator")
    operator = make_user("operator")
    client.patch(f"/api/v1/users/{operator.id}", headers=token_for("admin"), json={"active": False})
    assert client.get("/api/v1/auth/me", headers=operator_headers).status_code == 401


def test_an_admin_cannot_deactivate_themselves(client: TestClient, token_for: Headers, make_user) -> None:
    admin_headers = token_for("admin")
    res = client.patch(f"/api/v1/users/{make_user('admin').id}", headers=admin_headers, json={"active": False})
    assert res.status_code == 409


def test_a_password_reset_answers_a_new_password_once_and_the_old_one_stops(client: TestClient, token_for: Headers,
                                                                             make_user) -> None:
    operator = make_user("operator")
    res = client.post(f"/api/v1/users/{operator.id}/password", headers=token_for("admin"))
    assert res.status_code == 200
    new = res.json()["password"]
    assert len(new) >= 16
    assert sign_in(client, operator.username, PASSWORD) == 401
    assert sign_in(client, operator.username, new) == 200


def test_deactivation_and_reset_are_audited_without_the_password(client: TestClient, token_for: Headers,
                                                                 make_user) -> None:
    operator = make_user("operator")
    client.patch(f"/api/v1/users/{operator.id}", headers=token_for("admin"), json={"active": False})
    client.post(f"/api/v1/users/{operator.id}/password", headers=token_for("admin"))
    trail = client.get(f"/api/v1/audit?target_type=user&target_id={operator.id}", headers=token_for("admin")).json()
    assert [e["action"] for e in trail["items"]] == ["user.password_reset", "user.deactivate"]
    assert all("password" not in e["detail"] for e in trail["items"])


def test_an_unknown_user_is_404(client: TestClient, token_for: Headers) -> None:
    assert client.patch("/api/v1/users/999999", headers=token_for("admin"), json={"active": False}).status_code == 404
    assert client.post("/api/v1/users/999999/password", headers=token_for("admin")).status_code == 404


def test_only_admins_change_users(client: TestClient, token_for: Headers, make_user) -> None:
    target = make_user("crew")
    for role in ("operator", "subdistrict", "committee"):
        assert client.patch(f"/api/v1/users/{target.id}", headers=token_for(role),
                            json={"active": False}).status_code == 403
        assert client.post(f"/api/v1/users/{target.id}/password", headers=token_for(role)).status_code == 403


def test_the_audit_trail_filters_by_action_family_or_whole_action(client: TestClient, token_for: Headers,
                                                                  make_user) -> None:
    operator = make_user("operator")
    client.patch(f"/api/v1/users/{operator.id}", headers=token_for("admin"), json={"active": False})
    family = client.get("/api/v1/audit?action=user", headers=token_for("admin")).json()
    assert {e["action"] for e in family["items"]} == {"user.deactivate"}
    whole = client.get("/api/v1/audit?action=user.deactivate", headers=token_for("admin")).json()
    assert whole["total"] == 1
    assert client.get("/api/v1/audit?action=use", headers=token_for("admin")).json()["total"] == 0


def test_the_audit_trail_filters_by_time_range(client: TestClient, token_for: Headers, make_user) -> None:
    operator = make_user("operator")
    client.patch(f"/api/v1/users/{operator.id}", headers=token_for("admin"), json={"active": False})
    now = datetime.now(UTC)
    inside = {"action": "user", "since": (now - timedelta(minutes=5)).isoformat(),
              "until": (now + timedelta(minutes=5)).isoformat()}
    before = {"action": "user", "until": (now - timedelta(minutes=5)).isoformat()}
    assert client.get("/api/v1/audit", params=inside, headers=token_for("admin")).json()["total"] == 1
    assert client.get("/api/v1/audit", params=before, headers=token_for("admin")).json()["total"] == 0
