"""Specification of the seasonal profiles."""

from __future__ import annotations

from rules.anomaly.seasonal import daily_profile, hour_index

DAY_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _feed(profile, days: int) -> None:
    for k in range(days * 24):
        t = DAY_START + 3600.0 * k
        profile.learn(t, hour_index(t), 5.0 if 8 <= k % 24 < 20 else -5.0, bound=100.0)


def test_profile_says_nothing_before_two_full_periods():
    profile = daily_profile()
    _feed(profile, 1)
    t = DAY_START + 86_400.0 + 9 * 3600.0
    assert profile.offset(t, hour_index(t)) is None


def test_profile_learns_the_mean_of_each_hour():
    profile = daily_profile()
    _feed(profile, 3)
    noon, night = DAY_START + 3 * 86_400.0 + 12 * 3600.0, DAY_START + 3 * 86_400.0 + 2 * 3600.0
    assert profile.offset(noon, hour_index(noon)) == 5.0
    assert profile.offset(night, hour_index(night)) == -5.0


def test_one_wild_value_moves_a_slot_only_by_its_bounded_share():
    profile = daily_profile()
    _feed(profile, 3)
    noon = DAY_START + 3 * 86_400.0 + 12 * 3600.0
    profile.learn(noon, hour_index(noon), 1e6, bound=2.0)
    assert 5.0 < profile.offset(noon, hour_index(noon)) <= 5.0 + 2.0 / 4
