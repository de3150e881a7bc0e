"""In-app notifications under a bell, per-person preferences for e-mail and in-app, and watchers per proposal."""

from __future__ import annotations

import pytest
from django.core import mail

from proposals.models import Proposal
from reviews import services
from reviews.models import InAppNotification, NotificationPreference
from tests.factories import UserFactory
from tests.reviews.conftest import review_of

pytestmark = pytest.mark.django_db


def decide(review, by, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(review=review, kind="approved", by=by, comment="")


def test_the_author_sees_a_decision_under_the_bell_and_reads_it(
    client, author, submitted_proposal, data_reviewer, django_capture_on_commit_callbacks
):
    decide(review_of(submitted_proposal, "data"), data_reviewer, django_capture_on_commit_callbacks)
    client.force_login(author)
    page = client.get("/proposals/").content.decode()
    assert 'id="unread-count">1<' in page
    inbox = client.get("/reviews/notifications/").content.decode()
    assert "Data Limitation" in inbox and "1 unread." in inbox
    client.post("/reviews/notifications/read/")
    assert 'id="unread-count"' not in client.get("/proposals/").content.decode()


def test_preferences_turn_e_mail_or_the_bell_off_per_person(
    client, author, submitted_proposal, data_reviewer, legal_reviewer, django_capture_on_commit_callbacks
):
    client.force_login(author)
    assert client.post("/reviews/notifications/", {"in_app": "on"}).status_code == 302  # e-mail off
    mail.outbox.clear()
    decide(review_of(submitted_proposal, "data"), data_reviewer, django_capture_on_commit_callbacks)
    assert all(author.email not in message.to for message in mail.outbox)
    assert InAppNotification.objects.filter(user=author).count() == 1

    client.post("/reviews/notifications/", {"email": "on"})  # the bell off, e-mail on
    assert NotificationPreference.objects.get(user=author).in_app is False
    decide(review_of(submitted_proposal, "legal"), legal_reviewer, django_capture_on_commit_callbacks)
    assert any(author.email in message.to for message in mail.outbox)
    assert InAppNotification.objects.filter(user=author).count() == 1


def test_a_watcher_hears_of_decisions_and_comments(
    client, submitted_proposal, data_reviewer, django_capture_on_commit_callbacks
):
    watcher = UserFactory(username="katherine", groups=["working group"])
    client.force_login(watcher)
    assert client.post(f"/reviews/proposal/{submitted_proposal.pk}/watch/").status_code == 302
    assert "Stop watching" in client.get(f"/reviews/proposal/{submitted_proposal.pk}/gates/").content.decode()
    mail.outbox.clear()
    decide(review_of(submitted_proposal, "data"), data_reviewer, django_capture_on_commit_callbacks)
    assert any(watcher.email in message.to for message in mail.outbox)
    assert InAppNotification.objects.filter(user=watcher).exists()
    client.post(f"/reviews/proposal/{submitted_proposal.pk}/watch/")  # stop watching
    assert "Watch<" in client.get(f"/reviews/proposal/{submitted_proposal.pk}/gates/").content.decode()


def test_a_watcher_who_may_no_longer_read_hears_nothing_and_sees_nothing(
    client, submitted_proposal, data_reviewer, django_capture_on_commit_callbacks
):
    watcher = UserFactory(username="katherine", groups=["working group"])
    client.force_login(watcher)
    client.post(f"/reviews/proposal/{submitted_proposal.pk}/watch/")
    decide(review_of(submitted_proposal, "data"), data_reviewer, django_capture_on_commit_callbacks)
    Proposal.objects.filter(pk=submitted_proposal.pk).update(confidential=True)
    mail.outbox.clear()
    decide(
        review_of(submitted_proposal, "legal"),
        UserFactory(username="rev_l", groups=["reviewer", "orr legal"]),
        django_capture_on_commit_callbacks,
    )
    assert all(watcher.email not in message.to for message in mail.outbox)
    inbox = client.get("/reviews/notifications/").content.decode()
    assert submitted_proposal.title not in inbox and "0 unread." in inbox
