"""Reviewing a rule pack: the validation publishing does, answered without publishing, so the rules page can ask
the server before it offers Publish and show the same refusal publishing would give."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

Headers = Callable[..., dict[str, str]]


def pack(**settings: object) -> str:
    return json.dumps({"pack": "admin-S001", "overrides": [
        {"rule": "elevator.door_slowing", "site": "S001", "set": settings}]})


def test_a_setting_that_is_not_a_duration_is_a_problem_of_the_review(client: TestClient, token_for: Headers) -> None:
    res = client.post("/api/v1/rule-packs/review", headers=token_for("admin"), json={"text": pack(clear_for="abc")})
    assert res.status_code == 200, res.text
    assert [(p["path"], p["message"]) for p in res.json()["problems"]] == [
        ("overrides[0].set.clear_for", "expected a duration like 30s, 5m, 2h, got 'abc'")]


def test_a_sound_pack_reviews_without_problems_and_nothing_is_published(client: TestClient,
                                                                        token_for: Headers) -> None:
    admin = token_for("admin")
    res = client.post("/api/v1/rule-packs/review", headers=admin, json={"text": pack(clear_for="30s")})
    assert res.status_code == 200, res.text
    assert res.json() == {"name": "admin-S001", "problems": []}
    published = client.post("/api/v1/rule-packs", headers=admin, json={"text": pack(clear_for="30s")})
    assert published.json()["version"] == 1


def test_only_admins_review_rule_packs(client: TestClient, token_for: Headers) -> None:
    res = client.post("/api/v1/rule-packs/review", headers=token_for("operator"), json={"text": pack(clear_for="30s")})
    assert res.status_code == 403
