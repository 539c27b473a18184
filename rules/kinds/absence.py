"""``absence``: no telemetry from a device for ``after`` (checked on every tick, ended when it speaks again)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import Lifecycle
from rules.model import Absence, Rule

if TYPE_CHECKING:
    from rules.routing import Binding


def parse(chk: Checker, node: Node, path: str, device_type: str | None) -> Absence | None:
    """``after``: how long a device may stay silent."""
    after = chk.duration(node, "after", path, required=True)
    return Absence(after) if after else None


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator:
    """One clock watcher on the device."""
    spec = rule.spec
    assert isinstance(spec, Absence)
    evaluator = AbsenceEvaluator(rule, subject, spec.seconds)
    binding.watch(evaluator)
    return evaluator


class AbsenceEvaluator(Evaluator):
    """No telemetry from a device for ``after`` seconds."""

    __slots__ = ("after",)

    def __init__(self, rule: Rule, subject: Subject, after: float) -> None:
        super().__init__(rule, subject)
        self.after = after

    def check(self, life: Lifecycle, now: datetime, last_seen: datetime | None) -> None:
        """Fire when the device has been silent long enough, calm once it has spoken again."""
        if last_seen is None:
            return
        silent = (now - last_seen).total_seconds()
        if silent >= self.after:
            if self.alarm is None or self.alarm.returned_at is not None:
                life.fire(self, now, silent, {"last_seen": last_seen.isoformat()})
        elif self.alarm is not None:
            life.calm(self, last_seen, silent, f"telemetry resumed at {last_seen.isoformat()}")

    def describe(self, value: float | None) -> tuple[str, dict[str, Any]]:
        """E.g. ``no telemetry for 300 s``."""
        return f"no telemetry for {value or self.after:g} s", {"silent_s": value, "after_s": self.after}


KIND = RuleKind("absence", ("after",), parse, bind, settings=(Setting("after", "seconds", Checker.duration),))
