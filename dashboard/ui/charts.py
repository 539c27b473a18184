"""What a device chart shows: the metrics of a device type with their names and units from the catalogue, the
alarm thresholds of the effective rule pack, the ranges an operator can pick and the history resolution each
is served at. The browser draws the charts with Apache ECharts (static/js/device.js, static/js/alarm_chart.js);
a state code or flag is drawn as steps with the catalogue's label of each code on the value axis."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from dashboard.i18n import translate
from gateway.protocol.catalog import MetricSpec, catalog
from ingest import registry
from rules.errors import RulePackError
from rules.model import Threshold
from rules.overrides import apply_overrides
from rules.store import effective_pack

# Range name -> (span, history resolution). Raw points for an hour (3,600 at 1 Hz), 1-minute rollups up to a
# day (1,440), hourly rollups beyond (2,160 for 90 days): every chart stays a few thousand points at most.
RANGES: dict[str, tuple[timedelta, str]] = {
    "1h": (timedelta(hours=1), "raw"),
    "6h": (timedelta(hours=6), "1m"),
    "24h": (timedelta(hours=24), "1m"),
    "7d": (timedelta(days=7), "1h"),
    "30d": (timedelta(days=30), "1h"),
    "90d": (timedelta(days=90), "1h"),
}
DEFAULT_RANGE = "24h"
# A zoomed window narrower than this reloads in 1-minute buckets (at most 8,640, under history's 10,000 cap).
FINE_ZOOM = timedelta(days=6)
# Catalogue units of state codes and on/off flags: drawn as steps, with no unit on the axis.
STATES = frozenset({"code", "bool"})
# Catalogue units shown differently from their catalogue spelling (translated, or typeset).
UNIT_LABELS = {"m/s2": "m/s²", "floor": "dev_unit_floor", "count": "dev_unit_count"}


@dataclass(frozen=True)
class Band:
    """One threshold of a rule on a metric: alarm above or below ``value``."""

    rule_id: str
    severity: str
    title: str
    direction: str
    value: float


@dataclass(frozen=True)
class MetricChart:
    """One chart of the device page."""

    metric: str
    name: str
    unit: str
    state: bool
    bands: list[Band] = field(default_factory=list)
    labels: list[tuple[int, str]] = field(default_factory=list)
    """Each code of a state metric with its label in the reader's language (the value axis shows these)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def default_range(first_reading: datetime | None, now: datetime) -> str:
    """The range a device page opens on: the shortest that holds every reading of the device, at most
    DEFAULT_RANGE, so a device that began reporting twenty minutes ago opens on an hour of data rather than on a
    day where its readings are one dot at the right edge."""
    if first_reading is None:
        return DEFAULT_RANGE
    for name, (span, _) in RANGES.items():
        if now - first_reading <= span or name == DEFAULT_RANGE:
            return name
    return DEFAULT_RANGE


def unit_label(unit: str, lang: str) -> str:
    """The unit as the page prints it: empty for state codes and flags."""
    if unit in STATES:
        return ""
    label = UNIT_LABELS.get(unit, unit)
    return translate(label, lang) if label.startswith("dev_") else label


def metric_name(metric: str, lang: str) -> str:
    """The metric's name in ``lang``; its catalogue name when it has none."""
    key = f"dev_m_{metric}"
    name = translate(key, lang)
    return metric if name == key else name


def value_labels(spec: MetricSpec | None, lang: str) -> list[tuple[int, str]]:
    """The catalogue's label of each code of a state metric, in ``lang``; empty for a measurement."""
    return [(entry.code, entry.en if lang == "en" else entry.zh) for entry in spec.values] if spec else []


def event_name(device_type: str | None, code: str, lang: str) -> str:
    """The catalogue's name of an event code in ``lang`` (``trapped``: 困人 / passenger trapped), looked up in the
    device type first, then in any type (a composite rule's events span types); the code itself when unknown."""
    kinds = catalog()
    first = kinds.get(device_type or "")
    for kind in ([first] if first else []) + list(kinds.values()):
        event = kind.events.get(code)
        if event:
            return event.en if lang == "en" else event.zh
    return code


def metric_spec(device_type: str | None, metric: str) -> MetricSpec | None:
    """The catalogue entry of ``metric`` for the device type; ``None`` for a metric the catalogue lacks."""
    kind = catalog().get(device_type or "")
    return kind.metrics.get(metric) if kind else None


def metric_charts(conn: psycopg.Connection, device: registry.Device, seen: list[str], lang: str) -> list[MetricChart]:
    """A chart for every metric of the device's type, then any other metric it has reported (``seen``);
    measurements before state codes, each with the thresholds that apply to this device."""
    specs = catalog().get(device.type)
    units = {name: spec.unit for name, spec in specs.metrics.items()} if specs else {}
    metrics = list(units) + [m for m in seen if m not in units]
    bands = thresholds(conn, device, lang)
    found = [MetricChart(m, metric_name(m, lang), unit_label(units.get(m, ""), lang), units.get(m) in STATES,
                         bands.get(m, []), value_labels(metric_spec(device.type, m), lang)) for m in metrics]
    return sorted(found, key=lambda chart: chart.state)


def thresholds(conn: psycopg.Connection, device: registry.Device, lang: str) -> dict[str, list[Band]]:
    """The enabled threshold rules of the effective pack for the device's type, with this device's overrides
    and attributes applied (``rated_speed`` × 1.2), by metric."""
    try:
        pack = effective_pack(conn)
    except RulePackError:
        return {}
    scopes = {"device": device.id, "building": device.building_id, "site": device.site_id}
    found: dict[str, list[Band]] = {}
    for base in pack.rules:
        if base.device_type != device.type or not isinstance(base.spec, Threshold):
            continue
        rule = apply_overrides(base, pack.overrides, scopes)
        spec = rule.spec
        if not rule.enabled or not isinstance(spec, Threshold):
            continue
        title = rule.title_en if lang == "en" else rule.title_zh
        for direction, level in (("above", spec.above), ("below", spec.below)):
            value = level.resolve(device.attributes) if level else None
            if value is not None:
                found.setdefault(spec.metric, []).append(Band(rule.id, rule.severity, title, direction, value))
    return found
