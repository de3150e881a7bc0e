"""What comes from GitLab: webhook deliveries, comments (and their `/orr` commands), reconciliation.

A webhook is a hint: the issue is read again through the API before anything is applied.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from accounts.gitlab import user_for_gitlab_id
from config.celery import app
from gitlab_sync import client, discussion
from gitlab_sync.client import TransientGitLabError
from gitlab_sync.connection import (
    LockBusy,
    check_health,
    connection,
    ensure_healthy,
    known_healthy,
    parse_time,
    proposal_lock,
)
from gitlab_sync.exchange import issue_fingerprint, proposals_for_sync, recover_overwritten_edit, sync_proposal
from gitlab_sync.failures import RetryLater, backoff, record_failure
from gitlab_sync.importer import proposal_issues
from gitlab_sync.models import GitLabConnection, IssueComment, SyncState, WebhookDelivery
from gitlab_sync.outbox import follow_up
from gitlab_sync.template_actions import proposal_labels
from proposals import search
from proposals.models import Activity, Proposal
from reviews.commands import review_decide_from_comment

log = logging.getLogger(__name__)

DELIVERY_TASK = "gitlab_sync.tasks.process_delivery"

DELIVERY_RETENTION_DAYS = 14
ISSUE_EVENTS = {"Issue Hook", "Confidential Issue Hook"}
NOTE_EVENTS = {"Note Hook", "Confidential Note Hook"}


def handle_delivery(delivery_id: int) -> str:
    """Apply one stored webhook delivery. A webhook is a hint: the issue is read again through the API."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED):
        return "done"
    # Deliveries come from the configured project: an issue followed into another project is not theirs.
    linked = SyncState.objects.filter(issue_iid=delivery.issue_iid, project_path="")
    state = linked.first() if delivery.issue_iid else None
    conn = connection()
    wrong_project = conn.project_id and delivery.project_id and delivery.project_id != conn.project_id
    if state is None or wrong_project:
        _finish_delivery(delivery, WebhookDelivery.Status.IGNORED, "No proposal is linked to this issue.")
        return "ignored"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        with proposal_lock(state.proposal_id, wait=5.0):
            if delivery.event in NOTE_EVENTS or delivery.object_kind == "note":
                pull_comments(state.proposal_id)
            elif not recover_overwritten_edit(state, delivery) and _already_seen(state, delivery):
                _finish_delivery(delivery, WebhookDelivery.Status.PROCESSED, "Older than the issue we last read.")
                return "stale"
            else:
                sync_proposal(state.proposal_id, actor=delivery.actor_username, push=False)
                follow_up(state.proposal_id)
    except LockBusy:
        raise RetryLater(2.0) from None
    except TransientGitLabError as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(error=exc.message[:2000])
        raise RetryLater(backoff(delivery.attempts + 1, exc.retry_after)) from exc
    except client.SyncDisabled as exc:
        _finish_delivery(delivery, WebhookDelivery.Status.IGNORED, exc.message)
        return "ignored"
    except client.GitLabError as exc:
        record_failure(state.proposal_id, exc)
        _finish_delivery(delivery, WebhookDelivery.Status.FAILED, exc.message)
        return "failed"
    _finish_delivery(delivery, WebhookDelivery.Status.PROCESSED, "")
    return "processed"


def _already_seen(state: SyncState, delivery: WebhookDelivery) -> bool:
    """A delivery about an issue version older than the one we last read (a late or reordered
    webhook) has nothing new: skip the API call. The payload's clock has whole seconds only."""
    try:
        sent = parse_time(delivery.payload_updated_at.replace(" UTC", "Z"))
    except ValueError:
        return False
    known = state.remote_updated_at
    return sent is not None and known is not None and sent + timedelta(seconds=1) < known


def _finish_delivery(delivery: WebhookDelivery, status: str, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status, error=error, processed_at=timezone.now())


