"""One exchange of a proposal with its issue: read the issue, merge both sides against the last
agreed base, apply GitLab's side to the proposal, write Stagegate's side to the issue (only what
differs). Pushes, webhooks and reconciliation all come through `sync_proposal`.

GitLab's values are applied with origin GITLAB, so they are not queued back to GitLab.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Prefetch, When, prefetch_related_objects
from django.db.models.functions import Greatest
from django.utils import timezone

from gitlab_sync import client, fields
from gitlab_sync.client import TransientGitLabError
from gitlab_sync.connection import connection, ensure_healthy, note_success, parse_time
from gitlab_sync.managed import (
    desired_labels,
    enforce_managed,
    is_managed,
    issue_state_for,
    managed_labels,
    own_labels,
    scoped_labels_set_on_gitlab,
)
from gitlab_sync.merge import merge_label_sets, merge_values
from gitlab_sync.models import IssueComment, SyncConflict, SyncState, WebhookDelivery
from gitlab_sync.template_actions import issue_title, quick_action_labels, retitled
from proposals import access, history
from proposals.checklists import refresh_verified_checklist
from proposals.content import (
    RENDER_PREFETCH,
    TITLE,
    content_from_proposal,
    content_values,
    content_with_values,
    key_label,
    proposal_apply_content,
)
from proposals.markdown import canonical_text
from proposals.models import Activity, Proposal
from proposals.signals import send_proposal_changed
from proposals.validators import ContentInvalid
from reviews.models import Notification, Review
from reviews.notifications import absolute_url, notify

REVIEW_RELATIONS = ("area", "area__reviewer_group", "current_decision", "current_decision__decided_by", "reviewer")

# What a merge reads, in one query per relation: the content, and the reviews with what the ORR labels
# and status rows ask of them (area, its reviewer group, the decision and who made it).
SYNC_PREFETCH = (
    *(name for name in RENDER_PREFETCH if not name.startswith("reviews")),
    Prefetch("reviews", queryset=Review.objects.select_related(*REVIEW_RELATIONS)),
)
# Without a rendering (webhooks, reconcile), the ORR labels ask each review's area (with its reviewer group)
# and decision, not who decided or who reviews.
APPLY_PREFETCH = (
    *(name for name in RENDER_PREFETCH if not name.startswith("reviews")),
    Prefetch("reviews", queryset=Review.objects.select_related("area", "area__reviewer_group", "current_decision")),
)


def _read_for_sync(*, push: bool):
    """Proposals with what a merge reads: with a rendering (push) or without (webhooks, reconcile)."""
    return Proposal.objects.select_related("owner").prefetch_related(*(SYNC_PREFETCH if push else APPLY_PREFETCH))


def proposals_for_sync(proposal_ids, *, push: bool) -> dict[int, Proposal]:
    """Many proposals read at once as `sync_proposal` reads one, for a walk over many issues. One read
    out of date by the time its issue is merged costs nothing but a second read: the merge compares versions."""
    return _read_for_sync(push=push).in_bulk(list(proposal_ids))


@dataclass
class SyncResult:
    created: bool = False
    pulled: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def sync_proposal(
    proposal_id: int,
    *,
    remote: dict | None = None,
    actor: str = "",
    push: bool = True,
    read: Proposal | None = None,
) -> SyncResult:
    """Bring a proposal and its issue in step. Call with the proposal's lock held.

    ``remote`` is an issue already listed (reconcile); it is used to merge, but
    before any write the issue is read again, since GitLab's edit has no
    compare-and-swap. With ``push=False`` (webhooks, reconcile) GitLab's side is
    applied and Stagegate's side is left to the push task, which keeps to the
    push interval: our own echo must not turn an autosave burst into a write per save.
    ``read``: the proposal as `proposals_for_sync` read it, used for the first attempt.
    """
    ensure_healthy()
    state, _ = SyncState.objects.get_or_create(proposal_id=proposal_id)
    if state.issue_iid is None:
        return create_issue(proposal_id)
    if state.link_broken:
        raise client.IssueNotFound("The GitLab issue was deleted or moved; relink it in the admin.", status=404)
    for attempt in range(5):
        if attempt:
            state.refresh_from_db()
        start_version = state.local_version
        # A proposal read with its page serves the first attempt; a retry reads it again.
        proposal = read if attempt == 0 and read is not None else _read_for_sync(push=push).get(pk=proposal_id)
        fresh = remote is None
        if fresh:
            remote = client.get_issue(state.issue_iid, project=state.project)
        if remote.get("moved_to_id") or remote.get("duplicated_to_id"):
            follow_move(state, remote)  # relinked to where the issue went, or raises
            remote = None
            continue
        base_state = state.base_state
        outcome = _merge(proposal, state, remote, actor=actor, render=push)
        if outcome is None:  # the proposal changed while we merged; merge again
            continue
        updates, labels, result, merge, remote_values = outcome
        if updates.get("confidential") is True and not push:
            # Made public on GitLab: not left to the push interval.
            remote = client.update_issue(state.issue_iid, {"confidential": True}, project=state.project)
            del updates["confidential"]
        if updates and not push:
            # GitLab holds its values; they are the base until the push task writes ours.
            state.base_fields = {
                key: merge.new_base[key] if key in merge.conflicts else remote_values.get(key) for key in merge.new_base
            }
            state.base_state = base_state
            state.base_confidential = bool(remote.get("confidential"))
            _finish(state, proposal_id, start_version, remote, labels, pushed=False, still_dirty=True)
            return result
        if updates and not fresh:
            remote = None
            continue
        if "description" in updates:
            SyncState.objects.filter(pk=state.pk).update(
                merged_against={
                    "hash": text_hash(remote.get("description")),
                    "values": remote_values,
                },
                last_pushed_hash=text_hash(updates["description"]),
            )
        response = client.update_issue(state.issue_iid, updates, project=state.project) if updates else remote
        note_refused_labels(state, proposal, updates.get("add_labels", ""), response)
        _finish(state, proposal_id, start_version, response, labels, pushed=bool(updates))
        # A followed issue's answer carries the project it moved to, not the configured one.
        note_success(None if state.project else response.get("project_id"))
        return result
    raise TransientGitLabError("The proposal kept changing during the sync; trying again shortly.")


# GitLab's system note on the old issue (SystemNotes::IssuablesService#noteable_moved): "moved to
# <project>#12", the project named relative to the old issue's (Project#to_reference_base): its bare path
# within the same namespace ("moved to elsewhere#12"), its full path across namespaces.
_MOVED_NOTE = re.compile(r"^moved to (?P<project>[^\s#]+)#(?P<iid>\d+)\s*$")


def issue_project_path(state: SyncState, remote: dict) -> str:
    """The full path of the project ``remote`` (the linked issue) lives in."""
    full = (remote.get("references") or {}).get("full") or ""
    if "#" in full:  # Issue#to_reference(full: true): "group/project#12"
        return full.rpartition("#")[0]
    if state.project_path:
        return state.project_path
    configured = str(settings.GITLAB_PROJECT)
    return configured if "/" in configured else str(client.get_project().get("path_with_namespace") or configured)


def resolve_project_reference(reference: str, *, from_project: str) -> str:
    """The full path of a project GitLab named in a note of ``from_project``: a reference with a
    namespace is a full path already; a bare path is a project of ``from_project``'s namespace."""
    if "/" in reference:
        return reference
    namespace = from_project.rpartition("/")[0]
    return f"{namespace}/{reference}" if namespace else reference


