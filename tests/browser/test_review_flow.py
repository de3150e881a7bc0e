"""The review in the browser: submit, two reviewers decide, the author's edit makes a sign-off stale,
and the working group filters the dashboard and exports it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from proposals.models import Proposal
from reviews.models import OrrArea, Review
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ANSWERS = {
    "work_estimate": "Two ML engineers and one fullstack engineer for a quarter.",
    "data": "Merge request threads of opted-in projects; nothing leaves the region.",
    "model": "A hosted open-weights model, evaluated with the ModelOps framework.",
    "cost": "About 0.2 cents per summary; cached per thread version.",
    "legal": "Covered by the existing AI terms.",
}


@pytest.fixture
def people(db):
    for key in ("data", "legal"):
        group = Group.objects.get_or_create(name=f"orr {key}")[0]
        OrrArea.objects.filter(key=key).update(reviewer_group=group)
    return {
        "author": UserFactory(username="ada", groups=["author"]),
        "data_reviewer": UserFactory(username="rosalind", groups=["reviewer", "orr data"]),
        "legal_reviewer": UserFactory(username="lise", groups=["reviewer", "orr legal"]),
        "member": UserFactory(username="katherine", groups=["working group"]),
    }


def answer_area(page: Page, key: str, text: str) -> None:
    """Type an ORR answer and wait for its autosave to carry exactly that text."""
    with page.expect_response(
        lambda r: (
            r.request.method == "POST"
            and "/answer/" in r.url
            and f"/{key}/" in r.url
            and text.split()[-1] in (r.request.post_data or "")
        )
    ):
        page.locator(f"#orr-answer-{key}").fill(text)
    expect(page.locator(f"#orr-{key}-status")).to_contain_text("Saved")


def decide(page: Page, base_url: str, *, area_title: str, proposal_title: str, kind: str, comment: str) -> None:
    """From "My reviews", open the area's review of the proposal and record a decision."""
    page.goto(base_url + "/proposals/")
    page.get_by_role("link", name="My reviews").click()
    row = page.get_by_role("row").filter(has_text=area_title).filter(has_text=proposal_title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("In review")
    row.get_by_role("link", name=proposal_title).click()
    expect(page.get_by_role("heading", level=1).first).to_contain_text(area_title)
    decision = page.locator("#decision")
    decision.get_by_label(kind).check()
    decision.get_by_label("Comment").fill(comment)
    decision.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messages")).to_contain_text("Recorded:")


def test_submit_decide_stale_sign_off_and_the_dashboard(browsing, people):
    title = "Summarise merge request threads"
    proposal = ProposalFactory(owner=people["author"], title=title)
    ProposalFactory(owner=people["author"], title="Draft release notes")  # filtered out below

    # The author answers every ORR area (autosave) and submits.
    author = browsing.as_user(people["author"])
    author.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    submit = author.get_by_role("button", name="Submit for review")
    expect(submit).to_be_disabled()
    for key, text in ANSWERS.items():
        answer_area(author, key, text)
    expect(submit).to_be_enabled()  # the gates panel follows the answers without a reload
    submit.click()
    expect(author.locator(".messages")).to_contain_text("Submitted for review")
    assert Proposal.objects.get(pk=proposal.pk).state == Proposal.State.IN_REVIEW

    # The data reviewer approves; the legal reviewer asks for changes.
    data_reviewer = browsing.as_user(people["data_reviewer"])
    decide(
        data_reviewer,
        browsing.base_url,
        area_title="Data Limitation",
        proposal_title=title,
        kind="Approve (sign off)",
        comment="Opted-in projects only: fine.",
    )
    legal_reviewer = browsing.as_user(people["legal_reviewer"])
    decide(
        legal_reviewer,
        browsing.base_url,
        area_title="Legal and Ethical Framework",
        proposal_title=title,
        kind="Request changes",
        comment="Name the terms and their version.",
    )
    statuses = dict(Review.objects.filter(proposal=proposal).values_list("area__key", "status"))
    assert statuses["data"] == Review.Status.APPROVED
    assert statuses["legal"] == Review.Status.CHANGES_REQUESTED

    # The author changes the signed data answer: the page says at once that the sign-off is stale.
    author.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    expect(author.locator("#orr-data-status")).to_contain_text("Approved")
    answer_area(author, "data", ANSWERS["data"] + " Also merge request descriptions.")
    expect(author.locator("#orr-data-status")).to_contain_text("the sign-off is now stale")
    expect(author.locator("#orr-data-status")).to_contain_text("Stale")
    # The reviewer sees what changed since they signed.
    data_reviewer.reload()
    expect(data_reviewer.locator("#changes-since-sign-off")).to_contain_text("Also merge request descriptions.")

    # The working group finds it in the proposal list by its state (a select that is not the form's first)...
    member = browsing.as_user(people["member"])
    expect(member.locator("#proposal-results .count")).to_contain_text("2 proposals")
    member.locator("select[name=state]").select_option("in_review")
    expect(member.locator("#proposal-results .count")).to_contain_text("1 proposal")
    expect(member.locator("#proposal-results")).to_contain_text(title)

    # ...then narrows the dashboard to it and exports what they see.
    member.get_by_role("link", name="Dashboard").click()
    expect(member.get_by_role("status").first).to_contain_text("2 proposals")
    member.locator("select[name=state]").select_option("in_review")
    expect(member.get_by_role("status").first).to_contain_text("1 proposal matches these filters")
    member.get_by_label("Search", exact=True).fill("merge request")
    expect(member.get_by_role("status").first).to_contain_text("1 proposal matches these filters")
    assert "state=in_review" in member.url  # the filtered view has its own address
    with member.expect_download() as download:
        member.get_by_role("link", name="Export as CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [row["Title"] for row in rows] == [title]
    assert rows[0]["State"] == "In review"