def pull_comments(proposal_id: int) -> int:
    """Mirror the issue's comments (not system notes) onto the proposal; returns how many are new."""
    ensure_healthy()
    state = SyncState.objects.get(proposal_id=proposal_id)
    # Read as threads: replies keep their thread, and GitLab's system notes say when links or designs changed.
    notes = [note for note in discussion.read_notes(state) if not note.get("system")]
    proposal = Proposal(pk=proposal_id)
    known = {c.gitlab_note_id: c for c in IssueComment.objects.filter(proposal_id=proposal_id)}
    seen = set()
    new = edited = 0
    fresh_notes = []
    with transaction.atomic():
        for note in notes:
            seen.add(note["id"])
            author = note.get("author") or {}
            body = discussion.shown_body(note.get("body", ""))
            comment = known.get(note["id"])
            if comment is None and discussion.claim_own_note(proposal_id, note):
                continue  # written in Stagegate: its row and timeline entry exist
            if comment is None:
                internal = bool(note.get("internal") or note.get("confidential"))
                verb = "wrote an internal note" if internal else "commented"
                IssueComment.objects.create(
                    proposal_id=proposal_id,
                    gitlab_note_id=note["id"],
                    author_username=author.get("username", ""),
                    author_name=author.get("name", ""),
                    body=body,
                    discussion_id=note.get("discussion_id", ""),
                    internal=internal,
                    created_at=parse_time(note.get("created_at")),
                    updated_at=parse_time(note.get("updated_at")),
                )
                # GitLab shows internal notes (older versions: confidential) to members only; by
                # default they never reach the timeline, whose readers GitLab does not know.
                if not internal or settings.GITLAB_INTERNAL_NOTES_ON_TIMELINE:
                    Activity.objects.record(
                        proposal,
                        actor=local_user_for(author.get("id")),
                        kind=Activity.Kind.COMMENT,
                        message=f"{author.get('username', 'someone')} {verb} on GitLab: {note.get('body', '')[:300]}",
                        # Shown only to those who may see GitLab's internal notes (access.may_see_internal_notes).
                        data={"note_id": note["id"], "by": author.get("username", ""), "internal": internal},
                    )
                new += 1
                if REPLY_MARKER not in note.get("body", ""):
                    fresh_notes.append(note)
            elif not comment.edit_pending and (
                comment.body != body or comment.deleted_at or comment.discussion_id != note.get("discussion_id")
            ):
                comment.body = body
                comment.updated_at = parse_time(note.get("updated_at"))
                comment.deleted_at = None
                comment.discussion_id = note.get("discussion_id", "")
                comment.save(update_fields=["body", "updated_at", "deleted_at", "discussion_id"])
                edited += 1
        # Gone from GitLab (no webhook says so). Comments not posted yet, or changed here and not yet there, stay.
        edited += (
            IssueComment.objects.filter(proposal_id=proposal_id, deleted_at__isnull=True, edit_pending=False)
            .exclude(gitlab_note_id=None)
            .exclude(gitlab_note_id__in=seen)
            .update(deleted_at=timezone.now())
        )
        if new or edited:  # the comments the search finds changed
            search.search_index_proposal(Proposal.objects.get(pk=proposal_id))
    discussion.notify_gitlab_mentions(proposal_id, fresh_notes)
    _run_orr_commands(proposal_id, state, fresh_notes)
    return new


def comment_search_parts(proposal: Proposal) -> list[search.Part]:
    """The GitLab comments a proposal's search finds: those every reader of the proposal may see."""
    return comment_search_parts_many([proposal])[proposal.pk]


def comment_search_parts_many(proposals: list[Proposal]) -> dict[int, list[search.Part]]:
    """`comment_search_parts` of many proposals in one query, by proposal id."""
    parts: dict[int, list[search.Part]] = {proposal.pk: [] for proposal in proposals}
    for c in IssueComment.objects.filter(proposal__in=list(parts), internal=False, deleted_at__isnull=True):
        parts[c.proposal_id].append(
            search.Part(f"gitlab-comment:{c.gitlab_note_id}", f"GitLab comment by {c.author_username}", c.body, "C")
        )
    return parts


def local_user_for(gitlab_user_id):
    """The Stagegate user who signs in with this GitLab account, when there is one."""
    return user_for_gitlab_id(gitlab_user_id)


# Our own replies carry this, so they are never read as commands.
REPLY_MARKER = "<!-- stagegate:reply -->"


