"""What real GitLab does that a kind fake did not (issue 11), against the fake over real HTTP."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from gitlab_fake import FakeGitLab
from gitlab_fake.hooks import rails_json
from gitlab_sync import client, discussion, exchange, failures, importer, inbound, outbox
from gitlab_sync.models import GitLabConnection, IssueComment, SyncState, WebhookDelivery
from proposals import markdown, services
from proposals.markdown import ProposalContent
from proposals.models import Activity, Proposal
from proposals.signals import send_proposal_changed
from proposals.template import DEFINITIONS
from reviews.models import Notification
from tests.factories import ProposalFactory
from tests.gitlab_sync.conftest import issue_of
from tests.gitlab_sync.issue_text import edit_issue_fields
from tests.helpers import edit

pytestmark = pytest.mark.django_db


def wait_for(condition, timeout: float = 5.0):
    """Poll until ``condition()`` is truthy (bounded), for what the fake finishes in another thread."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return value


def settings_secret() -> str:
    return django_settings.GITLAB_WEBHOOK_SECRET


def set_labels(proposal: Proposal, labels: list[str]) -> None:
    Proposal.objects.filter(pk=proposal.pk).update(labels=labels)
    send_proposal_changed(proposal, fields=["labels"])


def sync_activities(proposal: Proposal, text: str) -> list[Activity]:
    return list(proposal.activities.filter(kind=Activity.Kind.SYNC, message__contains=text))


# -- labels ------------------------------------------------------------------


def test_labels_gitlab_lists_in_another_order_are_no_change(fake, linked):
    set_labels(linked, ["wg-ai-integration", "zeta", "alpha"])
    outbox.push(linked.pk)
    version = Proposal.objects.get(pk=linked.pk).version
    fake.clear_request_log()
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.labels == ["wg-ai-integration", "zeta", "alpha"]
    assert linked.version == version
    assert sync_activities(linked, "Labels changed on GitLab") == []
    assert fake.requests_to("issues.edit") == []


def test_the_working_group_label_stays_on_the_issue_but_out_of_the_authors_labels(fake, linked):
    set_labels(linked, ["ux"])
    outbox.push(linked.pk)
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.labels == ["ux"]
    assert "wg-ai-integration" in issue_of(fake, linked).labels
    assert sync_activities(linked, "Labels changed on GitLab") == []


def test_a_stage_label_dragged_on_a_board_is_recorded_and_set_back_by_the_stated_rule(fake, linked):
    iid = issue_of(fake, linked).iid
    fake.human_edit(iid, add_labels="stage::beta", remove_labels="stage::experiment")
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.stage == "experiment"
    labels = fake.issue(iid).labels
    assert "stage::experiment" in labels and "stage::beta" not in labels
    [entry] = sync_activities(linked, "stage::beta set on GitLab by alice")
    assert "move only in Stagegate" in entry.message


def test_a_label_the_bot_may_not_create_is_reported_once_and_not_resent(fake, linked, author):
    fake.store.create_label(fake.project, {"name": "ux", "color": "#428BCA"}, fake.human)
    fake.forbid_label_creation()
    set_labels(linked, ["wg-ai-integration", "brand-new"])
    outbox.push(linked.pk)
    iid = issue_of(fake, linked).iid
    assert "brand-new" not in fake.issue(iid).labels
    assert len(sync_activities(linked, "did not add the label(s) brand-new")) == 1
    set_labels(linked, ["wg-ai-integration", "brand-new", "ux"])
    fake.clear_request_log()
    outbox.push(linked.pk)
    [put] = fake.requests_to("issues.edit")
    assert put.body["add_labels"] == "ux"
    exchange.sync_proposal(linked.pk)
    assert len(sync_activities(linked, "did not add the label(s)")) == 1
    assert "ux" in fake.issue(iid).labels
    assert SyncState.objects.get(proposal=linked).refused_labels == ["brand-new"]
    linked.refresh_from_db()
    assert "brand-new" in linked.labels  # the author's label is kept in Stagegate


