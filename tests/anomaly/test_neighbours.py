"""Specification of the nearest-neighbour novelty: exact, whatever the number of windows scored at once."""

from __future__ import annotations

import numpy as np

from rules.anomaly.neighbours import QUANTUM, Reference, novelty, quantise, robust_scale


def test_novelty_of_many_windows_at_once_equals_one_at_a_time():
    rng = np.random.default_rng(0)
    past = np.cumsum(rng.normal(size=3000))
    centre, scale = robust_scale(np.sort(past))
    reference = Reference.of(past, 16, 2000, centre, scale)
    windows = quantise(rng.normal(size=(64, 16)).cumsum(axis=1) + past[-1], centre, scale)
    together = novelty(windows, reference, 10)
    apart = np.concatenate([novelty(windows[i : i + 1], reference, 10) for i in range(64)])
    assert np.array_equal(together, apart)


def test_a_window_seen_before_has_zero_novelty():
    past = np.tile(np.sin(np.linspace(0, 2 * np.pi, 40)), 50)
    centre, scale = robust_scale(np.sort(past))
    reference = Reference.of(past, 8, 1000, centre, scale)
    assert novelty(quantise(past[100:108], centre, scale)[None, :], reference, 1)[0] == 0.0


def test_a_window_far_from_everything_seen_has_a_novelty_of_about_its_distance_in_scales():
    past = np.random.default_rng(0).normal(size=2000)
    centre, scale = robust_scale(np.sort(past))
    reference = Reference.of(past, 8, 1000, centre, scale)
    far = np.full((1, 8), 20 * QUANTUM)  # 20 scales above the centre, where nothing was seen
    assert 17.0 <= novelty(far, reference, 10)[0] <= 20.0


def test_a_constant_channel_gets_a_tiny_scale_so_that_any_change_is_far():
    centre, scale = robust_scale(np.full(100, 7.0))
    assert centre == 7.0 and 0.0 < scale <= 1e-5
