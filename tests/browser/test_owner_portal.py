"""The owners' portal on a 375-px phone and the committee's votes page, in a real browser: an owner votes in an
open vote and reads the result once the committee closes it; an owner files a report and follows it; the fund
page shows the yearly statements and the draws that charged the home. Screenshots: artifacts/screenshots/own-*."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.world import World

from .conftest import login

pytestmark = pytest.mark.browser
PHONE_WIDTH = 375


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_an_owner_votes_and_reads_the_result_the_committee_publishes(browser, base_url: str, world: World,
                                                                    shot) -> None:
    # The committee opens a vote on using the fund.
    committee = login(browser, base_url, world, "committee")
    committee.goto("/votes")
    committee.select_option("#matter", "use")
    committee.fill("#vote-title", "2号楼外墙修缮使用维修资金")
    committee.click("#open-vote")
    vote = committee.locator('article.vote[data-state="open"]', has_text="2号楼外墙修缮使用维修资金")
    expect(vote).to_be_visible()
    expect(vote.locator(".turnout")).to_contain_text("0/")
    vote_id = vote.get_attribute("data-vote-id")
    shot(committee, "own-10-votes-committee")

    # The owner votes yes on a phone, and may change it until the close.
    owner = login(browser, base_url, world, "owner", mobile=True)
    owner.goto("/my-votes")
    card = owner.locator(f'article.vote[data-vote-id="{vote_id}"]')
    card.locator("button.choice.no").click()
    expect(card).to_have_attribute("data-choice", "no")
    card.locator("button.choice.yes").click()
    expect(card).to_have_attribute("data-choice", "yes")
    expect(card.locator(".my-choice")).to_have_text("同意")
    assert fits_the_phone(owner)
    shot(owner, "own-11-my-vote-cast")

    # The committee sees the turnout, closes the vote after confirming, and the result is published.
    committee.reload()
    expect(vote.locator(".turnout")).to_contain_text("1/")
    vote.locator("button.close-vote").click()
    committee.locator("#confirm button.confirm").click()
    closed = committee.locator(f'article.vote[data-vote-id="{vote_id}"]')
    expect(closed).to_have_attribute("data-state", "closed")
    expect(closed.locator(".outcome")).to_contain_text("参与不足")

    owner.reload()
    expect(card).to_have_attribute("data-state", "closed")
    expect(card.locator(".outcome")).to_contain_text("参与不足")
    expect(card.locator("button.choice")).to_have_count(0)
    assert fits_the_phone(owner)
    shot(owner, "own-12-my-vote-result")


def test_an_owner_who_voted_against_reads_the_households_not_in_favour(browser, base_url: str, world: World,
                                                                     shot) -> None:
    committee = login(browser, base_url, world, "committee")
    committee.goto("/votes")
    committee.select_option("#matter", "use")
    committee.fill("#vote-title", "地下车库照明改造使用维修资金")
    committee.click("#open-vote")
    vote = committee.locator('article.vote[data-state="open"]', has_text="地下车库照明改造使用维修资金")
    vote_id = vote.get_attribute("data-vote-id")
    owner = login(browser, base_url, world, "owner", mobile=True)
    owner.goto("/my-votes")
    card = owner.locator(f'article.vote[data-vote-id="{vote_id}"]')
    card.locator("button.choice.no").click()
    expect(card).to_have_attribute("data-choice", "no")
    committee.reload()
    vote.locator("button.close-vote").click()
    committee.locator("#confirm button.confirm").click()
    closed = committee.locator(f'article.vote[data-vote-id="{vote_id}"]')
    expect(closed.locator("tr.not-yes td").first).to_have_text("1")

    owner.reload()
    expect(card.locator(".my-choice")).to_have_text("反对")
    expect(card.locator("tr.not-yes")).to_contain_text("反对或弃权")
    expect(card.locator("tr.not-yes td").first).to_have_text("1")
    assert fits_the_phone(owner)
    shot(owner, "own-13-my-vote-against")


def test_an_owner_files_a_report_and_sees_it_listed(browser, base_url: str, world: World, shot) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True)
    owner.goto("/my-reports")
    owner.select_option("#category", "noise")
    owner.fill("#description", "楼上每晚十一点后装修噪声")
    owner.fill("#contact", "13800000000")
    owner.click("#send-report")
    report = owner.locator("#reports li", has_text="楼上每晚十一点后装修噪声")
    expect(report).to_be_visible()
    expect(report.locator(".state")).to_have_text("新建")
    expect(report).to_contain_text("UTC+8")
    assert fits_the_phone(owner)
    shot(owner, "own-13-my-reports")


def test_a_report_without_a_description_is_not_sent(browser, base_url: str, world: World) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True)
    owner.goto("/my-reports")
    before = owner.locator("#reports li").count()
    owner.select_option("#category", "garbage")
    owner.click("#send-report")
    assert owner.locator("#description").evaluate("e => !e.validity.valid")
    expect(owner.locator("#reports li")).to_have_count(before)


def test_the_fund_page_lists_statements_and_the_draws_that_charged_my_home(browser, base_url: str, world: World,
                                                                          shot) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True)
    expect(owner.locator("#balance")).to_contain_text("¥")
    expect(owner.locator("#charged .draw-line").first).to_contain_text("¥")
    href = owner.locator("#statements a.csv").first.get_attribute("href")
    assert re.fullmatch(r"/api/v1/owners/me/fund/statement/\d{4}\?format=csv&lang=zh", href)
    response = owner.request.get(href)
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    expect(owner.locator(".accounts .disclosure[data-state=published]").first).to_contain_text("已公布")
    assert fits_the_phone(owner)
    shot(owner, "own-14-my-fund")


def test_the_json_statement_is_labelled_as_a_data_download(browser, base_url: str, world: World) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True)
    data = owner.locator("#statements a.json").first
    expect(data).to_have_text("下载 JSON 数据")
    expect(data).to_have_attribute("download", re.compile(r"^fund-.+-\d{4}\.json$"))


def test_the_ledger_words_what_the_system_recorded_in_chinese(browser, base_url: str, world: World, shot) -> None:
    # The demo's deposits and interest were stored with memos like "首次交存 first deposit" (issue 21).
    owner = login(browser, base_url, world, "owner", mobile=True)
    ledger = owner.locator("#ledger")
    expect(ledger).to_contain_text("首次交存")
    expect(ledger).to_contain_text("结息")
    expect(ledger).to_contain_text("电梯安全责任保险")
    assert not re.search(r"[A-Za-z]", ledger.inner_text())
    shot(owner, "own-25-my-fund-ledger-zh")


def test_the_ledger_words_what_the_system_recorded_in_english(browser, base_url: str, world: World, shot) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True, lang="en")
    ledger = owner.locator("#ledger")
    expect(ledger).to_contain_text("First deposit")
    expect(ledger).to_contain_text("Interest credited")
    expect(ledger).to_contain_text("Elevator safety liability insurance")
    expect(ledger).not_to_contain_text("首次交存")
    expect(ledger).not_to_contain_text("结息")
    shot(owner, "own-26-my-fund-ledger-en")


def test_the_sub_district_reads_votes_but_opens_none_where_a_committee_exists(browser, base_url: str,
                                                                               world: World) -> None:
    page = login(browser, base_url, world, "subdistrict")
    page.goto("/votes")
    expect(page.locator("article.vote").first).to_be_visible()
    expect(page.locator("#new-vote")).to_have_count(0)
    expect(page.locator("button.close-vote")).to_have_count(0)
    expect(page.locator(".accounts .shared")).to_contain_text("¥")


def test_the_owner_pages_read_in_english(browser, base_url: str, world: World, shot) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True, lang="en")
    owner.goto("/my-votes")
    expect(owner.locator("article.vote").first).to_contain_text("My household's choice")
    owner.goto("/my-fund")
    expect(owner.locator("#charged h2")).to_have_text("Repairs charged to my home")
    assert fits_the_phone(owner)
    shot(owner, "own-15-my-fund-english")


def test_the_fund_page_names_my_home_not_its_registry_id(browser, base_url: str, world: World) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True)
    owner.goto("/my-fund")
    expect(owner.locator("h2 .home")).to_have_text("1号楼 1单元 101")
    assert world.building_id not in owner.inner_text("main")


def test_an_english_reader_reads_the_home_as_building_unit_and_room(browser, base_url: str, world: World) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True, lang="en")
    owner.goto("/my-fund")
    expect(owner.locator("h2 .home")).to_have_text("Bldg 1, Unit 1, Room 101")


def test_a_report_proposes_my_home_by_name_as_its_location(browser, base_url: str, world: World) -> None:
    owner = login(browser, base_url, world, "owner", mobile=True)
    owner.goto("/my-reports")
    expect(owner.locator("#address")).to_have_value("1号楼 1单元 101")


def test_the_committee_sees_the_electorate_of_the_scope_it_picks(browser, base_url: str, world: World,
                                                                 shot) -> None:
    committee = login(browser, base_url, world, "committee")
    committee.goto("/votes")
    expect(committee.locator("#electorate")).to_contain_text("参加表决：24 户")
    committee.select_option("#vote-scope", label="1号楼 1单元")
    expect(committee.locator("#electorate")).to_contain_text("参加表决：12 户")
    shot(committee, "own-16-vote-scope")


def test_a_vote_opened_for_one_unit_reaches_its_homes_only(browser, base_url: str, world: World, shot) -> None:
    committee = login(browser, base_url, world, "committee")
    committee.goto("/votes")
    committee.select_option("#matter", "use")
    committee.select_option("#vote-scope", label="1号楼 1单元")
    committee.fill("#vote-title", "1单元楼道照明更换使用维修资金")
    committee.click("#open-vote")
    vote = committee.locator('article.vote[data-state="open"]', has_text="1单元楼道照明更换使用维修资金")
    expect(vote.locator(".scope")).to_have_text("1号楼 1单元")
    expect(vote.locator(".turnout")).to_contain_text("0/12")
    owner = login(browser, base_url, world, "owner", mobile=True)  # the owner's home is in unit 1
    owner.goto("/my-votes")
    card = owner.locator(f'article.vote[data-vote-id="{vote.get_attribute("data-vote-id")}"]')
    expect(card.locator(".scope")).to_have_text("1号楼 1单元")
    shot(owner, "own-17-my-vote-unit-scope")
