"""Reading a YAML rule pack while collecting every problem with its line, instead of stopping at the first.

``load_document`` keeps the line of every mapping and key (``Node``); a ``Checker`` converts values out of
nodes (numbers, durations, levels, event codes) and records a ``Problem`` for each that does not fit. The
loader, the overrides and every rule kind's parser read their part of the document through one checker.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml

from gateway.protocol.catalog import catalog
from rules.errors import Problem, RulePackError
from rules.model import Level

PRESENCE_EVENTS = ("online", "offline")
DURATION = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h|d)?\s*$")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class Node(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


# The libyaml parser when present (several times faster); the constructor, where lines are kept, is the same.
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Node:  # type: ignore[override]
        mapping = Node(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {key.value: key.start_mark.line + 1 for key, _ in node.value if hasattr(key, "value")}
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)


def load_document(text: str, origin: str) -> Node:
    """The YAML ``text`` as a mapping with lines; ``RulePackError`` if it is not valid YAML or not a mapping."""
    try:
        document = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise RulePackError(origin, [Problem(line, "<yaml>", str(exc.problem))]) from None
    except yaml.YAMLError as exc:  # the reader's refusals (e.g. a control character) carry no problem mark
        raise RulePackError(origin, [Problem(0, "<yaml>", str(exc))]) from None
    if not isinstance(document, Node):
        raise RulePackError(origin, [Problem(1, "<document>", "expected a mapping with 'pack' and 'rules'")])
    return document


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"2m"``, ``"1.5h"`` or ``"1d"``; ``None`` if malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    match = DURATION.match(str(value))
    return float(match["n"]) * UNIT_SECONDS[match["unit"]] if match else None


class Checker:
    """Converts values out of nodes and collects a ``Problem`` for each one that does not fit."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, node: Node, key: str | None, path: str, message: str) -> None:
        """Record a problem at ``key``'s line (the node's own line when ``key`` is ``None``)."""
        line = node.key_lines.get(key, node.line) if key is not None else node.line
        self.problems.append(Problem(line, path, message))

    def unknown_keys(self, node: Node, allowed: tuple[str, ...], path: str) -> None:
        """A problem for each key of ``node`` outside ``allowed``, suggesting the closest allowed one."""
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed: {', '.join(allowed)}"
                self.fail(node, key, f"{path}.{key}", f"unknown key{hint}")

    def number(self, node: Node, key: str, path: str, *, required: bool = False) -> float | None:
        """``node[key]`` as a float."""
        if key not in node:
            if required:
                self.fail(node, None, path, f"missing '{key}'")
            return None
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(node, key, f"{path}.{key}", f"expected a number, got {value!r}")
            return None
        return float(value)

    def duration(self, node: Node, key: str, path: str, *, required: bool = False) -> float | None:
        """``node[key]`` as seconds (``30s``, ``5m``, ``2h``, ``1d`` or a number)."""
        if key not in node:
            if required:
                self.fail(node, None, path, f"missing '{key}'")
            return None
        seconds = parse_duration(node[key])
        if seconds is None:
            self.fail(node, key, f"{path}.{key}", f"expected a duration like 30s, 5m, 2h, got {node[key]!r}")
        return seconds

    def text(self, node: Node, key: str, path: str, *, required: bool = True) -> str | None:
        """``node[key]`` as non-blank text."""
        value = node.get(key)
        if value is None:
            if required:
                self.fail(node, None, path, f"missing '{key}'")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(node, key, f"{path}.{key}", f"expected text, got {value!r}")
            return None
        return value

    def level(self, node: Node, key: str, path: str) -> Level | None:
        """``node[key]`` as a ``Level``: a number, or ``{attribute: name, factor: x, default: y}``."""
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Level(constant=float(value))
        if isinstance(value, Node) and isinstance(value.get("attribute"), str):
            self.unknown_keys(value, ("attribute", "factor", "default"), f"{path}.{key}")
            factor = self.number(value, "factor", f"{path}.{key}")
            default = self.number(value, "default", f"{path}.{key}")
            return Level(attribute=value["attribute"], factor=1.0 if factor is None else factor, default=default)
        self.fail(node, key, f"{path}.{key}", f"expected a number or {{attribute: name, factor: x}}, got {value!r}")
        return None

    def raw(self, node: Node, key: str, path: str) -> Any:
        """``node[key]`` as written (checked where it is used)."""
        return node[key]

    def codes(self, node: Node, key: str, path: str) -> tuple[str, ...]:
        """``node[key]`` as a tuple of strings: one string or a list of them."""
        value = node.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(node, key, f"{path}.{key}", f"expected an event code or a list of codes, got {value!r}")
            return ()
        return tuple(value)

    def metric(self, node: Node, key: str, path: str, device_type: str | None, metric: str | None) -> None:
        """A problem if ``metric`` is not one of ``device_type``'s catalogue metrics."""
        types = catalog()
        if metric is None or device_type not in types:
            return
        known = types[device_type].metrics
        if metric not in known:
            close = difflib.get_close_matches(metric, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.fail(node, key, f"{path}.{key}", f"'{metric}' is not a {device_type} metric{hint}")

    def event_codes(self, node: Node, key: str, path: str, device_type: str | None,
                    codes: tuple[str, ...]) -> None:
        """A problem for each code that is neither one of ``device_type``'s events nor a presence event."""
        types = catalog()
        if device_type not in types:
            return
        known = (*types[device_type].events, *PRESENCE_EVENTS)
        for code in codes:
            if code not in known:
                close = difflib.get_close_matches(code, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.fail(node, key, f"{path}.{key}", f"'{code}' is not a {device_type} event code{hint}")

    def device_type(self, node: Node, key: str, path: str) -> str | None:
        """``node[key]`` as a catalogue device type."""
        device_type = self.text(node, key, path)
        if device_type and device_type not in catalog():
            self.fail(node, key, f"{path}.{key}", f"unknown device type '{device_type}'; known: {', '.join(catalog())}")
        return device_type
