from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from proposals import access
from proposals.models import TEXT_MAX_LENGTH, Proposal

User = settings.AUTH_USER_MODEL

# "Due soon": the digest reminds of reviews due within this many days, and the queue filters by it.
DUE_SOON_DAYS = 2


def answer_sha256(text: str) -> str:
    """The fingerprint a sign-off is bound to: exactly the answer text, byte for byte."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_reviewer_group() -> int:
    """A new ORR area is served by the `reviewer` role's group until someone chooses another."""
    return Group.objects.get_or_create(name=access.REVIEWERS)[0].pk


class OrrArea(models.Model):
    """One of the five Operational Requirements Review areas."""

    key = models.SlugField(max_length=40, unique=True)
    number = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=200)
    guidance = models.TextField(help_text="The template's text for this area, shown to authors and reviewers.")
    reviewer_group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        default=default_reviewer_group,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Everyone in this group reviews the area; a review may also be assigned to one of them by name.",
    )
    lead = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_orr_areas",
        help_text="Receives the area's overdue reviews (escalation).",
    )
    service_level_days = models.PositiveSmallIntegerField(
        default=5, help_text="Days a review in this area may take before it is overdue."
    )
    slack_webhook_url = models.URLField(
        blank=True, max_length=500, help_text="Optional Slack incoming webhook that receives this area's events."
    )
    reviewers = models.ManyToManyField(
        User,
        blank=True,
        related_name="named_orr_areas",
        help_text="People who review this area by name, besides (or instead of) the reviewer group.",
    )

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    def names_reviewer(self, user) -> bool:
        """Is `user` one of the area's named reviewers? Read by `access.serves_area`."""
        return user is not None and user.pk is not None and self.reviewers.filter(pk=user.pk).exists()


class OrrAreaChange(models.Model):
    """The ORR setup's timeline: who changed which setting of an area, from what to what. Never edited."""

    area = models.ForeignKey(OrrArea, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    field = models.CharField(max_length=40)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.changed_by} changed {self.field} of {self.area}"


class ReviewQuerySet(models.QuerySet):
    def for_reviewer(self, user) -> ReviewQuerySet:
        """Reviews this person may decide: assigned to them by name, or to a group they are in.

        Never their own proposals: separation of duties.
        """
        if not access.is_signed_in(user):
            return self.none()
        reviews = (
            self.filter(
                Q(reviewer=user)
                | Q(reviewer__isnull=True, area__reviewer_group__in=user.groups.all())
                | Q(reviewer__isnull=True, area__reviewers=user)
            )
            .exclude(proposal__owner=user)
            .exclude(proposal__co_authors=user)
            .distinct()
        )
        if not (access.is_admin(user) or access.is_reviewer(user)):
            reviews = reviews.exclude(proposal__confidential=True)  # as access.may_decide: readers only
        return reviews

    def waiver_expired(self, today) -> ReviewQuerySet:
        """Not-applicable reviews whose waiver ran out before `today` (the query twin of `effective_status`)."""
        return self.filter(status=Review.Status.NOT_APPLICABLE, current_decision__waiver_expires_on__lt=today)

    def waiting(self) -> ReviewQuerySet:
        return self.filter(status__in=Review.WAITING, proposal__state__in=Review.OPEN_PROPOSAL_STATES)

    def with_last_seen(self, user) -> ReviewQuerySet:
        """Annotate what changed since this person last opened the review: answer edits and new comments."""
        seen = ReviewSeen.objects.filter(review=OuterRef("pk"), user=user).values("seen_at")[:1]
        return self.annotate(last_seen_at=Subquery(seen)).annotate(
            answer_changed_since_seen=ExpressionWrapper(
                Q(answer_updated_at__gt=Coalesce("last_seen_at", "assigned_at")), output_field=models.BooleanField()
            ),
            new_comments=Exists(
                ReviewComment.objects.filter(
                    review=OuterRef("pk"), created_at__gt=Coalesce(OuterRef("last_seen_at"), OuterRef("assigned_at"))
                ).exclude(author=user)
            ),
        )

    def with_author_answer(self) -> ReviewQuerySet:
        """Annotate whether the author answered a "changes requested" (`Review.author_answered`'s query twin)."""
        return self.annotate(
            author_answered_flag=ExpressionWrapper(
                Q(status=Review.Status.CHANGES_REQUESTED, current_decision__isnull=False)
                & (
                    Q(answer_updated_at__gt=F("current_decision__decided_at"))
                    | Exists(
                        ReviewComment.objects.filter(
                            review=OuterRef("pk"),
                            author=OuterRef("proposal__owner"),
                            created_at__gt=OuterRef("current_decision__decided_at"),
                        )
                    )
                ),
                output_field=models.BooleanField(),
            )
        )

    def for_queue(self) -> ReviewQuerySet:
        """Only the columns the queue shows: answers and proposal texts stay in the database."""
        return self.select_related("proposal", "proposal__owner", "area").only(
            "status",
            "assigned_at",
            "due_on",
            "answer_updated_at",
            "proposal__title",
            "proposal__state",
            "proposal__confidential",
            "proposal__owner__username",
            "area__number",
            "area__title",
        )


