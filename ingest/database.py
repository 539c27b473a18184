"""Connections to PostgreSQL. Every session runs in UTC so timestamps come back UTC-aware."""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

SESSION_OPTIONS = "-c TimeZone=UTC"


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open one connection with the session in UTC."""
    return psycopg.connect(url, autocommit=autocommit, options=SESSION_OPTIONS)


def create_pool(url: str, *, min_size: int = 1, max_size: int = 8, name: str = "propwatch") -> ConnectionPool:
    """Open a connection pool whose connections run in UTC; the caller closes it."""
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"options": SESSION_OPTIONS},
        name=name,
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool
