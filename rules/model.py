"""The rule pack as typed data: rules and each kind's spec, per-scope overrides and topology inhibitions.

Specs are data only, as a pack's configuration is: what each kind does with its spec (parse, bind, evaluate)
lives in its module under ``rules.kinds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ScopeType = Literal["device", "building", "site"]
SCOPE_TYPES: tuple[str, ...] = ("device", "building", "site")


@dataclass(frozen=True, slots=True)
class Level:
    """A threshold value: a constant, or a device attribute times a factor (``rated_speed`` × 1.2)."""

    constant: float | None = None
    attribute: str | None = None
    factor: float = 1.0
    default: float | None = None

    def resolve(self, attributes: dict[str, Any]) -> float | None:
        """The value for one device; ``None`` when the attribute is missing and there is no default."""
        if self.attribute is None:
            return self.constant
        raw = attributes.get(self.attribute)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw) * self.factor
        return self.default


@dataclass(frozen=True, slots=True)
class Threshold:
    metric: str
    above: Level | None = None
    below: Level | None = None
    clear: Level | None = None


@dataclass(frozen=True, slots=True)
class Rate:
    """Change of ``metric`` over ``window_s``: fires on a rise of at least ``rise`` or a fall of ``fall``."""

    metric: str
    window_s: float
    rise: float | None = None
    fall: float | None = None


@dataclass(frozen=True, slots=True)
class EventMatch:
    codes: tuple[str, ...]
    count: int = 1
    window_s: float = 0.0
    clear_events: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Absence:
    seconds: float


@dataclass(frozen=True, slots=True)
class Condition:
    """One leg of a composite: an event code, or a metric beyond a level, on a device of ``device_type``."""

    device_type: str
    event: str | None = None
    metric: str | None = None
    above: float | None = None
    below: float | None = None


@dataclass(frozen=True, slots=True)
class Composite:
    scope: Literal["building", "site"]
    within_s: float
    conditions: tuple[Condition, ...]
    clear_events: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnomalySpec:
    metrics: tuple[str, ...]
    level: float
    alarm: str = "state"


@dataclass(frozen=True, slots=True)
class ForecastSpec:
    metric: str
    threshold: Level
    direction: Literal["above", "below"]
    horizon_s: float


Spec = Threshold | Rate | EventMatch | Absence | Composite | AnomalySpec | ForecastSpec


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule. ``kind`` names its entry in ``rules.kinds.KINDS``; ``device_type`` is ``None`` only for kinds
    not tied to one device type (composites, whose conditions name their types)."""

    id: str
    kind: str
    device_type: str | None
    category: str
    severity: str
    title_zh: str
    title_en: str
    source: str
    spec: Spec
    for_s: float = 0.0
    clear_for_s: float = 0.0
    manual_clear: bool = False
    enabled: bool = True
    line: int = 0


@dataclass(frozen=True, slots=True)
class Override:
    """Replace some parameters of one rule for one device, building or site (the narrowest scope wins)."""

    rule: str
    scope_type: ScopeType
    scope_id: str
    values: dict[str, Any]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Inhibition:
    """While an alarm of ``source_categories``/``source_rules`` is open in a scope, alarms of the targets that
    start in the same scope are recorded as suppressed (their cause is already being handled)."""

    id: str
    scope: ScopeType
    source_rules: tuple[str, ...]
    source_categories: tuple[str, ...]
    target_rules: tuple[str, ...]
    target_categories: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class RulePack:
    name: str
    version: int
    rules: tuple[Rule, ...]
    overrides: tuple[Override, ...] = ()
    inhibitions: tuple[Inhibition, ...] = ()
    origin: str = "<memory>"

    def rule(self, rule_id: str) -> Rule:
        """One rule by id; ``KeyError`` if absent."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def merged(self, other: RulePack) -> RulePack:
        """This pack with ``other`` laid over it: same-id rules replaced, overrides and inhibitions added."""
        replaced = {rule.id: rule for rule in other.rules}
        rules = tuple(replaced.pop(rule.id, rule) for rule in self.rules) + tuple(replaced.values())
        return RulePack(
            name=self.name,
            version=self.version,
            rules=rules,
            overrides=self.overrides + other.overrides,
            inhibitions=self.inhibitions + other.inhibitions,
            origin=f"{self.origin}+{other.origin}",
        )
