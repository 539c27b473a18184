"""Accounts made outside the web app: the first administrator of a production install."""

from __future__ import annotations

import psycopg

from dashboard import audit
from dashboard.users import User, create_user, find_user

CREATE_ADMIN_ACTOR = "propwatch users create-admin"


class AccountExists(Exception):
    """The username is taken."""


def create_admin(conn: psycopg.Connection, *, username: str, password: str,
                 display_name: str = "Administrator") -> User:
    """Create an admin (every site) and its audit entry in one transaction; ``AccountExists`` when the username is
    taken, ``ValueError`` for a password under 8 characters or a username the schema refuses."""
    with conn.transaction():
        if find_user(conn, username) is not None:
            raise AccountExists(f"user {username!r} already exists")
        try:
            user = create_user(conn, username=username, password=password, role="admin", display_name=display_name)
        except psycopg.errors.CheckViolation as exc:
            raise ValueError(f"{username!r} is not a valid username (letters, digits and . _ @ -)") from exc
        audit.record_system(conn, CREATE_ADMIN_ACTOR, "user.create", "user", str(user.id),
                            detail={"role": "admin"})
    return user
