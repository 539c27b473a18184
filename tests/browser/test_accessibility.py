"""Every page of every role passes axe-core (the copy package-lock.json pins, served from node_modules) without a
serious or critical violation: contrast, names of controls, landmarks, the page language."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.roles import ROLES
from tests.browser.conftest import login
from tests.browser.role_pages import RolePage, pages_of, role_pages
from tests.dashboard.world import World

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
RUN_AXE = """async (impacts) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => impacts.includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
    count: v.nodes.length}));
}"""


@pytest.fixture(scope="module")
def pages(world: World) -> list[RolePage]:
    return role_pages(create_app(database_url=world.database_url), world)


def _violations(page, path: str) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("load")
    # Sections load from the JSON API after the page; scan what a reader sees once they are in.
    page.wait_for_timeout(700)
    page.add_script_tag(path=str(AXE))
    return [f"{path}: {v['impact']} {v['id']} ({v['help']}) x{v['count']}: {', '.join(v['nodes'])}"
            for v in page.evaluate(RUN_AXE, list(BLOCKING))]


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_no_serious_or_critical_axe_violation_on_any_page(browser, base_url, world, pages, role) -> None:
    if role is None:
        page = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    else:
        page = login(browser, base_url, world, role, mobile=role in ("crew", "owner"))
    found = []
    for target in pages_of(role, pages):
        if "{" not in target.path:
            found.extend(_violations(page, target.path))
    assert not found, "\n".join(found)


def test_the_error_page_has_no_serious_or_critical_axe_violation(browser, base_url, world) -> None:
    page = login(browser, base_url, world, "operator")
    assert _violations(page, "/alarms/999999999") == []
