"""The sub-district's supervision pages in a real browser: companies with their credit, why a company scored as it
did, an inspection recorded, a company black-listed with evidence and published until the public board shows it,
and a month's credit recomputed after a confirmation; the pages with records pass axe-core.

The tests run in file order on one seeded estate (the supervision demo: a company serving it, two inspections and
a "good" opinion last month, last month's credit 83.63, four stars); the list tests follow one entry from draft to
revoked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ingest import registry
from ingest.database import connect
from supervision.schedule import previous_month
from tests.dashboard.world import World

from .conftest import login

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS_AXE_VIOLATIONS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => ['serious', 'critical'].includes(v.impact))
  .map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"""
COMPANY = "甬安物业服务有限公司"
CREDIT_CODE = "91330201730123456Q"


def _company_page(page) -> None:
    page.goto("/supervision")
    page.click(f"#companies a:has-text('{COMPANY}')")
    page.wait_for_url("**/supervision/companies/*")


def _board_badge(browser, base_url: str, world: World):
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    board = context.new_page()
    board.goto(f"/board/{world.site_id}")
    return board, board.locator("#project_manager .list-badge.black")


def test_the_subdistrict_sees_its_companies_with_their_latest_scores(browser, base_url: str, world: World,
                                                                     shot) -> None:
    page = login(browser, base_url, world, "subdistrict")
    page.goto("/supervision")
    row = page.locator("#companies tbody tr", has_text=COMPANY)
    expect(row.locator("td.code")).to_have_text(CREDIT_CODE)
    expect(row.locator("td.score")).to_contain_text("83.63")
    expect(row.locator("td.score .sup-stars")).to_have_attribute("title", "4 / 5")
    expect(row.locator("td.score")).to_contain_text(f"{previous_month(datetime.now(UTC)):%Y-%m}")
    shot(page, "sup-01-companies")


def test_a_company_page_explains_the_score_factor_by_factor(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "subdistrict")
    _company_page(page)
    why = page.locator("#why")
    expect(why.locator("h2")).to_contain_text("83.63")
    expect(why.locator("tr[data-factor=inspections]")).to_contain_text("2 次检查，总分 164.50")
    expect(why.locator("tr[data-factor=inspections] td.num").first).to_have_text("82.25")
    expect(why.locator("tr[data-factor=opinion]")).to_contain_text("良好 1")
    expect(why.locator("tr[data-factor=sla_compliance]")).to_have_class("no-data")
    expect(page.locator("#contracts")).to_contain_text("陈建国")
    expect(page.locator("#history tr[data-month]").first).to_contain_text("83.63")
    shot(page, "sup-02-company")


def test_the_month_under_way_is_marked_as_a_preview(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "subdistrict")
    _company_page(page)
    expect(page.locator("#preview-row")).to_contain_text(f"{datetime.now(UTC) + timedelta(hours=8):%Y-%m}")
    expect(page.locator("#preview-row")).to_contain_text("预览，未公布")


def test_the_subdistrict_records_an_inspection_with_its_findings(browser, base_url: str, world: World,
                                                                 shot) -> None:
    page = login(browser, base_url, world, "subdistrict")
    page.goto("/supervision/inspections")
    water = page.locator("#items li").nth(2)
    water.locator("select[name=result]").select_option("fail")
    water.locator("input[name=remarks]").fill("水箱消毒记录缺 11 月")
    page.fill("#inspection-form input[name=score]", "72.5")
    page.select_option("#inspection-form select[name=rating]", "qualified")
    page.fill("#inspection-form input[name=opinion_text]", "限期补正二次供水记录")
    shot(page, "sup-03-inspection-form")
    page.click("#save-inspection")
    expect(page.locator(".sup-flash")).to_have_text("已保存检查记录")
    newest = page.locator("#inspections tbody tr").first
    expect(newest).to_contain_text("72.50")
    expect(newest.locator(".fail")).to_have_text("二次供水水箱清洗消毒记录：水箱消毒记录缺 11 月")
    expect(newest.locator("td.time")).to_contain_text("UTC+8")
    shot(page, "sup-04-inspection-saved")


def test_an_inspection_dated_after_today_shows_the_apis_refusal(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "subdistrict")
    page.goto("/supervision/inspections")
    with connect(world.database_url) as conn:
        tomorrow = (datetime.now(registry.site_timezone(conn, world.site_id)) + timedelta(days=1)).date()
    day = page.locator("#inspection-form input[name=inspected_on]")
    day.evaluate("input => input.removeAttribute('max')")  # a page left open over midnight
    day.fill(tomorrow.isoformat())
    page.fill("#inspection-form input[name=score]", "90")
    page.click("#save-inspection")
    expect(page.locator("#inspection-form .msg.error")).to_contain_text("after today")


def test_a_black_list_draft_flags_nothing_on_the_board(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "subdistrict")
    page.goto("/supervision/lists")
    page.select_option("#entry-form select[name=company_id]", label=COMPANY)
    page.select_option("#entry-form select[name=list]", "black")
    page.fill("#entry-form input[name=reason]", "电梯困人故障连续三个月未按时处置")
    page.fill("#entry-form textarea[name=evidence]", "2026 年 9–11 月困人工单超时 4 次，见街道检查记录")
    page.fill("#entry-form textarea[name=evidence_links]", "https://example.org/jiancha/2026-11.pdf")
    page.click("#save-entry")
    draft = page.locator("#entries tbody tr").first
    expect(draft).to_have_attribute("data-state", "draft")
    expect(draft).to_contain_text("电梯困人故障连续三个月未按时处置")
    board, badge = _board_badge(browser, base_url, world)
    expect(board.locator("#project_manager")).to_contain_text(COMPANY)
    expect(badge).to_have_count(0)


