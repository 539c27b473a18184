"""Rejected messages: stored with their reason so an operator can see what a device sent and why it failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

MAX_STORED_PAYLOAD = 1024
MAX_TOPIC = 256
MAX_DETAIL = 500
# The reason of a message the protocol accepted but the database refused (a gap in validation, to report);
# the other reasons are the protocol's (gateway.protocol.RejectionReason).
STORAGE_FAILED = "storage_failed"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected message. ``payload`` is at most ``MAX_STORED_PAYLOAD`` bytes; ``payload_size`` is the original."""

    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload: bytes
    payload_size: int
    site_id: str | None = None
    device_id: str | None = None


def _clean(text: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and a hostile topic or detail must not make the whole flush fail.
    return text.replace("\x00", "\\0")[:limit]


def make_dead_letter(
    *,
    received_at: datetime,
    topic: str,
    reason: str,
    detail: str,
    payload: bytes,
    site_id: str | None = None,
    device_id: str | None = None,
) -> DeadLetter:
    """A dead letter with topic, detail and payload truncated to what is stored."""
    return DeadLetter(
        received_at=received_at,
        topic=_clean(topic, MAX_TOPIC),
        reason=reason,
        detail=_clean(detail, MAX_DETAIL),
        payload=bytes(payload[:MAX_STORED_PAYLOAD]),
        payload_size=len(payload),
        site_id=_clean(site_id, 64) if site_id else None,
        device_id=_clean(device_id, 64) if device_id else None,
    )


def insert_dead_letters(conn: psycopg.Connection, letters: Sequence[DeadLetter]) -> int:
    """Store ``letters`` in the caller's transaction with one statement; return how many."""
    if not letters:
        return 0
    conn.execute(
        """INSERT INTO dead_letters (received_at, topic, site_id, device_id, reason, detail, payload, payload_size)
           SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                                %s::bytea[], %s::int[])""",
        (
            [d.received_at for d in letters],
            [d.topic for d in letters],
            [d.site_id for d in letters],
            [d.device_id for d in letters],
            [d.reason for d in letters],
            [d.detail for d in letters],
            [d.payload for d in letters],
            [d.payload_size for d in letters],
        ),
    )
    return len(letters)


def list_dead_letters(
    conn: psycopg.Connection, *, limit: int = 100, reason: str | None = None, device_id: str | None = None
) -> list[DeadLetter]:
    """The newest dead letters first, optionally of one reason and/or one device."""
    with conn.cursor(row_factory=class_row(DeadLetter)) as cur:
        cur.execute(
            """SELECT received_at, topic, reason, detail, payload, payload_size, site_id, device_id
               FROM dead_letters
               WHERE (%(reason)s::text IS NULL OR reason = %(reason)s)
                 AND (%(device)s::text IS NULL OR device_id = %(device)s)
               ORDER BY received_at DESC, id DESC LIMIT %(limit)s""",
            {"reason": reason, "device": device_id, "limit": limit},
        )
        return cur.fetchall()


def count_by_reason(conn: psycopg.Connection) -> dict[str, int]:
    """How many dead letters each reason has."""
    rows = conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason").fetchall()
    return {reason: count for reason, count in rows}
