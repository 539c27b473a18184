"""The crew app on a 375-px phone in Chinese: a new order arrives live, the crew member reads where, what, the
procedure and the due times, works it through every step with a photo and a hold, and takes a photo and
resolves while the network is down; both wait on the phone and are sent when the network is back. A refusal by
the server is shown, not retried."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dispatch.complaints import file_complaint
from dispatch.workorders import transition
from ingest.database import connect
from tests.browser.conftest import login
from tests.browser.test_work_orders import api_as
from tests.dashboard.world import World, open_emergency_draw, open_order_from_alarms

pytestmark = pytest.mark.browser
PHONE_WIDTH = 375
CONTACT = "13800138000"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS_AXE_VIOLATIONS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => ['serious', 'critical'].includes(v.impact)).map(v => `${v.id}: ${v.nodes[0].target.join(' ')}`)"""


def photo_png(width: int = 96, height: int = 72) -> bytes:
    """A real colour PNG (a gradient), as a phone camera's picture would be decoded by the browser."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 160))
                    for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def report(world: World, description: str, category: str = "elevator_fault") -> int:
    """An owner's call the control room files: a lift fault in building 1, entrance 2, floor 12."""
    with connect(world.database_url) as conn:
        filed = file_complaint(conn, site_id=world.site_id, origin="owner_report", category=category,
                               description=description, address="1号楼2单元电梯厅", reporter_contact=CONTACT,
                               building_id=world.building_id, building_unit="2单元", floor="12", actor="operator")
        conn.commit()
    return filed.order.id


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def step(page: Page, button: str, state: str) -> None:
    page.click(button)
    expect(page.locator("#order")).to_have_attribute("data-state", state, timeout=10_000)


