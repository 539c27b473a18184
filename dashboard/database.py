"""The web process's connection pool, bounded in time so a database that is down answers 503 within 2 s.

Each bound covers one way of waiting: ``connect_timeout`` a server that does not answer a new connection,
``WAIT_S`` a request waiting for a pooled connection, ``statement_timeout`` a query the server is slow to
finish, ``tcp_user_timeout`` a connection whose peer vanished from the network. A pooled connection is checked
before it is handed out, so one broken by a database restart is replaced rather than failing the request.
"""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

from ingest.database import SESSION_OPTIONS

CONNECT_TIMEOUT_S = 2
WAIT_S = 1.2
DEFAULT_STATEMENT_TIMEOUT_S = 10.0
RETRY_AFTER_S = 2
TCP_USER_TIMEOUT_MS = 5000


def open_pool(url: str, *, statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S, max_size: int = 8,
              name: str = "propwatch-web") -> ConnectionPool:
    """Open the pool (waiting up to 30 s for the first connection); the caller closes it."""
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs=_bounds(statement_timeout_s),
        check=ConnectionPool.check_connection,
        timeout=WAIT_S,
        reconnect_timeout=24 * 3600,
        name=name,
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool


def open_connection(url: str, *, statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S) -> psycopg.Connection:
    """One connection outside the pool, under the same time bounds, for work that must never hold a pooled
    connection while it waits or computes (the password check: ``dashboard.security.sign_in``)."""
    return psycopg.connect(url, **_bounds(statement_timeout_s))


def _bounds(statement_timeout_s: float) -> dict[str, object]:
    options = f"{SESSION_OPTIONS} -c statement_timeout={round(statement_timeout_s * 1000)}"
    return {"options": options, "connect_timeout": CONNECT_TIMEOUT_S, "tcp_user_timeout": TCP_USER_TIMEOUT_MS}
