"""The work-order screens in Chromium: an operator finds an order on the board, opens it, reads where it is, its
timeline and photos, holds and resumes it with reasons and verifies the crew's repair after a confirmation; the
verified order is in the closed list. Also: no raw state code on the zh-CN pages, clocks that never run negative,
filters kept in the address, the API's refusal shown word for word, and the committee reading without actions.
Screenshots: artifacts/screenshots/wo-NN-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from dispatch.workorders import transition
from ingest.database import connect
from tests.browser.conftest import login
from tests.dashboard.pictures import png
from tests.dashboard.world import World, open_emergency_draw, open_order_from_alarms

pytestmark = pytest.mark.browser

RAW_STATES = re.compile(r"\b(NEW|ACKED|DISPATCHED|EN_ROUTE|ON_SITE|IN_PROGRESS|ON_HOLD|RESOLVED|VERIFIED|CLOSED|"
                        r"CANCELLED|FALSE_ALARM)\b")


def api_as(base_url: str, world: World, role: str) -> httpx.Client:
    """An API client signed in as the world's user of ``role`` (a bearer token, as the crew's phones use)."""
    username, password = world.passwords[role]
    token = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": password})
    token.raise_for_status()
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def crew_moves(crew: httpx.Client, order_id: int, *states: str, **body: object) -> None:
    for state in states:
        res = crew.post(f"/api/v1/work-orders/{order_id}/transition", json={"to_state": state, **body})
        assert res.status_code == 200, res.text


@pytest.fixture
def order_at_work(base_url: str, world: World, trapped: Callable[..., str]) -> tuple[int, str]:
    """A trapped-passenger order the crew accepted and started, with a photo from the site: (id, number)."""
    trapped()
    order_id = open_order_from_alarms(world)
    with api_as(base_url, world, "crew") as crew:
        assert crew.post(f"/api/v1/work-orders/{order_id}/accept").status_code == 200
        crew_moves(crew, order_id, "EN_ROUTE", "ON_SITE", "IN_PROGRESS")
        photo = crew.post(f"/api/v1/work-orders/{order_id}/photos",
                          files={"photo": ("site.png", png(320, 240), "image/png")})
        assert photo.status_code == 201, photo.text
        number = crew.get(f"/api/v1/work-orders/{order_id}").json()["number"]
    return order_id, number


def confirm(page, reason: str) -> None:
    page.fill("#wo-reason", reason)
    page.click("#wo-dialog-ok")
    expect(page.locator("#wo-dialog")).not_to_be_visible(timeout=10_000)


def test_the_operator_finds_holds_resumes_and_verifies_an_order(browser, base_url: str, world: World, shot,
                                                                order_at_work: tuple[int, str]) -> None:
    order_id, number = order_at_work
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    page.fill("#f-q", number)
    card = page.locator(f'section[data-state="IN_PROGRESS"] article.wo[data-order-id="{order_id}"]')
    expect(card).to_be_visible(timeout=10_000)
    expect(page.locator("article.wo")).to_have_count(1)
    expect(page).to_have_url(re.compile(rf"q={number}"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(page, "wo-01-board")

    card.locator("a.wo-number").click()
    expect(page).to_have_url(f"{base_url}/work-orders/{order_id}")
    expect(page.locator("#order-state")).to_have_text("维修中")
    expect(page.locator("#location")).to_contain_text("1号楼")
    expect(page.locator("#timeline li")).not_to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text("已到场 → 维修中")
    thumbnail = page.locator("#photos img").first
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 320
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(page, "wo-03-detail")

    page.click('#actions [data-action="hold"]')
    expect(page.locator("#wo-dialog-question")).to_contain_text(number)
    page.click("#wo-dialog-ok")
    expect(page.locator("#wo-dialog-error")).to_have_text("请填写原因")
    page.fill("#wo-reason", "等待厂家配件：门机板")
    shot(page, "wo-04-hold-dialog")
    page.click("#wo-dialog-ok")
    expect(page.locator("#order-state")).to_have_text("暂停", timeout=10_000)
    expect(page.locator("#timeline")).to_contain_text("等待厂家配件：门机板")

    page.click('#actions [data-action="resume"]')
    confirm(page, "配件已到")
    expect(page.locator("#order-state")).to_have_text("维修中", timeout=10_000)

    with api_as(base_url, world, "crew") as crew:
        crew_moves(crew, order_id, "RESOLVED", note="更换门机板，试运行正常", cost="300.00",
                   parts=[{"name": "门机板", "quantity": "1", "unit_cost": "150.00"}])
    expect(page.locator("#order-state")).to_have_text("已修复", timeout=10_000)
    expect(page.locator("#cost-total")).to_have_text("450.00")

    page.click('#actions [data-action="verify"]')
    confirm(page, "回访乘客，电梯运行正常")
    expect(page.locator("#order-state")).to_have_text("已验收", timeout=10_000)
    expect(page.locator("#actions [data-action]")).to_have_count(1)  # only closing is left

    page.goto(f"/work-orders?view=closed&q={number}")
    row = page.locator(f'#closed-table tr[data-order-id="{order_id}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator("td.state")).to_have_text("已验收")
    shot(page, "wo-02-closed-list")


def test_no_raw_state_code_shows_on_the_zh_cn_board_or_order_page(browser, base_url: str, world: World,
                                                                  order_at_work: tuple[int, str]) -> None:
    order_id, _ = order_at_work
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    expect(page.locator("article.wo").first).to_be_visible(timeout=10_000)
    assert not RAW_STATES.findall(page.inner_text("main"))
    page.goto(f"/work-orders/{order_id}")
    assert not RAW_STATES.findall(page.inner_text("main"))


def test_an_overdue_step_reads_overdue_by_hours_and_minutes_in_red(browser, base_url: str, world: World) -> None:
    from dispatch.complaints import file_complaint
    from ingest.database import connect

    with connect(world.database_url) as conn:
        order = file_complaint(conn, site_id=world.site_id, origin="owner_report", category="water_outage",
                               description="3楼停水两小时", address="1号楼3层", reporter_contact="", actor="operator",
                               now=datetime.now(UTC) - timedelta(hours=3)).order
        conn.commit()
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    timer = page.locator(f'article.wo[data-order-id="{order.id}"] .timer')
    expect(timer).to_have_class(re.compile("overdue"), timeout=10_000)
    expect(timer).to_have_text(re.compile(r"^响应已超时 [1-9]小时[0-5]\d分$"))


def test_filters_and_the_closed_view_are_kept_in_the_address(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    page.select_option("#f-category", "elevator_entrapment")
    page.click('#views [data-view="closed"]')
    expect(page).to_have_url(re.compile(r"category=elevator_entrapment.*view=closed|view=closed.*category="))
    page.reload()
    expect(page.locator("#f-category")).to_have_value("elevator_entrapment")
    expect(page.locator("#closed")).to_be_visible()
    expect(page.locator("#board")).to_be_hidden()


def test_the_apis_refusal_is_shown_in_the_dialog_in_chinese(browser, base_url: str, world: World, shot,
                                                            order_at_work: tuple[int, str]) -> None:
    order_id, _ = order_at_work
    page = login(browser, base_url, world, "operator")
    page.goto(f"/work-orders/{order_id}")
    page.click('#actions [data-action="hold"]')
    with api_as(base_url, world, "operator") as operator:  # someone else holds it meanwhile
        assert operator.post(f"/api/v1/work-orders/{order_id}/hold", json={"reason": "另一席位"}).status_code == 200
    page.fill("#wo-reason", "等待配件")
    page.click("#wo-dialog-ok")
    expect(page.locator("#wo-dialog-error")).to_have_text("工单状态已变化，不能执行此操作，请刷新页面后再试")
    shot(page, "wo-12-refusal-zh")


def test_an_alarm_orders_title_reads_in_the_readers_language_only(browser, base_url: str, world: World, shot,
                                                                  order_at_work: tuple[int, str]) -> None:
    order_id, number = order_at_work
    with api_as(base_url, world, "operator") as operator:
        order = operator.get(f"/api/v1/work-orders/{order_id}").json()
    chinese, english = order["title"], order["title_en"]
    for lang, shown, hidden in (("zh", chinese, english), ("en", english, chinese)):
        page = login(browser, base_url, world, "operator", lang=lang)
        page.goto(f"/work-orders?q={number}")
        card = page.locator(f'article.wo[data-order-id="{order_id}"]')
        expect(card.locator(".wo-title")).to_have_text(shown, timeout=10_000)
        expect(card).not_to_contain_text(hidden)
        shot(page, f"wo-13-board-title-{lang}")
        page.goto(f"/work-orders/{order_id}")
        expect(page.locator("h1")).to_contain_text(shown)
        expect(page.locator("main")).not_to_contain_text(hidden)
        shot(page, f"wo-14-order-title-{lang}")


def test_a_running_clock_names_its_units(browser, base_url: str, world: World,
                                         order_at_work: tuple[int, str]) -> None:
    order_id, _ = order_at_work
    page = login(browser, base_url, world, "operator")
    page.goto(f"/work-orders/{order_id}")
    expect(page.locator('#sla tr[data-step="resolve"] .timer')).to_have_text(
        re.compile(r"^修复时限 剩余 (\d+小时[0-5]\d分|\d+分[0-5]\d秒)$"))
    english = login(browser, base_url, world, "operator", lang="en")
    english.goto(f"/work-orders/{order_id}")
    expect(english.locator('#sla tr[data-step="resolve"] .timer')).to_have_text(
        re.compile(r"^Resolve due in (\d+ h [0-5]\d min|\d+ min [0-5]\d s)$"))


def test_the_committee_reads_an_order_without_actions_or_the_reporters_contact(browser, base_url: str,
                                                                               world: World) -> None:
    with api_as(base_url, world, "operator") as operator:
        order = operator.post("/api/v1/work-orders", json={
            "site_id": world.site_id, "origin": "owner_report", "category": "noise", "address": "1号楼2单元1202",
            "description": "楼上每晚23点后装修电钻声", "reporter_contact": "139-0000-1202"}).json()
    page = login(browser, base_url, world, "committee")
    page.goto(f"/work-orders/{order['id']}")
    expect(page.locator("#description")).to_have_text("楼上每晚23点后装修电钻声")
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#actions")).to_have_count(0)
    expect(page.locator("#reporter")).to_have_count(0)


def assign_dialog(browser, base_url: str, world: World, trapped: Callable[..., str]):
    """The operator's assign dialog on a new alarm order, its crew list loaded."""
    trapped()
    order_id = open_order_from_alarms(world)
    page = login(browser, base_url, world, "operator")
    page.goto(f"/work-orders/{order_id}")
    page.click('#actions [data-action="assign"]')
    expect(page.locator(f'#wo-member option[value="{world.crew_member_id}"]')).to_have_count(1, timeout=10_000)
    return page


def test_the_operator_assigns_a_new_order_from_the_crew_list(browser, base_url: str, world: World,
                                                             trapped: Callable[..., str]) -> None:
    page = assign_dialog(browser, base_url, world, trapped)
    page.select_option("#wo-member", world.crew_member_id)
    confirm(page, "夜班值守直接派单")
    expect(page.locator("#order-state")).to_have_text("已派单", timeout=10_000)
    expect(page.locator("#timeline")).to_contain_text("夜班值守直接派单")


def test_the_english_order_page_names_states_and_steps_in_english(browser, base_url: str, world: World,
                                                                  order_at_work: tuple[int, str]) -> None:
    order_id, _ = order_at_work
    page = login(browser, base_url, world, "operator", lang="en")
    page.goto(f"/work-orders/{order_id}")
    expect(page.locator("#order-state")).to_have_text("In progress")
    expect(page.locator('#sla tr[data-step="resolve"] .timer')).to_contain_text("Resolve due in")
    expect(page.locator("#timeline")).to_contain_text("On site → In progress")


def test_the_systems_note_on_an_acknowledged_alarm_reads_in_chinese(browser, base_url: str, world: World,
                                                                    trapped: Callable[..., str]) -> None:
    trapped()
    order_id = open_order_from_alarms(world)
    with api_as(base_url, world, "operator") as operator:
        alarm_id = operator.get(f"/api/v1/work-orders/{order_id}").json()["alarm_id"]
        assert operator.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "已电话联系"}).status_code == 200
    open_order_from_alarms(world)  # dispatch moves the order to ACKED with its own English note
    page = login(browser, base_url, world, "operator")
    page.goto(f"/work-orders/{order_id}")
    expect(page.locator("#timeline")).to_contain_text("报警已确认")
    expect(page.locator("#timeline")).not_to_contain_text("alarm acknowledged")


