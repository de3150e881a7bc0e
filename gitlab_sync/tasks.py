"""Thin Celery tasks: load ids, call the outbox or the inbound side, say how to retry.

Bound to Stagegate's app itself rather than ``shared_task``: enqueueing then never
depends on which Celery app a thread happens to consider current.

Every task is idempotent (the sync compares before it writes), acknowledged
late and rejected when its worker dies, so a crash re-runs it rather than
losing it. When retries run out the durable outbox row remains and the sweep
tries again later.
"""

from __future__ import annotations

import logging

from config.celery import app
from gitlab_sync import client, discussion, failures, inbound, outbox
from gitlab_sync.connection import auth_failed, sync_enabled
from gitlab_sync.failures import RetryLater
from gitlab_sync.models import SyncState

log = logging.getLogger(__name__)

SYNC_TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 60,
    "time_limit": 90,
    "max_retries": 8,
}


@app.task(name=outbox.PUSH_TASK, **SYNC_TASK_OPTIONS)
def push_proposal(self, proposal_id: int) -> None:
    try:
        outbox.push(proposal_id)
    except RetryLater as later:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=later.countdown) from None
        # Out of retries: needs_push stays set and the sweep picks it up after next_attempt_at.
        SyncState.objects.filter(proposal_id=proposal_id).update(push_enqueued_at=None)


@app.task(name=inbound.DELIVERY_TASK, **SYNC_TASK_OPTIONS)
def process_delivery(self, delivery_id: int) -> None:
    try:
        inbound.handle_delivery(delivery_id)
    except RetryLater as later:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=later.countdown) from None


@app.task(name=discussion.DELIVER_TASK, **SYNC_TASK_OPTIONS)
def deliver_comment(self, comment_id: int) -> None:
    """Post, change or delete a Stagegate comment's note on the GitLab issue (idempotent by its marker)."""
    try:
        discussion.comment_deliver(comment_id)
    except RetryLater as later:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=later.countdown) from None


@app.task(name="gitlab_sync.tasks.sweep")
def sweep() -> int:
    """Every minute: pushes whose enqueue was lost or whose back-off is over, and lost deliveries."""
    if not sync_enabled() or auth_failed():
        return 0
    pushed = outbox.sweep()
    inbound.deliveries_requeue()
    discussion.comments_requeue()
    return pushed


@app.task(name="gitlab_sync.tasks.reconcile", soft_time_limit=600, time_limit=660)
def reconcile() -> dict:
    return _walk(inbound.reconcile, "reconcile")


@app.task(name="gitlab_sync.tasks.recount_comments", soft_time_limit=600, time_limit=660)
def recount_comments() -> dict:
    """Hourly: the comments deleted on GitLab, which neither a webhook nor the issue's ``updated_at`` tells of."""
    return _walk(inbound.recount_comments, "comment recount")


def _walk(walk, what: str) -> dict:
    """A scheduled walk over the proposals' issues: what stops the connection stops it; nothing is retried
    here, since the next run walks again."""
    try:
        return walk()
    except client.GitLabError as exc:
        if isinstance(exc, client.ConnectionBlocked):
            failures.block_connection(exc)
        log.warning("GitLab %s failed: %s", what, exc.message)
        return {"error": exc.message}
