"""The demo estate's layout (fire control room, pump room and sump registered at estate level, no building) with
its responsibility list: composite rules fire for estate-level devices, and a P0 in a silence is dispatched."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.alarm_sync import sync_alarms
from dispatch.workorders import list_work_orders
from propwatch.seed import seed_demo
from rules.alarms import alarm_history, list_alarms
from rules.silences import silence
from simulators.estate import EstateLayout, demo_estate

from .conftest import T0, at, engine_factory, event


@pytest.fixture
def layout(db, site_id) -> EstateLayout:
    estate = demo_estate(site_id, buildings=1)
    seed_demo(db, estate)
    db.commit()
    return estate


@pytest.fixture
def make_engine(db_url, layout):
    yield from engine_factory(db_url)


def test_the_fire_control_room_is_registered_at_estate_level(layout):
    assert layout.device(f"{layout.site_id}-FIRE01").building_id is None


def test_a_confirmed_fire_fires_for_the_estate_level_fire_control_room(db, layout, make_engine):
    panel = f"{layout.site_id}-FIRE01"
    engine = make_engine()
    engine.process(event(panel, "fire_alarm", 0), now=at(0))
    engine.process(event(panel, "water_flow", 30), now=at(30))
    confirmed = {a.rule_id: a for a in list_alarms(db)}["fire.confirmed"]
    assert (confirmed.fingerprint, confirmed.state, confirmed.building_id) == \
        (f"fire.confirmed/site:{layout.site_id}", "active", None)


def test_an_entrapment_in_a_two_hour_device_silence_opens_its_work_order(db, layout, make_engine):
    lift = next(d.id for d in layout.devices if d.type == "elevator")
    silence(db, scope_type="device", scope_id=lift, starts_at=T0, ends_at=T0 + timedelta(hours=2),
            actor="maint-wang", reason="half-monthly maintenance")
    make_engine().process(event(lift, "trapped", 1800), now=at(1800))
    [alarm] = list_alarms(db)
    assert (alarm.state, alarm.suppressed, alarm.raised_in_silence) == ("active", False, True)
    sync_alarms(db)
    db.commit()
    [order] = list_work_orders(db, site_id=layout.site_id)
    assert (order.device_id, order.category, order.alarm_id) == (lift, "elevator_entrapment", alarm.id)


def test_an_alarm_button_alarm_clears_when_its_work_order_is_closed(db, layout, make_engine):
    from dispatch.workorders import transition

    lift = next(d.id for d in layout.devices if d.type == "elevator")
    make_engine().process(event(lift, "alarm_button", 0), now=at(0))
    sync_alarms(db)
    [order] = list_work_orders(db, site_id=layout.site_id)
    transition(db, order.id, "FALSE_ALARM", actor="op-li", note="pressed by a child, nobody inside")
    db.commit()
    [alarm] = list_alarms(db)
    assert alarm.state == "cleared"
    assert alarm_history(db, alarm.id)[-1].actor == "op-li"
