"""Thin Celery tasks: load ids, call gitlab_sync.sync, say how to retry.

Bound to Stagegate's app itself rather than ``shared_task``: enqueueing then never
depends on which Celery app a thread happens to consider current.

Every task is idempotent (the sync compares before it writes), acknowledged
late and rejected when its worker dies, so a crash re-runs it rather than
losing it. When retries run out the durable outbox row remains and the sweep
tries again later.
"""

from __future__ import annotations

from config.celery import app
from gitlab_sync import sync

SYNC_TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 60,
    "time_limit": 90,
    "max_retries": 8,
}


@app.task(name="gitlab_sync.tasks.push_proposal", **SYNC_TASK_OPTIONS)
def push_proposal(self, proposal_id: int) -> None:
    try:
        sync.push(proposal_id)
    except sync.RetryLater as later:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=later.countdown) from None
        # Out of retries: needs_push stays set and the sweep picks it up after next_attempt_at.
        sync.SyncState.objects.filter(proposal_id=proposal_id).update(push_enqueued_at=None)


@app.task(name="gitlab_sync.tasks.process_delivery", **SYNC_TASK_OPTIONS)
def process_delivery(self, delivery_id: int) -> None:
    try:
        sync.handle_delivery(delivery_id)
    except sync.RetryLater as later:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=later.countdown) from None


@app.task(name="gitlab_sync.tasks.sweep")
def sweep() -> int:
    return sync.sweep()


@app.task(name="gitlab_sync.tasks.reconcile", soft_time_limit=600, time_limit=660)
def reconcile() -> dict:
    try:
        return sync.reconcile()
    except sync.client.GitLabError as exc:
        sync.log.warning("GitLab reconcile failed: %s", exc.message)
        return {"error": exc.message}
