"""Keeping a proposal and its GitLab issue in step, both ways.

``mark_dirty`` is the outbox: every write service calls it inside its
transaction. ``sync_proposal`` is the one routine that talks to GitLab for a
proposal: it reads the issue, merges per field against the last agreed base,
applies GitLab's side to the proposal and writes Stagegate's side to the issue
(only what differs). Pushes, webhooks and reconciliation all end up there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from proposals.gitlab.models import SyncState
from proposals.models import Proposal

log = logging.getLogger(__name__)

# An enqueue older than this without a run is presumed lost (Redis restarted, worker died).
ENQUEUE_STALE_AFTER = timedelta(minutes=2)


def sync_enabled() -> bool:
    return bool(settings.GITLAB_URL and settings.GITLAB_TOKEN and settings.GITLAB_PROJECT)


def mark_dirty(proposal: Proposal) -> None:
    """Record, in the caller's transaction, that this proposal must reach GitLab.

    The outbox is the proposal's SyncState row: a version counter and a dirty
    flag. At most one push task is pending per proposal; a burst of saves only
    bumps the counter, and the pending push sends the latest content once.
    """
    now = timezone.now()
    state, _ = SyncState.objects.get_or_create(proposal=proposal)
    SyncState.objects.filter(pk=state.pk).update(local_version=F("local_version") + 1, needs_push=True)
    claimed = (
        SyncState.objects.filter(pk=state.pk)
        .filter(Q(push_enqueued_at__isnull=True) | Q(push_enqueued_at__lt=now - ENQUEUE_STALE_AFTER))
        .update(push_enqueued_at=now)
    )
    if claimed and sync_enabled():
        transaction.on_commit(partial(enqueue_push, proposal.pk, countdown=push_delay(state, now)), robust=True)


def push_delay(state: SyncState, now) -> float:
    """Push at once, unless we pushed this proposal very recently: then wait out the interval."""
    if state.last_push_at is None:
        return 0.0
    due = state.last_push_at + timedelta(seconds=settings.GITLAB_PUSH_MIN_INTERVAL)
    return max(0.0, (due - now).total_seconds())


def enqueue_push(proposal_id: int, *, countdown: float = 0.0) -> bool:
    """Hand the push to Celery; when the broker is down, leave it to the sweep."""
    from proposals.gitlab.tasks import push_proposal

    try:
        push_proposal.apply_async((proposal_id,), countdown=countdown)
    except Exception:
        log.warning("Could not enqueue the GitLab push of proposal %s; the sweep will retry", proposal_id)
        SyncState.objects.filter(proposal_id=proposal_id).update(push_enqueued_at=None)
        return False
    return True