def _run_orr_commands(proposal_id: int, state: SyncState, notes: list[dict]) -> None:
    """`/orr` lines in new comments decide reviews (reviews.commands); the replies go back as comments."""
    if not notes:
        return
    proposal = Proposal.objects.get(pk=proposal_id)
    for note in notes:
        author = note.get("author") or {}
        # GitLab 15.0 renamed ``confidential`` to ``internal``; older versions send only the first.
        internal = bool(note.get("internal") or note.get("confidential"))
        replies = review_decide_from_comment(
            proposal=proposal,
            gitlab_user_id=author.get("id"),
            gitlab_username=author.get("username", ""),
            note_body=note.get("body", ""),
            note_id=note["id"],
            posted_at=parse_time(note.get("created_at")),
            internal=internal,
        )
        for reply in replies:
            body = f"{reply}\n\n{REPLY_MARKER}"
            if internal and note.get("discussion_id"):
                # A reply in an internal thread is internal (Notes::BuildService): the answer stays with the note.
                client.reply_to_discussion(state.issue_iid, note["discussion_id"], body, project=state.project)
            else:
                client.create_note(state.issue_iid, body, project=state.project)


def walk_updated_issues(*, since: datetime | None, labels: str) -> Iterator[dict[str, Any]]:
    """Every issue with ``labels`` updated at or after ``since``, oldest change first, each version once.

    Offset pages over ``updated_at`` shift while issues change (a comment touches its issue, our own
    replies too): an issue touched behind the walk moves to its end and the next page would start one
    issue late. So each page is the first page after a cursor that moves to the newest ``updated_at``
    read, and what was already read (same id, same ``updated_at``) is left out. A page whose issues
    all share one timestamp cannot move the cursor; the walk then steps to the next page.
    """
    per_page = settings.GITLAB_RECONCILE_PAGE_SIZE
    seen: dict[int, str] = {}
    cursor, page = since, 1
    while True:
        filters: dict[str, Any] = {"order_by": "updated_at", "sort": "asc", "per_page": per_page, "page": page}
        if cursor is not None:
            filters["updated_after"] = cursor.isoformat()
        if labels:
            filters["labels"] = labels
        issues = client.list_issues_page(**filters)
        for issue in issues:
            if seen.get(issue["id"]) != issue.get("updated_at"):
                seen[issue["id"]] = issue.get("updated_at")
                yield issue
        if len(issues) < per_page:
            return
        newest = parse_time(issues[-1].get("updated_at"))
        if newest is not None and (cursor is None or newest > cursor):
            cursor, page = newest, 1
        else:
            page += 1


def reconcile() -> dict[str, int]:
    """Apply what webhooks missed: walk the proposals' issues updated since the watermark and sync the
    changed ones (and their comments); then read each issue followed into another project, which our
    project's webhook never hears of. Runs on a schedule, from the admin, and as ``manage.py reconcile_gitlab``."""
    ensure_healthy()
    check_health()
    with known_healthy():  # what check_health found included
        return _reconcile_walk()


# One link as a reconcile sees it: (proposal id, the issue's updated_at when last read, its fingerprint).
Link = tuple[int, datetime | None, str]


