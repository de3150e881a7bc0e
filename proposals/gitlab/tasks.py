"""Thin Celery tasks: load ids, call proposals.gitlab.sync, say how to retry.

Every task is idempotent (the sync compares before it writes), acknowledged
late and rejected when its worker dies, so a crash re-runs it rather than
losing it. When retries run out the durable outbox row remains and the sweep
tries again later.
"""

from __future__ import annotations

from celery import shared_task

from proposals.gitlab import sync

SYNC_TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 60,
    "time_limit": 90,
    "max_retries": 8,
}


@shared_task(name="proposals.gitlab.tasks.push_proposal", **SYNC_TASK_OPTIONS)
def push_proposal(self, proposal_id: int) -> None:
    try:
        sync.push(proposal_id)
    except sync.RetryLater as later:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=later.countdown) from None
        # Out of retries: needs_push stays set and the sweep picks it up after next_attempt_at.
        sync.SyncState.objects.filter(proposal_id=proposal_id).update(push_enqueued_at=None)


@shared_task(name="proposals.gitlab.tasks.process_delivery", **SYNC_TASK_OPTIONS)
def process_delivery(self, delivery_id: int) -> None:
    try:
        sync.handle_delivery(delivery_id)
    except sync.RetryLater as later:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=later.countdown) from None


@shared_task(name="proposals.gitlab.tasks.sweep")
def sweep() -> int:
    return sync.sweep()


@shared_task(name="proposals.gitlab.tasks.reconcile", soft_time_limit=600, time_limit=660)
def reconcile() -> dict:
    try:
        return sync.reconcile()
    except sync.client.GitLabError as exc:
        sync.log.warning("GitLab reconcile failed: %s", exc.message)
        return {"error": exc.message}