def _moved_to(state: SyncState, remote: dict, notes: list[dict]) -> tuple[str, int] | None:
    """Where GitLab says the issue went (its newest "moved to" system note), as a full path and an iid."""
    for note in reversed(notes):
        match = _MOVED_NOTE.match(note.get("body") or "") if note.get("system") else None
        if match:
            from_project = issue_project_path(state, remote)
            return resolve_project_reference(match.group("project"), from_project=from_project), int(match.group("iid"))
    return None


def follow_move(state: SyncState, remote: dict) -> None:
    """GitLab closes a moved issue and sets ``moved_to_id``; the old issue stays writable, so writing
    on would go where nobody reads. Follow the move: the link goes to the new issue (found through the
    old issue's "moved to" system note), the comments mirrored so far to their copies on it, and the
    timeline says so. When the bot cannot read the new issue, or the issue was closed as a duplicate
    (another proposal's issue, perhaps), the link is flagged for an admin and nothing more is written
    to the old issue."""
    proposal = Proposal.objects.get(pk=state.proposal_id)
    target = None
    if remote.get("moved_to_id"):
        old_notes = client.list_notes(state.issue_iid, project=state.project)
        target = _moved_to(state, remote, old_notes)
        issue = None
        if target is not None:
            try:
                issue = client.get_issue(target[1], project=target[0])
            except (client.IssueNotFound, client.PermanentGitLabError):
                issue = None  # a project the bot is no member of answers 404
        if issue is not None and issue.get("id") == remote["moved_to_id"]:
            threads = client.list_discussions(issue["iid"], project=target[0])
            # Moved (back) into the configured project, however GITLAB_PROJECT names it (path or id).
            configured = client.is_configured_project(target[0]) or issue.get("project_id") == connection().project_id
            path = "" if configured else target[0]
            with transaction.atomic():
                SyncState.objects.filter(pk=state.pk).update(
                    project_path=path,
                    issue_iid=issue["iid"],
                    issue_id=issue["id"],
                    web_url=issue.get("web_url", ""),
                    remote_updated_at=None,
                    base_hash="",
                )
                _comments_follow_move(state.proposal_id, old_notes, threads)
                Activity.objects.record(
                    proposal,
                    kind=Activity.Kind.SYNC,
                    message=f"The GitLab issue was moved to {target[0]}#{issue['iid']}; Stagegate now syncs with it",
                    data={"project": target[0], "iid": issue["iid"], "web_url": issue.get("web_url", "")},
                )
            return
        where = f"{target[0]}#{target[1]}" if target else "another project"
        message = f"The GitLab issue was moved to {where}, which the bot cannot read; relink it in the admin."
    else:
        message = "The GitLab issue was closed as a duplicate of another issue; relink or unlink it in the admin."
    SyncState.objects.filter(pk=state.pk).update(link_broken=True)
    raise client.IssueNotFound(message, status=404)


