"""Small helpers that do what a person does on Stagegate's pages, in Playwright terms."""

from __future__ import annotations

from urllib.parse import parse_qs

from playwright.sync_api import Locator, Page, expect


def create_proposal(page: Page, base_url: str, title: str, version: str | None = "2023-06") -> int:
    """Fill the new-proposal form; returns the new proposal's id, read from the edit page's URL.

    The journeys written for June 2023's sections choose that version; `version=None` keeps the default.
    """
    page.goto(f"{base_url}/proposals/new/")
    if version:
        page.locator(f"input[name=template_version][value='{version}']").check()
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Create proposal").click()
    page.wait_for_url("**/proposals/*/edit/")
    expect(page.get_by_role("heading", level=1).first).to_have_text(title)
    return int(page.url.rstrip("/").split("/")[-2])


def autosave(page: Page, section_key: str, answers: dict[str, str]) -> None:
    """Type each answer under its label and wait until the section's last autosave, with every answer, is saved.

    `answers` maps a field label (as the page shows it) to its text. The wait is for the autosave request
    that carries all of them, then for the "Saved" status the user sees.
    """
    wanted = list(answers.values())

    def carries_everything(response) -> bool:
        request = response.request
        if request.method != "POST" or f"/sections/{section_key}/" not in request.url:
            return False
        sent = [value for values in parse_qs(request.post_data or "").values() for value in values]
        return all(answer in sent for answer in wanted)

    with page.expect_response(carries_everything):
        for label, text in answers.items():
            page.get_by_label(label, exact=True).fill(text)
    expect(section_status(page, section_key)).to_contain_text("Saved")


def section_status(page: Page, section_key: str) -> Locator:
    return page.locator(f"#section-{section_key}-status")


def list_items(page: Page, container: str) -> Locator:
    return page.locator(f"{container} ol.ordered-list > li:not(.empty)")


def checklist_box(page: Page, text: str) -> Locator:
    return page.locator("#checklists").get_by_role("checkbox", name=text, exact=True)


def save_state(page: Page) -> Locator:
    """The edit page's save state, the line that stays on screen while typing."""
    return page.locator("#save-state")


def assert_no_horizontal_scroll(page: Page) -> None:
    """The page is no wider than the screen (an emulated phone would zoom an overflowing page out)."""
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide on a {width}px screen"


def open_menu_if_folded(page: Page) -> None:
    """On a phone the navigation waits behind the Menu button; on a laptop it is always shown."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")


def log_out(page: Page) -> None:
    open_menu_if_folded(page)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Stagegate")).to_be_visible()
