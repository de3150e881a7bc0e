"""End to end: services → outbox → Celery worker → fake GitLab → webhook → worker → proposal."""

from __future__ import annotations

import pytest

from gitlab_sync import outbox
from gitlab_sync.models import SyncConflict, SyncState, WebhookDelivery
from proposals import services
from proposals.models import Activity, Proposal
from tests.gitlab_sync.issue_text import edit_issue_fields
from tests.helpers import edit
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def issue_text(fake, proposal) -> str:
    state = SyncState.objects.filter(proposal=proposal).first()
    if state is None or state.issue_iid is None:
        return ""
    return fake.issue(state.issue_iid).description


def settled(fake) -> bool:
    """Nothing left to push, every delivery sent and processed."""
    return (
        fake.wait_for_hooks(timeout=0.2)
        and not SyncState.objects.filter(needs_push=True).exists()
        and not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.RECEIVED).exists()
    )


@pytest.fixture
def created(env, worker, author):
    proposal = services.proposal_create(title="Summarise long threads", owner=author)
    wait_for(lambda: env.issues(), what="the issue to be created")
    wait_for(lambda: settled(env), what="the sync to settle")
    return proposal


def test_create_makes_the_issue_and_its_own_echo_changes_nothing(env, created):
    (issue,) = env.issues()
    assert issue.title == "Summarise long threads"
    assert "wg-ai-integration" in issue.labels
    state = SyncState.objects.get(proposal=created)
    assert state.issue_iid == issue.iid and state.web_url
    assert env.deliveries("Issue Hook")  # the create's webhook came back ...
    assert env.requests_to("issues.edit") == []  # ... and caused no write


def test_edit_reaches_the_issue(env, created, author):
    edit(created, author, user_problem="Reviewers drown in threads.")
    wait_for(lambda: "Reviewers drown in threads." in issue_text(env, created), what="the edit on GitLab")
    wait_for(lambda: settled(env), what="the sync to settle")
    assert len([r for r in env.requests_to("issues.edit") if r.status == 200]) == 1


def test_edit_on_gitlab_reaches_the_proposal(env, created):
    iid = SyncState.objects.get(proposal=created).issue_iid
    description = edit_issue_fields(env.issue(iid).description, user_problem="Typed on GitLab")
    env.human_edit(iid, description=description)
    wait_for(lambda: Proposal.objects.get(pk=created.pk).user_problem == "Typed on GitLab", what="the proposal update")
    assert Activity.objects.filter(proposal=created, message__contains="Updated from GitLab by alice").exists()


def test_both_edited_is_a_conflict_with_both_texts_kept(env, created, author):
    iid = SyncState.objects.get(proposal=created).issue_iid
    env.hooks.hold()
    env.human_edit(iid, description=edit_issue_fields(env.issue(iid).description, user_problem="GitLab's words"))
    edit(created, author, user_problem="Stagegate's words")
    conflict = wait_for(
        lambda: SyncConflict.objects.filter(proposal=created, resolved_at=None).first(), what="the conflict"
    )
    env.hooks.release()
    assert (conflict.local_value, conflict.remote_value) == ("Stagegate's words", "GitLab's words")
    assert Proposal.objects.get(pk=created.pk).user_problem == "Stagegate's words"
    assert "GitLab's words" in env.issue(iid).description


def test_gitlab_failing_for_a_while_loses_no_change(env, created, author):
    env.fail("*", status=500, times=None, seconds=3)
    edit(created, author, user_problem="First")
    edit(created, author, assumptions="Second")
    edit(created, author, solution_hypothesis="Third")
    wait_for(
        lambda: all(text in issue_text(env, created) for text in ("First", "Second", "Third")),
        what="every change after recovery",
    )
    assert any(r.status == 500 for r in env.requests_to())


def test_duplicate_and_out_of_order_webhooks_are_applied_once_latest_wins(env, created):
    iid = SyncState.objects.get(proposal=created).issue_iid
    template = env.issue(iid).description
    env.hooks.hold()
    env.hooks.duplicate(2)
    env.human_edit(iid, description=edit_issue_fields(template, user_problem="older"))
    env.human_edit(iid, description=edit_issue_fields(template, user_problem="newer"))
    assert env.hooks.release(reverse=True) == 4  # newer, newer again, older, older again
    wait_for(lambda: settled(env), what="the deliveries to be processed")
    assert Proposal.objects.get(pk=created.pk).user_problem == "newer"
    assert WebhookDelivery.objects.filter(issue_iid=iid, actor_username="alice").count() == 2
    assert WebhookDelivery.objects.filter(duplicates=1).count() == 2
    updates = Activity.objects.filter(proposal=created, message__startswith="Updated from GitLab")
    assert updates.count() == 1


def test_a_webhook_with_the_wrong_token_is_refused(env, worker, live_server):
    env.reset()
    env.add_hook(f"{live_server.url}/gitlab/webhook/", token="not-the-secret")
    env.create_issue(title="Someone's issue")
    assert env.wait_for_hooks()
    assert [d.status_code for d in env.deliveries()] == [401]
    assert not WebhookDelivery.objects.exists()


def test_saves_succeed_while_redis_is_down_and_sync_after_it_returns(env, created, author, private_redis):
    private_redis.stop()
    try:
        edit(created, author, user_problem="Saved while Redis was down")
        edit(created, author, assumptions="Also saved")
    finally:
        private_redis.start()
    created.refresh_from_db()
    assert created.user_problem == "Saved while Redis was down"
    # What the beat schedule does every minute:
    wait_for(lambda: outbox.sweep() or not SyncState.objects.get(proposal=created).needs_push, what="the sweep")
    wait_for(
        lambda: "Saved while Redis was down" in issue_text(env, created) and "Also saved" in issue_text(env, created),
        what="the saves to reach GitLab",
    )
