"""Stagegate in a real browser: Playwright driving Debian's Chromium against pytest-django's live server.

Each test gets a fresh browser context (its own cookies); the browser itself is started once per run.
Every page is watched for Content-Security-Policy violations and uncaught script errors, and a failing
test leaves a full-page screenshot in test-artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between browser steps
# are ordinary synchronous calls all the same.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("STAGEGATE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "stagegate-pass"  # what tests/factories.UserFactory gives everyone

# Playwright gives every launch a fresh temporary profile (its own --user-data-dir), so no state survives a run.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the suite runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=10_000)

# The two screens every UI journey is tried on: a phone and a laptop.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SCREENS = {"phone": PHONE, "desktop": DESKTOP}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make test does)")
    # Starting Playwright's sync API (greenlets and an event loop) can leave this thread looking up a fresh
    # Django connection object afterwards. The copy of the seeded rows that `serialized_rollback` restores
    # lives on the connection object, so carry it over, or every transactional test after this one starts
    # without the groups, ORR areas and personas the migrations seed.
    before = connections[DEFAULT_DB_ALIAS]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        after = connections[DEFAULT_DB_ALIAS]
        if after is not before and hasattr(before, "_test_serialized_contents"):
            after._test_serialized_contents = before._test_serialized_contents
        yield browser
        browser.close()


class PageProblems:
    """What the browser reported that a user never should cause: CSP violations and uncaught script errors."""

    def __init__(self) -> None:
        self.csp: list[str] = []
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp.append(message.text)


class Browsing:
    """The test's browser windows: each `as_user` is a fresh context (own cookies) logged in by the login form."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.problems = PageProblems()
        self.contexts: list[BrowserContext] = []
        self.viewport = {"width": 1280, "height": 900}

    def new_page(self) -> Page:
        phone = self.viewport["width"] < 600
        context = self.browser.new_context(
            viewport=self.viewport, locale="en-GB", is_mobile=phone, has_touch=phone, device_scale_factor=1
        )
        self.contexts.append(context)
        page = context.new_page()
        self.problems.watch(page)
        return page

    def as_user(self, user) -> Page:
        page = self.new_page()
        self.log_in(page, user)
        return page

    def tab(self, page: Page) -> Page:
        """Another tab of the same browser window: it shares the cookies (and so the session) with `page`."""
        other = page.context.new_page()
        self.problems.watch(other)
        return other

    def log_in(self, page: Page, user) -> None:
        page.goto(f"{self.base_url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("form.logout")).to_have_count(1)  # on a phone it waits behind the menu button

    def url(self, path: str) -> str:
        return self.base_url + path

    def screenshot_all(self, nodeid: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", nodeid).strip("-")
        number = 0
        for context in self.contexts:
            for page in context.pages:
                if not page.is_closed():
                    number += 1
                    page.screenshot(path=ARTIFACTS / f"{stem}-{number}.png", full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(params=list(SCREENS))
def screen(request) -> dict:
    """Run the test once on a phone and once on a laptop screen."""
    return SCREENS[request.param]


@pytest.fixture
def browsing(browser: Browser, live_server, request) -> Iterator[Browsing]:
    session = Browsing(browser, live_server.url)
    yield session
    report = getattr(request.node, "report_call", None)
    try:
        if report is not None and report.failed:
            session.screenshot_all(request.node.nodeid)
        elif report is not None and report.passed:
            assert session.problems.csp == [], "a page broke its Content-Security-Policy"
            assert session.problems.errors == [], "a script on a page failed"
    finally:
        session.close()
