"""`/orr` decisions written on GitLab bind to the answer as it was when the comment was posted."""

from __future__ import annotations

import pytest

from gitlab_sync import inbound, outbox
from gitlab_sync.models import SyncState
from reviews.models import Decision, GitLabAccount, Review
from reviews.services import review_answer_save
from tests.reviews.conftest import (  # noqa: F401  (fixtures)
    answered_proposal,
    areas,
    data_reviewer,
    make_reviewer,
    submitted_proposal,
)

pytestmark = pytest.mark.django_db


def _bot_replies(fake, iid: int) -> list[str]:
    return [note.body for note in fake.issue(iid).notes.values() if note.author.username == fake.bot.username]


@pytest.fixture
def reviewed_on_gitlab(fake, submitted_proposal, data_reviewer):  # noqa: F811
    """The submitted proposal linked to its issue; the data reviewer is GitLab's human user."""
    outbox.push(submitted_proposal.pk)
    GitLabAccount.objects.create(user=data_reviewer, gitlab_username=fake.human.username, gitlab_user_id=fake.human.id)
    return submitted_proposal, SyncState.objects.get(proposal=submitted_proposal).issue_iid


def test_an_orr_command_posted_before_the_answer_changed_is_refused_with_a_reply(fake, reviewed_on_gitlab, author):
    proposal, iid = reviewed_on_gitlab
    fake.human_comment(iid, "/orr approve data")  # posted while the old answer stood
    review = proposal.reviews.get(area__key="data")
    review_answer_save(review=review, answer="Now with customer data.", base_sha256=review.answer_sha256, by=author)

    inbound.pull_comments(proposal.pk)

    review = proposal.reviews.get(area__key="data")
    assert review.status != Review.Status.APPROVED and not review.decisions.exists()
    (reply,) = _bot_replies(fake, iid)
    assert "changed the answer after your comment" in reply and "Nothing was recorded" in reply


def test_an_orr_command_posted_after_the_answer_changed_decides_that_answer(fake, reviewed_on_gitlab, author):
    proposal, iid = reviewed_on_gitlab
    review = proposal.reviews.get(area__key="data")
    review_answer_save(review=review, answer="Now with customer data.", base_sha256=review.answer_sha256, by=author)
    fake.human_comment(iid, "/orr approve data")

    inbound.pull_comments(proposal.pk)

    decision = Decision.objects.get(review__proposal=proposal, review__area__key="data")
    assert decision.answer_text == "Now with customer data." and decision.source == Decision.Source.GITLAB
    assert "recorded" in _bot_replies(fake, iid)[0]


def test_an_orr_command_in_an_internal_note_decides_and_is_answered_inside_the_internal_thread(
    fake, reviewed_on_gitlab
):
    """GitLab shows an internal note only to members who may see internal notes; a reply in its thread is
    internal too (``Notes::BuildService`` takes the thread's confidentiality). The reply names no reason."""
    proposal, iid = reviewed_on_gitlab
    note = fake.human_comment(iid, "/orr changes data The export leaks INC-4411 customer names", internal=True)
    inbound.pull_comments(proposal.pk)

    review = proposal.reviews.select_related("current_decision").get(area__key="data")
    assert review.status == Review.Status.CHANGES_REQUESTED
    assert review.current_decision.reason_internal is True
    assert review.current_decision.comment == "The export leaks INC-4411 customer names"
    [reply] = [n for n in fake.issue(iid).notes.values() if n.author.username == fake.bot.username]
    assert reply.internal and reply.discussion_id == note.discussion_id
    assert "INC-4411" not in reply.body and "recorded" in reply.body


def test_an_orr_command_in_a_public_comment_is_answered_with_a_public_comment(fake, reviewed_on_gitlab):
    proposal, iid = reviewed_on_gitlab
    note = fake.human_comment(iid, "/orr changes data Name the retention period.")
    inbound.pull_comments(proposal.pk)

    decision = proposal.reviews.select_related("current_decision").get(area__key="data").current_decision
    assert decision.comment == "Name the retention period." and decision.reason_internal is False
    [reply] = [n for n in fake.issue(iid).notes.values() if n.author.username == fake.bot.username]
    assert not reply.internal and reply.discussion_id != note.discussion_id
