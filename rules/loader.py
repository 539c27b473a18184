"""Read a rule pack from YAML and validate it, reporting every problem with its line number.

A problem names the file, the line, the path inside the document and what is wrong, e.g.
``default.yaml:42: rules[3].below: expected a number or {attribute: name, factor: x}, got 'low'``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gateway.protocol.catalog import catalog
from rules.categories import SEVERITIES, categories
from rules.model import (
    KINDS,
    SCOPE_TYPES,
    Absence,
    AnomalySpec,
    Composite,
    Condition,
    EventMatch,
    ForecastSpec,
    Inhibition,
    Level,
    Override,
    Rate,
    Rule,
    RulePack,
    Spec,
    Threshold,
)

PRESENCE_EVENTS = ("online", "offline")
DURATION = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h|d)?\s*$")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
COMMON_KEYS = ("id", "kind", "device_type", "category", "severity", "title", "source", "for", "clear_for",
               "manual_clear", "enabled")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "threshold": ("metric", "above", "below", "clear"),
    "rate": ("metric", "window", "rise", "fall"),
    "event": ("code", "codes", "count", "window", "clear_events"),
    "absence": ("after",),
    "composite": ("scope", "within", "conditions", "clear_events"),
    "anomaly": ("metrics", "level"),
    "forecast": ("metric", "threshold", "direction", "horizon"),
}
OVERRIDABLE = ("enabled", "severity", "for", "clear_for", "manual_clear", "above", "below", "clear", "rise", "fall",
               "window", "count", "after", "within", "level", "threshold", "horizon")


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    path: str
    message: str


class RulePackError(ValueError):
    """A rule pack failed validation; ``problems`` lists each one and ``str()`` prints them one per line."""

    def __init__(self, origin: str, problems: list[Problem]) -> None:
        self.origin = origin
        self.problems = problems
        super().__init__("\n".join(f"{origin}:{p.line}: {p.path}: {p.message}" for p in problems))


class _Map(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


# The libyaml parser when present (several times faster); the constructor, where lines are kept, is the same.
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _Map:  # type: ignore[override]
        mapping = _Map(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {key.value: key.start_mark.line + 1 for key, _ in node.value if hasattr(key, "value")}
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"2m"``, ``"1.5h"`` or ``"1d"``; ``None`` if malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    match = DURATION.match(str(value))
    return float(match["n"]) * UNIT_SECONDS[match["unit"]] if match else None


class _Checker:
    """Walks the document, converting values and collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, node: _Map, key: str | None, path: str, message: str) -> None:
        line = node.key_lines.get(key, node.line) if key is not None else node.line
        self.problems.append(Problem(line, path, message))

    def unknown_keys(self, node: _Map, allowed: tuple[str, ...], path: str) -> None:
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed: {', '.join(allowed)}"
                self.fail(node, key, f"{path}.{key}", f"unknown key{hint}")

    def number(self, node: _Map, key: str, path: str, *, required: bool = False) -> float | None:
        if key not in node:
            if required:
                self.fail(node, None, path, f"missing '{key}'")
            return None
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(node, key, f"{path}.{key}", f"expected a number, got {value!r}")
            return None
        return float(value)

    def duration(self, node: _Map, key: str, path: str, *, required: bool = False) -> float | None:
        if key not in node:
            if required:
                self.fail(node, None, path, f"missing '{key}'")
            return None
        seconds = parse_duration(node[key])
        if seconds is None:
            self.fail(node, key, f"{path}.{key}", f"expected a duration like 30s, 5m, 2h, got {node[key]!r}")
        return seconds

    def text(self, node: _Map, key: str, path: str, *, required: bool = True) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.fail(node, None, path, f"missing '{key}'")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(node, key, f"{path}.{key}", f"expected text, got {value!r}")
            return None
        return value

    def level(self, node: _Map, key: str, path: str) -> Level | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Level(constant=float(value))
        if isinstance(value, _Map) and isinstance(value.get("attribute"), str):
            self.unknown_keys(value, ("attribute", "factor", "default"), f"{path}.{key}")
            factor = self.number(value, "factor", f"{path}.{key}")
            default = self.number(value, "default", f"{path}.{key}")
            return Level(attribute=value["attribute"], factor=1.0 if factor is None else factor, default=default)
        self.fail(node, key, f"{path}.{key}", f"expected a number or {{attribute: name, factor: x}}, got {value!r}")
        return None

    def codes(self, node: _Map, key: str, path: str) -> tuple[str, ...]:
        value = node.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(node, key, f"{path}.{key}", f"expected an event code or a list of codes, got {value!r}")
            return ()
        return tuple(value)