# -- internal notes ----------------------------------------------------------


@pytest.mark.parametrize("flag", ["internal", "confidential"])
def test_an_internal_note_is_kept_flagged_but_never_reaches_the_timeline(fake, linked, flag):
    iid = issue_of(fake, linked).iid
    issue = fake.issue(iid)
    # `confidential` is how GitLab before 15.0 marked what is now an internal note.
    fake.store.create_note(fake.project, issue, {"body": "Legal says no", flag: True}, fake.human)
    fake.human_comment(iid, "Looks good")
    assert inbound.pull_comments(linked.pk) == 2
    secret = IssueComment.objects.get(proposal=linked, body="Legal says no")
    assert secret.internal is True
    comments = linked.activities.filter(kind=Activity.Kind.COMMENT)
    assert [a.message for a in comments] == ["alice commented on GitLab: Looks good"]
    assert not linked.activities.filter(message__contains="Legal says no").exists()


def test_internal_notes_on_the_timeline_only_when_the_admin_turns_it_on(fake, linked, settings):
    settings.GITLAB_INTERNAL_NOTES_ON_TIMELINE = True
    fake.human_comment(issue_of(fake, linked).iid, "Legal says no", internal=True)
    inbound.pull_comments(linked.pk)
    entry = linked.activities.get(kind=Activity.Kind.COMMENT)
    assert entry.data["internal"] is True and "internal note" in entry.message


# -- [~] task items ----------------------------------------------------------


def test_an_item_marked_inapplicable_on_gitlab_stays_so_through_an_edit_in_stagegate(fake, linked, author):
    checklist = linked.definition.checklists[0]
    item = next(entry for entry in checklist.items if not entry.verified_by)
    issue = issue_of(fake, linked)
    line = f"- [ ] {item.text}"
    open_before = issue.description.count(line)
    fake.human_edit(issue.iid, description=issue.description.replace(line, f"- [~] {item.text}", 1))
    exchange.sync_proposal(linked.pk, actor="alice")
    row = linked.checklist_items.get(stage=checklist.stage.value, key=item.key)
    assert row.inapplicable and not row.checked
    edit(linked, author, user_problem="Edited in Stagegate afterwards")
    outbox.push(linked.pk)
    description = fake.issue(issue.iid).description
    assert description.count(f"- [~] {item.text}") == 1 and description.count(line) == open_before - 1
    assert "Edited in Stagegate afterwards" in description
    services.checklist_toggle(item=row, checked=False, by=author)  # unticking [~] is no change
    row.refresh_from_db()
    assert row.inapplicable


# -- moved and duplicated issues ---------------------------------------------


def test_a_moved_issue_is_followed_and_the_old_one_never_written_again(fake, linked, author):
    other = fake.store.add_project("ai-group/elsewhere")
    old_iid = issue_of(fake, linked).iid
    moved = fake.move_issue(old_iid, other)
    exchange.sync_proposal(linked.pk, actor="alice")
    state = SyncState.objects.get(proposal=linked)
    assert (state.project_path, state.issue_iid, state.issue_id) == ("ai-group/elsewhere", moved.iid, moved.id)
    assert sync_activities(linked, f"moved to ai-group/elsewhere#{moved.iid}")
    fake.clear_request_log()
    edit(linked, author, user_problem="Written after the move")
    outbox.push(linked.pk)
    assert "Written after the move" in fake.issue(moved.iid, other).description
    assert "Written after the move" not in fake.issue(old_iid).description
    assert all("/projects/ai-group%2Fproposals/" not in r.path for r in fake.requests_to("issues.edit"))


