"""Univariate model of one channel: robust seasonal baseline; robust z, CUSUM, variance and drift statistics."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from rules.anomaly.config import DetectorConfig
from rules.anomaly.seasonal import SeasonalProfile, daily_profile, hour_index, weekly_profile
from rules.anomaly.window import SortedWindow

# Normal-consistency constant: IQR / 1.349 estimates sigma for Gaussian data.
_IQR_TO_SIGMA = 1.349
# z is clipped before it feeds CUSUM and the multivariate features, so one wild value cannot dominate them.
_Z_CLIP = 4.0
_FEATURE_CLIP = 8.0
# Memory of the short residual average used as a multivariate feature (about 10 rows).
_FEATURE_ALPHA = 0.1
# Memory of the residual bias (about 50 rows): a rolling median lags any trend or daily ramp, which
# would otherwise bias every residual the same way and push the CUSUM to its cap.
_BIAS_ALPHA = 0.02
# Memory of the long reference level that reveals slow drifts (about 250 rows).
_DRIFT_ALPHA = 0.004
# The noise scale is at least this fraction of the channel's mean absolute deviation from its long-run
# reference: on/off channels (a pump current that is 0 most of the time) have no noise to speak of, and
# without this floor every start would look like a million sigmas and take ages to be forgotten.
_SPREAD_FLOOR = 0.1
# Memory of the absolute-error averages that decide whether a seasonal profile helps (about 100 rows).
_ERROR_ALPHA = 0.01
# A seasonal profile is used only if it cuts the mean absolute residual by at least this factor.
_SEASONAL_GAIN = 0.8


@dataclass(slots=True)
class ChannelStats:
    """Statistics of one channel at one row, each larger when more anomalous."""

    z: float
    """Robust z-score of the value against the baseline (signed)."""
    cusum: float
    """Two-sided CUSUM of clipped z, in sigma units (small persistent shifts)."""
    variance: float
    """Short average of squared z (variance increases); about 1 when normal."""
    drift: float
    """Distance of the baseline from its long-run reference, in sigmas (slow drifts)."""
    statistic: float
    """The largest of the above, each divided by its floor from the config: the channel's alarm statistic."""
    z_average: float
    """Short average of clipped z (a multivariate feature)."""
    generation: int
    """Bumped whenever the baseline starts using a profile it never used before: the statistics' distribution
    changes then, so whatever calibrated them must start afresh."""
    ready: bool
    """Whether the channel has seen enough values for the statistics to count."""

    def features(self) -> tuple[float, float]:
        """Multivariate features of this row: clipped z and its short average."""
        return max(-_FEATURE_CLIP, min(_FEATURE_CLIP, self.z)), self.z_average


