"""Big actions ask first: a template move previews what moves and what is kept; close and reopen confirm;
a closed proposal is read-only until reopened. On a phone and a laptop, by real clicks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from proposals.models import Proposal
from tests.browser.pages import assert_no_horizontal_scroll
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LATEST = "AI Project Proposal (Experiment, Beta, Generally Available; latest found)"


def test_template_move_close_and_reopen_ask_first(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    Proposal.objects.filter(pk=proposal.pk).update(user_problem="Reviewers drown in threads.", confidence="high")
    browsing.viewport = screen
    page = browsing.as_user(author)
    edit_url = browsing.url(f"/proposals/{proposal.pk}/edit/")
    page.goto(edit_url)

    # Template move: a preview first, and Cancel changes nothing.
    page.get_by_label("Template version").select_option(label=LATEST)
    page.get_by_role("button", name="Preview the move").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"to {LATEST}?")
    expect(page.locator("main")).to_contain_text("Reviewers drown in threads.")
    expect(page.get_by_role("heading", name=f"Kept without a place in {LATEST}")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(edit_url)
    assert Proposal.objects.get(pk=proposal.pk).template_version == "2023-06"
    page.get_by_label("Template version").select_option(label=LATEST)
    page.get_by_role("button", name="Preview the move").click()
    page.get_by_role("button", name=f"Move to {LATEST}").click()
    expect(page.locator(".messages")).to_contain_text(f"The proposal now follows “{LATEST}”")
    assert Proposal.objects.get(pk=proposal.pk).template_version == "2023-beta"

    # Close: asked once more, then closed and read-only.
    page.goto(browsing.url(f"/proposals/{proposal.pk}/"))
    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Close this proposal?")
    expect(page.locator("main")).to_contain_text("read-only")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Close the proposal").click()
    expect(page.locator(".messages")).to_contain_text("Closed.")
    assert Proposal.objects.get(pk=proposal.pk).state == Proposal.State.CLOSED
    page.goto(edit_url)
    expect(page.locator(".messages")).to_contain_text("closed and read-only")
    expect(page.get_by_label("User problem:", exact=True)).to_have_count(0)

    # Reopen: asked once more, then editable again.
    page.get_by_role("button", name="Reopen", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reopen this proposal?")
    page.get_by_role("button", name="Reopen as a draft").click()
    expect(page.locator(".messages")).to_contain_text("Reopened as a draft.")
    page.goto(edit_url)
    expect(page.get_by_label("User problem:", exact=True)).to_have_value("Reviewers drown in threads.")
