"""Never lose a word: conflicts resolve on the first click, a lost session keeps the text, leaving warns.

Each journey runs on a phone (390×844) and a laptop (1366×900) screen, by real clicks and keystrokes.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from proposals import services
from proposals.models import Proposal
from tests.browser.pages import assert_no_horizontal_scroll, save_state, section_status
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROBLEM = ("user_problem",)


def someone_else_saves(proposal: Proposal, text: str, by) -> None:
    """Another person saves the user problem while the author's page is open."""
    proposal = Proposal.objects.get(pk=proposal.pk)
    values = services.section_values(proposal, PROBLEM)
    services.proposal_update_section(
        proposal=proposal,
        fields=PROBLEM,
        data={"user_problem": text},
        version=proposal.version,
        base=services.section_fingerprint(values),
        by=by,
        section_title="Problem",
    )


def type_into(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.click()
    field.press("Control+a")
    field.press_sequentially(text)


def saved_problem(proposal: Proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).user_problem


def test_each_conflict_choice_saves_on_the_first_click(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    colleague = UserFactory(username="grace", is_staff=True, is_superuser=True)
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    status = section_status(page, "problem")
    conflict = status.locator(".conflict")

    def conflict_after(theirs: str, mine: str) -> None:
        someone_else_saves(proposal, theirs, colleague)
        type_into(page, "User problem:", mine)
        expect(conflict).to_be_visible()
        expect(save_state(page)).to_contain_text("Not saved — someone else changed this section")
        # Both texts side by side, the words only the author wrote marked.
        expect(conflict.locator("pre.theirs")).to_have_text(theirs)
        expect(conflict.locator("pre.mine mark").first).to_be_visible()
        assert_no_horizontal_scroll(page)

    # Keep mine: one click saves the author's text.
    conflict_after("Reviewers read long threads every morning.", "Reviewers lose hours in long threads.")
    assert saved_problem(proposal) == "Reviewers read long threads every morning."
    with page.expect_response(lambda r: "/sections/problem/" in r.url):
        conflict.get_by_role("button", name="Keep mine").click()
    expect(conflict).to_have_count(0)
    expect(status).to_contain_text("Saved at")
    expect(save_state(page)).to_contain_text("Saved at")
    assert saved_problem(proposal) == "Reviewers lose hours in long threads."

    # Take theirs: one click, and the field shows their text.
    conflict_after("Threads are too long to read.", "My second wording.")
    conflict.get_by_role("button", name="Take theirs").click()
    expect(page.get_by_label("User problem:", exact=True)).to_have_value("Threads are too long to read.")
    expect(status).to_contain_text("You took their version.")
    assert saved_problem(proposal) == "Threads are too long to read."

    # Edit a merged text: written under both texts, saved by one click on its button.
    conflict_after("Threads are too long for reviewers.", "Threads are too long for new reviewers.")
    conflict.get_by_text("Edit a merged text").click()
    type_into(page, "Merged user problem", "Threads are too long for every reviewer.")
    # Writing the merged text does not autosave the section behind the author's back.
    expect(conflict).to_be_visible()
    conflict.get_by_role("button", name="Save merged text").click()
    expect(page.get_by_label("User problem:", exact=True)).to_have_value("Threads are too long for every reviewer.")
    expect(status).to_contain_text("Saved at")
    assert saved_problem(proposal) == "Threads are too long for every reviewer."

    # Typing on after a resolved conflict saves as usual.
    type_into(page, "User problem:", "Threads are too long for every reviewer, every day.")
    expect(save_state(page)).to_contain_text("Saved at")
    expect(page.get_by_label("User problem:", exact=True)).to_have_value(
        "Threads are too long for every reviewer, every day."
    )
    page.wait_for_function(
        "() => !Object.keys(localStorage).some(k => k.startsWith('stagegate:draft:'))"
    )  # nothing left unsaved in the browser's storage
    assert saved_problem(proposal) == "Threads are too long for every reviewer, every day."