def test_a_move_the_bot_cannot_follow_flags_the_link_for_an_admin(fake, linked, author):
    hidden = fake.store.add_project("ai-group/secret")
    hidden.members = {fake.human.id}
    old_iid = issue_of(fake, linked).iid
    fake.move_issue(old_iid, hidden)
    edit(linked, author, user_problem="Must not land on the closed issue")
    outbox.push(linked.pk)
    state = SyncState.objects.get(proposal=linked)
    assert state.link_broken and state.issue_iid == old_iid
    assert "moved to ai-group/secret#1, which the bot cannot read" in state.last_error
    outbox.push(linked.pk)
    assert fake.requests_to("issues.edit") == []
    assert "Must not land" not in fake.issue(old_iid).description


def test_a_move_across_groups_is_followed_by_the_full_path_the_note_gives(fake, linked, author):
    other = fake.store.add_project("other-group/elsewhere")
    old_iid = issue_of(fake, linked).iid
    moved = fake.move_issue(old_iid, other)
    exchange.sync_proposal(linked.pk)
    state = SyncState.objects.get(proposal=linked)
    assert (state.project_path, state.issue_iid, state.link_broken) == ("other-group/elsewhere", moved.iid, False)
    assert sync_activities(linked, f"moved to other-group/elsewhere#{moved.iid}")


def test_an_issue_moved_back_into_the_project_configured_by_its_id_is_linked_there_again(fake, author, settings):
    settings.GITLAB_PROJECT = str(fake.project.id)
    proposal = ProposalFactory(owner=author)
    outbox.push(proposal.pk)
    other = fake.store.add_project("ai-group/elsewhere")
    there = fake.move_issue(issue_of(fake, proposal).iid, other)
    exchange.sync_proposal(proposal.pk)
    assert SyncState.objects.get(proposal=proposal).project_path == "ai-group/elsewhere"
    back = fake.store.move_issue(other, there, fake.project, fake.human)
    exchange.sync_proposal(proposal.pk)
    state = SyncState.objects.get(proposal=proposal)
    assert (state.project_path, state.issue_iid) == ("", back.iid)


def test_after_a_move_a_reply_goes_into_the_thread_the_move_copied(fake, linked, author):
    iid = issue_of(fake, linked).iid
    fake.human_comment(iid, "Asked before the move")
    inbound.pull_comments(linked.pk)
    other = fake.store.add_project("ai-group/elsewhere")
    moved = fake.move_issue(iid, other)
    exchange.sync_proposal(linked.pk)
    asked = IssueComment.objects.get(proposal=linked, body="Asked before the move")
    discussion.comment_post(proposal=linked, body="Answered after the move", by=author, reply_to=asked)
    for comment_id in IssueComment.objects.filter(posting="pending").values_list("pk", flat=True):
        discussion.comment_deliver(comment_id)
    notes = fake.issue(moved.iid, other).notes.values()
    [question] = [n for n in notes if n.body == "Asked before the move"]
    [answer] = [n for n in notes if n.body.startswith("Answered after the move")]
    assert answer.discussion_id == question.discussion_id
    assert not any("Answered" in n.body for n in fake.issue(iid).notes.values())
    inbound.pull_comments(linked.pk)
    assert IssueComment.objects.filter(proposal=linked, deleted_at=None).count() == 2


def test_a_project_id_stored_from_another_projects_answer_is_mended_by_the_hourly_check(fake, linked):
    GitLabConnection.objects.update(project_id=fake.project.id + 500, health_checked_at=None)
    inbound.reconcile()
    assert GitLabConnection.objects.get().project_id == fake.project.id


def test_an_issue_closed_as_duplicate_is_flagged_not_written(fake, linked, author):
    iid = issue_of(fake, linked).iid
    other = fake.create_issue(title="The older twin")
    fake.close_as_duplicate(iid, other.iid)
    edit(linked, author, user_problem="Not onto the duplicate")
    outbox.push(linked.pk)
    state = SyncState.objects.get(proposal=linked)
    assert state.link_broken and "duplicate" in state.last_error
    assert fake.requests_to("issues.edit") == []


# -- reconcile while issues change ---------------------------------------------


