"""The channels of a device: how novel is each reading, and each window of readings, against the channel's past.

Each channel keeps its recent readings. At the start of every ``period`` rows every channel rebuilds what
it compares with (its last values and its last windows, on its current median and scale); the readings of those
rows are then scored against that fixed reference, all channels at once, and each novelty becomes a tail
probability under the channel's own history of it (:mod:`rules.anomaly.likelihood`). Missing readings are
skipped: a channel's windows are its own consecutive readings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rules.anomaly.arrays import pack, unpack
from rules.anomaly.config import DetectorConfig
from rules.anomaly.likelihood import TailProbability, calibration_block, tail_probabilities
from rules.anomaly.neighbours import QUANTUM, quantise, robust_scale

# A channel's tail probability is the smaller of its two tests', counted twice (Bonferroni).
TESTS = 2
# Reference slots a channel cannot fill yet hold windows this far away, so they are never among the nearest.
_FAR = 2.0**20
# Channels' sorted reference values are laid side by side, each in its own band, for one search over all.
_BAND = 4.0 * _FAR
# A channel's windows carry their time of day once it has been observed this long: before it has seen a day,
# every time of day is new to it (and its reference, which lags by up to a run, is hours behind on slow data).
CONTEXT_AFTER_S = 2 * 86_400.0
# Readings a channel's reference needs before its novelties are learnt by its calibration.
MATURITY = 100
# Readings that decide whether a channel is a counter, and how often its steps must not go down.
_COUNTER_EVIDENCE = 32
_MONOTONIC_SHARE = 0.99
# Long-memory samples (in neighbours) a channel needs before readings are compared with its long memory alone.
_LONG_POINT = 4
# The time of day a window ends at, to the minute, as a point on a circle.
_MINUTES = 1440
_CIRCLE = np.stack([np.cos(2 * np.pi * np.arange(_MINUTES) / _MINUTES),
                    np.sin(2 * np.pi * np.arange(_MINUTES) / _MINUTES)], axis=1)


# Slots a long memory holds before it first grows.
_FIRST_SLOTS = 64


class LongMemory:
    """One reading in every ``stride`` of a channel, with the window it ends, over a span of days.

    The recent reference covers a few minutes of a fast channel (2,000 readings at 1 Hz are half an hour); what
    is normal over a day (the morning rush of a lift, the nightly pump test) must also be remembered, or each of
    it is new every time.
    """

    def __init__(self, size: int, length: int) -> None:
        self.size = size
        # Slots are filled in order before the ring wraps, so the arrays grow as they fill (doubling up to
        # ``size``): a fresh detector, made in the gateway's commit path, allocates almost nothing.
        self._allocate(min(size, _FIRST_SLOTS), length)
        self.next = 0

    def _allocate(self, slots: int, length: int) -> None:
        self.values = np.zeros(slots)
        self.windows = np.full((slots, length), np.nan)
        self.minutes = np.zeros(slots, dtype=int)
        self.counts = np.full(slots, -1, dtype=int)

    def _grow(self) -> None:
        held = len(self.values)
        values, windows, minutes, counts = self.values, self.windows, self.minutes, self.counts
        self._allocate(min(self.size, 2 * held), windows.shape[1])
        self.values[:held], self.windows[:held], self.minutes[:held], self.counts[:held] = (
            values, windows, minutes, counts)

    def sample(self, value: float, window: np.ndarray, minute: int, count: int) -> None:
        """Keep one reading (its value, the window it ends, its minute of the day, its index in the channel)."""
        slot = self.next % self.size
        if slot >= len(self.values):
            self._grow()
        self.values[slot], self.windows[slot], self.minutes[slot], self.counts[slot] = value, window, minute, count
        self.next += 1

    def kept(self, before: int) -> np.ndarray:
        """Slots holding readings with an index below ``before``."""
        return np.flatnonzero((self.counts >= 0) & (self.counts < before))

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"size": self.size, "values": pack(self.values), "windows": pack(self.windows),
                "minutes": self.minutes.tolist(), "counts": self.counts.tolist(), "next": self.next}

    @classmethod
    def from_state(cls, state: dict[str, Any], length: int) -> LongMemory:
        """Rebuild from :meth:`state_dict`."""
        # States saved before the arrays grew lazily hold every slot, and no size of their own.
        memory = cls(state.get("size", len(state["minutes"])), length)
        memory.values = unpack(state["values"])
        memory.windows = unpack(state["windows"]).reshape(-1, length)
        memory.minutes = np.asarray(state["minutes"], dtype=int)
        memory.counts = np.asarray(state["counts"], dtype=int)
        memory.next = state["next"]
        return memory


def memory_readings(config: DetectorConfig, first: float, last: float, count: int) -> float:
    """How many readings a channel with ``count`` readings from ``first`` to ``last`` (epoch seconds) makes in
    ``memory_days`` (0 while its rate is unknown)."""
    if count < 2 or not last > first:
        return 0.0
    return config.memory_days * 86_400.0 * (count - 1) / (last - first)


def minute_of_day(times: np.ndarray) -> np.ndarray:
    """UTC minute of the day (0-1439) of each epoch-seconds time."""
    return (np.floor(np.asarray(times, dtype=float) / 60.0) % _MINUTES).astype(int)


class ChannelBank:
    """Novelty of a device's channels' readings (value and window), as a tail probability per reading."""

    def __init__(self, config: DetectorConfig, channels: int, reference_size: int, period: int) -> None:
        self.config = config
        self.channels = channels
        self.reference_size = reference_size
        # Enough readings to rebuild the reference of the last refresh after a reload, and the next one.
        self.period = period
        self._keep = reference_size + 2 * config.pattern_window + period
        self._values = np.empty((channels, 2 * self._keep))
        self._minutes = np.zeros((channels, 2 * self._keep), dtype=int)
        # A window's time of day weighs like one reading ``daily_context`` scales off: the same shape at another
        # time of day is a worse match (a daytime level at night, a missing daily peak).
        self._phases = np.rint(_CIRCLE * (QUANTUM * config.daily_context * np.sqrt(config.pattern_window)))
        self._lengths = np.zeros(channels, dtype=int)
        self.counts = np.zeros(channels, dtype=int)
        self._at_refresh = np.zeros(channels, dtype=int)
        self._first_time = np.full(channels, np.nan)
        self._last_time = np.full(channels, np.nan)
        # Counters (a lift's trip count, running hours) only ever rise: every reading would be new. They are
        # recognised from their first readings and scored by their increments instead.
        self._decided = np.zeros(channels, dtype=bool)
        self._counter = np.zeros(channels, dtype=bool)
        self._last_raw = np.full(channels, np.nan)
        self._contextual = np.zeros(channels, dtype=bool)
        self.tails = [[self._tail(), self._tail()] for _ in range(channels)]
        self._long_size = reference_size // 2
        self.memories = [LongMemory(self._long_size, config.pattern_window) for _ in range(channels)]
        self.strides = np.ones(channels, dtype=int)
        self._bands = np.arange(channels) * _BAND
        self._around = np.arange(2 * config.point_neighbours)
        self._build(self._at_refresh)

    def _tail(self, block: int = 1) -> TailProbability:
        cfg = self.config
        return TailProbability(cfg.calibration_history, cfg.tail_quantile, cfg.tail_prior_weight, cfg.min_calibration,
                               block)

    def _history(self, channel: int) -> np.ndarray:
        return self._values[channel, : self._lengths[channel]]

    def _minutes_of(self, channel: int) -> np.ndarray:
        return self._minutes[channel, : self._lengths[channel]]

    def refresh(self, now: float) -> None:
        """Rebuild every channel's reference and, where due, its calibration (at the start of a refresh run whose
        first row is at ``now``)."""
        cfg = self.config
        for c in np.flatnonzero(~self._decided & (self.counts >= _COUNTER_EVIDENCE)):
            self._decide_counter(c)
        for c in range(self.channels):
            readings = memory_readings(cfg, self._first_time[c], self._last_time[c], self.counts[c])
            self.strides[c] = max(1, math.ceil(readings / self._long_size))
            block = calibration_block(readings, cfg.calibration_history)
            if block != self.tails[c][0].block:
                # The channel's rate is now known (or changed): its calibration starts afresh at that rate.
                self.tails[c] = [self._tail(block), self._tail(block)]
        if cfg.daily_context > 0:
            starting = ~self._contextual & (now - self._first_time >= CONTEXT_AFTER_S)
            for c in np.flatnonzero(starting):
                # The pattern novelty changes meaning: its calibration starts afresh (quiet until it has enough).
                self.tails[c][1] = self._tail(self.tails[c][1].block)
            self._contextual |= starting
        for pair in self.tails:
            for tail in pair:
                if tail.due:
                    tail.refresh()
        self._at_refresh = self.counts.copy()
        self._build(self._at_refresh)

    def _decide_counter(self, c: int) -> None:
        past = self._history(c)
        self._decided[c] = True
        if past[-1] > past[0] and np.mean(np.diff(past) >= 0) >= _MONOTONIC_SHARE:
            self._counter[c] = True
            self._last_raw[c] = past[-1]
            # What was learnt on raw values means nothing for increments: start the channel afresh.
            self._lengths[c] = 0
            self.memories[c] = LongMemory(self._long_size, self.config.pattern_window)
            self.tails[c] = [self._tail(), self._tail()]

    def _increments(self, rows: np.ndarray) -> np.ndarray:
        rows = rows.copy()
        for c in np.flatnonzero(self._counter):
            at = np.flatnonzero(rows[:, c] == rows[:, c])
            if len(at):
                raw = rows[at, c]
                rows[at, c] = np.diff(raw, prepend=self._last_raw[c])
                self._last_raw[c] = raw[-1]
        return rows

    def _build(self, at: np.ndarray) -> None:
        """Build each channel's reference from its readings before index ``at[c]``: its last readings (and the
        windows they end) and its long memory."""
        cfg = self.config
        size, length = self.reference_size, cfg.pattern_window
        recent_size = size - self._long_size
        k_point, k_pattern = cfg.point_neighbours, cfg.pattern_neighbours
        self._centre = np.zeros(self.channels)
        self._scale = np.ones(self.channels)
        self._point_ready = np.zeros(self.channels, dtype=bool)
        self._pattern_ready = np.zeros(self.channels, dtype=bool)
        bands = []
        patterns: dict[int, tuple[np.ndarray, np.ndarray | float]] = {}
        for c in range(self.channels):
            past = self._history(c)[: self._lengths[c] - (self.counts[c] - at[c])]
            minutes = self._minutes_of(c)[: len(past)]
            memory = self.memories[c]
            kept = memory.kept(at[c])
            values = np.sort(np.concatenate([past[-recent_size:], memory.values[kept]]))
            band = np.full(size + 2 * k_point, _FAR)
            band[:k_point] = -_FAR
            if len(values) >= 2 * k_point:
                self._centre[c], self._scale[c] = robust_scale(values)  # sorted: quantiles read by position
                # A reading is compared with the long memory once it has a few neighbours' worth: the recent
                # readings would follow a slow drift (a door closing a little slower every hour) and hide it.
                known = np.sort(memory.values[kept]) if len(kept) >= _LONG_POINT * k_point else values
                band[k_point : k_point + len(known)] = quantise(known, self._centre[c], self._scale[c])
                self._point_ready[c] = True
                # Pattern windows must not overlap the windows they will be compared with: none may end in the
                # last length - 1 readings.
                first, end = max(0, len(past) - recent_size - 2 * (length - 1)), len(past) - (length - 1)
                recent = past[first:end]
                count = max(0, len(recent) - length + 1)
                old = kept[(memory.counts[kept] <= at[c] - length) & ~np.isnan(memory.windows[kept, 0])]
                shapes = np.concatenate([recent[np.arange(count)[:, None] + np.arange(length)], memory.windows[old]])
                ends = np.concatenate([minutes[first + length - 1 : end][:count], memory.minutes[old]])
                # A constant channel has no pattern to speak of (only its time of day would differ).
                if len(shapes) >= 2 * k_pattern and values[0] != values[-1]:
                    patterns[c] = (quantise(shapes, self._centre[c], self._scale[c]),
                                   self._phases[ends] if self._contextual[c] else 0.0)
                    self._pattern_ready[c] = True
            bands.append(band + c * _BAND)
        self._point_reference = np.concatenate(bands)
        # Until a channel has a pattern to compare with, no reference is allocated: a fresh detector (a device
        # seen for the first time, in the gateway's commit path) took 720 kB and 1.5 ms, most of it this array.
        windows = np.full((self.channels, size if patterns else 0, length + 2), _FAR)
        for c, (shapes, phases) in patterns.items():
            windows[c, : len(shapes), :length] = shapes
            windows[c, : len(shapes), length:] = phases
        self._pattern_reference = np.ascontiguousarray(windows.transpose(0, 2, 1))
        self._pattern_norms = np.einsum("crl,crl->cr", windows, windows)

    def probabilities(self, times: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Tail probability of each reading of a run of rows (n, channels) at ``times`` (epoch seconds), 1 where
        it is missing; the readings
        are learnt after being scored. A run must not cross a multiple of ``period`` rows, and
        :meth:`refresh` must be called at the start of a run that begins on one."""
        if self._counter.any():
            rows = self._increments(rows)
        observed = rows == rows
        steps = quantise(rows, self._centre, self._scale)
        point = np.where(observed & self._point_ready, self._value_novelty(steps, observed), np.nan)
        minutes = minute_of_day(times)
        pattern = self._pattern_novelty(rows, minutes, observed)
        # Both statistics of every channel side by side (point, pattern, point, ...): one calibration call for all.
        statistics = np.empty((len(rows), 2 * self.channels))
        statistics[:, 0::2], statistics[:, 1::2] = point, pattern
        tails = tail_probabilities([tail for pair in self.tails for tail in pair], statistics)
        result = np.minimum(1.0, TESTS * np.minimum(tails[:, 0::2], tails[:, 1::2]))
        # Novelties seen while the channel's reference was still forming (its first ``MATURITY`` readings) say
        # more about the reference than about the data: a channel that has only seen nights finds its first
        # morning tens of scales away. They are not learnt, so they cannot inflate the tails for good.
        mature = self.counts + np.cumsum(observed, axis=0) > MATURITY
        for c in np.flatnonzero(observed.any(axis=0)).tolist():
            point_tail, pattern_tail = self.tails[c]
            point_tail.learn(point[mature[:, c], c])
            pattern_tail.learn(pattern[mature[:, c], c])
            self._append(c, rows[observed[:, c], c], minutes[observed[:, c]])
        seen = observed.any(axis=0)
        starting = seen & (self._first_time != self._first_time)
        self._first_time[starting] = times[observed.argmax(axis=0)[starting]]
        self._last_time[seen] = times[len(rows) - 1 - observed[::-1].argmax(axis=0)[seen]]
        return result

    def _value_novelty(self, steps: np.ndarray, observed: np.ndarray) -> np.ndarray:
        # The k nearest reference values of each reading are among the k on either side of where it would be
        # inserted in the channel's sorted band.
        k = self.config.point_neighbours
        queries = np.where(observed, steps, 0.0) + self._bands
        start = np.searchsorted(self._point_reference, queries) - k
        candidates = self._point_reference[start[..., None] + self._around]
        squared = (candidates - queries[..., None]) ** 2
        nearest = np.partition(squared, k - 1, axis=-1)[..., :k]
        return np.sqrt(nearest.sum(axis=-1) / k) / QUANTUM

    def _pattern_novelty(self, rows: np.ndarray, minutes: np.ndarray, observed: np.ndarray) -> np.ndarray:
        cfg = self.config
        length, k = cfg.pattern_window, cfg.pattern_neighbours
        result = np.full(rows.shape, np.nan)
        if len(rows) == 1 and length > 1:
            self._row_pattern_novelty(rows[0], minutes[0], observed[0], result[0])
            return result
        for c in range(self.channels):
            if not self._pattern_ready[c]:
                continue
            at = np.flatnonzero(observed[:, c])
            context = np.concatenate([self._history(c)[-(length - 1) :], rows[at, c]])
            count = len(context) - length + 1
            if count <= 0:
                continue
            steps = quantise(context, self._centre[c], self._scale[c])
            windows = np.empty((count, length + 2))
            windows[:, :length] = steps[np.arange(count)[:, None] + np.arange(length)]
            windows[:, length:] = self._phases[minutes[at[len(at) - count :]]] if self._contextual[c] else 0.0
            # Squared distances to every reference window, built in place (one channel's block stays in cache).
            squared = windows @ self._pattern_reference[c]
            squared *= -2.0
            squared += self._pattern_norms[c]
            squared += np.einsum("nl,nl->n", windows, windows)[:, None]
            squared.partition(k - 1, axis=1)
            nearest = squared[:, :k].sum(axis=1)
            result[at[len(at) - count :], c] = np.sqrt(np.maximum(nearest, 0.0) / (k * length)) / QUANTUM
        return result

    def _row_pattern_novelty(self, row: np.ndarray, minute: int, observed: np.ndarray, result: np.ndarray) -> None:
        """:meth:`_pattern_novelty` of one row, all channels in one product without BLAS: the distances are sums of
        integers, so they are bit for bit those of the per-channel matrix products."""
        cfg = self.config
        length, k = cfg.pattern_window, cfg.pattern_neighbours
        chosen = np.flatnonzero(self._pattern_ready & observed & (self._lengths >= length - 1))
        if not len(chosen):
            return
        at = self._lengths[chosen, None] - (length - 1) + np.arange(length - 1)
        context = np.empty((len(chosen), length))
        context[:, :-1] = self._values[chosen[:, None], at]
        context[:, -1] = row[chosen]
        # Channels not scored keep a zero window: their distances are computed with the rest and left out.
        windows = np.zeros((self.channels, length + 2))
        windows[chosen, :length] = quantise(context, self._centre[chosen, None], self._scale[chosen, None])
        windows[chosen, length:] = np.where(self._contextual[chosen, None], self._phases[minute], 0.0)
        squared = np.einsum("cl,clr->cr", windows, self._pattern_reference)[chosen]
        squared *= -2.0
        squared += self._pattern_norms[chosen]
        squared += np.einsum("cl,cl->c", windows[chosen], windows[chosen])[:, None]
        squared.partition(k - 1, axis=1)
        nearest = squared[:, :k].sum(axis=1)
        result[chosen] = np.sqrt(np.maximum(nearest, 0.0) / (k * length)) / QUANTUM

    def _append(self, channel: int, readings: np.ndarray, minutes: np.ndarray) -> None:
        length = self._lengths[channel]
        if length + len(readings) > self._values.shape[1]:
            keep = min(length, self._keep)
            self._values[channel, :keep] = self._values[channel, length - keep : length]
            self._minutes[channel, :keep] = self._minutes[channel, length - keep : length]
            length = keep
        self._values[channel, length : length + len(readings)] = readings
        self._minutes[channel, length : length + len(readings)] = minutes
        self._lengths[channel] = length + len(readings)
        first = self.counts[channel]
        self.counts[channel] += len(readings)
        window, stride = self.config.pattern_window, int(self.strides[channel])
        # The readings whose index in the channel is a multiple of its stride.
        for j in range(-first % stride, len(readings), stride):
            at = length + j
            shape = self._values[channel, at - window + 1 : at + 1] if at + 1 >= window else np.full(window, np.nan)
            self.memories[channel].sample(readings[j], shape, minutes[j], first + j)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"reference_size": self.reference_size, "period": self.period, "counts": self.counts.tolist(),
                "at_refresh": self._at_refresh.tolist(), "first_time": pack(self._first_time),
                "contextual": self._contextual.tolist(),
                "values": [pack(self._history(c)[-self._keep :]) for c in range(self.channels)],
                "minutes": [self._minutes_of(c)[-self._keep :].tolist() for c in range(self.channels)],
                "tails": [[tail.state_dict() for tail in pair] for pair in self.tails],
                "memories": [memory.state_dict() for memory in self.memories], "strides": self.strides.tolist(),
                "last_time": pack(self._last_time), "decided": self._decided.tolist(),
                "counter": self._counter.tolist(), "last_raw": pack(self._last_raw)}

    @classmethod
    def from_state(cls, config: DetectorConfig, state: dict[str, Any]) -> ChannelBank:
        """Rebuild from :meth:`state_dict`, with the references of the last refresh."""
        bank = cls(config, len(state["counts"]), state["reference_size"], state["period"])
        for c, (values, minutes) in enumerate(zip(state["values"], state["minutes"], strict=True)):
            readings = unpack(values)
            bank._values[c, : len(readings)] = readings
            bank._minutes[c, : len(readings)] = minutes
            bank._lengths[c] = len(readings)
        bank.counts = np.asarray(state["counts"], dtype=int)
        bank._at_refresh = np.asarray(state["at_refresh"], dtype=int)
        bank._first_time = unpack(state["first_time"])
        bank._contextual = np.asarray(state["contextual"], dtype=bool)
        bank.tails = [[TailProbability.from_state(tail) for tail in pair] for pair in state["tails"]]
        bank.memories = [LongMemory.from_state(memory, config.pattern_window) for memory in state["memories"]]
        bank.strides = np.asarray(state["strides"], dtype=int)
        bank._last_time = unpack(state["last_time"])
        bank._decided = np.asarray(state["decided"], dtype=bool)
        bank._counter = np.asarray(state["counter"], dtype=bool)
        bank._last_raw = unpack(state["last_raw"])
        bank._build(bank._at_refresh)
        return bank