def test_a_new_order_is_worked_to_resolved_with_the_network_cut_at_the_end(
        browser, base_url: str, world: World, shot: Callable[[object, str], None]) -> None:
    crew = login(browser, base_url, world, "crew", mobile=True)
    expect(crew).to_have_url(f"{base_url}/crew")
    crew.click("#sound")
    expect(crew.locator("body")).to_have_attribute("data-sound", "on")
    expect(crew.locator("#live")).to_have_class(re.compile("up"), timeout=10_000)

    # A new order arrives live: highlighted, announced, with its category, place and countdown.
    order_id = report(world, "2单元电梯12楼开门不平层，有异响")
    row = crew.locator(f'#orders li[data-order-id="{order_id}"]')
    expect(row).to_have_class(re.compile("fresh"), timeout=10_000)
    expect(crew.locator("#arrived")).to_contain_text("电梯故障")
    assert int(crew.locator("body").get_attribute("data-chimes")) >= 1
    expect(row).to_contain_text("电梯故障")
    expect(row).to_contain_text("2单元 12F")
    expect(row.locator(".due")).to_have_text(re.compile(r"^响应剩余 (\d+小时[0-5]\d分|\d+分[0-5]\d秒)$"))
    assert fits_the_phone(crew)
    shot(crew, "crew-01-new-order")

    # The order: where, what, the procedure and the due time of each step.
    row.locator("a").click()
    expect(crew.locator("#location")).to_contain_text("2单元 12F")
    expect(crew.locator("#location")).to_contain_text("1号楼2单元电梯厅")
    expect(crew.locator("#description")).to_have_text("2单元电梯12楼开门不平层，有异响")
    expect(crew.locator("#procedure li")).to_have_count(2)
    expect(crew.locator("#procedure")).to_contain_text("维保单位排查故障")
    expect(crew.locator('#due-times tr[data-step="arrive"]')).to_contain_text("UTC+8")
    expect(crew.locator("#order-due")).to_have_text(re.compile(r"^响应剩余 "))
    expect(crew.locator("#callback")).to_be_hidden()
    assert fits_the_phone(crew)
    shot(crew, "crew-02-order")

    # Accepted, the call-back number is a tel: link; then en route, on site, start work.
    step(crew, "#btn-accept", "DISPATCHED")
    expect(crew.locator("#callback a")).to_have_attribute("href", f"tel:{CONTACT}")
    step(crew, "#btn-en-route", "EN_ROUTE")
    step(crew, "#btn-on-site", "ON_SITE")
    step(crew, "#btn-start", "IN_PROGRESS")

    # A photo from the camera shows in the gallery and opens full size.
    crew.set_input_files("#photo", files=[{"name": "lift.png", "mimeType": "image/png", "buffer": photo_png()}])
    expect(crew.locator("#upload-msg")).to_have_text("照片已上传", timeout=10_000)
    thumb = crew.locator("#gallery img")
    expect(thumb).to_have_count(1, timeout=10_000)
    crew.wait_for_function("document.querySelector('#gallery img').naturalWidth === 96")
    crew.locator("#gallery button.thumb").click()
    expect(crew.locator("#viewer")).to_be_visible()
    shot(crew, "crew-03-photo-full-size")
    crew.locator("#viewer button").click()

    # On hold waiting for a part, then resumed.
    crew.fill("#hold-reason", "等待门机配件")
    step(crew, "#btn-hold", "ON_HOLD")
    expect(crew.locator("#events")).to_contain_text("等待门机配件")
    crew.fill("#hold-reason", "配件已到")
    step(crew, "#btn-resume", "IN_PROGRESS")

    # The network drops: a second photo is kept on the phone, resolve waits in the outbox.
    crew.context.set_offline(True)
    crew.set_input_files("#photo", files=[{"name": "fixed.png", "mimeType": "image/png", "buffer": photo_png(64, 64)}])
    expect(crew.locator("#photos-kept")).to_have_text("照片待上传 (1)，联网后自动发送")
    crew.fill("#note", "调整平层感应器，试运行正常")
    crew.fill("#parts", "平层感应器 x1")
    crew.fill("#cost", "380.00")
    crew.click("#btn-resolve")
    crew.click("#resolve-ok")
    expect(crew.locator("#sync")).to_contain_text("待发送 (1)", timeout=10_000)
    expect(crew.locator("#pending")).to_have_text("已修复（待发送）")
    expect(crew.locator("#order")).to_have_attribute("data-state", "IN_PROGRESS")
    assert fits_the_phone(crew)
    shot(crew, "crew-04-queued-offline")

    # The network is back: the action is sent and the order is resolved.
    crew.context.set_offline(False)
    expect(crew.locator("#order")).to_have_attribute("data-state", "RESOLVED", timeout=15_000)
    expect(crew.locator("#order-state")).to_have_text("已修复")
    expect(crew.locator("#sync")).not_to_contain_text("待发送")
    assert crew.evaluate("JSON.parse(localStorage.getItem('pw.crew.outbox'))") == []
    expect(crew.locator("#events")).to_contain_text("调整平层感应器")
    expect(crew.locator("#events .spent")).to_have_text("平层感应器 ×1 · 费用 ¥380.00")
    expect(crew.locator("#gallery img")).to_have_count(2, timeout=10_000)
    expect(crew.locator("#photos-kept")).to_be_hidden()
    assert fits_the_phone(crew)
    shot(crew, "crew-05-sent-resolved")

    # Back on the list it is under "closed today".
    crew.goto("/crew")
    expect(crew.locator(f'#closed li[data-order-id="{order_id}"]')).to_be_visible()
    expect(crew.locator(f'#orders li[data-order-id="{order_id}"]')).to_have_count(0)
    shot(crew, "crew-06-closed-today")


def test_a_refused_action_is_shown_with_its_reason_and_not_retried(
        browser, base_url: str, world: World, shot: Callable[[object, str], None]) -> None:
    order_id = report(world, "轿厢照明不亮")
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")
    step(crew, "#btn-accept", "DISPATCHED")
    crew.context.set_offline(True)
    crew.click("#btn-en-route")
    expect(crew.locator("#sync")).to_contain_text("待发送 (1)", timeout=10_000)
    with connect(world.database_url) as conn:  # meanwhile the control room cancels the order
        transition(conn, order_id, "CANCELLED", actor="operator", note="业主撤回报修")
        conn.commit()
    crew.context.set_offline(False)
    expect(crew.locator("#sync .failed")).to_contain_text("发送失败：工单状态已变化", timeout=15_000)
    expect(crew.locator("#order")).to_have_attribute("data-state", "CANCELLED", timeout=10_000)
    outbox = crew.evaluate("JSON.parse(localStorage.getItem('pw.crew.outbox'))")
    assert [(i["status"], i["tries"]) for i in outbox] == [("failed", 1)]
    shot(crew, "crew-07-refused")
    crew.click("#sync button.dismiss")
    expect(crew.locator("#sync .failed")).to_have_count(0)


