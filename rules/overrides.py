"""Overrides: one rule's parameters changed for one device, building or site (``overrides:`` in a pack).

```yaml
overrides:
  - rule: fire.hydrant_pressure_low
    building: S001-B03            # exactly one of device / building / site
    set: {below: 0.35, for: 30s}
```

Every rule has the settings ``enabled severity for clear_for manual_clear``; the others belong to the rule's kind
(``rules.kinds``: ``above`` of a threshold, ``window`` of a rate…). A setting the rule's kind does not have is
ignored, so one override list can serve a pack whose rules change kind. Overrides apply site first, then
building, then device, so the narrowest scope wins per parameter.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from rules.categories import SEVERITIES
from rules.checker import Checker, Node
from rules.kinds import KINDS, Setting
from rules.model import SCOPE_TYPES, Override, Rule

SCOPE_ORDER = ("site", "building", "device")
RULE_SETTINGS = (
    Setting("enabled", "enabled", Checker.raw), Setting("severity", "severity", Checker.raw),
    Setting("for", "for_s", Checker.duration), Setting("clear_for", "clear_for_s", Checker.duration),
    Setting("manual_clear", "manual_clear", Checker.raw),
)


def _settings() -> dict[str, Setting]:
    """Every key an override may set: the rule's own, then each kind's (kinds sharing a key read it alike)."""
    settings = {setting.key: setting for setting in RULE_SETTINGS}
    for kind in KINDS.values():
        for setting in kind.settings:
            settings.setdefault(setting.key, setting)
    return settings


SETTINGS: Mapping[str, Setting] = _settings()
RULE_FIELDS = {setting.key: setting.field for setting in RULE_SETTINGS}


def parse_override(chk: Checker, node: Node, path: str, rules: Mapping[str, Rule]) -> Override | None:
    """One entry of ``overrides:``; ``rules`` are the rules it may name (this pack's and the base pack's), by id.

    An override that would make its rule unsafe (a threshold's clear level past its trip level) is a problem
    naming the rule, the setting and the values.
    """
    chk.unknown_keys(node, ("rule", *SCOPE_TYPES, "set"), path)
    rule_id = chk.text(node, "rule", path)
    if rule_id and rules and rule_id not in rules:
        close = difflib.get_close_matches(rule_id, rules, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        chk.fail(node, "rule", f"{path}.rule", f"no rule '{rule_id}' in this pack or the defaults{hint}")
    scopes = [s for s in SCOPE_TYPES if s in node]
    if len(scopes) != 1:
        chk.fail(node, None, path, "an override names exactly one of device, building or site")
        return None
    values = node.get("set")
    if not isinstance(values, Node) or not values:
        chk.fail(node, "set" if "set" in node else None, f"{path}.set", "expected a mapping of parameters to change")
        return None
    chk.unknown_keys(values, tuple(SETTINGS), f"{path}.set")
    converted: dict[str, Any] = {key: SETTINGS[key].read(chk, values, key, f"{path}.set")
                                 for key in values if key in SETTINGS}
    if "severity" in converted and converted["severity"] not in SEVERITIES:
        chk.fail(values, "severity", f"{path}.set.severity", f"expected one of {', '.join(SEVERITIES)}")
    if not rule_id:
        return None
    override = Override(rule_id, scopes[0], str(node[scopes[0]]), converted, node.line)
    rule = rules.get(rule_id)
    if rule is not None and None not in converted.values():
        _check_safe(chk, values, f"{path}.set", rule, override)
    return override


def _check_safe(chk: Checker, values: Node, path: str, rule: Rule, override: Override) -> None:
    kind = KINDS[rule.kind]
    if kind.check_override is None:
        return
    applied = apply_overrides(rule, [override], {override.scope_type: override.scope_id})
    problem = kind.check_override(applied, override.values.keys() & kind.by_key.keys())
    if problem is not None:
        key, message = problem
        chk.fail(values, key, f"{path}.{key}", message)


def apply_overrides(rule: Rule, overrides: Iterable[Override], scopes: Mapping[str, str | None]) -> Rule:
    """``rule`` with the overrides that match ``scopes`` applied, site first, then building, then device."""
    matching = [o for o in overrides if o.rule == rule.id and scopes.get(o.scope_type) == o.scope_id]
    kind_settings = KINDS[rule.kind].by_key
    for override in sorted(matching, key=lambda o: SCOPE_ORDER.index(o.scope_type)):
        rule_changes = {RULE_FIELDS[k]: v for k, v in override.values.items() if k in RULE_FIELDS}
        spec_changes = {kind_settings[k].field: v for k, v in override.values.items() if k in kind_settings}
        rule = replace(rule, spec=replace(rule.spec, **spec_changes), **rule_changes)
    return rule


class Overrides:
    """A pack's overrides indexed by rule, for applying them to every device of an estate."""

    def __init__(self, overrides: Iterable[Override]) -> None:
        self._by_rule: dict[str, list[Override]] = defaultdict(list)
        for override in overrides:
            self._by_rule[override.rule].append(override)

    def apply(self, rule: Rule, scopes: Mapping[str, str | None]) -> Rule:
        """``rule`` as it applies to the subject with ``scopes`` (its device, building and site ids)."""
        overrides = self._by_rule.get(rule.id)
        return apply_overrides(rule, overrides, scopes) if overrides else rule
