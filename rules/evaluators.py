"""One evaluator per (rule, device) — or per (rule, building/site) for composites: the engine's hot path.

Thresholds are resolved (attributes, overrides) when the evaluator is built, so evaluating a reading is a
comparison and, only when something changes, a call into the lifecycle. Each evaluator ignores data at or
before the last timestamp it consumed, which is what makes a redelivered batch a no-op.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rules.hooks import AnomalyScorer, Forecaster
from rules.lifecycle import PENDING, Lifecycle, OpenAlarm
from rules.model import AnomalySpec, Composite, Condition, EventMatch, ForecastSpec, Rate, Rule, Threshold

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Evaluator:
    """What every evaluator carries: its rule, the alarm subject and the open alarm, if any."""

    __slots__ = ("alarm", "building_id", "device_id", "fingerprint", "last_ts", "rule", "site_id")

    def __init__(self, rule: Rule, site_id: str, building_id: str | None, device_id: str | None,
                 subject: str) -> None:
        self.rule = rule
        self.site_id = site_id
        self.building_id = building_id
        self.device_id = device_id
        self.fingerprint = f"{rule.id}/{subject}"
        self.alarm: OpenAlarm | None = None
        self.last_ts = EPOCH

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """A one-line cause and its values, for the transition record."""
        return f"{self.rule.kind} {self.rule.id}", {"value": value}

    def adopt(self, old: Evaluator) -> None:
        """Continue from ``old`` (same fingerprint, before a reload): replay guard and sliding windows."""
        self.last_ts = old.last_ts
        if type(old) is type(self):
            for name in self._carried:
                setattr(self, name, getattr(old, name))

    # Sliding-window state that survives a reload, per kind.
    _carried: tuple[str, ...] = ()


class ThresholdEvaluator(Evaluator):
    """``above``/``below`` a level with a separate clear level (hysteresis)."""

    __slots__ = ("clear", "metric", "trip", "upward")

    def __init__(self, rule: Rule, spec: Threshold, trip: float, clear: float, **subject: Any) -> None:
        super().__init__(rule, **subject)
        self.metric = spec.metric
        self.upward = spec.above is not None
        self.trip = trip
        self.clear = clear

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        """Evaluate one value."""
        if ts <= self.last_ts:
            return
        self.last_ts = ts
        alarm = self.alarm
        holding = alarm is not None and alarm.state != PENDING
        if self.upward:
            firing = value >= self.clear if holding else value > self.trip
        else:
            firing = value <= self.clear if holding else value < self.trip
        if firing:
            life.fire(self, ts, value)
        elif alarm is not None:
            life.calm(self, ts, value)

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``sprinkler_end_pressure 0.03 < 0.05``."""
        sign = ">" if self.upward else "<"
        return (f"{self.metric} {value:g} {sign} {self.trip:g}" if value is not None else self.metric,
                {"value": value, "level": self.trip, "clear_level": self.clear})