def test_checklist_ticks_stay_on_the_phone_after_a_reload(browser, base_url: str, world: World) -> None:
    order_id = report(world, "按钮失灵")
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")
    crew.locator('#procedure input[data-step="0"]').check()
    crew.reload()
    expect(crew.locator('#procedure input[data-step="0"]')).to_be_checked()
    expect(crew.locator('#procedure input[data-step="1"]')).not_to_be_checked()


def test_an_order_reads_in_english_with_the_procedure_in_english(
        browser, base_url: str, world: World, shot: Callable[[object, str], None]) -> None:
    order_id = report(world, "Lift stops between floors")
    crew = login(browser, base_url, world, "crew", mobile=True, lang="en")
    expect(crew.locator(f'#orders li[data-order-id="{order_id}"] .due')).to_have_text(
        re.compile(r"^Acknowledge due in "))
    crew.goto(f"/crew/orders/{order_id}")
    expect(crew.locator("#order-title")).to_have_text(re.compile(r"^WO-\d{8}-\d{4} Elevator fault$"))
    expect(crew.locator("#order-due")).to_have_text(
        re.compile(r"^Acknowledge due in (\d+ h [0-5]\d min|\d+ min [0-5]\d s)$"))
    expect(crew.locator("#procedure li")).to_have_text(["maintainer diagnoses", "stops the lift if needed"])
    expect(crew.locator("#order-category")).to_have_text("Elevator fault")
    expect(crew.locator("#order-state")).to_have_text("New")
    assert fits_the_phone(crew)
    shot(crew, "crew-08-order-english")


def test_an_order_reads_in_chinese_without_its_english_title(browser, base_url: str, world: World) -> None:
    order_id = report(world, "电梯按钮失灵")
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")
    expect(crew.locator("#order-title")).to_have_text(re.compile(r"^WO-\d{8}-\d{4} 电梯故障$"))
    expect(crew.locator("main")).not_to_contain_text("Elevator fault")


def test_a_refused_photo_says_why_in_chinese(browser, base_url: str, world: World, shot) -> None:
    order_id = report(world, "轿厢灯闪烁")
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")  # not accepted: the order is not the crew member's yet
    crew.set_input_files("#photo", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}])
    expect(crew.locator("#upload-msg")).to_have_class(re.compile("error"), timeout=10_000)
    expect(crew.locator("#upload-msg")).not_to_contain_text(re.compile(r"[A-Za-z]{3,}"))
    shot(crew, "crew-09-photo-refused")


def test_an_order_that_does_not_exist_is_the_friendly_404(browser, base_url: str, world: World) -> None:
    crew = login(browser, base_url, world, "crew", mobile=True)
    response = crew.goto("/crew/orders/999999")
    assert response.status == 404
    expect(crew.locator("main")).to_contain_text("页面不存在")


def test_an_order_being_worked_has_no_serious_axe_violation(browser, base_url: str, world: World) -> None:
    order_id = report(world, "厅门关不上")
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")
    step(crew, "#btn-accept", "DISPATCHED")
    step(crew, "#btn-on-site", "ON_SITE")
    step(crew, "#btn-start", "IN_PROGRESS")
    crew.add_script_tag(path=str(AXE))
    assert crew.evaluate(SERIOUS_AXE_VIOLATIONS) == []


