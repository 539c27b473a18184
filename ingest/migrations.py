"""Ordered SQL migrations per package, applied once each and recorded in ``schema_migrations``.

Each package keeps ``migrations/NNNN_name.sql`` files. A file may come in two variants,
``NNNN_name.timescaledb.sql`` and ``NNNN_name.plain.sql``; the runner applies the one that matches the storage
mode. The mode is decided once per database and remembered, so a database never flips mode under its data.

Deciding it never risks the session: a server with the timescaledb extension installed but not in
``shared_preload_libraries`` answers ``CREATE EXTENSION timescaledb`` with a FATAL that closes the connection,
so the runner first reads what the server offers (``probe_server``) and only then creates the extension.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import psycopg

log = logging.getLogger(__name__)

StorageMode = Literal["timescaledb", "plain"]
StorageChoice = Literal["auto", "timescaledb", "plain"]
FILE_PATTERN = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?:\.(?P<mode>timescaledb|plain))?\.sql$")
LOCK_KEY = 0x70776D67  # "pwmg": one upgrade at a time per database
NOT_PRELOADED = (
    "TimescaleDB {version} is installed on the PostgreSQL server but not preloaded: add 'timescaledb' to "
    "shared_preload_libraries in postgresql.conf and restart PostgreSQL (docs/operations.md)"
)

BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    package     text        NOT NULL,
    version     text        NOT NULL,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (package, version)
);
CREATE TABLE IF NOT EXISTS storage_mode (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    mode        text    NOT NULL CHECK (mode IN ('timescaledb', 'plain')),
    decided_at  timestamptz NOT NULL DEFAULT now()
);
"""


class MigrationError(Exception):
    """A migration file is misnamed or failed to apply; the message names the file."""


class StorageModeError(MigrationError):
    """The storage mode asked for cannot be had on this server or database; the message says what to change."""


@dataclass(frozen=True)
class ServerSupport:
    """What the server offers for TimescaleDB, read without loading the extension."""

    available: str | None  # the extension's default version when its files are installed on the server
    preloaded: bool  # its loader runs in every backend (``shared_preload_libraries``)

    @property
    def usable(self) -> bool:
        """Whether ``CREATE EXTENSION timescaledb`` can work here."""
        return self.available is not None and self.preloaded


@dataclass(frozen=True)
class Migration:
    package: str
    version: str
    name: str
    sql: str


@dataclass
class UpgradeReport:
    mode: StorageMode
    applied: list[str] = field(default_factory=list)


def discover(package: str, mode: StorageMode) -> list[Migration]:
    """The migrations of one package for one storage mode, in version order."""
    folder = resources.files(package) / "migrations"
    if not folder.is_dir():
        return []
    chosen: dict[str, Migration] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        match = FILE_PATTERN.match(entry.name)
        if match is None:
            raise MigrationError(f"{package}/migrations/{entry.name}: name must be NNNN_lowercase_name[.mode].sql")
        if match["mode"] not in (None, mode):
            continue
        version = match["version"]
        if version in chosen and chosen[version].name != match["name"]:
            raise MigrationError(f"{package}/migrations: {version}_{chosen[version].name} and {entry.name} share "
                                 f"version {version}; give one of them the next free number")
        if version in chosen and match["mode"] is None:
            continue
        chosen[version] = Migration(package, version, match["name"], entry.read_text(encoding="utf-8"))
    return [chosen[v] for v in sorted(chosen)]


def probe_server(conn: psycopg.Connection) -> ServerSupport:
    """Read whether the server has TimescaleDB installed and preloaded, without touching the extension.

    Preloading is seen through a setting only the preloaded loader defines (``timescaledb.max_background_workers``):
    unlike ``shared_preload_libraries`` itself, ``pg_settings`` is readable without superuser rights.
    """
    available, preloaded = conn.execute(
        """SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'),
                  EXISTS (SELECT FROM pg_settings WHERE name = 'timescaledb.max_background_workers')"""
    ).fetchone()
    return ServerSupport(available=available, preloaded=preloaded)


