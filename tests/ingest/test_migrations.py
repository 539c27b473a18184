"""Migrations apply once, in order, and pick the storage mode the server supports."""

from __future__ import annotations

import psycopg

from ingest.migrations import discover, upgrade
from propwatch.schema import MIGRATION_PACKAGES


def test_rerunning_upgrade_applies_nothing(db: psycopg.Connection) -> None:
    report = upgrade(db, MIGRATION_PACKAGES)
    assert report.applied == []


def test_every_discovered_migration_is_recorded(db: psycopg.Connection) -> None:
    mode = db.execute("SELECT mode FROM storage_mode").fetchone()[0]
    expected = {(m.package, m.version) for p in MIGRATION_PACKAGES for m in discover(p, mode)}
    recorded = set(db.execute("SELECT package, version FROM schema_migrations").fetchall())
    assert recorded == expected


def test_storage_mode_matches_extension_availability(db: psycopg.Connection) -> None:
    available = db.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()[0]
    mode = db.execute("SELECT mode FROM storage_mode").fetchone()[0]
    assert mode == ("timescaledb" if available else "plain")


def test_timestamps_come_back_utc_aware(db: psycopg.Connection) -> None:
    ts = db.execute("SELECT now()").fetchone()[0]
    assert ts.utcoffset().total_seconds() == 0