def test_reconcile_skips_no_issue_when_issues_are_touched_during_the_walk(fake, author, settings):
    settings.GITLAB_RECONCILE_PAGE_SIZE = 2
    proposals = [ProposalFactory(owner=author) for _ in range(6)]
    for proposal in proposals:
        outbox.push(proposal.pk)
    fake.create_issue(title="Not a proposal", labels="bug")
    inbound.reconcile()
    issues = [issue_of(fake, proposal) for proposal in proposals]
    for n, issue in enumerate(issues):  # edits whose webhooks were lost, oldest first
        fake.human_edit(issue.iid, description=edit_issue_fields(issue.description, user_problem=f"Lost edit {n}"))
    # Between the first and the second page, someone comments on the first issue: it moves to the end.
    fake.before_request("issues.list", lambda: fake.human_comment(issues[0].iid, "Touched mid-walk"), after=1)
    fake.clear_request_log()
    stats = inbound.reconcile()
    for n, proposal in enumerate(proposals):
        proposal.refresh_from_db()
        assert proposal.user_problem == f"Lost edit {n}"
    assert stats["seen"] == 6  # each once, and never the unlabelled issue
    # Filtered by a proposal label of some template version, never the whole project.
    assert {r.query.get("labels") for r in fake.requests_to("issues.list")} == {
        "wg-ai-integration",
        "AI Feature Proposal",
    }
    assert IssueComment.objects.filter(body="Touched mid-walk").count() == 1


def test_reconcile_command_reports_what_it_did(fake, linked):
    out = io.StringIO()
    call_command("reconcile_gitlab", "--full", stdout=out)
    assert "Reconciled: 1 issues read" in out.getvalue()


# -- confidentiality from GitLab -----------------------------------------------


def test_an_issue_made_public_on_gitlab_never_makes_a_confidential_proposal_public(fake, author, other_author):
    proposal = ProposalFactory(owner=author, confidential=True)
    proposal.co_authors.add(other_author)  # the proposal's authors are told, co-authors included
    outbox.push(proposal.pk)
    iid = issue_of(fake, proposal).iid
    fake.human_edit(iid, confidential=False)
    exchange.sync_proposal(proposal.pk, actor="alice", push=False)  # as a webhook does
    proposal.refresh_from_db()
    assert proposal.confidential is True
    assert fake.issue(iid).confidential is True
    [entry] = sync_activities(proposal, "made public by alice")
    assert "confidential again" in entry.message
    told = Notification.objects.get(event=Notification.Event.CONFIDENTIALITY)
    assert told.recipients == [author.email, other_author.email]
    exchange.sync_proposal(proposal.pk, actor="stagegate-bot")  # our own echo: nothing more
    assert len(sync_activities(proposal, "made public")) == 1


# -- errors that are not transient ---------------------------------------------


def stopped_once(fake, linked, author, reason: str, fix=None) -> GitLabConnection:
    """The push fails, the connection says why, and nothing more is tried until someone fixes the
    cause (``fix``, by default the fake's fault cleared) and an admin resumes."""
    edit(linked, author, user_problem="Waits for the connection")
    outbox.push(linked.pk)
    conn = GitLabConnection.objects.get()
    assert conn.blocked_reason == reason and not conn.healthy
    state = SyncState.objects.get(proposal=linked)
    assert state.needs_push and not state.permanent_error and not state.link_broken
    assert not sync_activities(linked, "GitLab sync failed")  # said on the connection, not per proposal
    calls = len(fake.requests_to())
    outbox.push(linked.pk)
    assert outbox.sweep() == 0
    assert len(fake.requests_to()) == calls  # no retry loop
    (fix or fake.heal)()
    outbox.retry_now(linked)
    outbox.push(linked.pk)
    assert GitLabConnection.objects.get().healthy
    assert "Waits for the connection" in issue_of(fake, linked).description
    return conn


