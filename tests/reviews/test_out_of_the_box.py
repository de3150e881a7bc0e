"""After `migrate`, an author's submit reaches the reviewers, and the author is told who heard of it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail
from rest_framework.test import APIClient

from reviews.models import OrrArea
from tests.factories import ProposalFactory, UserFactory
from tests.reviews.conftest import answer_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(author):
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    answer_all(proposal)
    return proposal


def submit(client, proposal, django_capture_on_commit_callbacks) -> list[str]:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reviews/proposal/{proposal.pk}/submit/")
    assert response.status_code == 302
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_every_migrated_area_is_served_by_the_reviewer_group():
    assert set(OrrArea.objects.values_list("reviewer_group__name", flat=True)) == {"reviewer"}


def test_a_new_area_is_served_by_the_reviewer_group_unless_told_otherwise():
    area = OrrArea.objects.create(key="security", number=99, title="Security", guidance="Threat model.")
    assert area.reviewer_group.name == "reviewer"


def test_on_a_fresh_install_a_reviewer_hears_of_a_submission_and_the_author_learns_who(
    client, author, answered, django_capture_on_commit_callbacks
):
    reviewer = UserFactory(username="rosalind", groups=["reviewer"])
    client.force_login(author)
    said = submit(client, answered, django_capture_on_commit_callbacks)
    assert {address for message in mail.outbox for address in message.to} == {reviewer.email}
    assert len(said) == 1 and "1 reviewer was told" in said[0] and "rosalind" in said[0].lower()


def test_with_nobody_to_tell_the_author_is_told_so(client, author, answered, django_capture_on_commit_callbacks):
    UserFactory(username="katherine", groups=["working group"])
    client.force_login(author)
    said = submit(client, answered, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert len(said) == 1 and said[0].startswith("Submitted, but nobody could be told")
    assert "Data Limitation" in said[0]


def test_an_area_nobody_serves_is_named_beside_those_who_were_told(
    client, author, answered, django_capture_on_commit_callbacks
):
    UserFactory(username="rosalind", groups=["reviewer"])
    OrrArea.objects.filter(key="legal").update(reviewer_group=Group.objects.create(name="orr legal"))
    client.force_login(author)
    said = submit(client, answered, django_capture_on_commit_callbacks)
    assert "1 reviewer was told" in said[0]
    assert "Nobody could be told about Legal" in said[0]


def test_the_api_names_who_was_told_about_each_review(author, answered, django_capture_on_commit_callbacks):
    UserFactory(username="rosalind", groups=["reviewer"])
    api = APIClient()
    api.force_authenticate(author)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/proposals/{answered.pk}/submit/")
    assert response.status_code == 200
    assert {review["area"]: review["told"] for review in response.json()} == {
        key: ["rosalind"] for key in OrrArea.objects.values_list("key", flat=True)
    }
