"""Fund draws in a real browser: the control room applies for a draw from a work order after previewing each
home's share, the owners' committee approves it with a reason, the control room completes it at the verified
order's cost, and the public board discloses it. Screenshots go to artifacts/screenshots/own-*."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.dashboard.world import World, on_site, open_emergency_draw, open_order_from_alarms, verify_repair

from .conftest import login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def assessed_order(world: World, engine) -> int:
    """A trapped-passenger work order (fund category elevator) whose crew is on site: a draw may be applied for."""
    from datetime import UTC, datetime

    from ingest.records import Batch, DeviceEvent

    now = datetime.now(UTC)
    engine.process(Batch(events=[DeviceEvent(world.elevator_id, now, "trapped", seq=1)]), now=now)
    order_id = open_order_from_alarms(world)
    on_site(world, order_id)
    return order_id


def assessed_order_on_a_new_lift(world: World, engine, lift: str) -> int:
    """A trapped passenger in a lift added for this test, and its work order with the crew on site."""
    from datetime import UTC, datetime

    from ingest import registry
    from ingest.database import connect
    from ingest.records import Batch, DeviceEvent

    device = f"{world.building_id}-{lift}"
    with connect(world.database_url) as conn:
        registry.upsert_device(conn, registry.Device(device, world.site_id, "elevator", lift,
                                                     building_id=world.building_id))
        conn.commit()
    now = datetime.now(UTC)
    engine.process(Batch(events=[DeviceEvent(device, now, "trapped", seq=1)]), now=now)
    order_id = open_order_from_alarms(world)
    on_site(world, order_id)
    return order_id


def pending_draw_on_a_new_lift(world: World, engine, lift: str) -> tuple[int, int]:
    """An emergency draw for a new lift's repair pending the committee's review: (draw id, order id)."""
    from dispatch.fund import draws
    from ingest.database import connect

    order_id = assessed_order_on_a_new_lift(world, engine, lift)
    with connect(world.database_url) as conn:
        draw = draws.open_emergency_draw(conn, site_id=world.site_id, work_order_id=order_id, item=f"{lift}抢修",
                                         contractor="维保公司", scope_type="building", scope_id=world.building_id,
                                         estimate=Decimal("1200.00"), actor="operator")
        conn.commit()
    return draw.id, order_id


def apply_for_draw(page, order_id: int, estimate: str) -> None:
    page.goto("/fund-approvals/apply")
    page.select_option("#work-order", str(order_id))
    page.fill("#item", "1号楼电梯困人抢修 更换门机")
    page.fill("#contractor", "某电梯维保有限公司")
    page.fill("#estimate", estimate)
    page.click("#preview-btn")


def test_the_operator_sees_each_homes_share_before_applying(browser, base_url: str, world: World,
                                                           assessed_order: int, shot) -> None:
    operator = login(browser, base_url, world, "operator")
    apply_for_draw(operator, assessed_order, "8600.00")
    expect(operator.locator("#shares-total")).to_have_text("¥8600.00")
    assert operator.locator("#shares tr").count() > 3
    shot(operator, "own-01-draw-preview")


def test_the_scope_is_picked_by_name_and_starts_at_the_orders_building(browser, base_url: str, world: World,
                                                                      assessed_order: int, shot) -> None:
    operator = login(browser, base_url, world, "operator")
    operator.goto("/fund-approvals/apply")
    operator.select_option("#work-order", str(assessed_order))
    assert operator.locator("#scope").input_value() == f"building:{world.building_id}"
    expect(operator.locator("#scope option:checked")).to_have_text(re.compile(r"^1号楼 · \d+ 户$"))
    places = operator.locator("#scope option").all_text_contents()
    assert re.fullmatch(r"全小区 · \d+ 户", places[0])
    assert any(re.fullmatch(r"1号楼 1单元 · \d+ 户", place) for place in places)
    assert not [place for place in places if world.building_id in place]
    shot(operator, "own-20-draw-scope-picker")


def test_a_scope_without_homes_warns_and_cannot_be_submitted(browser, base_url: str, world: World,
                                                            assessed_order: int, shot) -> None:
    # What the outsider met typing "1号楼" as a scope id: no homes, and yet a submit and "¥180.00 = ¥0.00".
    operator = login(browser, base_url, world, "operator")
    operator.goto(f"/fund-approvals/apply?work_order_id={assessed_order}&scope=building:1号楼&estimate=180"
                  "&item=门锁开关更换&contractor=电梯维保单位")
    expect(operator.locator("#scope-empty")).to_have_text("所选范围内没有房屋，无法分摊；请另选范围")
    expect(operator.locator("#submit-draw")).to_have_count(0)
    expect(operator.locator("#shares")).to_have_count(0)
    shot(operator, "own-21-draw-scope-empty")


def test_an_amount_that_is_not_money_is_refused_before_any_preview(browser, base_url: str, world: World,
                                                                  assessed_order: int) -> None:
    operator = login(browser, base_url, world, "operator")
    operator.goto(f"/fund-approvals/apply?work_order_id={assessed_order}&estimate=12.345&item=x&contractor=y")
    expect(operator.locator("#bad-estimate")).to_be_visible()
    expect(operator.locator("#shares")).to_have_count(0)


def test_an_application_the_fund_refuses_shows_the_reason_in_chinese(browser, base_url: str, world: World,
                                                                     assessed_order: int, shot) -> None:
    operator = login(browser, base_url, world, "operator")
    operator.goto("/fund-approvals/apply")
    operator.select_option("#work-order", str(assessed_order))
    operator.select_option("#kind", "authorised")
    operator.fill("#item", "电梯门机大修")
    operator.fill("#contractor", "某电梯维保有限公司")
    operator.fill("#estimate", "50000.00")
    operator.click("#preview-btn")
    operator.click("#submit-draw")
    expect(operator.locator("form#apply .msg")).to_have_text("超出授权金额，须经业主表决")
    expect(operator).to_have_url(re.compile(r"/fund-approvals/apply\?"))
    shot(operator, "own-06-draw-refused")


def test_a_draw_goes_from_application_to_approval_completion_and_the_public_board(
        browser, base_url: str, world: World, assessed_order: int, shot) -> None:
    # The operator applies from the previewed form and lands on the draw, pending the committee's review.
    operator = login(browser, base_url, world, "operator")
    apply_for_draw(operator, assessed_order, "8600.00")
    operator.click("#submit-draw")
    expect(operator).to_have_url(re.compile(r"/fund-approvals/\d+$"))
    draw_id = int(operator.url.rsplit("/", 1)[1])
    expect(operator.locator("#draw")).to_have_attribute("data-state", "pending")
    expect(operator.locator("#review-due")).to_contain_text("24:00 UTC+8")
    expect(operator.locator("#time-left")).to_have_text(re.compile(r"^剩余 (\d+ 天 )?\d+小时[0-5]\d分$"))
    shot(operator, "own-02-draw-applied")

    # The committee reviews it from its list and approves with a reason after confirming.
    committee = login(browser, base_url, world, "committee")
    card = committee.locator(f'article.draw[data-draw-id="{draw_id}"]')
    card.locator("input.comment").fill("同意按应急程序使用维修资金")
    card.locator("button.approve").click()
    expect(committee.locator("#confirm")).to_be_visible()
    shot(committee, "own-03-approve-confirm")
    committee.locator("#confirm button.confirm").click()
    expect(committee.locator(f'article.draw[data-draw-id="{draw_id}"]')).to_have_attribute("data-state", "approved")

    # The repair is verified at ¥450.00; the operator completes the draw at that cost, shares summing to it.
    verify_repair(world, assessed_order, "450.00")
    operator.reload()
    operator.click("#complete")
    operator.locator("#confirm button.confirm").click()
    expect(operator.locator("#draw")).to_have_attribute("data-state", "completed")
    expect(operator.locator("#actual-cost")).to_have_text("¥450.00")
    expect(operator.locator("#shares-total")).to_have_text("¥450.00")
    shot(operator, "own-04-draw-completed")

    # The public board, without signing in, discloses it.
    operator.click("#board-link")
    expect(operator.locator(f'article.draw[data-draw-id="{draw_id}"] .total')).to_have_text("¥450.00")
    shot(operator, "own-05-board-disclosure")


def test_the_draws_steps_read_in_the_readers_language(browser, base_url: str, world: World,
                                                      assessed_order: int, shot) -> None:
    from dispatch.fund.draws import list_draws
    from ingest.database import connect

    with connect(world.database_url) as conn:  # the order's draw, when another test applied for it already
        drawn = [d.id for d in list_draws(conn, site_id=world.site_id) if d.work_order_id == assessed_order]
    draw_id = drawn[0] if drawn else open_emergency_draw(world, order_id=assessed_order)
    operator = login(browser, base_url, world, "operator")
    operator.goto(f"/fund-approvals/{draw_id}")
    opened = operator.locator("#steps tr").nth(1)
    expect(opened).to_contain_text(re.compile(r"应急使用，预算 ¥\d+\.\d\d"))
    expect(operator.locator("#steps")).not_to_contain_text("estimate")
    shot(operator, "own-07-draw-steps-zh")
    english = login(browser, base_url, world, "operator", lang="en")
    english.goto(operator.url)
    expect(english.locator("#steps tr").nth(1)).to_contain_text(re.compile(r"Emergency; estimate ¥\d+\.\d\d"))
    expect(english.locator("#steps")).not_to_contain_text("预算")
    shot(english, "own-08-draw-steps-en")


def test_a_rejection_without_a_reason_is_not_sent(browser, base_url: str, world: World, engine) -> None:
    draw_id, _ = pending_draw_on_a_new_lift(world, engine, "EL77")
    committee = login(browser, base_url, world, "committee")
    committee.goto(f"/fund-approvals/{draw_id}")
    committee.locator("button.reject").click()
    expect(committee.locator("#confirm")).not_to_be_visible()
    assert committee.locator("input.comment").evaluate("e => e.validationMessage") == "请填写理由"
    expect(committee.locator("#draw")).to_have_attribute("data-state", "pending")


def test_approving_without_a_reason_says_so_at_the_field(browser, base_url: str, world: World, engine,
                                                         shot) -> None:
    draw_id, _ = pending_draw_on_a_new_lift(world, engine, "EL79")
    committee = login(browser, base_url, world, "committee")
    committee.goto(f"/fund-approvals/{draw_id}")
    committee.locator("button.approve").click()
    expect(committee.locator("#reason-needed")).to_be_visible()
    expect(committee.locator("#reason-needed")).to_have_text("请填写理由")
    expect(committee.locator("#confirm")).not_to_be_visible()
    shot(committee, "own-22-approve-without-reason")


def test_a_draw_whose_order_records_no_cost_links_to_the_order_instead_of_completing(
        browser, base_url: str, world: World, engine, shot) -> None:
    from dispatch.fund import draws
    from dispatch.workorders import transition
    from ingest.database import connect

    draw_id, order_id = pending_draw_on_a_new_lift(world, engine, "EL80")
    with connect(world.database_url) as conn:
        draws.approve(conn, draw_id, actor=world.passwords["committee"][0], role="committee", comment="同意")
        transition(conn, order_id, "RESOLVED", actor=f"crew:{world.crew_member_id}")
        transition(conn, order_id, "VERIFIED", actor="operator")
        conn.commit()
    operator = login(browser, base_url, world, "operator")
    operator.goto(f"/fund-approvals/{draw_id}")
    expect(operator.locator("#no-cost")).to_contain_text("工单尚未记录维修费用")
    expect(operator.locator("#order-link")).to_have_attribute("href", f"/work-orders/{order_id}")
    expect(operator.locator("#complete")).to_have_count(0)
    shot(operator, "own-23-draw-no-cost")


def test_the_draws_list_leaves_out_an_empty_field_rather_than_doubling_the_separator(
        browser, base_url: str, world: World, shot) -> None:
    committee = login(browser, base_url, world, "committee")
    facts = committee.locator("#draws .facts").all_text_contents()
    assert not [line for line in facts if re.search(r"·\s*·", line)]
    voted = [line for line in facts if "46850.00" in line]  # the demo's voted roof repair has no work order
    assert [" ".join(line.split()) for line in voted] == ["金额(元): ¥46850.00 · 示例防水工程有限公司"]
    shot(committee, "own-24-draws-list")


def test_the_board_words_an_insurance_purchase_in_the_readers_language(browser, base_url: str, world: World) -> None:
    # The library names an insurance draw itself, in two languages ("电梯安全责任保险 elevator safety liability …").
    page = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    page.goto(f"/board/{world.site_id}#fund_disclosures")
    disclosures = page.locator("#fund_disclosures")
    expect(disclosures).to_contain_text("电梯安全责任保险")
    expect(disclosures).not_to_contain_text("elevator safety liability")


def test_the_list_filters_draws_by_state(browser, base_url: str, world: World) -> None:
    committee = login(browser, base_url, world, "committee")
    committee.select_option("#state-filter", "completed")
    expect(committee).to_have_url(re.compile(r"state=completed"))
    states = committee.locator("article.draw").evaluate_all("cards => cards.map(c => c.dataset.state)")
    assert states and set(states) == {"completed"}


def test_without_a_committee_the_sub_district_applies_and_decides(browser, base_url: str, world: World,
                                                                  engine, shot) -> None:
    # Last in this module: the estate loses its committee (notice clause 16: the sub-district office steps in).
    from dispatch.fund import estate
    from ingest.database import connect

    with connect(world.database_url) as conn:
        estate.configure_site(conn, world.site_id, has_committee=False, actor="admin")
        conn.commit()
    order_id = assessed_order_on_a_new_lift(world, engine, "EL78")

    office = login(browser, base_url, world, "subdistrict")
    apply_for_draw(office, order_id, "3000.00")
    office.click("#submit-draw")
    expect(office).to_have_url(re.compile(r"/fund-approvals/\d+$"))
    expect(office.locator("#draw")).to_contain_text("街道办事处")
    office.locator("input.comment").fill("无业委会，街道审核同意")
    office.locator("button.approve").click()
    office.locator("#confirm button.confirm").click()
    expect(office.locator("#draw")).to_have_attribute("data-state", "approved")
    shot(office, "own-07-subdistrict-approved")
