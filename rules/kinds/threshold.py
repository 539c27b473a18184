"""``threshold``: a metric above (or below) a level, clearing only back past a separate level (hysteresis)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import PENDING, Lifecycle
from rules.model import Level, Rule, Threshold

if TYPE_CHECKING:
    from rules.routing import Binding


def parse(chk: Checker, node: Node, path: str, device_type: str | None) -> Threshold | None:
    """``metric`` with exactly one of ``above``/``below``, and ``clear`` on the safe side of it."""
    metric = chk.text(node, "metric", path)
    chk.metric(node, "metric", path, device_type, metric)
    above, below, clear = (chk.level(node, k, path) for k in ("above", "below", "clear"))
    if ("above" in node) == ("below" in node):
        chk.fail(node, None, path, "a threshold needs exactly one of 'above' or 'below' (use two rules for a band)")
    both = above or below
    if clear and both and clear.constant is not None and both.constant is not None:
        wrong = clear.constant > both.constant if above else clear.constant < both.constant
        if wrong:
            side = "at or below 'above'" if above else "at or above 'below'"
            chk.fail(node, "clear", f"{path}.clear", f"the clear level must be {side} for hysteresis")
    return Threshold(metric or "", above, below, clear) if metric else None


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator | None:
    """Resolve the levels from the device's attributes; none when an attribute is missing without default.
    Without a ``for`` period, a reading crossing the trip level is urgent."""
    spec = rule.spec
    assert isinstance(spec, Threshold)
    levels = _levels(spec, binding.device.attributes)
    if levels is None:
        return None
    evaluator = ThresholdEvaluator(rule, subject, *levels)
    binding.reading(spec.metric, evaluator)
    if rule.for_s == 0:
        binding.urgent_level(spec.metric, evaluator.upward, evaluator.trip)
    return evaluator


def _levels(spec: Threshold, attributes: dict[str, Any]) -> tuple[float, float] | None:
    level = spec.above or spec.below
    assert level is not None
    trip = level.resolve(attributes)
    if trip is None:
        return None
    clear = (spec.clear or Level(constant=trip)).resolve(attributes)
    return trip, trip if clear is None else clear


class ThresholdEvaluator(Evaluator):
    """``above``/``below`` a level with a separate clear level (hysteresis)."""

    __slots__ = ("clear", "metric", "trip", "upward")

    def __init__(self, rule: Rule, subject: Subject, trip: float, clear: float) -> None:
        super().__init__(rule, subject)
        spec = rule.spec
        assert isinstance(spec, Threshold)
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


KIND = RuleKind(
    "threshold", ("metric", "above", "below", "clear"), parse, bind,
    settings=(Setting("above", "above", Checker.level), Setting("below", "below", Checker.level),
              Setting("clear", "clear", Checker.level)),
)
