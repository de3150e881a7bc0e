"""A title of any accepted length, in any script, never breaks a notification (PostgreSQL enforces lengths)."""

from __future__ import annotations

import pytest
from django.core import mail

from proposals.models import TITLE_MAX_LENGTH, Proposal
from reviews.models import Notification
from tests.factories import ProposalFactory
from tests.reviews.conftest import answer_all


@pytest.mark.django_db
@pytest.mark.parametrize("letter", ["x", "é", "漢", "🦀", "\u200d"])
def test_submitting_a_proposal_with_the_longest_title_tells_the_reviewers(
    client, author, data_reviewer, letter, django_capture_on_commit_callbacks
):
    proposal = ProposalFactory(owner=author, title="Summarise " + letter * (TITLE_MAX_LENGTH - len("Summarise ")))
    answer_all(proposal)
    client.force_login(author)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reviews/proposal/{proposal.pk}/submit/")
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.IN_REVIEW
    told = [message for message in mail.outbox if data_reviewer.email in message.to]
    assert len(told) == 1
    subject = told[0].subject
    assert subject.startswith("[Stagegate] Data Limitation")
    assert subject.endswith("…")
    assert len(subject) <= Notification._meta.get_field("subject").max_length
