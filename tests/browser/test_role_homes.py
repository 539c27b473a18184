"""Every role signs in to a page that exists, and every link of its navigation bar opens."""

from __future__ import annotations

import pytest

from dashboard.roles import ROLES
from dashboard.ui.nav import links_for
from dashboard.ui.pages import HOME
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ROLES)
def test_signing_in_lands_on_the_roles_home_page(browser, base_url, world, role) -> None:
    page = login(browser, base_url, world, role, mobile=role in ("crew", "owner"))
    landed = page.url.removeprefix(base_url)
    assert landed.startswith(HOME[role])
    assert page.request.get(landed).status == 200
    assert page.locator("main").count() == 1


@pytest.mark.parametrize("role", ROLES)
def test_every_navigation_link_of_the_role_opens(browser, base_url, world, role) -> None:
    page = login(browser, base_url, world, role)
    statuses = {link.path: opened(page, link.path) for link in links_for(role)}
    assert statuses == dict.fromkeys(statuses, 200)


def opened(page, path: str) -> int:
    """The status a link answers, following one redirect to a page of the role's own (the public's ``/board``
    goes to its estate's board), never one to the sign-in page."""
    answer = page.request.get(path, max_redirects=0)
    location = answer.headers.get("location", "")
    if answer.status == 303 and location.startswith("/") and not location.startswith("/login"):
        return page.request.get(location, max_redirects=0).status
    return answer.status


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_bar_shows_exactly_the_roles_links(browser, base_url, world, role) -> None:
    page = login(browser, base_url, world, role)
    shown = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert [path for path in shown if path in {link.path for link in links_for(role)}] == \
        [link.path for link in links_for(role)]