def _reconcile_walk() -> dict[str, int]:
    conn = connection()
    links: dict[int, Link] = {}
    # Issues followed into another project (moved on GitLab): (project path, iid, link). Few; read in one
    # query with the others.
    followed: list[tuple[str, int, Link]] = []
    for iid, proposal_id, remote_updated_at, fingerprint, project_path, broken in SyncState.objects.exclude(
        issue_iid=None
    ).values_list("issue_iid", "proposal_id", "remote_updated_at", "base_hash", "project_path", "link_broken"):
        if not project_path:
            links[iid] = (proposal_id, remote_updated_at, fingerprint)
        elif not broken:
            followed.append((project_path, iid, (proposal_id, remote_updated_at, fingerprint)))
    comment_counts = _mirrored_comment_counts()
    since = None
    if conn.issues_watermark:
        # A little overlap: GitLab's clock and ours may disagree, and equal timestamps exist.
        since = conn.issues_watermark - timedelta(seconds=5)
    watermark = conn.issues_watermark
    stats = {"seen": 0, "synced": 0, "unchanged": 0, "skipped": 0}
    seen_ids: set[int] = set()
    # Every template version's proposal label: GitLab's label filter is AND, so one walk each.
    for label in proposal_labels():
        issues = walk_updated_issues(since=since, labels=label)
        # A page of issues at a time: the proposals whose issue changed are read together, not one by one.
        while page := list(itertools.islice(issues, RECONCILE_PAGE)):
            read = proposals_for_sync(_changed_proposals(page, links), push=False)
            synced: list[int] = []
            for issue in page:
                if issue["id"] not in seen_ids:
                    seen_ids.add(issue["id"])
                    stats["seen"] += 1
                updated_at = parse_time(issue.get("updated_at"))
                link = links.get(issue["iid"])
                if link is not None:
                    links[issue["iid"]] = _reconcile_issue(issue, updated_at, link, comment_counts, stats, read, synced)
                if updated_at and (watermark is None or updated_at > watermark):
                    watermark = updated_at
                    if stats["seen"] % 100 == 0:
                        GitLabConnection.objects.filter(pk=conn.pk).update(issues_watermark=watermark)
            # The pushes of what changed in Stagegate meanwhile, scheduled for the whole page at once.
            follow_up(*synced)
    _reconcile_followed(followed, comment_counts, stats)
    GitLabConnection.objects.filter(pk=conn.pk).update(issues_watermark=watermark, last_reconcile_at=timezone.now())
    return stats


def _reconcile_followed(followed: list[tuple[str, int, Link]], comment_counts: dict[int, int], stats: dict) -> None:
    """Issues followed into another project: one GET each (the walk lists the configured project only,
    and its webhook fires for nothing elsewhere), then synced, comments included, like any other.

    Not touching the watermark: that is the configured project's clock. A project the bot lost is that
    link's problem (the client reports it as the issue not found), never the connection's."""
    synced: list[int] = []
    for project_path, iid, link in followed:
        proposal_id = link[0]
        try:
            issue = client.get_issue(iid, project=project_path)
        except (client.IssueNotFound, client.PermanentGitLabError) as exc:
            record_failure(proposal_id, exc)
            continue
        stats["seen"] += 1
        _reconcile_issue(issue, parse_time(issue.get("updated_at")), link, comment_counts, stats, {}, synced)
    follow_up(*synced)


def recount_comments() -> dict[str, int]:
    """Find the comments deleted on GitLab: no webhook tells of a deleted note, and deleting one leaves its
    issue's ``updated_at`` alone, so the reconcile's walk over changed issues never sees it. Hourly.

    Lists every issue of the proposals' labels in the configured project, with no ``updated_after``,
    and reads again the comments of those whose ``user_notes_count`` (GitLab counts every note that is
    not a system note) differs from the comments mirrored from GitLab. API calls: one list call per 100
    issues per proposal label (pages follow GitLab's Link header), plus one read
    of the threads (per 100 threads) of each issue whose count differs; nothing for the others. Issues
    followed into another project are not listed here: every reconcile reads them and compares the count.
    """
    ensure_healthy()
    linked = dict(
        SyncState.objects.exclude(issue_iid=None)
        .filter(project_path="", link_broken=False)
        .values_list("issue_iid", "proposal_id")
    )
    mirrored = _mirrored_comment_counts()
    stats = {"seen": 0, "read": 0, "skipped": 0}
    with known_healthy():
        # Ordered by creation: a comment touching an issue during the walk does not move it between pages.
        for issue in proposal_issues(per_page=RECONCILE_PAGE):
            proposal_id = linked.get(issue["iid"])
            if proposal_id is None:
                continue
            stats["seen"] += 1
            if issue.get("user_notes_count", 0) == mirrored.get(proposal_id, 0):
                continue
            try:
                with proposal_lock(proposal_id):
                    pull_comments(proposal_id)
                stats["read"] += 1
            except (LockBusy, client.IssueNotFound):
                stats["skipped"] += 1  # being synced right now, or gone since listed: the next pass looks
    return stats


