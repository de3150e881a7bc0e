"""The sync service against the fake GitLab over real HTTP (no Celery: functions called directly)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from gitlab_sync import client, exchange, failures, fields, importer, inbound, outbox, tasks
from gitlab_sync.models import GitLabConnection, IssueComment, SyncConflict, SyncState, WebhookDelivery
from gitlab_sync.template_actions import proposal_labels
from proposals import markdown
from proposals.models import Activity, Proposal, Requirement
from proposals.signals import send_proposal_changed
from tests.factories import ProposalFactory
from tests.gitlab_sync.conftest import issue_of
from tests.gitlab_sync.issue_text import edit_issue_fields
from tests.helpers import edit

pytestmark = pytest.mark.django_db


# -- outbound ----------------------------------------------------------------


def test_creating_a_proposal_creates_its_issue_with_labels_and_link(fake, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads")
    outbox.push(proposal.pk)
    state = SyncState.objects.get(proposal=proposal)
    issue = fake.issue(state.issue_iid)
    assert issue.title == "Summarise threads"
    assert issue.labels == ["wg-ai-integration", "stage::experiment", "orr::not-started"]
    assert issue.confidential is False
    assert state.web_url.endswith(f"/-/issues/{state.issue_iid}")
    assert state.status == SyncState.Status.SYNCED
    assert "/label" not in issue.description and "/confidential" not in issue.description


def test_a_confidential_proposal_is_confidential_from_the_first_request(fake, author):
    proposal = ProposalFactory(owner=author, confidential=True)
    outbox.push(proposal.pk)
    creates = fake.requests_to("issues.create")
    assert len(creates) == 1 and creates[0].body["confidential"] is True
    assert fake.issues()[0].confidential is True


def test_an_edit_reaches_the_issue_in_one_put_and_a_repeat_push_sends_nothing(fake, linked, author):
    edit(linked, author, user_problem="Reviewers drown in long threads.")
    outbox.push(linked.pk)
    assert "Reviewers drown in long threads." in issue_of(fake, linked).description
    assert len(fake.requests_to("issues.edit")) == 1
    outbox.push(linked.pk)
    assert len(fake.requests_to("issues.edit")) == 1
    assert SyncState.objects.get(proposal=linked).needs_push is False


def test_a_burst_of_saves_enqueues_one_push(fake, author, django_capture_on_commit_callbacks):
    proposal = ProposalFactory(owner=author)
    SyncState.objects.filter(proposal=proposal).update(push_enqueued_at=None)
    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(20):
            edit(proposal, author, user_problem=f"draft {n}")
    assert len(callbacks) == 1
    state = SyncState.objects.get(proposal=proposal)
    assert state.needs_push and state.local_version == 21


def test_labels_set_on_gitlab_survive_a_push_and_come_back(fake, linked, author):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.human_edit(iid, add_labels="security")
    edit(linked, author, user_problem="New text")
    outbox.push(linked.pk)
    put = fake.requests_to("issues.edit")[-1]
    assert "labels" not in put.body
    assert "security" in fake.issue(iid).labels
    linked.refresh_from_db()
    assert "security" in linked.labels


def test_a_label_removed_in_stagegate_is_removed_on_gitlab_only(fake, linked, author):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.human_edit(iid, add_labels="security")
    outbox.push(linked.pk)
    Proposal.objects.filter(pk=linked.pk).update(labels=["wg-ai-integration", "ux"])
    send_proposal_changed(linked, fields=["labels"])
    outbox.push(linked.pk)
    assert fake.requests_to("issues.edit")[-1].body.get("remove_labels") == "security"
    assert set(fake.issue(iid).labels) == {"wg-ai-integration", "stage::experiment", "orr::not-started", "ux"}


# -- inbound -----------------------------------------------------------------


def test_an_edit_on_gitlab_updates_the_proposal_and_its_timeline(fake, linked):
    issue = issue_of(fake, linked)
    fake.human_edit(issue.iid, description=edit_issue_fields(issue.description, user_problem="Typed on GitLab"))
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.user_problem == "Typed on GitLab"
    activity = linked.activities.filter(kind=Activity.Kind.SYNC).first()
    assert "Updated from GitLab by alice" in activity.message
    assert fake.requests_to("issues.edit") == []


def test_our_own_echo_changes_nothing(fake, linked, author):
    edit(linked, author, user_problem="Pushed text")
    outbox.push(linked.pk)
    version = Proposal.objects.get(pk=linked.pk).version
    puts = len(fake.requests_to("issues.edit"))
    exchange.sync_proposal(linked.pk, actor="stagegate-bot")
    assert Proposal.objects.get(pk=linked.pk).version == version
    assert len(fake.requests_to("issues.edit")) == puts


def test_different_fields_edited_on_both_sides_merge(fake, linked, author):
    issue = issue_of(fake, linked)
    text = edit_issue_fields(issue.description, assumptions="From GitLab")
    fake.human_edit(issue.iid, description=text)
    edit(linked, author, user_problem="From Stagegate")
    outbox.push(linked.pk)
    linked.refresh_from_db()
    assert (linked.user_problem, linked.assumptions) == ("From Stagegate", "From GitLab")
    description = fake.issue(issue.iid).description
    assert "From Stagegate" in description and "From GitLab" in description


def test_a_push_writes_back_the_lists_and_ticks_it_took_from_gitlab(fake, linked, author):
    """GitLab's side is applied, then the merged issue is rendered: from what the proposal holds after
    the apply (requirements, ticks, items the data verifies), not from what was read before it."""
    issue = issue_of(fake, linked)
    content = markdown.parse(issue.description).content
    definition = Proposal.objects.get(pk=linked.pk).definition
    entries = [(c.stage.value, item) for c in definition.checklists for item in c.items]
    ticked = next((stage, item.key) for stage, item in entries if not item.verified_by)
    verified = next((stage, item.key) for stage, item in entries if item.verified_by == "assumptions")
    content = dataclasses.replace(
        content,
        fields={**content.fields, "assumptions": "From GitLab"},
        lists={**content.lists, "requirements": ("Runs on the shared runners",)},
        checked=content.checked | {ticked},
    )
    fake.human_edit(issue.iid, description=markdown.render(content))
    edit(linked, author, user_problem="From Stagegate")
    outbox.push(linked.pk)
    on_gitlab = fields.parse_content(fake.issue(issue.iid).description)
    assert on_gitlab.fields["user_problem"] == "From Stagegate"
    assert on_gitlab.lists.get("requirements") == ("Runs on the shared runners",)
    assert {ticked, verified} <= on_gitlab.checked
    assert [r.text for r in Requirement.objects.filter(proposal=linked)] == ["Runs on the shared runners"]


def test_the_same_field_edited_on_both_sides_is_a_conflict_keeping_both_texts(fake, linked, author):
    issue = issue_of(fake, linked)
    fake.human_edit(issue.iid, description=edit_issue_fields(issue.description, user_problem="GitLab's words"))
    edit(linked, author, user_problem="Stagegate's words")
    outbox.push(linked.pk)
    conflict = SyncConflict.objects.get(proposal=linked, resolved_at=None)
    assert (conflict.field, conflict.local_value, conflict.remote_value) == (
        "field:user_problem",
        "Stagegate's words",
        "GitLab's words",
    )
    linked.refresh_from_db()
    assert linked.user_problem == "Stagegate's words"
    assert "GitLab's words" in fake.issue(issue.iid).description
    assert SyncState.objects.get(proposal=linked).base_fields["field:user_problem"] == ""

    exchange.resolve_conflict(conflict=conflict, choice="local", by=author)
    outbox.push(linked.pk)
    description = fake.issue(issue.iid).description
    assert "Stagegate's words" in description and "GitLab's words" not in description
    assert not SyncConflict.objects.filter(proposal=linked, resolved_at=None).exists()


def test_closing_on_gitlab_does_not_move_the_workflow(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.human_edit(iid, state_event="close")
    exchange.sync_proposal(linked.pk)
    linked.refresh_from_db()
    state = SyncState.objects.get(proposal=linked)
    assert linked.state == Proposal.State.DRAFT and state.closed_on_gitlab
    exchange.sync_proposal(linked.pk)
    assert fake.issue(iid).state == "closed"


def test_made_confidential_on_gitlab_is_applied_and_recorded(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.human_edit(iid, confidential=True)
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.confidential is True
    assert linked.activities.filter(message__startswith="Made confidential on GitLab by alice").exists()


def test_comments_on_the_issue_reach_the_timeline_once(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    note = fake.human_comment(iid, "Have we asked legal?")
    assert inbound.pull_comments(linked.pk) == 1
    assert inbound.pull_comments(linked.pk) == 0
    comment = IssueComment.objects.get(proposal=linked)
    assert (comment.gitlab_note_id, comment.author_username) == (note.id, "alice")
    assert linked.activities.filter(kind=Activity.Kind.COMMENT, message__contains="Have we asked legal?").count() == 1


def test_reconcile_applies_edits_whose_webhooks_were_lost_with_one_list_call(fake, author):
    proposals = [ProposalFactory(owner=author) for _ in range(3)]
    for proposal in proposals:
        outbox.push(proposal.pk)
    inbound.reconcile()
    fake.clear_request_log()
    issue = issue_of(fake, proposals[1])
    fake.human_edit(issue.iid, description=edit_issue_fields(issue.description, user_problem="Only via reconcile"))
    stats = inbound.reconcile()
    assert Proposal.objects.get(pk=proposals[1].pk).user_problem == "Only via reconcile"
    assert stats["synced"] == 1
    # One list call per template label (GitLab's label filter is AND), nothing per issue.
    assert [r.route for r in fake.requests_to()] == ["issues.list"] * len(proposal_labels())


def test_reconcile_reads_an_issue_moved_to_another_project_with_one_get_and_applies_its_edit(fake, linked):
    """Our webhook is the configured project's: an issue moved elsewhere is heard of only by reading it."""
    other = fake.store.add_project("other-group/elsewhere")
    moved = fake.move_issue(issue_of(fake, linked).iid, other)
    exchange.sync_proposal(linked.pk)  # follows the move
    inbound.reconcile()
    fake.store.edit_issue(
        other,
        moved,
        {"description": edit_issue_fields(moved.description, user_problem="Edited after the move")},
        fake.human,
    )
    fake.clear_request_log()
    stats = inbound.reconcile()
    linked.refresh_from_db()
    assert linked.user_problem == "Edited after the move"
    assert stats["synced"] == 1
    gets = fake.requests_to("issues.get")
    assert len(gets) == 1 and "elsewhere" in gets[0].path
    assert GitLabConnection.objects.get().issues_watermark < moved.updated_at  # the configured project's clock


