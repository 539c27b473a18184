"""Preventive schedules: elevator half-monthly maintenance (15-day cadence) and the weekly fire-pump test."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dispatch.errors import InvalidOrder, UnknownPlace
from dispatch.preventive import create_plan, open_due_orders, templates
from dispatch.workorders import list_work_orders
from ingest.registry import Device, Site, upsert_device, upsert_site

from .conftest import DEVICES, SITE, T0

DAY = timedelta(days=1)


def test_the_templates_carry_the_cadence_and_its_source() -> None:
    half_monthly = templates()["elevator_half_monthly"]
    assert (half_monthly.interval, half_monthly.checklist_items) == (15 * DAY, 31)
    assert "TSG T5002" in half_monthly.source
    assert templates()["fire_pump_weekly"].interval == 7 * DAY


def test_a_half_monthly_plan_opens_one_order_per_period_ahead_of_its_due_date(estate: psycopg.Connection) -> None:
    create_plan(estate, template="elevator_half_monthly", site_id=SITE, device_id=DEVICES["elevator"],
                first_due=T0 + 10 * DAY, actor="user:admin")
    assert open_due_orders(estate, now=T0 + 6 * DAY) == 0
    assert open_due_orders(estate, now=T0 + 7 * DAY) == 1
    assert open_due_orders(estate, now=T0 + 8 * DAY) == 0
    assert open_due_orders(estate, now=T0 + 22 * DAY) == 1
    orders = sorted(list_work_orders(estate), key=lambda o: o.id)
    assert [(o.origin, o.unit_id, o.due["resolve"]) for o in orders] == [
        ("preventive", "elevator-maint", T0 + 10 * DAY), ("preventive", "elevator-maint", T0 + 25 * DAY)]


def test_the_weekly_fire_pump_test_goes_to_the_fire_maintainer(estate: psycopg.Connection) -> None:
    create_plan(estate, template="fire_pump_weekly", site_id=SITE, device_id=DEVICES["fire_system"],
                first_due=T0 + DAY, actor="user:admin")
    open_due_orders(estate, now=T0)
    (order,) = list_work_orders(estate)
    assert (order.category, order.unit_id, order.severity) == ("maintenance_fire_pump", "fire-maint", "P3")


def test_an_unknown_template_is_refused(estate: psycopg.Connection) -> None:
    with pytest.raises(InvalidOrder, match="unknown preventive template"):
        create_plan(estate, template="monthly_magic", site_id=SITE, first_due=T0, actor="user:admin")


def test_a_plan_for_a_device_of_another_estate_is_refused(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="另一个小区"))
    upsert_device(estate, Device(id="S2-EL01", site_id="S2", type="elevator", name="S2-EL01"))
    with pytest.raises(UnknownPlace, match="device 'S2-EL01' is not a device of site 'S1'"):
        create_plan(estate, template="elevator_half_monthly", site_id=SITE, device_id="S2-EL01", first_due=T0,
                    actor="user:admin")


def test_a_plan_for_a_site_that_does_not_exist_is_refused(estate: psycopg.Connection) -> None:
    with pytest.raises(UnknownPlace, match="site 'S404' does not exist"):
        create_plan(estate, template="fire_pump_weekly", site_id="S404", first_due=T0, actor="user:admin")


def test_scheduling_the_same_plan_twice_keeps_the_first(estate) -> None:
    first = create_plan(estate, template="fire_pump_weekly", site_id=SITE, device_id=DEVICES["fire_system"],
                        first_due=T0, actor="user:admin")
    again = create_plan(estate, template="fire_pump_weekly", site_id=SITE, device_id=DEVICES["fire_system"],
                        first_due=T0 + timedelta(days=3), actor="user:admin")
    assert again == first
