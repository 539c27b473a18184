"""Authentication and authorisation: bearer tokens, cookie sessions with CSRF, role and scope checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import psycopg
from fastapi import Depends, Request

from dashboard import audit, database, throttle
from dashboard.errors import ApiError, forbidden
from dashboard.roles import ADMINS, Group
from dashboard.users import User, authenticate, find_user, get_user

SESSION_COOKIE = "pw_session"
LOGIN_CSRF_COOKIE = "pw_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL = timedelta(hours=12)
BEARER_TTL = timedelta(hours=8)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_API_PREFIXES = ("/api/v1/public/", "/api/v1/auth/token")
LOGIN_SLOTS = 2
LOGIN_SLOT_WAIT_S = 10.0


def is_protected_api_path(path: str) -> bool:
    """Whether ``path`` is an API endpoint that needs a signed-in caller."""
    return path.startswith("/api/v1/") and not path.startswith(PUBLIC_API_PREFIXES)


def token_hash(secret_key: str, token: str) -> str:
    """The keyed hash under which a token is stored."""
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def issue_token(conn: psycopg.Connection, secret_key: str, user: User, kind: str) -> tuple[str, str | None]:
    """Create a session or bearer token for ``user``; returns (token, csrf token or None)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "session" else None
    ttl = SESSION_TTL if kind == "session" else BEARER_TTL
    conn.execute(
        "INSERT INTO web_tokens (token_hash, user_id, kind, csrf_token, expires_at) VALUES (%s, %s, %s, %s, %s)",
        (token_hash(secret_key, token), user.id, kind, csrf, datetime.now(UTC) + ttl),
    )
    return token, csrf


def revoke_token(conn: psycopg.Connection, secret_key: str, token: str) -> None:
    """Forget a token (log out)."""
    conn.execute("DELETE FROM web_tokens WHERE token_hash = %s", (token_hash(secret_key, token),))


def resolve_token(conn: psycopg.Connection, secret_key: str, token: str, kind: str) -> tuple[User, str | None] | None:
    """The active user and CSRF token behind an unexpired token, or ``None``."""
    row = conn.execute(
        "SELECT user_id, csrf_token FROM web_tokens WHERE token_hash = %s AND kind = %s AND expires_at > now()",
        (token_hash(secret_key, token), kind),
    ).fetchone()
    if row is None:
        return None
    user = get_user(conn, row[0])
    if user is None or not user.active:
        return None
    return user, row[1]


def client_source(request: Request) -> str:
    """The caller's address as sign-in throttling counts it (``dashboard.throttle.source_key``)."""
    return throttle.source_key(request.client.host if request.client else None)


@dataclass(frozen=True)
class SignedIn:
    """A good sign-in: the user and the token issued for them (a bearer token, or a session id)."""

    user: User
    token: str


def sign_in(request: Request, username: str, password: str, *, via: str) -> SignedIn | None:
    """Check a password under throttling (``dashboard.throttle``), audit the outcome and, when it is good, issue
    a bearer token (``via="token"``) or a session (``via="session"``); ``None`` for bad credentials.

    No pooled connection is held while the password check waits or runs, so sign-ins cannot starve the API:
    a short transaction on the pool decides the throttle and counts the attempt (429 with ``Retry-After`` while
    the (username, source) pair or the source has to wait); then, holding one of ``LOGIN_SLOTS`` turns per process
    (each check holds tens of MiB and a core for a fraction of a second), the check runs on a connection of its
    own, whose one transaction records the outcome, the audit entry and the token together.
    """
    source = client_source(request)
    with request.app.state.pool.connection(timeout=database.WAIT_S) as conn:
        wait, attempt = throttle.admit(conn, username, source)
    if attempt is None:
        raise ApiError(429, "rate_limited", f"too many failed sign-ins; try again in {wait} s",
                       {"retry_after": wait}, headers={"Retry-After": str(wait)})
    slots = request.app.state.login_slots
    if not slots.acquire(timeout=LOGIN_SLOT_WAIT_S):
        raise ApiError(503, "unavailable", "too many sign-ins at once; try again shortly", headers={"Retry-After": "2"})
    try:
        with database.open_connection(request.app.state.database_url) as conn:
            user = authenticate(conn, username, password)
            if user is None:
                throttle.failed(conn, attempt)
                audit.record_sign_in(conn, "auth.login_failed", find_user(conn, username), source=source,
                                     detail={"via": via})
                return None
            throttle.succeeded(conn, username, source)
            audit.record_sign_in(conn, "auth.login", user, source=source, detail={"via": via})
            token, _ = issue_token(conn, request.app.state.secret_key, user, "bearer" if via == "token" else "session")
            return SignedIn(user, token)
    finally:
        slots.release()


def sign_out(request: Request, conn: psycopg.Connection, user: User, token: str, *, via: str) -> None:
    """Revoke ``token`` and audit the sign-out in the same transaction."""
    revoke_token(conn, request.app.state.secret_key, token)
    audit.record_sign_in(conn, "auth.logout", user, source=client_source(request), detail={"via": via})


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection for one request; committed when the handler returns, rolled back on error."""
    with request.app.state.pool.connection(timeout=database.WAIT_S) as conn:
        yield conn


Conn = Annotated[psycopg.Connection, Depends(get_conn, scope="function")]


def optional_user(request: Request, conn: Conn) -> User | None:
    """The caller from a bearer token or a session cookie (with CSRF on unsafe methods), else ``None``."""
    return resolve_caller(request, conn, csrf_header=True)


def form_user(request: Request, conn: Conn) -> User | None:
    """Like ``optional_user`` for HTML form posts, whose handler checks the ``csrf_token`` form field itself."""
    return resolve_caller(request, conn, csrf_header=False)


def resolve_caller(request: Request, conn: psycopg.Connection, *, csrf_header: bool) -> User | None:
    """Bearer token first, then the session cookie; 401 for a bad bearer token, 403 for a missing CSRF header."""
    secret = request.app.state.secret_key
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthenticated", "use a bearer token", headers={"WWW-Authenticate": "Bearer"})
        found = resolve_token(conn, secret, token.strip(), "bearer")
        if found is None:
            raise ApiError(401, "unauthenticated", "token is invalid or expired",
                           headers={"WWW-Authenticate": "Bearer"})
        return found[0]
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = resolve_token(conn, secret, cookie, "session")
    if found is None:
        return None
    user, csrf = found
    request.state.csrf_token = csrf
    if csrf_header and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not csrf or not hmac.compare_digest(sent, csrf):
            raise ApiError(403, "csrf", "missing or wrong CSRF token")
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in caller; 401 without one."""
    if user is None:
        raise ApiError(401, "unauthenticated", "sign in or send a bearer token",
                       headers={"WWW-Authenticate": "Bearer"})
    return user


def require(group: Group) -> Callable[[User], User]:
    """A dependency that lets only the roles of ``group`` (``dashboard.roles``) through (403 otherwise)."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in group:
            raise forbidden(f"role {user.role} may not do this")
        return user

    check.__name__ = f"require_{'_'.join(group)}"
    check.group = group  # type: ignore[attr-defined]  # read by the scope matrix test
    return check


def check_site(user: User, site_id: str | None) -> None:
    """403 unless ``site_id`` lies in the user's scope."""
    if not user.sees_site(site_id):
        raise forbidden("this site is outside your scope")


def scope_site(user: User, requested: str | None) -> list[str] | None:
    """Sites a listing may cover: ``None`` = all (admin), else the requested one (checked) or the user's sites."""
    if requested is not None:
        check_site(user, requested)
        return [requested]
    if user.role in ADMINS:
        return None
    return list(user.site_ids)