def test_losing_the_project_a_moved_issue_went_to_breaks_that_link_at_reconcile_and_the_rest_goes_on(
    fake, linked, author
):
    stayed = ProposalFactory(owner=author, title="Stays in the project")
    outbox.push(stayed.pk)
    other = fake.store.add_project("other-group/elsewhere")
    fake.move_issue(issue_of(fake, linked).iid, other)
    exchange.sync_proposal(linked.pk)
    other.members = {fake.human.id}  # the bot was removed from the project the issue went to
    iid = issue_of(fake, stayed).iid
    fake.human_edit(iid, description=edit_issue_fields(fake.issue(iid).description, user_problem="Still reconciled"))
    inbound.reconcile()
    conn = GitLabConnection.objects.get()
    assert conn.healthy and conn.blocked_reason == ""
    state = SyncState.objects.get(proposal=linked)
    assert state.link_broken and "other-group/elsewhere" in state.last_error
    stayed.refresh_from_db()
    assert stayed.user_problem == "Still reconciled"
    fake.clear_request_log()
    inbound.reconcile()
    assert fake.requests_to("issues.get") == []  # a broken link waits for an admin, not read every run


def test_the_hourly_comment_count_reads_again_only_the_issue_whose_comment_was_deleted(fake, author, monkeypatch):
    """A deleted note touches nothing the reconcile lists by; the hourly pass lists every issue (a call
    per page, no ``updated_after``) and reads the threads of the one whose count changed, nothing more."""
    proposals = [ProposalFactory(owner=author) for _ in range(3)]
    notes = {}
    for proposal in proposals:
        outbox.push(proposal.pk)
        notes[proposal.pk] = fake.human_comment(issue_of(fake, proposal).iid, f"About {proposal.title}")
    inbound.reconcile()
    assert IssueComment.objects.filter(deleted_at=None).count() == 3
    gone = notes[proposals[1].pk]
    fake.human_delete_comment(issue_of(fake, proposals[1]).iid, gone.id)
    monkeypatch.setattr(inbound, "RECONCILE_PAGE", 2)  # three issues: two pages per label
    fake.clear_request_log()
    stats = inbound.recount_comments()
    assert IssueComment.objects.get(gitlab_note_id=gone.id).deleted_at is not None
    assert IssueComment.objects.filter(deleted_at=None).count() == 2
    assert stats == {"seen": 3, "read": 1, "skipped": 0}
    listed = [label for label in proposal_labels() if any(label in issue.labels for issue in fake.issues())]
    calls = fake.requests_to()
    assert [r.route for r in calls if r.route != "discussions.list"] == ["issues.list"] * (
        2 * len(listed) + len(proposal_labels()) - len(listed)
    )
    assert all("updated_after" not in r.query for r in calls)
    assert len(fake.requests_to("discussions.list")) == 1
    fake.clear_request_log()
    inbound.recount_comments()
    assert fake.requests_to("discussions.list") == []  # the counts agree now