class ChannelModel:
    """Streaming model of one sensor channel.

    The baseline is the rolling median of accepted values, deseasonalised by a daily or weekly profile where
    that helps; the scale is the rolling IQR of accepted residuals. Outlying values are kept out of the baseline for up
    to ``max_reject`` consecutive rows so that an anomaly is not learnt as normal while it is being reported.
    """

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self.level = SortedWindow(config.window)
        self.residuals = SortedWindow(config.scale_window)
        self.profiles: list[SeasonalProfile] = [daily_profile(), weekly_profile()] if config.seasonal else []
        # Mean absolute deviation from the slow raw mean without a profile (index 0) and with each profile (1..).
        self.errors = [0.0] * (1 + len(self.profiles))
        self.step = math.inf
        self.last: float | None = None
        self.count = 0
        self.reject_run = 0
        self.rejected: deque[float] = deque(maxlen=config.max_reject)
        self.cusum_up = 0.0
        self.cusum_down = 0.0
        self.variance = 0.0
        self.z_average = 0.0
        self.bias = 0.0
        self.reference = 0.0
        self.spread = 0.0
        self.season_reference = 0.0
        self.modes_used = [0]
        self.generation = 0

    def observe_many(self, times: list[float], values: list[float | None]) -> list[ChannelStats | None]:
        """Score consecutive values (epoch seconds ``times``; None = missing, which leaves the model
        untouched), learning from each after scoring it.

        One loop over a column with the state in local variables: the detector's hot path.
        """
        cfg = self.config
        reject_z, max_reject, min_points = cfg.reject_z, cfg.max_reject, cfg.min_points
        drift_k, cap, variance_alpha = cfg.cusum_drift, cfg.cusum_cap, cfg.variance_alpha
        floors = (cfg.floor_z, cfg.floor_cusum, cfg.floor_variance, cfg.floor_drift)
        level, residuals, profiles, errors = self.level, self.residuals, self.profiles, self.errors
        out: list[ChannelStats | None] = []
        for t, value in zip(times, values, strict=True):
            if value is None:
                out.append(None)
                continue
            hour = hour_index(t)
            offsets = [profile.offset(t, hour) for profile in profiles]
            if not len(level):
                self.count = 1
                level.push(value)
                self.reference = self.season_reference = value
                out.append(ChannelStats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, self.generation, False))
                continue
            # Use the profile with the smallest recent error, if it beats no profile by a clear margin; the
            # baseline then works on the deseasonalised value.
            season, best_error, mode = 0.0, errors[0] * _SEASONAL_GAIN, 0
            for i, offset in enumerate(offsets, start=1):
                if offset is not None and errors[i] < best_error:
                    season, best_error, mode = offset, errors[i], i
            if mode not in self.modes_used:
                self.modes_used.append(mode)
                self.generation += 1
            deseasonalised = value - season
            centre = level.median()
            residual = deseasonalised - centre
            scale = self._scale(centre)
            z = residual / scale - self.bias
            clipped = -_Z_CLIP if z < -_Z_CLIP else (_Z_CLIP if z > _Z_CLIP else z)
            self._learn_season(t, hour, value, offsets, reject_z * scale)
            # Everything is learnt until the channel is ready: with a handful of values there is no scale yet.
            if -reject_z <= z <= reject_z or self.count < min_points or self.reject_run >= max_reject:
                if self.reject_run >= max_reject:
                    # A new level has persisted: accept it as the new normal instead of reporting it forever,
                    # by re-seeding the baseline with the values that were held out.
                    for held_out in self.rejected:
                        level.push(held_out)
                    self.reference = deseasonalised
                    self.cusum_up = self.cusum_down = 0.0
                    clipped = 0.0
                self.rejected.clear()
                self.reject_run = 0
                self.count += 1
                level.push(deseasonalised)
                residuals.push(residual)
                self.bias += _BIAS_ALPHA * clipped
                self.reference += _DRIFT_ALPHA * (deseasonalised - self.reference)
                self.spread += _DRIFT_ALPHA * (abs(deseasonalised - self.reference) - self.spread)
            else:
                self.reject_run += 1
                self.rejected.append(deseasonalised)
            if value != self.last and self.last is not None:
                step = abs(value - self.last)
                if step < self.step:
                    self.step = step
            self.last = value

            up = self.cusum_up + clipped - drift_k
            down = self.cusum_down - clipped - drift_k
            self.cusum_up = up = 0.0 if up < 0.0 else (cap if up > cap else up)
            self.cusum_down = down = 0.0 if down < 0.0 else (cap if down > cap else down)
            cusum = up if up > down else down
            self.variance = variance = self.variance + variance_alpha * (min(z * z, 25.0) - self.variance)
            self.z_average = z_average = self.z_average + _FEATURE_ALPHA * (clipped - self.z_average)
            drift = abs(centre - self.reference) / scale
            statistic = max(abs(z) / floors[0], cusum / floors[1], variance / floors[2], drift / floors[3])
            out.append(ChannelStats(z, cusum, variance, drift, statistic, z_average, self.generation,
                                    self.count >= min_points))
        return out

    def _scale(self, centre: float) -> float:
        source = self.residuals if len(self.residuals) >= 8 else self.level
        iqr_sigma = source.spread() / _IQR_TO_SIGMA
        # Quantised channels (integers, on/off) have IQR 0; half their step is the smallest meaningful change.
        step_floor = 0.5 * self.step if self.step != math.inf else 0.0
        floor = 1e-9 * (abs(centre) if abs(centre) > 1.0 else 1.0)
        return max(iqr_sigma, step_floor, _SPREAD_FLOOR * self.spread, floor)

    def _learn_season(self, t: float, hour: int, value: float, offsets: list[float | None],
                      bound: float) -> None:
        # Profiles learn from every value (not only accepted ones: a daily step would otherwise never be
        # learnt, being rejected each time), against their own long-run mean of the raw values (independent of
        # which profile is in use, so that choosing one cannot feed back into what it learns), with each
        # value's pull bounded so that one anomaly moves a slot only a little.
        deviation = value - self.season_reference
        self.season_reference += _DRIFT_ALPHA * max(-bound, min(bound, deviation))
        errors = self.errors
        errors[0] += _ERROR_ALPHA * (min(abs(deviation), bound) - errors[0])
        for i, profile in enumerate(self.profiles, start=1):
            # Until a profile predicts, its error tracks the plain error so it starts on an equal footing.
            offset = offsets[i - 1]
            error = deviation if offset is None else deviation - offset
            errors[i] += _ERROR_ALPHA * (min(abs(error), bound) - errors[i])
            profile.learn(t, hour, deviation, bound)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {
            "level": self.level.state_dict(), "residuals": self.residuals.state_dict(),
            "profiles": [p.state_dict() for p in self.profiles], "errors": list(self.errors),
            "step": None if math.isinf(self.step) else self.step, "last": self.last, "count": self.count,
            "reject_run": self.reject_run,
            "rejected": list(self.rejected), "cusum_up": self.cusum_up, "cusum_down": self.cusum_down,
            "variance": self.variance, "z_average": self.z_average, "bias": self.bias,
            "reference": self.reference, "spread": self.spread,
            "season_reference": self.season_reference, "modes_used": list(self.modes_used),
            "generation": self.generation,
        }

    @classmethod
    def from_state(cls, config: DetectorConfig, state: dict[str, Any]) -> ChannelModel:
        """Rebuild a channel model from :meth:`state_dict`."""
        model = cls(config)
        model.level = SortedWindow.from_state(state["level"])
        model.residuals = SortedWindow.from_state(state["residuals"])
        model.profiles = [SeasonalProfile.from_state(p) for p in state["profiles"]]
        model.errors = list(state["errors"])
        model.step = math.inf if state["step"] is None else state["step"]
        model.last = state["last"]
        model.count = state["count"]
        model.reject_run = state["reject_run"]
        model.rejected.extend(state["rejected"])
        model.cusum_up = state["cusum_up"]
        model.cusum_down = state["cusum_down"]
        model.variance = state["variance"]
        model.z_average = state["z_average"]
        model.bias = state["bias"]
        model.reference = state["reference"]
        model.spread = state["spread"]
        model.season_reference = state["season_reference"]
        model.modes_used = list(state["modes_used"])
        model.generation = state["generation"]
        return model