class RateEvaluator(Evaluator):
    """A rise or fall of at least a given amount within a sliding window."""

    __slots__ = ("points", "spec")
    _carried = ("points",)

    def __init__(self, rule: Rule, spec: Rate, **subject: Any) -> None:
        super().__init__(rule, **subject)
        self.spec = spec
        self.points: deque[tuple[float, float]] = deque()

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        """Add one value to the window and compare the change across it."""
        if ts <= self.last_ts:
            return
        self.last_ts = ts
        t = ts.timestamp()
        points = self.points
        points.append((t, value))
        horizon = t - self.spec.window_s
        while points[0][0] < horizon:
            points.popleft()
        change = value - points[0][1]
        spec = self.spec
        if (spec.rise is not None and change >= spec.rise) or (spec.fall is not None and -change >= spec.fall):
            life.fire(self, ts, change)
        elif self.alarm is not None:
            life.calm(self, ts, change)

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``sump_level changed +0.6 within 300 s``."""
        return (f"{self.spec.metric} changed {value or 0:+g} within {self.spec.window_s:g} s",
                {"change": value, "window_s": self.spec.window_s})


class EventEvaluator(Evaluator):
    """One of ``codes`` (``count`` times within ``window``); ``clear_events`` end it."""

    __slots__ = ("last_code", "spec", "times")
    _carried = ("last_code", "times")

    def __init__(self, rule: Rule, spec: EventMatch, **subject: Any) -> None:
        super().__init__(rule, **subject)
        self.spec = spec
        self.times: deque[float] = deque()
        self.last_code = ""

    def _fresh(self, code: str, ts: datetime) -> bool:
        if ts < self.last_ts or (ts == self.last_ts and code == self.last_code):
            return False
        self.last_ts, self.last_code = ts, code
        return True

    def event(self, life: Lifecycle, code: str, ts: datetime, detail: Mapping[str, Any]) -> None:
        """Count one matching event."""
        if not self._fresh(code, ts):
            return
        spec = self.spec
        if spec.count <= 1:
            life.fire(self, ts, 1.0, {"code": code, **detail} if detail else {"code": code})
            return
        t = ts.timestamp()
        self.times.append(t)
        while self.times[0] < t - spec.window_s:
            self.times.popleft()
        if len(self.times) >= spec.count:
            life.fire(self, ts, float(len(self.times)), {"code": code})

    def clearing_event(self, life: Lifecycle, code: str, ts: datetime) -> None:
        """A clearing event (``normal_operation``, ``online``, ``reset``) ends the alarm."""
        if self._fresh(code, ts):
            self.times.clear()
            life.calm(self, ts, None, f"event {code}")

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``event trapped`` or ``event door_reopen x5 within 120 s``."""
        codes = "/".join(self.spec.codes)
        if self.spec.count > 1:
            return (f"event {codes} x{value or 0:g} within {self.spec.window_s:g} s",
                    {"count": value, "window_s": self.spec.window_s})
        return f"event {codes}", {"codes": list(self.spec.codes)}


class AbsenceEvaluator(Evaluator):
    """No telemetry from a device for ``after`` seconds (checked by the engine's tick)."""

    __slots__ = ("after",)

    def __init__(self, rule: Rule, after: float, **subject: Any) -> None:
        super().__init__(rule, **subject)
        self.after = after

    def check(self, life: Lifecycle, now: datetime, last_seen: datetime | None) -> None:
        """Fire when the device has been silent long enough, calm once it has spoken again."""
        if last_seen is None:
            return
        silent = (now - last_seen).total_seconds()
        if silent >= self.after:
            if self.alarm is None:
                life.fire(self, now, silent, {"last_seen": last_seen.isoformat()})
        elif self.alarm is not None:
            life.calm(self, last_seen, silent, f"telemetry resumed at {last_seen.isoformat()}")

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``no telemetry for 300 s``."""
        return f"no telemetry for {value or self.after:g} s", {"silent_s": value, "after_s": self.after}


class CompositeEvaluator(Evaluator):
    """All conditions seen on devices of one building or site within ``within`` seconds of each other."""

    __slots__ = ("marks", "spec")
    _carried = ("marks",)

    def __init__(self, rule: Rule, spec: Composite, **subject: Any) -> None:
        super().__init__(rule, **subject)
        self.spec = spec
        self.marks: list[tuple[float, str] | None] = [None] * len(spec.conditions)

    def mark(self, life: Lifecycle, index: int, ts: datetime, device_id: str) -> None:
        """Condition ``index`` held on ``device_id`` at ``ts``."""
        t = ts.timestamp()
        previous = self.marks[index]
        if previous is not None and previous[0] >= t:
            return
        self.marks[index] = (t, device_id)
        times = [m[0] for m in self.marks if m is not None]
        if len(times) == len(self.marks) and max(times) - min(times) <= self.spec.within_s:
            legs = {str(i): m[1] for i, m in enumerate(self.marks) if m is not None}
            life.fire(self, ts, None, {"devices": legs})

    def clearing_event(self, life: Lifecycle, code: str, ts: datetime) -> None:
        """A clearing event from any device in the scope ends it."""
        if self.alarm is not None and ts >= self.alarm.first_seen:
            self.marks = [None] * len(self.marks)
            life.calm(self, ts, None, f"event {code}")

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``fire_alarm + water_flow within 300 s``."""
        legs = " + ".join(c.event or c.metric or "?" for c in self.spec.conditions)
        return f"{legs} within {self.spec.within_s:g} s in {self.spec.scope}", {"scope": self.spec.scope}


