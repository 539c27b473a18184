"""The audit trail: one append-only row per change a person makes, and per sign-in, failed sign-in and sign-out.

Rows are written on the connection of the change they describe, inside its transaction, so an entry exists
exactly when its change was committed. Details never carry secrets; a failed sign-in under a username nobody has
records no name at all (people type passwords into the username field).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dashboard.users import User

_SECRET_KEYS = frozenset({"password", "token", "access_token", "csrf", "csrf_token"})
UNKNOWN_ACTOR = "(unknown user)"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target_type: str
    target_id: str
    site_id: str | None
    detail: dict[str, Any]


def record(
    conn: psycopg.Connection,
    actor: User,
    action: str,
    target_type: str,
    target_id: str,
    *,
    site_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row for a change ``actor`` made."""
    _insert(conn, actor.id, actor.username, actor.role, action, target_type, str(target_id), site_id, detail)


def record_sign_in(conn: psycopg.Connection, action: str, user: User | None, *, source: str,
                   detail: dict[str, Any] | None = None) -> None:
    """Append a sign-in event (``auth.login``, ``auth.login_failed``, ``auth.logout``; target type ``sign_in``,
    target the user's id) of ``user``, or of an unknown username when ``user`` is ``None``; ``source`` is the
    client's address as throttling counts it."""
    details = {"source": source, **(detail or {})}
    if user is None:
        _insert(conn, None, UNKNOWN_ACTOR, "anonymous", action, "sign_in", "-", None, details)
    else:
        _insert(conn, user.id, user.username, user.role, action, "sign_in", str(user.id), None, details)


def record_system(conn: psycopg.Connection, actor: str, action: str, target_type: str, target_id: str, *,
                  detail: dict[str, Any] | None = None) -> None:
    """Append one audit row for a change made by a command rather than a signed-in person (role ``system``)."""
    _insert(conn, None, actor, "system", action, target_type, target_id, None, detail)


def _insert(conn: psycopg.Connection, actor_id: int | None, actor: str, role: str, action: str, target_type: str,
            target_id: str, site_id: str | None, detail: dict[str, Any] | None) -> None:
    clean = {k: v for k, v in (detail or {}).items() if k not in _SECRET_KEYS}
    conn.execute(
        """INSERT INTO audit_log (actor_id, actor, role, action, target_type, target_id, site_id, detail)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (actor_id, actor, role, action, target_type, target_id, site_id, Jsonb(clean)),
    )


_WHERE = """(%(tt)s::text IS NULL OR target_type = %(tt)s) AND (%(ti)s::text IS NULL OR target_id = %(ti)s)
             AND (%(actor)s::text IS NULL OR actor = %(actor)s)
             AND (%(action)s::text IS NULL OR action = %(action)s OR action LIKE %(action)s || '.%%')
             AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
             AND (%(until)s::timestamptz IS NULL OR at < %(until)s)"""


def list_entries(
    conn: psycopg.Connection,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Audit rows newest first, filtered, with the total count. ``action`` is a whole action (``user.create``)
    or its family (``user``); ``since`` is inclusive, ``until`` exclusive."""
    params = {"tt": target_type, "ti": target_id, "actor": actor, "action": action, "since": since,
              "until": until, "limit": limit, "offset": offset}
    rows = conn.execute(
        f"""SELECT id, at, actor, role, action, target_type, target_id, site_id, detail FROM audit_log
            WHERE {_WHERE} ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s""",  # noqa: S608 - constant
        params,
    ).fetchall()
    total = conn.execute(f"SELECT count(*) FROM audit_log WHERE {_WHERE}", params).fetchone()  # noqa: S608
    return [AuditEntry(*r) for r in rows], int(total[0]) if total else 0
