"""Nobody decides an area whose answer they wrote, admins included; the right to decide follows today's groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from proposals.models import Activity
from reviews import services
from reviews.models import Review
from tests.reviews.conftest import review_of

pytestmark = pytest.mark.django_db


def decide_on_page(client, user, review):
    client.force_login(user)
    review.refresh_from_db()
    return client.post(
        f"/reviews/{review.pk}/decide/",
        {"kind": "approved", "comment": "Fine.", "answer_sha256": review.answer_sha256},
    )


def save_answer(review, by, text):
    review.refresh_from_db()
    return services.review_answer_save(review=review, answer=text, base_sha256=review.answer_sha256, by=by)


def test_an_admin_who_wrote_an_answer_cannot_decide_that_area_but_can_decide_another(
    client, submitted_proposal, admin_user
):
    save_answer(review_of(submitted_proposal, "data"), admin_user, "EU region only, says the admin.")
    response = decide_on_page(client, admin_user, review_of(submitted_proposal, "data"))
    assert response.status_code == 403
    assert review_of(submitted_proposal, "data").current_decision is None
    response = decide_on_page(client, admin_user, review_of(submitted_proposal, "legal"))
    assert response.status_code == 302
    assert review_of(submitted_proposal, "legal").status == Review.Status.APPROVED


def test_having_written_an_earlier_version_of_the_answer_is_enough_to_be_refused(
    submitted_proposal, author, make_reviewer
):
    helper = make_reviewer("data", "rev_helper")
    helper.groups.add(Group.objects.get(name="admin"))  # an admin who also reviews data
    save_answer(review_of(submitted_proposal, "data"), helper, "Helped with the first draft.")
    save_answer(review_of(submitted_proposal, "data"), author, "The author's own words since.")
    with pytest.raises(services.DecisionForbidden, match="whose answer they wrote"):
        services.review_decide(review=review_of(submitted_proposal, "data"), kind="approved", by=helper, comment="")


def test_a_named_reviewer_moved_out_of_the_area_group_cannot_decide_and_the_review_returns_to_the_group(
    client, answered_proposal, author, admin_user, make_reviewer, django_capture_on_commit_callbacks
):
    leaving = make_reviewer("data", "rev_leaving")
    staying = make_reviewer("data", "rev_staying")
    services.review_assign(review=review_of(answered_proposal, "data"), reviewer=leaving, by=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit_for_review(proposal=answered_proposal, by=author)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        leaving.groups.remove(Group.objects.get(name="orr data"))

    review = review_of(answered_proposal, "data")
    assert review.reviewer is None
    assert staying.email in {address for message in mail.outbox for address in message.to}
    assert Activity.objects.filter(proposal=answered_proposal, message__contains="no longer reviews it").exists()
    assert decide_on_page(client, leaving, review).status_code == 403
    assert decide_on_page(client, staying, review).status_code == 302


def test_leaving_the_reviewer_role_ends_the_right_to_decide_even_from_the_group_side(
    client, submitted_proposal, admin_user, make_reviewer
):
    leaving = make_reviewer("legal", "rev_leaving")
    services.review_assign(review=review_of(submitted_proposal, "legal"), reviewer=leaving, by=admin_user)
    Group.objects.get(name="reviewer").user_set.remove(leaving)
    review = review_of(submitted_proposal, "legal")
    assert review.reviewer is None
    assert decide_on_page(client, leaving, review).status_code == 403


def test_a_signed_off_review_keeps_the_name_of_whoever_signed_it(submitted_proposal, admin_user, make_reviewer):
    signer = make_reviewer("cost", "rev_signer")
    services.review_assign(review=review_of(submitted_proposal, "cost"), reviewer=signer, by=admin_user)
    services.review_decide(review=review_of(submitted_proposal, "cost"), kind="approved", by=signer, comment="")
    signer.groups.clear()
    assert review_of(submitted_proposal, "cost").reviewer == signer
