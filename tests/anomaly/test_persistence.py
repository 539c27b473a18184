"""Specification of detector state surviving restarts: the scorer's store, the engine's checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.records import Batch
from rules.alarms import list_alarms
from rules.anomaly.dbstore import DatabaseModelStore
from rules.anomaly.store import train_detector
from rules.engine import RuleEngine
from rules.errors import RulePackError
from rules.hooks import ALARM_LEVEL, DetectorScorer
from rules.loader import parse_pack

from .conftest import CHANNELS, PUMP_RULE, STEP, vibration_rows

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)
WS1_KEY = "pump.anomaly/S1-B1-WS1"


def _score(scorer: DetectorScorer, rows: list[dict[str, float]], first: int) -> list[float]:
    return [scorer.score(WS1_KEY, CHANNELS, T0 + (first + i) * STEP, row) for i, row in enumerate(rows)]


def _feed(engine: RuleEngine, device_id: str, rows: list[dict[str, float]], first: int) -> None:
    for i, row in enumerate(rows):
        ts = T0 + (first + i) * STEP
        engine.process(Batch.of_readings([(device_id, m, ts, v) for m, v in row.items()]), now=ts)


def test_a_new_scorer_continues_from_the_flushed_state_with_the_same_scores(db_url):
    rows = vibration_rows(400)
    uninterrupted = _score(DetectorScorer(), rows, 0)
    before = DetectorScorer(DatabaseModelStore(db_url))
    first_part = _score(before, rows[:250], 0)
    before.flush(T0)
    after = DetectorScorer(DatabaseModelStore(db_url))
    assert first_part + _score(after, rows[250:], 250) == uninterrupted


def test_a_scorer_without_a_stored_model_warms_up_before_it_can_alarm(db_url):
    scorer = DetectorScorer(DatabaseModelStore(db_url))
    spike = {channel: 100.0 for channel in CHANNELS}
    scores = _score(scorer, [*vibration_rows(20), spike], 0)
    assert max(scores) < ALARM_LEVEL


def test_a_restarted_engine_raises_an_anomaly_without_warming_up_again(db, db_url, devices, pump_pack):
    # 300 quiet rows, then a restart, then a spike: a fresh detector would still be warming up (150 rows).
    first = RuleEngine(db_url, pump_pack)
    _feed(first, devices["ws1"], vibration_rows(300), 0)
    first.close()
    assert list_alarms(db) == []
    second = RuleEngine(db_url, pump_pack)
    try:
        _feed(second, devices["ws1"], [{channel: 100.0 for channel in CHANNELS}] * 3, 300)
        [alarm] = list_alarms(db)
        assert alarm.rule_id == "pump.anomaly"
    finally:
        second.close()


def test_the_engine_saves_detector_state_every_checkpoint_interval(db, db_url, devices, pump_pack):
    engine = RuleEngine(db_url, pump_pack, checkpoint_interval_s=60)
    store = DatabaseModelStore(db_url)
    try:
        _feed(engine, devices["ws1"], vibration_rows(20), 0)
        engine.tick(T0 + 20 * STEP)
        assert store.latest(WS1_KEY) is None
        engine.tick(T0 + 21 * STEP)
        assert store.latest(WS1_KEY).rows == 20
    finally:
        engine.close()


def test_a_running_scorer_takes_up_a_refreshed_version_at_its_next_flush(db_url):
    store = DatabaseModelStore(db_url)
    scorer = DetectorScorer(store)
    _score(scorer, vibration_rows(50), 0)
    scorer.flush(T0)
    refreshed = train_detector(CHANNELS, [(T0 + i * STEP, row) for i, row in enumerate(vibration_rows(300))])
    store.put(WS1_KEY, refreshed.state_dict(), trained_at=T0, rows=refreshed.rows_seen)
    scorer.flush(T0)
    _score(scorer, vibration_rows(1, seed=1), 300)
    scorer.flush(T0)
    assert store.versions(WS1_KEY) == [1, 2]
    assert store.latest(WS1_KEY).rows == 301


def test_a_stored_model_for_other_channels_is_replaced_not_loaded(db_url):
    store = DatabaseModelStore(db_url)
    old = train_detector(["pump1_vibration"], [(T0, {"pump1_vibration": 0.1})])
    store.put(WS1_KEY, old.state_dict(), trained_at=T0, rows=1)
    scorer = DetectorScorer(store)
    _score(scorer, vibration_rows(10), 0)
    scorer.flush(T0)
    record = store.latest(WS1_KEY)
    assert (record.version, record.rows, record.state["channels"]) == (2, 10, list(CHANNELS))


class _CountingStore(DatabaseModelStore):
    """The real store, counting the model reads it is asked for."""

    latest_calls = 0

    def latest(self, key: str):
        self.latest_calls += 1
        return super().latest(key)


def test_first_sight_of_keys_without_a_stored_model_reads_no_model(db_url):
    store = _CountingStore(db_url)
    store.put(WS1_KEY, train_detector(CHANNELS, [(T0, {c: 0.1 for c in CHANNELS})]).state_dict(), trained_at=T0,
              rows=1)
    scorer = DetectorScorer(store)
    for n in range(200):
        scorer.score(f"anomaly.rule/new-device-{n}", CHANNELS, T0, {c: 0.1 for c in CHANNELS})
    scorer.score(WS1_KEY, CHANNELS, T0, {c: 0.1 for c in CHANNELS})
    assert store.latest_calls == 1  # only the key that has a stored model


def test_a_rule_picks_its_alarm_style_and_an_unknown_style_is_refused():
    event_rule = PUMP_RULE.replace("level: 0.5", "level: 0.5\n    alarm: event")
    assert parse_pack(event_rule, "<test>").rules[0].spec.alarm == "event"
    assert parse_pack(PUMP_RULE, "<test>").rules[0].spec.alarm == "state"
    with pytest.raises(RulePackError, match="alarm"):
        parse_pack(PUMP_RULE.replace("level: 0.5", "level: 0.5\n    alarm: sometimes"), "<test>")


def test_the_state_style_scores_every_abnormal_row_above_the_level_and_the_event_style_only_the_onset():
    rows = [*vibration_rows(400), *[{channel: 5.0 for channel in CHANNELS}] * 20]
    event, state = DetectorScorer(), DetectorScorer()
    event_scores = [event.score(WS1_KEY, CHANNELS, T0 + i * STEP, row, alarm="event") for i, row in enumerate(rows)]
    state_scores = [state.score(WS1_KEY, CHANNELS, T0 + i * STEP, row) for i, row in enumerate(rows)]
    assert sum(score >= ALARM_LEVEL for score in event_scores[400:]) == 1
    assert all(score >= ALARM_LEVEL for score in state_scores[401:])