def _comments_follow_move(proposal_id: int, old_notes: list[dict], threads: list[dict]) -> None:
    """A move copies every note of the old issue onto the new one, in order, under a new id and a new
    thread id, with its writer and ``created_at`` (Notes::CopyService; the text may be rewritten, its
    references made relative to the new project). The proposal's comments are re-keyed to their copies,
    so the next read finds the comments it knows: no new timeline entry, no `/orr` command or mention
    run again, and Stagegate's own comments stay their writers'."""

    def origin(note: dict) -> tuple:
        return (note.get("author") or {}).get("id"), parse_time(note.get("created_at")), bool(note.get("system"))

    copies: dict[tuple, list[dict]] = defaultdict(list)
    for thread in threads:
        for note in thread.get("notes") or []:
            copies[origin(note)].append({**note, "discussion_id": thread["id"]})
    for alike in copies.values():
        alike.sort(key=lambda note: note["id"])
    copy_of: dict[int, dict] = {}
    for note in sorted(old_notes, key=lambda note: note["id"]):
        alike = copies.get(origin(note))
        if alike:
            copy_of[note["id"]] = alike.pop(0)
    thread_moved: dict[str, str] = {}
    moved = list(IssueComment.objects.filter(proposal_id=proposal_id, gitlab_note_id__in=list(copy_of)))
    for comment in moved:
        copy = copy_of[comment.gitlab_note_id]
        if comment.discussion_id:
            thread_moved[comment.discussion_id] = copy["discussion_id"]
        comment.gitlab_note_id, comment.discussion_id = copy["id"], copy["discussion_id"]
    IssueComment.objects.bulk_update(moved, ["gitlab_note_id", "discussion_id"])
    for old, new in thread_moved.items():
        # Replies written in Stagegate and not yet posted go to the thread's copy.
        IssueComment.objects.filter(proposal_id=proposal_id, gitlab_note_id=None, discussion_id=old).update(
            discussion_id=new
        )


