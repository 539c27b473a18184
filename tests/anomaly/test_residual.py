"""Specification of the joint residual model: fitted on the healthy start, it holds its alarm while a fault lasts."""

from __future__ import annotations

import numpy as np

from rules.anomaly.config import DetectorConfig
from rules.anomaly.detector import StreamingDetector
from rules.anomaly.residual import Components
from simulators.synthetic_series import pump_rig


def test_components_score_rows_the_same_one_at_a_time_as_all_at_once():
    rows = np.random.default_rng(0).normal(size=(400, 6)) @ np.random.default_rng(1).normal(size=(6, 6))
    components = Components.fit(rows[:300], 0.95, np.arange(6))
    together = components.statistics(rows[300:])
    apart = [components.statistics(rows[i : i + 1]) for i in range(300, 400)]
    assert np.array_equal(together[0], np.concatenate([a[0] for a in apart]))
    assert np.array_equal(together[1], np.concatenate([a[1] for a in apart]))


def test_a_row_that_breaks_the_channels_relation_has_a_large_q():
    rng = np.random.default_rng(0)
    common = rng.normal(size=500)
    rows = np.column_stack([common, 2 * common, -common]) + 0.05 * rng.normal(size=(500, 3))
    components = Components.fit(rows, 0.95, np.arange(3))
    _, q_normal = components.statistics(rows[:100])
    _, q_broken = components.statistics(np.array([[1.0, -2.0, -1.0]]))
    assert q_broken[0] > 100 * q_normal.max()


def test_the_state_alarm_holds_while_a_pump_fault_lasts():
    rig = pump_rig("valve_closure", seed=0)
    scores = StreamingDetector(rig.channels, config=DetectorConfig(alarm="state")).update_batch(rig.times, rig.values)
    during = [s.is_anomaly for s in scores[rig.start + 30 : rig.end]]
    assert sum(during) >= 0.9 * len(during)


def test_the_healthy_part_of_a_pump_rig_is_not_alarmed_in_state_style():
    rig = pump_rig("valve_closure", seed=0)
    scores = StreamingDetector(rig.channels, config=DetectorConfig(alarm="state")).update_batch(rig.times, rig.values)
    healthy = [s.is_anomaly for s in scores[400 : rig.start]]
    assert sum(healthy) <= 0.1 * len(healthy)