def _mirrored_comment_counts() -> dict[int, int]:
    """Per proposal, its comments as GitLab's ``user_notes_count`` counts them: not deleted, and posted (one
    not posted yet is not on GitLab; one deleted in Stagegate is until the worker deletes its note, which
    makes a difference read once more, harmlessly)."""
    return dict(
        IssueComment.objects.filter(deleted_at__isnull=True)
        .exclude(gitlab_note_id=None)
        .values("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )


def forget_watermark() -> None:
    """The next reconcile walks every issue of the proposals' label, not only those changed lately."""
    GitLabConnection.objects.filter(pk=connection().pk).update(issues_watermark=None)


RECONCILE_PAGE = 100  # GitLab's largest page


def _updated_since(known, updated_at) -> bool:
    """An issue updated since Stagegate last read it (or never read): a reconcile looks at it."""
    return known is None or (updated_at is not None and updated_at > known)


def _changed_proposals(issues: list[dict], links: dict[int, Link]) -> set[int]:
    """The proposals of ``issues`` updated since they were last read: those a reconcile may merge."""
    return {
        links[issue["iid"]][0]
        for issue in issues
        if issue["iid"] in links and _updated_since(links[issue["iid"]][1], parse_time(issue.get("updated_at")))
    }


def _reconcile_issue(
    issue: dict,
    updated_at,
    link: Link,
    comment_counts: dict[int, int],
    stats: dict,
    read: dict,
    synced: list[int],
) -> Link:
    """Sync one listed issue when it changed, and read its comments again when a note touched it or their
    count differs. Returns the link as the rest of the walk should see it."""
    proposal_id, known, fingerprint = link
    changed = _updated_since(known, updated_at)
    touched_by_a_note = False
    if changed and fingerprint and fingerprint == issue_fingerprint(issue):
        # Touched, not changed (a comment, the echo of our own write): nothing to merge.
        SyncState.objects.filter(proposal_id=proposal_id, remote_updated_at=known).update(remote_updated_at=updated_at)
        link = (proposal_id, updated_at, fingerprint)
        stats["unchanged"] += 1
        touched_by_a_note = True
    elif changed:
        try:
            with proposal_lock(proposal_id):
                # Nothing of the issue itself changed: something else touched it, most likely a comment.
                # Each proposal read with its page is used once; seen again later in the walk, it is read again.
                proposal = read.pop(proposal_id, None)
                touched_by_a_note = not sync_proposal(proposal_id, remote=issue, push=False, read=proposal).pulled
            synced.append(proposal_id)
            stats["synced"] += 1
            # What the issue was when we last read it: seen again unchanged later in the walk, it is skipped.
            link = (proposal_id, max(filter(None, (known, updated_at)), default=None), "")
        except LockBusy:
            stats["skipped"] += 1  # being synced right now
        except client.IssueNotFound as exc:
            record_failure(proposal_id, exc)
    # A deleted comment changes the count (no webhook says so); an edited one only touches the issue
    # (no webhook before GitLab 16.11): either way the comments are read again.
    if touched_by_a_note or issue.get("user_notes_count", 0) != comment_counts.get(proposal_id, 0):
        with contextlib.suppress(LockBusy), proposal_lock(proposal_id):
            comment_counts[proposal_id] = comment_counts.get(proposal_id, 0) + pull_comments(proposal_id)
    return link


def deliveries_requeue(*, now=None) -> int:
    """Forget old handled deliveries; enqueue again the ones whose task was lost. Returns how many."""
    now = now or timezone.now()
    # Deliveries are kept a while for the admin's sync health view, not forever.
    WebhookDelivery.objects.filter(
        status__in=(WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED),
        received_at__lt=now - timedelta(days=DELIVERY_RETENTION_DAYS),
    ).delete()
    stale = now - timedelta(seconds=settings.GITLAB_ENQUEUE_STALE_AFTER)
    queued = 0
    for delivery_id in WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.RECEIVED, received_at__lt=stale
    ).values_list("pk", flat=True)[:500]:
        try:
            app.signature(DELIVERY_TASK, args=(delivery_id,)).apply_async(retry=False)
        except Exception:
            log.warning("Could not enqueue webhook delivery %s", delivery_id)
            break
        queued += 1
    return queued
