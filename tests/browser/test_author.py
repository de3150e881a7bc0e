"""An author writes a proposal in the browser: autosave, lists, checklists, and nothing is lost on reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from proposals.models import Proposal
from tests.browser.pages import autosave, checklist_box, create_proposal, list_items, section_status
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Every text answer of the edit page, by section, as a person would type them (with Markdown and line breaks).
ANSWERS = {
    "problem": {
        "User problem:": "Reviewers spend **hours** reading long merge request threads.",
        "Solution hypothesis:": "A summary of the thread lets them catch up in a minute.",
        "Assumptions:": "Threads are mostly English.\nSummaries are trusted when they cite comments.",
        "Others, not in the list (free text)": "Mostly @sasha and @priyanka.",
    },
    "experiment-proposal": {
        "Proposal:": "Add a 'Summarise thread' button to the merge request page.",
        "Success:": "Half of the reviewers who try it use it again within a week.",
    },
    "job-story": {
        "Main job story:": "When I come back to a merge request, I want the gist, so I can review quickly.",
        "Proposal updates/additions:": "Summaries also go into the review digest e-mail.",
    },
    "validation": {
        "Problem validation:": "Twelve interviews; nine reviewers named thread length as their top pain.",
        "Business objective:": "Shorter time to merge for large merge requests.",
    },
    "needs": {
        "Dependency needs:": "The AI gateway must support streaming.",
        "Legal needs:": "None beyond the existing AI terms.",
    },
}


def test_an_author_writes_a_whole_proposal_and_finds_every_word_after_a_reload(browsing):
    author = UserFactory(username="ada", groups=["author"])
    page = browsing.as_user(author)
    pk = create_proposal(page, browsing.base_url, "Summarise merge request threads")

    # Title and labels first: autosave of the details section renames the proposal.
    autosave(page, "details", {"Title:": "Summarise long merge request threads", "Labels:": "wg-ai-integration, ux"})

    for section_key, answers in ANSWERS.items():
        autosave(page, section_key, answers)

    # Checkboxes and selects save on change.
    page.get_by_label("Sasha (Software Developer)", exact=True).check()
    page.get_by_label("Priyanka (Platform Engineer)", exact=True).check()
    expect(section_status(page, "problem")).to_contain_text("Saved")
    page.get_by_label("Confidence:", exact=True).select_option("medium")
    expect(section_status(page, "confidence")).to_contain_text("Saved")

    # The checklist items Stagegate verifies itself follow the answers, without a reload.
    expect(checklist_box(page, "The user problem being solved")).to_be_checked()
    expect(checklist_box(page, "The user problem being solved")).to_be_disabled()
    expect(page.locator("#completeness")).to_contain_text("6/6")

    # Requirements: add three, move the last one up, remove the first.
    requirements = list_items(page, "#requirements")
    for text in ("See the summary above the thread", "Jump from a sentence to its comment", "Turn summaries off"):
        page.get_by_label("The user needs to be able to").fill(text)
        page.get_by_role("button", name="Add requirement").click()
        expect(requirements.last).to_contain_text(text)
    expect(requirements).to_have_count(3)
    page.get_by_role("button", name="Move “Turn summaries off” up").click()
    expect(requirements).to_contain_text(
        ["See the summary above the thread", "Turn summaries off", "Jump from a sentence to its comment"]
    )
    page.get_by_role("button", name="Remove “See the summary above the thread”").click()
    expect(requirements).to_contain_text(["Turn summaries off", "Jump from a sentence to its comment"])

    # Research links: add two, move the second up, remove the other.
    links = list_items(page, "#research-links")
    for url, title in (
        ("https://gitlab.example.com/ux/research/-/issues/12", "Interview synthesis"),
        ("https://gitlab.example.com/ux/research/-/issues/31", "Survey of reviewers"),
    ):
        page.get_by_label("Research or insight issue URL").fill(url)
        page.locator("#research-links").get_by_label("Title").fill(title)
        page.get_by_role("button", name="Add link").click()
        expect(links.last).to_contain_text(title)
    page.get_by_role("button", name="Move Survey of reviewers up").click()
    expect(links).to_contain_text(["Survey of reviewers", "Interview synthesis"])
    page.get_by_role("button", name="Remove Interview synthesis").click()
    expect(links).to_have_count(1)
    expect(links.first.get_by_role("link", name="Survey of reviewers")).to_have_attribute(
        "href", "https://gitlab.example.com/ux/research/-/issues/31"
    )

    # Checklists the author ticks by hand: each tick is saved at once and stays drawn (a background refresh
    # of the panel never paints an older state over it); the reload below checks what was saved.
    for text in ("Add relevant designs to the Design Management area of the issue.", "TBD"):
        with page.expect_response(lambda r: r.request.method == "POST" and f"/{pk}/checklist/" in r.url) as toggled:
            checklist_box(page, text).click()
        assert toggled.value.ok
        expect(checklist_box(page, text)).to_be_checked()

    # Reload: every answer, choice, list and tick is still there.
    page.reload()
    expect(page.get_by_role("heading", level=1).first).to_have_text("Summarise long merge request threads")
    expect(page.get_by_label("Labels:", exact=True)).to_have_value("wg-ai-integration, ux")
    for answers in ANSWERS.values():
        for label, text in answers.items():
            expect(page.get_by_label(label, exact=True)).to_have_value(text)
    expect(page.get_by_label("Sasha (Software Developer)", exact=True)).to_be_checked()
    expect(page.get_by_label("Priyanka (Platform Engineer)", exact=True)).to_be_checked()
    expect(page.get_by_label("Alex (Security Operations Engineer)", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Confidence:", exact=True)).to_have_value("medium")
    expect(list_items(page, "#requirements")).to_contain_text(
        ["Turn summaries off", "Jump from a sentence to its comment"]
    )
    expect(list_items(page, "#research-links")).to_contain_text(["Survey of reviewers"])
    expect(checklist_box(page, "Add relevant designs to the Design Management area of the issue.")).to_be_checked()
    expect(checklist_box(page, "TBD")).to_be_checked()

    # Unticking is saved too.
    with page.expect_response(lambda r: r.request.method == "POST" and f"/{pk}/checklist/" in r.url):
        checklist_box(page, "TBD").uncheck()
    page.reload()
    expect(checklist_box(page, "TBD")).not_to_be_checked()
    expect(checklist_box(page, "Add relevant designs to the Design Management area of the issue.")).to_be_checked()

    # The Content-Security-Policy holds in the browser: a script added without the page's nonce never runs.
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
            " document.head.append(s); }"
        )
    assert page.evaluate("() => window.injected") is None
    browsing.problems.csp.clear()  # that refusal was the point; any other violation still fails the test

    # A colleague reads the same answers on the read view.
    colleague = browsing.as_user(UserFactory(username="grace", groups=["author"]))
    colleague.goto(browsing.url(f"/proposals/{pk}/"))
    expect(colleague.get_by_role("heading", level=1).first).to_contain_text("Summarise long merge request threads")
    expect(colleague.locator("main")).to_contain_text("Twelve interviews; nine reviewers named thread length")
    expect(colleague.locator("main")).to_contain_text("Jump from a sentence to its comment")

    # What was saved is exactly what was typed.
    proposal = Proposal.objects.get(pk=pk)
    assert proposal.user_problem == ANSWERS["problem"]["User problem:"]
    assert list(proposal.requirements.values_list("text", flat=True)) == [
        "Turn summaries off",
        "Jump from a sentence to its comment",
    ]
