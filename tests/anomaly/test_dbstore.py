"""Specification of the database-backed model store (table ``anomaly_models``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rules.anomaly.dbstore import AlreadyRefreshed, DatabaseModelStore
from rules.anomaly.store import train_detector

from .conftest import CHANNELS, STEP, vibration_rows

NOW = datetime(2026, 6, 1, 18, tzinfo=UTC)
KEY = "pump.anomaly/S1-B1-WS1"


def _trained_state(rows: int) -> dict:
    history = [(NOW + i * STEP, row) for i, row in enumerate(vibration_rows(rows))]
    return train_detector(CHANNELS, history).state_dict()


def test_a_stored_detector_state_comes_back_unchanged(db_url):
    store = DatabaseModelStore(db_url)
    state = _trained_state(300)
    store.put(KEY, state, trained_at=NOW, rows=300)
    record = store.latest(KEY)
    assert (record.key, record.version, record.trained_at, record.rows) == (KEY, 1, NOW, 300)
    assert record.state == state


def test_a_key_without_versions_has_no_latest(db_url):
    assert DatabaseModelStore(db_url).latest(KEY) is None


def test_versions_count_up_and_only_the_newest_are_kept(db_url):
    store = DatabaseModelStore(db_url, keep=2)
    for _ in range(3):
        store.put(KEY, {"x": 1}, trained_at=NOW, rows=0)
    assert store.versions(KEY) == [2, 3]
    assert store.latest(KEY).version == 3


def test_one_refresh_day_holds_one_version_per_key(db_url):
    store = DatabaseModelStore(db_url)
    store.put(KEY, {"x": 1}, trained_at=NOW, rows=0, refresh_day=date(2026, 6, 1))
    with pytest.raises(AlreadyRefreshed):
        store.put(KEY, {"x": 2}, trained_at=NOW, rows=0, refresh_day=date(2026, 6, 1))
    assert store.versions(KEY) == [1]
    assert store.refreshed_on(KEY, date(2026, 6, 1)) and not store.refreshed_on(KEY, date(2026, 6, 2))


def test_a_checkpoint_overwrites_the_newest_version_in_place(db_url):
    store = DatabaseModelStore(db_url)
    store.put(KEY, {"x": 1}, trained_at=NOW, rows=10)
    assert store.checkpoint(KEY, 1, {"x": 2}, rows=20)
    record = store.latest(KEY)
    assert (record.version, record.rows, record.state) == (1, 20, {"x": 2})


def test_a_checkpoint_of_a_superseded_version_is_refused(db_url):
    store = DatabaseModelStore(db_url)
    store.put(KEY, {"x": 1}, trained_at=NOW, rows=10)
    store.put(KEY, {"x": "refreshed"}, trained_at=NOW, rows=500)
    assert not store.checkpoint(KEY, 1, {"x": 2}, rows=20)
    assert store.latest(KEY).state == {"x": "refreshed"}


def test_the_store_carries_on_after_its_connection_is_lost(db_url, db):
    store = DatabaseModelStore(db_url)
    store.put(KEY, _trained_state(300), trained_at=NOW, rows=300)
    # What a database restart does to an open connection.
    db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
               " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert store.latest(KEY).version == 1
    store.close()


def test_many_lookups_share_one_connection(db_url, db):
    store = DatabaseModelStore(db_url)
    for i in range(50):
        store.latest(f"{KEY}-{i}")
    connections = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                             " AND pid <> pg_backend_pid()").fetchone()[0]
    assert connections == 1
    store.close()