def note_refused_labels(state: SyncState, proposal: Proposal, sent: str, issue: dict) -> None:
    """GitLab drops, without an error, a label the bot may not create. Say so once, on the timeline,
    and stop sending it; once the label is on the issue (someone created and added it), it is no
    longer refused."""
    present = set(issue.get("labels") or [])
    refused = {name for name in state.refused_labels if name not in present}
    dropped = sorted({name for name in sent.split(",") if name} - present - refused)
    if dropped:
        names = ", ".join(dropped)
        Activity.objects.record(
            proposal,
            kind=Activity.Kind.SYNC,
            message=f"GitLab did not add the label(s) {names}: the bot may not create labels in the project. "
            "A GitLab maintainer can create them; until they are on the issue, Stagegate does not send them again.",
            data={"labels": dropped},
        )
    if refused | set(dropped) != set(state.refused_labels):
        state.refused_labels = sorted(refused | set(dropped))
        SyncState.objects.filter(pk=state.pk).update(refused_labels=state.refused_labels)


def text_hash(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def issue_fingerprint(issue: dict) -> str:
    """What of an issue the sync reads, as one hash: an issue whose fingerprint is the one last merged
    was only touched (a comment, our own write's echo) and needs no merge."""
    parts = [
        issue.get("title") or "",
        issue.get("description") or "",
        ",".join(sorted(issue.get("labels") or [])),
        issue.get("state") or "",
        str(bool(issue.get("confidential"))),
        str(issue.get("moved_to_id") or ""),
        str(issue.get("duplicated_to_id") or ""),
    ]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def recover_overwritten_edit(state: SyncState, delivery: WebhookDelivery) -> bool:
    """GitLab's edit has no compare-and-swap: a person's edit that landed between our read and our
    write was overwritten by it. Our write's own webhook shows the text it replaced; when that is not
    the text we merged against, merge that lost version in now (a field both changed is a conflict)."""
    if not state.merged_against or not delivery.description_changed:
        return False
    previous = delivery.description_previous  # kept whole, however large the body was
    if delivery.description_current_hash != state.last_pushed_hash:
        return False  # not the echo of our last description write
    if text_hash(previous) == state.merged_against.get("hash"):
        return False  # nobody got in between
    lost = content_values(fields.parse_content(previous), state.merged_against["values"].get(TITLE, ""))
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=state.proposal_id)
        outcome = merge_values(state.merged_against["values"], fields.local_snapshot(proposal), lost)
        if outcome.take_remote:
            recovered = _apply_remote(proposal, outcome.take_remote)
            Activity.objects.record(
                proposal,
                kind=Activity.Kind.SYNC,
                message="Recovered an edit made on GitLab while Stagegate was writing: " + ", ".join(recovered),
                data={"fields": sorted(outcome.take_remote)},
            )
        record_conflicts(proposal, outcome.conflicts, close_others=False)
        SyncState.objects.filter(pk=state.pk).update(merged_against={})
        if outcome.take_remote or outcome.conflicts:
            # GitLab holds our write without the person's edit: the merged text must go back.
            send_proposal_changed(proposal, fields=sorted(outcome.take_remote) or ["conflict"])
    return bool(outcome.take_remote or outcome.conflicts)


