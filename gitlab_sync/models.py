"""What Stagegate remembers about each proposal's GitLab issue, and what GitLab sent us."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from proposals.models import Proposal


class GitLabConnection(models.Model):
    """Health of the one configured GitLab project (URL and token come from settings)."""

    project_path = models.CharField(max_length=255, unique=True)
    project_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Reconcile lists issues updated after this GitLab timestamp.
    issues_watermark = models.DateTimeField(null=True, blank=True)
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Set on a 401: every push stops until an admin fixes the token and retries.
    auth_failed_at = models.DateTimeField(null=True, blank=True)
    # Set when GitLab refuses the connection as a whole (client.ConnectionBlocked): shown once to
    # admins; sync waits until an admin fixes the cause and resumes it.
    blocked_reason = models.CharField(max_length=20, blank=True)
    blocked_message = models.TextField(blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    # Read at each reconcile: the bot token's expiry and the state of the project's webhooks to us.
    token_expires_at = models.DateField(null=True, blank=True)
    hook_status = models.CharField(max_length=40, blank=True, help_text="GitLab's alert_status of our webhook.")
    health_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "GitLab connection"

    def __str__(self) -> str:
        return self.project_path

    TOKEN_WARNING_DAYS = 14

    def warnings(self, today) -> list[str]:
        """What admins should act on before sync stops: a token about to expire, a disabled webhook."""
        found = []
        if self.token_expires_at is not None:
            days = (self.token_expires_at - today).days
            if days <= self.TOKEN_WARNING_DAYS:
                when = "has expired" if days < 0 else f"expires in {days} day{'s' if days != 1 else ''}"
                found.append(f"The GitLab bot token {when} ({self.token_expires_at}): create a new one.")
        if self.hook_status and self.hook_status != "executable":
            found.append(
                f"GitLab has {self.hook_status.replace('_', ' ')} the webhook to Stagegate after failed deliveries: "
                "send a test delivery from the project's webhook settings to enable it; reconcile covers the gap."
            )
        return found

    @property
    def healthy(self) -> bool:
        return self.auth_failed_at is None and not self.blocked_reason


class SyncState(models.Model):
    """The outbox row and the issue link of one proposal.

    ``base_*`` is the last state both sides agreed on; three-way merges run
    against it and our own webhooks compare equal to it (echo detection).
    """

    class Status(models.TextChoices):
        SYNCED = "synced", "Synced"
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed"
        CONFLICT = "conflict", "Conflict"

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="sync_state")

    # The issue's project when it is not the configured one: the issue was moved there on GitLab.
    project_path = models.CharField(max_length=255, blank=True)
    issue_iid = models.PositiveIntegerField(null=True, blank=True)
    issue_id = models.PositiveBigIntegerField(null=True, blank=True)
    web_url = models.URLField(max_length=500, blank=True)
    create_started_at = models.DateTimeField(null=True, blank=True)
    link_broken = models.BooleanField(
        default=False, help_text="The issue was deleted, closed as a duplicate, or moved where the bot cannot read it."
    )

    local_version = models.PositiveIntegerField(default=0)
    pushed_version = models.PositiveIntegerField(default=0)
    needs_push = models.BooleanField(default=False, db_index=True)
    push_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # A 400/403/404: retrying will not help until someone acts.
    permanent_error = models.BooleanField(default=False)

    base_title = models.CharField(max_length=255, blank=True)
    base_fields = models.JSONField(default=dict, blank=True)
    base_labels = models.JSONField(default=list, blank=True)
    base_state = models.CharField(max_length=10, blank=True)
    base_confidential = models.BooleanField(default=False)
    base_hash = models.CharField(max_length=64, blank=True)
    # The issue body our last description write merged against, and what it wrote: our own webhook
    # then tells whether someone edited the issue between our read and our write.
    merged_against = models.JSONField(default=dict, blank=True)
    last_pushed_hash = models.CharField(max_length=64, blank=True)
    # Labels GitLab left off our write: the bot may not create them. Not sent again until one appears.
    refused_labels = models.JSONField(default=list, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    remote_state = models.CharField(max_length=10, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["issue_iid"])]

    def __str__(self) -> str:
        return f"sync of proposal {self.proposal_id}"

    @property
    def status(self) -> str:
        if self.permanent_error or (self.last_error and self.attempts >= 3):
            return self.Status.FAILED
        if self.needs_push or self.issue_iid is None:
            return self.Status.PENDING
        return self.Status.SYNCED

    @property
    def project(self) -> str | None:
        """The issue's project for the client: None for the configured project."""
        return self.project_path or None

    @property
    def closed_on_gitlab(self) -> bool:
        return self.remote_state == "closed"


