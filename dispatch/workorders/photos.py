"""Photos on work orders: JPEG, PNG or WebP whose magic bytes match the declared type, stored by content hash."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.rows import class_row

from dispatch.errors import PhotoRejected
from dispatch.workorders import journal, queries

MAX_PHOTO_BYTES = 8 * 1024 * 1024
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class Photo:
    """A stored photo; ``path`` is relative to the uploads directory."""

    id: int
    order_id: int
    path: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def detect_image_type(data: bytes) -> str | None:
    """The image type the magic bytes announce (JPEG, PNG or WebP), or ``None``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def attach_photo(
    conn: psycopg.Connection,
    order_id: int,
    *,
    data: bytes,
    content_type: str,
    actor: str,
    uploads_dir: Path,
    max_bytes: int = MAX_PHOTO_BYTES,
    now: datetime | None = None,
) -> Photo:
    """Store a JPEG/PNG/WebP photo under ``uploads_dir`` and record it on the order.

    The content type must match the file's magic bytes; raises ``PhotoRejected`` otherwise or when the photo is
    empty or larger than ``max_bytes``.
    """
    now = now or datetime.now(UTC)
    if not data:
        raise PhotoRejected("the photo is empty")
    if len(data) > max_bytes:
        raise PhotoRejected(f"the photo is {len(data)} bytes; the limit is {max_bytes}")
    detected = detect_image_type(data)
    if detected is None or content_type not in _EXTENSIONS:
        raise PhotoRejected("photos must be JPEG, PNG or WebP")
    if detected != content_type:
        raise PhotoRejected(f"the file is {detected} but was sent as {content_type}")
    digest = hashlib.sha256(data).hexdigest()
    relative = Path("work-orders") / str(order_id) / f"{digest}.{_EXTENSIONS[detected]}"
    with conn.transaction():
        order = queries.fetch(conn, order_id, lock=True)
        _write_atomically(Path(uploads_dir) / relative, data)
        photo_id = conn.execute(
            """INSERT INTO work_order_photos (order_id, path, content_type, size, sha256, uploaded_by, uploaded_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (order_id, relative.as_posix(), detected, len(data), digest, actor, now),
        ).fetchone()[0]
        journal.record_event(conn, order_id, at=now, actor=actor, kind="photo", photo_ids=[photo_id])
        journal.publish(conn, order.id)
    return Photo(photo_id, order_id, relative.as_posix(), detected, len(data), digest, actor, now)


def _write_atomically(path: Path, data: bytes) -> None:
    # Same content, same name: a re-upload overwrites identical bytes, and a crash never leaves half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def list_photos(conn: psycopg.Connection, order_id: int) -> list[Photo]:
    """The photos of an order, oldest first."""
    with conn.cursor(row_factory=class_row(Photo)) as cur:
        return cur.execute(
            """SELECT id, order_id, path, content_type, size, sha256, uploaded_by, uploaded_at
               FROM work_order_photos WHERE order_id = %s ORDER BY id""",
            (order_id,),
        ).fetchall()
