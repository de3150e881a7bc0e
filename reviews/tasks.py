"""Thin Celery tasks: load ids, call one function from reviews.services.

Bound to Stagegate's Celery app (not ``shared_task``) as the sync's tasks are, so enqueueing
never depends on which app a thread happens to hold as current.
"""

from __future__ import annotations

import datetime
from smtplib import SMTPException

from django.utils import timezone

from config.celery import app
from reviews import notifications, services


@app.task(
    name=notifications.SEND_TASK,
    autoretry_for=(OSError, SMTPException),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
)
def send_notification(notification_id: int) -> None:
    """A mail server or Slack that is down delays the notification; the task retries, the sweep catches the rest."""
    notifications.notification_deliver(notification_id=notification_id)


@app.task(name="reviews.tasks.send_pending_notifications")
def send_pending_notifications() -> int:
    """Every few minutes: send what an outage of the broker, mail server or Slack held back."""
    notifications.notifications_prune()
    sent = 0
    for notification_id in notifications.notifications_pending().values_list("pk", flat=True)[:500]:
        try:
            notifications.notification_deliver(notification_id=notification_id)
            sent += 1
        except (OSError, SMTPException):
            continue
    return sent


@app.task(name="reviews.tasks.daily_reviews")
def daily_reviews(today: str | None = None) -> dict:
    """Once a day: expire waivers, then remind reviewers of due and overdue reviews and escalate the overdue.

    `today` (ISO date) replays a missed day; by default it is the local date.
    """
    today = datetime.date.fromisoformat(today) if today else timezone.localdate()
    expired = services.reviews_expire_waivers(today=today)
    result = services.reviews_send_digest(today=today)
    return {"waivers_expired": len(expired), "digests": result.digests, "escalations": result.escalations}
