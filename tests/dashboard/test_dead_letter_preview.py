"""The control room reads what a rejected message said: the dead-letter API gives a readable preview of the
stored payload (its first KiB), with nothing a hostile device sent able to reflow or reorder the text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from fastapi.testclient import TestClient

from gateway.dead_letters import insert_dead_letters, make_dead_letter


def store(db: psycopg.Connection, estate: str, payload: bytes) -> None:
    device = f"{estate}-B01-EL01"
    insert_dead_letters(db, [make_dead_letter(received_at=datetime.now(UTC), topic=f"pw/v1/{estate}/{device}/event",
                                              reason="bad_json", detail="unexpected character", payload=payload,
                                              site_id=estate, device_id=device)])


def preview(client: TestClient, headers: dict[str, str]) -> str:
    res = client.get("/api/v1/dead-letters", headers=headers)
    assert res.status_code == 200, res.text
    return res.json()["items"][0]["payload_preview"]


def test_the_payload_is_previewed_as_text(client: TestClient, token_for: Callable[..., dict[str, str]],
                                          db: psycopg.Connection, estate: str) -> None:
    store(db, estate, '{"ts": 1795593600000, "code": "困人"'.encode())

    assert preview(client, token_for("operator")) == '{"ts": 1795593600000, "code": "困人"'


def test_control_characters_and_undecodable_bytes_are_escaped(
        client: TestClient, token_for: Callable[..., dict[str, str]], db: psycopg.Connection, estate: str) -> None:
    store(db, estate, b"a\nb\x00c\x1b[31m\xffd\xe2\x80\xaee")  # newline, NUL, ANSI escape, bad byte, RTL override

    assert preview(client, token_for("operator")) == "a\\nb\\x00c\\x1b[31m\ufffdd\\u202ee"


def test_the_preview_is_at_most_1024_characters(client: TestClient, token_for: Callable[..., dict[str, str]],
                                                db: psycopg.Connection, estate: str) -> None:
    store(db, estate, b"\x01" * 5000)

    shown = preview(client, token_for("operator"))

    assert len(shown) == 1024
    assert shown.startswith("\\x01\\x01")
