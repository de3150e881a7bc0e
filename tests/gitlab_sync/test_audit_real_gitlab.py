"""Where Stagegate leans on the fake rather than on GitLab's documented behaviour (an audit of issue 11).

Each test drives Stagegate against the fake over real HTTP, with the fake doing what GitLab's source or
documentation says GitLab does; each names its source. A test marked ``xfail(strict=True)`` shows a gap
that is still open: it passes (and so fails the suite) once Stagegate is fixed, and then loses its mark.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gitlab_sync import discussion, exchange, inbound, outbox
from gitlab_sync.models import GitLabConnection, IssueComment, SyncState, WebhookDelivery
from proposals.models import Activity
from reviews.models import GitLabAccount
from tests.factories import ProposalFactory
from tests.gitlab_sync.conftest import WEBHOOK_SECRET, issue_of
from tests.gitlab_sync.issue_text import edit_issue_fields
from tests.helpers import edit
from tests.reviews.conftest import (  # noqa: F401  (fixtures)
    answered_proposal,
    areas,
    data_reviewer,
    make_reviewer,
    submitted_proposal,
)

pytestmark = pytest.mark.django_db


def deliver_comments() -> None:
    """What the worker does with every comment written in Stagegate and not yet on GitLab."""
    for comment_id in IssueComment.objects.filter(posting="pending").values_list("pk", flat=True):
        discussion.comment_deliver(comment_id)


def system_note(issue, text: str):
    return next(note for note in issue.notes.values() if note.system and note.body.startswith(text))


# -- 1. moved issues ---------------------------------------------------------------------------------


def test_a_move_to_a_project_of_the_same_group_is_followed(fake, linked, author):
    """``SystemNotes::IssuablesService#noteable_moved`` writes ``noteable_ref.to_reference(project)``;
    ``Project#to_reference_base`` gives ``full_path`` only across namespaces and the bare ``path`` for
    another project of the same namespace. So a move from ai-group/proposals to ai-group/elsewhere
    leaves "moved to elsewhere#1" on the old issue, not "moved to ai-group/elsewhere#1"."""
    other = fake.store.add_project("ai-group/elsewhere")
    old_iid = issue_of(fake, linked).iid
    moved = fake.move_issue(old_iid, other)
    note = system_note(fake.issue(old_iid), "moved to ")
    note.body = f"moved to {other.name}#{moved.iid}"  # GitLab's wording within one group
    exchange.sync_proposal(linked.pk, actor="alice")
    state = SyncState.objects.get(proposal=linked)
    assert not state.link_broken
    assert (state.project_path, state.issue_iid) == ("ai-group/elsewhere", moved.iid)
    edit(linked, author, user_problem="Written after the move")
    outbox.push(linked.pk)
    assert "Written after the move" in fake.issue(moved.iid, other).description


def test_losing_the_project_a_moved_issue_went_to_stops_that_proposal_not_the_connection(
    fake, linked, author, other_author
):
    """GitLab answers ``404 Project Not Found`` for any project the bot may not read (``find_project!``),
    whichever it is. After following a move, the proposal's issue lives in another project; when the
    bot loses that project, only that link is broken: the configured project is still there."""
    other = fake.store.add_project("other-group/elsewhere")
    moved = fake.move_issue(issue_of(fake, linked).iid, other)
    exchange.sync_proposal(linked.pk)
    assert SyncState.objects.get(proposal=linked).issue_iid == moved.iid
    bystander = ProposalFactory(owner=other_author, title="Untouched by the move")
    outbox.push(bystander.pk)
    other.members = {fake.human.id}  # the bot was removed from the project the issue went to
    edit(linked, author, user_problem="Written after the bot lost the other project")
    outbox.push(linked.pk)
    conn = GitLabConnection.objects.get()
    assert conn.blocked_reason == "" and conn.healthy
    assert SyncState.objects.get(proposal=linked).link_broken
    edit(bystander, other_author, user_problem="Still synced")
    outbox.push(bystander.pk)
    assert "Still synced" in issue_of(fake, bystander).description


@pytest.mark.urls("tests.gitlab_sync.urls")
def test_webhooks_of_the_configured_project_are_still_applied_after_a_move_was_followed(
    fake, linked, author, other_author, client
):
    """A moved issue lives in another project, with that project's ``project_id`` in every API answer
    (``Issues::MoveService``); the configured project's webhooks keep carrying ``project.id`` of the
    configured project."""
    stayed = ProposalFactory(owner=other_author, title="Stays in the project")
    outbox.push(stayed.pk)
    other = fake.store.add_project("other-group/elsewhere")
    fake.move_issue(issue_of(fake, linked).iid, other)
    exchange.sync_proposal(linked.pk)
    edit(linked, author, user_problem="Written after the move")
    outbox.push(linked.pk)  # a write to the followed issue, in the other project
    fake.add_hook(f"{fake.url}/unreachable", token="t")  # deliveries are built and logged
    iid = issue_of(fake, stayed).iid
    fake.human_edit(iid, description=edit_issue_fields(fake.issue(iid).description, user_problem="Edited on GitLab"))
    assert fake.wait_for_hooks()
    [hook] = [d for d in fake.deliveries("Issue Hook") if d.payload["object_attributes"]["iid"] == iid]
    response = client.post(
        "/gitlab/webhook/",
        data=hook.body,
        content_type="application/json",
        HTTP_X_GITLAB_EVENT=hook.event,
        HTTP_X_GITLAB_TOKEN=WEBHOOK_SECRET,
        HTTP_IDEMPOTENCY_KEY=hook.idempotency_key,
    )
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(idempotency_key=hook.idempotency_key)
    assert inbound.handle_delivery(delivery.pk) == "processed"
    stayed.refresh_from_db()
    assert stayed.user_problem == "Edited on GitLab"


def test_comments_on_a_followed_issue_reach_stagegate(fake, linked):
    """Webhooks are set per project (``doc/user/project/integrations/webhooks.md``): Stagegate's hook
    on the configured project hears nothing of an issue moved elsewhere, so only a re-read can."""
    other = fake.store.add_project("other-group/elsewhere")
    moved = fake.move_issue(issue_of(fake, linked).iid, other)
    exchange.sync_proposal(linked.pk)
    fake.store.create_note(other, moved, {"body": "Commented after the move"}, fake.human)
    inbound.reconcile()
    assert IssueComment.objects.filter(proposal=linked, body="Commented after the move").exists()


def test_comments_copied_by_a_move_are_not_mirrored_again(fake, linked, author):
    """``Gitlab::Issuable::Clone::BaseService#copy_notes`` (used by ``Issues::MoveService``) copies the
    old issue's notes onto the new issue as new notes: new ids, same text (markers included), same
    ``created_at``. Following the move must keep the discussion as it was, not double it."""
    iid = issue_of(fake, linked).iid
    fake.human_comment(iid, "A thought from GitLab")
    discussion.comment_post(proposal=linked, body="An answer from Stagegate", by=author)
    deliver_comments()
    inbound.pull_comments(linked.pk)
    comments_before = Activity.objects.filter(proposal=linked, kind=Activity.Kind.COMMENT).count()
    other = fake.store.add_project("other-group/elsewhere")
    fake.move_issue(iid, other)
    exchange.sync_proposal(linked.pk)
    inbound.pull_comments(linked.pk)
    shown = IssueComment.objects.filter(proposal=linked, deleted_at=None)
    assert sorted(c.body for c in shown) == ["A thought from GitLab", "An answer from Stagegate"]
    assert shown.get(body="An answer from Stagegate").written_by == author
    assert Activity.objects.filter(proposal=linked, kind=Activity.Kind.COMMENT).count() == comments_before


# -- 3. internal notes ------------------------------------------------------------------------------


def test_the_reason_given_in_an_internal_note_stays_with_those_who_may_see_internal_notes(
    fake,
    submitted_proposal,  # noqa: F811
    data_reviewer,  # noqa: F811
    other_author,
    client,
):
    """GitLab shows an internal note only to members who may see internal notes (``internal: true``,
    ``confidential: true`` before 15.0; ``doc/user/discussions``, "Internal notes"). A reviewer who
    decides in one, reason included, has written that reason for those people only."""
    outbox.push(submitted_proposal.pk)
    GitLabAccount.objects.create(user=data_reviewer, gitlab_username=fake.human.username, gitlab_user_id=fake.human.id)
    iid = SyncState.objects.get(proposal=submitted_proposal).issue_iid
    fake.human_comment(iid, "/orr request-changes data the export leaks INC-4411 customer names", internal=True)
    inbound.pull_comments(submitted_proposal.pk)
    client.force_login(other_author)  # reads the public proposal; may not see internal notes
    response = client.get(submitted_proposal.get_absolute_url())
    assert response.status_code == 200
    assert "INC-4411" not in response.content.decode()


# -- 10. comments deleted on GitLab ----------------------------------------------------------------


def test_a_comment_deleted_on_gitlab_disappears_at_the_next_scheduled_reconcile(fake, linked, other_author):
    """No webhook tells of a deleted note (gitlab#377475), and the deletion leaves the issue's
    ``updated_at`` alone: ``Notes::DestroyService#execute`` only destroys the note, and ``Note`` touches
    its noteable ``after_save``, never after destroy. The fake's ``delete_note`` does the same."""
    iid = issue_of(fake, linked).iid
    gone = fake.human_comment(iid, "Pasted the customer's name by mistake")
    inbound.reconcile()
    assert IssueComment.objects.get(gitlab_note_id=gone.id).deleted_at is None
    # Time passes: the issue was last changed an hour ago, and work on other issues moved the watermark on.
    fake.issue(iid).updated_at -= timedelta(hours=1)
    busy = ProposalFactory(owner=other_author)
    outbox.push(busy.pk)
    inbound.reconcile()
    fake.human_delete_comment(iid, gone.id)
    inbound.reconcile()  # the scheduled run, every five minutes: the issue did not change
    assert IssueComment.objects.get(gitlab_note_id=gone.id).deleted_at is None
    inbound.recount_comments()  # the scheduled count of every issue's comments, hourly
    assert IssueComment.objects.get(gitlab_note_id=gone.id).deleted_at is not None


# -- comments written in Stagegate ---------------------------------------------------------------


def test_a_comment_written_in_stagegate_runs_no_quick_action_with_the_bots_rights(fake, linked, other_author):
    """GitLab runs the quick actions of a comment created through the notes or discussions API as the
    token's user, and saves the comment without them (``API::Helpers::NotesHelpers#create_note`` →
    ``Notes::CreateService``; a commands-only comment answers 202, gitlab MR !174935). A reader of a
    public proposal may comment but not edit it; through the bot's comment they would make the issue,
    and then the proposal, confidential, or change its labels."""
    iid = issue_of(fake, linked).iid
    discussion.comment_post(proposal=linked, body="/confidential\n/label ~rejected\nSee above.", by=other_author)
    deliver_comments()
    issue = fake.issue(iid)
    assert issue.confidential is False
    assert "rejected" not in issue.labels
    exchange.sync_proposal(linked.pk, push=False)  # the webhook of whatever GitLab did
    linked.refresh_from_db()
    assert linked.confidential is False and "rejected" not in (linked.labels or [])
    [note] = [n for n in issue.notes.values() if not n.system]
    assert "/confidential" in note.body  # shown as text, escaped so GitLab does not run it


# -- 8. errors that are not transient ---------------------------------------------------------------


def test_a_token_that_may_only_read_stops_the_connection_with_one_message(fake, linked, author, other_author):
    """GitLab refuses a write with a ``read_api`` token: 403 ``{"error": "insufficient_scope", …,
    "scope": "api"}`` (``lib/api/api_guard.rb``, ``InsufficientScopeError``). Like a revoked token, it
    is the whole connection's matter: one message for admins, proposals waiting, nothing retried per
    proposal, and no "GitLab sync failed" on each proposal's timeline."""
    fake.set_token_scopes(["read_api"])
    edit(linked, author, user_problem="Waits for a token that may write")
    outbox.push(linked.pk)
    conn = GitLabConnection.objects.get()
    assert conn.blocked_reason != "" and not conn.healthy
    state = SyncState.objects.get(proposal=linked)
    assert state.needs_push and not state.permanent_error
    assert not Activity.objects.filter(proposal=linked, message__startswith="GitLab sync failed")
    later = ProposalFactory(owner=other_author)
    fake.clear_request_log()
    outbox.push(later.pk)
    assert fake.requests_to("issues.create") == []  # not tried while the connection is stopped
