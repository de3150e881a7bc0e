"""Thin Celery tasks: load ids, call proposals.gitlab.sync, say how to retry."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="proposals.gitlab.tasks.push_proposal", bind=True, acks_late=True)
def push_proposal(self, proposal_id: int) -> None:
    from proposals.gitlab import sync

    sync.run_push(self, proposal_id)