def _apply_remote(proposal: Proposal, values: dict[str, Any]) -> list[str]:
    try:
        return fields.apply_remote(proposal, values)
    except ContentInvalid as invalid:
        # Retrying will not help: the issue must change first. Shown on the proposal and in the admin.
        raise client.PermanentGitLabError(f"The GitLab issue holds what Stagegate does not store: {invalid}") from None


def _merge(proposal: Proposal, state: SyncState, remote: dict, *, actor: str = "", render: bool = True):
    """Merge both sides; apply GitLab's side locally. Returns the issue update, or None if raced."""
    base = dict(state.base_fields)
    local = fields.local_snapshot(proposal)
    remote_values = fields.remote_snapshot(remote)
    if state.last_pushed_hash and text_hash(remote.get("description")) == state.last_pushed_hash:
        # The issue holds exactly our last description write, even when we never heard back (a push that
        # timed out but landed): what we wrote is the agreed base, not a change made on GitLab.
        base = {**remote_values, TITLE: base.get(TITLE, remote_values[TITLE])}
    outcome = merge_values(base, local, remote_values)

    base_labels = list(state.base_labels)
    managed = managed_labels(proposal)  # read once: the ORR labels ask the reviews
    local_labels = desired_labels(proposal, managed=managed)
    remote_labels = list(remote.get("labels") or [])
    labels = enforce_managed(merge_label_sets(base_labels, local_labels, remote_labels), proposal, managed=managed)
    set_on_gitlab = scoped_labels_set_on_gitlab(base_labels, remote_labels, proposal, managed=managed)

    confidential = bool(remote.get("confidential"))
    take_confidential = None
    # GitLab can make a proposal confidential, never public: a confidential proposal whose issue was
    # made public on GitLab stays confidential, the issue is made confidential again, the owner told.
    reassert = proposal.confidential and not confidential
    if proposal.confidential != confidential and not reassert and proposal.confidential == state.base_confidential:
        take_confidential = confidential

    result = SyncResult()
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.version != proposal.version:
            return None
        # Same version: the content's relations read with the proposal are still its own; not read again.
        # A decision does not change the version; it marks the proposal for a push of its own, which shows it.
        locked._prefetched_objects_cache = dict(getattr(proposal, "_prefetched_objects_cache", {}))
        if any(key.startswith("orr:") for key in outcome.take_remote):
            # ORR answers applied here change their reviews' status: read with the answers' write.
            locked._prefetched_objects_cache.pop("reviews", None)
        if locked.owner_id == proposal.owner_id:
            locked.owner = proposal.owner  # the changes are saved as the author's; read with the proposal
        # History names the GitLab user who made the change, not the author the sync writes as.
        with history.change_origin(history.Origin.GITLAB, actor_name=actor):
            result.pulled = _apply_remote(locked, outcome.take_remote) if outcome.take_remote else []
        if render and outcome.take_remote:
            # The issue is rendered from what the proposal holds now: what the apply wrote is read again.
            locked._prefetched_objects_cache = {}
            prefetch_related_objects([locked], *SYNC_PREFETCH)
        attributes_before = history.current_values(locked, ["labels", "confidential"])
        own = own_labels(labels, locked)
        extra: list[str] = []
        # GitLab sorts labels: only a different set is a change, never a different order.
        if set(own) != set(own_labels(locked.labels or [], locked)):
            kept = [name for name in locked.labels or [] if is_managed(name, locked) or name in own]
            locked.labels = kept + [name for name in own if name not in kept]
            extra.append("labels")
        if take_confidential is not None:
            locked.confidential = take_confidential
            extra.append("confidential")
        if extra:
            locked.save(update_fields=extra)
            with history.change_origin(history.Origin.GITLAB, actor_name=actor):
                history.record_changes(
                    locked,
                    before=attributes_before,
                    after=history.current_values(locked, extra),
                    by=None,
                    origin="gitlab",
                )
            # Labels are edited in a form too: an open form must see that they changed.
            Proposal.objects.filter(pk=locked.pk).update(version=F("version") + 1)
            if "labels" in extra:
                result.pulled.append("Labels")
                if not outcome.take_remote:
                    Activity.objects.record(
                        locked,
                        kind=Activity.Kind.SYNC,
                        message=f"Labels changed on GitLab{f' by {actor}' if actor else ''}: {', '.join(own)}",
                        data={"labels": own, "by": actor},
                    )
            if take_confidential is not None:
                word = "confidential" if take_confidential else "public"
                Activity.objects.record(
                    locked,
                    kind=Activity.Kind.SYNC,
                    message=f"Made {word} on GitLab{f' by {actor}' if actor else ''}",
                    data={"confidential": take_confidential, "by": actor},
                )
        if "labels" in extra:
            refresh_verified_checklist(locked, changed={"labels"})  # items verified by a label follow the labels
        if reassert:
            _tell_authors_confidentiality_reasserted(locked, actor)
        if set_on_gitlab:
            Activity.objects.record(
                locked,
                kind=Activity.Kind.SYNC,
                message=f"{', '.join(set_on_gitlab)} set on GitLab{f' by {actor}' if actor else ''}; "
                "the stage and the ORR move only in Stagegate, so the issue shows "
                + ", ".join(name for name in labels if name.startswith(("stage::", "orr::"))),
                data={"labels": set_on_gitlab, "by": actor},
            )
        if outcome.take_remote:
            who = f" by {actor}" if actor else ""
            Activity.objects.record(
                locked,
                kind=Activity.Kind.SYNC,
                message=f"Updated from GitLab{who}: {', '.join(result.pulled)}",
                data={"fields": sorted(outcome.take_remote), "by": actor},
            )
        result.conflicts = record_conflicts(locked, outcome.conflicts)
        state.base_fields = outcome.new_base
        # What GitLab should hold: merged values, GitLab's own text where there is a conflict.
        merged_description_differs = any(
            outcome.merged.get(key) != remote_values.get(key) for key in outcome.merged if key != TITLE
        )

    updates: dict[str, Any] = {}
    if locked.confidential != bool(remote.get("confidential")):
        updates["confidential"] = locked.confidential
    title = outcome.merged.get(TITLE)
    if title is not None and title != remote_values.get(TITLE):
        updates["title"] = retitled(remote.get("title"), title)
    if merged_description_differs and not render:
        updates["description"] = None  # to be rendered by the push that writes it
    elif merged_description_differs:
        overrides = {key: outcome.merged[key] for key in outcome.conflicts}
        # Nothing pulled: the proposal read at the start (relations prefetched) is still current.
        description = fields.render_description(locked if outcome.take_remote else proposal, overrides)
        if description != (remote.get("description") or ""):
            updates["description"] = description
    refused = set(state.refused_labels) - set(remote_labels)
    add = [name for name in labels if name not in remote_labels and name not in refused]
    remove = [name for name in remote_labels if name not in labels]
    if add:
        updates["add_labels"] = ",".join(add)
    if remove:
        updates["remove_labels"] = ",".join(remove)
    local_state = issue_state_for(locked)
    if state.base_state and local_state != state.base_state and local_state != remote.get("state"):
        updates["state_event"] = "close" if local_state == "closed" else "reopen"
    state.base_state = local_state
    state.base_confidential = locked.confidential
    result.pushed = sorted(updates)
    return updates, labels, result, outcome, remote_values


