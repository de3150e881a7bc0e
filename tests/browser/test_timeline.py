"""The timeline page in a real browser, on a phone and a laptop: from the read page's "Whole timeline" link,
filtered without a reload, paged, fitting the screen and without a serious axe-core finding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from proposals.models import Activity
from tests.browser.pages import assert_no_horizontal_scroll
from tests.browser.test_accessibility import BLOCKING, SMALL_TARGETS, axe_page, axe_violations
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
    assert page.evaluate(SMALL_TARGETS) == [], f"{name}: touch targets under 44px"


def test_a_reader_filters_and_pages_the_whole_timeline(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    reviewer = UserFactory(username="rosalind", groups=["reviewer"])
    member = UserFactory(username="katherine", groups=["working group"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    for n in range(70):
        Activity.objects.record(proposal, kind=Activity.Kind.EDITED, actor=author, message=f"ada edit number {n:02d}")
    for n in range(3):
        Activity.objects.record(
            proposal, kind=Activity.Kind.REVIEW, actor=reviewer, message=f"rosalind approved area {n + 1}"
        )
    # A GitLab comment with a long unbroken link must wrap, not widen the page.
    link = "https://gitlab.example.com/group/project/-/issues/42#note_" + "9" * 120
    Activity.objects.record(
        proposal,
        kind=Activity.Kind.COMMENT,
        message=f"gl-carol commented on GitLab: see {link}",
        data={"by": "gl-carol"},
    )
    browsing.viewport = screen

    page = axe_page(browsing, member, screen)
    page.goto(browsing.url(proposal.get_absolute_url()))
    # The read page gives the proposal's text the wide column (only the edit page has an outline column).
    text_width, side_width = (page.locator(part).bounding_box()["width"] for part in (".edit-main", ".edit-side"))
    assert text_width >= side_width
    activity = page.locator("section[aria-labelledby=timeline-title]")
    expect(activity.locator("li")).to_have_count(10)
    activity.get_by_role("link", name="Whole timeline").click()
    expect(page.get_by_role("heading", name="Timeline", level=1)).to_be_visible()
    results = page.locator("#timeline-results")
    expect(results.locator(".count")).to_contain_text("75 entries")
    expect(results.locator(".history-entry")).to_have_count(50)
    check_page(page, "timeline", screen)

    # Paging: the second page holds the oldest entries.
    results.get_by_role("link", name="Next").click()
    expect(results).to_contain_text("Page 2 of 2")
    expect(results).to_contain_text("ada created the proposal")
    expect(results.locator(".history-entry")).to_have_count(25)
    page.wait_for_load_state()  # htmx is listening to the filters before they are changed

    # Filtering swaps the results in place and keeps the filters in the address.
    page.get_by_label("Kind").select_option("review")
    expect(results.locator(".count")).to_contain_text("3 entries")
    expect(results.locator(".history-entry").first).to_contain_text("rosalind approved area 3")
    expect(page).to_have_url(re.compile(r"/timeline/\?(.*&)?kind=review"))
    page.get_by_label("Kind").select_option("")
    page.get_by_label("Person").select_option("gl-carol")
    expect(results.locator(".count")).to_contain_text("1 entry")
    expect(results).to_contain_text("gl-carol commented on GitLab")
    check_page(page, "timeline-filtered", screen)

    # The filtered timeline downloads as CSV.
    with page.expect_download() as download:
        results.get_by_role("link", name="Export as CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.count("\n") == 2 and "gl-carol commented on GitLab" in text
