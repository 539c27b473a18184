"""Sign-in: bearer tokens for API clients, cookie sessions with CSRF for the browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
from fastapi.testclient import TestClient

from dashboard.users import User

from .conftest import PASSWORD


def _login(client: TestClient, username: str, password: str = PASSWORD):
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf[1]},
                       follow_redirects=False)


def test_token_endpoint_issues_a_bearer_token_for_good_credentials(client: TestClient, make_user) -> None:
    user = make_user("operator")
    res = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert res.status_code == 200
    body = res.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == user.username and me.json()["role"] == "operator"


def test_wrong_password_is_401_with_the_error_body(client: TestClient, make_user) -> None:
    user = make_user("operator")
    res = client.post("/api/v1/auth/token", data={"username": user.username, "password": "nope-nope"})
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "bad_credentials"


def test_unknown_user_is_401_like_a_wrong_password(client: TestClient, make_user) -> None:
    res = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "whatever1"})
    assert res.status_code == 401 and res.json()["error"]["code"] == "bad_credentials"


def test_api_without_credentials_is_401(client: TestClient) -> None:
    res = client.get("/api/v1/auth/me")
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "unauthenticated"
    assert res.headers["www-authenticate"] == "Bearer"


def test_a_forged_bearer_token_is_401(client: TestClient) -> None:
    res = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer forged"})
    assert res.status_code == 401


def test_tokens_are_stored_only_as_hashes(client: TestClient, make_user, db: psycopg.Connection) -> None:
    user = make_user("operator")
    token = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}).json()
    stored = [r[0] for r in db.execute("SELECT token_hash FROM web_tokens")]
    assert stored and token["access_token"] not in stored


def test_logout_revokes_the_bearer_token(client: TestClient, token_for: Callable[..., dict[str, str]]) -> None:
    headers = token_for("operator")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_browser_login_sets_an_httponly_samesite_strict_session_cookie(client: TestClient, make_user) -> None:
    make_user("operator")
    res = _login(client, "operator1")
    assert res.status_code == 303 and res.headers["location"] == "/console"
    cookie = res.headers["set-cookie"].lower()
    assert "pw_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_browser_login_with_a_wrong_password_shows_the_form_again(client: TestClient, make_user) -> None:
    make_user("operator")
    res = _login(client, "operator1", "wrong-password")
    assert res.status_code == 401
    assert "用户名或密码错误" in res.text


def test_login_form_without_its_csrf_token_is_refused(client: TestClient, make_user) -> None:
    make_user("operator")
    client.get("/login")
    res = client.post("/login", data={"username": "operator1", "password": PASSWORD, "csrf_token": "x"})
    assert res.status_code == 403 and res.json()["error"]["code"] == "csrf"


def test_session_cookie_reads_without_csrf_but_changes_need_the_header(client: TestClient, make_user) -> None:
    make_user("admin")
    _login(client, "admin1")
    assert client.get("/api/v1/auth/me").status_code == 200
    body = {"username": "new1", "password": "long-enough-1", "role": "operator", "display_name": "N"}
    refused = client.post("/api/v1/users", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    page = client.get("/console")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    assert client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf[1]}).status_code == 201


def test_pages_redirect_to_login_when_signed_out(client: TestClient) -> None:
    res = client.get("/console", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login?next=/console"


def test_a_crew_member_cannot_open_the_control_room(client: TestClient, make_user) -> None:
    make_user("crew")
    _login(client, "crew1")
    assert client.get("/console").status_code == 403


def test_the_ui_speaks_english_after_the_switch(client: TestClient, make_user) -> None:
    make_user("operator")
    _login(client, "operator1")
    assert "报警台" in client.get("/console").text
    client.get("/lang/en")
    assert "Alarm console" in client.get("/console").text


def test_signing_out_ends_the_session(client: TestClient, make_user: Callable[..., User]) -> None:
    make_user("operator")
    _login(client, "operator1")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/console").text)
    assert csrf
    client.post("/logout", data={"csrf_token": csrf[1]})
    assert client.get("/api/v1/auth/me").status_code == 401


def test_login_never_redirects_off_site(client: TestClient, make_user) -> None:
    make_user("operator")
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    res = client.post("/login", data={"username": "operator1", "password": PASSWORD, "csrf_token": csrf[1],
                                      "next": "//evil.example/"}, follow_redirects=False)
    assert res.headers["location"] == "/console"


def test_the_public_role_lands_on_its_estates_public_board(client: TestClient, make_user, estate: str) -> None:
    make_user("public")
    res = _login(client, "public1")
    assert res.status_code == 303 and res.headers["location"] == f"/board/{estate}"
    board = client.get(res.headers["location"])
    assert board.status_code == 200 and "阳光花园" in board.text


def test_the_board_without_an_estate_redirects_a_public_user_to_theirs(client: TestClient, make_user,
                                                                        estate: str) -> None:
    make_user("public")
    _login(client, "public1")
    res = client.get("/board", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == f"/board/{estate}"
