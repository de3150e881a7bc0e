"""Every kind of notification about a confidential proposal reaches only people who may read it.

The ORR sends mail (and Slack posts) from many paths: assignment, resubmission, decisions, stale
sign-offs, expired waivers, the thread, the digest and escalation to an area's lead. Each is taken
here with a confidential proposal whose area has a Slack channel, a group member who may not read
confidential proposals, and a lead who may not either; then every outbox is inspected.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from proposals import access
from proposals.models import Proposal
from reviews import services
from reviews.models import InAppNotification, Notification, Review
from tests.factories import UserFactory
from tests.reviews.conftest import review_of

TITLE = "Acquire the secret start-up"


@pytest.mark.django_db
def test_every_notification_about_a_confidential_proposal_reaches_only_its_readers(
    answered_proposal, author, areas, make_reviewer, slack_server, django_capture_on_commit_callbacks, client
):
    data_reviewer = make_reviewer("data")
    # In the area's group, but without a role that may read confidential proposals.
    group_only = UserFactory(username="group_only", groups=["author", "orr data"])
    # The data area's lead is a working-group member: not a reader of confidential proposals.
    outsider_lead = UserFactory(username="outsider_lead", groups=["working group"])
    area = areas["data"]
    area.lead = outsider_lead
    area.slack_webhook_url = slack_server.url
    area.save()
    Proposal.objects.filter(pk=answered_proposal.pk).update(confidential=True, title=TITLE)
    proposal = Proposal.objects.get(pk=answered_proposal.pk)
    admin = UserFactory(username="boss", groups=["admin"])

    def answer(text):
        review = review_of(proposal, "data")
        services.review_answer_save(review=review, answer=text, base_sha256=review.answer_sha256, by=author)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit_for_review(proposal=proposal, by=author)  # assigned
        services.review_decide(
            review=review_of(proposal, "data"), kind="changes_requested", comment="Name the DPA.", by=data_reviewer
        )  # decided
        services.review_comment_add(review=review_of(proposal, "data"), body="Which DPA?", by=author)  # comment
        answer("Covered by DPA 2024-17.")
        services.review_submit_for_review(proposal=proposal, by=author)  # resubmitted
        services.review_assign(review=review_of(proposal, "data"), reviewer=data_reviewer, by=admin)  # assigned
        services.review_decide(review=review_of(proposal, "data"), kind="approved", by=data_reviewer)
        answer("Covered by DPA 2024-18.")  # stale
        services.review_decide(
            review=review_of(proposal, "data"),
            kind="not_applicable",
            comment="Vendor-hosted.",
            by=data_reviewer,
            waiver_expires_on=timezone.localdate() + datetime.timedelta(days=3),
        )
        services.reviews_expire_waivers(today=timezone.localdate() + datetime.timedelta(days=4))  # waiver expired
        overdue = review_of(proposal, "data").due_on + datetime.timedelta(days=1)
        services.reviews_send_digest(today=overdue)  # digest and escalation

    events = set(Notification.objects.values_list("event", flat=True))
    assert events >= {
        Notification.Event.ASSIGNED,
        Notification.Event.RESUBMITTED,
        Notification.Event.DECIDED,
        Notification.Event.STALE,
        Notification.Event.WAIVER_EXPIRED,
        Notification.Event.COMMENT,
        Notification.Event.DIGEST,
    }, "every path was taken"
    by_email = {user.email: user for user in get_user_model().objects.all()}
    told = {address for notification in Notification.objects.all() for address in notification.recipients}
    assert told and all(access.may_read(by_email[address], proposal) for address in told)
    sent_to = {address for message in mail.outbox for address in message.to}
    assert sent_to == told
    assert not sent_to & {group_only.email, outsider_lead.email}
    assert data_reviewer.email in sent_to and author.email in sent_to
    # The data area's escalation had nobody to tell: its lead may not read the proposal.
    escalations = Notification.objects.filter(event=Notification.Event.ESCALATED)
    assert escalations.exists() and not escalations.filter(review__area__key="data").exists()
    # A chat channel's members are nobody Stagegate checked: nothing about the proposal is posted.
    assert not Notification.objects.exclude(slack_webhook_url="").exists()
    assert slack_server.posts == []
    assert all(TITLE not in str(post) for post in slack_server.posts)

    # In-app notices: only readers have one, and the people outside see no trace of it anywhere
    # they look: the bell, the inbox, the dashboard's CSV and figures, and the API.
    noticed = InAppNotification.objects.filter(proposal=proposal).select_related("user")
    assert noticed.exists() and all(access.may_read(notice.user, proposal) for notice in noticed)
    for outsider in (group_only, outsider_lead):
        assert not InAppNotification.objects.filter(user=outsider).exists()
        client.force_login(outsider)
        pages = {
            "inbox": client.get(reverse("reviews:notifications")),
            "queue": client.get(reverse("reviews:queue")),
            "dashboard": client.get(reverse("dashboard:index")),
            "csv": client.get(reverse("dashboard:csv")),
            "api proposals": client.get("/api/proposals/", {"search": "secret"}),
            "api reviews": client.get("/api/reviews/"),
            "api dashboard": client.get("/api/dashboard/"),
        }
        for name, response in pages.items():
            assert response.status_code == 200, name
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert TITLE.encode() not in body, f"{name} shows the title to {outsider.username}"
        seen = pages["api dashboard"].json()["proposals"]
        assert seen == _dashboard_as(client, admin)["proposals"] - 1, "the proposal is counted for an outsider"


@pytest.mark.django_db
def test_a_public_proposal_still_posts_to_the_areas_slack(
    submitted_proposal, areas, make_reviewer, slack_server, django_capture_on_commit_callbacks
):
    areas["data"].slack_webhook_url = slack_server.url
    areas["data"].save()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(review=review_of(submitted_proposal, "data"), kind="approved", by=make_reviewer("data"))
    assert any(submitted_proposal.title in post["text"] for post in slack_server.posts)
    assert Review.objects.get(pk=review_of(submitted_proposal, "data").pk).status == Review.Status.APPROVED


def _dashboard_as(client, user) -> dict:
    client.force_login(user)
    return client.get("/api/dashboard/").json()
