"""The outbox: what must reach GitLab, and the pushes that take it there.

The outbox is each proposal's SyncState row: a version counter and a dirty flag,
written in the transaction of the change itself (it listens to `proposal_changed`).
At most one push task is pending per proposal; a burst of saves only bumps the
counter, and the pending push sends the latest content once.

Tasks are enqueued by name (`PUSH_TASK`), not imported: `tasks.py` imports this
module, so importing it back would close a loop.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.celery import app
from gitlab_sync import client
from gitlab_sync.client import TransientGitLabError
from gitlab_sync.connection import LockBusy, auth_failed, proposal_lock, resume, sync_enabled
from gitlab_sync.exchange import SyncResult, sync_proposal
from gitlab_sync.failures import RetryLater, record_failure
from gitlab_sync.models import SyncState
from proposals.models import Proposal
from proposals.signals import Origin

log = logging.getLogger(__name__)

PUSH_TASK = "gitlab_sync.tasks.push_proposal"


def on_proposal_changed(sender, *, proposal: Proposal, origin: Origin, **kwargs) -> None:
    """A change made in Stagegate goes to the outbox; one that came from GitLab is already there."""
    if origin != Origin.GITLAB:
        mark_dirty(proposal)


def mark_dirty(proposal: Proposal) -> None:
    """Record, in the caller's transaction, that this proposal must reach GitLab.

    The outbox is the proposal's SyncState row: a version counter and a dirty
    flag. At most one push task is pending per proposal; a burst of saves only
    bumps the counter, and the pending push sends the latest content once.
    """
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
    try:
        # No publish retries: with the broker down a save must not wait; the sweep catches up.
        app.signature(PUSH_TASK, args=(proposal_id,)).apply_async(countdown=countdown, retry=False)
    except Exception:
        log.warning(
            "Could not enqueue the GitLab push of proposal %s; the sweep will retry", proposal_id, exc_info=True
        )
        SyncState.objects.filter(proposal_id=proposal_id).update(push_enqueued_at=None)
        return False
    return True


def retry_now(proposal: Proposal) -> None:
    """The "retry now" button: forget the back-off and any stop, push at once."""
    resume()
    SyncState.objects.filter(proposal=proposal).update(
        attempts=0, next_attempt_at=None, permanent_error=False, link_broken=False, push_enqueued_at=timezone.now()
    )
    SyncState.objects.get_or_create(proposal=proposal)
    SyncState.objects.filter(proposal=proposal).update(needs_push=True)
    transaction.on_commit(partial(enqueue_push, proposal.pk), robust=True)


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
        claim_enqueue(proposal_id, 1.0)
        raise RetryLater(1.0) from None
    except TransientGitLabError as exc:
        delay = record_failure(proposal_id, exc)
        claim_enqueue(proposal_id, delay)
        raise RetryLater(delay) from exc
    except client.SyncDisabled:
        return None
    except client.GitLabError as exc:
        record_failure(proposal_id, exc)
        return None
    follow_up(proposal_id)
    return result


def claim_enqueue(proposal_id: int, countdown: float) -> None:
    SyncState.objects.filter(proposal_id=proposal_id).update(
        push_enqueued_at=timezone.now() + timedelta(seconds=countdown)
    )


def follow_up(*proposal_ids: int) -> None:
    """Saves that landed during a push or a sync: schedule the trailing push, after the interval. Many
    proposals (a reconcile's page of issues) take the same two statements as one."""
    now = timezone.now()
    # The claim's time is the claim's token: the rows stamped with it are the pushes this call enqueues.
    waiting = SyncState.objects.filter(proposal_id__in=proposal_ids, needs_push=True, push_enqueued_at__isnull=True)
    if not waiting.update(push_enqueued_at=now):
        return
    claimed = SyncState.objects.filter(proposal_id__in=proposal_ids, push_enqueued_at=now)
    for state in claimed.only("proposal_id", "last_push_at"):
        enqueue_push(state.proposal_id, countdown=push_delay(state, now))


def sweep() -> int:
    """Enqueue every push whose enqueue was lost or whose back-off is over."""
    if not sync_enabled():
        return 0
    if auth_failed():
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
    return count