def test_finishing_a_repair_asks_what_was_done_and_what_it_cost_and_reads_it_back(
        browser, base_url: str, world: World, shot: Callable[[object, str], None]) -> None:
    order_id = report(world, "3楼厅门关不严")
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")
    step(crew, "#btn-accept", "DISPATCHED")
    step(crew, "#btn-en-route", "EN_ROUTE")
    expect(crew.locator("#order-due")).to_have_text(re.compile(r"^到场剩余 "))
    step(crew, "#btn-on-site", "ON_SITE")
    step(crew, "#btn-start", "IN_PROGRESS")

    crew.click("#btn-resolve")  # nothing said about the repair
    expect(crew.locator("#msg")).to_have_text("请填写处理说明：做了什么")
    expect(crew.locator("#note")).to_be_focused()
    crew.fill("#note", "调整厅门门刀，试运行正常")
    crew.click("#btn-resolve")  # no labour entered, not even 0
    expect(crew.locator("#msg")).to_have_text("请填写人工费，没有请填 0")
    expect(crew.locator("#resolve-confirm")).to_be_hidden()
    crew.fill("#parts", "门刀 x1 ¥120, 螺栓 x4 ¥2.5")
    crew.fill("#cost", "0")
    crew.click("#btn-resolve")
    summary = crew.locator("#resolve-summary")
    expect(crew.locator("#resolve-confirm")).to_be_visible()
    expect(summary).to_contain_text("调整厅门门刀，试运行正常")
    expect(summary).to_contain_text("门刀 ×1 ¥120、螺栓 ×4 ¥2.5")
    expect(summary).to_contain_text("¥130.00")
    assert fits_the_phone(crew)
    shot(crew, "crew-10-resolve-confirm")
    crew.click("#resolve-back")  # nothing is sent before the confirmation
    expect(crew.locator("#order")).to_have_attribute("data-state", "IN_PROGRESS")
    crew.click("#btn-resolve")
    crew.click("#resolve-ok")
    expect(crew.locator("#order")).to_have_attribute("data-state", "RESOLVED", timeout=10_000)
    expect(crew.locator("#done-line")).to_have_text("已完工，等待物业验收")
    expect(crew.locator("#events")).to_contain_text("门刀 ×1、螺栓 ×4")
    with api_as(base_url, world, "operator") as operator:
        assert operator.get(f"/api/v1/work-orders/{order_id}").json()["cost_total"] == "130.00"
    shot(crew, "crew-11-resolved")


def test_a_repair_at_no_cost_is_refused_on_the_phone_while_a_fund_draw_waits(
        browser, base_url: str, world: World, shot: Callable[[object, str], None]) -> None:
    order_id = report(world, "电梯困人，已救出", category="elevator_entrapment")
    open_emergency_draw(world, order_id=order_id)  # the crew is on site; the control room applied for a draw
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")
    step(crew, "#btn-start", "IN_PROGRESS")
    crew.fill("#note", "更换门机皮带")
    crew.fill("#cost", "0")
    crew.click("#btn-resolve")
    expect(crew.locator("#msg")).to_have_text("该工单已申请维修资金，须登记人工和配件费用（大于0元）")
    expect(crew.locator("#resolve-confirm")).to_be_hidden()
    shot(crew, "crew-12-draw-needs-cost")


def test_an_alarm_orders_history_reads_in_chinese(browser, base_url: str, world: World, trapped,
                                                  shot: Callable[[object, str], None]) -> None:
    trapped()
    order_id = open_order_from_alarms(world)
    with api_as(base_url, world, "operator") as operator:
        alarm_id = operator.get(f"/api/v1/work-orders/{order_id}").json()["alarm_id"]
        assert operator.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "已电话安抚"}).status_code == 200
    open_order_from_alarms(world)  # dispatch acknowledges the order with the alarm
    crew = login(browser, base_url, world, "crew", mobile=True)
    crew.goto(f"/crew/orders/{order_id}")
    events = crew.locator("#events")
    expect(events).to_contain_text(f"报警 #{alarm_id} 已确认", timeout=10_000)
    expect(events).to_contain_text("新建 → 已响应 报警已确认")
    expect(events).not_to_contain_text(re.compile(r"acknowledged|Passenger|alarm", re.I))
    shot(crew, "crew-13-history-zh")
