"""Configuration that cannot flap: an override must keep a threshold's clear level on the safe side of its trip
level, and ``rules check`` and publishing refuse one that does not, naming the rule, the setting and the values."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.cli import main
from rules.errors import RulePackError
from rules.loader import default_pack, parse_pack
from rules.store import publish_pack

from .conftest import at, reading

SUMP_RAISED_ONLY = """
pack: site-S001
overrides:
  - rule: drainage.sump_high
    device: S001-SP01
    set: {above: 0.6}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(RulePackError) as refused:
        parse_pack(text, "site.yaml", base=default_pack())
    return [f"{p.path}: {p.message}" for p in refused.value.problems]


def test_moving_only_the_raise_level_below_an_attribute_clear_level_is_refused():
    [problem] = problems(SUMP_RAISED_ONLY)
    assert problem.startswith("overrides[0].set.above: rule 'drainage.sump_high':")
    assert "'clear' high_level × 0.9" in problem and "'above' 0.6" in problem and "high_level > 0.6667" in problem


def test_the_same_override_with_its_clear_level_is_accepted():
    parse_pack(SUMP_RAISED_ONLY.replace("{above: 0.6}", "{above: 0.6, clear: 0.55}"), base=default_pack())


def test_a_fixed_clear_level_past_a_new_fixed_raise_level_is_refused_with_both_values():
    [problem] = problems("""
pack: s
overrides:
  - rule: water.outlet_pressure_low
    site: S001
    set: {below: 0.13}
""")
    assert "'clear' 0.12 must be at or above 'below' 0.13" in problem


def test_an_override_setting_the_other_direction_is_refused():
    [problem] = problems("""
pack: s
overrides:
  - rule: water.outlet_pressure_low
    site: S001
    set: {above: 0.5, clear: 0.4}
""")
    assert "trips below a level; an override sets 'below', not 'above'" in problem


def test_rules_check_refuses_the_override_with_its_line(tmp_path: Path, capsys):
    path = tmp_path / "site.yaml"
    path.write_text(SUMP_RAISED_ONLY, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    assert f"{path}:6: overrides[0].set.above: rule 'drainage.sump_high'" in capsys.readouterr().err


def test_publishing_refuses_the_override(db):
    with pytest.raises(RulePackError, match=r"drainage\.sump_high"):
        publish_pack(db, SUMP_RAISED_ONLY, actor="admin")
    assert db.execute("SELECT count(*) FROM rule_packs").fetchone()[0] == 0


def test_levels_a_device_puts_the_wrong_way_round_clear_at_the_trip_level(db, estate, make_engine):
    # A clear level from an attribute can only be checked against the device: the engine holds the alarm while
    # the condition does instead of letting it flap.
    pack = parse_pack("""
pack: t
rules:
  - id: sump.high
    kind: threshold
    device_type: drainage
    metric: sump_level
    above: 0.6
    clear: {attribute: high_level, factor: 0.9}
    category: drainage_flood
    severity: P2
    title: {zh: 水位高, en: level high}
    source: test
""")
    engine = make_engine(pack)
    for second, level in ((0, 0.8), (10, 0.8), (20, 0.8)):
        engine.process(reading(estate["dr1"], "sump_level", second, level), now=at(second))
    assert db.execute("SELECT count(*), max(state) FROM alarms").fetchone() == (1, "active")
