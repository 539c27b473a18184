"""`propwatch users create-admin`: the first admin of a production install, from the environment or a prompt."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from propwatch.cli import main

from .live_server import as_url

PASSWORD = "first-admin-pass-1"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("PROPWATCH_DATABASE_URL", as_url(db_url))
    monkeypatch.setenv("PROPWATCH_ADMIN_PASSWORD", PASSWORD)


def test_the_admin_created_from_the_environment_can_sign_in(environment: None, db_url: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "create-admin", "--username", "root-admin"]) == 0
    assert "created admin root-admin" in capsys.readouterr().out
    with TestClient(create_app(database_url=db_url, secret_key="k" * 32)) as client:
        res = client.post("/api/v1/auth/token", data={"username": "root-admin", "password": PASSWORD})
        assert res.status_code == 200
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {res.json()['access_token']}"})
    assert me.json()["role"] == "admin"


def test_creating_the_admin_is_audited_without_the_password(environment: None, db: psycopg.Connection) -> None:
    main(["users", "create-admin"])
    rows = db.execute("SELECT actor, role, action, detail::text FROM audit_log").fetchall()
    assert [(actor, role, action) for actor, role, action, _ in rows] == [
        ("propwatch users create-admin", "system", "user.create")]
    assert PASSWORD not in rows[0][3]


def test_a_second_create_admin_for_the_same_name_fails_and_changes_nothing(
        environment: None, db: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "create-admin"]) == 0
    assert main(["users", "create-admin"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert db.execute("SELECT count(*) FROM web_users").fetchone() == (1,)


def test_without_a_password_or_a_terminal_it_says_what_to_set(monkeypatch: pytest.MonkeyPatch, db_url: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROPWATCH_DATABASE_URL", as_url(db_url))
    monkeypatch.delenv("PROPWATCH_ADMIN_PASSWORD", raising=False)
    assert main(["users", "create-admin"]) == 2
    assert "PROPWATCH_ADMIN_PASSWORD" in capsys.readouterr().err


def test_the_password_is_asked_twice_in_a_terminal(monkeypatch: pytest.MonkeyPatch, db_url: str,
                                                   db: psycopg.Connection) -> None:
    monkeypatch.setenv("PROPWATCH_DATABASE_URL", as_url(db_url))
    monkeypatch.delenv("PROPWATCH_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "create-admin", "--username", "asked"]) == 0
    assert db.execute("SELECT role FROM web_users WHERE username = 'asked'").fetchone() == ("admin",)


def test_a_short_password_is_refused(monkeypatch: pytest.MonkeyPatch, db_url: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROPWATCH_DATABASE_URL", as_url(db_url))
    monkeypatch.setenv("PROPWATCH_ADMIN_PASSWORD", "short")
    assert main(["users", "create-admin"]) == 2
    assert "PROPWATCH_ADMIN_PASSWORD" in capsys.readouterr().err