def test_searching_a_devices_id_finds_its_orders(browser, base_url: str, world: World,
                                                 trapped: Callable[..., str]) -> None:
    device = trapped()
    order_id = open_order_from_alarms(world)
    page = login(browser, base_url, world, "operator")
    page.goto(f"/work-orders?q={device}")
    expect(page.locator(f'article.wo[data-order-id="{order_id}"]')).to_be_visible(timeout=10_000)
    expect(page.locator("article.wo")).to_have_count(1)


def test_the_closed_view_shows_only_the_closed_list(browser, base_url: str, world: World, shot,
                                                    trapped: Callable[..., str]) -> None:
    trapped()
    order_id = open_order_from_alarms(world)
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    expect(page.locator(f'article.wo[data-order-id="{order_id}"]')).to_be_visible(timeout=10_000)
    page.click('#views [data-view="closed"]')
    expect(page.locator("#closed")).to_be_visible(timeout=10_000)
    expect(page.locator("#board")).to_be_hidden()
    expect(page.locator("article.wo")).to_have_count(0)
    shot(page, "wo-05-closed-view-alone")


def test_a_search_leaves_on_the_board_only_the_orders_its_counts_count(browser, base_url: str, world: World, shot,
                                                                       trapped: Callable[..., str]) -> None:
    trapped()
    order_id = open_order_from_alarms(world)
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    expect(page.locator(f'article.wo[data-order-id="{order_id}"]')).to_be_visible(timeout=10_000)
    page.click('#views [data-view="closed"]')
    page.fill("#f-q", "没有这样的工单")
    expect(page.locator("#closed-empty")).to_be_visible(timeout=10_000)
    expect(page.locator("article.wo:visible")).to_have_count(0)
    page.click('#views [data-view="open"]')
    expect(page.locator('#counts [data-count="NEW"]')).to_have_text("0", timeout=10_000)
    expect(page.locator('section.column[data-state="NEW"] h2 .num')).to_have_text("0")
    expect(page.locator("article.wo")).to_have_count(0)
    shot(page, "wo-06-search-empties-the-board")


