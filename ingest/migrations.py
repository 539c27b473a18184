"""Ordered SQL migrations per package, applied once each and recorded in ``schema_migrations``.

Each package keeps ``migrations/NNNN_name.sql`` files. A file may come in two variants,
``NNNN_name.timescaledb.sql`` and ``NNNN_name.plain.sql``; the runner applies the one that matches the storage
mode. The mode is decided once per database (TimescaleDB when the extension can be created) and remembered, so
a database never flips mode under its data.
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
FILE_PATTERN = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?:\.(?P<mode>timescaledb|plain))?\.sql$")
LOCK_KEY = 0x70776D67  # "pwmg": one upgrade at a time per database

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
        if version in chosen and match["mode"] is None:
            continue
        chosen[version] = Migration(package, version, match["name"], entry.read_text(encoding="utf-8"))
    return [chosen[v] for v in sorted(chosen)]


def storage_mode(conn: psycopg.Connection) -> StorageMode:
    """The mode recorded for this database, deciding it on first use."""
    row = conn.execute("SELECT mode FROM storage_mode").fetchone()
    if row:
        return row[0]
    mode: StorageMode = "plain"
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        mode = "timescaledb"
    except psycopg.Error as exc:
        log.debug("timescaledb unavailable: %s", exc)
    conn.execute("INSERT INTO storage_mode (mode) VALUES (%s)", (mode,))
    return mode


def is_migrated(conn: psycopg.Connection, package: str) -> bool:
    """Whether migrations of ``package`` have been applied to this database."""
    return conn.execute("SELECT 1 FROM schema_migrations WHERE package = %s LIMIT 1", (package,)).fetchone() is not None


def upgrade(conn: psycopg.Connection, packages: Sequence[str]) -> UpgradeReport:
    """Apply every pending migration of ``packages`` (in that order) in one transaction; safe to re-run."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(BOOTSTRAP)
        report = UpgradeReport(mode=storage_mode(conn))
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
