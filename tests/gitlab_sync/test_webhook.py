"""POST /gitlab/webhook/ through Django's test client, with GitLab's recorded payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gitlab_fake
from gitlab_sync.models import WebhookDelivery
from tests.gitlab_sync.conftest import WEBHOOK_SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.gitlab_sync.urls")]

PAYLOADS = Path(gitlab_fake.__file__).parent / "payloads"
URL = "/gitlab/webhook/"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.GITLAB_WEBHOOK_SECRET = WEBHOOK_SECRET


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def post(client, body: bytes, *, token=WEBHOOK_SECRET, event="Issue Hook", key="key-1", **headers):
    extra = {"HTTP_X_GITLAB_EVENT": event}
    if token is not None:
        extra["HTTP_X_GITLAB_TOKEN"] = token
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    extra.update(headers)
    return client.post(URL, data=body, content_type="application/json", **extra)


def test_issue_hook_is_stored_and_acknowledged_with_202(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, payload("webhook_issue_hook.json"), HTTP_X_GITLAB_WEBHOOK_UUID="w-1")
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.object_kind, delivery.action) == ("Issue Hook", "issue", "open")
    assert (delivery.issue_iid, delivery.project_id, delivery.actor_username) == (23, 1, "root")
    assert delivery.status == WebhookDelivery.Status.RECEIVED and delivery.webhook_uuid == "w-1"
    assert len(callbacks) == 1  # processing is enqueued after commit


@pytest.mark.parametrize("token", [None, "", "wrong-secret", WEBHOOK_SECRET + "x"])
def test_wrong_or_missing_token_is_401_and_nothing_stored(client, token):
    response = post(client, payload("webhook_issue_hook.json"), token=token)
    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_without_a_configured_secret_every_delivery_is_refused(client, settings):
    settings.GITLAB_WEBHOOK_SECRET = ""
    assert post(client, payload("webhook_issue_hook.json"), token="").status_code == 401


def test_duplicate_idempotency_key_is_acknowledged_and_stored_once(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = post(client, payload("webhook_issue_hook.json"), key="same")
        second = post(client, payload("webhook_issue_hook.json"), key="same")
    assert (first.status_code, second.status_code) == (202, 202)
    assert WebhookDelivery.objects.get().duplicates == 1
    assert len(callbacks) == 1


def test_without_idempotency_key_the_body_hash_dedupes(client):
    post(client, payload("webhook_issue_hook.json"), key=None)
    post(client, payload("webhook_issue_hook.json"), key=None)
    post(client, payload("webhook_issue_hook_legacy_gitlab11.json"), key=None)
    assert WebhookDelivery.objects.count() == 2
    assert WebhookDelivery.objects.filter(idempotency_key__startswith="sha256:").count() == 2


def test_note_and_confidential_note_hooks_are_handled(client):
    post(client, payload("webhook_note_hook_issue.json"), event="Note Hook", key="n1")
    post(client, payload("webhook_note_hook_issue.json"), event="Confidential Note Hook", key="n2")
    deliveries = WebhookDelivery.objects.order_by("id")
    assert [d.status for d in deliveries] == ["received", "received"]
    assert [(d.issue_iid, d.note_id) for d in deliveries] == [(17, 1241), (17, 1241)]


def test_events_we_do_not_handle_still_get_202(client, django_capture_on_commit_callbacks):
    body = json.dumps({"object_kind": "push", "ref": "refs/heads/main"}).encode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, body, event="Push Hook")
    assert response.status_code == 202
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED
    assert callbacks == []


def test_malformed_json_is_400(client):
    assert post(client, b"{not json").status_code == 400
    assert post(client, b"[1, 2]", key="k2").status_code == 400


def test_oversized_body_is_413(client, settings):
    settings.GITLAB_WEBHOOK_MAX_BYTES = 1000
    response = post(client, json.dumps({"object_kind": "issue", "pad": "x" * 2000}).encode())
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


def test_ingest_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        post(client, payload("webhook_issue_hook.json"), key="q1")
    with django_assert_max_num_queries(5):
        post(client, payload("webhook_issue_hook.json"), key="q1")