def test_a_captcha_demand_stops_the_connection_with_one_message(fake, linked, author):
    fake.fail("issues.edit", status=409, spam=True, times=None)
    conn = stopped_once(fake, linked, author, "captcha")
    assert "spam check" in conn.blocked_message


def test_a_redirected_write_means_a_wrong_url_not_a_retry(fake, linked, author):
    iid = issue_of(fake, linked).iid
    fake.fail("issues.edit", status=302, location=f"{fake.url}/api/v4/projects/1/issues/{iid}", times=None)
    conn = stopped_once(fake, linked, author, "redirect")
    assert "GITLAB_URL" in conn.blocked_message


def test_a_project_gone_stops_the_connection_but_a_missing_issue_does_not(fake, linked, author):
    fake.project.members = {fake.human.id}  # the bot was removed from the project
    conn = stopped_once(fake, linked, author, "project_gone", fix=lambda: setattr(fake.project, "members", None))
    assert "no longer a member" in conn.blocked_message
    fake.store.delete_issue(fake.project, issue_of(fake, linked))
    edit(linked, author, user_problem="Issue gone")
    outbox.push(linked.pk)
    assert GitLabConnection.objects.get().healthy
    assert SyncState.objects.get(proposal=linked).link_broken


def test_an_archived_project_stops_the_connection(fake, linked, author):
    fake.project.archived = True
    conn = stopped_once(fake, linked, author, "archived", fix=lambda: setattr(fake.project, "archived", False))
    assert "archived" in conn.blocked_message


def test_a_token_that_may_only_read_stops_the_connection_and_says_which_scope_it_needs(fake, linked, author):
    fake.set_token_scopes(["read_api"])
    conn = stopped_once(fake, linked, author, "token_scope", fix=lambda: fake.set_token_scopes(["api"]))
    assert "api scope" in conn.blocked_message and "GITLAB_TOKEN" in conn.blocked_message


def test_an_expired_token_says_so(fake, linked, author):
    fake.expire_token()
    edit(linked, author, user_problem="x")
    outbox.push(linked.pk)
    assert "token has expired" in SyncState.objects.get(proposal=linked).last_error
    assert GitLabConnection.objects.get().auth_failed_at is not None


# -- a create that timed out but landed ----------------------------------------


def test_a_create_that_timed_out_is_found_by_its_mark_not_by_a_title_someone_shares(fake, author, settings):
    proposal = ProposalFactory(owner=author, title="Summaries for everyone")
    fake.fail("issues.create", status=None, hang=0.5)
    settings.GITLAB_TIMEOUT = 0.1
    client._client.cache_clear()
    with pytest.raises(failures.RetryLater):
        outbox.push(proposal.pk)
    settings.GITLAB_TIMEOUT = 10
    client._client.cache_clear()
    landed = wait_for(lambda: fake.issues())[0]
    # Meanwhile a person files an issue with the same title and label.
    fake.create_issue(title="Summaries for everyone", labels="wg-ai-integration", description="by hand")
    outbox.push(proposal.pk)
    assert len(fake.issues()) == 2
    assert SyncState.objects.get(proposal=proposal).issue_iid == landed.iid
    assert landed.description.rstrip().endswith(f"<!-- stagegate:proposal={proposal.pk} -->")


def test_the_mark_is_no_content_and_no_change(fake, linked):
    issue = issue_of(fake, linked)
    assert f"<!-- stagegate:proposal={linked.pk} -->" in issue.description
    exchange.sync_proposal(linked.pk)
    assert fake.requests_to("issues.edit") == []
    assert Proposal.objects.get(pk=linked.pk).kept_blocks in ([], None)


# -- large echo webhooks -------------------------------------------------------


