"""One shift's story per role, across the screens the areas built, in Chinese, screenshots in artifacts/screenshots/
(sh-NN-*.png): the operator handles a P0 from its sound to the verified order; the crew completes an order from a
phone with a photo; the committee approves a fund draw the public board then discloses; an owner files a report
and books a home service."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from dispatch.alarm_sync import sync_alarms
from dispatch.complaints import file_complaint
from dispatch.workorders import accept, transition
from ingest.database import connect
from tests.browser.conftest import login
from tests.dashboard.pictures import png
from tests.dashboard.world import World, on_site, verify_repair

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE_WIDTH = 375


def order_of(world: World, device_id: str) -> int:
    """The work order dispatch opens for the device's alarm (what the pipeline's dispatch worker does each second)."""
    with connect(world.database_url) as conn:
        sync_alarms(conn)
        conn.commit()
        row = conn.execute("SELECT id FROM work_orders WHERE device_id = %s ORDER BY id DESC LIMIT 1",
                           (device_id,)).fetchone()
    assert row, f"dispatch opened no work order for {device_id}"
    return row[0]


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_the_operator_handles_a_p0_from_the_sound_to_the_verified_order(browser, base_url: str, world: World,
                                                                        trapped, shot) -> None:
    operator = login(browser, base_url, world, "operator")
    expect(operator.locator("#live.up")).to_be_visible(timeout=10_000)

    # The entrapment arrives live, red, and sounds until someone acknowledges it.
    lift = trapped()
    row = operator.locator("#alarms tbody tr", has_text=lift)
    expect(row).to_have_class("sev-P0 state-active", timeout=15_000)
    expect(operator.locator("#sound")).to_have_attribute("data-state", "playing")
    shot(operator, "sh-01-operator-p0-sounding")

    # The operator opens it and acknowledges it with what was done, after a confirmation.
    row.locator("td.title a").click()
    expect(operator).to_have_url(re.compile(r"/alarms/\d+$"))
    operator.click("button[data-action=ack]")
    operator.fill("#reason", "已电话安抚乘客，维保人员出发")
    operator.click("#action-ok")
    expect(operator.locator("#alarm")).to_have_attribute("data-state", "acknowledged", timeout=10_000)
    shot(operator, "sh-02-operator-p0-acknowledged")

    # Dispatch opened its work order; the crew takes it, works it and resolves it with its cost.
    order_id = order_of(world, lift)
    with connect(world.database_url) as conn:
        accept(conn, order_id, world.crew_member_id)
        for state in ("EN_ROUTE", "ON_SITE", "IN_PROGRESS"):
            transition(conn, order_id, state, actor=f"crew:{world.crew_member_id}")
        transition(conn, order_id, "RESOLVED", actor=f"crew:{world.crew_member_id}", cost=Decimal("260.00"),
                   note="盘车放人，更换门锁触点")
        conn.commit()

    # The operator reads the order and verifies the repair after a confirmation.
    operator.goto(f"/work-orders/{order_id}")
    expect(operator.locator("#order-state")).to_have_text("已修复", timeout=10_000)
    expect(operator.locator("#timeline")).to_contain_text("UTC+8")
    operator.click('#actions [data-action="verify"]')
    operator.fill("#wo-reason", "回访乘客，电梯运行正常")
    operator.click("#wo-dialog-ok")
    expect(operator.locator("#order-state")).to_have_text("已验收", timeout=10_000)
    shot(operator, "sh-03-operator-order-verified")


def test_the_crew_completes_an_order_from_the_phone_with_a_photo(browser, base_url: str, world: World,
                                                                shot) -> None:
    crew = login(browser, base_url, world, "crew", mobile=True)
    with connect(world.database_url) as conn:
        filed = file_complaint(conn, site_id=world.site_id, origin="owner_report", category="elevator_fault",
                               description="3单元电梯到站不开门", address="1号楼3单元电梯厅",
                               reporter_contact="13900139000", building_id=world.building_id,
                               building_unit="3单元", floor="1", actor="operator")
        conn.commit()
    order_id = filed.order.id
    row = crew.locator(f'#orders li[data-order-id="{order_id}"]')
    expect(row).to_be_visible(timeout=15_000)
    assert fits_the_phone(crew)
    shot(crew, "sh-04-crew-new-order")

    row.locator("a").click()
    for button, state in (("#btn-accept", "DISPATCHED"), ("#btn-en-route", "EN_ROUTE"), ("#btn-on-site", "ON_SITE"),
                          ("#btn-start", "IN_PROGRESS")):
        crew.click(button)
        expect(crew.locator("#order")).to_have_attribute("data-state", state, timeout=10_000)
    crew.set_input_files("#photo", files=[{"name": "door.png", "mimeType": "image/png", "buffer": png(160, 120)}])
    expect(crew.locator("#gallery img")).to_have_count(1, timeout=10_000)
    crew.fill("#note", "门机皮带打滑，已更换")
    crew.fill("#cost", "180.00")
    crew.click("#btn-resolve")
    crew.click("#resolve-ok")  # the finish card read back, confirmed
    expect(crew.locator("#order")).to_have_attribute("data-state", "RESOLVED", timeout=15_000)
    expect(crew.locator("#order-state")).to_have_text("已修复")
    assert fits_the_phone(crew)
    shot(crew, "sh-05-crew-resolved-with-photo")


def test_the_committee_approves_a_draw_the_public_board_then_discloses(browser, base_url: str, world: World,
                                                                      trapped, shot) -> None:
    # An entrapment's order with the crew on site: the repair is assessed and a fund draw may be applied for.
    lift = trapped()
    order_id = order_of(world, lift)
    on_site(world, order_id)

    operator = login(browser, base_url, world, "operator")
    operator.goto("/fund-approvals/apply")
    operator.select_option("#work-order", str(order_id))
    operator.fill("#item", "电梯困人抢修 更换门锁")
    operator.fill("#contractor", "某电梯维保有限公司")
    operator.fill("#estimate", "5200.00")
    operator.click("#preview-btn")
    operator.click("#submit-draw")
    expect(operator).to_have_url(re.compile(r"/fund-approvals/\d+$"))
    draw_id = int(operator.url.rsplit("/", 1)[1])

    committee = login(browser, base_url, world, "committee")
    card = committee.locator(f'article.draw[data-draw-id="{draw_id}"]')
    expect(card).to_be_visible(timeout=10_000)
    shot(committee, "sh-06-committee-draw-to-review")
    card.locator("input.comment").fill("同意按应急程序使用维修资金")
    card.locator("button.approve").click()
    committee.locator("#confirm button.confirm").click()
    expect(committee.locator(f'article.draw[data-draw-id="{draw_id}"]')).to_have_attribute("data-state", "approved")
    shot(committee, "sh-07-committee-approved")

    # The repair is verified at its cost; the control room completes the draw at that cost.
    verify_repair(world, order_id, "520.00")
    operator.reload()
    operator.click("#complete")
    operator.locator("#confirm button.confirm").click()
    expect(operator.locator("#draw")).to_have_attribute("data-state", "completed", timeout=10_000)

    # Anyone, signed out, reads it on the estate's public board.
    public = browser.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 375, "height": 812},
                                 is_mobile=True).new_page()
    public.goto(f"/board/{world.site_id}")
    expect(public.locator(f'article.draw[data-draw-id="{draw_id}"] .total')).to_have_text("¥520.00")
    assert fits_the_phone(public)
    shot(public, "sh-08-public-board-discloses-the-draw")


def test_an_owner_files_a_report_and_books_a_home_service(browser, base_url: str, world: World, shot) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True)
    owner.goto("/my-reports")
    owner.select_option("#category", "noise")
    owner.fill("#description", "楼道灯夜里一直不亮")
    owner.fill("#contact", "13700137000")
    owner.click("#send-report")
    report = owner.locator("#reports li", has_text="楼道灯夜里一直不亮")
    expect(report).to_be_visible(timeout=10_000)
    expect(report).to_contain_text("UTC+8")
    assert fits_the_phone(owner)
    shot(owner, "sh-09-owner-report-filed")

    owner.goto("/my-services")
    owner.select_option("#book-form select[name=service_id]", index=1)
    owner.fill("#book-form input[name=date]", (datetime.now(UTC) + timedelta(days=2)).date().isoformat())
    owner.fill("#book-form input[name=note]", "周末上午")
    owner.click("#book-button")
    expect(owner.locator("li.booking[data-state=requested]").first).to_be_visible(timeout=10_000)
    assert fits_the_phone(owner)
    shot(owner, "sh-10-owner-service-booked")
