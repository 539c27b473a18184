"""Daily and weekly profiles of a channel's residual, learnt online per hour-of-period slot."""

from __future__ import annotations

from typing import Any

HOUR_S = 3_600.0
# 1970-01-01 was a Thursday; shifting by 72 hours makes weekly slot 0 start on Monday 00:00 UTC.
_WEEK_SHIFT_H = 72


def hour_index(t: float) -> int:
    """Whole hours since the epoch, shifted so that hour 0 of every week is Monday 00:00 UTC."""
    return int(t // HOUR_S) + _WEEK_SHIFT_H


class SeasonalProfile:
    """Mean residual per hourly slot of a repeating period (24 slots a day, or 168 a week).

    A profile only predicts once the channel has been observed for two full periods and the slot itself has
    been visited on at least two occasions, so that one odd day cannot become "the pattern".
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.offsets = [0.0] * slots
        self.counts = [0] * slots
        self.first_t: float | None = None

    def offset(self, t: float, hour: int) -> float | None:
        """Expected residual at time ``t`` (whose :func:`hour_index` is ``hour``), or None if not ready."""
        if self.first_t is None or t - self.first_t < 2 * self.slots * HOUR_S:
            return None
        slot = hour % self.slots
        return self.offsets[slot] if self.counts[slot] >= 2 else None

    def learn(self, t: float, hour: int, deviation: float, bound: float) -> None:
        """Fold ``deviation`` observed at ``t`` into its slot's running mean, moving it by at most ``bound``."""
        if self.first_t is None:
            self.first_t = t
        slot = hour % self.slots
        count = self.counts[slot] + 1
        self.counts[slot] = count
        innovation = max(-bound, min(bound, deviation - self.offsets[slot]))
        # A running mean that turns into an EWMA once the slot has history, so the profile follows slow change.
        self.offsets[slot] += innovation * max(1.0 / count, 0.02)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"slots": self.slots, "offsets": list(self.offsets), "counts": list(self.counts),
                "first_t": self.first_t}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeasonalProfile:
        """Rebuild a profile from :meth:`state_dict`."""
        profile = cls(state["slots"])
        profile.offsets = list(state["offsets"])
        profile.counts = list(state["counts"])
        profile.first_t = state["first_t"]
        return profile


def daily_profile() -> SeasonalProfile:
    """Hour-of-day profile."""
    return SeasonalProfile(24)


def weekly_profile() -> SeasonalProfile:
    """Hour-of-week profile."""
    return SeasonalProfile(168)