# A "changes requested" review, as the reviewer's queue and the author's answers page tell it.
LOOP_STATUS_TEXT = {"waiting_for_author": "Waiting for author", "answered": "Answered"}


class Review(models.Model):
    """One proposal's review in one ORR area: the author's answer and where the review stands."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        NOT_APPLICABLE = "not_applicable", "Not applicable"
        STALE = "stale", "Stale"
        WAIVER_EXPIRED = "waiver_expired", "Waiver expired"

    # Statuses in which the area waits for a reviewer's decision.
    WAITING = (Status.IN_REVIEW, Status.STALE, Status.WAIVER_EXPIRED)
    # Statuses that count as signed off for the gates.
    SIGNED_OFF = (Status.APPROVED, Status.NOT_APPLICABLE)
    OPEN_PROPOSAL_STATES = (Proposal.State.IN_REVIEW, Proposal.State.APPROVED)

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    area = models.ForeignKey(OrrArea, on_delete=models.PROTECT, related_name="reviews")
    answer = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    reviewer = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviews",
        help_text="Assigned reviewer; empty means the area's reviewer group.",
    )
    current_decision = models.ForeignKey(
        "Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    answer_updated_at = models.DateTimeField(null=True, blank=True)
    answer_updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer_authors = models.ManyToManyField(
        User,
        blank=True,
        related_name="+",
        help_text="Everyone who ever wrote this answer: none of them decides this area (separation of duties).",
    )
    assigned_at = models.DateTimeField(null=True, blank=True, help_text="When the review last started waiting.")
    due_on = models.DateField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["area__number"]
        constraints = [models.UniqueConstraint(fields=["proposal", "area"], name="review_unique_per_area")]
        indexes = [models.Index(fields=["status", "due_on"], name="review_status_due")]

    def __str__(self) -> str:
        return f"{self.proposal} — {self.area.title}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:detail", args=[self.pk])

    @property
    def answer_sha256(self) -> str:
        return answer_sha256(self.answer)

    def answer_written_by(self, user) -> bool:
        """Did `user` write (any version of) this answer? Read by `access.wrote_answer`."""
        if user is None or user.pk is None:
            return False
        return self.answer_updated_by_id == user.pk or self.answer_authors.filter(pk=user.pk).exists()

    def effective_status(self, today=None) -> str:
        """The status as of `today`: a not-applicable waiver past its expiry date counts as expired
        before the daily task has stored that. The one place waiver expiry is decided."""
        decision = self.current_decision
        if (
            self.status == self.Status.NOT_APPLICABLE
            and decision is not None
            and decision.waiver_expires_on is not None
            and decision.waiver_expires_on < (today or timezone.localdate())
        ):
            return self.Status.WAIVER_EXPIRED
        return self.status

    def is_signed_off_on(self, today=None) -> bool:
        return self.effective_status(today) in self.SIGNED_OFF

    @property
    def is_signed_off(self) -> bool:
        return self.status in self.SIGNED_OFF

    @property
    def is_waiting(self) -> bool:
        return self.status in self.WAITING

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.is_waiting and self.due_on is not None and self.due_on < today

    @property
    def author_answered(self) -> bool:
        """After "changes requested": the author changed the answer or replied in the review's discussion.

        The area then waits for the author to resubmit it (one button), and the reviewer's queue says "answered".
        """
        annotated = self.__dict__.get("author_answered_flag")
        if annotated is not None:
            return bool(annotated)
        decision = self.current_decision
        if self.status != self.Status.CHANGES_REQUESTED or decision is None:
            return False
        if self.answer_updated_at is not None and self.answer_updated_at > decision.decided_at:
            return True
        return ReviewComment.objects.filter(
            review=self, author_id=self.proposal.owner_id, created_at__gt=decision.decided_at
        ).exists()

    @property
    def loop_status(self) -> str:
        """Where a "changes requested" stands, for queue and answers: waiting for the author, or answered."""
        if self.status != self.Status.CHANGES_REQUESTED:
            return self.status
        return "answered" if self.author_answered else "waiting_for_author"

    @property
    def loop_status_text(self) -> str:
        return LOOP_STATUS_TEXT.get(self.loop_status) or self.get_status_display()

    def is_reviewer(self, user) -> bool:
        """Whether this person belongs to the area's reviewers (uses the user's cached groups)."""
        return access.is_area_reviewer(user, self)

    def can_decide(self, user) -> bool:
        return access.may_decide(user, self)


class DecisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("A decision cannot be edited; record a new one that supersedes it.")

    def delete(self):
        raise TypeError("A decision cannot be deleted; record a new one that supersedes it.")


class Decision(models.Model):
    """A reviewer's decision on one review: immutable, bound to the exact answer it was made on.

    A later decision on the same review supersedes it; nothing edits or deletes it.
    """

    class Kind(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    class Source(models.TextChoices):
        WEB = "web", "Stagegate"
        GITLAB = "gitlab", "GitLab comment"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    comment = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="orr_decisions")
    decided_as_admin = models.BooleanField(
        default=False, help_text="Decided by an admin who is not one of the area's reviewers."
    )
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When the review had started waiting (its assigned_at then): the start of the decision's turnaround.
    waited_since = models.DateTimeField(null=True, blank=True, editable=False)
    answer_sha256 = models.CharField(max_length=64)
    answer_text = models.TextField(blank=True, help_text="The answer exactly as it was when decided.")
    waiver_expires_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    gitlab_note_id = models.BigIntegerField(null=True, blank=True)
    reason_internal = models.BooleanField(
        default=False,
        db_default=False,  # rows written without the ORM (the bench's COPY) are public decisions too
        help_text="Decided in one of GitLab's internal notes: the reason is shown only to those who may see them.",
    )

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "gitlab_note_id"],
                condition=Q(gitlab_note_id__isnull=False),
                name="decision_once_per_gitlab_note",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.decided_by} on {self.review}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("A decision cannot be edited; record a new one that supersedes it.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("A decision cannot be deleted; record a new one that supersedes it.")

    def reason_for(self, reader, proposal: Proposal) -> str:
        """The decision's reason as ``reader`` is shown it, on the pages, in the API and in notifications.

        A reviewer who decides in one of GitLab's internal notes (an `/orr` command there) wrote the reason
        for those GitLab shows that note to. The decision counts for everyone; its reason stays with those
        who may see internal notes (`access.may_see_internal_notes`): for the others it is "".
        """
        if self.reason_internal and not access.may_see_internal_notes(reader, proposal):
            return ""
        return self.comment


class ReviewComment(models.Model):
    """The discussion thread on one review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} on {self.review_id}: {self.body[:40]}"