def _check_metric(chk: _Checker, node: _Map, path: str, device_type: str | None, metric: str | None) -> None:
    types = catalog()
    if metric is None or device_type not in types:
        return
    known = types[device_type].metrics
    if metric not in known:
        close = difflib.get_close_matches(metric, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        chk.fail(node, "metric", f"{path}.metric", f"'{metric}' is not a {device_type} metric{hint}")


def _check_codes(chk: _Checker, node: _Map, key: str, path: str, device_type: str | None,
                 codes: tuple[str, ...]) -> None:
    types = catalog()
    if device_type not in types:
        return
    known = (*types[device_type].events, *PRESENCE_EVENTS)
    for code in codes:
        if code not in known:
            close = difflib.get_close_matches(code, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            chk.fail(node, key, f"{path}.{key}", f"'{code}' is not a {device_type} event code{hint}")


def _spec(chk: _Checker, kind: str, node: _Map, path: str, device_type: str | None) -> Spec | None:
    if kind == "threshold":
        metric = chk.text(node, "metric", path)
        _check_metric(chk, node, path, device_type, metric)
        above, below, clear = (chk.level(node, k, path) for k in ("above", "below", "clear"))
        if ("above" in node) == ("below" in node):
            chk.fail(node, None, path, "a threshold needs exactly one of 'above' or 'below' (use two rules for a band)")
        both = above or below
        if clear and both and clear.constant is not None and both.constant is not None:
            wrong = clear.constant > both.constant if above else clear.constant < both.constant
            if wrong:
                side = "at or below 'above'" if above else "at or above 'below'"
                chk.fail(node, "clear", f"{path}.clear", f"the clear level must be {side} for hysteresis")
        return Threshold(metric or "", above, below, clear) if metric else None
    if kind == "rate":
        metric = chk.text(node, "metric", path)
        _check_metric(chk, node, path, device_type, metric)
        window = chk.duration(node, "window", path, required=True)
        rise, fall = chk.number(node, "rise", path), chk.number(node, "fall", path)
        if rise is None and fall is None:
            chk.fail(node, None, path, "a rate rule needs 'rise' or 'fall' (change within the window)")
        return Rate(metric, window, rise, fall) if metric and window else None
    if kind == "event":
        codes = chk.codes(node, "code", path) + chk.codes(node, "codes", path)
        if not codes:
            chk.fail(node, None, path, "an event rule needs 'code' or 'codes'")
        _check_codes(chk, node, "codes" if "codes" in node else "code", path, device_type, codes)
        clear_events = chk.codes(node, "clear_events", path)
        _check_codes(chk, node, "clear_events", path, device_type, clear_events)
        count = node.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            chk.fail(node, "count", f"{path}.count", f"expected a whole number >= 1, got {count!r}")
            count = 1
        window = chk.duration(node, "window", path, required=count > 1) or 0.0
        return EventMatch(codes, count, window, clear_events)
    if kind == "absence":
        after = chk.duration(node, "after", path, required=True)
        return Absence(after) if after else None
    if kind == "composite":
        return _composite(chk, node, path)
    if kind == "anomaly":
        metrics = chk.codes(node, "metrics", path)
        for metric in metrics:
            if device_type in catalog() and metric not in catalog()[device_type].metrics:
                chk.fail(node, "metrics", f"{path}.metrics", f"'{metric}' is not a {device_type} metric")
        level = chk.number(node, "level", path, required=True)
        return AnomalySpec(metrics, level) if metrics and level is not None else None
    metric = chk.text(node, "metric", path)
    _check_metric(chk, node, path, device_type, metric)
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


def _composite(chk: _Checker, node: _Map, path: str) -> Composite | None:
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
        if not isinstance(item, _Map):
            chk.fail(node, "conditions", where, "expected a mapping")
            continue
        chk.unknown_keys(item, ("device_type", "event", "metric", "above", "below"), where)
        device_type = chk.text(item, "device_type", where)
        if device_type and device_type not in catalog():
            chk.fail(item, "device_type", f"{where}.device_type", f"unknown device type '{device_type}'")
        event = chk.text(item, "event", where, required=False)
        metric = chk.text(item, "metric", where, required=False)
        if (event is None) == (metric is None):
            chk.fail(item, None, where, "a condition needs exactly one of 'event' or 'metric'")
        if event:
            _check_codes(chk, item, "event", where, device_type, (event,))
        above, below = chk.number(item, "above", where), chk.number(item, "below", where)
        if metric:
            _check_metric(chk, item, where, device_type, metric)
            if (above is None) == (below is None):
                chk.fail(item, None, where, "a metric condition needs exactly one of 'above' or 'below'")
        conditions.append(Condition(device_type or "", event, metric, above, below))
    clear_events = chk.codes(node, "clear_events", path)
    if scope in ("building", "site") and within:
        return Composite(scope, within, tuple(conditions), clear_events)
    return None


def _rule(chk: _Checker, node: _Map, path: str) -> Rule | None:
    kind = node.get("kind")
    if kind not in KINDS:
        chk.fail(node, "kind", f"{path}.kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
        return None
    chk.unknown_keys(node, COMMON_KEYS + KIND_KEYS[kind], path)
    rule_id = chk.text(node, "id", path)
    if rule_id and not RULE_ID.match(rule_id):
        chk.fail(node, "id", f"{path}.id", "ids are lowercase letters, digits, '.', '_' or '-'")
    device_type = None
    if kind != "composite":
        device_type = chk.text(node, "device_type", path)
        if device_type and device_type not in catalog():
            chk.fail(node, "device_type", f"{path}.device_type",
                     f"unknown device type '{device_type}'; known: {', '.join(catalog())}")
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
    if not (isinstance(title, _Map) and isinstance(title.get("zh"), str) and isinstance(title.get("en"), str)):
        chk.fail(node, "title" if "title" in node else None, f"{path}.title", "expected {zh: ..., en: ...}")
        title = {"zh": "", "en": ""}
    source = chk.text(node, "source", path)
    for_s = chk.duration(node, "for", path) or 0.0
    clear_for_s = chk.duration(node, "clear_for", path) or 0.0
    flags = {}
    for flag, default in (("manual_clear", kind in ("event", "composite")), ("enabled", True)):
        flags[flag] = node.get(flag, default)
        if not isinstance(flags[flag], bool):
            chk.fail(node, flag, f"{path}.{flag}", f"expected true or false, got {flags[flag]!r}")
    spec = _spec(chk, kind, node, path, device_type)
    if spec is None or not rule_id or not category_id or not source:
        return None
    return Rule(id=rule_id, kind=kind, device_type=device_type, category=category_id, severity=severity,
                title_zh=title["zh"], title_en=title["en"], source=source, spec=spec, for_s=for_s,
                clear_for_s=clear_for_s, manual_clear=bool(flags["manual_clear"]), enabled=bool(flags["enabled"]),
                line=node.line)


def _override(chk: _Checker, node: _Map, path: str, rule_ids: set[str]) -> Override | None:
    chk.unknown_keys(node, ("rule", *SCOPE_TYPES, "set"), path)
    rule_id = chk.text(node, "rule", path)
    if rule_id and rule_ids and rule_id not in rule_ids:
        close = difflib.get_close_matches(rule_id, rule_ids, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        chk.fail(node, "rule", f"{path}.rule", f"no rule '{rule_id}' in this pack or the defaults{hint}")
    scopes = [s for s in SCOPE_TYPES if s in node]
    if len(scopes) != 1:
        chk.fail(node, None, path, "an override names exactly one of device, building or site")
        return None
    values = node.get("set")
    if not isinstance(values, _Map) or not values:
        chk.fail(node, "set" if "set" in node else None, f"{path}.set", "expected a mapping of parameters to change")
        return None
    chk.unknown_keys(values, OVERRIDABLE, f"{path}.set")
    converted: dict[str, Any] = {}
    for key in values:
        if key in ("for", "clear_for", "window", "after", "within", "horizon"):
            converted[key] = chk.duration(values, key, f"{path}.set")
        elif key in ("above", "below", "clear", "threshold"):
            converted[key] = chk.level(values, key, f"{path}.set")
        elif key in OVERRIDABLE:
            converted[key] = values[key]
    if "severity" in converted and converted["severity"] not in SEVERITIES:
        chk.fail(values, "severity", f"{path}.set.severity", f"expected one of {', '.join(SEVERITIES)}")
    if not rule_id:
        return None
    return Override(rule_id, scopes[0], str(node[scopes[0]]), converted, node.line)


def _inhibition(chk: _Checker, node: _Map, path: str) -> Inhibition | None:
    chk.unknown_keys(node, ("id", "scope", "source", "targets", "reason"), path)
    inhibition_id = chk.text(node, "id", path)
    scope = node.get("scope")
    if scope not in SCOPE_TYPES:
        chk.fail(node, "scope", f"{path}.scope", f"expected one of {', '.join(SCOPE_TYPES)}, got {scope!r}")
    sides = {}
    for side in ("source", "targets"):
        value = node.get(side)
        if not isinstance(value, _Map):
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


def _mappings(chk: _Checker, document: _Map, key: str) -> list[tuple[int, _Map]]:
    items = document.get(key) or []
    if not isinstance(items, list):
        chk.fail(document, key, key, "expected a list")
        return []
    good = []
    for i, node in enumerate(items):
        if isinstance(node, _Map):
            good.append((i, node))
        else:
            chk.fail(document, key, f"{key}[{i}]", "expected a mapping")
    return good


def parse_pack(text: str, origin: str = "<memory>", *, base: RulePack | None = None) -> RulePack:
    """Validate YAML ``text`` into a ``RulePack``; raise ``RulePackError`` listing every problem.

    ``base`` is the pack this one overlays (the defaults): its rule ids are valid override targets.
    """
    chk = _Checker()
    try:
        document = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise RulePackError(origin, [Problem(line, "<yaml>", str(exc.problem))]) from None
    if not isinstance(document, _Map):
        raise RulePackError(origin, [Problem(1, "<document>", "expected a mapping with 'pack' and 'rules'")])
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
    rule_ids = set(seen) | ({r.id for r in base.rules} if base else set())
    overrides = [o for i, node in _mappings(chk, document, "overrides")
                 if (o := _override(chk, node, f"overrides[{i}]", rule_ids)) is not None]
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
