"""The audit trail: one append-only row per change a person makes. Details never carry secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dashboard.users import User

_SECRET_KEYS = frozenset({"password", "token", "access_token", "csrf", "csrf_token"})


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
    clean = {k: v for k, v in (detail or {}).items() if k not in _SECRET_KEYS}
    conn.execute(
        """INSERT INTO audit_log (actor_id, actor, role, action, target_type, target_id, site_id, detail)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (actor.id, actor.username, actor.role, action, target_type, str(target_id), site_id,
         Jsonb(clean)),
    )


_WHERE = """(%(tt)s::text IS NULL OR target_type = %(tt)s) AND (%(ti)s::text IS NULL OR target_id = %(ti)s)
             AND (%(actor)s::text IS NULL OR actor = %(actor)s)"""


def list_entries(
    conn: psycopg.Connection,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Audit rows newest first, filtered, with the total count."""
    params = {"tt": target_type, "ti": target_id, "actor": actor, "limit": limit, "offset": offset}
    rows = conn.execute(
        f"""SELECT id, at, actor, role, action, target_type, target_id, site_id, detail FROM audit_log
            WHERE {_WHERE} ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s""",  # noqa: S608 - constant
        params,
    ).fetchall()
    total = conn.execute(f"SELECT count(*) FROM audit_log WHERE {_WHERE}", params).fetchone()  # noqa: S608
    return [AuditEntry(*r) for r in rows], int(total[0]) if total else 0
