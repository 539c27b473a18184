"""Device presence from retained birth (``online``) and last-will (``offline``) messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from ingest.records import DeviceEvent


@dataclass(frozen=True, slots=True)
class PresenceUpdate:
    """One state message as the gateway accepted it."""

    device_id: str
    site_id: str
    status: str
    ts: datetime
    type: str | None = None
    model: str | None = None
    firmware: str | None = None


@dataclass(frozen=True, slots=True)
class Presence:
    """A device's current state and since when."""

    device_id: str
    site_id: str
    status: str
    since: datetime
    updated_at: datetime
    type: str | None
    model: str | None
    firmware: str | None


def apply_presence(conn: psycopg.Connection, updates: Sequence[PresenceUpdate]) -> list[DeviceEvent]:
    """Record ``updates`` in the caller's transaction; return an ``online``/``offline`` event per real change.

    A repeated status (the retained birth redelivered on every subscribe) refreshes the row but is no event.
    """
    if not updates:
        return []
    ids = sorted({u.device_id for u in updates})
    # Row locks in id order: two gateway workers updating the same devices wait instead of deadlocking.
    rows = conn.execute(
        "SELECT device_id, status FROM presence WHERE device_id = ANY(%s) ORDER BY device_id FOR UPDATE", (ids,)
    ).fetchall()
    current: dict[str, str] = dict(rows)
    events: list[DeviceEvent] = []
    final: dict[str, tuple[PresenceUpdate, datetime]] = {}
    for update in updates:
        previous = current.get(update.device_id)
        since = final[update.device_id][1] if update.device_id in final else None
        if previous != update.status:
            events.append(DeviceEvent(update.device_id, update.ts, update.status, None, {"presence": True}))
            current[update.device_id] = update.status
            since = update.ts
        final[update.device_id] = (update, since or update.ts)
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO presence AS p (device_id, site_id, status, since, updated_at, type, model, firmware)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (device_id) DO UPDATE SET site_id = excluded.site_id, status = excluded.status,
                   since = CASE WHEN p.status = excluded.status THEN p.since ELSE excluded.since END,
                   updated_at = excluded.updated_at,
                   type = coalesce(excluded.type, p.type), model = coalesce(excluded.model, p.model),
                   firmware = coalesce(excluded.firmware, p.firmware)""",
            [
                (u.device_id, u.site_id, u.status, since, u.ts, u.type, u.model, u.firmware)
                for u, since in (final[i] for i in ids)
            ],
        )
    return events


def list_presence(conn: psycopg.Connection, site_id: str | None = None) -> list[Presence]:
    """Presence of every device that ever reported, optionally of one site, ordered by device id."""
    with conn.cursor(row_factory=class_row(Presence)) as cur:
        cur.execute(
            """SELECT device_id, site_id, status, since, updated_at, type, model, firmware FROM presence
               WHERE %(site)s::text IS NULL OR site_id = %(site)s ORDER BY device_id""",
            {"site": site_id},
        )
        return cur.fetchall()
