"""An audit trail to trust: written in the transaction of its change, sign-ins included, and impossible to rewrite
(trigger and privileges)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from dashboard.users import User
from ingest.database import connect

from .conftest import PASSWORD
from .world import World, on_site

_roles = itertools.count()
REWRITES = ["TRUNCATE audit_log", "DELETE FROM audit_log", "UPDATE audit_log SET actor = 'x'"]


def _entries(db: psycopg.Connection) -> list[tuple[str, str, str]]:
    return db.execute("SELECT action, actor, role FROM audit_log ORDER BY id").fetchall()


def test_sign_in_failure_and_sign_out_are_audited_without_passwords(client: TestClient, make_user: Callable[..., User],
                                                                     db: psycopg.Connection) -> None:
    user = make_user("operator")
    client.post("/api/v1/auth/token", data={"username": user.username, "password": "wrong-horse-1"})
    client.post("/api/v1/auth/token", data={"username": "nobody-here", "password": "typed-password-2"})
    token = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}).json()
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert _entries(db) == [("auth.login_failed", user.username, "operator"),
                            ("auth.login_failed", "(unknown user)", "anonymous"),
                            ("auth.login", user.username, "operator"),
                            ("auth.logout", user.username, "operator")]
    dump = " ".join(str(row) for row in db.execute("SELECT * FROM audit_log"))
    for secret in ("wrong-horse-1", "typed-password-2", PASSWORD, "nobody-here", token["access_token"]):
        assert secret not in dump
    assert db.execute("SELECT DISTINCT detail->>'source' FROM audit_log").fetchall() == [("testclient",)]


@pytest.fixture
def audit_refuses(db: psycopg.Connection) -> Callable[[str], None]:
    """``audit_refuses(action)``: from now on the database refuses audit entries of ``action``."""

    def refuse(action: str) -> None:
        db.execute("CREATE FUNCTION pw_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'audit entry refused'; END $$")
        db.execute(f"CREATE TRIGGER pw_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                   f"WHEN (NEW.action = '{action}') EXECUTE FUNCTION pw_refuse_audit()")

    return refuse


def test_a_change_whose_entry_cannot_be_written_is_not_made(client: TestClient, token_for, db: psycopg.Connection,
                                                             audit_refuses: Callable[[str], None]) -> None:
    headers = token_for("admin")
    audit_refuses("user.create")
    res = client.post("/api/v1/users", headers=headers, json={
        "username": "made-here", "password": "long-enough-1", "role": "owner", "display_name": "x"})
    assert res.status_code == 500
    assert db.execute("SELECT count(*) FROM web_users WHERE username = 'made-here'").fetchone() == (0,)


def test_a_sign_in_whose_entry_cannot_be_written_issues_no_token(client: TestClient, make_user: Callable[..., User],
                                                                  db: psycopg.Connection,
                                                                  audit_refuses: Callable[[str], None]) -> None:
    user = make_user("operator")
    audit_refuses("auth.login")
    res = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert res.status_code == 500
    assert db.execute("SELECT count(*) FROM web_tokens").fetchone() == (0,)


@pytest.mark.parametrize("statement", REWRITES)
def test_the_trigger_refuses_to_rewrite_the_trail_even_for_a_superuser(db: psycopg.Connection, make_user,
                                                                       statement: str) -> None:
    from dashboard import audit

    audit.record(db, make_user("admin"), "test.change", "thing", "1")
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        db.execute(statement)
    assert db.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)


@pytest.fixture
def owner_role(db: psycopg.Connection) -> Iterator[str]:
    """The audit table handed to a role that is not a superuser, as a production install runs."""
    role = f"pw_audit_owner_{os.getpid()}_{next(_roles)}"
    me = db.execute("SELECT current_user").fetchone()[0]
    db.execute(f'CREATE ROLE "{role}" NOLOGIN')
    db.execute(f'ALTER TABLE audit_log OWNER TO "{role}"')
    try:
        yield role
    finally:
        db.execute("RESET ROLE")
        db.execute(f'ALTER TABLE audit_log OWNER TO "{me}"')
        db.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("statement", REWRITES)
def test_the_owner_has_no_privilege_to_rewrite_the_trail(db: psycopg.Connection, owner_role: str,
                                                         statement: str) -> None:
    db.execute(f'SET ROLE "{owner_role}"')
    db.execute("INSERT INTO audit_log (actor, role, action, target_type, target_id) VALUES ('a', 'b', 'c', 'd', 'e')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute(statement)
    assert db.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)


def test_a_repeated_fund_draw_request_is_audited_with_the_draw_as_stored(world: World, api: TestClient, as_role,
                                                                         trapped, order_for) -> None:
    _, device_id = trapped()
    order_id = order_for(device_id)
    on_site(world, order_id)
    body = {"work_order_id": order_id, "item": "曳引机制动器更换", "contractor": "某电梯维保有限公司",
            "scope_type": "building", "scope_id": world.building_id, "estimate": "12000.00"}
    first = api.post("/api/v1/fund/draws", json=body, headers=as_role("operator"))
    assert first.status_code == 201, first.text
    again = api.post("/api/v1/fund/draws", json={**body, "estimate": "99999.00", "contractor": "另一家"},
                     headers=as_role("operator"))
    assert again.json()["id"] == first.json()["id"] and again.json()["estimate"] == "12000.00"
    with connect(world.database_url) as conn:
        details = [row[0] for row in conn.execute(
            "SELECT detail FROM audit_log WHERE action = 'fund_draw.open' AND target_id = %s ORDER BY id",
            (str(first.json()["id"]),))]
    assert [(d["estimate"], d["contractor"]) for d in details] == [("12000.00", "某电梯维保有限公司")] * 2
