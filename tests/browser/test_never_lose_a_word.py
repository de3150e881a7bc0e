"""Never lose a word: conflicts resolve on the first click, a lost session keeps the text, leaving warns.

Each journey runs on a phone (390×844) and a laptop (1366×900) screen, by real clicks and keystrokes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from proposals import services
from proposals.models import Proposal
from tests.browser.conftest import PASSWORD
from tests.browser.pages import assert_no_horizontal_scroll, log_out, save_state, section_status
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROBLEM = ("user_problem",)
SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"


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
    conflict.get_by_text("Edit a merged text").scroll_into_view_if_needed()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=SCREENS / f"conflict-{screen['width']}.png", caret="initial"
    )  # what the author sees, for a human to look at
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


def draft_in_storage(page: Page) -> str:
    """Everything the browser keeps in localStorage for unsaved drafts, as one text."""
    return page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('stagegate:draft:'))"
        ".map(k => localStorage.getItem(k)).join(' ')"
    )


def test_signed_out_while_typing_keeps_the_text_and_saves_once_signed_in_again(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    browsing.viewport = screen
    page = browsing.as_user(author)
    edit_url = browsing.url(f"/proposals/{proposal.pk}/edit/")
    page.goto(edit_url)

    # The author logs out in another tab of the same browser, then goes on typing here.
    other_tab = browsing.tab(page)
    other_tab.goto(browsing.url("/proposals/"))
    log_out(other_tab)
    success = page.get_by_label("Success:", exact=True)
    success.click()
    success.press_sequentially("Half of the reviewers use it again")
    state = save_state(page)
    expect(state).to_contain_text("Signed out — sign in again to save")
    # The form is untouched: the text, the section's hidden version and base, no login page inside it.
    expect(success).to_have_value("Half of the reviewers use it again")
    expect(section_status(page, "experiment-proposal").locator("input[name=version]")).to_have_count(1)
    expect(page.locator("#section-experiment-proposal form input[name=password]")).to_have_count(0)
    assert "Half of the reviewers use it again" in draft_in_storage(page)
    assert Proposal.objects.get(pk=proposal.pk).success == ""
    expect(state).to_be_in_viewport()

    # The message's link signs in in a new tab, which comes back to this page.
    with page.expect_popup() as popup:
        state.get_by_role("link", name="Sign in").click()
    sign_in = popup.value
    browsing.problems.watch(sign_in)
    sign_in.get_by_label("Username").fill(author.username)
    sign_in.get_by_label("Password").press_sequentially(PASSWORD)
    sign_in.get_by_role("button", name="Log in").click()
    sign_in.wait_for_url(edit_url)
    # The sign-in tab does not save this tab's draft behind its back.
    expect(sign_in.get_by_label("Success:", exact=True)).to_have_value("")

    # Back here, the next keystroke saves everything typed.
    page.bring_to_front()
    success.press_sequentially(" within a week.")
    expect(state).to_contain_text("Saved at")
    assert Proposal.objects.get(pk=proposal.pk).success == "Half of the reviewers use it again within a week."
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.startsWith('stagegate:draft:'))")


def test_leaving_mid_save_asks_first_and_the_save_state_stays_on_screen(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url("/proposals/"))
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    state = save_state(page)
    expect(state).to_contain_text("Every change saves as you type")

    # Far down the page, the save state is still on screen while typing.
    legal = page.get_by_label("Legal needs:", exact=True)
    legal.click()
    legal.press_sequentially("None beyond the AI terms.")
    expect(state).to_be_in_viewport()
    expect(state).to_contain_text("Saved at")
    expect(state).to_be_in_viewport()

    # The server cannot be reached: the save fails, the state says why, and it retries.
    page.route("**/sections/**", lambda route: route.abort())
    legal.press_sequentially(" And the DPA.")
    expect(state).to_contain_text("Not saved — retrying (no connection to Stagegate)")
    expect(state).to_be_in_viewport()

    asked = []

    def stay(dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    # A typed address: the browser asks first; staying keeps the page and the text.
    with pytest.raises(Exception):  # noqa: B017, PT011 - Playwright reports the cancelled navigation as an error
        page.goto(browsing.url("/dashboard/"), timeout=5_000)
    assert asked == ["beforeunload"]
    expect(legal).to_have_value("None beyond the AI terms. And the DPA.")
    # The back button: asked again, and staying keeps the text.
    with pytest.raises(Exception):  # noqa: B017, PT011
        page.go_back(timeout=5_000)
    assert asked == ["beforeunload", "beforeunload"]
    expect(legal).to_have_value("None beyond the AI terms. And the DPA.")
    page.remove_listener("dialog", stay)

    # The connection comes back: the retry saves, and leaving no longer asks.
    page.unroute("**/sections/**")
    expect(state).to_contain_text("Saved at")
    assert Proposal.objects.get(pk=proposal.pk).legal_needs == "None beyond the AI terms. And the DPA."
    page.go_back()
    expect(page).to_have_url(browsing.url("/proposals/"))