def _tell_authors_confidentiality_reasserted(proposal: Proposal, actor: str) -> None:
    who = f" by {actor}" if actor else ""
    message = (
        f"The GitLab issue was made public{who}; the proposal is confidential, so Stagegate made the issue "
        "confidential again. Make the proposal public in Stagegate if it should be."
    )
    Activity.objects.record(
        proposal, kind=Activity.Kind.SYNC, message=message, data={"confidential": True, "by": actor}
    )
    notify(
        event=Notification.Event.CONFIDENTIALITY,
        users=access.authors_of(proposal),
        subject=f"GitLab issue of “{proposal.title}” made confidential again",
        lines=[message],
        url=absolute_url(proposal.get_absolute_url()),
        proposal=proposal,
        slack=False,
    )


def record_conflicts(
    proposal: Proposal, conflicts: dict[str, tuple[Any, Any, Any]], *, close_others: bool = True
) -> list[str]:
    now = timezone.now()
    open_conflicts = {c.field: c for c in SyncConflict.objects.filter(proposal=proposal, resolved_at__isnull=True)}
    for key, (base, local, remote) in conflicts.items():
        existing = open_conflicts.get(key)
        if existing is not None:
            if (existing.local_value, existing.remote_value) != (local, remote):
                existing.local_value, existing.remote_value = local, remote
                existing.save(update_fields=["local_value", "remote_value"])
            continue
        label = key_label(proposal.definition, key)
        SyncConflict.objects.create(
            proposal=proposal, field=key, label=label, base_value=base, local_value=local, remote_value=remote
        )
        Activity.objects.record(
            proposal,
            kind=Activity.Kind.CONFLICT,
            message=f"{label} was changed both here and on GitLab; both texts are kept until you choose",
            data={"field": key},
        )
    if close_others and set(open_conflicts) - set(conflicts):
        SyncConflict.objects.filter(proposal=proposal, resolved_at__isnull=True).exclude(
            field__in=list(conflicts)
        ).update(resolved_at=now)
    return sorted(conflicts)


