"""Keeping a proposal and its GitLab issue in step, both ways.

``mark_dirty`` is the outbox: every write service calls it inside its
transaction. ``sync_proposal`` is the one routine that talks to GitLab for a
proposal: it reads the issue, merges per field against the last agreed base,
applies GitLab's side to the proposal and writes Stagegate's side to the issue
(only what differs). Pushes, webhooks and reconciliation all end up there.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import redis
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, Q, When
from django.db.models.functions import Greatest
from django.utils import timezone

from gitlab_sync import client, fields
from gitlab_sync.client import TransientGitLabError
from gitlab_sync.models import GitLabConnection, IssueComment, SyncConflict, SyncState, WebhookDelivery
from proposals.content import RENDER_PREFETCH
from proposals.markdown import canonical_text
from proposals.models import Activity, Proposal
from proposals.services import refresh_verified_checklist

log = logging.getLogger(__name__)


def sync_enabled() -> bool:
    return bool(settings.GITLAB_URL and settings.GITLAB_TOKEN and settings.GITLAB_PROJECT)


def mark_dirty(proposal: Proposal) -> None:
    """Record, in the caller's transaction, that this proposal must reach GitLab.

    The outbox is the proposal's SyncState row: a version counter and a dirty
    flag. At most one push task is pending per proposal; a burst of saves only
    bumps the counter, and the pending push sends the latest content once.
    """
    if getattr(_quiet, "on", False):
        return
    now = timezone.now()
    state, _ = SyncState.objects.get_or_create(proposal=proposal)
    SyncState.objects.filter(pk=state.pk).update(local_version=F("local_version") + 1, needs_push=True)
    if not sync_enabled():
        return  # recorded; the sweep sends it once GitLab is configured
    stale = now - timedelta(seconds=settings.GITLAB_ENQUEUE_STALE_AFTER)
    claimed = (
        SyncState.objects.filter(pk=state.pk)
        .filter(Q(push_enqueued_at__isnull=True) | Q(push_enqueued_at__lt=stale))
        .update(push_enqueued_at=now)
    )
    if claimed:
        transaction.on_commit(partial(enqueue_push, proposal.pk, countdown=push_delay(state, now)), robust=True)


def push_delay(state: SyncState, now) -> float:
    """Push at once, unless we pushed this proposal very recently: then wait out the interval."""
    if state.last_push_at is None:
        return 0.0
    due = state.last_push_at + timedelta(seconds=settings.GITLAB_PUSH_MIN_INTERVAL)
    return max(0.0, (due - now).total_seconds())


def enqueue_push(proposal_id: int, *, countdown: float = 0.0) -> bool:
    """Hand the push to Celery; when the broker is down, leave it to the sweep."""
    from gitlab_sync.tasks import push_proposal

    try:
        # No publish retries: with the broker down a save must not wait; the sweep catches up.
        push_proposal.apply_async((proposal_id,), countdown=countdown, retry=False)
    except Exception:
        log.warning(
            "Could not enqueue the GitLab push of proposal %s; the sweep will retry", proposal_id, exc_info=True
        )
        SyncState.objects.filter(proposal_id=proposal_id).update(push_enqueued_at=None)
        return False
    return True


# ---------------------------------------------------------------------------
# Three-way merge
# ---------------------------------------------------------------------------


@dataclass
class Merge:
    """The outcome of merging Stagegate's and GitLab's values against the base, key by key."""

    merged: dict[str, Any] = field(default_factory=dict)  # what GitLab should hold afterwards
    take_remote: dict[str, Any] = field(default_factory=dict)  # to apply to the proposal
    conflicts: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)  # key: (base, local, remote)
    new_base: dict[str, Any] = field(default_factory=dict)


def merge_lists(base: list | None, local: list | None, remote: list | None) -> list:
    """Three-way merge of ordered lists by item: removals on either side win, additions from both are kept."""
    base, local, remote = list(base or []), list(local or []), list(remote or [])
    removed = [item for item in base if item not in local or item not in remote]
    result = [item for item in local if item not in removed]
    result += [item for item in remote if item not in base and item not in result]
    return result


def merge_values(base: dict, local: dict, remote: dict) -> Merge:
    outcome = Merge()
    for key in sorted(set(base) | set(local) | set(remote)):
        b, lv, r = base.get(key), local.get(key), remote.get(key)
        if lv == r:
            outcome.merged[key] = outcome.new_base[key] = lv
        elif lv == b:
            outcome.merged[key] = outcome.new_base[key] = r
            outcome.take_remote[key] = r
        elif r == b:
            outcome.merged[key] = outcome.new_base[key] = lv
        elif fields.is_list_key(key):
            value = merge_lists(b, lv, r)
            outcome.merged[key] = outcome.new_base[key] = value
            if value != lv:
                outcome.take_remote[key] = value
        elif isinstance(lv, bool) and isinstance(r, bool):
            # A tick changed on both sides from no common base: the tick wins.
            value = lv or r
            outcome.merged[key] = outcome.new_base[key] = value
            if value != lv:
                outcome.take_remote[key] = value
        else:
            # Both changed differently: GitLab keeps its text, Stagegate keeps the author's,
            # and the base stays where it was until the author resolves the conflict.
            outcome.merged[key] = r
            outcome.new_base[key] = b
            outcome.conflicts[key] = (b, lv, r)
    return outcome


def merge_label_sets(base: list, local: list, remote: list) -> list[str]:
    """Labels never conflict: what either side removed goes, what either side added stays."""
    b, lv, r = set(base), set(local), set(remote)
    keep = (b & lv & r) | (lv - b) | (r - b)
    ordered = [name for name in remote if name in keep]
    return ordered + [name for name in local if name in keep and name not in ordered]


# ---------------------------------------------------------------------------
# Labels, confidentiality and state: what Stagegate manages on the issue
# ---------------------------------------------------------------------------

MANAGED_PREFIXES = ("stage::", "orr::")


def managed_labels(proposal: Proposal) -> list[str]:
    """The working-group label plus the scoped stage and ORR labels, which follow the proposal."""
    labels = [proposal.definition.label, f"stage::{proposal.stage}"]
    if apps.is_installed("reviews"):
        from reviews.status import orr_labels

        return labels + sorted(orr_labels(proposal))
    return labels + [f"orr::{proposal.state.replace('_', '-')}"]


def desired_labels(proposal: Proposal) -> list[str]:
    managed = managed_labels(proposal)
    own = [name for name in proposal.labels or [] if not name.startswith(MANAGED_PREFIXES)]
    return own + [name for name in managed if name not in own]


def enforce_managed(labels: list[str], proposal: Proposal) -> list[str]:
    """Stage and ORR labels follow the proposal, whatever was set on GitLab."""
    managed = managed_labels(proposal)
    kept = [name for name in labels if not name.startswith(MANAGED_PREFIXES) or name in managed]
    return kept + [name for name in managed if name not in kept]


def issue_state_for(proposal: Proposal) -> str:
    return "closed" if proposal.state == Proposal.State.CLOSED else "opened"


# ---------------------------------------------------------------------------
# Locks and connection health
# ---------------------------------------------------------------------------


class LockBusy(Exception):
    """Another worker is syncing this proposal right now."""


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


@contextmanager
def proposal_lock(proposal_id: int, *, wait: float = 0.0):
    """Serialise everything that talks to GitLab about one proposal, across workers and hosts."""
    # Outlives the task's hard time limit, so a lock is only ever lost with its worker.
    timeout = getattr(settings, "GITLAB_SYNC_LOCK_TIMEOUT", settings.CELERY_TASK_TIME_LIMIT + 30)
    lock = _redis(settings.REDIS_URL).lock(
        f"stagegate:gitlab-sync:{proposal_id}", timeout=timeout, blocking_timeout=wait
    )
    if not lock.acquire(blocking=wait > 0):
        raise LockBusy(proposal_id)
    try:
        yield
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            log.warning("GitLab sync lock of proposal %s expired before release", proposal_id)


def connection() -> GitLabConnection:
    conn, _ = GitLabConnection.objects.get_or_create(project_path=settings.GITLAB_PROJECT or "-")
    return conn


def ensure_healthy() -> None:
    if not sync_enabled():
        raise client.SyncDisabled("GitLab sync is not configured.")
    if GitLabConnection.objects.filter(project_path=settings.GITLAB_PROJECT, auth_failed_at__isnull=False).exists():
        raise client.AuthenticationFailed("GitLab rejected the bot token; fix it and press “retry now”.", status=401)


def _note_success(project_id: int | None = None) -> None:
    changes: dict[str, Any] = {"last_success_at": timezone.now()}
    if project_id:
        changes["project_id"] = project_id
    GitLabConnection.objects.filter(pk=connection().pk).update(**changes)


def _parse_time(value: str | None):
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------
# The sync itself
# ---------------------------------------------------------------------------


@dataclass
class SyncResult:
    created: bool = False
    pulled: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def sync_proposal(proposal_id: int, *, remote: dict | None = None, actor: str = "", push: bool = True) -> SyncResult:
    """Bring a proposal and its issue in step. Call with the proposal's lock held.

    ``remote`` is an issue already listed (reconcile); it is used to merge, but
    before any write the issue is read again, since GitLab's edit has no
    compare-and-swap. With ``push=False`` (webhooks, reconcile) GitLab's side is
    applied and Stagegate's side is left to the push task, which keeps to the
    push interval: our own echo must not turn an autosave burst into a write per save.
    """
    ensure_healthy()
    state, _ = SyncState.objects.get_or_create(proposal_id=proposal_id)
    if state.issue_iid is None:
        return create_issue(proposal_id)
    if state.link_broken:
        raise client.IssueNotFound("The GitLab issue was deleted or moved; relink it in the admin.", status=404)
    for _attempt in range(5):
        state.refresh_from_db()
        start_version = state.local_version
        proposal = Proposal.objects.prefetch_related(*RENDER_PREFETCH).get(pk=proposal_id)
        fresh = remote is None
        if fresh:
            remote = client.get_issue(state.issue_iid)
        base_state = state.base_state
        outcome = _merge(proposal, state, remote, actor=actor, render=push)
        if outcome is None:  # the proposal changed while we merged; merge again
            continue
        updates, labels, result, merge, remote_values = outcome
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
        response = client.update_issue(state.issue_iid, updates) if updates else remote
        _finish(state, proposal_id, start_version, response, labels, pushed=bool(updates))
        _note_success(response.get("project_id"))
        return result
    raise TransientGitLabError("The proposal kept changing during the sync; trying again shortly.")


def text_hash(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def recover_overwritten_edit(state: SyncState, delivery: WebhookDelivery) -> bool:
    """GitLab's edit has no compare-and-swap: a person's edit that landed between our read and our
    write was overwritten by it. Our write's own webhook shows the text it replaced; when that is not
    the text we merged against, merge that lost version in now (a field both changed is a conflict)."""
    if not state.merged_against or delivery.body_size > len(delivery.body.encode()):
        return False
    try:
        change = (json.loads(delivery.body).get("changes") or {}).get("description") or {}
    except ValueError:
        return False
    previous, current = change.get("previous"), change.get("current")
    if previous is None or text_hash(current) != state.last_pushed_hash:
        return False  # not the echo of our last description write
    if text_hash(previous) == state.merged_against.get("hash"):
        return False  # nobody got in between
    lost = fields.snapshot(fields.parse_content(previous), state.merged_against["values"].get(fields.TITLE, ""))
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=state.proposal_id)
        outcome = merge_values(state.merged_against["values"], fields.local_snapshot(proposal), lost)
        if outcome.take_remote:
            recovered = fields.apply_to_proposal(proposal, outcome.take_remote)
            fields.record(
                proposal,
                kind=Activity.Kind.SYNC,
                message="Recovered an edit made on GitLab while Stagegate was writing: " + ", ".join(recovered),
                data={"fields": sorted(outcome.take_remote)},
            )
        _record_conflicts(proposal, outcome.conflicts, close_others=False)
        SyncState.objects.filter(pk=state.pk).update(merged_against={})
        if outcome.take_remote or outcome.conflicts:
            mark_dirty(proposal)
    return bool(outcome.take_remote or outcome.conflicts)


def _merge(proposal: Proposal, state: SyncState, remote: dict, *, actor: str = "", render: bool = True):
    """Merge both sides; apply GitLab's side locally. Returns the issue update, or None if raced."""
    base = dict(state.base_fields)
    local = fields.local_snapshot(proposal)
    remote_values = fields.remote_snapshot(remote)
    outcome = merge_values(base, local, remote_values)

    base_labels = list(state.base_labels)
    local_labels = desired_labels(proposal)
    remote_labels = list(remote.get("labels") or [])
    labels = enforce_managed(merge_label_sets(base_labels, local_labels, remote_labels), proposal)

    confidential = bool(remote.get("confidential"))
    take_confidential = None
    if proposal.confidential != confidential:
        if proposal.confidential == state.base_confidential:
            take_confidential = confidential
        else:
            confidential = proposal.confidential

    result = SyncResult()
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.version != proposal.version:
            return None
        result.pulled = fields.apply_to_proposal(locked, outcome.take_remote) if outcome.take_remote else []
        own_labels = [name for name in labels if not name.startswith(MANAGED_PREFIXES)]
        extra: list[str] = []
        if own_labels != [n for n in locked.labels or [] if not n.startswith(MANAGED_PREFIXES)]:
            locked.labels = own_labels
            extra.append("labels")
        if take_confidential is not None:
            locked.confidential = take_confidential
            extra.append("confidential")
        if extra:
            locked.save(update_fields=extra)
            # Labels are edited in a form too: an open form must see that they changed.
            Proposal.objects.filter(pk=locked.pk).update(version=F("version") + 1)
            if "labels" in extra:
                result.pulled.append("Labels")
                if not outcome.take_remote:
                    fields.record(
                        locked,
                        kind=Activity.Kind.SYNC,
                        message=f"Labels changed on GitLab{f' by {actor}' if actor else ''}: {', '.join(own_labels)}",
                        data={"labels": own_labels, "by": actor},
                    )
            if take_confidential is not None:
                word = "confidential" if take_confidential else "public"
                fields.record(
                    locked,
                    kind=Activity.Kind.SYNC,
                    message=f"Made {word} on GitLab{f' by {actor}' if actor else ''}",
                    data={"confidential": take_confidential, "by": actor},
                )
        if outcome.take_remote:
            refresh_verified_checklist(locked)
            who = f" by {actor}" if actor else ""
            fields.record(
                locked,
                kind=Activity.Kind.SYNC,
                message=f"Updated from GitLab{who}: {', '.join(result.pulled)}",
                data={"fields": sorted(outcome.take_remote), "by": actor},
            )
        result.conflicts = _record_conflicts(locked, outcome.conflicts)
        state.base_fields = outcome.new_base
        # What GitLab should hold: merged values, GitLab's own text where there is a conflict.
        merged_description_differs = any(
            outcome.merged.get(key) != remote_values.get(key) for key in outcome.merged if key != fields.TITLE
        )

    updates: dict[str, Any] = {}
    if locked.confidential != bool(remote.get("confidential")):
        updates["confidential"] = locked.confidential
    title = outcome.merged.get(fields.TITLE)
    if title is not None and title != fields.normalise_title(remote.get("title")):
        updates["title"] = title
    if merged_description_differs and not render:
        updates["description"] = None  # to be rendered by the push that writes it
    elif merged_description_differs:
        overrides = {key: outcome.merged[key] for key in outcome.conflicts}
        # Nothing pulled: the proposal read at the start (relations prefetched) is still current.
        description = fields.render_description(locked if outcome.take_remote else proposal, overrides)
        if description != (remote.get("description") or ""):
            updates["description"] = description
    add = [name for name in labels if name not in remote_labels]
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