def choose_mode(support: ServerSupport, choice: StorageChoice) -> StorageMode:
    """The mode a new database gets: ``choice`` unless the server cannot give it, which raises or warns.

    ``auto`` takes TimescaleDB when it is usable and plain PostgreSQL otherwise, with a warning when TimescaleDB
    is installed but not preloaded (a half-configured server is worth knowing about before data piles up in
    the other mode). ``timescaledb`` raises ``StorageModeError`` naming the server setting to change.
    """
    if choice == "plain":
        return "plain"
    if support.usable:
        return "timescaledb"
    if choice == "timescaledb":
        if support.available is None:
            raise StorageModeError(
                "storage 'timescaledb' asked for, but the PostgreSQL server has no timescaledb extension "
                "installed: install TimescaleDB for this server's PostgreSQL version, or choose plain storage")
        not_preloaded = NOT_PRELOADED.format(version=support.available)
        raise StorageModeError(f"storage 'timescaledb' asked for: {not_preloaded}")
    if support.available is not None:
        log.warning("using plain PostgreSQL: %s (or choose plain storage explicitly to silence this warning)",
                    NOT_PRELOADED.format(version=support.available))
    return "plain"


def storage_mode(conn: psycopg.Connection, choice: StorageChoice = "auto") -> StorageMode:
    """The mode recorded for this database, deciding it on first use (``choose_mode``).

    A recorded mode is kept whatever ``choice`` says unless it contradicts an explicit choice, which raises
    ``StorageModeError``: a database never changes mode under its data.
    """
    row = conn.execute("SELECT mode FROM storage_mode").fetchone()
    support = probe_server(conn)
    if row:
        mode: StorageMode = row[0]
        if choice not in ("auto", mode):
            raise StorageModeError(f"storage {choice!r} asked for, but this database was created in {mode!r} mode "
                                   f"and never changes mode: choose auto or {mode!r}, or use a new database")
        if mode == "timescaledb" and not support.preloaded:
            raise StorageModeError(
                "this database was created in 'timescaledb' mode, but the PostgreSQL server does not preload "
                "TimescaleDB: add 'timescaledb' to shared_preload_libraries in postgresql.conf and restart "
                "PostgreSQL (docs/operations.md)")
        return mode
    mode = choose_mode(support, choice)
    if mode == "timescaledb":
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        except psycopg.Error as exc:
            # Usually missing rights: creating it takes the CREATE privilege on the database (or a superuser).
            if choice == "timescaledb":
                raise StorageModeError(f"storage 'timescaledb' asked for, but CREATE EXTENSION timescaledb "
                                       f"failed: {exc}") from exc
            log.warning("using plain PostgreSQL: CREATE EXTENSION timescaledb failed: %s", exc)
            mode = "plain"
    conn.execute("INSERT INTO storage_mode (mode) VALUES (%s)", (mode,))
    return mode


def is_migrated(conn: psycopg.Connection, package: str) -> bool:
    """Whether migrations of ``package`` have been applied to this database."""
    return conn.execute("SELECT 1 FROM schema_migrations WHERE package = %s LIMIT 1", (package,)).fetchone() is not None


def upgrade(
    conn: psycopg.Connection, packages: Sequence[str], *, storage: StorageChoice = "auto"
) -> UpgradeReport:
    """Apply every pending migration of ``packages`` (in that order) in one transaction; safe to re-run.

    ``storage`` decides the mode of a new database (``choose_mode``); ``StorageModeError`` when it cannot be had.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(BOOTSTRAP)
        report = UpgradeReport(mode=storage_mode(conn, storage))
        done = {(p, v) for p, v in conn.execute("SELECT package, version FROM schema_migrations")}
        for package in packages:
            for migration in discover(package, report.mode):
                if (migration.package, migration.version) in done:
                    continue
                label = f"{migration.package}/{migration.version}_{migration.name}"
                try:
                    conn.execute(migration.sql)
                except psycopg.Error as exc:
                    raise MigrationError(f"{label} failed: {exc}") from exc
                conn.execute(
                    "INSERT INTO schema_migrations (package, version, name) VALUES (%s, %s, %s)",
                    (migration.package, migration.version, migration.name),
                )
                report.applied.append(label)
    return report
