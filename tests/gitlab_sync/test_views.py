"""The sync badge, "retry now" and the conflict page, as the author sees them."""

from __future__ import annotations

import pytest

from gitlab_sync.models import SyncConflict, SyncState

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing(fake, proposal):
    SyncState.objects.filter(proposal=proposal).update(
        issue_iid=7, web_url="http://gitlab.example/-/issues/7", last_error="GitLab answered 503", attempts=3
    )
    return proposal


def test_badge_shows_failure_the_error_and_a_retry_button(author_client, failing):
    response = author_client.get(f"/gitlab/proposals/{failing.pk}/sync/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sync failed" in body and "GitLab answered 503" in body and "Retry now" in body


def test_badge_says_synced_without_a_retry_button(author_client, fake, proposal):
    SyncState.objects.filter(proposal=proposal).update(issue_iid=7, needs_push=False)
    body = author_client.get(f"/gitlab/proposals/{proposal.pk}/sync/").content.decode()
    assert "Synced with GitLab" in body and "Retry now" not in body


def test_retry_now_clears_the_backoff_and_queues_a_push(author_client, failing, django_capture_on_commit_callbacks):
    SyncState.objects.filter(proposal=failing).update(permanent_error=True)
    with django_capture_on_commit_callbacks() as callbacks:
        response = author_client.post(f"/gitlab/proposals/{failing.pk}/sync/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    state = SyncState.objects.get(proposal=failing)
    assert (state.attempts, state.permanent_error, state.needs_push) == (0, False, True)
    assert len(callbacks) == 1


def test_only_the_author_can_retry(client, other_author, failing):
    client.force_login(other_author)
    assert client.post(f"/gitlab/proposals/{failing.pk}/sync/retry/").status_code == 404


def test_conflict_page_shows_both_texts_and_resolving_takes_gitlabs(author_client, fake, proposal):
    SyncState.objects.filter(proposal=proposal).update(issue_iid=7)
    conflict = SyncConflict.objects.create(
        proposal=proposal,
        field="field:user_problem",
        label="User problem",
        base_value="",
        local_value="Stagegate's words",
        remote_value="GitLab's words",
    )
    body = author_client.get(f"/gitlab/proposals/{proposal.pk}/conflicts/").content.decode()
    assert "Stagegate&#x27;s words" in body and "GitLab&#x27;s words" in body
    response = author_client.post(f"/gitlab/conflicts/{conflict.pk}/resolve/", {"choice": "remote"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.user_problem == "GitLab's words"
    assert SyncConflict.objects.get(pk=conflict.pk).resolution == "remote"
    state = SyncState.objects.get(proposal=proposal)
    assert state.base_fields["field:user_problem"] == "GitLab's words" and state.needs_push


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize("model", ["gitlabconnection", "syncstate", "webhookdelivery", "syncconflict", "issuecomment"])
def test_admin_sync_health_pages_open(superuser_client, fake, proposal, model):
    from gitlab_sync import connection, outbox

    connection.connection()
    outbox.push(proposal.pk)
    assert superuser_client.get(f"/admin/gitlab_sync/{model}/").status_code == 200


def test_admin_import_action_reports(superuser_client, fake):
    from gitlab_sync import connection

    fake.create_issue(title="Issue to import", labels="wg-ai-integration")
    conn = connection.connection()
    response = superuser_client.post(
        "/admin/gitlab_sync/gitlabconnection/",
        {"action": "import_issues", "_selected_action": [conn.pk]},
        follow=True,
    )
    assert "Imported 1 issue(s)" in response.content.decode()
