"""History and search in a real browser, on a phone and a laptop: typed words become a readable diff, and
search finds them with the match marked. Every page fits the screen and has no serious axe-core finding."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import assert_no_horizontal_scroll, open_menu_if_folded, section_status
from tests.browser.test_accessibility import BLOCKING, axe_page, axe_violations
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"


def check_page(page: Page, name: str, screen: dict) -> None:
    size = f"{screen['width']}x{screen['height']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", full_page=True)
    assert_no_horizontal_scroll(page)
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert blocking == [], f"{name}: {blocking}"


def test_typed_changes_read_as_a_diff_and_are_found_by_search(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    member = UserFactory(username="katherine", groups=["working group"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    browsing.viewport = screen

    # The working-group member reads the proposal once, before the author writes.
    reader = axe_page(browsing, member, screen)
    reader.goto(browsing.url(proposal.get_absolute_url()))
    expect(reader.locator("#since-last-look")).to_have_count(0)

    # The author types, key by key, then changes one word.
    writer = browsing.as_user(author)
    writer.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    problem = writer.get_by_label("User problem:", exact=True)
    problem.click()
    problem.press_sequentially("Reviewers drown in long threads of comments.", delay=15)
    expect(section_status(writer, "problem")).to_contain_text("Saved")
    for _ in range(len("long threads of comments.")):
        problem.press("Backspace")
    problem.press_sequentially("noisy threads of comments.", delay=15)
    expect(writer.locator("#save-state")).to_contain_text("Saved")
    expect(section_status(writer, "problem")).to_contain_text("Saved")

    # The reader comes back: a banner names what changed, the history shows it word by word.
    reader.goto(browsing.url(proposal.get_absolute_url()))
    banner = reader.locator("#since-last-look")
    expect(banner).to_contain_text("1 part changed since you last looked")
    expect(reader.locator("main")).to_contain_text("Changed")
    check_page(reader, "read-view-since-last-look", screen)
    banner.get_by_role("link", name="See what changed").click()
    summary = reader.locator(".history-summary")
    expect(summary.locator("ins")).to_contain_text("Reviewers drown in noisy threads of comments.")
    expect(reader.locator("#history-results")).to_contain_text("User problem")
    check_page(reader, "history", screen)

    # The history's filter narrows by kind without a reload.
    reader.get_by_label("Kind").select_option("checklist")
    expect(reader.locator("#history-results .count")).to_contain_text("0 changes")

    # Search, from the navigation, typed as a person types.
    open_menu_if_folded(reader)
    reader.get_by_role("link", name="Search", exact=True).click()
    box = reader.get_by_role("searchbox")
    box.click()
    box.press_sequentially("noisy threads", delay=30)
    expect(reader.locator("#search-results .count")).to_contain_text("1 proposal match")
    hit = reader.locator(".search-hit").first
    expect(hit.get_by_role("link", name="Summarise merge request threads")).to_be_visible()
    expect(hit.locator("mark").first).to_have_text("noisy")
    check_page(reader, "search", screen)
