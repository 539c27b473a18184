"""Specification of the calibration: tail probabilities of a statistic under its own history."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rules.anomaly.likelihood import TailProbability, scores_of, tail_probabilities


def _calibrated(values: np.ndarray, size: int = 5000) -> TailProbability:
    tail = TailProbability(size, quantile=0.95, prior_weight=1.0, min_count=100)
    tail.learn(values)
    tail.refresh()
    return tail


def test_in_the_body_the_probability_is_the_share_of_the_history_at_least_as_large():
    history = np.random.default_rng(0).exponential(size=5000)
    tail = _calibrated(history)
    fresh = np.random.default_rng(1).exponential(size=20000)
    probabilities = tail.probabilities(fresh)
    for level in (0.5, 0.2, 0.1):
        assert np.mean(probabilities <= level) == pytest.approx(level, abs=0.02)


def test_beyond_the_history_the_exponential_tail_extrapolates():
    tail = _calibrated(np.random.default_rng(0).exponential(size=5000))
    # Exponential with mean 1: P(X >= 12) = exp(-12) = 6e-6, far below 1/5000; within a factor of two.
    assert np.exp(-12.0) / 2 <= tail.probabilities(np.array([12.0]))[0] <= 2 * np.exp(-12.0)


def test_probabilities_fall_as_values_rise():
    tail = _calibrated(np.random.default_rng(0).lognormal(size=3000))
    probabilities = tail.probabilities(np.linspace(0.0, 60.0, 500))
    assert np.all(np.diff(probabilities) <= 0.0)


def test_a_statistic_with_too_little_history_is_never_unusual():
    tail = _calibrated(np.arange(50.0))
    assert tail.probabilities(np.array([1e9]))[0] == 1.0


def test_missing_values_have_probability_one_and_are_not_learnt():
    tail = _calibrated(np.random.default_rng(0).exponential(size=1000))
    assert tail.probabilities(np.array([np.nan]))[0] == 1.0
    tail.learn(np.full(500, np.nan))
    assert not tail.due


def test_learning_changes_nothing_until_the_next_refresh():
    tail = _calibrated(np.random.default_rng(0).exponential(size=1000))
    before = tail.probabilities(np.array([3.0, 8.0]))
    tail.learn(np.full(600, 8.0))
    assert np.array_equal(tail.probabilities(np.array([3.0, 8.0])), before)
    tail.refresh()
    assert tail.probabilities(np.array([8.0]))[0] > before[1]


def test_a_saved_state_gives_the_same_probabilities_before_and_after_the_next_refresh():
    tail = _calibrated(np.random.default_rng(0).exponential(size=3000), size=2000)
    tail.learn(np.random.default_rng(1).exponential(size=300))
    restored = TailProbability.from_state(json.loads(json.dumps(tail.state_dict())))
    probe = np.linspace(0.0, 20.0, 50)
    assert np.array_equal(restored.probabilities(probe), tail.probabilities(probe))
    tail.refresh()
    restored.refresh()
    assert np.array_equal(restored.probabilities(probe), tail.probabilities(probe))


def test_scores_put_the_alarm_level_at_one_half_and_its_square_at_one():
    scores = scores_of(np.array([1.0, 1e-3, 1e-6, 1e-12]), 1e-3)
    assert scores.tolist() == pytest.approx([0.0, 0.5, 1.0, 1.0])


def _tail(values: np.ndarray, block: int = 1) -> TailProbability:
    tail = TailProbability(2000, quantile=0.95, prior_weight=1.0, min_count=100, block=block)
    tail.learn(values)
    tail.refresh()
    return tail


@pytest.mark.parametrize("block", [1, 4])
def test_values_learnt_one_at_a_time_calibrate_exactly_as_learnt_together(block: int):
    values = np.random.default_rng(0).exponential(size=1500)
    values[::37] = np.nan
    together, one_by_one = _tail(values[:700], block), _tail(values[:700], block)
    together.learn(values[700:])
    for value in values[700:]:
        one_by_one.learn(np.array([value]))
    together.refresh()
    one_by_one.refresh()
    assert one_by_one.state_dict() == together.state_dict()


def test_calibrations_side_by_side_give_each_value_what_its_own_calibration_gives_it_alone():
    rng = np.random.default_rng(0)
    tails = [_tail(rng.exponential(size=3000)),  # exponential tail
             _tail(rng.pareto(2.5, size=3000)),  # heavier than exponential: shape > 0
             _tail(rng.exponential(size=3000), block=8),  # block maxima
             _tail(rng.exponential(size=10))]  # too little history: always 1
    assert tails[1]._shape > 0.0 and not tails[3].ready
    values = rng.exponential(3.0, size=(40, len(tails)))
    values[::7, 1] = np.nan
    together = tail_probabilities(tails, values)
    alone = [[tail_probabilities([tail], values[i : i + 1, j : j + 1])[0, 0] for j, tail in enumerate(tails)]
             for i in range(len(values))]
    assert together.tolist() == alone
    assert np.all(together[:, 3] == 1.0) and np.all(together[::7, 1] == 1.0)
