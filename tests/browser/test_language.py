"""Every page of every role speaks the reader's language: in Chinese no UI-string key, snake_case identifier or
raw state code shows; in English no label is left in Chinese (names and other data may be)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from dashboard.app import create_app
from dashboard.i18n import STRINGS, WORK_ORDER_STATES
from dashboard.roles import ROLES
from ingest.database import connect
from tests.browser.conftest import login
from tests.browser.role_pages import RolePage, pages_of, role_pages
from tests.dashboard.world import World

pytestmark = pytest.mark.browser

# A dotted name (a rule id such as ``elevator.door_slowing``) is an identifier shown on purpose, like a device id.
SNAKE_CASE = re.compile(r"(?<![\w.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.])")
STATE_CODE = re.compile(r"\b(?:" + "|".join(WORK_ORDER_STATES) + r")\b")
ALARM_STATE = re.compile(r"\b(?:pending|active|acknowledged|cleared)\b")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Where labels live: a Chinese character here on an English page is an untranslated label, unless it is data.
LABELS = "button, th, label, legend, summary, nav a, h2, h3, option, [role=tab], caption, dt"

# What a reader sees: the visible text, the page title, and the words of placeholders, tooltips and labels.
SEEN_TEXT = """() => {
  const texts = [document.title, ...document.body.innerText.split('\\n')];
  for (const node of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
      if (node.getAttribute(name)) texts.push(node.getAttribute(name));
    }
  }
  return texts.map(t => t.trim()).filter(Boolean);
}"""
LABEL_TEXT = f"""() => [...document.querySelectorAll({LABELS!r})]
  .filter(node => node.offsetParent !== null || node.tagName === 'OPTION')
  .map(node => node.innerText.trim()).filter(Boolean)"""


@pytest.fixture(scope="module")
def pages(world: World) -> list[RolePage]:
    return role_pages(create_app(database_url=world.database_url), world)


@pytest.fixture(scope="module")
def data_names(world: World, pages: list[RolePage]) -> list[str]:
    """What the estate's data holds as entered (names of sites, buildings, devices, people, companies, draw items,
    the price units a service is published with), longest first; a name with an English one (``name_en``) is no
    data on an English page."""
    with connect(world.database_url) as conn:
        columns = conn.execute(
            """SELECT c.table_name, c.column_name,
                      EXISTS (SELECT 1 FROM information_schema.columns e WHERE e.table_schema = 'public'
                              AND e.table_name = c.table_name AND e.column_name = c.column_name || '_en')
               FROM information_schema.columns c
               WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'character varying')
                 AND c.column_name IN ('name', 'display_name', 'item', 'contractor', 'address', 'description',
                                       'title', 'manager', 'location', 'note', 'reason', 'unit')""").fetchall()
        names: set[str] = set()
        for table, column, translated in columns:
            untranslated = f' AND coalesce("{column}_en", \'\') = \'\'' if translated else ""
            names.update(value for (value,) in conn.execute(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL{untranslated} LIMIT 500'))
    return sorted((name for name in names if name.strip()), key=len, reverse=True)


def _visit(page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("load")
    # Sections load from the JSON API after the page; give them a moment to render their labels.
    page.wait_for_timeout(700)


def _untranslated_in_chinese(texts: list[str]) -> Iterator[str]:
    for text in texts:
        if text in STRINGS:
            yield f"UI-string key {text!r}"
        for found in SNAKE_CASE.findall(text):
            yield f"identifier {found!r}"
        for found in STATE_CODE.findall(text) + ALARM_STATE.findall(text):
            yield f"raw state {found!r}"


def _chinese_labels_in_english(labels: list[str], names: list[str]) -> Iterator[str]:
    for label in labels:
        remainder = label
        for name in names:
            if name in remainder:
                remainder = remainder.replace(name, "")
        if CHINESE.search(remainder):
            yield f"Chinese label {label[:60]!r}"


def _problems(browser, base_url: str, world: World, role: str | None, pages: list[RolePage], lang: str,
              names: list[str]) -> list[str]:
    if role is None:
        context = browser.new_context(base_url=base_url, locale="zh-CN")
        page = context.new_page()
        page.goto(f"/lang/{lang}")
    else:
        page = login(browser, base_url, world, role, mobile=role in ("crew", "owner"), lang=lang)
    problems = []
    for target in pages_of(role, pages):
        if "{" in target.path:
            problems.append(f"{target.path}: no value in the test world for its path parameter")
            continue
        _visit(page, target.path)
        if lang == "zh":
            found = _untranslated_in_chinese(page.evaluate(SEEN_TEXT))
        else:
            found = _chinese_labels_in_english(page.evaluate(LABEL_TEXT), names)
        problems.extend(f"{target.path}: {problem}" for problem in dict.fromkeys(found))
    return problems


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_every_page_in_chinese_shows_no_key_identifier_or_raw_code(browser, base_url, world, pages, data_names,
                                                                    role) -> None:
    problems = _problems(browser, base_url, world, role, pages, "zh", data_names)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_every_page_in_english_has_no_chinese_label(browser, base_url, world, pages, data_names, role) -> None:
    problems = _problems(browser, base_url, world, role, pages, "en", data_names)
    assert not problems, "\n".join(problems)


def test_the_error_page_speaks_chinese_and_english(browser, base_url, world) -> None:
    page = login(browser, base_url, world, "crew", mobile=True)
    _visit(page, "/alarms/999999999")
    assert not list(_untranslated_in_chinese(page.evaluate(SEEN_TEXT)))
    _visit(page, "/lang/en")
    _visit(page, "/console")
    assert not list(_chinese_labels_in_english(page.evaluate(LABEL_TEXT), []))


def test_an_address_with_lang_keeps_that_language_on_the_pages_that_follow(browser, base_url, world) -> None:
    page = login(browser, base_url, world, "operator")
    page.goto("/console?lang=en")
    expect(page.locator("h1")).to_contain_text("Alarm console")
    page.goto("/estate")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/estate?lang=zh")
    page.goto("/console")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_the_estate_has_one_english_name_on_the_plan_the_device_and_the_alarm(browser, base_url, world,
                                                                              trapped) -> None:
    lift = trapped()
    page = login(browser, base_url, world, "operator", lang="en")
    page.goto("/estate")
    expect(page.locator("main")).to_contain_text("Jinxiu Garden")
    page.goto(f"/devices/{lift}")
    expect(page.locator("#place")).to_contain_text("Jinxiu Garden")
    page.locator("#open-alarms a").first.click()
    expect(page.locator("#alarm")).to_contain_text("Jinxiu Garden")


def test_every_page_links_its_icon_and_the_icon_is_served(browser, base_url, world) -> None:
    page = login(browser, base_url, world, "operator")
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/console")
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = page.request.get(href)
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    page.reload()
    page.wait_for_load_state("load")
    assert not missing
