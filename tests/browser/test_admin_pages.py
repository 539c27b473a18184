"""The administration screens in a real browser: what the estate's system administrator does in a shift.

The admin creates an operator (the one-time password shown once) and registers a crew member with a weekly
shift, and reads when dispatch offers each member orders; changes a rule for the estate by form: a value of the
wrong type is refused at the field, an unsafe one by the server's review in words, a safe one is reviewed and
published; silences a building and a device picked by name and ends a silence early; edits the responsibility
list by form, reviews and saves it, and a save from an older version shows the conflict; finds those changes in
the audit viewer, each object by its name. An operator gets the friendly 403 at /admin. Screenshots:
artifacts/screenshots/adm-NN-*.png.

The audit test reads the changes the tests before it in this module made (pytest runs them in file order).
"""

from __future__ import annotations

import re

import httpx
import psycopg
import pytest
from playwright.sync_api import expect

from tests.dashboard.world import World

from .conftest import login

pytestmark = pytest.mark.browser


def confirm(page) -> None:
    """Answer the confirmation every change asks for."""
    expect(page.locator("#adm-confirm")).to_be_visible()
    page.click("#adm-confirm-ok")


NAMES = {"sites": "SELECT name FROM sites WHERE id = %s", "buildings": "SELECT name FROM buildings WHERE id = %s",
         "devices": "SELECT name FROM devices WHERE id = %s"}


def crew_form(browser, base_url: str, world: World, crew_id: str, name: str):
    """The admin's users page with a new elevator crew member's id, name, unit and skill filled in."""
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/users")
    form = page.locator("#crew-form")
    form.locator("input[name=id]").fill(crew_id)
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=unit_id]").select_option("elevator-maint")
    form.locator("input[name=skills]").fill("elevator")
    return page, form


def fill_override(browser, base_url: str, world: World, rule: str, setting: str, value: str):
    """The admin's rules page of the estate with one setting of one rule filled in, not yet reviewed."""
    page = login(browser, base_url, world, "admin")
    page.goto(f"/admin/rules?site_id={world.site_id}")
    page.select_option("#ov-rule", rule)
    page.select_option("#ov-field", setting)
    page.fill("#ov-value", value)
    return page


def name_of(world: World, table: str, key: str) -> str:
    """A registry object's name (``sites``, ``buildings``, ``devices``), as the pages show it."""
    with psycopg.connect(world.database_url) as conn:
        return conn.execute(NAMES[table], (key,)).fetchone()[0]


