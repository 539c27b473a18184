"""``forecast``: a metric is forecast to cross ``threshold`` within ``horizon`` (and has not crossed it yet).

Forecasts come from the engine's ``rules.hooks.Forecaster`` (by default the trend forecaster of
``rules.anomaly``), one series per device and rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.hooks import Forecaster
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import Lifecycle
from rules.model import ForecastSpec, Rule

if TYPE_CHECKING:
    from rules.routing import Binding


def parse(chk: Checker, node: Node, path: str, device_type: str | None) -> ForecastSpec | None:
    """``metric``, ``threshold`` (a level), ``direction`` and ``horizon``."""
    metric = chk.text(node, "metric", path)
    chk.metric(node, "metric", path, device_type, metric)
    threshold = chk.level(node, "threshold", path)
    direction = node.get("direction")
    if direction not in ("above", "below"):
        chk.fail(node, "direction", f"{path}.direction", f"expected 'above' or 'below', got {direction!r}")
    horizon = chk.duration(node, "horizon", path, required=True)
    if threshold is None:
        chk.fail(node, None, path, "missing 'threshold'")
    if metric and threshold and horizon and direction in ("above", "below"):
        return ForecastSpec(metric, threshold, direction, horizon)
    return None


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator | None:
    """One evaluator on the engine's forecaster; none when the threshold's attribute is missing."""
    spec = rule.spec
    assert isinstance(spec, ForecastSpec)
    threshold = spec.threshold.resolve(binding.device.attributes)
    if threshold is None:
        return None
    evaluator = ForecastEvaluator(rule, subject, threshold, binding.forecaster)
    binding.reading(spec.metric, evaluator)
    return evaluator


class ForecastEvaluator(Evaluator):
    """The metric is forecast to cross ``threshold`` within ``horizon``."""

    __slots__ = ("forecaster", "spec", "threshold")

    def __init__(self, rule: Rule, subject: Subject, threshold: float, forecaster: Forecaster) -> None:
        super().__init__(rule, subject)
        spec = rule.spec
        assert isinstance(spec, ForecastSpec)
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


KIND = RuleKind(
    "forecast", ("metric", "threshold", "direction", "horizon"), parse, bind,
    settings=(Setting("threshold", "threshold", Checker.level), Setting("horizon", "horizon_s", Checker.duration)),
)