def test_the_comment_count_runs_hourly_on_the_beat_schedule(settings):
    from config.celery import app

    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "gitlab_sync.tasks.recount_comments"]
    assert entry["schedule"] == 3600.0
    assert "gitlab_sync.tasks.recount_comments" in app.tasks


def test_import_creates_proposals_from_labelled_issues_once(fake, author):
    body = edit_issue_fields("", user_problem="Imported text")
    fake.create_issue(title="Old proposal", description=body, labels="wg-ai-integration")
    fake.create_issue(title="Unrelated", labels="bug")
    report = importer.import_issues(owner=author)
    assert len(report.imported) == 1 and report.failed == []
    proposal = Proposal.objects.get(title="Old proposal")
    assert proposal.user_problem == "Imported text"
    assert SyncState.objects.get(proposal=proposal).needs_push is False
    again = importer.import_issues(owner=author)
    assert again.imported == [] and len(again.already_linked) == 1


# -- failures ----------------------------------------------------------------


def test_5xx_is_retried_later_and_shown(fake, linked, author):
    edit(linked, author, user_problem="Survives a 503")
    fake.fail("issues.edit", status=503, times=1)
    with pytest.raises(failures.RetryLater):
        outbox.push(linked.pk)
    state = SyncState.objects.get(proposal=linked)
    assert state.needs_push and "503" in state.last_error and state.next_attempt_at
    outbox.push(linked.pk)
    assert "Survives a 503" in issue_of(fake, linked).description
    assert SyncState.objects.get(proposal=linked).last_error == ""


