"""``rate``: a metric rose (or fell) by at least an amount within a sliding window."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import Lifecycle
from rules.model import Rate, Rule

if TYPE_CHECKING:
    from rules.routing import Binding


def parse(chk: Checker, node: Node, path: str, device_type: str | None) -> Rate | None:
    """``metric``, ``window`` and at least one of ``rise``/``fall``."""
    metric = chk.text(node, "metric", path)
    chk.metric(node, "metric", path, device_type, metric)
    window = chk.duration(node, "window", path, required=True)
    rise, fall = chk.number(node, "rise", path), chk.number(node, "fall", path)
    if rise is None and fall is None:
        chk.fail(node, None, path, "a rate rule needs 'rise' or 'fall' (change within the window)")
    return Rate(metric, window, rise, fall) if metric and window else None


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator:
    """One evaluator on the rule's metric."""
    spec = rule.spec
    assert isinstance(spec, Rate)
    evaluator = RateEvaluator(rule, subject)
    binding.reading(spec.metric, evaluator)
    return evaluator


class RateEvaluator(Evaluator):
    """A rise or fall of at least a given amount within a sliding window."""

    __slots__ = ("points", "spec")
    _carried = ("points",)

    def __init__(self, rule: Rule, subject: Subject) -> None:
        super().__init__(rule, subject)
        spec = rule.spec
        assert isinstance(spec, Rate)
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


KIND = RuleKind(
    "rate", ("metric", "window", "rise", "fall"), parse, bind,
    settings=(Setting("rise", "rise", Checker.raw), Setting("fall", "fall", Checker.raw),
              Setting("window", "window_s", Checker.duration)),
)