@pytest.mark.urls("tests.gitlab_sync.urls")
@pytest.mark.parametrize("appendix_size", [1_000, 190_000])  # Stagegate keeps up to 200,000 added characters
def test_an_edit_overwritten_by_our_write_is_recovered_from_an_echo_of_any_size(
    fake, linked, author, client, appendix_size
):
    """GitLab has no compare-and-swap; our write's own webhook shows what it replaced, and that is kept
    whole even when the Rails-escaped body (the description three times) is far over what is stored."""
    iid = issue_of(fake, linked).iid
    issue = fake.issue(iid)
    row = "<td>a &amp; b</td>\n"
    appendix = "## Appendix added on GitLab\n\n" + row * (appendix_size // len(row))
    description = issue.description.replace("<!-- stagegate", appendix + "\n\n<!-- stagegate")
    fake.human_edit(iid, description=description)
    exchange.sync_proposal(linked.pk)
    fake.add_hook(f"{fake.url}/unreachable", token="t")  # deliveries are built and logged
    edit(linked, author, user_problem="Written in Stagegate")
    # Between our read and our write, someone edits another section on GitLab; our write overwrites it.
    meanwhile = edit_issue_fields(fake.issue(iid).description, assumptions="Typed meanwhile")
    fake.before_request("issues.edit", lambda: fake.human_edit(iid, description=meanwhile))
    outbox.push(linked.pk)
    assert "Typed meanwhile" not in fake.issue(iid).description
    assert len(fake.issue(iid).description) <= 1_048_576
    assert fake.wait_for_hooks()
    echo = [d for d in fake.deliveries() if d.payload["user"]["username"] == "stagegate-bot"][-1]
    response = client.post(
        "/gitlab/webhook/",
        data=echo.body,
        content_type="application/json",
        HTTP_X_GITLAB_EVENT=echo.event,
        HTTP_X_GITLAB_TOKEN=settings_secret(),
        HTTP_IDEMPOTENCY_KEY=echo.idempotency_key,
    )
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(idempotency_key=echo.idempotency_key)
    if appendix_size > 100_000:
        assert delivery.body_size > 3 * appendix_size > len(delivery.body)  # stored cut, recovered anyway
    inbound.handle_delivery(delivery.pk)
    linked.refresh_from_db()
    assert (linked.user_problem, linked.assumptions) == ("Written in Stagegate", "Typed meanwhile")
    outbox.push(linked.pk)
    final = fake.issue(iid).description
    assert "Written in Stagegate" in final and "Typed meanwhile" in final and "Appendix added on GitLab" in final


@pytest.mark.urls("tests.gitlab_sync.urls")
def test_a_webhook_with_the_largest_description_gitlab_allows_keeps_the_change_whole(client, settings):
    """1,048,576 characters of ``<``: Rails writes each as six bytes, three times over (about 19 MB)."""
    settings.GITLAB_WEBHOOK_SECRET = "webhook-secret"
    previous, current = "<" * 1_048_576, "<" * 1_048_575 + ">"
    payload = {
        "object_kind": "issue",
        "user": {"username": "stagegate-bot"},
        "project": {"id": 1},
        "object_attributes": {"iid": 7, "action": "update", "description": current},
        "changes": {"description": {"previous": previous, "current": current}},
    }
    body = rails_json(payload)
    assert len(body) > 18_000_000
    response = client.post(
        "/gitlab/webhook/",
        data=body,
        content_type="application/json",
        HTTP_X_GITLAB_EVENT="Issue Hook",
        HTTP_X_GITLAB_TOKEN=settings_secret(),
        HTTP_IDEMPOTENCY_KEY="largest",
    )
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(idempotency_key="largest")
    assert delivery.description_changed and delivery.description_previous == previous
    assert delivery.description_current_hash == exchange.text_hash(current)


# -- behind a proxy, under a path prefix ---------------------------------------


@pytest.fixture(scope="module")
def prefixed_server():
    fake = FakeGitLab(prefix="/gitlab").start()
    yield fake
    fake.stop()


def test_gitlab_under_a_path_prefix_with_an_unreachable_external_url_pages_through(prefixed_server, settings, author):
    fake = prefixed_server
    fake.reset()
    fake.external_url = "https://gitlab.internal.example/gitlab"  # what GitLab puts in its Link headers
    settings.GITLAB_URL, settings.GITLAB_TOKEN = fake.url, fake.token
    settings.GITLAB_PROJECT = fake.project.path_with_namespace
    settings.GITLAB_PUSH_MIN_INTERVAL = 0
    client._client.cache_clear()
    try:
        proposal = ProposalFactory(owner=author)
        outbox.push(proposal.pk)
        issue = issue_of(fake, proposal)
        for n in range(101):  # more than one page of notes
            fake.store.create_note(fake.project, issue, {"body": f"comment {n}"}, fake.human)
        assert inbound.pull_comments(proposal.pk) == 101
        assert SyncState.objects.get(proposal=proposal).web_url.startswith("https://gitlab.internal.example/gitlab/")
    finally:
        client._client.cache_clear()


# -- comments edited or deleted on GitLab --------------------------------------


def test_reconcile_mirrors_comments_edited_or_deleted_without_a_webhook(fake, linked):
    iid = issue_of(fake, linked).iid
    kept = fake.human_comment(iid, "First thought")
    gone = fake.human_comment(iid, "Posted by mistake")
    inbound.reconcile()
    assert IssueComment.objects.filter(proposal=linked, deleted_at=None).count() == 2
    fake.human_edit_comment(iid, kept.id, "Second thought")  # before 16.11 no webhook; the issue is touched
    inbound.reconcile()
    assert IssueComment.objects.get(gitlab_note_id=kept.id).body == "Second thought"
    fake.store.delete_note(fake.issue(iid), fake.store.find_note(fake.issue(iid), str(gone.id)))  # no webhook ever
    inbound.reconcile()
    assert IssueComment.objects.get(gitlab_note_id=gone.id).deleted_at is not None
    assert IssueComment.objects.get(gitlab_note_id=kept.id).deleted_at is None


# -- token life and hook health ------------------------------------------------


def test_admins_are_warned_ahead_of_token_expiry_and_of_a_disabled_webhook(fake, linked, client, django_user_model):
    soon = timezone.localdate() + timedelta(days=10)
    fake.set_token_expiry(soon.isoformat())
    hook = fake.add_hook("https://stagegate.example/gitlab/webhook/", token="t")
    hook.alert_status = "temporarily_disabled"  # GitLab's answer to four failed deliveries in a row
    inbound.reconcile()
    conn = GitLabConnection.objects.get()
    assert conn.token_expires_at == soon and conn.hook_status == "temporarily_disabled"
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    response = client.get(reverse("admin:gitlab_sync_gitlabconnection_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "bot token expires in 10 days" in page
    assert "temporarily disabled the webhook" in page


def test_a_token_far_from_expiry_and_a_working_hook_say_nothing(fake, linked):
    fake.set_token_expiry((timezone.localdate() + timedelta(days=300)).isoformat())
    fake.add_hook("https://stagegate.example/gitlab/webhook/", token="t")
    inbound.reconcile()
    assert GitLabConnection.objects.get().warnings(timezone.localdate()) == []


# -- import keeps the template version -------------------------------------------


def test_import_pins_the_issues_template_version_and_keeps_its_newer_sections(fake, author):
    newest = list(DEFINITIONS)[-1]
    body = markdown.render(
        ProposalContent(template_version=newest, fields={"user_problem": "Imported", "beta_success": "Beta measure"})
    )
    fake.create_issue(title="Written from the newest template", description=body, labels="wg-ai-integration")
    importer.import_issues(owner=author)
    proposal = Proposal.objects.get(title="Written from the newest template")
    assert proposal.template_version == newest
    fake.clear_request_log()
    edit(proposal, author, user_problem="Edited after the import")
    outbox.push(proposal.pk)
    description = fake.issues()[0].description
    assert "Edited after the import" in description and "Beta measure" in description
