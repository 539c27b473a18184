"""Control-room pages render in the browser in both languages; screenshots for review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.world import World

from .conftest import login

pytestmark = pytest.mark.browser


def test_the_console_switches_to_english(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.click("a.lang")
    expect(page.locator("h1")).to_contain_text("Alarm console")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "10-console-english")


def test_the_estate_overview_lists_sites_and_devices(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/estate")
    expect(page.locator("section.site")).to_contain_text(world.site_id)
    expect(page.locator(f'section.site a[href="/devices/{world.elevator_id}"]')).to_be_visible()
    shot(page, "11-estate-overview")


def test_the_device_page_draws_a_history_chart(browser, base_url: str, world: World, shot) -> None:
    from datetime import UTC, datetime, timedelta

    from ingest.database import connect
    from ingest.records import Batch
    from ingest.writer import Writer

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    readings = [(world.elevator_id, "speed", now - timedelta(minutes=120 - i), 1.0 + (i % 10) / 10)
                for i in range(120)]
    with connect(world.database_url) as conn:
        Writer(conn).write(Batch.of_readings(readings))
        conn.commit()
    page = login(browser, base_url, world, "operator")
    page.goto(f"/devices/{world.elevator_id}")
    page.locator('figure[data-metric="speed"]').scroll_into_view_if_needed()
    expect(page.locator('figure[data-metric="speed"]')).to_have_attribute("data-state", "ready")
    shot(page, "12-device-history")


def test_the_kpi_report_and_responsibility_list_render(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/kpi")
    expect(page.locator('#kpi-table tr[data-kpi="mtta"]')).to_contain_text("MTTA")
    shot(page, "13-kpi")
    page.goto("/responsibility")
    expect(page.locator("#resp-table tbody tr").first).to_be_visible()
    expect(page.locator("#resp-editor")).not_to_be_empty()
    shot(page, "14-responsibility")


def test_the_login_page(browser, base_url: str, shot) -> None:
    page = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 700}).new_page()
    page.goto("/console")
    expect(page).to_have_url(f"{base_url}/login?next=/console")
    shot(page, "00-login")


def test_an_owner_sees_their_own_fund_balance_on_a_phone(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "owner", mobile=True)
    expect(page).to_have_url(f"{base_url}/my-fund")
    expect(page.locator("#balance")).to_contain_text("¥")
    expect(page.locator("#ledger tr")).not_to_have_count(1)
    shot(page, "15-owner-fund")


def test_the_api_docs_render_with_no_internet(browser, base_url: str, shot) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("propwatch API", timeout=15_000)
    assert outside == []
    shot(page, "16-api-docs")


def test_the_operator_assigns_an_alarm_from_the_console(browser, base_url: str, world: World, trapped,
                                                         shot) -> None:
    page = login(browser, base_url, world, "operator")
    expect(page.locator("#live.up")).to_be_visible()
    device = trapped()
    row = page.locator("#alarms tbody tr", has_text=device)
    expect(row).to_be_visible(timeout=15_000)
    row.locator("button.assign").click()
    page.fill("#assignee", "电梯维保单位")
    page.fill("#comment", "请30分钟内到场")
    page.click("#action-ok")
    expect(page.locator("#alarms tbody tr", has_text=device)).to_contain_text("→ 电梯维保单位", timeout=10_000)


def test_the_operator_takes_a_12345_ticket_on_the_board(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/work-orders")
    page.click("#new-ticket summary")
    page.select_option("select[name=origin]", "hotline_12345")
    page.fill("input[name=ticket_no]", "12345-20261125-0099")
    page.fill("input[name=reply_due]", "2030-01-05T18:00")
    page.select_option("select[name=category]", "drainage_flood")
    page.fill("input[name=address]", "地下车库B区")
    page.fill("textarea[name=description]", "车库积水约10厘米")
    shot(page, "17-new-12345-ticket")
    page.click("#ticket-submit")
    expect(page.locator("#ticket-msg")).to_contain_text("✓")
    expect(page.locator('section[data-state="NEW"] article.wo', has_text="排水积水")).to_be_visible()
