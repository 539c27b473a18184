"""Rule kinds live in one table: the loader, the overrides and the engine reach every kind through it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pytest

from ingest.registry import Device
from rules.checker import Checker, Node
from rules.evaluators import Evaluator, Subject
from rules.hooks import DetectorScorer, TrendForecaster
from rules.kinds import KINDS, RuleKind
from rules.lifecycle import Lifecycle
from rules.loader import default_pack, parse_pack
from rules.model import Level, Rule, RulePack
from rules.overrides import apply_overrides
from rules.routing import Binding, Routing

from .conftest import at, reading


@dataclass(frozen=True, slots=True)
class Seen:
    metric: str


class SeenEvaluator(Evaluator):
    """Fires on any reading of its metric."""

    __slots__ = ()

    def reading(self, life: Lifecycle, value: float, ts: datetime) -> None:
        life.fire(self, ts, value)


def parse_seen(chk: Checker, node: Node, path: str, device_type: str | None) -> Seen | None:
    metric = chk.text(node, "metric", path)
    return Seen(metric) if metric else None


def bind_seen(rule: Rule, subject: Subject, binding: Binding) -> Evaluator:
    evaluator = SeenEvaluator(rule, subject)
    assert isinstance(rule.spec, Seen)
    binding.reading(rule.spec.metric, evaluator)
    return evaluator


SEEN_PACK = """
pack: t
rules:
  - id: sump.seen
    kind: seen
    device_type: drainage
    metric: sump_level
    category: drainage_flood
    title: {zh: 有读数, en: reading seen}
    source: test
"""


def test_a_kind_registered_in_the_table_is_parsed_and_evaluated(db, estate, make_engine, monkeypatch) -> None:
    monkeypatch.setitem(KINDS, "seen", RuleKind("seen", ("metric",), parse_seen, bind_seen))
    engine = make_engine(parse_pack(SEEN_PACK))
    engine.process(reading(estate["dr1"], "sump_level", 0, 0.4), now=at(0))
    [alarm] = engine.open_alarms()
    assert (alarm.fingerprint, alarm.rule.kind, alarm.state) == (f"sump.seen/{estate['dr1']}", "seen", "active")


def test_a_kind_missing_from_the_table_is_refused_naming_those_in_it() -> None:
    with pytest.raises(ValueError, match="expected one of threshold, rate, event, absence, composite, anomaly, "
                                         "forecast, got 'seen'"):
        parse_pack(SEEN_PACK)


def test_an_override_setting_the_rule_kind_does_not_have_is_ignored() -> None:
    pack = parse_pack("""
pack: t
overrides:
  - rule: fire.tank_low
    site: S1
    set: {window: 5m, below: 2.5, clear: 2.6}
""", base=default_pack())
    base = default_pack().rule("fire.tank_low")
    rule = apply_overrides(base, pack.overrides, {"site": "S1"})
    assert rule.spec == replace(base.spec, below=Level(constant=2.5), clear=Level(constant=2.6))


CONFIRMED = """
pack: t
rules:
  - id: fire.with_pressure
    kind: composite
    scope: building
    within: 5m
    conditions:
      - {device_type: fire_system, event: fire_alarm}
      - {device_type: fire_system, metric: hydrant_pressure, below: 0.2}
    category: fire_alarm
    title: {zh: 火警且水压低, en: fire alarm with low hydrant pressure}
    source: test
"""


def routing(pack: RulePack, *devices: Device) -> Routing:
    compiled = Routing(pack, scorer=DetectorScorer(), forecaster=TrendForecaster())
    for device in devices:
        compiled.add(device)
    return compiled


def test_the_legs_of_an_immediate_composite_are_urgent() -> None:
    compiled = routing(parse_pack(CONFIRMED), Device("FS1", "S1", "fire_system", "fs1", "B1"))
    triggers = compiled.triggers["FS1"]
    assert (set(triggers.events), dict(triggers.below)) == ({"fire_alarm"}, {"hydrant_pressure": 0.2})


def test_devices_of_one_building_share_the_composite_of_their_building() -> None:
    compiled = routing(parse_pack(CONFIRMED), Device("FS1", "S1", "fire_system", "fs1", "B1"),
                       Device("FS2", "S1", "fire_system", "fs2", "B1"), Device("FS3", "S1", "fire_system", "fs3", "B2"))
    assert sorted(compiled.owners) == ["fire.with_pressure/building:B1", "fire.with_pressure/building:B2"]
