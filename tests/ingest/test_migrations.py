"""Migrations apply once, in order, and pick the storage mode the server supports."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from ingest.database import connect
from ingest.history import latest, raw_points
from ingest.migrations import (
    MigrationError,
    ServerSupport,
    StorageModeError,
    choose_mode,
    discover,
    is_migrated,
    probe_server,
    storage_mode,
    upgrade,
)
from propwatch import cli
from propwatch.schema import MIGRATION_PACKAGES, upgrade_database

INSTALLED_NOT_PRELOADED = ServerSupport(available="2.28.3", preloaded=False)
NOT_INSTALLED = ServerSupport(available=None, preloaded=False)
USABLE = ServerSupport(available="2.28.3", preloaded=True)


def as_url(conninfo: str) -> str:
    """``conninfo`` as the postgresql:// URL that PROPWATCH_DATABASE_URL takes."""
    params = conninfo_to_dict(conninfo)
    return f"postgresql:///{params.pop('dbname')}?{urlencode(params)}"


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


def test_storage_mode_is_timescaledb_only_when_the_extension_is_installed_and_preloaded(
    db: psycopg.Connection,
) -> None:
    installed, preloaded = db.execute(
        """SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'timescaledb'),
                  EXISTS (SELECT FROM pg_settings WHERE name = 'timescaledb.max_background_workers')""").fetchone()
    mode = db.execute("SELECT mode FROM storage_mode").fetchone()[0]
    assert mode == ("timescaledb" if installed and preloaded else "plain")


def test_auto_takes_plain_storage_with_a_warning_naming_the_setting_when_timescaledb_is_not_preloaded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ingest.migrations"):
        assert choose_mode(INSTALLED_NOT_PRELOADED, "auto") == "plain"
    assert "shared_preload_libraries" in caplog.text


def test_asking_for_timescaledb_on_a_server_that_does_not_preload_it_names_the_setting() -> None:
    with pytest.raises(StorageModeError, match="add 'timescaledb' to shared_preload_libraries"):
        choose_mode(INSTALLED_NOT_PRELOADED, "timescaledb")


def test_asking_for_timescaledb_on_a_server_without_it_says_it_is_not_installed() -> None:
    with pytest.raises(StorageModeError, match="no timescaledb extension installed"):
        choose_mode(NOT_INSTALLED, "timescaledb")


def test_auto_takes_timescaledb_when_it_is_usable_and_plain_without_a_warning_when_absent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert choose_mode(USABLE, "auto") == "timescaledb"
    with caplog.at_level(logging.WARNING, logger="ingest.migrations"):
        assert choose_mode(NOT_INSTALLED, "auto") == "plain"
    assert caplog.text == ""


def test_plain_storage_can_be_chosen_on_any_server(scratch_database) -> None:
    with scratch_database() as url, connect(url) as conn:
        assert upgrade(conn, ["ingest"], storage="plain").mode == "plain"
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'").fetchone()[0] == 0


def test_the_probe_reads_the_server_without_creating_the_extension(scratch_database) -> None:
    with scratch_database() as url, connect(url) as conn:
        probe_server(conn)
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'").fetchone()[0] == 0


def test_a_database_never_changes_its_recorded_mode(db: psycopg.Connection) -> None:
    recorded = db.execute("SELECT mode FROM storage_mode").fetchone()[0]
    other = "plain" if recorded == "timescaledb" else "timescaledb"
    with pytest.raises(StorageModeError, match=f"created in '{recorded}' mode"):
        storage_mode(db, other)
    assert storage_mode(db, "auto") == recorded


def test_start_up_on_a_server_that_cannot_give_timescaledb_explains_and_leaves_nothing_behind(
    scratch_database,
) -> None:
    with scratch_database() as url:
        with connect(url) as conn:
            support = probe_server(conn)
        if support.usable:
            pytest.skip("the test server gives TimescaleDB")
        setting = "shared_preload_libraries" if support.available else "no timescaledb extension installed"
        with pytest.raises(StorageModeError, match=f"(?s){setting}.*PROPWATCH_STORAGE=timescaledb"):
            upgrade_database(url, storage="timescaledb")
        with connect(url) as conn:
            assert conn.execute("SELECT to_regclass('storage_mode')").fetchone()[0] is None


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


def test_propwatch_db_upgrade_names_the_setting_when_the_server_cannot_give_timescaledb(
    scratch_database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with scratch_database() as url:
        with connect(url) as conn:
            if probe_server(conn).usable:
                pytest.skip("the test server gives TimescaleDB")
        monkeypatch.setenv("PROPWATCH_DATABASE_URL", as_url(url))
        monkeypatch.setenv("PROPWATCH_STORAGE", "timescaledb")
        assert cli.main(["db", "upgrade"]) == 2
    assert "PROPWATCH_STORAGE=timescaledb" in capsys.readouterr().err


def test_two_migrations_sharing_a_version_are_refused_naming_both(tmp_path, monkeypatch) -> None:
    package = tmp_path / "clashing_migrations"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "0001_first.sql").write_text("SELECT 1;")
    (package / "migrations" / "0001_second.sql").write_text("SELECT 2;")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MigrationError, match=r"0001_first and 0001_second\.sql share version 0001"):
        discover("clashing_migrations", "plain")


def test_a_storage_mode_variant_replaces_the_shared_file_of_its_version(tmp_path, monkeypatch) -> None:
    package = tmp_path / "variant_migrations"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "0001_tables.sql").write_text("SELECT 'shared';")
    (package / "migrations" / "0001_tables.plain.sql").write_text("SELECT 'plain';")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [m.sql for m in discover("variant_migrations", "plain")] == ["SELECT 'plain';"]
    assert [m.sql for m in discover("variant_migrations", "timescaledb")] == ["SELECT 'shared';"]
