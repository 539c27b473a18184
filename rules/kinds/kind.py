"""What a rule kind provides: the interface each module under ``rules.kinds`` fills in once, as ``KIND``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.model import Rule, Spec

if TYPE_CHECKING:
    from ingest.registry import Device
    from rules.routing import Binding


@dataclass(frozen=True, slots=True)
class Setting:
    """A parameter an override may change: its YAML key, the field it sets and how its value is read."""

    key: str
    field: str
    read: Callable[[Checker, Node, str, str], Any]


Parser = Callable[[Checker, Node, str, str | None], Spec | None]
"""``(checker, rule node, path, device type) -> spec``: the kind's keys read from the rule's node, every problem
recorded on the checker; ``None`` when the spec cannot be built."""

Binder = Callable[[Rule, Subject, "Binding"], Evaluator | None]
"""``(rule, subject, binding) -> evaluator``: the rule (overrides applied) compiled for one device; routes,
clock watchers and urgent triggers go to the binding. Returns the evaluator that owns the alarm, or ``None``
when the rule does not apply to the device (e.g. an attribute its level needs is missing)."""

ScopeOf = Callable[[Rule, "Device"], Subject | None]
"""``(rule, device) -> subject``: for kinds whose alarm is about a building or site rather than the device."""

ClearsItself = Callable[[Rule], bool]
"""``(rule) -> bool``: whether the rule's alarms can end by themselves (a condition that stops holding, a
clearing event); those that cannot are cleared by an operator or when their work order closes."""


OverrideCheck = Callable[[Rule, Set[str]], tuple[str, str] | None]
"""``(rule with an override applied, keys the override sets) -> (key, problem) | None``: what makes the
override unsafe (a clear level past the trip level), checked where the pack is read."""


def always(rule: Rule) -> bool:
    """Every alarm of the kind clears when its condition stops holding."""
    return True


@dataclass(frozen=True)
class RuleKind:
    """One rule kind: how a pack spells it and how the engine compiles it.

    ``keys`` are the kind's own YAML keys (besides those every rule has); ``settings`` what an override may change
    in its spec; ``scope`` the alarm subject when it is not the device itself; ``device_typed`` whether a rule
    names one ``device_type`` (a rule that does not is offered every device); ``manual_clear`` the default of
    the rule's ``manual_clear``; ``clears_itself`` whether a rule's alarms can end without a person;
    ``check_override`` what makes an override of the kind's rules unsafe.
    """

    name: str
    keys: tuple[str, ...]
    parse: Parser
    bind: Binder
    settings: tuple[Setting, ...] = ()
    scope: ScopeOf | None = None
    device_typed: bool = True
    manual_clear: bool = False
    clears_itself: ClearsItself = always
    check_override: OverrideCheck | None = None
    by_key: Mapping[str, Setting] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {setting.key: setting for setting in self.settings})