def _finish(
    state: SyncState,
    proposal_id: int,
    start_version: int,
    issue: dict,
    labels,
    *,
    pushed: bool,
    still_dirty: bool = False,
) -> None:
    now = timezone.now()
    base_fields = dict(state.base_fields)
    SyncState.objects.filter(pk=state.pk).update(
        issue_id=issue.get("id"),
        web_url=issue.get("web_url") or state.web_url,
        base_fields=base_fields,
        base_title=str(base_fields.get(TITLE, ""))[:255],
        base_labels=list(issue.get("labels") or labels),
        base_state=state.base_state,
        base_confidential=state.base_confidential,
        remote_updated_at=parse_time(issue.get("updated_at")),
        remote_state=issue.get("state") or "",
        base_hash=issue_fingerprint(issue),
        **(
            {"needs_push": True}
            if still_dirty
            else {
                "pushed_version": Greatest(F("pushed_version"), start_version),
                "needs_push": Case(When(local_version__gt=start_version, then=True), default=False),
                "attempts": 0,
                "last_error": "",
                "permanent_error": False,
                "next_attempt_at": None,
            }
        ),
        last_synced_at=now,
        **({"last_push_at": now} if pushed else {}),
    )


def create_issue(proposal_id: int) -> SyncResult:
    """Create the proposal's issue, or adopt the one an interrupted attempt already created."""
    state = SyncState.objects.get(proposal_id=proposal_id)
    proposal = Proposal.objects.get(pk=proposal_id)
    start_version = state.local_version
    issue = _find_created_issue(proposal, state) if state.create_started_at else None
    # The template's `/label` labels become the author's own: the next merge must not take them off.
    wanted = desired_labels(proposal)
    template_labels = [name for name in quick_action_labels(proposal.definition) if name not in wanted]
    if template_labels:
        Proposal.objects.filter(pk=proposal.pk).update(labels=[*(proposal.labels or []), *template_labels])
        proposal.refresh_from_db(fields=["labels"])
    labels = ",".join(desired_labels(proposal))
    if issue is None:
        SyncState.objects.filter(pk=state.pk).update(create_started_at=timezone.now())
        issue = client.create_issue(
            {
                "title": issue_title(proposal.definition, proposal.title),
                "description": fields.render_description(proposal, {}, new_issue=True),
                "labels": labels,
                # Confidential from the first request: the text is never public, not even for a moment.
                "confidential": proposal.confidential,
            }
        )
    note_refused_labels(state, proposal, labels, issue)
    with transaction.atomic():
        SyncState.objects.filter(pk=state.pk).update(
            **linked_to_issue(issue, proposal),
            create_started_at=None,
            pushed_version=Greatest(F("pushed_version"), start_version),
            needs_push=Case(When(local_version__gt=start_version, then=True), default=False),
            attempts=0,
            last_error="",
            permanent_error=False,
            next_attempt_at=None,
            last_push_at=timezone.now(),
        )
        Activity.objects.record(
            proposal,
            kind=Activity.Kind.SYNC,
            message=f"GitLab issue #{issue['iid']} created",
            data={"iid": issue["iid"], "web_url": issue.get("web_url", "")},
        )
    note_success(issue.get("project_id"))
    return SyncResult(created=True)


