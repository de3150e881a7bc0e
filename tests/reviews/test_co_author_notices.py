"""A proposal's co-authors hear what its owner hears about it: decisions, stale sign-offs, expired waivers,
the review thread. Watching is not needed for that, and a notice still reaches only the proposal's readers."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from proposals import access
from proposals.models import Proposal
from reviews import services
from reviews.models import Decision, InAppNotification, Review, Watch
from tests.factories import UserFactory
from tests.reviews.conftest import review_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def co_author(submitted_proposal):
    person = UserFactory(username="co_writer", email="co_writer@example.com", groups=["author"])
    submitted_proposal.co_authors.add(person)
    access.forget_co_authors(submitted_proposal)
    Watch.objects.filter(proposal=submitted_proposal, user=person).delete()
    return person


def told(user) -> list[str]:
    """The subjects of the e-mails this person received."""
    return [message.subject for message in mail.outbox if user.email in message.to]


def bell(user) -> list[str]:
    return list(InAppNotification.objects.filter(user=user).values_list("event", flat=True))


def test_a_co_author_who_does_not_watch_is_told_of_a_decision(
    submitted_proposal, author, co_author, make_reviewer, django_capture_on_commit_callbacks
):
    data_reviewer = make_reviewer("data")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(
            review=review_of(submitted_proposal, "data"), kind="changes_requested", comment="Name it.", by=data_reviewer
        )

    assert not Watch.objects.filter(proposal=submitted_proposal, user=co_author).exists()
    assert any("changes requested" in subject for subject in told(co_author))
    assert any("changes requested" in subject for subject in told(author))
    assert "decided" in bell(co_author)


def test_a_confidential_proposals_decision_reaches_its_co_author_but_no_former_one(
    submitted_proposal, author, co_author, make_reviewer, django_capture_on_commit_callbacks
):
    former = UserFactory(username="former", email="former@example.com", groups=["author"], is_active=False)
    submitted_proposal.co_authors.add(former)
    Proposal.objects.filter(pk=submitted_proposal.pk).update(confidential=True)
    data_reviewer = make_reviewer("data")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(review=review_of(submitted_proposal, "data"), kind="approved", by=data_reviewer)

    assert told(co_author) and told(author)
    assert told(former) == [] and bell(former) == []


def test_the_other_authors_learn_that_a_sign_off_went_stale(
    submitted_proposal, author, co_author, make_reviewer, django_capture_on_commit_callbacks
):
    data_reviewer = make_reviewer("data")
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(review=review_of(submitted_proposal, "data"), kind="approved", by=data_reviewer)
    mail.outbox.clear()

    review = review_of(submitted_proposal, "data")
    with django_capture_on_commit_callbacks(execute=True):
        services.review_answer_save(
            review=review, answer="Covered by DPA 2024-17.", base_sha256=review.answer_sha256, by=co_author
        )

    stale = [subject for subject in told(author) if "Sign-off stale" in subject]
    assert stale, told(author)
    assert any("Sign-off stale" in subject for subject in told(data_reviewer))
    # Who changed the answer knows already.
    assert not any("Sign-off stale" in subject for subject in told(co_author))
    body = next(m.body for m in mail.outbox if author.email in m.to and "Sign-off stale" in m.subject)
    assert f"after {data_reviewer} signed it off" in body


def test_a_reviewers_comment_reaches_every_author_and_an_authors_comment_reaches_the_others(
    submitted_proposal, author, co_author, make_reviewer, django_capture_on_commit_callbacks
):
    data_reviewer = make_reviewer("data")
    review = review_of(submitted_proposal, "data")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.review_comment_add(review=review, body="Which DPA?", by=data_reviewer)
    assert told(author) and told(co_author)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_comment_add(review=review, body="DPA 2024-17.", by=co_author)
    assert told(author) and told(data_reviewer)
    assert told(co_author) == []


def test_an_expired_waiver_is_told_to_the_co_author(
    submitted_proposal, author, co_author, make_reviewer, django_capture_on_commit_callbacks
):
    legal_reviewer = make_reviewer("legal")
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(
            review=review_of(submitted_proposal, "legal"),
            kind=Decision.Kind.NOT_APPLICABLE,
            comment="Internal data only.",
            waiver_expires_on=today + datetime.timedelta(days=1),
            by=legal_reviewer,
        )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.reviews_expire_waivers(today=today + datetime.timedelta(days=2))

    assert review_of(submitted_proposal, "legal").status == Review.Status.WAIVER_EXPIRED
    assert any("Waiver expired" in subject for subject in told(co_author))


def test_a_co_author_in_the_reviewer_group_gets_no_digest_of_their_own_proposal(
    submitted_proposal, co_author, areas, django_capture_on_commit_callbacks
):
    co_author.groups.add(areas["data"].reviewer_group, Group.objects.get_or_create(name="reviewer")[0])
    due = max(Review.objects.filter(proposal=submitted_proposal).values_list("due_on", flat=True))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.reviews_send_digest(today=due)

    assert not any("due or overdue" in subject for subject in told(co_author))
