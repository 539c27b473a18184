"""The public information board in a real browser: desktop, a 375 px phone, and the printed A4 poster; an
owner booking a home service from a phone, and the service centre confirming a booking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from dispatch.fund import estate
from ingest.database import connect
from services import bookings, catalog
from tests.dashboard.world import World

from .conftest import login

pytestmark = pytest.mark.browser

SECTIONS = ("project_manager", "complaint_phones", "service_standards", "fee_standards", "maintenance_units",
            "parking", "utility_apportionment", "fee_income_spending", "shared_income_spending",
            "elevator_spending", "fund_disclosures", "vote_results", "annual_disclosures")


def _book_home_repair(world: World, *, days: int, note: str) -> bookings.Booking:
    """The first home's one-hour in-home repair booked ``days`` ahead, as the owner's phone would book it."""
    with connect(world.database_url) as conn:
        service = next(s for s in catalog.list_services(conn, world.site_id) if s.code == "home_repair")
        household = estate.list_households(conn, world.site_id)[0]
        start = datetime.now(UTC) + timedelta(days=days)
        made = bookings.book(conn, service_id=service.id, household_id=household.id, site_id=world.site_id,
                             slot_start=start, slot_end=start + timedelta(hours=1), note=note, actor="owner")
        conn.commit()
    return made


def _open(browser, base_url: str, world: World, **options):
    context = browser.new_context(base_url=base_url, locale="zh-CN", **options)
    page = context.new_page()
    page.goto(f"/board/{world.site_id}")
    return page


def test_the_board_shows_every_section_on_a_desktop(browser, base_url: str, world: World, shot) -> None:
    page = _open(browser, base_url, world, viewport={"width": 1366, "height": 860})
    for key in SECTIONS:
        assert page.locator(f"section[data-section='{key}'] h2").is_visible(), key
    assert "电梯维修保养支出情况" in page.inner_text("#elevator_spending")
    shot(page, "board-desktop")


def test_the_board_fits_a_375_px_phone(browser, base_url: str, world: World, shot) -> None:
    page = _open(browser, base_url, world, viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    shot(page, "board-phone")
    wide = page.evaluate("""[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 376)
                            .slice(0, 5).map(e => `${e.tagName}.${e.className}#${e.id}`)""")
    assert not wide, f"wider than the phone: {wide}"
    assert page.locator("#complaint_phones a.phone[href^='tel:']").count() >= 3


def test_the_printed_board_is_an_a4_poster_without_navigation(browser, base_url: str, world: World, shot) -> None:
    page = _open(browser, base_url, world, viewport={"width": 794, "height": 1123})
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator(".print-link").is_visible()
    for key in SECTIONS:
        assert page.locator(f"section[data-section='{key}']").is_visible(), key
    shot(page, "board-print")
    pdf = page.pdf(format="A4", print_background=True)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    print(f"\nthe printed board: {pages} A4 pages, {len(pdf)} bytes")
    assert pdf[:4] == b"%PDF" and 1 <= pages <= 4


def test_the_public_login_lands_on_its_estates_board(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "public", mobile=True)
    assert page.url.endswith(f"/board/{world.site_id}")
    assert page.locator("section[data-section='parking']").is_visible()


def test_an_owner_books_a_home_service_on_a_phone_and_cancels_it(browser, base_url: str, world: World,
                                                                  shot) -> None:
    page = login(browser, base_url, world, "owner", mobile=True)
    page.goto("/my-services")
    page.select_option("#book-form select[name=service_id]", label="家政保洁 · ¥45.00 元/小时")
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    page.fill("#book-form input[name=date]", tomorrow)
    page.fill("#book-form input[name=note]", "厨房和阳台")
    page.click("#book-button")
    booked = page.locator("li.booking[data-state=requested]").first
    expect(booked).to_contain_text("家政保洁")
    expect(booked).to_contain_text("¥45.00")
    shot(page, "owner-booking-phone")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    booked.locator("button.cancel-booking").click()
    expect(page.locator("li.booking[data-state=cancelled]").first).to_contain_text("已取消")


def test_the_service_centre_confirms_a_booking_and_records_it_done(browser, base_url: str, world: World,
                                                                   shot) -> None:
    made = _book_home_repair(world, days=3, note="卫生间漏水")
    page = login(browser, base_url, world, "operator")
    page.goto("/service-desk")
    row = page.locator(f"tr.booking[data-booking-id='{made.id}']")
    row.locator("button[data-action=confirm]").click()
    expect(page.locator(f"tr.booking[data-booking-id='{made.id}']")).to_have_attribute("data-state", "confirmed")
    shot(page, "service-desk")
    page.locator(f"tr.booking[data-booking-id='{made.id}'] button[data-action=done]").click()
    expect(page.locator(f"tr.booking[data-booking-id='{made.id}']")).to_have_attribute("data-state", "done")


def test_an_operator_keeps_the_boards_items_up_to_date(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/board-items")
    parking = page.locator("form[data-url$='/parking']")
    parking.locator("input[name=sold]").fill("270")
    parking.locator("input[name=rented]").fill("105")
    parking.locator("button").click()
    expect(parking.locator(".msg")).to_have_text("✓")
    adjust = page.locator("form[data-url$='/prices']")
    adjust.locator("select[name=service_id]").select_option(label="居家养老上门探访 · ¥60.00 元/次")
    adjust.locator("input[name=price]").fill("65.00")
    adjust.locator("input[name=effective_from]").fill(datetime.now(UTC).date().isoformat())
    adjust.locator("input[name=basis]").fill("物业服务合同补充协议第三条，2026年业主大会决议第4号")
    adjust.locator("button").click()
    expect(adjust.locator(".msg")).to_have_text("✓")
    shot(page, "board-upkeep")
    page.goto(f"/board/{world.site_id}")
    expect(page.locator("#parking")).to_contain_text("270")
    expect(page.locator("#service_standards .price-changes")).to_contain_text("业主大会决议第4号")


def test_the_public_role_signs_out_from_its_board(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "public", mobile=True)
    sign_out = page.locator("header.top form[action='/logout'] button")
    expect(sign_out).to_have_text("退出")
    shot(page, "board-public-signed-in")
    sign_out.click()
    page.wait_for_url("**/login")
    page.goto(f"/board/{world.site_id}")
    expect(page.locator("header.top form[action='/logout']")).to_have_count(0)


def test_a_slot_in_the_past_is_refused_in_the_owners_language(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "owner", mobile=True)
    page.goto("/my-services")
    today = page.locator("#book-form input[name=date]").get_attribute("min")
    page.fill("#book-form input[name=date]", today)
    page.fill("#book-form input[name=time]", "00:00")
    page.click("#book-button")
    expect(page.locator("#book-msg")).to_have_text("预约时间须至少在一小时之后")
    shot(page, "owner-booking-refused")


def test_the_form_offers_whole_units_of_a_service_priced_per_two_hours(browser, base_url: str, world: World) -> None:
    with connect(world.database_url) as conn:
        catalog.create_service(conn, world.site_id, catalog.NewService(
            code="deep_clean", kind="extra", name="深度保洁", content="全屋深度清洁", standard="两人上门",
            price=Decimal("90.00"), unit="元/2小时", basis="补充协议第六条", effective_from=date(2025, 1, 1),
            bookable=True), actor="operator", role="operator")
        conn.commit()
    page = login(browser, base_url, world, "owner", mobile=True)
    page.goto("/my-services")
    page.select_option("#book-service", label="深度保洁 · ¥90.00 元/2小时")
    assert page.locator("#book-hours option").all_inner_texts() == ["2", "4", "6", "8"]


def test_the_service_desk_names_the_home_of_a_booking(browser, base_url: str, world: World) -> None:
    made = _book_home_repair(world, days=4, note="门锁")
    page = login(browser, base_url, world, "operator")
    page.goto("/service-desk")
    expect(page.locator(f"tr.booking[data-booking-id='{made.id}'] td.home")).to_have_text("1号楼 1单元 101")


def test_the_board_gives_its_times_with_the_estates_zone(browser, base_url: str, world: World) -> None:
    page = _open(browser, base_url, world)
    expect(page.locator(".poster-head .stamp")).to_contain_text("UTC+8")
    expect(page.locator("#parking .stamp")).to_contain_text("UTC+8")
