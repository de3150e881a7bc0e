"""The proposal's discussion, both ways: Stagegate comments become notes on the GitLab issue, GitLab's
threads are mirrored whole into `IssueComment` rows.

A comment written in Stagegate is stored first (``posting=pending``) and posted by the worker, as a new
thread or as a reply in its thread. Its note carries a hidden marker, so a retry after a lost answer finds
the note instead of posting it twice, and the note's echo (webhook, reconcile) updates the row instead of
adding one. Without a token of the person's own that may write, the bot posts it signed with their name.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from markdown_it import MarkdownIt

from accounts.gitlab import gitlab_write_token_for, user_for_gitlab_id
from config.celery import app
from gitlab_sync import client, designs, links
from gitlab_sync.connection import LockBusy, ensure_healthy, parse_time, proposal_lock
from gitlab_sync.failures import RetryLater, backoff, block_connection
from gitlab_sync.models import IssueCollabState, IssueComment, SyncState
from proposals import access
from proposals.models import Activity, Proposal
from proposals.validators import text_error
from reviews.models import Notification
from reviews.notifications import absolute_url, notify

log = logging.getLogger(__name__)

DELIVER_TASK = "gitlab_sync.tasks.deliver_comment"
COMMENT_MAX_LENGTH = 20_000
_MARKER = re.compile(r"\s*<!-- stagegate:comment=(?P<marker>[0-9a-f]{32}) -->\s*")
_SIGNATURE = re.compile(r"\n*— .{1,300} via Stagegate\s*\Z")
# GitLab usernames: letters, digits, _ . - ; a mention starts at a word boundary.
MENTION = re.compile(r"(?<![\w.@/])@(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9_])")


class CommentRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def display_name(user) -> str:
    return (user.get_full_name() or user.get_username()).strip()


# GitLab runs a line of a comment that starts with "/" (no indent, any case) as a quick action, unless the
# line lies in what it reads as code. What that is changed over versions: a regex over the text
# (Gitlab::QuickActions::Extractor: a ``` block closed by a line of exactly ```, an HTML block, a >>> quote,
# later also `inline code` across lines), then Markdown (Banzai::Pipeline::QuickActionPipeline: only
# paragraphs are read). A line is left as typed only where every version reads code; any other "/" line
# is escaped. GitLab deletes every "\r" first.
_OLD_EXCLUSIONS = (
    re.compile(r"^```.+?\n```$|^<[^>]+?>\n.+?\n</[^>]+?>$|^>>>.+?\n>>>$", re.MULTILINE | re.DOTALL),
    re.compile(r"^```.+?\n```$|`\n*.+?\n*`|^<[^>]+?>\n.+?\n</[^>]+?>$|^>>>.+?\n>>>$", re.MULTILINE | re.DOTALL),
)


@functools.cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark")


def _code_lines(text: str) -> set[int]:
    """The lines of ``text`` (split on "\n") that every GitLab version reads as code, never as quick actions."""
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    code: set[int] | None = None
    for exclusion in _OLD_EXCLUSIONS:
        excluded = set()
        for match in exclusion.finditer(text):
            first = bisect.bisect_left(starts, match.start())
            excluded.update(range(first, bisect.bisect_left(starts, match.end())))
        code = excluded if code is None else code & excluded
    fenced: set[int] = set()
    for token in _markdown().parse(text):
        if token.type in ("fence", "code_block") and token.map:
            fenced.update(range(*token.map))
    return (code or set()) & fenced


def _lines_outside_code(text: str, *, starting: str) -> list[tuple[str, bool]]:
    """Each line of ``text`` as GitLab reads it ("\r" deleted), and whether it lies outside code. Only
    lines ``starting`` so are looked at: without one, the text is not read for code at all."""
    lines = [line.replace("\r", "") for line in text.split("\n")]
    if not any(line.startswith(starting) for line in lines):
        return [(line, False) for line in lines]
    code = _code_lines("\n".join(lines))
    return [(line, i not in code) for i, line in enumerate(lines)]


def escape_quick_actions(text: str) -> str:
    """``text`` with each line GitLab could run as a quick action (``/close``, ``/confidential``...) made
    plain text: a backslash before it, and Markdown shows the "/" alone. A comment written in Stagegate
    runs nothing on GitLab, whatever the rights of the token that posts it."""
    return "\n".join(
        "\\" + line if outside and read.startswith("/") else line
        for line, (read, outside) in zip(text.split("\n"), _lines_outside_code(text, starting="/"), strict=True)
    )


def unescape_quick_actions(text: str) -> str:
    """``escape_quick_actions`` undone: the text as it was written."""
    return "\n".join(
        line[1:] if outside and read.startswith("\\/") else line
        for line, (read, outside) in zip(text.split("\n"), _lines_outside_code(text, starting="\\/"), strict=True)
    )


def note_body(comment: IssueComment, *, signed: bool) -> str:
    """What GitLab holds: the text (no line of it a quick action), the signature when the bot posts it,
    the marker."""
    text = escape_quick_actions(comment.body.rstrip())
    if signed:
        text += f"\n\n— {display_name(comment.written_by) if comment.written_by else comment.author_name} via Stagegate"
    return f"{text}\n\n<!-- stagegate:comment={comment.client_marker} -->"


def marker_of(body: str) -> str:
    found = _MARKER.search(body or "")
    return found.group("marker") if found else ""


def shown_body(body: str) -> str:
    """A note's text without what Stagegate added to it (marker, signature, the escape of quick actions)."""
    if not marker_of(body):
        return body
    return unescape_quick_actions(_SIGNATURE.sub("", _MARKER.sub("", body)).rstrip())