def _record_conflicts(
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
        label = fields.label_for_key(proposal, key)
        SyncConflict.objects.create(
            proposal=proposal, field=key, label=label, base_value=base, local_value=local, remote_value=remote
        )
        fields.record(
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
        base_title=str(base_fields.get(fields.TITLE, ""))[:255],
        base_labels=list(issue.get("labels") or labels),
        base_state=state.base_state,
        base_confidential=state.base_confidential,
        remote_updated_at=_parse_time(issue.get("updated_at")),
        remote_state=issue.get("state") or "",
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
    if issue is None:
        SyncState.objects.filter(pk=state.pk).update(create_started_at=timezone.now())
        issue = client.create_issue(
            {
                "title": proposal.title,
                "description": fields.render_description(proposal, {}),
                "labels": ",".join(desired_labels(proposal)),
                # Confidential from the first request: the text is never public, not even for a moment.
                "confidential": proposal.confidential,
            }
        )
    remote_values = fields.remote_snapshot(issue)
    with transaction.atomic():
        SyncState.objects.filter(pk=state.pk).update(
            issue_iid=issue["iid"],
            issue_id=issue["id"],
            web_url=issue.get("web_url", ""),
            create_started_at=None,
            base_fields=remote_values,
            base_title=remote_values[fields.TITLE][:255],
            base_labels=list(issue.get("labels") or []),
            base_state=issue_state_for(proposal),
            base_confidential=bool(issue.get("confidential")),
            remote_updated_at=_parse_time(issue.get("updated_at")),
            remote_state=issue.get("state", ""),
            pushed_version=Greatest(F("pushed_version"), start_version),
            needs_push=Case(When(local_version__gt=start_version, then=True), default=False),
            attempts=0,
            last_error="",
            permanent_error=False,
            next_attempt_at=None,
            last_synced_at=timezone.now(),
            last_push_at=timezone.now(),
        )
        fields.record(
            proposal,
            kind=Activity.Kind.SYNC,
            message=f"GitLab issue #{issue['iid']} created",
            data={"iid": issue["iid"], "web_url": issue.get("web_url", "")},
        )
    _note_success(issue.get("project_id"))
    return SyncResult(created=True)


def _find_created_issue(proposal: Proposal, state: SyncState) -> dict | None:
    since = state.create_started_at - timedelta(minutes=5)
    linked = set(SyncState.objects.exclude(issue_iid=None).values_list("issue_iid", flat=True))
    for issue in client.iter_issues(created_after=since.isoformat(), labels=proposal.definition.label):
        if issue["title"] == proposal.title and issue["iid"] not in linked:
            return issue
    return None


# ---------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------

MAX_BACKOFF = 600.0


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter; a 429's Retry-After is a floor."""
    ceiling = min(settings.GITLAB_RETRY_BASE * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def record_failure(proposal_id: int, exc: client.GitLabError) -> float:
    """Show the error on the proposal and in the admin; return when to try again (seconds)."""
    now = timezone.now()
    permanent = not isinstance(exc, TransientGitLabError)
    state, _ = SyncState.objects.get_or_create(proposal_id=proposal_id)
    attempts = state.attempts + 1
    delay = backoff(attempts, getattr(exc, "retry_after", None))
    SyncState.objects.filter(pk=state.pk).update(
        attempts=attempts,
        last_error=exc.message[:2000],
        last_error_at=now,
        permanent_error=permanent,
        next_attempt_at=None if permanent else now + timedelta(seconds=delay),
        link_broken=isinstance(exc, client.IssueNotFound) or state.link_broken,
    )
    if isinstance(exc, client.AuthenticationFailed):
        GitLabConnection.objects.filter(pk=connection().pk, auth_failed_at__isnull=True).update(auth_failed_at=now)
    GitLabConnection.objects.filter(pk=connection().pk).update(last_error=exc.message[:2000], last_error_at=now)
    if permanent or attempts == 1:
        fields.record(
            Proposal(pk=proposal_id),
            kind=Activity.Kind.SYNC,
            message=f"GitLab sync failed: {exc.message}",
            data={"status": exc.status, "permanent": permanent},
        )
    log.warning("GitLab sync of proposal %s failed (attempt %s): %s", proposal_id, attempts, exc.message)
    return delay


def retry_now(proposal: Proposal) -> None:
    """The "retry now" button: forget the back-off and any stop, push at once."""
    GitLabConnection.objects.filter(project_path=settings.GITLAB_PROJECT).update(auth_failed_at=None)
    SyncState.objects.filter(proposal=proposal).update(
        attempts=0, next_attempt_at=None, permanent_error=False, link_broken=False, push_enqueued_at=timezone.now()
    )
    SyncState.objects.get_or_create(proposal=proposal)
    SyncState.objects.filter(proposal=proposal).update(needs_push=True)
    transaction.on_commit(partial(enqueue_push, proposal.pk), robust=True)


# ---------------------------------------------------------------------------
# Entry points used by the Celery tasks
# ---------------------------------------------------------------------------


class RetryLater(Exception):
    def __init__(self, countdown: float):
        super().__init__(countdown)
        self.countdown = countdown


def push(proposal_id: int) -> SyncResult | None:
    """Run one push of a proposal. Raises RetryLater when the task should run again."""
    # From here on a new save must enqueue a new push: this one may have read older content.
    SyncState.objects.filter(proposal_id=proposal_id).update(push_enqueued_at=None)
    if not Proposal.objects.filter(pk=proposal_id).exists():
        return None
    try:
        with proposal_lock(proposal_id):
            result = sync_proposal(proposal_id)
    except LockBusy:
        _claim_enqueue(proposal_id, 1.0)
        raise RetryLater(1.0) from None
    except TransientGitLabError as exc:
        delay = record_failure(proposal_id, exc)
        _claim_enqueue(proposal_id, delay)
        raise RetryLater(delay) from exc
    except client.SyncDisabled:
        return None
    except client.GitLabError as exc:
        record_failure(proposal_id, exc)
        return None
    follow_up(proposal_id)
    return result


def _claim_enqueue(proposal_id: int, countdown: float) -> None:
    SyncState.objects.filter(proposal_id=proposal_id).update(
        push_enqueued_at=timezone.now() + timedelta(seconds=countdown)
    )


def follow_up(proposal_id: int) -> None:
    """Saves that landed during the push: schedule the trailing push, after the interval."""
    now = timezone.now()
    state = SyncState.objects.filter(proposal_id=proposal_id).first()
    if state is None or not state.needs_push:
        return
    claimed = SyncState.objects.filter(pk=state.pk, push_enqueued_at__isnull=True).update(push_enqueued_at=now)
    if claimed:
        enqueue_push(proposal_id, countdown=push_delay(state, now))


def sweep() -> int:
    """Enqueue every push whose enqueue was lost or whose back-off is over; requeue stuck deliveries."""
    if not sync_enabled():
        return 0
    if GitLabConnection.objects.filter(project_path=settings.GITLAB_PROJECT, auth_failed_at__isnull=False).exists():
        return 0
    now = timezone.now()
    stale = now - timedelta(seconds=settings.GITLAB_ENQUEUE_STALE_AFTER)
    due = (
        SyncState.objects.filter(needs_push=True, permanent_error=False)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(push_enqueued_at__isnull=True) | Q(push_enqueued_at__lt=stale))
    )
    count = 0
    for state in due.only("pk", "proposal_id", "push_enqueued_at"):
        claimed = SyncState.objects.filter(pk=state.pk, push_enqueued_at=state.push_enqueued_at).update(
            push_enqueued_at=now
        )
        if claimed and enqueue_push(state.proposal_id):
            count += 1
    from gitlab_sync.tasks import process_delivery

    # Deliveries are kept a while for the admin's sync health view, not forever.
    WebhookDelivery.objects.filter(
        status__in=(WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED),
        received_at__lt=now - timedelta(days=DELIVERY_RETENTION_DAYS),
    ).delete()
    for delivery_id in WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.RECEIVED, received_at__lt=stale
    ).values_list("pk", flat=True)[:500]:
        try:
            process_delivery.apply_async((delivery_id,), retry=False)
        except Exception:
            log.warning("Could not enqueue webhook delivery %s", delivery_id)
            break
    return count


# ---------------------------------------------------------------------------
# Inbound: webhooks, comments, reconciliation
# ---------------------------------------------------------------------------

DELIVERY_RETENTION_DAYS = 14
ISSUE_EVENTS = {"Issue Hook", "Confidential Issue Hook"}
NOTE_EVENTS = {"Note Hook", "Confidential Note Hook"}


def handle_delivery(delivery_id: int) -> str:
    """Apply one stored webhook delivery. A webhook is a hint: the issue is read again through the API."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED):
        return "done"
    state = SyncState.objects.filter(issue_iid=delivery.issue_iid).first() if delivery.issue_iid else None
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
        sent = _parse_time(delivery.payload_updated_at.replace(" UTC", "Z"))
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
    notes = [note for note in client.list_notes(state.issue_iid) if not note.get("system")]
    proposal = Proposal(pk=proposal_id)
    known = {c.gitlab_note_id: c for c in IssueComment.objects.filter(proposal_id=proposal_id)}
    seen = set()
    new = 0
    fresh_notes = []
    with transaction.atomic():
        for note in notes:
            seen.add(note["id"])
            author = note.get("author") or {}
            comment = known.get(note["id"])
            if comment is None:
                IssueComment.objects.create(
                    proposal_id=proposal_id,
                    gitlab_note_id=note["id"],
                    author_username=author.get("username", ""),
                    author_name=author.get("name", ""),
                    body=note.get("body", ""),
                    internal=bool(note.get("internal") or note.get("confidential")),
                    created_at=_parse_time(note.get("created_at")),
                    updated_at=_parse_time(note.get("updated_at")),
                )
                fields.record(
                    proposal,
                    actor=local_user_for(author.get("id")),
                    kind=Activity.Kind.COMMENT,
                    message=f"{author.get('username', 'someone')} commented on GitLab: {note.get('body', '')[:300]}",
                    data={"note_id": note["id"], "by": author.get("username", "")},
                )
                new += 1
                if REPLY_MARKER not in note.get("body", ""):
                    fresh_notes.append(note)
            elif comment.body != note.get("body") or comment.deleted_at:
                comment.body = note.get("body", "")
                comment.updated_at = _parse_time(note.get("updated_at"))
                comment.deleted_at = None
                comment.save(update_fields=["body", "updated_at", "deleted_at"])
        IssueComment.objects.filter(proposal_id=proposal_id, deleted_at__isnull=True).exclude(
            gitlab_note_id__in=seen
        ).update(deleted_at=timezone.now())
    _run_orr_commands(proposal_id, state.issue_iid, fresh_notes)
    return new


def local_user_for(gitlab_user_id):
    """The Stagegate user who signs in with this GitLab account, when there is one."""
    if not apps.is_installed("accounts"):
        return None
    from accounts.gitlab import user_for_gitlab_id

    return user_for_gitlab_id(gitlab_user_id)


# Our own replies carry this, so they are never read as commands.
REPLY_MARKER = "<!-- stagegate:reply -->"


def _run_orr_commands(proposal_id: int, iid: int, notes: list[dict]) -> None:
    """`/orr` lines in new comments decide reviews (reviews.commands); the replies go back as comments."""
    if not notes or not apps.is_installed("reviews"):
        return
    from reviews.commands import review_decide_from_comment

    proposal = Proposal.objects.get(pk=proposal_id)
    for note in notes:
        author = note.get("author") or {}
        replies = review_decide_from_comment(
            proposal=proposal,
            gitlab_user_id=author.get("id"),
            gitlab_username=author.get("username", ""),
            note_body=note.get("body", ""),
            note_id=note["id"],
        )
        for reply in replies:
            client.create_note(iid, f"{reply}\n\n{REPLY_MARKER}")


def reconcile() -> dict[str, int]:
    """Apply what webhooks missed: list issues updated since the watermark and sync the changed ones."""
    ensure_healthy()
    conn = connection()
    links = {
        iid: (proposal_id, remote_updated_at)
        for iid, proposal_id, remote_updated_at in SyncState.objects.exclude(issue_iid=None).values_list(
            "issue_iid", "proposal_id", "remote_updated_at"
        )
    }
    comment_counts = dict(
        IssueComment.objects.filter(deleted_at__isnull=True)
        .values("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )
    filters: dict[str, Any] = {"order_by": "updated_at", "sort": "asc", "per_page": 100}
    if conn.issues_watermark:
        # A little overlap: GitLab's clock and ours may disagree, and equal timestamps exist.
        filters["updated_after"] = (conn.issues_watermark - timedelta(seconds=5)).isoformat()
    watermark = conn.issues_watermark
    stats = {"seen": 0, "synced": 0, "skipped": 0}
    for issue in client.iter_issues(**filters):
        stats["seen"] += 1
        updated_at = _parse_time(issue.get("updated_at"))
        link = links.get(issue["iid"])
        if link is not None:
            proposal_id, known = link
            if known is None or updated_at > known:
                try:
                    with proposal_lock(proposal_id):
                        sync_proposal(proposal_id, remote=issue, push=False)
                        follow_up(proposal_id)
                    stats["synced"] += 1
                except LockBusy:
                    stats["skipped"] += 1  # being synced right now
                except client.IssueNotFound as exc:
                    record_failure(proposal_id, exc)
            if issue.get("user_notes_count", 0) != comment_counts.get(proposal_id, 0):
                with contextlib.suppress(LockBusy), proposal_lock(proposal_id):
                    pull_comments(proposal_id)
        if updated_at and (watermark is None or updated_at > watermark):
            watermark = updated_at
            if stats["seen"] % 100 == 0:
                GitLabConnection.objects.filter(pk=conn.pk).update(issues_watermark=watermark)
    GitLabConnection.objects.filter(pk=conn.pk).update(issues_watermark=watermark, last_reconcile_at=timezone.now())
    return stats


# ---------------------------------------------------------------------------
# Conflicts
# ---------------------------------------------------------------------------


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
            fields.apply_to_proposal(proposal, {conflict.field: value})
        state = SyncState.objects.select_for_update().get(proposal=proposal)
        # GitLab's text becomes the base, so the chosen text counts as Stagegate's change and is pushed.
        state.base_fields = {**state.base_fields, conflict.field: conflict.remote_value}
        state.save(update_fields=["base_fields"])
        SyncConflict.objects.filter(pk=conflict.pk).update(
            resolved_at=timezone.now(), resolved_by=by, resolution=choice
        )
        fields.record(
            proposal,
            kind=Activity.Kind.CONFLICT,
            message=f"{by} resolved the conflict on {conflict.label or conflict.field}: "
            f"{SyncConflict.Resolution(choice).label.lower()}",
            data={"field": conflict.field, "choice": choice},
        )
        mark_dirty(proposal)


# ---------------------------------------------------------------------------
# Import of existing issues
# ---------------------------------------------------------------------------

_quiet = threading.local()


@contextmanager
def sync_suppressed():
    """Writes inside this block are not queued for GitLab (they came from GitLab)."""
    previous = getattr(_quiet, "on", False)
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = previous


@dataclass
class ImportReport:
    imported: list[tuple[int, int, str, int]] = field(default_factory=list)  # iid, proposal id, title, fields
    already_linked: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Imported {len(self.imported)} issue(s); {len(self.already_linked)} already linked; "
            f"{len(self.failed)} failed."
        ]
        out += [f"  #{iid} → proposal {pk}: {title} ({n} field(s) filled)" for iid, pk, title, n in self.imported]
        out += [f"  #{iid} failed: {reason}" for iid, reason in self.failed]
        return out


def import_issues(*, owner, label: str | None = None) -> ImportReport:
    """Create a proposal for every issue carrying the working-group label that has none yet."""
    from proposals.services import proposal_create
    from proposals.template import get_definition

    label = label or get_definition().label
    linked = set(SyncState.objects.exclude(issue_iid=None).values_list("issue_iid", flat=True))
    report = ImportReport()
    for issue in client.iter_issues(labels=label, order_by="created_at", sort="asc", per_page=100):
        if issue["iid"] in linked:
            report.already_linked.append(issue["iid"])
            continue
        try:
            with transaction.atomic(), sync_suppressed():
                proposal = proposal_create(
                    title=(issue.get("title") or f"GitLab issue #{issue['iid']}")[:255],
                    owner=owner,
                    confidential=bool(issue.get("confidential")),
                )
                remote_values = fields.remote_snapshot(issue)
                changes = {
                    key: value
                    for key, value in remote_values.items()
                    if key != fields.TITLE and value not in ("", [], None, False)
                }
                fields.apply_to_proposal(proposal, changes)
                proposal.labels = [name for name in issue.get("labels") or [] if not name.startswith(MANAGED_PREFIXES)]
                proposal.save(update_fields=["labels"])
                refresh_verified_checklist(proposal)
                SyncState.objects.get_or_create(proposal=proposal)
                SyncState.objects.filter(proposal=proposal).update(
                    issue_iid=issue["iid"],
                    issue_id=issue["id"],
                    web_url=issue.get("web_url", ""),
                    base_fields=remote_values,
                    base_title=remote_values[fields.TITLE][:255],
                    base_labels=list(issue.get("labels") or []),
                    base_state=issue_state_for(proposal),
                    base_confidential=bool(issue.get("confidential")),
                    remote_updated_at=_parse_time(issue.get("updated_at")),
                    remote_state=issue.get("state", ""),
                    needs_push=False,
                    push_enqueued_at=None,
                    last_synced_at=timezone.now(),
                )
                fields.record(
                    proposal,
                    kind=Activity.Kind.SYNC,
                    message=f"Imported from GitLab issue #{issue['iid']}",
                    data={"iid": issue["iid"], "web_url": issue.get("web_url", "")},
                )
        except Exception as exc:  # one odd issue must not stop the import; it is reported
            log.exception("Import of GitLab issue #%s failed", issue.get("iid"))
            report.failed.append((issue["iid"], str(exc)[:300]))
            continue
        filled = sum(1 for key in changes if key.startswith("field:"))
        report.imported.append((issue["iid"], proposal.pk, proposal.title, filled))
        linked.add(issue["iid"])
    return report