def test_publishing_the_black_list_entry_puts_the_badge_on_the_public_board(browser, base_url: str, world: World,
                                                                           shot) -> None:
    page = login(browser, base_url, world, "subdistrict")
    page.goto("/supervision/lists")
    page.locator("#entries tbody tr[data-state=draft] button.publish").first.click()
    expect(page.locator("#sup-confirm")).to_be_visible()
    page.click("#sup-confirm-ok")
    entry = page.locator("#entries tbody tr").first
    expect(entry).to_have_attribute("data-state", "in_effect")
    expect(entry.locator("td.time")).to_contain_text("UTC+8")
    shot(page, "sup-05-black-list-published")
    page.goto("/supervision")
    expect(page.locator("#companies tr", has_text=COMPANY).locator(".sup-badge.black")).to_be_visible()
    board, badge = _board_badge(browser, base_url, world)
    expect(badge).to_have_text("黑名单")
    shot(board, "sup-06-board-black-badge")


def test_revoking_needs_a_reason_and_takes_the_badge_off_the_board(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "subdistrict")
    page.goto("/supervision/lists")
    page.locator("#entries tbody tr[data-state=in_effect] button.revoke").first.click()
    page.click("#sup-confirm-ok")
    expect(page.locator("#sup-confirm-error")).to_have_text("请填写原因")
    page.fill("#sup-confirm textarea[name=reason]", "企业已整改，经复查合格")
    page.click("#sup-confirm-ok")
    entry = page.locator("#entries tbody tr").first
    expect(entry).to_have_attribute("data-state", "revoked")
    expect(entry).to_contain_text("企业已整改，经复查合格")
    _, badge = _board_badge(browser, base_url, world)
    expect(badge).to_have_count(0)


def test_recomputing_a_month_asks_first_and_reports_the_score(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "subdistrict")
    _company_page(page)
    month = f"{previous_month(datetime.now(UTC)):%Y-%m}"
    page.fill("#recompute-form input[name=month]", month)
    page.click("#recompute-form button")
    expect(page.locator("#sup-confirm-text")).to_contain_text(month)
    shot(page, "sup-07-recompute-confirm")
    page.click("#sup-confirm-ok")
    expect(page.locator(".sup-flash")).to_have_text(f"已重新计算：{month} 83.63")


def test_a_months_opinion_replaces_the_earlier_one(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "subdistrict")
    _company_page(page)
    month = f"{previous_month(datetime.now(UTC)):%Y-%m}"
    page.fill("#opinion-form input[name=month]", month)
    page.select_option("#opinion-form select[name=rating]", "excellent")
    page.fill("#opinion-form input[name=text]", "二次供水记录已补正")
    page.click("#opinion-form button")
    expect(page.locator(".sup-flash")).to_have_text("已保存")
    given = page.locator("#opinions p", has_text=month)
    expect(given).to_have_count(1)
    expect(given).to_contain_text("优秀")


def test_the_company_page_reads_in_english(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "subdistrict", lang="en")
    _company_page(page)
    expect(page.locator("#why h2")).to_contain_text("Why it scored so")
    expect(page.locator("#why tr[data-factor=inspections]")).to_contain_text("2 inspections, scores adding up to")
    expect(page.locator("#preview-row")).to_contain_text("preview, not published")
    shot(page, "sup-08-company-english")


def test_the_english_inspection_page_names_the_estate_in_english(browser, base_url: str, world: World) -> None:
    with connect(world.database_url) as conn:
        site = registry.get_site(conn, world.site_id)
    assert site is not None and site.name_en
    page = login(browser, base_url, world, "subdistrict", lang="en")
    page.goto("/supervision/inspections")
    expect(page.locator(f'#inspection-form select[name=site_id] option[value="{world.site_id}"]')).to_have_text(
        site.name_en)


def test_no_supervision_page_scrolls_sideways_on_a_phone(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "subdistrict", mobile=True)
    _company_page(page)
    pages = {"company": page.url.removeprefix(base_url), "companies": "/supervision",
             "inspections": "/supervision/inspections", "lists": "/supervision/lists"}
    for n, (name, path) in enumerate(pages.items(), start=9):
        page.goto(path)
        shot(page, f"sup-{n:02d}-{name}-phone")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 375, name


def test_an_admin_reads_the_lists_without_the_keepers_forms(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/supervision/lists")
    expect(page.locator("#entries tbody tr").first).to_have_attribute("data-state", "revoked")
    expect(page.locator("#entry-form")).to_have_count(0)
    expect(page.locator("#entries button")).to_have_count(0)


def test_the_pages_with_records_have_no_serious_axe_violation(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "subdistrict")
    _company_page(page)
    found = []
    for path in ("/supervision/lists", "/supervision/inspections", page.url.removeprefix(base_url)):
        page.goto(path)
        page.add_script_tag(path=str(AXE))
        found += [f"{path}: {v}" for v in page.evaluate(SERIOUS_AXE_VIOLATIONS)]
    assert not found, "\n".join(found)
