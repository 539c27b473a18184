"""The metric and event catalogue per device type, loaded from the YAML files beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    unit: str
    min: float
    max: float
    period_s: float
    source: str


@dataclass(frozen=True, slots=True)
class EventSpec:
    code: str
    gb_code: str
    zh: str
    en: str


@dataclass(frozen=True)
class DeviceType:
    name: str
    name_zh: str
    source: str
    metrics: dict[str, MetricSpec]
    events: dict[str, EventSpec]


@cache
def catalog() -> dict[str, DeviceType]:
    """Every device type by name (read once per process)."""
    types: dict[str, DeviceType] = {}
    folder = resources.files("gateway.protocol") / "catalog"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        types[data["device_type"]] = DeviceType(
            name=data["device_type"],
            name_zh=data["name_zh"],
            source=data["source"],
            metrics={m["name"]: MetricSpec(**{**m, "min": float(m["min"]), "max": float(m["max"])})
                     for m in data["metrics"]},
            events={e["code"]: EventSpec(**{**e, "gb_code": str(e["gb_code"])}) for e in data["events"]},
        )
    return types


def device_type(name: str) -> DeviceType:
    """One device type; ``KeyError`` for an unknown name."""
    return catalog()[name]
