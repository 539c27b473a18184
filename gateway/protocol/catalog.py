"""The metric and event catalogue per device type, loaded from the YAML files beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True, slots=True)
class ValueLabel:
    """What one code of an enumerated metric means (``car_direction`` 1 is 上行 / up)."""

    code: int
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    unit: str
    min: float
    max: float
    period_s: float
    source: str
    values: tuple[ValueLabel, ...] = ()
    """The meaning of each code of a state code or flag, from the file's ``value_labels``; empty for a
    measurement."""
    values_source: str = ""

    def label(self, value: float, lang: str) -> str | None:
        """The label of ``value`` in ``lang`` (``en``, else zh-CN); ``None`` for a code the catalogue does not
        name or a metric without labels."""
        for entry in self.values:
            if entry.code == value:
                return entry.en if lang == "en" else entry.zh
        return None


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
        labels = data.get("value_labels") or {}
        unknown = set(labels) - {m["name"] for m in data["metrics"]}
        if unknown:
            raise ValueError(f"{entry.name}: value_labels for metrics it does not list: {sorted(unknown)}")
        types[data["device_type"]] = DeviceType(
            name=data["device_type"],
            name_zh=data["name_zh"],
            source=data["source"],
            metrics={m["name"]: _metric(m, labels.get(m["name"])) for m in data["metrics"]},
            events={e["code"]: EventSpec(**{**e, "gb_code": str(e["gb_code"])}) for e in data["events"]},
        )
    return types


def _metric(row: dict, labels: dict | None) -> MetricSpec:
    """One metric row of a catalogue file, with its value labels when it has some."""
    values = tuple(ValueLabel(int(code), str(zh), str(en)) for code, zh, en in (labels or {}).get("values", ()))
    return MetricSpec(**{**row, "min": float(row["min"]), "max": float(row["max"])}, values=values,
                      values_source=(labels or {}).get("source", ""))


def device_type(name: str) -> DeviceType:
    """One device type; ``KeyError`` for an unknown name."""
    return catalog()[name]
