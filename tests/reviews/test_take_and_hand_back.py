"""A reviewer takes a group review ("assign to me") and hands it back, on the page and through the API."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from proposals.models import Activity
from tests.reviews.conftest import review_of

pytestmark = pytest.mark.django_db


def test_a_reviewer_takes_a_group_review_from_its_page_and_hands_it_back(
    client, submitted_proposal, data_reviewer, make_reviewer, django_capture_on_commit_callbacks
):
    colleague = make_reviewer("data", "rev_colleague")
    review = review_of(submitted_proposal, "data")
    client.force_login(data_reviewer)
    assert "Assign to me" in client.get(f"/reviews/{review.pk}/").content.decode()

    assert client.post(f"/reviews/{review.pk}/take/").status_code == 302
    assert review_of(submitted_proposal, "data").reviewer == data_reviewer
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert "Hand back to the group" in page and "Assign to me" not in page
    assert Activity.objects.filter(message__contains="took ORR “Data Limitation”").exists()

    # Someone else's now: the colleague cannot take it over nor hand it back.
    client.force_login(colleague)
    client.post(f"/reviews/{review.pk}/take/")
    assert review_of(submitted_proposal, "data").reviewer == data_reviewer
    assert client.post(f"/reviews/{review.pk}/hand-back/").status_code == 403

    mail.outbox.clear()
    client.force_login(data_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/reviews/{review.pk}/hand-back/").status_code == 302
    assert review_of(submitted_proposal, "data").reviewer is None
    # The group hears that the review is theirs again.
    assert colleague.email in {address for message in mail.outbox for address in message.to}


def test_only_current_reviewers_of_the_area_take_its_review(
    client, submitted_proposal, author, legal_reviewer, admin_user
):
    review = review_of(submitted_proposal, "data")
    for user in (author, legal_reviewer, admin_user):
        client.force_login(user)
        assert client.post(f"/reviews/{review.pk}/take/").status_code == 403
    assert review_of(submitted_proposal, "data").reviewer is None


def test_the_api_takes_and_hands_back(submitted_proposal, data_reviewer):
    api = APIClient()
    api.force_authenticate(data_reviewer)
    review = review_of(submitted_proposal, "data")
    taken = api.post(f"/api/reviews/{review.pk}/take/")
    assert taken.status_code == 200 and taken.json()["reviewer"] == data_reviewer.username
    back = api.post(f"/api/reviews/{review.pk}/hand-back/")
    assert back.status_code == 200 and back.json()["reviewer"] is None
    assert api.post(f"/api/reviews/{review.pk}/hand-back/").status_code == 403