def test_the_hub_links_every_administration_page(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin")
    for section in ("users", "rules", "silences", "responsibility", "plans", "audit"):
        expect(page.locator(f"#hub-{section}")).to_be_visible()
    shot(page, "adm-01-hub")


def test_the_admin_creates_an_operator_and_sees_the_password_once(browser, base_url: str, world: World,
                                                                   shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/users")
    form = page.locator("#user-form")
    form.locator("input[name=username]").fill("night-operator")
    form.locator("input[name=display_name]").fill("夜班值班员")
    form.locator("select[name=role]").select_option("operator")
    form.locator(f"input[name=site_ids][value={world.site_id}]").check()
    page.click("#user-create")
    confirm(page)
    expect(page.locator("#one-time-password")).to_have_text(re.compile(r"^\S{16}$"))
    expect(page.locator('#users tr[data-user="night-operator"]')).to_contain_text("值班员")
    shot(page, "adm-02-operator-created")
    page.reload()
    expect(page.locator("#one-time")).to_be_hidden()


def test_the_admin_registers_a_crew_member_with_a_weekly_shift(browser, base_url: str, world: World, shot) -> None:
    page, form = crew_form(browser, base_url, world, "C-NIGHT-1", "王师傅")
    form.locator("input[name=phone]").fill("13800000001")
    form.locator(f"input[name=site_ids][value={world.site_id}]").check()
    page.click("#add-shift")
    shift = form.locator(".adm-shift").first
    for day in ("mon", "tue", "wed"):
        shift.locator(f"input[value={day}]").check()
    shift.locator("input.from").fill("20:00")
    shift.locator("input.to").fill("08:00")
    page.click("#crew-save")
    confirm(page)
    row = page.locator('#crew tr[data-crew="C-NIGHT-1"]')
    expect(row).to_contain_text("王师傅")
    expect(row).to_contain_text("一二三 20:00–08:00")
    expect(row.locator(".adm-avail")).to_have_text("仅在排班时段内")
    shot(page, "adm-03-crew-member")


def test_a_crew_member_without_shifts_or_clock_in_reads_as_never_offered_orders(browser, base_url: str,
                                                                                world: World, shot) -> None:
    page, _ = crew_form(browser, base_url, world, "C-NOSHIFT-1", "李师傅")
    page.click("#crew-save")
    confirm(page)
    row = page.locator('#crew tr[data-crew="C-NOSHIFT-1"]')
    expect(row).to_contain_text("未排班")
    expect(row.locator(".adm-avail")).to_have_text("未排班且未打卡：不会自动派单，只能手动指派")
    expect(page.locator(f'#crew tr[data-crew="{world.crew_member_id}"] .adm-avail')).to_have_text(
        "在班（手动打卡）：随时可派")
    shot(page, "adm-20-crew-availability")


def test_a_value_of_the_wrong_type_is_refused_at_its_field_before_any_review(browser, base_url: str, world: World,
                                                                              shot) -> None:
    page = fill_override(browser, base_url, world, "elevator.door_slowing", "clear_for", "abc")
    page.click("#ov-review")
    expect(page.locator("#ov-value-error")).to_contain_text("应为时长")
    expect(page.locator("#ov-diff")).to_be_hidden()
    expect(page.locator("#ov-publish")).to_be_hidden()
    shot(page, "adm-04-override-wrong-type")


def test_an_unsafe_override_is_refused_by_the_servers_review_in_words(browser, base_url: str, world: World,
                                                                      shot) -> None:
    page = fill_override(browser, base_url, world, "fire.hydrant_pressure_high", "above", "0.3")
    title = page.locator('#rules tr[data-rule="fire.hydrant_pressure_high"] strong').inner_text()
    expect(page.locator('#rules tr[data-rule="fire.hydrant_pressure_high"] .levels')).to_contain_text("高于 0.5")
    expect(page.locator("#ov-current")).to_have_text("0.5")
    page.click("#ov-review")
    refusal = page.locator("#ov-result.error")
    expect(refusal).to_contain_text(f"「{title}」的「高于」：恢复值落在触发值的错误一侧")
    expect(refusal.locator("details summary")).to_have_text("校验原文（英文）")
    expect(refusal.locator("details code")).to_contain_text("'clear' 0.48 must be at or below 'above' 0.3")
    expect(page.locator("#ov-diff")).to_be_hidden()
    shot(page, "adm-05-override-refused")


def test_a_safe_override_is_reviewed_published_and_shown_in_the_rules_table(browser, base_url: str, world: World,
                                                                            shot) -> None:
    page = fill_override(browser, base_url, world, "fire.hydrant_pressure_high", "above", "0.6")
    estate = name_of(world, "sites", world.site_id)
    page.click("#ov-review")
    expect(page.locator("#ov-changes td.from")).to_have_text("0.5")
    expect(page.locator("#ov-changes td.to")).to_have_text("0.6")
    expect(page.locator("#ov-pack summary")).to_have_text(f"{estate}的管理员规则调整（将发布的全文）")
    shot(page, "adm-23-override-diff")
    page.click("#ov-publish")
    confirm(page)
    expect(page.locator("#ov-result.ok")).to_have_text(f"已发布：{estate}的管理员规则调整，第 1 版")
    row = page.locator('#rules tr[data-rule="fire.hydrant_pressure_high"]')
    expect(row.locator(".levels")).to_contain_text("高于 0.6")
    expect(row).to_have_class(re.compile("adm-changed"))
    shot(page, "adm-06-override-published")


def test_the_admin_silences_a_building_and_ends_it_early(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/silences")
    form = page.locator("#silence-form")
    form.locator("select[name=scope_type]").select_option("building")
    form.locator("select[name=site]").select_option(world.site_id)
    form.locator("select[name=building]").select_option(world.building_id)
    form.locator("input[name=hours]").fill("4")
    form.locator("input[name=reason]").fill("水泵房检修")
    page.click("#silence-create")
    confirm(page)
    building = name_of(world, "buildings", world.building_id)
    expect(page.locator("#silence-result.ok")).to_have_text(re.compile(
        rf"^已静默 {building} 至 \d{{4}}-\d\d-\d\d \d\d:\d\d UTC\+8$"))
    row = page.locator("#silences tbody tr", has_text="水泵房检修")
    expect(row).to_contain_text("生效中")
    expect(row).to_contain_text(f"楼栋 {building}")
    expect(row).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\+8"))
    shot(page, "adm-07-silence-active")
    row.locator("button").click()
    page.fill("#end-reason", "检修提前完成")
    page.click("#end-ok")
    expect(row).to_contain_text("已结束")
    expect(row).to_contain_text("检修提前完成")
    shot(page, "adm-08-silence-ended")


def test_a_device_is_silenced_by_picking_it_by_name(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/silences")
    lift = name_of(world, "devices", world.elevator_id)
    form = page.locator("#silence-form")
    form.locator("select[name=scope_type]").select_option("device")
    form.locator("select[name=site]").select_option(world.site_id)
    form.locator("select[name=building]").select_option(world.building_id)
    form.locator("select[name=device]").select_option(label=lift)
    form.locator("input[name=hours]").fill("2")
    form.locator("input[name=reason]").fill("年度检验")
    page.click("#silence-create")
    expect(page.locator("#adm-confirm-question")).to_contain_text(f"静默 {lift} 2 小时")
    confirm(page)
    expect(page.locator("#silence-result.ok")).to_contain_text(f"已静默 {lift} 至 ")
    row = page.locator("#silences tbody tr", has_text="年度检验")
    expect(row).to_contain_text(f"设备 {lift}")
    expect(row).not_to_contain_text(world.elevator_id)
    shot(page, "adm-21-silence-device-by-name")


def test_a_silence_longer_than_seven_days_is_refused_in_the_form(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/silences")
    form = page.locator("#silence-form")
    form.locator("input[name=hours]").fill("200")
    form.locator("input[name=reason]").fill("too long")
    page.click("#silence-create")
    expect(page.locator("#adm-confirm")).to_be_hidden()
    assert form.locator("input[name=hours]").evaluate("n => n.validity.rangeOverflow")


def test_the_admin_edits_the_responsibility_list_by_form(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/responsibility")
    first = page.locator("#resp-table tbody tr").first
    expect(first.locator("input[name=category]")).to_have_value("elevator_entrapment")
    expect(page.locator("#resp-table")).not_to_contain_text("[object Object]")
    first.locator("input[name=arrive]").fill("20m")
    page.click("#resp-review")
    change = page.locator('#resp-changes tr[data-change="elevator_entrapment/elevator/*/*:sla.arrive"]')
    expect(change.locator("td.from")).to_have_text("30m")
    expect(change.locator("td.to")).to_have_text("20m")
    expect(page.locator("#resp-changes tbody tr")).to_have_count(1)
    shot(page, "adm-09-responsibility-diff")
    page.click("#resp-save")
    confirm(page)
    expect(page.locator("#resp-status.ok")).to_contain_text("已保存为第")
    expect(first.locator("input[name=arrive]")).to_have_value("20m")
    shot(page, "adm-10-responsibility-saved")


def test_a_row_of_an_unknown_category_is_a_problem_the_review_shows(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/responsibility")
    expect(page.locator("#resp-table tbody input").first).to_be_visible()
    page.click("#resp-add")
    row = page.locator("#resp-table tbody tr.adm-new")
    row.locator("input[name=category]").fill("no_such_category")
    row.locator("input[name=arrive]").fill("1h")
    row.locator("input[name=escalation]").fill("property-eng")
    row.locator("textarea[name=sop]").fill("到场处理")
    row.locator("textarea[name=source]").fill("test")
    page.click("#resp-review")
    expect(page.locator("#resp-problems")).to_contain_text("no_such_category")
    expect(page.locator("#resp-save")).to_be_disabled()


def test_a_save_from_an_older_version_shows_the_conflict(browser, base_url: str, world: World, shot) -> None:
    late = login(browser, base_url, world, "admin")
    late.goto("/responsibility")
    expect(late.locator("#resp-table tbody input").first).to_be_visible()
    early = login(browser, base_url, world, "admin")
    early.goto("/responsibility")
    early.locator("#resp-table tbody tr").first.locator("input[name=ack]").fill("2m")
    early.click("#resp-review")
    early.click("#resp-save")
    confirm(early)
    expect(early.locator("#resp-status.ok")).to_be_visible()
    late.locator("#resp-table tbody tr").first.locator("input[name=resolve]").fill("3h")
    late.click("#resp-review")
    late.click("#resp-save")
    confirm(late)
    expect(late.locator("#resp-status.error")).to_contain_text("保存冲突")
    shot(late, "adm-11-responsibility-conflict")


def test_the_changes_are_found_in_the_audit_viewer(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    username = world.passwords["admin"][0]
    page.goto("/admin/audit")
    page.fill("input[name=actor]", username)
    page.select_option("select[name=action]", label="静默：全部")
    page.click("#audit-filter")
    expect(page.locator('#audit tr[data-action="silence.end"]')).to_contain_text("检修提前完成")
    expect(page.locator('#audit tr[data-action="silence.create"]')).to_have_count(2)
    expect(page.locator("#audit tbody")).to_contain_text(re.compile(r"UTC\+8"))
    shot(page, "adm-12-audit-silences")
    for action in ("user.create", "crew.register", "rule_pack.publish", "responsibility.replace"):
        page.select_option("select[name=action]", action)
        page.click("#audit-filter")
        expect(page.locator(f'#audit tr[data-action="{action}"]').first).to_be_visible()
    page.select_option("select[name=action]", "")
    page.fill("input[name=since]", "2000-01-01T00:00")
    page.fill("input[name=until]", "2000-01-02T00:00")
    page.click("#audit-filter")
    expect(page.locator("#range")).to_have_text("第 0–0 条，共 0 条")


def test_an_audit_entry_reads_as_a_summary_with_its_raw_record_behind_a_toggle(browser, base_url: str, world: World,
                                                                              shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/audit?action=silence.end")
    row = page.locator('#audit tr[data-action="silence.end"]').first
    expect(row.locator(".adm-sentence")).to_contain_text("（系统管理员）：提前结束静默，静默 ")
    expect(row.locator(".adm-fields")).to_contain_text("原因检修提前完成")
    raw = row.locator("details.adm-raw pre")
    expect(raw).to_be_hidden()
    row.locator("details.adm-raw summary").click()
    expect(raw).to_contain_text('"reason": "检修提前完成"')
    shot(page, "adm-18-audit-summary")
    page.goto("/admin/audit?action=user.create&actor=" + world.passwords["admin"][0])
    created = page.locator('#audit tr[data-action="user.create"]').first
    expect(created.locator(".adm-fields")).to_contain_text("角色值班员")
    with psycopg.connect(world.database_url) as conn:
        [estate] = conn.execute("SELECT name FROM sites WHERE id = %s", (world.site_id,)).fetchone()
    expect(created.locator(".adm-fields")).to_contain_text(f"小区{estate}")


def test_the_audit_names_objects_by_their_names_and_keeps_codes_in_the_raw_record(browser, base_url: str,
                                                                                  world: World, shot) -> None:
    with httpx.Client(base_url=base_url) as client:
        username, password = world.passwords["operator"]
        token = client.post("/api/v1/auth/token", data={"username": username, "password": password}).json()
        opened = client.post("/api/v1/work-orders", headers={"Authorization": f"Bearer {token['access_token']}"}, json={
            "site_id": world.site_id, "origin": "owner_report", "category": "noise", "address": "1号楼2单元1202",
            "description": "夜间装修噪声"})
        assert opened.is_success, opened.text
    with psycopg.connect(world.database_url) as conn:
        [number] = conn.execute("SELECT number FROM work_orders ORDER BY id DESC LIMIT 1").fetchone()
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/audit?action=work_order.open")
    order = page.locator('#audit tr[data-action="work_order.open"]').first
    expect(order.locator(".adm-sentence")).to_have_text(re.compile(rf"：开工单，工单 {number}$"))
    page.goto("/admin/audit?action=silence.create")
    lift = name_of(world, "devices", world.elevator_id)
    device = page.locator('#audit tr[data-action="silence.create"]', has_text="年度检验")
    expect(device.locator(".adm-sentence")).to_have_text(re.compile(rf"：新建静默，静默 {lift}$"))
    expect(device.locator(".adm-fields")).to_contain_text(f"范围{lift}")
    expect(device.locator(".adm-sentence")).not_to_contain_text("silence.create")
    device.locator("details.adm-raw summary").click()
    expect(device.locator("details.adm-raw pre")).to_contain_text('"action": "silence.create"')
    page.goto("/admin/audit?action=auth.login")
    expect(page.locator('#audit tr[data-action="auth.login"] .adm-sentence').first).to_have_text(
        re.compile(r"（系统管理员）：登录$"))
    shot(page, "adm-22-audit-names")


def test_the_audit_filters_offer_actions_and_objects_by_name(browser, base_url: str, world: World) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/audit")
    action = page.locator("select[name=action]")
    expect(action.locator("option", has_text="提前结束静默")).to_have_attribute("value", "silence.end")
    expect(action.locator("optgroup[label=静默] option").first).to_have_text("静默：全部")
    expect(page.locator("select[name=target_type] option", has_text="工单")).to_have_attribute("value", "work_order")


def test_the_audit_summary_reads_in_english(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin", lang="en")
    page.goto("/admin/audit?action=silence")
    ended = page.locator('#audit tr[data-action="silence.end"]').first
    expect(ended.locator(".adm-sentence")).to_contain_text("(Administrator): Silence ended, Silence ")
    expect(ended.locator(".adm-fields")).to_contain_text("Reason检修提前完成")
    created = page.locator('#audit tr[data-action="silence.create"]').first
    expect(created.locator(".adm-fields")).to_contain_text(re.compile(r"Starts\d{4}-\d\d-\d\d \d\d:\d\d UTC\+8"))
    expect(page.locator("details.adm-raw summary").first).to_have_text("Raw record")
    shot(page, "adm-19-audit-summary-english")


def test_an_operator_gets_the_friendly_forbidden_page_at_admin(browser, base_url: str, world: World,
                                                                shot) -> None:
    page = login(browser, base_url, world, "operator")
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    expect(page.locator(".error-page")).to_have_attribute("data-status", "403")
    expect(page.locator("#home")).to_be_visible()
    shot(page, "adm-13-operator-forbidden")


def test_the_admin_deactivates_a_user_and_gives_them_a_new_password(browser, base_url: str, world: World,
                                                                     shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/users")
    row = page.locator('#users tr[data-user="demo-public"]')
    row.locator("button.reject").click()
    confirm(page)
    expect(row).to_contain_text("已停用")
    row.locator("button", has_text="启用").click()
    confirm(page)
    expect(row).to_contain_text("在用")
    row.locator("button", has_text="重置密码").click()
    confirm(page)
    expect(page.locator("#one-time")).to_contain_text("demo-public")
    expect(page.locator("#one-time-password")).not_to_be_empty()


def test_the_admin_schedules_a_preventive_plan_and_pauses_it(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin")
    page.goto("/admin/plans")
    form = page.locator("#plan-form")
    form.locator("select[name=template]").select_option("fire_pump_weekly")
    form.locator("select[name=site_id]").select_option(world.site_id)
    form.locator("input[name=building_id]").fill(world.building_id)
    form.locator("input[name=first_due]").fill("2030-01-07T09:00")
    page.click("#plan-create")
    confirm(page)
    expect(page.locator("#plan-result.ok")).to_be_visible()
    row = page.locator("#plans tbody tr", has_text="2030-01-07 09:00 UTC+8")
    expect(row).to_contain_text("消防水泵每周模拟自动启动试验")
    row.locator("button", has_text="暂停").click()
    confirm(page)
    expect(row).to_contain_text("已暂停")
    shot(page, "adm-14-preventive-plans")


def test_the_rules_page_reads_in_english(browser, base_url: str, world: World, shot) -> None:
    page = login(browser, base_url, world, "admin", lang="en")
    page.goto(f"/admin/rules?site_id={world.site_id}")
    expect(page.locator("h1")).to_have_text("Alarm rules")
    expect(page.locator('#rules tr[data-rule="elevator.trapped"]')).to_contain_text("Passenger trapped")
    shot(page, "adm-15-rules-english")


def test_an_operator_reads_the_responsibility_list_without_the_editor(browser, base_url: str, world: World,
                                                                       shot) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/responsibility")
    first = page.locator("#resp-table tbody tr").first
    expect(first.locator("td[data-category=elevator_entrapment]")).to_have_text("电梯困人")
    expect(first).to_contain_text("电梯维保单位 → 电梯维保单位、物业工程部")
    expect(page.locator("#resp-table input")).to_have_count(0)
    expect(page.locator("#resp-editor")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("[object Object]")
    shot(page, "adm-16-responsibility-operator")


def test_the_responsibility_list_in_english_names_categories_and_units_in_english(browser, base_url: str,
                                                                                   world: World, shot) -> None:
    page = login(browser, base_url, world, "operator", lang="en")
    page.goto("/responsibility")
    first = page.locator("#resp-table tbody tr").first
    expect(first.locator("td[data-category=elevator_entrapment]")).to_have_text("Elevator passenger entrapment")
    expect(first).not_to_contain_text("电梯维保单位")
    shot(page, "adm-17-responsibility-english")


def test_every_field_of_the_responsibility_editor_is_named_by_its_column(browser, base_url: str,
                                                                         world: World) -> None:
    page = login(browser, base_url, world, "admin", lang="en")
    page.goto("/responsibility")
    first = page.locator("#resp-table tbody tr").first
    expect(first.get_by_label("Arrive within")).to_have_attribute("name", "arrive")
    expect(first.get_by_label("Handled by")).to_have_value("elevator-maint")
    expect(first).to_contain_text("Elevator passenger entrapment")