class WebhookDelivery(models.Model):
    """One webhook request from GitLab, stored before it is processed."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    idempotency_key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=100, blank=True)
    object_kind = models.CharField(max_length=50, blank=True)
    action = models.CharField(max_length=50, blank=True)
    project_id = models.PositiveBigIntegerField(null=True, blank=True)
    issue_iid = models.PositiveIntegerField(null=True, blank=True)
    note_id = models.PositiveBigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=255, blank=True)
    payload_updated_at = models.CharField(max_length=40, blank=True)
    webhook_uuid = models.CharField(max_length=64, blank=True)
    event_uuid = models.CharField(max_length=64, blank=True)
    instance = models.CharField(max_length=255, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True, help_text="The payload, cut at 64 KB.")
    body_size = models.PositiveIntegerField(default=0)
    # What recovering an edit overwritten by our own write needs, kept whole however large the body
    # (an Issue Hook carries the description up to three times, Rails-escaped): the text our write
    # replaced, and the hash of what it wrote.
    description_changed = models.BooleanField(default=False)
    description_previous = models.TextField(blank=True)
    description_current_hash = models.CharField(max_length=64, blank=True)
    duplicates = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} #{self.issue_iid} ({self.status})"


class SyncConflict(models.Model):
    """A field changed both in Stagegate and on GitLab since the last sync."""

    class Resolution(models.TextChoices):
        KEEP_LOCAL = "local", "Kept Stagegate's text"
        TAKE_REMOTE = "remote", "Took GitLab's text"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="sync_conflicts")
    field = models.CharField(max_length=100)
    label = models.CharField(max_length=200, blank=True)
    base_value = models.JSONField(null=True, blank=True)
    local_value = models.JSONField(null=True, blank=True)
    remote_value = models.JSONField(null=True, blank=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True)

    class Meta:
        ordering = ["detected_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "field"], condition=Q(resolved_at__isnull=True), name="one_open_conflict_per_field"
            )
        ]

    def __str__(self) -> str:
        return f"conflict on {self.field} of proposal {self.proposal_id}"


class IssueComment(models.Model):
    """A comment on the proposal's GitLab issue, mirrored onto its timeline."""

    class Posting(models.TextChoices):
        FROM_GITLAB = "", "From GitLab"
        PENDING = "pending", "Waiting to be posted"
        POSTED = "posted", "Posted"
        FAILED = "failed", "Not posted"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="issue_comments")
    # None until a comment written in Stagegate is on GitLab.
    gitlab_note_id = models.PositiveBigIntegerField(unique=True, null=True, blank=True)
    # GitLab's thread: replies share it; a lone comment has one of its own.
    discussion_id = models.CharField(max_length=64, blank=True, db_index=True)
    # Written in Stagegate: who wrote it, and the marker its GitLab note carries (no double post).
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_marker = models.CharField(max_length=64, blank=True, db_index=True)
    # A reply written in Stagegate to a comment not yet on GitLab waits for that comment's thread.
    in_reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    posting = models.CharField(max_length=10, choices=Posting.choices, blank=True, default="")
    # An edit or a deletion made in Stagegate that GitLab has not taken yet.
    edit_pending = models.BooleanField(default=False)
    post_attempts = models.PositiveIntegerField(default=0)
    post_error = models.CharField(max_length=500, blank=True)
    author_username = models.CharField(max_length=255)
    author_name = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.gitlab_note_id} by {self.author_username}"


# --- Linked issues, designs and the discussion (issue 15) --------------------------------------


class IssueCollabState(models.Model):
    """When the issue's links and designs were last read, and the newest system note seen then.

    GitLab writes a system note whenever a link or a design is added or removed, so a new system note
    is what makes the links and designs worth reading again.
    """

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="issue_collab")
    last_system_note_id = models.PositiveBigIntegerField(default=0)
    links_read_at = models.DateTimeField(null=True, blank=True)
    designs_read_at = models.DateTimeField(null=True, blank=True)
    designs_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"links and designs of proposal {self.proposal_id}"


class LinkedIssue(models.Model):
    """One of the issue's linked items (``GET /projects/:id/issues/:iid/links``), as the bot reads it."""

    class LinkType(models.TextChoices):
        RELATES_TO = "relates_to", "relates to"
        BLOCKS = "blocks", "blocks"
        IS_BLOCKED_BY = "is_blocked_by", "is blocked by"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="linked_issues")
    link_id = models.PositiveBigIntegerField()
    link_type = models.CharField(max_length=20, choices=LinkType.choices, default=LinkType.RELATES_TO)
    issue_id = models.PositiveBigIntegerField()
    issue_iid = models.PositiveIntegerField()
    project_id = models.PositiveBigIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=300, blank=True, help_text="GitLab's full reference, group/project#iid.")
    title = models.CharField(max_length=255)
    state = models.CharField(max_length=10, blank=True)
    confidential = models.BooleanField(default=False)
    web_url = models.URLField(max_length=1000, blank=True)

    class Meta:
        ordering = ["link_type", "reference", "id"]
        constraints = [models.UniqueConstraint(fields=["proposal", "link_id"], name="one_row_per_issue_link")]

    def __str__(self) -> str:
        return f"{self.get_link_type_display()} {self.reference}"


class IssueDesign(models.Model):
    """One design in the issue's Design Management area (GraphQL ``designCollection``)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="issue_designs")
    gitlab_id = models.CharField(max_length=200)
    filename = models.CharField(max_length=255)
    full_path = models.CharField(max_length=1000, blank=True)
    image_url = models.URLField(max_length=2000, blank=True)
    thumbnail_url = models.URLField(max_length=2000, blank=True)
    position = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(
        null=True, blank=True, help_text="When its newest version was uploaded on GitLab."
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["proposal", "gitlab_id"], name="one_row_per_issue_design")]

    def __str__(self) -> str:
        return self.filename
