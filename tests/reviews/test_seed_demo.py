"""`manage.py seed_demo` (run by `make run`): a first look at every role's pages has something to show."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from proposals.models import Proposal
from reviews.models import Review


def test_the_demo_has_a_proposal_in_review_with_a_decision_and_a_question(db, client):
    call_command("seed_demo")
    call_command("seed_demo")  # safe to run twice: nothing is duplicated
    assert Proposal.objects.count() == 3
    in_review = Proposal.objects.get(state=Proposal.State.IN_REVIEW)
    statuses = sorted(Review.objects.filter(proposal=in_review).values_list("status", flat=True))
    assert statuses == sorted(["approved", "changes_requested", "in_review", "in_review", "in_review"])

    client.force_login(get_user_model().objects.get(username="rosa"))
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert in_review.title in queue
    assert "Data Limitation" in queue

    client.force_login(in_review.owner)
    page = client.get(reverse("proposals:detail", args=[in_review.pk])).content.decode()
    assert "What does a summary cost at the p95 thread length?" in page  # the reviewer's question, by its area


def test_every_demo_login_works_with_the_printed_password(db, client):
    call_command("seed_demo")
    for username in ["admin", "parker", "priya", "rosa", "devon", "wendy"]:
        client.logout()
        answer = client.post(reverse("login"), {"username": username, "password": "stagegate-demo"})
        assert answer.status_code == 302, username
        assert client.get(reverse("proposals:list")).status_code == 200
