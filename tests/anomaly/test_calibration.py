"""Specification of the calibration pieces: running quantile and the alarm latch."""

from __future__ import annotations

import numpy as np
import pytest

from rules.anomaly.calibration import AlarmLatch, RunningQuantile


def test_running_quantile_is_within_one_bin_of_the_exact_quantile():
    values = np.random.default_rng(0).exponential(size=5000)
    quantile = RunningQuantile(0.99)
    for value in values:
        quantile.add(float(value))
    assert quantile.value() == pytest.approx(np.quantile(values, 0.99), rel=0.13)


def test_latch_holds_through_a_short_dip_and_clears_after_a_quiet_run():
    latch = AlarmLatch(clear_ratio=0.7, clear_rows=3, min_hold_rows=2)
    states = [latch.update(r, armed=True) for r in (1.2, 0.5, 1.1, 0.5, 0.5, 0.5, 0.5)]
    assert states == [True, True, True, True, True, False, False]


def test_latch_does_not_raise_when_disarmed():
    latch = AlarmLatch(clear_ratio=0.7, clear_rows=3, min_hold_rows=2)
    assert not latch.update(5.0, armed=False)
