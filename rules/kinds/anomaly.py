"""``anomaly``: the anomaly score of some of a device's metrics at or above ``level``.

Scores come from the engine's ``rules.hooks.AnomalyScorer`` (by default the streaming detectors of
``rules.anomaly``), one row per device and timestamp: the channels buffer a batch's values and the evaluator
scores each row once, at the end of the batch or when a newer timestamp arrives.

A row is scored at most once per half the catalogue period of the rule's slowest metric; readings that come
faster are averaged into the next scored row (``rules.anomaly.pacing``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.protocol.catalog import catalog
from rules.anomaly.config import ALARM_STYLES
from rules.anomaly.pacing import Pacer, min_interval_s
from rules.checker import Checker, Node
from rules.evaluators import Deferred, Evaluator, Subject
from rules.hooks import AnomalyScorer
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import Lifecycle
from rules.model import AnomalySpec, Rule

if TYPE_CHECKING:
    from rules.routing import Binding


def parse(chk: Checker, node: Node, path: str, device_type: str | None) -> AnomalySpec | None:
    """``metrics`` of the device type, the score ``level`` and the ``alarm`` style (``state``, the default: the
    alarm holds while the device is abnormal; ``event``: it fires on an episode's first row and no other for the
    detector's quiet rows; docs/anomaly.md)."""
    metrics = chk.codes(node, "metrics", path)
    for metric in metrics:
        if device_type in catalog() and metric not in catalog()[device_type].metrics:
            chk.fail(node, "metrics", f"{path}.metrics", f"'{metric}' is not a {device_type} metric")
    level = chk.number(node, "level", path, required=True)
    alarm = chk.text(node, "alarm", path, required=False) or "state"
    if alarm not in ALARM_STYLES:
        chk.fail(node, "alarm", f"{path}.alarm", f"expected one of {', '.join(ALARM_STYLES)}, got {alarm!r}")
    return AnomalySpec(metrics, level, alarm) if metrics and level is not None else None


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator:
    """One evaluator on the engine's scorer, fed by a channel per metric."""
    spec = rule.spec
    assert isinstance(spec, AnomalySpec)
    evaluator = AnomalyEvaluator(rule, subject, binding.scorer, min_interval_s(rule.device_type, spec.metrics))
    for metric in spec.metrics:
        binding.reading(metric, AnomalyChannel(evaluator, metric, binding.deferred))
    return evaluator


class AnomalyEvaluator(Evaluator):
    """Anomaly score of a device's channels at or above ``level``, at most once per ``min_interval_s``."""

    __slots__ = ("pacer", "scorer", "spec")
    _carried = ("pacer",)

    def __init__(self, rule: Rule, subject: Subject, scorer: AnomalyScorer, min_interval_s: float = 0.0) -> None:
        super().__init__(rule, subject)
        spec = rule.spec
        assert isinstance(spec, AnomalySpec)
        self.spec = spec
        self.scorer = scorer
        self.pacer = Pacer(min_interval_s)

    def adopt(self, old: Evaluator) -> None:
        """Continue the old evaluator's waiting readings at this rule's pace."""
        interval = self.pacer.min_interval_s
        super().adopt(old)
        self.pacer.min_interval_s = interval

    def add(self, life: Lifecycle, metric: str, value: float, ts: datetime) -> bool:
        """Buffer one channel value; returns whether it was taken (not a replay)."""
        waiting = self.pacer.row_ts
        if ts <= self.last_ts or (waiting is not None and ts < waiting):
            return False
        if waiting is not None and ts != waiting:
            self.flush(life)
        self.pacer.add(metric, value, ts)
        return True

    def flush(self, life: Lifecycle) -> None:
        """Score the buffered row if it is due (``rules.anomaly.pacing``)."""
        taken = self.pacer.take()
        if taken is None:
            return
        ts, row = taken
        score = self.scorer.score(self.fingerprint, self.spec.metrics, ts, row, alarm=self.spec.alarm)
        self.last_ts = ts
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

    def __init__(self, evaluator: AnomalyEvaluator, metric: str, waiting: set[Deferred]) -> None:
        self.evaluator = evaluator
        self.metric = metric
        self.waiting = waiting

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        """Buffer the value; the engine scores waiting rows at the end of the batch."""
        if self.evaluator.add(life, self.metric, value, ts):
            self.waiting.add(self.evaluator)


KIND = RuleKind("anomaly", ("metrics", "level", "alarm"), parse, bind,
                settings=(Setting("level", "level", Checker.raw),))
