"""The GitLab connection's health, and the per-proposal lock every exchange with GitLab holds."""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone

from gitlab_sync import client
from gitlab_sync.models import GitLabConnection

log = logging.getLogger(__name__)


def sync_enabled() -> bool:
    return bool(settings.GITLAB_URL and settings.GITLAB_TOKEN and settings.GITLAB_PROJECT)


class LockBusy(Exception):
    """Another worker is syncing this proposal right now."""


@functools.cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


@contextmanager
def proposal_lock(proposal_id: int, *, wait: float = 0.0):
    """Serialise everything that talks to GitLab about one proposal, across workers and hosts."""
    # Outlives the task's hard time limit, so a lock is only ever lost with its worker.
    timeout = getattr(settings, "GITLAB_SYNC_LOCK_TIMEOUT", settings.CELERY_TASK_TIME_LIMIT + 30)
    # Keyed by database too: two Stagegates (or test runs) sharing one Redis have the same proposal ids.
    key = f"stagegate:gitlab-sync:{db_connection.settings_dict['NAME']}:{proposal_id}"
    lock = redis_client(settings.REDIS_URL).lock(key, timeout=timeout, blocking_timeout=wait)
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


# Set inside `known_healthy`: the connection's health was read once for a whole walk over issues.
_known_healthy: ContextVar[bool] = ContextVar("gitlab_known_healthy", default=False)


@contextmanager
def known_healthy():
    """Check the connection once for everything inside (a reconcile walking many issues), not per issue.
    A token GitLab stops accepting meanwhile still fails the walk at its next API call."""
    ensure_healthy()
    token = _known_healthy.set(True)
    try:
        yield
    finally:
        _known_healthy.reset(token)


def ensure_healthy() -> None:
    if not sync_enabled():
        raise client.SyncDisabled("GitLab sync is not configured.")
    if _known_healthy.get():
        return
    conn = GitLabConnection.objects.filter(project_path=settings.GITLAB_PROJECT).first()
    if conn is not None and conn.auth_failed_at is not None:
        raise client.AuthenticationFailed("GitLab rejected the bot token; fix it and press “retry now”.", status=401)
    if conn is not None and conn.blocked_reason:
        raise client.ConnectionBlocked(conn.blocked_message, reason=conn.blocked_reason)


def note_success(project_id: int | None = None) -> None:
    """An exchange with GitLab went through. ``project_id``: the configured project's id, as an answer
    about one of its issues gave it; webhooks of any other project are ignored by it. Never the id of
    another project (an issue followed there after a move), or the configured project's own webhooks
    would be taken for another's."""
    changes: dict[str, Any] = {"last_success_at": timezone.now()}
    if project_id:
        changes["project_id"] = project_id
    GitLabConnection.objects.filter(pk=connection().pk).update(**changes)


HEALTH_CHECK_EVERY = timedelta(hours=1)


def check_health() -> None:
    """Read the project's id, and the bot token's expiry and our webhook's state for the admins'
    warnings, at most hourly. Older GitLab versions lack the token endpoint, and a bot below Maintainer
    may not list hooks: skipped then."""
    now = timezone.now()
    checked = connection().health_checked_at
    if checked is not None and now - checked < HEALTH_CHECK_EVERY:
        return
    changes: dict[str, Any] = {"health_checked_at": now}
    # The configured project's id, from GitLab itself: it mends an id stored from another project's answer.
    project_id = client.get_project().get("id")
    if project_id:
        changes["project_id"] = project_id
    try:
        expires_at = client.token_self().get("expires_at")
        changes["token_expires_at"] = datetime.fromisoformat(expires_at).date() if expires_at else None
    except (client.IssueNotFound, client.PermanentGitLabError):
        pass
    try:
        ours = [hook for hook in client.list_hooks() if "/gitlab/webhook" in (hook.get("url") or "")]
        changes["hook_status"] = next(
            (h.get("alert_status") for h in ours if h.get("alert_status") != "executable"),
            "executable" if ours else "",
        )
    except (client.IssueNotFound, client.PermanentGitLabError):
        pass
    GitLabConnection.objects.filter(pk=connection().pk).update(**changes)


def parse_time(value: str | None):
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def auth_failed() -> bool:
    """GitLab refused the bot token, or the connection as a whole: everything waits until an admin
    fixes it and resumes."""
    return (
        GitLabConnection.objects.filter(project_path=settings.GITLAB_PROJECT)
        .filter(Q(auth_failed_at__isnull=False) | ~Q(blocked_reason=""))
        .exists()
    )


def resume() -> None:
    """An admin fixed what stopped the connection (token, project, URL, spam check): sync again."""
    GitLabConnection.objects.filter(project_path=settings.GITLAB_PROJECT).update(
        auth_failed_at=None, blocked_reason="", blocked_message="", blocked_at=None
    )