def linked_to_issue(issue: dict, proposal: Proposal, remote_values: dict[str, Any] | None = None) -> dict[str, Any]:
    """SyncState's link to an issue just created or imported, with the issue as the agreed base."""
    remote_values = remote_values if remote_values is not None else fields.remote_snapshot(issue)
    return {
        "issue_iid": issue["iid"],
        "issue_id": issue["id"],
        "web_url": issue.get("web_url", ""),
        "base_fields": remote_values,
        "base_title": remote_values[TITLE][:255],
        "base_labels": list(issue.get("labels") or []),
        "base_state": issue_state_for(proposal),
        "base_confidential": bool(issue.get("confidential")),
        "remote_updated_at": parse_time(issue.get("updated_at")),
        "remote_state": issue.get("state", ""),
        "base_hash": issue_fingerprint(issue),
        "last_synced_at": timezone.now(),
    }


def _find_created_issue(proposal: Proposal, state: SyncState) -> dict | None:
    """The issue an interrupted create made after all: the one carrying this proposal's mark, never
    one that merely shares its title."""
    since = state.create_started_at - timedelta(minutes=5)
    # Labelled with the working-group label we sent, whatever the template's `/label` adds.
    for issue in client.iter_issues(created_after=since.isoformat(), labels=proposal.definition.label):
        if fields.marked_proposal(issue.get("description")) == proposal.pk:
            return issue
    return None


def resolve_conflict(*, conflict: SyncConflict, choice: str, by, text: str | None = None) -> None:
    """The author picks Stagegate's text, GitLab's text or an edited text; the choice then goes to GitLab."""
    if choice == SyncConflict.Resolution.KEEP_LOCAL:
        value = conflict.local_value
    elif choice == SyncConflict.Resolution.TAKE_REMOTE:
        value = conflict.remote_value
    else:
        raise ValueError(f"unknown choice {choice!r}")
    if text is not None:
        value = canonical_text(text)
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=conflict.proposal_id)
        current = fields.local_snapshot(proposal).get(conflict.field)
        if current != value:
            proposal_apply_content(
                proposal=proposal,
                content=content_with_values(content_from_proposal(proposal), {conflict.field: value}),
                keys={conflict.field},
                title=value if conflict.field == TITLE else None,
                by=by,
            )
        state = SyncState.objects.select_for_update().get(proposal=proposal)
        # GitLab's text becomes the base, so the chosen text counts as Stagegate's change and is pushed.
        state.base_fields = {**state.base_fields, conflict.field: conflict.remote_value}
        state.save(update_fields=["base_fields"])
        SyncConflict.objects.filter(pk=conflict.pk).update(
            resolved_at=timezone.now(), resolved_by=by, resolution=choice
        )
        Activity.objects.record(
            proposal,
            kind=Activity.Kind.CONFLICT,
            message=f"{by} resolved the conflict on {conflict.label or conflict.field}: "
            + ("wrote a merged text" if text is not None else SyncConflict.Resolution(choice).label.lower()),
            data={"field": conflict.field, "choice": choice},
        )
