"""Notifications: stored with the event they tell about, then sent by e-mail and to the area's Slack.

Every notification about a proposal reaches only people who may read it (`access.may_be_told`),
and a confidential proposal is never posted to a chat channel (`access.may_post_to_channel`).
A notification is written in the same transaction as its event, so an outage of the mail
server or the broker delays it and never loses it or blocks the event.
"""

from __future__ import annotations

import datetime
import logging
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from config.celery import app
from proposals import access
from proposals.models import Proposal
from reviews.models import InAppNotification, Notification, NotificationPreference, Review, Watch
from reviews.slack import post_to_slack

logger = logging.getLogger(__name__)

# Enqueued by name: reviews.tasks imports this module.
SEND_TASK = "reviews.tasks.send_notification"
# The sweep stops retrying a notification after this many attempts (its error stays on the row).
MAX_ATTEMPTS = 20
# Delivered notifications are kept this long for the admin's view, then removed by the sweep.
NOTIFICATION_RETENTION = timedelta(days=90)


SUBJECT_PREFIX = "[Stagegate] "
SUBJECT_MAX_LENGTH = Notification._meta.get_field("subject").max_length


def notification_subject(text: str) -> str:
    """The one place a subject is made from user text: one line, no control characters, and short enough.

    Mail headers refuse line breaks and `Notification.subject` holds 255 characters, so a proposal
    title of any accepted length (or an area title with odd characters) must never break a notification.
    """
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    cleaned = " ".join(cleaned.split())
    room = SUBJECT_MAX_LENGTH - len(SUBJECT_PREFIX)
    if len(cleaned) > room:
        cleaned = cleaned[: room - 1].rstrip() + "…"
    return SUBJECT_PREFIX + cleaned


# Events a proposal's watchers hear of besides its reviewers (assignments and reminders are the reviewers' own).
WATCHED_EVENTS = {
    Notification.Event.DECIDED,
    Notification.Event.COMMENT,
    Notification.Event.STALE,
    Notification.Event.RESUBMITTED,
    Notification.Event.WAIVER_EXPIRED,
}


def _preferences(users) -> dict[str, set[int]]:
    """Who turned e-mail or in-app notifications off, among `users` (no preference row: both on)."""
    rows = NotificationPreference.objects.filter(user__in=[user.pk for user in users if user.pk])
    return {
        "email": {row.user_id for row in rows if not row.email},
        "in_app": {row.user_id for row in rows if not row.in_app},
    }


def _tell_in_app(users, *, event: str, subject: str, url: str, proposal) -> None:
    """One line under each person's bell; same subject rules as the e-mail (`notification_subject`)."""
    line = notification_subject(subject).removeprefix(SUBJECT_PREFIX)
    InAppNotification.objects.bulk_create(
        [
            InAppNotification(user=user, proposal=proposal, event=event, subject=line, url=url)
            for user in {user.pk: user for user in users if user.pk}.values()
        ]
    )


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _emails(users) -> list[str]:
    return sorted({user.email for user in users if user is not None and user.email})


def _enqueue(notification_id: int) -> None:
    try:
        # No publish retries: with the broker down the request must not wait; the sweep sends it later.
        app.signature(SEND_TASK, args=(notification_id,)).apply_async(retry=False)
    except Exception:  # noqa: BLE001 - a broker outage delays mail, never the decision
        logger.warning("Could not enqueue notification %s; the periodic sweep will send it", notification_id)


def notify(
    *,
    event: str,
    users,
    subject: str,
    lines: list[str],
    url: str,
    proposal: Proposal | None = None,
    review: Review | None = None,
    slack: bool = True,
    dedupe_key: str | None = None,
    by=None,
    lines_for: Callable[[Any], list[str]] | None = None,
) -> Notification | None:
    """Store an e-mail (and the area's Slack post) to send once the surrounding transaction commits.

    `proposal` (or the review's) is what the notification tells about: only its readers are told.
    A notification about no single proposal (the digest) must be built from what each person may read.
    `lines_for(person)`: the e-mail's lines when they differ by reader (a reason some may not see); the
    people reading the same lines share one e-mail. The Slack post (subject and link only) goes once.
    """
    proposal = proposal or (review.proposal if review is not None else None)
    users = [user for user in users if user is not None]
    if proposal is not None and event in WATCHED_EVENTS:
        told = {user.pk for user in users}
        users += [
            watch.user
            for watch in Watch.objects.filter(proposal=proposal).select_related("user")
            if watch.user_id not in told and watch.user_id != getattr(by, "pk", None)
        ]
    if proposal is not None:
        users = [user for user in users if access.may_be_told(user, proposal)]
    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    refused = _preferences(users)
    _tell_in_app(
        [user for user in users if user.pk not in refused["in_app"]],
        event=event,
        subject=subject,
        url=url,
        proposal=proposal,
    )
    mailed = [user for user in users if user.pk not in refused["email"]]
    slack_url = review.area.slack_webhook_url if (slack and review is not None) else ""
    if proposal is not None and not access.may_post_to_channel(proposal):
        slack_url = ""
    if lines_for is None:
        return _store(event, review, _emails(mailed), subject, lines, url, slack_url, dedupe_key)
    readers: dict[tuple[str, ...], list] = {}
    for user in mailed:
        readers.setdefault(tuple(lines_for(user)), []).append(user)
    stored = None
    for text, group in readers.items() or [(tuple(lines), [])]:
        key = dedupe_key if stored is None else None  # checked above; one row carries it
        notification = _store(event, review, _emails(group), subject, list(text), url, slack_url, key)
        if notification is not None:
            stored, slack_url = stored or notification, ""  # the channel hears of it once
    return stored


