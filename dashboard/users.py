"""Web users: roles, site scope and argon2 password hashes. The only module that touches ``web_users``."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard.roles import ADMINS, ROLES

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("propwatch-dummy-password")


@dataclass(frozen=True)
class User:
    """A person who signs in. ``site_ids`` empty for an admin means every site."""

    id: int
    username: str
    role: str
    display_name: str
    site_ids: list[str] = field(default_factory=list)
    crew_member_id: str | None = None
    unit_id: str | None = None
    household_id: str | None = None
    active: bool = True

    def sees_site(self, site_id: str | None) -> bool:
        """Whether this user's scope covers ``site_id``; admins see every site."""
        if self.role in ADMINS:
            return True
        return site_id is not None and site_id in self.site_ids


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def create_user(
    conn: psycopg.Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    site_ids: list[str] | None = None,
    crew_member_id: str | None = None,
    unit_id: str | None = None,
    household_id: str | None = None,
) -> User:
    """Create a user with an argon2 password hash and a site scope; raise ``ValueError`` on a bad role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    sites = list(site_ids or [])
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO web_users (username, password_hash, role, display_name, crew_member_id, unit_id,
                                      household_id)
               VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (username, hash_password(password), role, display_name, crew_member_id, unit_id, household_id),
        ).fetchone()
        assert row is not None
        for site in sites:
            conn.execute("INSERT INTO web_user_sites (user_id, site_id) VALUES (%s, %s)", (row[0], site))
    return User(row[0], username, role, display_name, sites, crew_member_id, unit_id, household_id)


_SELECT = """SELECT u.id, u.username, u.role, u.display_name,
                    coalesce(array_agg(s.site_id ORDER BY s.site_id) FILTER (WHERE s.site_id IS NOT NULL), '{}'),
                    u.crew_member_id, u.unit_id, u.household_id, u.active
             FROM web_users u LEFT JOIN web_user_sites s ON s.user_id = u.id"""


def _user(row: tuple) -> User:
    return User(row[0], row[1], row[2], row[3], list(row[4]), row[5], row[6], row[7], row[8])


def get_user(conn: psycopg.Connection, user_id: int) -> User | None:
    """One user by id, or ``None``."""
    row = conn.execute(_SELECT + " WHERE u.id = %s GROUP BY u.id", (user_id,)).fetchone()
    return _user(row) if row else None


def find_user(conn: psycopg.Connection, username: str) -> User | None:
    """One user by username, or ``None``."""
    row = conn.execute(_SELECT + " WHERE u.username = %s GROUP BY u.id", (username,)).fetchone()
    return _user(row) if row else None


def list_users(conn: psycopg.Connection, *, role: str | None = None, limit: int = 100,
               offset: int = 0) -> tuple[list[User], int]:
    """Users ordered by username, optionally of one role, with the total count."""
    rows = conn.execute(
        _SELECT + " WHERE %(role)s::text IS NULL OR u.role = %(role)s GROUP BY u.id ORDER BY u.username"
        " LIMIT %(limit)s OFFSET %(offset)s",
        {"role": role, "limit": limit, "offset": offset},
    ).fetchall()
    total = conn.execute(
        "SELECT count(*) FROM web_users WHERE %(role)s::text IS NULL OR role = %(role)s", {"role": role}
    ).fetchone()
    return [_user(r) for r in rows], int(total[0]) if total else 0


def authenticate(conn: psycopg.Connection, username: str, password: str) -> User | None:
    """The active user whose password matches, else ``None`` (constant work either way)."""
    row = conn.execute(
        "SELECT id, password_hash, active FROM web_users WHERE username = %s", (username,)
    ).fetchone()
    stored = row[1] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row[2]:
        return None
    if _hasher.check_needs_rehash(stored):
        conn.execute("UPDATE web_users SET password_hash = %s WHERE id = %s", (hash_password(password), row[0]))
    return get_user(conn, row[0])


def set_active(conn: psycopg.Connection, user_id: int, active: bool) -> User | None:
    """Deactivate (ending every session of) or reactivate a user; ``None`` when there is no such user."""
    row = conn.execute("UPDATE web_users SET active = %s WHERE id = %s RETURNING id", (active, user_id)).fetchone()
    if row is None:
        return None
    if not active:
        conn.execute("DELETE FROM web_tokens WHERE user_id = %s", (user_id,))
    return get_user(conn, user_id)


def set_password(conn: psycopg.Connection, username: str, password: str) -> bool:
    """Replace a user's password (and end their sessions); ``False`` when there is no such user."""
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    row = conn.execute(
        "UPDATE web_users SET password_hash = %s WHERE username = %s RETURNING id", (hash_password(password), username)
    ).fetchone()
    if row is None:
        return False
    conn.execute("DELETE FROM web_tokens WHERE user_id = %s", (row[0],))
    return True
