"""Rule packs: validation with line numbers, the command line, overrides by scope, versions and hot reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.alarms import list_alarms
from rules.categories import categories
from rules.cli import main
from rules.errors import RulePackError
from rules.loader import default_pack, parse_pack
from rules.overrides import apply_overrides
from rules.store import effective_pack, publish_pack

from .conftest import at, event, reading

BROKEN = """\
pack: broken
rules:
  - id: water.low
    kind: threshold
    device_type: water_supply
    metric: outlet_presure
    below: low
    category: water_outage
    title: {zh: 低压, en: low}
    source: test
    fore: 10s
"""


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(RulePackError) as caught:
        parse_pack(text, "site.yaml", base=default_pack())
    return [(p.line, p.message) for p in caught.value.problems]


def test_the_default_pack_is_valid_and_every_rule_cites_a_source_and_a_known_category():
    rules = default_pack().rules
    assert len(rules) >= 40
    assert all(rule.source.strip() for rule in rules)
    assert {rule.category for rule in rules} <= set(categories())


def test_every_problem_is_reported_with_its_line():
    assert problems(BROKEN) == [
        (6, "'outlet_presure' is not a water_supply metric (did you mean 'outlet_pressure'?)"),
        (7, "expected a number or {attribute: name, factor: x}, got 'low'"),
        (11, "unknown key (did you mean 'for'?)"),
    ]


def test_an_unknown_event_code_is_reported_with_a_suggestion():
    text = BROKEN.replace("kind: threshold", "kind: event").replace("metric: outlet_presure", "code: pump_falt")
    text = text.replace("    below: low\n", "").replace("    fore: 10s\n", "")
    assert problems(text) == [(6, "'pump_falt' is not a water_supply event code (did you mean 'pump_fault'?)")]


def test_a_clear_level_on_the_wrong_side_is_refused():
    text = BROKEN.replace("outlet_presure", "outlet_pressure").replace("below: low", "below: 0.1\n    clear: 0.05")
    text = text.replace("    fore: 10s\n", "")
    assert problems(text) == [(8, "the clear level must be at or above 'below' for hysteresis")]


def test_broken_yaml_is_reported_with_its_line():
    assert problems("pack: x\nrules:\n  - id: [unclosed\n")[0][0] == 4


def test_the_check_command_exits_non_zero_and_prints_file_and_line(tmp_path: Path, capsys):
    path = tmp_path / "site.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    assert f"{path}:6: rules[0].metric:" in capsys.readouterr().err


def test_the_check_command_accepts_the_default_pack(capsys):
    assert main(["check", "rules/packs/default.yaml"]) == 0
    assert "OK" in capsys.readouterr().out


OVERRIDES = """
pack: site
overrides:
  - rule: fire.hydrant_pressure_low
    site: S1
    set: {below: 0.30, clear: 0.32, for: 30s}
  - rule: fire.hydrant_pressure_low
    building: B1
    set: {below: 0.35, clear: 0.37}
  - rule: fire.hydrant_pressure_low
    device: D1
    set: {enabled: false}
"""


def test_the_narrowest_override_wins_and_wider_ones_still_apply():
    site_pack = parse_pack(OVERRIDES, base=default_pack())
    base = default_pack().rule("fire.hydrant_pressure_low")
    in_building = apply_overrides(base, list(site_pack.overrides), {"site": "S1", "building": "B1", "device": "D9"})
    assert (in_building.spec.below.constant, in_building.for_s) == (0.35, 30.0)
    elsewhere = apply_overrides(base, list(site_pack.overrides), {"site": "S1", "building": "B2", "device": "D8"})
    assert elsewhere.spec.below.constant == 0.30
    on_device = apply_overrides(base, list(site_pack.overrides), {"site": "S1", "building": "B1", "device": "D1"})
    assert not on_device.enabled


def test_published_packs_are_versioned_per_name(db):
    assert publish_pack(db, OVERRIDES, actor="admin") == ("site", 1)
    assert publish_pack(db, OVERRIDES, actor="admin") == ("site", 2)
    assert len(effective_pack(db).overrides) == 3


def test_an_invalid_pack_is_never_published(db):
    with pytest.raises(RulePackError):
        publish_pack(db, BROKEN, actor="admin")
    assert db.execute("SELECT count(*) FROM rule_packs").fetchone()[0] == 0


def test_a_published_override_is_hot_reloaded_by_a_running_engine(db, estate, make_engine):
    engine = make_engine()
    engine.process(event(estate["el1"], "out_of_service", 0), now=at(0))
    disable = f"""
pack: site-{estate['site']}
overrides:
  - rule: water.outlet_pressure_low
    device: {estate['ws1']}
    set: {{below: 0.2, clear: 0.22, for: 0s}}
"""
    publish_pack(db, disable, actor="admin")
    engine.tick(at(10))
    engine.process(reading(estate["ws1"], "outlet_pressure", 20, 0.15), now=at(20))
    assert {a.rule_id: a.state for a in list_alarms(db)} == {
        "water.outlet_pressure_low": "active", "elevator.out_of_service": "active"}


def test_a_reload_keeps_counting_windows(db, estate, make_engine):
    engine = make_engine()
    for i in range(3):
        engine.process(event(estate["el1"], "door_reopen", i * 10), now=at(i * 10))
    publish_pack(db, "pack: empty-site\n", actor="admin")
    engine.tick(at(35))
    for i in range(3, 5):
        engine.process(event(estate["el1"], "door_reopen", i * 10), now=at(i * 10))
    assert [a.rule_id for a in list_alarms(db)] == ["elevator.door_reopen_repeated"]


def test_a_site_pack_file_is_laid_over_the_defaults(tmp_path: Path):
    from rules.packs import load_pack_file

    path = tmp_path / "site.yaml"
    path.write_text(OVERRIDES, encoding="utf-8")
    combined = load_pack_file(path)
    assert len(combined.rules) == len(default_pack().rules)
    assert len(combined.overrides) == 3
