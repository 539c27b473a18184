"""Physical parameters of the device models, read from ``parameters.yaml`` (each value with its source)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def _table() -> dict[str, dict[str, dict[str, Any]]]:
    text = (resources.files("simulators") / "parameters.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def param(device_type: str, name: str) -> Any:
    """The value of parameter ``name`` for ``device_type``; ``KeyError`` if it is not in the table."""
    return _table()[device_type][name]["value"]


def params(device_type: str) -> dict[str, Any]:
    """Every parameter value of ``device_type`` by name."""
    return {name: entry["value"] for name, entry in _table()[device_type].items()}


def sources(device_type: str) -> dict[str, str]:
    """Where each parameter of ``device_type`` comes from."""
    return {name: entry["source"] for name, entry in _table()[device_type].items()}
