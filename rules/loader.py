"""Read a rule pack from YAML and validate it, reporting every problem with its line number.

The loader reads what every rule has (id, kind, category, severity, title, source, timing) and hands the rest
of a rule to its kind's parser (``rules.kinds``); overrides are read by ``rules.overrides``.

A problem names the file, the line, the path inside the document and what is wrong, e.g.
``default.yaml:42: rules[3].below: expected a number or {attribute: name, factor: x}, got 'low'``.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from importlib import resources
from pathlib import Path

from rules.categories import SEVERITIES, categories
from rules.checker import Checker, Node, load_document
from rules.errors import RulePackError
from rules.kinds import KINDS
from rules.model import SCOPE_TYPES, Inhibition, Rule, RulePack
from rules.overrides import parse_override

RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
COMMON_KEYS = ("id", "kind", "device_type", "category", "severity", "title", "source", "for", "clear_for",
               "manual_clear", "enabled")

__all__ = ["RulePackError", "default_pack", "load_pack_file", "parse_pack"]


def _rule(chk: Checker, node: Node, path: str) -> Rule | None:
    name = node.get("kind")
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        chk.fail(node, "kind", f"{path}.kind", f"expected one of {', '.join(KINDS)}, got {name!r}")
        return None
    chk.unknown_keys(node, COMMON_KEYS + kind.keys, path)
    rule_id = chk.text(node, "id", path)
    if rule_id and not RULE_ID.match(rule_id):
        chk.fail(node, "id", f"{path}.id", "ids are lowercase letters, digits, '.', '_' or '-'")
    device_type = chk.device_type(node, "device_type", path) if kind.device_typed else None
    category_id = chk.text(node, "category", path)
    known = categories()
    if category_id and category_id not in known:
        close = difflib.get_close_matches(category_id, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        chk.fail(node, "category", f"{path}.category", f"unknown category '{category_id}'{hint}")
    severity = node.get("severity", known[category_id].severity if category_id in known else "P3")
    if severity not in SEVERITIES:
        chk.fail(node, "severity", f"{path}.severity", f"expected one of {', '.join(SEVERITIES)}, got {severity!r}")
    title = node.get("title")
    if not (isinstance(title, Node) and isinstance(title.get("zh"), str) and isinstance(title.get("en"), str)):
        chk.fail(node, "title" if "title" in node else None, f"{path}.title", "expected {zh: ..., en: ...}")
        title = {"zh": "", "en": ""}
    source = chk.text(node, "source", path)
    for_s = chk.duration(node, "for", path) or 0.0
    clear_for_s = chk.duration(node, "clear_for", path) or 0.0
    flags = {}
    for flag, default in (("manual_clear", kind.manual_clear), ("enabled", True)):
        flags[flag] = node.get(flag, default)
        if not isinstance(flags[flag], bool):
            chk.fail(node, flag, f"{path}.{flag}", f"expected true or false, got {flags[flag]!r}")
    spec = kind.parse(chk, node, path, device_type)
    if spec is None or not rule_id or not category_id or not source:
        return None
    return Rule(id=rule_id, kind=kind.name, device_type=device_type, category=category_id, severity=severity,
                title_zh=title["zh"], title_en=title["en"], source=source, spec=spec, for_s=for_s,
                clear_for_s=clear_for_s, manual_clear=bool(flags["manual_clear"]), enabled=bool(flags["enabled"]),
                line=node.line)


def _inhibition(chk: Checker, node: Node, path: str) -> Inhibition | None:
    chk.unknown_keys(node, ("id", "scope", "source", "targets", "reason"), path)
    inhibition_id = chk.text(node, "id", path)
    scope = node.get("scope")
    if scope not in SCOPE_TYPES:
        chk.fail(node, "scope", f"{path}.scope", f"expected one of {', '.join(SCOPE_TYPES)}, got {scope!r}")
    sides = {}
    for side in ("source", "targets"):
        value = node.get(side)
        if not isinstance(value, Node):
            chk.fail(node, side if side in node else None, f"{path}.{side}",
                     "expected {rules: [...], categories: [...]}")
            return None
        chk.unknown_keys(value, ("rules", "categories"), f"{path}.{side}")
        sides[side] = (chk.codes(value, "rules", f"{path}.{side}"), chk.codes(value, "categories", f"{path}.{side}"))
        for category_id in sides[side][1]:
            if category_id not in categories():
                chk.fail(value, "categories", f"{path}.{side}.categories", f"unknown category '{category_id}'")
    reason = chk.text(node, "reason", path)
    if not inhibition_id or scope not in SCOPE_TYPES or not reason:
        return None
    return Inhibition(inhibition_id, scope, sides["source"][0], sides["source"][1], sides["targets"][0],
                      sides["targets"][1], reason)


def _mappings(chk: Checker, document: Node, key: str) -> list[tuple[int, Node]]:
    items = document.get(key) or []
    if not isinstance(items, list):
        chk.fail(document, key, key, "expected a list")
        return []
    good = []
    for i, node in enumerate(items):
        if isinstance(node, Node):
            good.append((i, node))
        else:
            chk.fail(document, key, f"{key}[{i}]", "expected a mapping")
    return good


def parse_pack(text: str, origin: str = "<memory>", *, base: RulePack | None = None) -> RulePack:
    """Validate YAML ``text`` into a ``RulePack``; raise ``RulePackError`` listing every problem.

    ``base`` is the pack this one overlays (the defaults): its rule ids are valid override targets.
    """
    chk = Checker()
    document = load_document(text, origin)
    chk.unknown_keys(document, ("pack", "version", "rules", "overrides", "inhibitions"), "<document>")
    name = chk.text(document, "pack", "<document>") or "unnamed"
    version = document.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        chk.fail(document, "version", "version", f"expected a whole number, got {version!r}")
        version = 1
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, node in _mappings(chk, document, "rules"):
        rule = _rule(chk, node, f"rules[{i}]")
        if rule is None:
            continue
        if rule.id in seen:
            chk.fail(node, "id", f"rules[{i}].id", f"duplicate rule id '{rule.id}' (first on line {seen[rule.id]})")
        seen[rule.id] = node.line
        rules.append(rule)
    known = {r.id: r for r in base.rules} if base else {}
    known.update((r.id, r) for r in rules)
    overrides = [o for i, node in _mappings(chk, document, "overrides")
                 if (o := parse_override(chk, node, f"overrides[{i}]", known)) is not None]
    inhibitions = [h for i, node in _mappings(chk, document, "inhibitions")
                   if (h := _inhibition(chk, node, f"inhibitions[{i}]")) is not None]
    if chk.problems:
        raise RulePackError(origin, sorted(chk.problems, key=lambda p: p.line))
    return RulePack(name, version, tuple(rules), tuple(overrides), tuple(inhibitions), origin)


def load_pack_file(path: Path, *, base: RulePack | None = None) -> RulePack:
    """Validate the rule pack file at ``path``."""
    return parse_pack(path.read_text(encoding="utf-8"), str(path), base=base)


@cache
def default_pack() -> RulePack:
    """The rule pack shipped with propwatch (rules/packs/default.yaml); parsed once, it is immutable."""
    resource = resources.files("rules") / "packs" / "default.yaml"
    return parse_pack(resource.read_text(encoding="utf-8"), "rules/packs/default.yaml")
