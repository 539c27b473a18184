"""A body that cannot be parsed at all is 422 `invalid`, like one that parses but does not validate."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient


def test_json_that_is_not_utf8_is_422_invalid(client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    res = client.post("/api/v1/users", headers={**token_for("admin"), "Content-Type": "application/json"},
                      content=b'{"username": "\xff\xfe"}')
    assert res.status_code == 422
    error = res.json()["error"]
    assert error["code"] == "invalid" and error["details"][0]["loc"] == ["body"]
