"""The responsibility list: validation with line numbers, versioned storage, export, and lookup by scope."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
import yaml

from dispatch.responsibility import (
    ResponsibilityListError,
    ResponsibilityNotFound,
    current_version,
    default_list_path,
    export_list,
    import_default,
    import_list,
    lookup,
    parse_list,
    to_document,
)
from ingest.registry import Site, upsert_site
from rules.categories import categories

from .conftest import BUILDING, SITE


def default_document() -> dict:
    return yaml.safe_load(default_list_path().read_text(encoding="utf-8"))


def test_default_list_covers_every_alarm_category() -> None:
    lst = parse_list(default_list_path().read_text(encoding="utf-8"))
    site_wide = {item.category for item in lst.items if item.site == "*"}
    assert set(categories()) <= site_wide


def test_every_default_item_names_its_source() -> None:
    lst = parse_list(default_list_path().read_text(encoding="utf-8"))
    assert all("DOMAIN.md" in item.source or "product default" in item.source for item in lst.items)


def test_a_category_without_a_unit_is_rejected_as_a_gap() -> None:
    document = default_document()
    document["items"] = [i for i in document["items"] if i["category"] != "water_quality"]
    gap = r"line \d+: gap: category 'water_quality'.*no unit would be responsible"
    with pytest.raises(ResponsibilityListError, match=gap):
        parse_list(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


def test_two_items_for_the_same_scope_are_rejected_with_both_lines() -> None:
    text = default_list_path().read_text(encoding="utf-8") + (
        "  - category: fire_alarm\n"
        "    unit: fire-maint\n"
        "    sop: duplicate\n"
        "    sla: {ack: 1m}\n"
        "    escalation: [[fire-maint]]\n"
        "    source: test\n"
    )
    last_line = len(text.splitlines()) - 5
    first_line = next(n for n, line in enumerate(text.splitlines(), 1) if "category: fire_alarm" in line)
    with pytest.raises(ResponsibilityListError) as caught:
        parse_list(text)
    assert caught.value.problems == [f"line {last_line}: overlaps the item at line {first_line} (same category "
                                     "'fire_alarm', component 'fire_system', site '*', building '*'); keep one"]


def test_a_bad_duration_is_reported_on_its_line() -> None:
    text = "format: propwatch-responsibility/1\nunits: []\nitems:\n  - category: fire_alarm\n" \
           "    unit: u\n    sop: s\n    source: s\n    escalation: [[u]]\n    sla: {ack: soon}\n"
    with pytest.raises(ResponsibilityListError, match=r"line 9: sla.ack: bad duration 'soon'"):
        parse_list(text)


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ResponsibilityListError, match=r"line 3: not valid YAML"):
        parse_list("format: x\nitems:\n  - a: b: c\n")


def test_a_site_override_must_not_name_a_building_without_its_site() -> None:
    document = default_document()
    document["items"].append({**document["items"][0], "building": "B9"})
    with pytest.raises(ResponsibilityListError, match="a building scope needs its `site`"):
        parse_list(document)


def test_import_rejects_units_that_exist_nowhere(db: psycopg.Connection) -> None:
    document = default_document()
    document["items"][0]["escalation"] = [["ghost-unit"]]
    with pytest.raises(ResponsibilityListError, match="unit 'ghost-unit' is neither declared"):
        import_list(db, parse_list(document), actor="user:admin")


def test_each_changed_import_is_a_new_version_and_an_identical_one_is_not(db: psycopg.Connection) -> None:
    lst = parse_list(default_list_path().read_text(encoding="utf-8"))
    first = import_list(db, lst, actor="user:admin")
    assert import_list(db, lst, actor="user:admin") == first
    document = default_document()
    document["items"][0]["sla"]["arrive"] = "15m"
    second = import_list(db, parse_list(document), actor="user:ops")
    assert second == first + 1 == current_version(db)
    assert db.execute("SELECT imported_by FROM responsibility_versions WHERE version = %s", (second,)).fetchone() == (
        "user:ops",)


def test_export_reads_back_as_the_same_list(estate: psycopg.Connection) -> None:
    original = parse_list(default_list_path().read_text(encoding="utf-8"))
    assert parse_list(export_list(estate)) == original
    assert to_document(parse_list(export_list(estate))) == to_document(original)


def test_lookup_resolves_the_urban_entrapment_sla(estate: psycopg.Connection) -> None:
    found = lookup(estate, category="elevator_entrapment", component="elevator", site_id=SITE)
    assert found.unit_id == "elevator-maint"
    assert found.sla == {"ack": timedelta(minutes=1), "dispatch": timedelta(minutes=5),
                         "arrive": timedelta(minutes=30), "resolve": timedelta(hours=2)}
    assert found.on_breach == {"arrive": "platform_dispatch"}


def test_lookup_applies_the_region_override(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="县城小区", region="county"))
    upsert_site(estate, Site(id="S3", name="西湖区小区", region="330106"))  # matched by the prefix 3301
    arrive = {site: lookup(estate, category="elevator_entrapment", component="elevator", site_id=site).sla["arrive"]
              for site in (SITE, "S2", "S3")}
    assert arrive == {SITE: timedelta(minutes=30), "S2": timedelta(hours=1), "S3": timedelta(minutes=15)}


def test_lookup_prefers_the_most_specific_scope(estate: psycopg.Connection) -> None:
    document = default_document()
    base = next(i for i in document["items"] if i["category"] == "water_outage")
    document["items"] += [
        {**base, "site": SITE, "unit": "water-utility"},
        {**base, "site": SITE, "building": BUILDING, "unit": "subdistrict"},
    ]
    import_list(estate, parse_list(document), actor="user:admin")
    assert lookup(estate, category="water_outage", component="water_supply", site_id="other").unit_id == "property-eng"
    assert lookup(estate, category="water_outage", component="water_supply", site_id=SITE).unit_id == "water-utility"
    assert lookup(estate, category="water_outage", component="water_supply", site_id=SITE,
                  building_id=BUILDING).unit_id == "subdistrict"


def test_lookup_of_offline_devices_follows_the_component(estate: psycopg.Connection) -> None:
    assert lookup(estate, category="device_offline", component="elevator", site_id=SITE).unit_id == "elevator-maint"
    assert lookup(estate, category="device_offline", component="drainage", site_id=SITE).unit_id == "property-eng"


def test_lookup_of_an_uncovered_category_fails(estate: psycopg.Connection) -> None:
    with pytest.raises(ResponsibilityNotFound):
        lookup(estate, category="gas_leak", component="gas", site_id=SITE)


def test_a_shipped_default_is_imported_again_until_a_person_saves_a_version(db: psycopg.Connection) -> None:
    shipped = parse_list(default_document())
    first = import_default(db, shipped, actor="system:seed")
    edited = default_document()
    edited["items"][0]["sop"] = "call the duty engineer first"
    mine = import_list(db, parse_list(edited), actor="user:admin")
    assert import_default(db, shipped, actor="system:seed") == mine
    assert mine == first + 1 and current_version(db) == mine


def test_a_changed_shipped_default_replaces_an_earlier_shipped_one(db: psycopg.Connection) -> None:
    first = import_default(db, parse_list(default_document()), actor="system:seed")
    newer = default_document()
    newer["items"][0]["sla"]["arrive"] = "15m"
    assert import_default(db, parse_list(newer), actor="system:seed") == first + 1
