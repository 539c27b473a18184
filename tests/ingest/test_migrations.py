"""Migrations apply once, in order, and pick the storage mode the server supports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from ingest.database import connect
from ingest.history import latest, raw_points
from ingest.migrations import discover, is_migrated, upgrade
from propwatch.schema import MIGRATION_PACKAGES


def test_rerunning_upgrade_applies_nothing(db: psycopg.Connection) -> None:
    report = upgrade(db, MIGRATION_PACKAGES)
    assert report.applied == []


def test_every_discovered_migration_is_recorded(db: psycopg.Connection) -> None:
    mode = db.execute("SELECT mode FROM storage_mode").fetchone()[0]
    expected = {(m.package, m.version) for p in MIGRATION_PACKAGES for m in discover(p, mode)}
    recorded = set(db.execute("SELECT package, version FROM schema_migrations").fetchall())
    assert recorded == expected


def test_is_migrated_tells_a_migrated_package_from_one_never_applied(db: psycopg.Connection) -> None:
    assert is_migrated(db, "dispatch")
    assert not is_migrated(db, "no_such_package")


def test_storage_mode_matches_extension_availability(db: psycopg.Connection) -> None:
    available = db.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()[0]
    mode = db.execute("SELECT mode FROM storage_mode").fetchone()[0]
    assert mode == ("timescaledb" if available else "plain")


def test_timestamps_come_back_utc_aware(db: psycopg.Connection) -> None:
    ts = db.execute("SELECT now()").fetchone()[0]
    assert ts.utcoffset().total_seconds() == 0


def test_narrow_readings_of_an_older_database_are_converted_to_one_row_per_message(scratch_database) -> None:
    t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with scratch_database() as url, connect(url) as conn:
        for migration in discover("ingest", "plain"):
            if migration.version < "0006":
                conn.execute(migration.sql)
        conn.execute(
            """INSERT INTO readings VALUES ('D1', 'pressure', %(t0)s, 0.3), ('D1', 'flow', %(t0)s, 2.5),
                                           ('D1', 'pressure', %(t1)s, 0.4), ('D2', 'level', %(t0)s, 1.0)""",
            {"t0": t0, "t1": t0 + timedelta(seconds=10)},
        )
        conn.execute(
            """INSERT INTO latest_readings VALUES ('D1', 'pressure', %(t1)s, 0.4), ('D1', 'flow', %(t0)s, 2.5)""",
            {"t0": t0, "t1": t0 + timedelta(seconds=10)},
        )
        for migration in discover("ingest", "plain"):
            if migration.version >= "0006":
                conn.execute(migration.sql)

        assert conn.execute("SELECT count(*) FROM readings").fetchone()[0] == 3
        assert [p.value for p in raw_points(conn, "D1", "pressure", t0, t0 + timedelta(hours=1))] == [0.3, 0.4]
        assert [p.value for p in raw_points(conn, "D1", "flow", t0, t0 + timedelta(hours=1))] == [2.5]
        assert latest(conn, "D1") == {"flow": (t0, 2.5), "pressure": (t0 + timedelta(seconds=10), 0.4)}
