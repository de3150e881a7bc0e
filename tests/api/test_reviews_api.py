"""The ORR through the API: the same separation of duties and answer binding as the pages."""

import pytest

from reviews.models import Review

pytestmark = pytest.mark.django_db


def _review(proposal, key: str) -> Review:
    return proposal.reviews.get(area__key=key)


def test_a_reviewer_finds_the_area_in_their_queue_and_approves_it(api_client_for, submitted_proposal, data_reviewer):
    client = api_client_for(data_reviewer)
    queue = client.get("/api/reviews/", {"queue": "true"}).json()
    assert [(row["proposal"], row["area"]) for row in queue["results"]] == [(submitted_proposal.pk, "data")]

    review = client.get(f"/api/reviews/{queue['results'][0]['id']}/").json()
    response = client.post(
        f"/api/reviews/{review['id']}/decisions/",
        {"kind": "approved", "answer_sha256": review["answer_sha256"]},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["decided_by"] == data_reviewer.username
    assert _review(submitted_proposal, "data").status == Review.Status.APPROVED
    assert client.get("/api/reviews/", {"queue": "true"}).json()["count"] == 0


def test_reviewers_of_another_area_and_the_author_may_not_decide(
    api_client_for, submitted_proposal, legal_reviewer, author
):
    review = _review(submitted_proposal, "data")

    by_legal = api_client_for(legal_reviewer).post(
        f"/api/reviews/{review.pk}/decisions/", {"kind": "approved"}, format="json"
    )
    by_author = api_client_for(author).post(f"/api/reviews/{review.pk}/decisions/", {"kind": "approved"}, "json")

    assert by_legal.status_code == 403
    assert by_author.status_code == 403
    review.refresh_from_db()
    assert review.status == Review.Status.IN_REVIEW


def test_a_decision_on_an_answer_that_changed_meanwhile_is_refused(
    api_client_for, submitted_proposal, data_reviewer, author
):
    review = _review(submitted_proposal, "data")
    read = api_client_for(data_reviewer).get(f"/api/reviews/{review.pk}/").json()
    saved = api_client_for(author).put(
        f"/api/reviews/{review.pk}/answer/",
        {"answer": "A different data plan.", "base_sha256": read["answer_sha256"]},
        format="json",
    )
    assert saved.status_code == 200

    response = api_client_for(data_reviewer).post(
        f"/api/reviews/{review.pk}/decisions/",
        {"kind": "approved", "answer_sha256": read["answer_sha256"]},
        format="json",
    )

    assert response.status_code == 400
    assert "changed" in response.json()["detail"]


def test_requesting_changes_needs_a_comment(api_client_for, submitted_proposal, data_reviewer):
    review = _review(submitted_proposal, "data")

    response = api_client_for(data_reviewer).post(
        f"/api/reviews/{review.pk}/decisions/", {"kind": "changes_requested"}, format="json"
    )

    assert response.status_code == 400
    assert not review.decisions.exists()


def test_answer_saved_on_a_stale_base_returns_both_texts(api_client_for, answered_proposal, author, admin_user):
    review = _review(answered_proposal, "cost")
    read = api_client_for(author).get(f"/api/reviews/{review.pk}/").json()
    api_client_for(admin_user).put(
        f"/api/reviews/{review.pk}/answer/", {"answer": "Admin's figure.", "base_sha256": read["answer_sha256"]}, "json"
    )

    response = api_client_for(author).put(
        f"/api/reviews/{review.pk}/answer/",
        {"answer": "Author's figure.", "base_sha256": read["answer_sha256"]},
        "json",
    )

    assert response.status_code == 409
    assert response.json()["current"] == "Admin's figure."
    assert response.json()["submitted"] == "Author's figure."


def test_other_authors_cannot_answer(api_client_for, answered_proposal, other_author):
    review = _review(answered_proposal, "cost")

    response = api_client_for(other_author).put(
        f"/api/reviews/{review.pk}/answer/", {"answer": "x", "base_sha256": review.answer_sha256}, format="json"
    )

    assert response.status_code == 403


def test_the_author_submits_through_the_api(api_client_for, answered_proposal, author):
    response = api_client_for(author).post(f"/api/proposals/{answered_proposal.pk}/submit/", format="json")

    assert response.status_code == 200
    assert {row["status"] for row in response.json()} == {Review.Status.IN_REVIEW}
    assert len(response.json()) == 5


def test_submitting_with_unanswered_areas_says_why_not(api_client_for, proposal, author, areas):
    response = api_client_for(author).post(f"/api/proposals/{proposal.pk}/submit/", format="json")

    assert response.status_code == 400
    assert response.json()["reasons"]
    assert not proposal.reviews.exclude(status=Review.Status.NOT_STARTED).exists()


def test_a_decision_without_the_hash_of_the_answer_read_is_refused_with_how_to_send_it(
    api_client_for, submitted_proposal, data_reviewer
):
    review = _review(submitted_proposal, "data")

    response = api_client_for(data_reviewer).post(
        f"/api/reviews/{review.pk}/decisions/", {"kind": "approved"}, format="json"
    )

    assert response.status_code == 400
    assert "answer_sha256" in response.json()["answer_sha256"][0]
    review.refresh_from_db()
    assert review.status == Review.Status.IN_REVIEW and not review.decisions.exists()
