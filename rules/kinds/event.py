"""``event``: one of a device's event codes arrives (``count`` times within ``window``); ``clear_events`` end it."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import Lifecycle
from rules.model import EventMatch, Rule

if TYPE_CHECKING:
    from rules.routing import Binding


def parse(chk: Checker, node: Node, path: str, device_type: str | None) -> EventMatch:
    """``code`` or ``codes`` from the device type's catalogue, ``count`` (with ``window`` above 1), ``clear_events``."""
    codes = chk.codes(node, "code", path) + chk.codes(node, "codes", path)
    if not codes:
        chk.fail(node, None, path, "an event rule needs 'code' or 'codes'")
    chk.event_codes(node, "codes" if "codes" in node else "code", path, device_type, codes)
    clear_events = chk.codes(node, "clear_events", path)
    chk.event_codes(node, "clear_events", path, device_type, clear_events)
    count = node.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        chk.fail(node, "count", f"{path}.count", f"expected a whole number >= 1, got {count!r}")
        count = 1
    window = chk.duration(node, "window", path, required=count > 1) or 0.0
    return EventMatch(codes, count, window, clear_events)


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator:
    """One evaluator on the rule's codes and clearing codes; without a ``for`` period its codes are urgent."""
    spec = rule.spec
    assert isinstance(spec, EventMatch)
    evaluator = EventEvaluator(rule, subject)
    for code in spec.codes:
        binding.event(code, evaluator)
        if rule.for_s == 0:
            binding.urgent_event(code)
    for code in spec.clear_events:
        binding.clearing_event(code, evaluator)
    return evaluator


class EventEvaluator(Evaluator):
    """One of ``codes`` (``count`` times within ``window``); ``clear_events`` end it."""

    __slots__ = ("last_code", "spec", "times")
    _carried = ("last_code", "times")

    def __init__(self, rule: Rule, subject: Subject) -> None:
        super().__init__(rule, subject)
        spec = rule.spec
        assert isinstance(spec, EventMatch)
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


def clears_itself(rule: Rule) -> bool:
    """Only with ``clear_events``: an event rule without them (a lift's alarm button) has nothing that ends it."""
    spec = rule.spec
    assert isinstance(spec, EventMatch)
    return bool(spec.clear_events)


KIND = RuleKind(
    "event", ("code", "codes", "count", "window", "clear_events"), parse, bind,
    settings=(Setting("window", "window_s", Checker.duration), Setting("count", "count", Checker.raw)),
    manual_clear=True, clears_itself=clears_itself,
)
