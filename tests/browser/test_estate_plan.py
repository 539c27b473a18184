"""The estate plan: buildings, devices and estate-level rooms drawn from the registry, coloured by the worst open
alarm as it happens, clickable through to the device and the alarm; an admin drags items and the plan keeps
them (audited), an operator cannot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from ingest.database import connect
from ingest.records import Batch, DeviceEvent
from ingest.writer import Writer
from tests.browser.test_accessibility import AXE, BLOCKING, RUN_AXE
from tests.dashboard.world import World

from .conftest import login

pytestmark = pytest.mark.browser


def item(page, item_id: str):
    return page.locator(f'svg.plan g[data-id="{item_id}"]')


def drag(page, locator, dx: float, dy: float) -> None:
    """Press on ``locator``, move by (dx, dy) screen pixels in steps, let go."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up()


def test_the_plan_draws_buildings_with_their_devices_and_the_estate_rooms(browser, base_url: str, world: World,
                                                                           shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    building = item(page, world.building_id)
    expect(building).to_have_attribute("data-kind", "building")
    expect(building.locator(f'g[data-id="{world.elevator_id}"]')).to_have_count(1)
    expect(item(page, f"{world.site_id}-FIRE01")).to_contain_text("消防控制室")
    expect(item(page, f"{world.site_id}-PR01")).to_contain_text("二次供水泵房")
    shot(page, "dev-10-estate-plan")


def test_the_plan_names_buildings_and_says_a_lifts_state_in_words_on_hover(browser, base_url: str,
                                                                           world: World, shot) -> None:
    now = datetime.now(UTC)
    with connect(world.database_url) as conn:
        Writer(conn).write(Batch.of_readings([(world.elevator_id, "car_direction", now, 1.0),
                                              (world.elevator_id, "service_mode", now, 2.0)]))
        conn.commit()
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    building = item(page, world.building_id)
    expect(building.locator("> text.label")).to_have_text("1号楼")
    expect(building.locator("> title")).to_have_text(f"1号楼 · 编号 {world.building_id}")
    tip = item(page, world.elevator_id).locator("> title")
    expect(tip).to_contain_text("1号楼1号电梯 · 电梯")
    expect(tip).to_contain_text("运行方向 上行 (1)")
    expect(tip).to_contain_text("服务模式 检修 (2)")
    expect(page.locator("svg.plan").first).to_have_attribute("aria-label", "小区平面图 锦绣花园")
    item(page, world.elevator_id).locator("circle").hover()
    shot(page, "dev-13-estate-plan-tooltip")


def test_a_device_and_its_building_turn_p0_when_an_alarm_is_raised(browser, base_url: str, world: World,
                                                                    trapped, shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    expect(page.locator("#live.up")).to_have_count(1)
    device = trapped()
    expect(item(page, device)).to_have_attribute("data-severity", "P0")
    expect(item(page, world.building_id)).to_have_attribute("data-severity", "P0")
    shot(page, "dev-11-estate-plan-p0")


def test_a_device_on_the_plan_opens_its_page(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    item(page, world.elevator_id).locator("circle").click()
    page.wait_for_url(f"**/devices/{world.elevator_id}")


def test_an_alarm_badge_on_the_plan_opens_the_alarm(browser, base_url: str, world: World, trapped) -> None:
    device = trapped()
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    item(page, device).locator("a.alarm").click()
    page.wait_for_url("**/alarms/*")
    expect(page.locator("#alarm")).to_have_attribute("data-severity", "P0")


def test_a_badge_of_several_alarms_spells_out_each_severity_and_says_it_in_words(browser, base_url: str,
                                                                                world: World, trapped, engine,
                                                                                shot) -> None:
    device = trapped()
    pressed = datetime.now(UTC)
    engine.process(Batch(events=[DeviceEvent(device, pressed, "alarm_button", seq=2)]), now=pressed)
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    badge = item(page, device).locator("a.alarm")
    expect(badge.locator("text")).to_have_text("P0·1 P1·1")
    expect(badge.locator("title")).to_have_text("未消除报警 2 条：P0 紧急 1 条、P1 严重 1 条")
    shot(page, "dev-16-plan-badge-by-severity")


def test_an_admin_drags_a_building_and_the_plan_keeps_it(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/estate")
    building = item(page, world.building_id)
    before = float(building.get_attribute("data-x"))
    drag(page, building.locator("text.label"), 120, 40)
    expect(page.locator(f'section[data-site="{world.site_id}"] .plan-status')).to_have_text("位置已保存")
    page.reload()
    assert float(item(page, world.building_id).get_attribute("data-x")) > before + 50
    shot(page, "dev-12-estate-plan-moved")
    with connect(world.database_url) as conn:
        audited = conn.execute("SELECT role, detail FROM audit_log WHERE action = 'plan.move' "
                               "AND target_id = %s", (world.building_id,)).fetchall()
    assert audited and audited[-1][0] == "admin"


def test_an_admin_drags_a_device_within_its_building(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/estate")
    lift = item(page, world.elevator_id)
    before = float(lift.get_attribute("data-y"))
    drag(page, lift.locator("circle"), 0, 30)
    expect(page.locator(f'section[data-site="{world.site_id}"] .plan-status')).to_have_text("位置已保存")
    assert page.url.endswith("/estate"), "a drag must not open the device"
    page.reload()
    assert float(item(page, world.elevator_id).get_attribute("data-y")) > before + 10


def test_an_operator_cannot_move_anything(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    expect(page.locator("svg.plan.editable")).to_have_count(0)
    building = item(page, world.building_id)
    before = building.get_attribute("transform")
    drag(page, building.locator("text.label"), 120, 40)
    expect(building).to_have_attribute("transform", before)
    status = page.evaluate("""async ([site, id]) => (await fetch(`/api/v1/sites/${site}/plan/buildings/${id}`, {
        method: 'PUT', headers: {'Content-Type': 'application/json',
        'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content},
        body: JSON.stringify({x: 500, y: 500})})).status""", [world.site_id, world.building_id])
    assert status == 403


def test_the_device_list_names_each_kind_of_device_in_chinese(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    fire_room = page.locator(f'ul.devices li:has(a[href="/devices/{world.site_id}-FIRE01"])')
    expect(fire_room.locator("small")).to_contain_text("消防控制室")
    expect(page.locator("ul.devices").first).not_to_contain_text("fire_system")


def test_the_plan_with_alarm_badges_has_no_serious_axe_violation(browser, base_url: str, world: World,
                                                                  trapped) -> None:
    device = trapped()
    page = login(browser, base_url, world, "admin")
    page.goto("/estate")
    expect(item(page, device).locator("a.alarm")).to_have_count(1)
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(RUN_AXE, list(BLOCKING)) == []
