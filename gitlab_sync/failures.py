"""What a failed exchange with GitLab leaves behind: back-off, the error on the proposal and the connection."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from gitlab_sync import client
from gitlab_sync.client import TransientGitLabError
from gitlab_sync.connection import connection
from gitlab_sync.models import GitLabConnection, SyncState
from proposals.models import Activity, Proposal

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The task should run again after `countdown` seconds."""

    def __init__(self, countdown: float):
        super().__init__(countdown)
        self.countdown = countdown


MAX_BACKOFF = 600.0


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter; a 429's Retry-After is a floor."""
    ceiling = min(settings.GITLAB_RETRY_BASE * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def block_connection(exc: client.ConnectionBlocked) -> None:
    """Stop the connection with one message for admins; the first cause found is the one kept."""
    GitLabConnection.objects.filter(pk=connection().pk, blocked_reason="").update(
        blocked_reason=exc.reason, blocked_message=exc.message[:2000], blocked_at=timezone.now()
    )


def _archived_project(exc: client.GitLabError) -> client.GitLabError:
    """A 403 on a write: an archived project refuses every write, which is the connection's matter."""
    if exc.status != 403 or isinstance(exc, client.ConnectionBlocked):
        return exc
    try:
        archived = bool(client.get_project().get("archived"))
    except client.GitLabError:
        return exc
    if not archived:
        return exc
    return client.ConnectionBlocked(
        f"The GitLab project {settings.GITLAB_PROJECT} is archived, so it is read-only: unarchive it or "
        "point GITLAB_PROJECT at another project.",
        reason="archived",
        status=403,
    )


def record_failure(proposal_id: int, exc: client.GitLabError) -> float:
    """Show the error on the proposal and in the admin; return when to try again (seconds).

    An error of the whole connection (``ConnectionBlocked``) is shown once, on the connection, and
    the proposal keeps waiting for its push: no back-off loop and no timeline entry per proposal."""
    now = timezone.now()
    exc = _archived_project(exc)
    if isinstance(exc, client.ConnectionBlocked):
        block_connection(exc)
        SyncState.objects.filter(proposal_id=proposal_id).update(
            last_error=exc.message[:2000], last_error_at=now, next_attempt_at=None
        )
        log.warning("GitLab sync stopped: %s", exc.message)
        return 0.0
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
        Activity.objects.record(
            Proposal(pk=proposal_id),
            kind=Activity.Kind.SYNC,
            message=f"GitLab sync failed: {exc.message}",
            data={"status": exc.status, "permanent": permanent},
        )
    log.warning("GitLab sync of proposal %s failed (attempt %s): %s", proposal_id, attempts, exc.message)
    return delay
