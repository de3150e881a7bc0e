"""Approval for General Availability is the working group's decision (or an admin's), recorded like an ORR decision."""

from __future__ import annotations

import pytest

from proposals import workflow
from proposals.models import Activity, Approval, Proposal
from proposals.template import Stage
from reviews import services
from tests.factories import UserFactory
from tests.workflow.conftest import fill, sign_off_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(answered_proposal, author, reviewers):
    """A proposal with every gate to General Availability open."""
    proposal = fill(answered_proposal, Stage.EXPERIMENT)
    proposal = workflow.proposal_advance_stage(proposal=proposal, by=author)
    proposal = fill(proposal, Stage.GA)
    services.review_submit_for_review(proposal=proposal, by=author)
    sign_off_all(Proposal.objects.get(pk=proposal.pk), reviewers)
    return Proposal.objects.get(pk=proposal.pk)


def buttons(client, user, proposal) -> str:
    client.force_login(user)
    response = client.get(f"/reviews/proposal/{proposal.pk}/gates/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_author_cannot_approve_their_own_proposal_nor_sees_the_button(client, author, ready):
    assert "Approve for General Availability" not in buttons(client, author, ready)
    assert client.post(f"/reviews/proposal/{ready.pk}/approve/").status_code == 403
    assert Proposal.objects.get(pk=ready.pk).state == Proposal.State.IN_REVIEW
    assert workflow.approve_gate(ready, by=author) == [workflow.APPROVERS_ONLY]


def test_an_admin_who_wrote_the_proposal_cannot_approve_it(client, ready):
    Proposal.objects.filter(pk=ready.pk).update(owner=UserFactory(username="boss", groups=["admin", "author"]))
    owner = Proposal.objects.get(pk=ready.pk).owner
    client.force_login(owner)
    assert client.post(f"/reviews/proposal/{ready.pk}/approve/").status_code == 403


def test_the_working_group_approves_and_who_when_and_which_content_is_recorded(client, working_group_member, ready):
    page = buttons(client, working_group_member, ready)
    assert "Approve for General Availability" in page
    assert "Submit for review" not in page and "Close" not in page
    response = client.post(f"/reviews/proposal/{ready.pk}/approve/")
    assert response.status_code == 302
    proposal = Proposal.objects.get(pk=ready.pk)
    assert proposal.state == Proposal.State.APPROVED
    approval = Approval.objects.get(proposal=proposal)
    assert approval.approved_by == working_group_member
    assert approval.proposal_version == ready.version
    assert approval.content_sha256 == workflow.content_sha256(ready)
    entry = proposal.activities.filter(kind=Activity.Kind.STATE).first()
    assert entry.actor == working_group_member
    assert entry.data["sha256"] == approval.content_sha256


def test_a_reviewer_or_another_author_cannot_approve(client, other_author, ready, make_reviewer):
    for user in (other_author, make_reviewer("data", "rev_extra")):
        client.force_login(user)
        assert client.post(f"/reviews/proposal/{ready.pk}/approve/").status_code == 403
    assert not Approval.objects.exists()