class CompositeLeg:
    """Routes one device's data to one condition of a composite."""

    __slots__ = ("composite", "condition", "device_id", "index")

    def __init__(self, composite: CompositeEvaluator, index: int, condition: Condition, device_id: str) -> None:
        self.composite = composite
        self.index = index
        self.condition = condition
        self.device_id = device_id

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        """A metric leg holds when the value is beyond its level."""
        c = self.condition
        if (c.above is not None and value > c.above) or (c.below is not None and value < c.below):
            self.composite.mark(life, self.index, ts, self.device_id)

    def event(self, life: Lifecycle, code: str, ts: datetime, detail: Mapping[str, Any]) -> None:
        """An event leg holds when its code arrives."""
        self.composite.mark(life, self.index, ts, self.device_id)


class AnomalyEvaluator(Evaluator):
    """Anomaly score of a device's channels at or above ``level``; rows are scored once per timestamp."""

    __slots__ = ("row", "row_ts", "scorer", "spec")
    _carried = ("row", "row_ts")

    def __init__(self, rule: Rule, spec: AnomalySpec, scorer: AnomalyScorer, **subject: Any) -> None:
        super().__init__(rule, **subject)
        self.spec = spec
        self.scorer = scorer
        self.row: dict[str, float] = {}
        self.row_ts: datetime | None = None

    def add(self, life: Lifecycle, metric: str, value: float, ts: datetime) -> bool:
        """Buffer one channel value; returns whether it was taken (not a replay)."""
        if ts <= self.last_ts:
            return False
        if self.row_ts is not None and ts != self.row_ts:
            self.flush(life)
        self.row_ts = ts
        self.row[metric] = value
        return True

    def flush(self, life: Lifecycle) -> None:
        """Score the buffered row."""
        ts = self.row_ts
        if ts is None:
            return
        score = self.scorer.score(self.fingerprint, self.spec.metrics, ts, self.row)
        self.last_ts, self.row_ts, self.row = ts, None, {}
        if score >= self.spec.level:
            life.fire(self, ts, score)
        elif self.alarm is not None:
            life.calm(self, ts, score)

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``anomaly score 0.83 >= 0.5 on door_close_time``."""
        return (f"anomaly score {value or 0:.2f} >= {self.spec.level:g} on {', '.join(self.spec.metrics)}",
                {"score": value, "level": self.spec.level})


class AnomalyChannel:
    """Routes one metric to an anomaly evaluator and notes that the evaluator has a row to score."""

    __slots__ = ("evaluator", "metric", "waiting")

    def __init__(self, evaluator: AnomalyEvaluator, metric: str, waiting: set[AnomalyEvaluator]) -> None:
        self.evaluator = evaluator
        self.metric = metric
        self.waiting = waiting

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        """Buffer the value; the engine scores waiting rows at the end of the batch."""
        if self.evaluator.add(life, self.metric, value, ts):
            self.waiting.add(self.evaluator)


class ForecastEvaluator(Evaluator):
    """The metric is forecast to cross ``threshold`` within ``horizon``."""

    __slots__ = ("forecaster", "spec", "threshold")

    def __init__(self, rule: Rule, spec: ForecastSpec, threshold: float, forecaster: Forecaster,
                 **subject: Any) -> None:
        super().__init__(rule, **subject)
        self.spec = spec
        self.threshold = threshold
        self.forecaster = forecaster

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        """Feed the forecaster and compare the time to threshold with the horizon."""
        if ts <= self.last_ts:
            return
        self.last_ts = ts
        seconds = self.forecaster.seconds_to(self.fingerprint, ts, value, self.threshold, self.spec.direction)
        # Once crossed, the threshold rule speaks for the metric; the forecast has done its job.
        if seconds is not None and 0 < seconds <= self.spec.horizon_s:
            life.fire(self, ts, seconds)
        elif self.alarm is not None:
            life.calm(self, ts, seconds)

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``fire_tank_level below 2 in about 3.5 h``."""
        hours = (value or 0) / 3600
        return (f"{self.spec.metric} forecast {self.spec.direction} {self.threshold:g} in about {hours:.1f} h",
                {"seconds_to_threshold": value, "threshold": self.threshold, "horizon_s": self.spec.horizon_s})