# --- Writing in Stagegate ---------------------------------------------------------------------


def _clean(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise CommentRefused("Write something first.")
    problem = text_error(body, max_length=COMMENT_MAX_LENGTH)
    if problem:
        raise CommentRefused(f"The comment {problem}.")
    return body


def _enqueue(comment_id: int, countdown: float = 0.0) -> None:
    try:
        app.signature(DELIVER_TASK, args=(comment_id,)).apply_async(countdown=countdown, retry=False)
    except Exception:  # noqa: BLE001 - a broker outage delays the post; the sweep sends it later
        log.warning("Could not enqueue comment %s; the sweep will post it", comment_id)


@transaction.atomic
def comment_post(*, proposal: Proposal, body: str, by, reply_to: IssueComment | None = None) -> IssueComment:
    """A comment (or a reply in ``reply_to``'s thread) written in Stagegate, posted to GitLab by the worker."""
    if not access.may_comment(by, proposal):
        raise CommentRefused("You may not comment on this proposal.")
    body = _clean(body)
    if reply_to is not None and (reply_to.proposal_id != proposal.pk or reply_to.deleted_at is not None):
        raise CommentRefused("That comment is no longer there to reply to.")
    if reply_to is not None and reply_to.internal and not access.may_see_internal_notes(by, proposal):
        raise CommentRefused("That comment is no longer there to reply to.")
    now = timezone.now()
    comment = IssueComment.objects.create(
        proposal=proposal,
        written_by=by,
        author_username=by.get_username(),
        author_name=display_name(by),
        body=body,
        internal=bool(reply_to and reply_to.internal),
        created_at=now,
        updated_at=now,
        posting=IssueComment.Posting.PENDING,
        client_marker=uuid.uuid4().hex,
        discussion_id=reply_to.discussion_id if reply_to is not None else "",
        in_reply_to=reply_to,
    )
    # Like GitLab's internal notes, a reply in an internal thread stays off the timeline unless an admin
    # turned them on (then only those who may see internal notes see it).
    if not comment.internal or settings.GITLAB_INTERNAL_NOTES_ON_TIMELINE:
        Activity.objects.record(
            proposal,
            actor=by,
            kind=Activity.Kind.COMMENT,
            message=f"{by.get_username()} {'replied' if reply_to else 'commented'}: {body[:300]}",
            data={"comment": comment.pk, "internal": comment.internal},
        )
    notify_mentions(proposal=proposal, body=body, by=by, internal=comment.internal)
    transaction.on_commit(lambda: _enqueue(comment.pk), robust=True)
    return comment


def _own(comment: IssueComment, by) -> None:
    if comment.written_by_id is None or comment.written_by_id != by.pk or comment.deleted_at is not None:
        raise CommentRefused("Only its writer can change a comment written in Stagegate.")


@transaction.atomic
def comment_edit(*, comment: IssueComment, body: str, by) -> IssueComment:
    """Change a comment written in Stagegate; the worker changes its note on GitLab."""
    _own(comment, by)
    comment.body = _clean(body)
    comment.updated_at = timezone.now()
    # Even while it waits to be posted: a post already on its way carries the old text.
    comment.edit_pending = True
    comment.save(update_fields=["body", "updated_at", "edit_pending"])
    transaction.on_commit(lambda: _enqueue(comment.pk), robust=True)
    return comment


@transaction.atomic
def comment_delete(*, comment: IssueComment, by) -> None:
    """Delete a comment written in Stagegate; the worker deletes its note on GitLab."""
    _own(comment, by)
    comment.deleted_at = timezone.now()
    comment.updated_at = comment.deleted_at
    comment.edit_pending = True
    comment.save(update_fields=["deleted_at", "updated_at", "edit_pending"])
    transaction.on_commit(lambda: _enqueue(comment.pk), robust=True)


# --- The worker's side ------------------------------------------------------------------------


def _find_posted(state: SyncState, marker: str) -> dict | None:
    """The note carrying ``marker``, when an earlier attempt posted it and its answer was lost."""
    for thread in client.list_discussions(state.issue_iid, project=state.project):
        for note in thread.get("notes") or []:
            if marker_of(note.get("body", "")) == marker:
                return {**note, "discussion_id": thread["id"]}
    return None


def _post(comment: IssueComment, state: SyncState) -> dict:
    token = gitlab_write_token_for(comment.written_by)
    discussion_id = comment.discussion_id or (comment.in_reply_to.discussion_id if comment.in_reply_to else "")
    if comment.in_reply_to_id and not discussion_id:
        raise RetryLater(5.0)  # the comment it answers is not on GitLab yet
    for as_person in ([True] if token else []) + [False]:
        body = note_body(comment, signed=not as_person)
        try:
            if discussion_id:
                note = client.reply_to_discussion(
                    state.issue_iid, discussion_id, body, project=state.project, token=token if as_person else None
                )
                return {**note, "discussion_id": discussion_id}
            thread = client.create_discussion(
                state.issue_iid, body, project=state.project, token=token if as_person else None
            )
            return {**thread["notes"][0], "discussion_id": thread["id"]}
        except (client.AuthenticationFailed, client.PermanentGitLabError):
            if not as_person:
                raise
            # The person's token lapsed or may not write here: the bot posts it, signed.
    raise AssertionError("unreachable")


def comment_deliver(comment_id: int) -> str:
    """Post, change or delete one Stagegate comment's note on GitLab. Idempotent: runs again harmlessly,
    and two runs at once (a retry and the sweep's) take turns under the proposal's lock."""
    proposal_id = IssueComment.objects.filter(pk=comment_id).values_list("proposal_id", flat=True).first()
    if proposal_id is None:
        return "gone"
    try:
        ensure_healthy()
        with proposal_lock(proposal_id, wait=5.0):
            return _deliver(comment_id)
    except LockBusy:
        raise RetryLater(2.0) from None
    except (client.SyncDisabled, client.AuthenticationFailed, client.ConnectionBlocked) as exc:
        # The connection as a whole waits (an admin fixes it); the sweep sends the comment afterwards.
        if isinstance(exc, client.ConnectionBlocked):
            block_connection(exc)  # found by this post (a token that may only read): said once, to admins
        IssueComment.objects.filter(pk=comment_id).update(post_error=exc.message[:500])
        return "waiting"
    except client.TransientGitLabError as exc:
        IssueComment.objects.filter(pk=comment_id).update(post_error=exc.message[:500])
        attempts = IssueComment.objects.filter(pk=comment_id).values_list("post_attempts", flat=True).first() or 1
        raise RetryLater(backoff(attempts, exc.retry_after)) from exc
    except client.GitLabError as exc:
        failed = IssueComment.objects.filter(pk=comment_id)
        failed.filter(posting=IssueComment.Posting.PENDING).update(posting=IssueComment.Posting.FAILED)
        failed.update(edit_pending=False, post_error=exc.message[:500])
        return "failed"


def _deliver(comment_id: int) -> str:
    """The delivery itself, under the proposal's lock: what the comment needs is read here, fresh."""
    comment = IssueComment.objects.select_related("written_by", "in_reply_to").get(pk=comment_id)
    pending = comment.posting == IssueComment.Posting.PENDING and comment.deleted_at is None
    if not pending and not comment.edit_pending:
        return "done"
    state = SyncState.objects.filter(proposal_id=comment.proposal_id).first()
    if state is None or state.issue_iid is None:
        raise RetryLater(10.0)  # the issue is being created
    IssueComment.objects.filter(pk=comment.pk).update(post_attempts=comment.post_attempts + 1)
    if pending:
        # An earlier attempt may have posted it and lost GitLab's answer: look for its marker first.
        note = _find_posted(state, comment.client_marker) if comment.post_attempts else None
        note = note or _post(comment, state)
        IssueComment.objects.filter(pk=comment.pk).update(
            gitlab_note_id=note["id"], discussion_id=note["discussion_id"], posting=IssueComment.Posting.POSTED
        )
        comment.refresh_from_db()
        IssueComment.objects.filter(pk=comment.pk).update(post_error="")
        if comment.deleted_at is not None or comment.edit_pending:
            IssueComment.objects.filter(pk=comment.pk).update(edit_pending=True)
            _enqueue(comment.pk)  # deleted or changed while it was being posted
        return "posted"
    if comment.gitlab_note_id is None:
        # Deleted before it was posted; an attempt whose answer was lost may still have posted it.
        found = _find_posted(state, comment.client_marker) if comment.post_attempts else None
        if found is None:
            IssueComment.objects.filter(pk=comment.pk).update(
                edit_pending=False, posting=IssueComment.Posting.FAILED, post_error="Deleted before it reached GitLab."
            )
            return "done"
        comment.gitlab_note_id = found["id"]
        IssueComment.objects.filter(pk=comment.pk).update(gitlab_note_id=found["id"])
    token = gitlab_write_token_for(comment.written_by)
    try:
        if comment.deleted_at is not None:
            client.delete_note(state.issue_iid, comment.gitlab_note_id, project=state.project, token=token)
        else:
            body = note_body(comment, signed=token is None)
            client.update_note(state.issue_iid, comment.gitlab_note_id, body, project=state.project, token=token)
    except client.IssueNotFound:
        pass  # deleted on GitLab meanwhile: the next read tombstones it
    # A change made while this one travelled keeps the flag (and its own task).
    IssueComment.objects.filter(pk=comment.pk, updated_at=comment.updated_at, deleted_at=comment.deleted_at).update(
        edit_pending=False, post_error=""
    )
    return "changed"


def comments_requeue(*, now=None) -> int:
    """Comments whose task was lost (a broker outage, a worker killed): enqueue them again."""
    stale = (now or timezone.now()) - timedelta(seconds=settings.GITLAB_ENQUEUE_STALE_AFTER)
    waiting = IssueComment.objects.filter(
        Q(posting=IssueComment.Posting.PENDING, deleted_at=None) | Q(edit_pending=True), updated_at__lt=stale
    ).values_list("pk", flat=True)[:200]
    for comment_id in waiting:
        _enqueue(comment_id)
    return len(waiting)


# --- Reading from GitLab ----------------------------------------------------------------------


def read_notes(state: SyncState) -> list[dict]:
    """Every note of the issue, oldest thread first, each with its thread's ``discussion_id``; and the
    links and designs read again when GitLab noted a change to them (a new system note)."""
    notes = []
    for thread in client.list_discussions(state.issue_iid, project=state.project):
        for note in thread.get("notes") or []:
            notes.append({**note, "discussion_id": thread["id"]})
    newest_system = max((n["id"] for n in notes if n.get("system")), default=0)
    collab = IssueCollabState.objects.filter(proposal_id=state.proposal_id).first()
    known = collab.last_system_note_id if collab is not None else 0
    if newest_system > known or (newest_system and (collab is None or collab.links_read_at is None)):
        try:
            links.refresh_links(state.proposal_id)
            designs.refresh_designs(state.proposal_id)
        except (client.PermanentGitLabError, client.IssueNotFound) as exc:
            log.warning("Could not read the links or designs of proposal %s: %s", state.proposal_id, exc.message)
            return notes
        IssueCollabState.objects.filter(proposal_id=state.proposal_id).update(last_system_note_id=newest_system)
    elif not newest_system and (collab is None or collab.links_read_at is None):
        # Not one system note: nobody ever linked an issue or added a design to this one. Known without asking.
        now = timezone.now()
        IssueCollabState.objects.update_or_create(
            proposal_id=state.proposal_id, defaults={"links_read_at": now, "designs_read_at": now}
        )
    return notes


def claim_own_note(proposal_id: int, note: dict) -> bool:
    """A note Stagegate posted (its marker) joins the comment it came from; True when it did."""
    marker = marker_of(note.get("body", ""))
    if not marker:
        return False
    comment = IssueComment.objects.filter(proposal_id=proposal_id, client_marker=marker).first()
    if comment is None or comment.gitlab_note_id not in (None, note["id"]):
        return False  # a marker copied into another note makes that note no less someone else's
    if comment.gitlab_note_id is None:
        comment.gitlab_note_id = note["id"]
        comment.discussion_id = note.get("discussion_id", "")
        comment.posting = IssueComment.Posting.POSTED
        comment.save(update_fields=["gitlab_note_id", "discussion_id", "posting"])
        if comment.deleted_at is not None:  # deleted here while its post was on the way
            IssueComment.objects.filter(pk=comment.pk).update(edit_pending=True)
            transaction.on_commit(lambda: _enqueue(comment.pk), robust=True)
    return True


# --- Mentions ---------------------------------------------------------------------------------


def mentioned_users(body: str, *, exclude=None):
    """People named ``@username`` (their Stagegate or GitLab username), the writer left out."""
    names = {match.group("name").lower() for match in MENTION.finditer(body or "")}
    if not names:
        return []
    by_name = Q()
    for name in names:
        by_name |= Q(username__iexact=name) | Q(
            socialaccount__provider="gitlab", socialaccount__extra_data__username__iexact=name
        )
    people = get_user_model().objects.filter(by_name, is_active=True).distinct()
    if exclude is not None and exclude.pk:
        people = people.exclude(pk=exclude.pk)
    return list(people[:50])


def notify_mentions(*, proposal: Proposal, body: str, by=None, by_name: str = "", internal: bool = False) -> None:
    """Tell the people a comment names, and nobody else: readers of the proposal (of an internal note,
    those who may see internal notes). The proposal's watchers are not added: "mentioned you" is not news
    for them, and an internal note's text must not reach a watcher who may not see it."""
    people = [person for person in mentioned_users(body, exclude=by) if access.may_be_told(person, proposal)]
    if internal:
        people = [person for person in people if access.may_see_internal_notes(person, proposal)]
    if not people:
        return
    who = by.get_username() if by is not None else (by_name or "Someone on GitLab")
    notify(
        event=Notification.Event.COMMENT,
        users=people,  # each one checked above: notify() adds watchers only when given the proposal
        subject=f"{who} mentioned you on “{proposal.title}”",
        lines=[f"{who} mentioned you in the discussion of “{proposal.title}”:", "", body[:1000]],
        url=absolute_url(proposal.get_absolute_url() + "#discussion"),
        slack=False,
        by=by,
    )


# GitLab comments older than this when first read (an issue linked with its history) mention nobody anew.
MENTION_MAX_AGE = timedelta(days=1)


def notify_gitlab_mentions(proposal_id: int, notes: list[dict]) -> None:
    """``@name`` in comments written on GitLab tells those Stagegate people too (readers only)."""
    now = timezone.now()
    recent = [
        note
        for note in notes
        if MENTION.search(note.get("body", "")) and (parse_time(note.get("created_at")) or now) > now - MENTION_MAX_AGE
    ]
    if not recent:
        return
    proposal = Proposal.objects.get(pk=proposal_id)
    for note in recent:
        author = note.get("author") or {}
        notify_mentions(
            proposal=proposal,
            body=shown_body(note.get("body", "")),
            by=user_for_gitlab_id(author.get("id")),
            by_name=author.get("username", ""),
            internal=bool(note.get("internal") or note.get("confidential")),
        )


# --- What a reader sees -----------------------------------------------------------------------


@dataclass
class Thread:
    comments: list[IssueComment] = field(default_factory=list)

    @property
    def head(self) -> IssueComment:
        return self.comments[0]

    @property
    def reply_target(self) -> IssueComment | None:
        """The comment a reply is attached to: the newest one still there."""
        alive = [c for c in self.comments if c.deleted_at is None]
        return alive[-1] if alive else None


def threads_for(proposal: Proposal, user) -> list[Thread]:
    """The discussion as this reader may see it: threads in order, internal notes only for members.

    One query whatever the number of comments.
    """
    comments = IssueComment.objects.filter(proposal=proposal).select_related("written_by").order_by("created_at", "id")
    if not access.may_see_internal_notes(user, proposal):
        comments = comments.filter(internal=False)
    threads: dict[str, Thread] = {}
    key_of: dict[int, str] = {}
    for comment in comments:
        if comment.discussion_id:
            key = comment.discussion_id
        elif comment.in_reply_to_id in key_of:
            key = key_of[comment.in_reply_to_id]  # a reply still waiting for its thread's id
        else:
            key = f"own:{comment.pk}"
        key_of[comment.pk] = key
        threads.setdefault(key, Thread()).comments.append(comment)
    return [t for t in threads.values() if any(c.deleted_at is None for c in t.comments)]
