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
    assert "<mark>Stagegate&#x27;s</mark> words" in body and "<mark>GitLab&#x27;s</mark> words" in body
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


def test_reconcile_now_in_the_admin_also_finds_comments_deleted_on_gitlab(
    superuser_client, fake, proposal, eager_celery
):
    from datetime import timedelta

    from gitlab_sync import connection, inbound, outbox
    from gitlab_sync.models import IssueComment

    conn = connection.connection()
    outbox.push(proposal.pk)
    iid = SyncState.objects.get(proposal=proposal).issue_iid
    gone = fake.human_comment(iid, "Pasted the customer's name by mistake")
    inbound.reconcile()
    # Deleting a note leaves its issue's updated_at alone: a walk over changed issues never sees it.
    fake.issue(iid).updated_at -= timedelta(hours=1)
    fake.human_delete_comment(iid, gone.id)
    response = superuser_client.post(
        "/admin/gitlab_sync/gitlabconnection/",
        {"action": "reconcile_now", "_selected_action": [conn.pk]},
        follow=True,
    )
    assert "Reconciliation queued" in response.content.decode()
    assert IssueComment.objects.get(gitlab_note_id=gone.id).deleted_at is not None


def _conflict(proposal, field="field:user_problem", label="User problem", local="Stagegate's words", remote="GitLab's"):
    SyncState.objects.update_or_create(proposal=proposal, defaults={"issue_iid": 7})
    return SyncConflict.objects.create(
        proposal=proposal, field=field, label=label, base_value="", local_value=local, remote_value=remote
    )


def test_a_merged_text_resolves_the_conflict_and_goes_to_gitlab(author_client, fake, proposal):
    conflict = _conflict(proposal, local="Reviewers drown in threads.", remote="Reviewers drown in long threads.")
    other = _conflict(proposal, field="field:proposal", label="Proposal", local="A", remote="B")
    response = author_client.post(
        f"/gitlab/conflicts/{conflict.pk}/resolve/", {"choice": "merged", "text": "Reviewers drown in long MR threads."}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/gitlab/proposals/{proposal.pk}/conflicts/")
    proposal.refresh_from_db()
    assert proposal.user_problem == "Reviewers drown in long MR threads."
    assert SyncConflict.objects.get(pk=conflict.pk).resolved_at is not None
    assert SyncState.objects.get(proposal=proposal).needs_push
    # The last one settled: back to the proposal.
    response = author_client.post(f"/gitlab/conflicts/{other.pk}/resolve/", {"choice": "local"})
    assert response["Location"] == proposal.get_absolute_url()


def test_a_list_or_a_tick_in_conflict_is_kept_or_taken_whole(author_client, fake, proposal):
    _conflict(proposal, field="list:requirements", label="Requirements", local=["See it", "Hide it"], remote=["See it"])
    body = author_client.get(f"/gitlab/proposals/{proposal.pk}/conflicts/").content.decode()
    assert "Hide it</mark>" in body  # one requirement a line, the one GitLab lacks marked
    assert "Edit a merged text" not in body and 'value="local"' in body and 'value="remote"' in body


def test_the_conflicts_page_word_diff_marks_only_the_changed_words(author_client, fake, proposal):
    _conflict(proposal, local="Summaries for long threads", remote="Summaries for short threads")
    body = author_client.get(f"/gitlab/proposals/{proposal.pk}/conflicts/").content.decode()
    assert "Summaries for <mark>long</mark> threads" in body and "Summaries for <mark>short</mark> threads" in body
