"""``threshold``: a metric above (or below) a level, clearing only back past a separate level (hysteresis)."""

from __future__ import annotations

import logging
from collections.abc import Set
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import PENDING, Lifecycle
from rules.model import Level, Rule, Threshold

if TYPE_CHECKING:
    from rules.routing import Binding

log = logging.getLogger(__name__)


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


def _show(level: Level) -> str:
    if level.attribute is None:
        return f"{level.constant:g}"
    return level.attribute if level.factor == 1 else f"{level.attribute} × {level.factor:g}"


def hysteresis_problem(spec: Threshold) -> str | None:
    """Why the clear level is, or may be for some device, on the wrong side of the trip level (the alarm would
    clear while the condition still holds and raise again at the next reading); ``None`` when it is right.

    Two numbers, or two multiples of the same attribute, are compared; a number against an attribute level
    depends on each device, so the break-even value of the attribute is named instead.
    """
    trip = spec.above or spec.below
    clear = spec.clear
    if trip is None or clear is None:
        return None
    upward = spec.above is not None
    key = "above" if upward else "below"
    side = "at or below" if upward else "at or above"
    if trip.attribute is None and clear.attribute is None:
        assert trip.constant is not None and clear.constant is not None
        wrong = clear.constant > trip.constant if upward else clear.constant < trip.constant
        return f"'clear' {_show(clear)} must be {side} '{key}' {_show(trip)}" if wrong else None
    if trip.attribute == clear.attribute:
        wrong = clear.factor > trip.factor if upward else clear.factor < trip.factor
        return f"'clear' {_show(clear)} must be {side} '{key}' {_show(trip)}" if wrong else None
    if trip.attribute is not None and clear.attribute is not None:
        return (f"'clear' {_show(clear)} and '{key}' {_show(trip)} come from different attributes and cannot be "
                "compared; give both from one attribute or both as numbers")
    if trip.attribute is None:
        # clear = attribute × factor: wrong where it exceeds (upward) or falls short of (downward) the fixed trip
        assert trip.constant is not None
        fixed, per_device, wrong_if_greater = trip.constant, clear, upward
    else:
        assert clear.constant is not None
        fixed, per_device, wrong_if_greater = clear.constant, trip, not upward
    assert per_device.attribute is not None
    if per_device.factor == 0:
        wrong = fixed < 0 if wrong_if_greater else fixed > 0
        return f"'clear' {_show(clear)} must be {side} '{key}' {_show(trip)}" if wrong else None
    relation = ">" if wrong_if_greater == (per_device.factor > 0) else "<"
    return (f"'clear' {_show(clear)} is on the wrong side of '{key}' {_show(trip)} for every device whose "
            f"{per_device.attribute} {relation} {fixed / per_device.factor:.4g}")


def check_override(rule: Rule, changed: Set[str]) -> tuple[str, str] | None:
    """An override that moves a level must leave the clear level on the safe side of the trip level, for every
    device it may apply to: ``(key, message)`` naming the rule, the levels and their values otherwise."""
    spec = rule.spec
    assert isinstance(spec, Threshold)
    moved = [key for key in ("above", "below", "clear") if key in changed]
    if not moved:
        return None
    if spec.above is not None and spec.below is not None:
        wrong = "above" if "above" in changed else "below"
        right = "below" if wrong == "above" else "above"
        return wrong, f"rule '{rule.id}' trips {right} a level; an override sets '{right}', not '{wrong}'"
    problem = hysteresis_problem(spec)
    if problem is None:
        return None
    advice = "" if "clear" in changed else "; set 'clear' in the same override"
    return moved[0], f"rule '{rule.id}': {problem} (the alarm would clear and raise again at every reading){advice}"


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator | None:
    """Resolve the levels from the device's attributes; none when an attribute is missing without default.
    Without a ``for`` period, a reading crossing the trip level is urgent."""
    spec = rule.spec
    assert isinstance(spec, Threshold)
    levels = _levels(spec, binding.device.attributes)
    if levels is None:
        return None
    trip, clear = levels
    if (clear > trip) if spec.above is not None else (clear < trip):
        # Packs are checked, but a device's attributes can still put the levels the wrong way round: without
        # hysteresis the alarm at least holds while the condition does.
        log.warning("%s on %s: clear level %g is past the trip level %g; clearing at the trip level",
                    rule.id, subject.name, clear, trip)
        clear = trip
    evaluator = ThresholdEvaluator(rule, subject, trip, clear)
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
        # A latched alarm's condition has ended: only the trip level raises it again.
        holding = alarm is not None and alarm.state != PENDING and alarm.returned_at is None
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
    check_override=check_override,
)
