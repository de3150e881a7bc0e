"""Stagegate against each GitLab release the fake plays (gitlab_fake.versions): what a release does not
send (Idempotency-Key before 17.4, a hook for an edited comment before 16.11) or sends oddly (work_item
payloads) loses nothing."""

from __future__ import annotations

import pytest

from gitlab_fake import FakeGitLab
from gitlab_sync import client, connection, inbound, outbox
from gitlab_sync.models import IssueComment, SyncState, WebhookDelivery
from proposals.models import Proposal
from tests.factories import ProposalFactory
from tests.gitlab_sync.conftest import WEBHOOK_SECRET
from tests.gitlab_sync.issue_text import edit_issue_fields

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.gitlab_sync.urls")]

VERSIONS = ("16.5", "16.11", "17.4", "17.8", "18.2")


@pytest.fixture(params=VERSIONS)
def release(request, settings):
    fake = FakeGitLab(version=request.param).start()
    settings.GITLAB_URL, settings.GITLAB_TOKEN = fake.url, fake.token
    settings.GITLAB_PROJECT = fake.project.path_with_namespace
    settings.GITLAB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.GITLAB_PUSH_MIN_INTERVAL = 0
    client._client.cache_clear()
    connection.redis_client.cache_clear()
    # Deliveries are kept back and posted here through Django's test client, as GitLab would post them.
    fake.add_hook("http://127.0.0.1:9/unused/", token=WEBHOOK_SECRET)
    fake.hooks.hold()
    yield fake
    fake.stop()


def deliver(client, fake, *, twice: bool = False) -> list[int]:
    """Post what GitLab sent (each twice: a retry or a resend), then process what was stored."""
    held = fake.hooks.held
    fake.app.dispatcher.controls.held = []
    for delivery in held:
        for _ in range(2 if twice else 1):
            extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in delivery.headers.items()}
            extra.pop("HTTP_CONTENT_TYPE", None)
            response = client.post("/gitlab/webhook/", data=delivery.body, content_type="application/json", **extra)
            assert response.status_code == 202
    ids = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.RECEIVED).values_list("pk", flat=True))
    for pk in ids:
        inbound.handle_delivery(pk)
    return ids


@pytest.fixture
def linked(release, author):
    proposal = ProposalFactory(owner=author, title="Versioned")
    outbox.push(proposal.pk)
    release.app.dispatcher.controls.held = []  # our own create's echo
    return proposal


def test_an_edit_on_gitlab_arrives_once_however_often_it_is_delivered(client, release, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    release.human_edit(iid, description=edit_issue_fields(release.issue(iid).description, user_problem="From GitLab"))
    release.human_comment(iid, "A comment")
    stored = deliver(client, release, twice=True)
    assert len(stored) == 2  # one issue event, one comment: duplicates without Idempotency-Key too
    assert Proposal.objects.get(pk=linked.pk).user_problem == "From GitLab"
    assert IssueComment.objects.filter(proposal=linked, body="A comment").count() == 1
    assert WebhookDelivery.objects.get(pk=stored[0]).status == WebhookDelivery.Status.PROCESSED


def test_an_edited_comment_is_mirrored_with_or_without_its_webhook(client, release, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    note = release.human_comment(iid, "First words")
    deliver(client, release)
    release.human_edit_comment(iid, note.id, "Second thoughts")
    deliver(client, release)  # a Note Hook from 16.11; nothing before
    inbound.reconcile()  # what covers the releases without it
    assert IssueComment.objects.get(proposal=linked, gitlab_note_id=note.id).body == "Second thoughts"
