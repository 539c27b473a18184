"""``ModelStore`` over the ``anomaly_models`` table (rules/migrations/0002_anomaly_models.sql).

Versions of a key count up from 1 and only the newest ``keep`` are kept. A version comes either from the daily
refresh (``refresh_day`` set: at most one per key and UTC day) or from the engine starting a detector it had
no usable model for; the engine then checkpoints that running version in place, so the newest version is
always the one to continue from. The store keeps one connection and, when it finds it lost (a database
restart), runs the call once more on a new one: every call is one read or one transaction, so a repeat is
safe. An engine meeting hundreds of new devices at once looks up hundreds of models; a connection each cost
~4 ms here, which stalled the gateway's commit path for seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from ingest.database import connect
from rules.anomaly.store import ModelRecord

# Puts and checkpoints of one key take this lock, so version numbers and the "still newest" check cannot race.
LOCK = "SELECT pg_advisory_xact_lock(hashtext('anomaly_models'), hashtext(%s))"


T = TypeVar("T")


class AlreadyRefreshed(Exception):
    """The key already has a version from the refresh of that day."""


class DatabaseModelStore:
    """Detector states in PostgreSQL; implements ``rules.anomaly.store.ModelStore``."""

    def __init__(self, database_url: str, *, keep: int = 3) -> None:
        self._url = database_url
        self.keep = keep
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()  # the engine and the checkpointing flush may share a store

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        with self._lock:
            self._close_connection()

    def _close_connection(self) -> None:
        """``close`` for a caller that holds the lock."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run(self, call: Callable[[psycopg.Connection], T]) -> T:
        with self._lock:
            try:
                return call(self._connection())
            except psycopg.OperationalError:
                # Lost (a database restart): once more on a new connection; a second failure is the caller's.
                self._close_connection()
            return call(self._connection())

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self._url, autocommit=True)
        return self._conn

    def put(self, key: str, state: dict[str, Any], *, trained_at: datetime, rows: int,
            refresh_day: date | None = None) -> ModelRecord:
        """Store ``state`` as the next version of ``key`` and drop versions beyond the newest ``keep``.

        ``refresh_day`` marks a version made by the daily refresh; ``AlreadyRefreshed`` if that day has one.
        """
        if trained_at.tzinfo is None:
            raise ValueError("trained_at must be timezone-aware")

        def put(conn: psycopg.Connection) -> int:
            with conn.transaction():
                conn.execute(LOCK, (key,))
                row = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM anomaly_models WHERE key = %s",
                                   (key,)).fetchone()
                version = row[0] if row else 1
                try:
                    with conn.transaction():
                        conn.execute(
                            """INSERT INTO anomaly_models (key, version, trained_at, refresh_day, rows_seen, state)
                               VALUES (%s, %s, %s, %s, %s, %s)""",
                            (key, version, trained_at, refresh_day, rows, Jsonb(state)))
                except psycopg.errors.UniqueViolation as exc:
                    raise AlreadyRefreshed(f"{key} already has a version refreshed on {refresh_day}") from exc
                conn.execute("DELETE FROM anomaly_models WHERE key = %s AND version <= %s",
                             (key, version - self.keep))
            return version

        return ModelRecord(key, self._run(put), trained_at, rows, state)

    def latest(self, key: str) -> ModelRecord | None:
        """Newest version of ``key``, or None."""
        row = self._run(lambda conn: conn.execute(
            """SELECT key, version, trained_at, rows_seen, state FROM anomaly_models WHERE key = %s
               ORDER BY version DESC LIMIT 1""", (key,)).fetchone())
        return ModelRecord(*row) if row else None

    def keys(self) -> set[str]:
        """Every key with a stored version."""
        rows = self._run(lambda conn: conn.execute("SELECT DISTINCT key FROM anomaly_models").fetchall())
        return {row[0] for row in rows}

    def versions(self, key: str) -> list[int]:
        """Stored version numbers of ``key``, oldest first."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT version FROM anomaly_models WHERE key = %s ORDER BY version", (key,)).fetchall())
        return [r[0] for r in rows]

    def newest_versions(self, keys: Sequence[str]) -> dict[str, int]:
        """The newest version number of each of ``keys`` that has one, without reading any state."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT key, max(version) FROM anomaly_models WHERE key = ANY(%s) GROUP BY key", (list(keys),)).fetchall())
        return dict(rows)

    def newest_rows(self, keys: Sequence[str]) -> dict[str, int]:
        """The rows seen by the newest version of each of ``keys`` that has one, without reading any state."""
        rows = self._run(lambda conn: conn.execute(
            """SELECT DISTINCT ON (key) key, rows_seen FROM anomaly_models WHERE key = ANY(%s)
               ORDER BY key, version DESC""", (list(keys),)).fetchall())
        return dict(rows)

    def refreshed_on(self, key: str, day: date) -> bool:
        """Whether ``key`` has a version from the refresh of ``day`` (UTC)."""
        row = self._run(lambda conn: conn.execute(
            "SELECT 1 FROM anomaly_models WHERE key = %s AND refresh_day = %s", (key, day)).fetchone())
        return row is not None

    def checkpoint(self, key: str, version: int, state: dict[str, Any], *, rows: int) -> bool:
        """Overwrite the state of ``version`` if it is still the newest version of ``key``.

        False when a newer version exists (a refresh ran) or ``version`` is gone: the caller should load the
        newest instead of keeping its own.
        """
        def checkpoint(conn: psycopg.Connection) -> int:
            with conn.transaction():
                conn.execute(LOCK, (key,))
                return conn.execute(
                    """UPDATE anomaly_models m SET state = %s, rows_seen = %s, saved_at = now()
                       WHERE key = %s AND version = %s AND NOT EXISTS
                           (SELECT 1 FROM anomaly_models n WHERE n.key = m.key AND n.version > m.version)""",
                    (Jsonb(state), rows, key, version)).rowcount

        return self._run(checkpoint) == 1