class ReviewSeen(models.Model):
    """When a reviewer last opened a review, so their queue can say what changed since."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="review_seen_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user} saw {self.review_id} at {self.seen_at:%Y-%m-%d %H:%M}"


class GitLabAccount(models.Model):
    """Maps a Stagegate user to their GitLab account, so `/orr` comment commands know who spoke."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="gitlab_account")
    gitlab_username = models.CharField(max_length=255, unique=True)
    gitlab_user_id = models.BigIntegerField(null=True, blank=True, unique=True)

    def __str__(self) -> str:
        return f"@{self.gitlab_username}"


class Notification(models.Model):
    """An email (and optional Slack post) waiting to go out.

    Written in the same transaction as the event it tells about, so an outage of the
    mail server or the broker delays it and never loses it or blocks the event.
    """

    class Event(models.TextChoices):
        ASSIGNED = "assigned", "Review assigned"
        RESUBMITTED = "resubmitted", "Review resubmitted"
        DECIDED = "decided", "Decision"
        STALE = "stale", "Sign-off stale"
        WAIVER_EXPIRED = "waiver_expired", "Waiver expired"
        DIGEST = "digest", "Daily digest"
        ESCALATED = "escalated", "Overdue review escalated"
        COMMENT = "comment", "New comment"
        CONFIDENTIALITY = "confidentiality", "Confidentiality restored"
        AUTHORS = "authors", "Made an author"

    event = models.CharField(max_length=20, choices=Event.choices)
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    url = models.URLField(max_length=500)
    slack_webhook_url = models.URLField(blank=True, max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    slack_sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Keeps a digest or an escalation from going out twice when the daily task runs twice.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.subject

    @property
    def delivered(self) -> bool:
        return self.sent_at is not None and (not self.slack_webhook_url or self.slack_sent_at is not None)


class NotificationPreference(models.Model):
    """How one person wants to be told: e-mail and in-app (the bell), each on or off. No row: both on."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preference")
    email = models.BooleanField(default=True, help_text="Send me e-mail.")
    in_app = models.BooleanField(default=True, help_text="Show it under the bell in Stagegate.")

    def __str__(self) -> str:
        return f"{self.user}: e-mail {'on' if self.email else 'off'}, in-app {'on' if self.in_app else 'off'}"


class InAppNotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> InAppNotificationQuerySet:
        """This person's notifications about what they may still read (a proposal may have become confidential)."""
        visible = Proposal.objects.visible_to(user).values("pk")
        return self.filter(user=user).filter(Q(proposal__isnull=True) | Q(proposal__in=visible))

    def unread(self) -> InAppNotificationQuerySet:
        return self.filter(read_at__isnull=True)


class InAppNotification(models.Model):
    """One line under a person's bell, written with the e-mail it stands beside."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="in_app_notifications")
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=20)
    subject = models.CharField(max_length=255)
    url = models.URLField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = InAppNotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="inapp_user_unread")]

    def __str__(self) -> str:
        return self.subject


class Watch(models.Model):
    """Someone watching a proposal: told of its reviews' decisions, comments and changes like its reviewers."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watches")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="watches")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "proposal"], name="watch_once")]

    def __str__(self) -> str:
        return f"{self.user} watches {self.proposal}"
