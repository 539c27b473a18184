"""Preventive plans managed one by one, and the responsibility list edited as data: schema, diff, versioned save."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
import yaml

from dispatch.errors import PlanExists, PlanNotFound, ResponsibilityListError, StaleVersion
from dispatch.preventive import add_plan, get_plan, open_due_orders, page_plans, update_plan
from dispatch.responsibility import current_version, default_list_path, lookup
from dispatch.responsibility_edits import diff, list_versions, load, review, save, schema_problems, version_document

from .conftest import DEVICES, SITE, T0

DAY = timedelta(days=1)


def plan(conn: psycopg.Connection, **overrides):
    fields = {"template": "elevator_half_monthly", "site_id": SITE, "device_id": DEVICES["elevator"],
              "first_due": T0 + 10 * DAY, "actor": "user:admin"}
    return add_plan(conn, **{**fields, **overrides})


def test_a_plan_is_added_and_read_back(estate: psycopg.Connection) -> None:
    added = plan(estate)
    assert get_plan(estate, added.id) == added
    assert (added.next_due_at, added.active, added.created_by) == (T0 + 10 * DAY, True, "user:admin")


def test_the_same_template_for_the_same_device_is_a_conflict(estate: psycopg.Connection) -> None:
    plan(estate)
    with pytest.raises(PlanExists, match=DEVICES["elevator"]):
        plan(estate, first_due=T0 + 3 * DAY)


def test_a_paused_plan_opens_nothing_and_a_moved_one_opens_on_its_new_date(estate: psycopg.Connection) -> None:
    added = plan(estate)
    update_plan(estate, added.id, active=False)
    assert open_due_orders(estate, now=T0 + 30 * DAY) == 0
    moved = update_plan(estate, added.id, active=True, next_due_at=T0 + 40 * DAY)
    assert (moved.active, moved.next_due_at) == (True, T0 + 40 * DAY)
    assert open_due_orders(estate, now=T0 + 36 * DAY) == 0
    assert open_due_orders(estate, now=T0 + 37 * DAY) == 1


def test_updating_an_unknown_plan_is_not_found(estate: psycopg.Connection) -> None:
    with pytest.raises(PlanNotFound):
        update_plan(estate, 404, active=False)


def test_plans_page_soonest_due_first_with_the_total(estate: psycopg.Connection) -> None:
    late = plan(estate)
    soon = plan(estate, template="fire_pump_weekly", device_id=DEVICES["fire_system"], first_due=T0 + DAY)
    page, total = page_plans(estate, sites=[SITE], limit=1, offset=0)
    assert (total, [p.id for p in page]) == (2, [soon.id])
    assert [p.id for p in page_plans(estate, sites=[SITE], template="elevator_half_monthly", limit=5,
                                     offset=0)[0]] == [late.id]
    assert page_plans(estate, sites=[], limit=5, offset=0) == ([], 0)


def document() -> dict:
    return yaml.safe_load(default_list_path().read_text(encoding="utf-8"))


def test_the_default_list_fits_its_schema() -> None:
    assert schema_problems(document()) == []


def test_a_misshapen_edit_is_refused_naming_the_json_path() -> None:
    edited = document()
    edited["items"][0]["sla"]["arrive"] = "soon"
    edited["items"][1]["colour"] = "red"
    with pytest.raises(ResponsibilityListError) as refused:
        load(edited)
    assert any(p.startswith("items/0/sla/arrive: 'soon' does not match") for p in refused.value.problems)
    assert any(p.startswith("items/1: Additional properties are not allowed ('colour'") for p in
               refused.value.problems)


def test_the_review_of_an_edit_lists_what_it_changes(estate: psycopg.Connection) -> None:
    edited = document()
    edited["items"][0]["sla"]["resolve"] = "3h"
    edited["items"] = [i for i in edited["items"] if i["category"] != "pets"]
    checked = review(estate, edited)
    assert checked.valid is False and any("gap: category 'pets'" in p for p in checked.problems)
    edited = document()
    edited["items"][0]["sla"]["resolve"] = "3h"
    checked = review(estate, edited)
    assert (checked.valid, checked.base_version) == (True, current_version(estate))
    assert [(c.op, c.section, c.key, c.fields) for c in checked.changes] == [
        ("changed", "items", "elevator_entrapment/elevator/*/*",
         {"sla": {"from": {"ack": "1m", "dispatch": "5m", "arrive": "30m", "resolve": "2h"},
                  "to": {"ack": "1m", "dispatch": "5m", "arrive": "30m", "resolve": "3h"}}})]


def test_reformatting_the_yaml_is_no_change(estate: psycopg.Connection) -> None:
    text = yaml.safe_dump(document(), allow_unicode=True, sort_keys=True, width=60)
    assert review(estate, text).changes == []


def test_saving_an_edit_makes_a_new_version_that_lookups_use(estate: psycopg.Connection) -> None:
    before = current_version(estate)
    edited = document()
    edited["items"][0]["sla"]["resolve"] = "3h"
    version = save(estate, edited, base_version=before, actor="user:admin")
    assert version == before + 1
    assert lookup(estate, category="elevator_entrapment", component="elevator", site_id=SITE).sla["resolve"] == \
        timedelta(hours=3)
    assert [v.version for v in list_versions(estate)] == [version, before]
    assert diff(version_document(estate, before), version_document(estate, version))[0].key == \
        "elevator_entrapment/elevator/*/*"


def test_saving_from_an_old_version_is_refused(estate: psycopg.Connection) -> None:
    before = current_version(estate)
    edited = document()
    edited["items"][0]["sla"]["resolve"] = "3h"
    save(estate, edited, base_version=before, actor="user:admin")
    edited["items"][0]["sla"]["resolve"] = "4h"
    with pytest.raises(StaleVersion, match=f"not {before}"):
        save(estate, edited, base_version=before, actor="user:other-admin")
