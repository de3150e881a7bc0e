"""The smaller gaps, by real clicks on a phone and a laptop: a requirement edited in place, a proposal
handed to another author (who is told and may then edit it), and confidence without research flagged."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from proposals import services
from proposals.models import Proposal
from reviews.models import InAppNotification
from tests.browser.pages import assert_no_horizontal_scroll, list_items
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_requirement_is_edited_in_place_and_cancel_keeps_it(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    for text in ("Read a summary", "Share the summary"):
        services.requirement_add(proposal=proposal, text=text, by=author)
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    rows = list_items(page, "#requirements")

    page.get_by_role("link", name="Edit “Read a summary”").click()
    field = page.get_by_label("Edit the requirement")
    expect(field).to_be_focused()
    expect(field).to_have_value("Read a summary")
    assert_no_horizontal_scroll(page)
    field.fill("Read a two-line summary at the top")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(rows.first).to_contain_text("Read a two-line summary at the top")
    expect(page.get_by_label("Edit the requirement")).to_have_count(0)
    assert list(proposal.requirements.values_list("text", flat=True)) == [
        "Read a two-line summary at the top",
        "Share the summary",
    ]

    # A blank text is refused where it was typed; Cancel leaves the saved text as it was.
    page.get_by_role("link", name="Edit “Share the summary”").click()
    page.get_by_label("Edit the requirement").fill("   ")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#requirements [role=alert]")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_label("Edit the requirement")).to_have_count(0)
    expect(rows.nth(1)).to_contain_text("Share the summary")
    assert proposal.requirements.order_by("position").last().text == "Share the summary"
    assert not browsing.problems.errors and not browsing.problems.csp


def test_the_owner_hands_the_proposal_over_and_the_new_owner_is_told(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    UserFactory(username="grace", groups=["author"])
    proposal = ProposalFactory(owner=author, title="Explain this vulnerability")
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/"))

    page.get_by_text("Hand over this proposal").click()
    page.get_by_label("New owner (username)").fill("grace")
    page.get_by_role("button", name="Hand over", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand “Explain this vulnerability” over to grace?")
    assert_no_horizontal_scroll(page)
    assert Proposal.objects.get(pk=proposal.pk).owner == author
    page.get_by_role("button", name="Hand over to grace").click()

    expect(page.locator(".messages")).to_contain_text("grace now owns “Explain this vulnerability”")
    expect(page.locator("#people")).to_contain_text("Owner: grace")
    expect(page.get_by_role("link", name="Edit proposal")).to_have_count(0)
    assert Proposal.objects.get(pk=proposal.pk).owner.username == "grace"
    assert proposal.activities.filter(message__contains="handed the proposal from ada to grace").exists()

    # The new owner finds it under the bell and may edit it.
    grace_page = browsing.as_user(Proposal.objects.get(pk=proposal.pk).owner)
    assert InAppNotification.objects.filter(user__username="grace", proposal=proposal).exists()
    grace_page.goto(browsing.url("/reviews/notifications/"))
    expect(grace_page.locator("main")).to_contain_text("ada handed you the proposal “Explain this vulnerability”")
    grace_page.goto(browsing.url(f"/proposals/{proposal.pk}/"))
    expect(grace_page.get_by_role("link", name="Edit proposal")).to_be_visible()
    assert_no_horizontal_scroll(grace_page)
    assert not browsing.problems.errors and not browsing.problems.csp


def test_high_confidence_without_research_is_flagged_in_the_list_and_filtered(browsing, screen):
    author = UserFactory(username="ada", groups=["author"])
    ProposalFactory(owner=author, title="Unbacked claim", confidence="high")
    backed = ProposalFactory(owner=author, title="Researched claim", confidence="high")
    services.research_link_add(proposal=backed, url="https://example.com/r", title="Interviews", by=author)
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url("/proposals/"))

    expect(page.locator("tr", has_text="Unbacked claim")).to_contain_text("No research")
    expect(page.locator("tr", has_text="Researched claim")).not_to_contain_text("No research")
    page.get_by_label("High confidence, no research").check()
    expect(page.locator("#proposal-results")).not_to_contain_text("Researched claim")
    expect(page.locator("#proposal-results")).to_contain_text("1 proposal")
    assert_no_horizontal_scroll(page)
