"""Specification of model storage and training from history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from rules.anomaly.store import InMemoryModelStore, load_detector, refresh_model, train_detector
from simulators.synthetic_series import inject

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CHANNELS = ["c0", "c1", "c2", "c3"]


def _history(rows: int):
    series = inject("none", rows=rows)
    for t, row in zip(series.times, series.values, strict=True):
        yield datetime.fromtimestamp(float(t), UTC), dict(zip(CHANNELS, row.tolist(), strict=True))


def test_versions_count_up_and_old_ones_are_dropped():
    store = InMemoryModelStore(keep=2)
    for _ in range(3):
        store.put("S001-B01-WP01:detector", {"x": 1}, trained_at=NOW, rows=0)
    assert store.versions("S001-B01-WP01:detector") == [2, 3]
    assert store.latest("S001-B01-WP01:detector").version == 3


def test_store_survives_json():
    store = InMemoryModelStore()
    refresh_model(store, "dev:detector", CHANNELS, _history(300), now=NOW)
    restored = InMemoryModelStore.from_json(store.to_json())
    assert restored.latest("dev:detector") == store.latest("dev:detector")


def test_refreshed_model_continues_like_the_trained_detector():
    store = InMemoryModelStore()
    record = refresh_model(store, "dev:detector", CHANNELS, _history(600), now=NOW)
    assert record.rows == 600
    loaded = load_detector(store, "dev:detector", CHANNELS)
    trained = train_detector(CHANNELS, _history(600))
    ts = NOW + timedelta(minutes=1)
    assert loaded.update(ts, {"c0": 10.0}) == trained.update(ts, {"c0": 10.0})


def test_short_history_leaves_the_detector_warming_up():
    detector = train_detector(CHANNELS, _history(40))
    assert not detector.update(NOW, {"c0": 10.0}).warmed_up


def test_channel_change_starts_a_fresh_detector():
    store = InMemoryModelStore()
    refresh_model(store, "dev:detector", CHANNELS, _history(300), now=NOW)
    assert load_detector(store, "dev:detector", ["c0", "c1"]).rows_seen == 0


def test_naive_training_time_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        InMemoryModelStore().put("k", {}, trained_at=datetime(2026, 1, 1), rows=0)  # noqa: DTZ001


def test_detector_state_is_plain_json():
    detector = train_detector(CHANNELS, _history(400))
    assert json.loads(json.dumps(detector.state_dict())) == detector.state_dict()
