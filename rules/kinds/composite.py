"""``composite``: every condition seen on devices of one building or site within ``within`` of each other.

The alarm belongs to the scope (fingerprint ``fire.confirmed/building:S001-B03``, no device); a device outside any
building feeds the estate's scope (``fire.confirmed/site:S001``). One evaluator per
scope is shared by the devices in it; each device feeds it through a leg per condition of its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.protocol.catalog import catalog
from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.kinds.kind import RuleKind, Setting
from rules.lifecycle import Lifecycle
from rules.model import Composite, Condition, Rule

if TYPE_CHECKING:
    from ingest.registry import Device
    from rules.routing import Binding

CONDITION_KEYS = ("device_type", "event", "metric", "above", "below")


def parse(chk: Checker, node: Node, path: str, device_type: str | None) -> Composite | None:
    """``scope``, ``within``, at least two ``conditions`` and optional ``clear_events``."""
    scope = node.get("scope")
    if scope not in ("building", "site"):
        chk.fail(node, "scope", f"{path}.scope", f"expected 'building' or 'site', got {scope!r}")
    within = chk.duration(node, "within", path, required=True)
    raw = node.get("conditions")
    if not isinstance(raw, list) or len(raw) < 2:
        chk.fail(node, "conditions", f"{path}.conditions", "a composite needs a list of at least two conditions")
        return None
    conditions = []
    for i, item in enumerate(raw):
        where = f"{path}.conditions[{i}]"
        if not isinstance(item, Node):
            chk.fail(node, "conditions", where, "expected a mapping")
            continue
        conditions.append(_condition(chk, item, where))
    clear_events = chk.codes(node, "clear_events", path)
    if scope in ("building", "site") and within:
        return Composite(scope, within, tuple(conditions), clear_events)
    return None


def _condition(chk: Checker, item: Node, where: str) -> Condition:
    chk.unknown_keys(item, CONDITION_KEYS, where)
    device_type = chk.text(item, "device_type", where)
    if device_type and device_type not in catalog():
        chk.fail(item, "device_type", f"{where}.device_type", f"unknown device type '{device_type}'")
    event = chk.text(item, "event", where, required=False)
    metric = chk.text(item, "metric", where, required=False)
    if (event is None) == (metric is None):
        chk.fail(item, None, where, "a condition needs exactly one of 'event' or 'metric'")
    if event:
        chk.event_codes(item, "event", where, device_type, (event,))
    above, below = chk.number(item, "above", where), chk.number(item, "below", where)
    if metric:
        chk.metric(item, "metric", where, device_type, metric)
        if (above is None) == (below is None):
            chk.fail(item, None, where, "a metric condition needs exactly one of 'above' or 'below'")
    return Condition(device_type or "", event, metric, above, below)


def scope(rule: Rule, device: Device) -> Subject:
    """The device's building or site, as the rule's ``scope`` says. A device registered at estate level (no
    building: the usual fire control room, pump room or garage sump) belongs to the estate's scope, so a
    building-scoped rule still fires for it (fingerprint ``fire.confirmed/site:S001``)."""
    spec = rule.spec
    assert isinstance(spec, Composite)
    if spec.scope == "building" and device.building_id is not None:
        return Subject(f"building:{device.building_id}", device.site_id, device.building_id, None,
                       {"building": device.building_id, "site": device.site_id})
    return Subject(f"site:{device.site_id}", device.site_id, None, None, {"site": device.site_id})


def bind(rule: Rule, subject: Subject, binding: Binding) -> Evaluator:
    """The scope's evaluator (made by its first device), a leg per condition on the device's type, and the
    clearing codes of a device that feeds a leg. Legs of a rule without a ``for`` period are urgent."""
    spec = rule.spec
    assert isinstance(spec, Composite)
    composite = binding.shared(f"{rule.id}/{subject.name}", lambda: CompositeEvaluator(rule, subject))
    assert isinstance(composite, CompositeEvaluator)
    device = binding.device
    immediate = composite.rule.for_s == 0
    legs = 0
    for index, condition in enumerate(spec.conditions):
        if condition.device_type != device.type:
            continue
        legs += 1
        leg = CompositeLeg(composite, index, condition, device.id)
        if condition.event:
            binding.event(condition.event, leg)
            if immediate:
                binding.urgent_event(condition.event)
        elif condition.metric:
            binding.reading(condition.metric, leg)
            if immediate and condition.above is not None:
                binding.urgent_level(condition.metric, True, condition.above)
            if immediate and condition.below is not None:
                binding.urgent_level(condition.metric, False, condition.below)
    if legs:
        for code in spec.clear_events:
            binding.clearing_event(code, composite)
    return composite


class CompositeEvaluator(Evaluator):
    """All conditions seen on devices of one building or site within ``within`` seconds of each other."""

    __slots__ = ("marks", "spec")
    _carried = ("marks",)

    def __init__(self, rule: Rule, subject: Subject) -> None:
        super().__init__(rule, subject)
        spec = rule.spec
        assert isinstance(spec, Composite)
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


def clears_itself(rule: Rule) -> bool:
    """Only with ``clear_events`` from the scope."""
    spec = rule.spec
    assert isinstance(spec, Composite)
    return bool(spec.clear_events)


KIND = RuleKind(
    "composite", ("scope", "within", "conditions", "clear_events"), parse, bind,
    settings=(Setting("within", "within_s", Checker.duration),), scope=scope, device_typed=False,
    manual_clear=True, clears_itself=clears_itself,
)