def test_429_waits_at_least_retry_after(fake, linked, author):
    edit(linked, author, user_problem="x")
    fake.fail("issues.get", status=429, retry_after=30)
    with pytest.raises(failures.RetryLater) as later:
        outbox.push(linked.pk)
    assert later.value.countdown >= 30


def test_401_stops_all_sync_until_retry_now(fake, linked, author):
    fake.revoke_token()
    edit(linked, author, user_problem="x")
    outbox.push(linked.pk)
    state = SyncState.objects.get(proposal=linked)
    assert state.status == SyncState.Status.FAILED and "401" in state.last_error
    assert GitLabConnection.objects.get().auth_failed_at is not None
    calls = len(fake.requests_to())
    outbox.push(linked.pk)
    assert len(fake.requests_to()) == calls  # no retry storm
    fake.add_token(fake.token)
    outbox.retry_now(linked)
    outbox.push(linked.pk)
    assert SyncState.objects.get(proposal=linked).status == SyncState.Status.SYNCED


def test_a_deleted_issue_is_flagged_not_recreated(fake, linked, author):
    fake.store.delete_issue(fake.project, issue_of(fake, linked))
    edit(linked, author, user_problem="x")
    outbox.push(linked.pk)
    state = SyncState.objects.get(proposal=linked)
    assert state.link_broken and state.permanent_error
    assert fake.requests_to("issues.create") == []


