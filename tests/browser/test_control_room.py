"""The whole story in a real browser: a trapped passenger, from alarm to public disclosure.

Operator sees the alarm appear live and acknowledges it; dispatch opens the work order; a crew member on a
375-px phone accepts and resolves it; the operator verifies; the committee approves the emergency draw; the
public board shows the disclosure. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ingest.database import connect
from tests.dashboard.pictures import png
from tests.dashboard.world import World, open_emergency_draw, open_order_from_alarms

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_trapped_passenger_from_alarm_to_public_disclosure(browser, base_url: str, world: World, trapped,
                                                           shot) -> None:
    # The operator signs in and watches the console.
    operator = login(browser, base_url, world, "operator")
    expect(operator).to_have_url(f"{base_url}/console")
    expect(operator.locator("#live.up")).to_be_visible()

    # A trapped passenger: the rules engine raises the alarm; it appears without a reload, most severe first.
    device = trapped(world.elevator_id)
    row = operator.locator("#alarms tbody tr").first
    expect(row).to_have_class("sev-P0 state-active", timeout=15_000)
    expect(row).to_contain_text("困人")
    expect(row).to_contain_text(device)
    expect(operator.locator("body")).to_have_class(re.compile(r"\bflash\b"))  # a new P0 flashes (and beeps)
    shot(operator, "01-console-live-alarm")

    # Acknowledge with a comment.
    row.locator("button.ack").click()
    operator.fill("#comment", "已电话安抚乘客，通知维保单位")
    shot(operator, "02-console-ack-dialog")
    operator.click("#action-ok")
    expect(row).to_have_class("sev-P0 state-acknowledged", timeout=10_000)

    # Dispatch turns the alarm into a work order; it shows on the board with its SLA countdown.
    order_id = open_order_from_alarms(world)
    operator.goto("/work-orders")
    card = operator.locator(f'article.wo[data-order-id="{order_id}"]')
    expect(card).to_be_visible(timeout=10_000)
    expect(card.locator(".timer")).to_contain_text("时限")
    shot(operator, "03-work-order-board")

    # A crew member on a phone accepts it and works it to resolved.
    crew = login(browser, base_url, world, "crew", mobile=True)
    expect(crew).to_have_url(f"{base_url}/crew")
    crew.locator(f'li[data-order-id="{order_id}"] a').click()
    expect(crew.locator("#order-state")).not_to_be_empty()
    shot(crew, "04-crew-order")
    for button, state in (("#btn-accept", "DISPATCHED"), ("#btn-en-route", "EN_ROUTE"), ("#btn-on-site", "ON_SITE"),
                          ("#btn-start", "IN_PROGRESS")):
        crew.click(button)
        expect(crew.locator("#msg")).to_have_text("✓", timeout=10_000)
        expect(crew.locator("#order")).to_have_attribute("data-state", state, timeout=10_000)
    crew.set_input_files("#photo", files=[{"name": "site.png", "mimeType": "image/png", "buffer": png(160, 120)}])
    expect(crew.locator("#gallery img")).to_have_count(1, timeout=10_000)
    crew.fill("#note", "门锁开关故障，已更换，乘客安全")
    crew.fill("#parts", "门锁开关 x1")
    crew.fill("#cost", "450.00")
    crew.click("#btn-resolve")
    crew.click("#resolve-ok")  # the finish card read back, confirmed
    expect(crew.locator("#order")).to_have_attribute("data-state", "RESOLVED", timeout=10_000)
    expect(crew.locator("#order-state")).to_have_text("已修复")
    assert crew.evaluate("document.documentElement.scrollWidth") <= 375
    shot(crew, "05-crew-resolved")

    # The operator verifies on the board (the card moved to RESOLVED live), confirming with a reason.
    resolved = operator.locator(f'section[data-state="RESOLVED"] article[data-order-id="{order_id}"]')
    expect(resolved).to_be_visible(timeout=10_000)
    resolved.locator("button.verify").click()
    operator.fill("#wo-reason", "回访乘客，电梯运行正常")
    operator.click("#wo-dialog-ok")
    expect(resolved).to_have_count(0, timeout=10_000)

    # The emergency draw for the repair goes to the owners' committee, who approve it.
    draw_id = open_emergency_draw(world, estimate="8600.00")
    committee = login(browser, base_url, world, "committee")
    expect(committee).to_have_url(f"{base_url}/fund-approvals")
    draw = committee.locator(f'article.draw[data-draw-id="{draw_id}"]')
    draw.locator("input.comment").fill("同意按应急程序使用维修资金")
    shot(committee, "06-fund-approvals")
    draw.locator("button.approve").click()
    committee.locator("#confirm button.confirm").click()  # the approval asks for a confirmation
    expect(committee.locator(f'article.draw[data-draw-id="{draw_id}"]')).to_have_attribute(
        "data-state", "approved", timeout=10_000)

    # The draw completes at the cost the verified order records (the crew's 450.00); the public board (no
    # sign-in) shows the disclosure with each home's share.
    from dispatch.fund import draws

    with connect(world.database_url) as conn:
        draws.complete(conn, draw_id, actor="operator")
        conn.commit()
    public = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 900}).new_page()
    public.goto(f"/board/{world.site_id}")
    disclosure = public.locator(f'article.draw[data-draw-id="{draw_id}"]')
    expect(disclosure.locator(".total")).to_have_text("¥450.00")
    expect(public.locator("#complaint_phones")).to_contain_text("12345")
    expect(public.locator("#maintenance_units")).to_contain_text("电梯维保单位")
    disclosure.locator("summary").click()
    shot(public, "07-public-board")
