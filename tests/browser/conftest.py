"""Browser fixtures: the app under uvicorn on a seeded estate, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.serve import serve_in_thread
from ingest import registry
from ingest.database import connect
from ingest.records import Batch, DeviceEvent
from tests.dashboard.world import World, fresh_database, seed

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
_lifts = itertools.count(30)


@pytest.fixture(scope="module")
def world(postgres_admin_url: str, template_database: str) -> Iterator[World]:
    with fresh_database(postgres_admin_url, template_database) as url:
        yield seed(url, "WEB01")


@pytest.fixture(scope="module")
def base_url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(database_url=world.database_url, secret_key="browser-tests",
                     uploads_dir=tmp_path_factory.mktemp("uploads"))
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(autouse=True)
def close_contexts(browser) -> Iterator[None]:
    """Close every page a test opened, so no event stream outlives its test."""
    yield
    for context in list(browser.contexts):
        context.close()


@pytest.fixture
def shot() -> Callable[[object, str], None]:
    """Save a full-page screenshot under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(scope="module")
def engine(world: World) -> Iterator[object]:
    from rules.engine import RuleEngine

    e = RuleEngine(world.database_url)
    yield e
    e.close()


@pytest.fixture
def trapped(world: World, engine) -> Callable[..., str]:
    """Raise a trapped-passenger alarm through the rules engine on a lift of the estate; returns the device."""

    def make(device_id: str | None = None) -> str:
        device = device_id or f"{world.building_id}-EL{next(_lifts):02d}"
        if device_id is None:
            with connect(world.database_url) as conn:
                registry.upsert_device(conn, registry.Device(device, world.site_id, "elevator", "3号梯",
                                                             building_id=world.building_id))
                conn.commit()
        now = datetime.now(UTC)
        engine.process(Batch(events=[DeviceEvent(device, now, "trapped", seq=1)]), now=now)
        return device

    return make


def login(browser, base_url: str, world: World, role: str, *, mobile: bool = False, lang: str | None = None):
    """A new browser context signed in as ``role``; returns the page."""
    options = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True} if mobile \
        else {"viewport": {"width": 1366, "height": 860}}
    context = browser.new_context(base_url=base_url, locale="zh-CN", **options)
    page = context.new_page()
    if lang:
        page.goto(f"/lang/{lang}")
    page.goto("/login")
    username, password = world.passwords[role]
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login")
    page.wait_for_url(lambda url: "/login" not in url)
    return page
