"""The web role of docs/api.md ("What the guarantee depends on"), created by the SQL written there: the app signs
in under it, and it can neither silence the audit trigger nor delete audit rows."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dashboard import audit
from dashboard.app import create_app
from dashboard.users import User

from .conftest import PASSWORD

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
_roles = itertools.count()


def _documented_sql() -> str:
    text = DOC.read_text(encoding="utf-8")
    return re.search(r"```sql\n(.*?CREATE ROLE propwatch_web.*?)```", text, re.S).group(1)


@pytest.fixture
def web_role(db: psycopg.Connection, db_url: str) -> Iterator[str]:
    """The documented role, under a name of this test's own, on this test's database; its connection string."""
    role = f"pw_web_{os.getpid()}_{next(_roles)}"
    database = conninfo_to_dict(db_url)["dbname"]
    sql = (_documented_sql().replace("propwatch_web", role).replace("'…'", "'web-role-password'")
           .replace("ON DATABASE propwatch ", f'ON DATABASE "{database}" '))
    for statement in filter(None, (line.split("--")[0].strip() for line in sql.splitlines())):
        db.execute(statement)
    try:
        yield make_conninfo(db_url, user=role)
    finally:
        db.execute(f'DROP OWNED BY "{role}"')
        db.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("statement", ["SET session_replication_role = replica",
                                       "ALTER TABLE audit_log DISABLE TRIGGER USER",
                                       "DELETE FROM audit_log", "TRUNCATE audit_log"])
def test_the_web_role_cannot_silence_or_rewrite_the_audit_trail(web_role: str, make_user: Callable[..., User],
                                                                 db: psycopg.Connection, statement: str) -> None:
    audit.record(db, make_user("admin"), "test.change", "thing", "1")
    with psycopg.connect(web_role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)
    assert db.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)


def test_the_app_signs_in_and_audits_under_the_web_role(web_role: str, make_user: Callable[..., User],
                                                       db: psycopg.Connection, tmp_path: Path) -> None:
    user = make_user("admin")
    app = create_app(database_url=web_role, secret_key="k" * 32, uploads_dir=tmp_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/v1/auth/token", data={"username": user.username, "password": "wrong-wrong"}
                           ).status_code == 401
        assert client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}
                           ).status_code == 200
    actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["auth.login_failed", "auth.login"]