def test_assigning_with_nobody_picked_asks_for_the_crew_member(browser, base_url: str, world: World, shot,
                                                              trapped: Callable[..., str]) -> None:
    page = assign_dialog(browser, base_url, world, trapped)
    page.click("#wo-dialog-ok")
    expect(page.locator("#wo-dialog-error")).to_have_text("请选择维修人员")
    expect(page.locator("#wo-member")).to_be_focused()
    shot(page, "wo-15-assign-nobody-picked")


def test_the_new_order_form_starts_without_a_category_and_refuses_a_number_that_is_no_phone(
        browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    page.click("#new-ticket summary")
    form = page.locator("#ticket-form")
    expect(form.locator('select[name="category"]')).to_have_value("")
    form.locator('select[name="origin"]').select_option("owner_report")
    form.locator('input[name="address"]').fill("2号楼 屋顶")
    form.locator('textarea[name="description"]').fill("顶楼漏水，天花板渗水")
    form.locator('input[name="reporter_contact"]').fill("13800000000")
    page.click("#ticket-submit")
    expect(page.locator("#ticket-msg")).to_have_text("请选择类别")
    expect(form.locator('select[name="category"]')).to_be_focused()

    form.locator('select[name="category"]').select_option(label="漏水")
    form.locator('input[name="reporter_contact"]').fill("139")
    page.click("#ticket-submit")
    expect(page.locator("#ticket-msg")).to_have_text(re.compile(r"^回访电话格式不正确"))
    shot(page, "wo-16-ticket-phone-refused")

    form.locator('input[name="reporter_contact"]').fill("138-0000-0000")
    page.click("#ticket-submit")
    expect(page.locator("#ticket-msg")).to_have_text(re.compile(r"^✓ WO-"), timeout=10_000)
    expect(form.locator('select[name="category"]')).to_have_value("")


def test_the_operator_records_the_cost_a_verified_order_lacked_for_its_fund_draw(
        browser, base_url: str, world: World, shot, trapped: Callable[..., str]) -> None:
    trapped()
    order_id = open_order_from_alarms(world)
    draw_id = open_emergency_draw(world, order_id=order_id)
    with api_as(base_url, world, "committee") as committee:
        assert committee.post(f"/api/v1/fund/draws/{draw_id}/approve", json={"comment": "同意"}).status_code == 200
    with connect(world.database_url) as conn:  # resolved and verified at ¥0.00, as before resolving asked a cost
        transition(conn, order_id, "RESOLVED", actor=f"crew:{world.crew_member_id}")
        transition(conn, order_id, "VERIFIED", actor="operator")
        conn.commit()
    page = login(browser, base_url, world, "operator")
    page.goto(f"/work-orders/{order_id}")
    expect(page.locator("#cost-needed")).to_have_text("维修资金申请按工单记录的费用完成：请登记人工和配件费用")
    page.click("#record-costs")
    page.click("#costs-ok")
    expect(page.locator("#costs-error")).to_have_text("请填写费用说明")
    page.fill("#costs-note", "按维保单位结算单补登")
    page.fill("#costs-labour", "600")
    page.fill("#costs-parts", "门机皮带 x1 ¥680")
    shot(page, "wo-17-record-costs")
    page.click("#costs-ok")
    expect(page.locator("#cost-total")).to_have_text("1280.00", timeout=10_000)
    expect(page.locator("#cost-needed")).to_have_count(0)
    expect(page.locator('#timeline li[data-kind="cost"]')).to_contain_text("按维保单位结算单补登")
    with api_as(base_url, world, "operator") as operator:
        done = operator.post(f"/api/v1/fund/draws/{draw_id}/complete", json={})
        assert done.status_code == 200 and done.json()["actual_cost"] == "1280.00", done.text
    shot(page, "wo-18-costs-recorded")
