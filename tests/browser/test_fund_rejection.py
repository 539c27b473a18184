"""The owners' committee rejects a fund draw, in a real browser: it gives its reason, the applicant (the control
room) reads the rejection with that reason on the draw's page, and the public board shows the rejected draw with
the reason, the place named as a person reads it. Screenshots: artifacts/screenshots/own-3*."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.world import World, open_emergency_draw, open_order_from_alarms, raise_trapped_alarm

from .conftest import login

pytestmark = pytest.mark.browser
REASON = "报价高于同类维修市场价，请补充两家比价后重新申请"


@pytest.fixture(scope="module")
def pending_draw(world: World) -> int:
    """An emergency draw the control room applied for on a trapped-passenger repair, awaiting the committee."""
    raise_trapped_alarm(world)
    open_order_from_alarms(world)
    return open_emergency_draw(world, estimate="86000.00")


@pytest.fixture
def rejected_draw(world: World, pending_draw: int) -> int:
    """The same draw rejected by the committee with the reason (already so when the browser test ran first)."""
    from dispatch.fund import draws
    from ingest.database import connect

    with connect(world.database_url) as conn:
        draws.reject(conn, pending_draw, actor=world.passwords["committee"][0], role="committee", comment=REASON)
        conn.commit()
    return pending_draw


def test_the_committee_rejects_a_draw_with_its_reason(browser, base_url: str, world: World, pending_draw: int,
                                                      shot) -> None:
    committee = login(browser, base_url, world, "committee")
    committee.goto(f"/fund-approvals/{pending_draw}")
    committee.fill("input.comment", REASON)
    committee.locator("button.reject").click()
    expect(committee.locator("#confirm-detail")).to_have_text(REASON)
    committee.locator("#confirm button.confirm").click()
    expect(committee.locator("#draw")).to_have_attribute("data-state", "rejected")
    expect(committee.locator("#draw-state")).to_have_text("已驳回")
    expect(committee.locator("#draw")).to_contain_text(REASON)
    shot(committee, "own-30-draw-rejected-committee")


def test_the_applicant_reads_the_rejection_and_its_reason(browser, base_url: str, world: World, rejected_draw: int,
                                                          shot) -> None:
    operator = login(browser, base_url, world, "operator")
    operator.goto(f"/fund-approvals/{rejected_draw}")
    expect(operator.locator("#draw-state")).to_have_text("已驳回")
    expect(operator.locator("#draw")).to_contain_text(REASON)
    expect(operator.locator("button.complete")).to_have_count(0)
    shot(operator, "own-31-draw-rejected-applicant")


def test_a_rejected_draw_shows_no_share_table_since_it_charges_nobody(browser, base_url: str, world: World,
                                                                      rejected_draw: int) -> None:
    operator = login(browser, base_url, world, "operator")
    operator.goto(f"/fund-approvals/{rejected_draw}")
    expect(operator.locator("#draw-state")).to_have_text("已驳回")
    expect(operator.locator("#shares")).to_have_count(0)


def test_the_public_board_shows_the_rejected_draw_with_its_reason(browser, base_url: str, world: World,
                                                                  rejected_draw: int, shot) -> None:
    page = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    page.goto(f"/board/{world.site_id}#fund_disclosures")
    rejected = page.locator(f'#fund_disclosures article.draw.rejected[data-draw-id="{rejected_draw}"]')
    expect(rejected).to_contain_text("已驳回")
    expect(rejected.locator(".reason")).to_contain_text(REASON)
    expect(rejected.locator(".reason")).to_contain_text("业主委员会")
    expect(rejected.locator(".scope")).to_have_text("1号楼")
    expect(rejected).not_to_contain_text(world.building_id)
    rejected.scroll_into_view_if_needed()
    shot(page, "own-32-board-rejected-draw")


def test_the_applicants_list_shows_the_rejection_with_the_building_by_name(browser, base_url: str, world: World,
                                                                          rejected_draw: int) -> None:
    operator = login(browser, base_url, world, "operator")
    operator.goto("/fund-approvals?state=rejected")
    card = operator.locator(f'article.draw[data-draw-id="{rejected_draw}"]')
    expect(card).to_have_attribute("data-state", "rejected")
    expect(card.locator(".scope")).to_have_text("1号楼")
    expect(card).not_to_contain_text(world.building_id)
