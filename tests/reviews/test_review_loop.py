"""The review loop: a reviewer's reason next to the area, the author's answer, one-button resubmit, and the
reviewer's queue saying "waiting for author" / "answered" instead of dropping the review."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviews import services
from reviews.models import Review
from tests.factories import ProposalFactory
from tests.reviews.conftest import answer_all, review_of

pytestmark = pytest.mark.django_db

REASON = "Say which projects the model is trained on."


def submitted(owner, title="Summarise threads"):
    proposal = ProposalFactory(owner=owner, title=title)
    answer_all(proposal)
    services.review_submit_for_review(proposal=proposal, by=owner)
    return proposal


def changes_requested(proposal, reviewer) -> Review:
    review = review_of(proposal, "data")
    services.review_decide(review=review, kind="changes_requested", comment=REASON, by=reviewer)
    return review_of(proposal, "data")


def queue_row(client, title: str) -> str:
    html = client.get(reverse("reviews:queue")).content.decode()
    html = html[html.index('id="queue-results"') :]
    start = html.index(title)
    return html[start : html.index("</tr>", start)]


def test_the_queue_keeps_a_changes_requested_review_as_waiting_for_author_then_answered(client, author, data_reviewer):
    proposal = submitted(author)
    review = changes_requested(proposal, data_reviewer)
    client.force_login(data_reviewer)
    assert "Waiting for author" in queue_row(client, "Summarise threads")

    services.review_answer_save(
        review=review, answer="Opted-in projects only.", base_sha256=review.answer_sha256, by=author
    )
    assert "Answered" in queue_row(client, "Summarise threads")

    services.review_submit_for_review(proposal=proposal, by=author, only=review_of(proposal, "data"))
    assert "In review" in queue_row(client, "Summarise threads")


def test_a_reply_in_the_discussion_also_counts_as_answered(client, author, data_reviewer):
    proposal = submitted(author)
    review = changes_requested(proposal, data_reviewer)
    services.review_comment_add(review=review, body="Only projects that opted in.", by=author)
    client.force_login(data_reviewer)
    assert "Answered" in queue_row(client, "Summarise threads")
    assert review_of(proposal, "data").author_answered


def test_the_author_sees_the_reason_next_to_the_area_and_one_resubmit_button(client, author, data_reviewer):
    proposal = submitted(author)
    review = changes_requested(proposal, data_reviewer)
    client.force_login(author)
    for url in (reverse("reviews:answers", args=[proposal.pk]), proposal.get_absolute_url()):
        page = client.get(url).content.decode()
        assert REASON in page and data_reviewer.username in page
        assert "Answered — resubmit" not in page
    services.review_answer_save(review=review, answer="Opted-in only.", base_sha256=review.answer_sha256, by=author)
    for url in (reverse("reviews:answers", args=[proposal.pk]), proposal.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "Answered — resubmit" in page
        assert page.count(f'action="{reverse("reviews:resubmit", args=[review.pk])}"') == 1

    response = client.post(reverse("reviews:resubmit", args=[review.pk]), {"next": "answers"})
    assert response.status_code == 302 and response["Location"].endswith(f"#orr-{review.area.key}")
    assert review_of(proposal, "data").status == Review.Status.IN_REVIEW
    # Only that area went back to the reviewers.
    assert review_of(proposal, "cost").status == Review.Status.IN_REVIEW  # as it was: never decided


def test_resubmitting_an_area_not_waiting_for_it_changes_nothing(client, author):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    client.force_login(author)
    client.post(reverse("reviews:resubmit", args=[review.pk]), follow=True)
    assert review_of(proposal, "data").status == Review.Status.IN_REVIEW
    assert review_of(proposal, "data").assigned_at == review.assigned_at


def test_only_the_author_or_an_admin_resubmits(client, author, data_reviewer):
    proposal = submitted(author)
    review = changes_requested(proposal, data_reviewer)
    client.force_login(data_reviewer)
    assert client.post(reverse("reviews:resubmit", args=[review.pk])).status_code == 403
    assert review_of(proposal, "data").status == Review.Status.CHANGES_REQUESTED


def test_the_review_page_has_one_decision_form_and_one_discussion_box(client, author, data_reviewer):
    proposal = submitted(author)
    client.force_login(data_reviewer)
    page = client.get(reverse("reviews:detail", args=[review_of(proposal, "data").pk])).content.decode()
    assert page.count(f'action="{reverse("reviews:decide", args=[review_of(proposal, "data").pk])}"') == 1
    assert page.count(f'action="{reverse("reviews:comment", args=[review_of(proposal, "data").pk])}"') == 1
    assert page.count("<textarea") == 2  # the decision's comment and the discussion's message, labelled apart
    assert "Comment for the author" in page and "Your message" in page


def test_the_queue_runs_the_same_queries_for_few_and_many_answered_reviews(client, author, data_reviewer):
    def queries() -> int:
        client.force_login(data_reviewer)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("reviews:queue")).status_code == 200
        return len(captured)

    proposal = submitted(author, "first")
    changes_requested(proposal, data_reviewer)
    few = queries()
    for n in range(8):
        other = submitted(author, f"more {n}")
        review = changes_requested(other, data_reviewer)
        services.review_comment_add(review=review, body="Answered.", by=author)
    assert queries() == few