def test_a_create_interrupted_after_gitlab_answered_adopts_the_issue(fake, author):
    proposal = ProposalFactory(owner=author, title="Interrupted")
    fake.fail("issues.create", status=None, hang=0.5)
    from django.test import override_settings

    with override_settings(GITLAB_TIMEOUT=0.1):
        client._client.cache_clear()
        with pytest.raises(failures.RetryLater):
            outbox.push(proposal.pk)
    client._client.cache_clear()

    deadline = time.monotonic() + 5
    while not fake.issues() and time.monotonic() < deadline:
        time.sleep(0.02)
    outbox.push(proposal.pk)
    assert len(fake.issues()) == 1
    assert SyncState.objects.get(proposal=proposal).issue_iid == fake.issues()[0].iid


# -- deliveries --------------------------------------------------------------


def _delivery(iid: int, *, event: str, kind: str, key: str) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        idempotency_key=key, event=event, object_kind=kind, issue_iid=iid, actor_username="alice"
    )


def test_a_note_hook_delivery_mirrors_the_comment_and_answers_orr_commands(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.human_comment(iid, "/orr approve data")
    delivery = _delivery(iid, event="Note Hook", kind="note", key="n-1")
    assert inbound.handle_delivery(delivery.pk) == "processed"
    assert IssueComment.objects.filter(proposal=linked, body="/orr approve data").exists()
    replies = [note.body for note in fake.issue(iid).notes.values() if note.author.username == "stagegate-bot"]
    assert len(replies) == 1 and "does not know your GitLab account" in replies[0]
    # Our reply comes back as a comment too; it is mirrored but never read as a command.
    assert inbound.handle_delivery(_delivery(iid, event="Note Hook", kind="note", key="n-2").pk) == "processed"
    assert len([n for n in fake.issue(iid).notes.values() if n.author.username == "stagegate-bot"]) == 1


def test_a_delivery_is_processed_once(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    delivery = _delivery(iid, event="Issue Hook", kind="issue", key="i-1")
    assert inbound.handle_delivery(delivery.pk) == "processed"
    calls = len(fake.requests_to())
    assert inbound.handle_delivery(delivery.pk) == "done"
    assert len(fake.requests_to()) == calls


def test_a_delivery_for_an_issue_without_proposal_is_ignored(fake, linked):
    delivery = _delivery(999, event="Issue Hook", kind="issue", key="i-2")
    assert inbound.handle_delivery(delivery.pk) == "ignored"
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDelivery.Status.IGNORED


def test_a_section_added_on_gitlab_is_kept_and_written_back_in_place(fake, linked, author):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    marker = "## Notes from the design sync\n\nWe agreed to start with merge requests only."
    description = fake.issue(iid).description
    anchor = description.index("# [General Availability]")
    fake.human_edit(iid, description=description[:anchor] + marker + "\n\n" + description[anchor:])
    exchange.sync_proposal(linked.pk)
    edit(linked, author, user_problem="Changed in Stagegate afterwards")
    outbox.push(linked.pk)
    final = fake.issue(iid).description
    assert "Changed in Stagegate afterwards" in final
    assert marker in final
    assert final.index(marker) < final.index("# [General Availability]")


def test_a_box_ticked_on_gitlab_ticks_the_checklist_item(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    description = fake.issue(iid).description
    line = "- [ ] Add relevant designs to the Design Management area of the issue if available"
    assert line in description
    fake.human_edit(iid, description=description.replace(line, line.replace("[ ]", "[x]"), 1))
    exchange.sync_proposal(linked.pk)
    assert linked.checklist_items.get(stage="experiment", key="designs").checked is True
    assert fake.requests_to("issues.edit") == []


def test_a_description_gitlab_refuses_is_a_permanent_error_shown_to_the_author(fake, linked, author):
    fake.fail("issues.edit", status=400, times=None)
    edit(linked, author, user_problem="x")
    outbox.push(linked.pk)
    state = SyncState.objects.get(proposal=linked)
    assert state.permanent_error and state.status == SyncState.Status.FAILED and "400" in state.last_error
    assert state.next_attempt_at is None


def test_409_resource_lock_is_retried(fake, linked, author):
    edit(linked, author, user_problem="Locked once")
    fake.fail("issues.edit", status=409)
    with pytest.raises(failures.RetryLater):
        outbox.push(linked.pk)
    outbox.push(linked.pk)
    assert "Locked once" in issue_of(fake, linked).description


# The push runs in another thread, with its own connection.
def test_sweep_enqueues_lost_pushes_and_forgets_old_deliveries(fake, author, django_capture_on_commit_callbacks):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    proposal = ProposalFactory(owner=author)
    SyncState.objects.filter(proposal=proposal).update(push_enqueued_at=timezone.now() - timedelta(hours=1))
    old = WebhookDelivery.objects.create(idempotency_key="old", status=WebhookDelivery.Status.PROCESSED)
    WebhookDelivery.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=30))
    with mock.patch("gitlab_sync.outbox.enqueue_push", return_value=True) as enqueue:
        assert tasks.sweep() == 1
    assert enqueue.call_args.args == (proposal.pk,)
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()


def test_a_dropped_connection_is_retried(fake, linked, author):
    edit(linked, author, user_problem="After a reset")
    fake.fail("issues.get", reset=True)
    with pytest.raises(failures.RetryLater):
        outbox.push(linked.pk)
    assert "reach GitLab" in SyncState.objects.get(proposal=linked).last_error
    outbox.push(linked.pk)
    assert "After a reset" in issue_of(fake, linked).description


def test_import_command_prints_a_report(fake, author):
    from io import StringIO

    from django.core.management import CommandError, call_command

    fake.create_issue(title="From GitLab", labels="wg-ai-integration")
    out = StringIO()
    call_command("import_gitlab_issues", "--owner", author.username, stdout=out)
    assert "Imported 1 issue(s); 0 already linked; 0 failed." in out.getvalue()
    assert "From GitLab" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("import_gitlab_issues", "--owner", "nobody")


def test_a_late_delivery_about_an_older_version_costs_no_api_call(fake, linked):
    from datetime import timedelta

    state = SyncState.objects.get(proposal=linked)
    older = (state.remote_updated_at - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    delivery = WebhookDelivery.objects.create(
        idempotency_key="late", event="Issue Hook", object_kind="issue", issue_iid=state.issue_iid,
        payload_updated_at=older,
    )  # fmt: skip
    assert inbound.handle_delivery(delivery.pk) == "stale"
    assert fake.requests_to() == []


def test_an_edit_whose_push_timed_out_but_landed_is_our_own_write_not_a_conflict(fake, linked, author, settings):
    edit(linked, author, user_problem="Reviewers lose the thread.")
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.fail("issues.edit", status=None, hang=0.5)
    settings.GITLAB_TIMEOUT = 0.1
    client._client.cache_clear()
    with pytest.raises(failures.RetryLater):
        outbox.push(linked.pk)
    settings.GITLAB_TIMEOUT = 10
    client._client.cache_clear()
    deadline = time.monotonic() + 5
    while "Reviewers lose the thread." not in fake.issue(iid).description and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Reviewers lose the thread." in fake.issue(iid).description  # the write landed all the same
    # The author goes on typing before the retry runs.
    edit(linked, author, user_problem="Reviewers lose the thread of long merge requests.")
    outbox.push(linked.pk)
    assert not SyncConflict.objects.filter(proposal=linked, resolved_at__isnull=True).exists()
    assert "Reviewers lose the thread of long merge requests." in fake.issue(iid).description