def _store(
    event: str,
    review: Review | None,
    recipients: list[str],
    subject: str,
    lines: list[str],
    url: str,
    slack_url: str,
    dedupe_key: str | None,
) -> Notification | None:
    if not recipients and not slack_url:
        return None
    body = render_to_string("reviews/email/notification.txt", {"lines": lines, "url": url})
    try:
        with transaction.atomic():  # a savepoint: a digest racing its twin loses quietly
            notification = Notification.objects.create(
                event=event,
                review=review,
                recipients=recipients,
                subject=notification_subject(subject),
                body=body,
                url=url,
                slack_webhook_url=slack_url,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue(notification.pk), robust=True)
    return notification


def notification_deliver(*, notification_id: int) -> bool:
    """Send one stored notification; True when everything it holds is out.

    Raises on a mail or Slack failure so the task retries; what was sent stays sent.
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.delivered:
            return True
        Notification.objects.filter(pk=notification.pk).update(attempts=notification.attempts + 1)
    try:
        if notification.sent_at is None:
            if notification.recipients:
                EmailMessage(
                    subject=notification.subject,
                    body=notification.body,
                    to=notification.recipients,
                ).send(fail_silently=False)
            Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now(), last_error="")
        if notification.slack_webhook_url and notification.slack_sent_at is None:
            post_to_slack(notification.slack_webhook_url, f"{notification.subject}\n{notification.url}")
            Notification.objects.filter(pk=notification.pk).update(slack_sent_at=timezone.now(), last_error="")
    except Exception as error:
        Notification.objects.filter(pk=notification.pk).update(last_error=str(error)[:500])
        raise
    return True


def notifications_pending(*, older_than: timedelta = timedelta(minutes=1)):
    """Notifications not yet out, for the periodic sweep (older ones only: fresh ones have a task on the way)."""
    unsent = Q(sent_at__isnull=True) | (Q(slack_sent_at__isnull=True) & ~Q(slack_webhook_url=""))
    return Notification.objects.filter(unsent, created_at__lte=timezone.now() - older_than, attempts__lt=MAX_ATTEMPTS)


def notifications_prune(*, now: datetime.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - NOTIFICATION_RETENTION
    stale = Notification.objects.filter(sent_at__lt=cutoff).filter(
        Q(slack_webhook_url="") | Q(slack_sent_at__isnull=False)
    )
    deleted, _ = stale.delete()
    return deleted


def on_proposal_authors_changed(sender, *, proposal: Proposal, new_owner, added_co_authors, by, **kwargs) -> None:
    """A proposal handed to someone, or co-authors named: each new author is told (not who did it)."""
    url = absolute_url(proposal.get_absolute_url())
    if new_owner is not None and new_owner.pk != getattr(by, "pk", None):
        notify(
            event=Notification.Event.AUTHORS,
            users=[new_owner],
            subject=f"{by} handed you the proposal “{proposal.title}”",
            lines=[f"{by} made you the owner of “{proposal.title}”. You now write it and answer for it."],
            url=url,
            proposal=proposal,
            slack=False,
        )
    added = [person for person in added_co_authors if person.pk != getattr(by, "pk", None)]
    if added:
        notify(
            event=Notification.Event.AUTHORS,
            users=added,
            subject=f"{by} made you a co-author of “{proposal.title}”",
            lines=[f"{by} made you a co-author of “{proposal.title}”: you can edit it like its owner."],
            url=url,
            proposal=proposal,
            slack=False,
        )
