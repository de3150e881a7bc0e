from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from proposals.access import is_admin, is_reviewer, may_edit
from proposals.template import DEFAULT_VERSION, STAGE_LABELS, Stage, get_definition

User = settings.AUTH_USER_MODEL

TEXT_MAX_LENGTH = 20_000
TITLE_MAX_LENGTH = 255
# A timeline line names what happened; the whole text stays where it was written.
MESSAGE_MAX_LENGTH = 500


class Persona(models.Model):
    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=200, blank=True)
    handbook_url = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProposalQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProposalQuerySet:
        """The one place that decides who may see which proposal."""
        if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
            return self.none()
        if is_admin(user) or is_reviewer(user):
            return self
        return self.filter(Q(confidential=False) | _written_by(user))

    def editable_by(self, user) -> ProposalQuerySet:
        """The QuerySet twin of `access.may_edit`: the owner, the co-authors and admins."""
        if not user.is_authenticated:
            return self.none()
        if is_admin(user):
            return self
        return self.filter(_written_by(user))

    def for_list(self) -> ProposalQuerySet:
        return self.select_related("owner").with_unbacked_confidence()

    def with_unbacked_confidence(self) -> ProposalQuerySet:
        """Each proposal's `confidence_unbacked` flag, read in the same query (see `unbacked_confidence_q`)."""
        return self.annotate(confidence_unbacked=ExpressionWrapper(unbacked_confidence_q(), BooleanField()))

    def unbacked_confidence(self) -> ProposalQuerySet:
        return self.filter(unbacked_confidence_q())


def _written_by(user) -> Q:
    """Proposals this person owns or co-authors (a subquery, so a proposal is never listed twice)."""
    co_authored = Proposal.co_authors.through.objects.filter(user_id=user.pk).values("proposal_id")
    return Q(owner=user) | Q(pk__in=co_authored)


def unbacked_confidence_q() -> Q:
    """High confidence with no research link behind it: the one rule for "confidence without evidence".

    The list, the dashboard (its marker, count and filter) and the API all ask this; the approval gate
    asks for research behind any confidence, but the claim worth flagging early is "High".
    """
    research = ResearchLink.objects.filter(proposal=OuterRef("pk"))
    return Q(confidence=Proposal.Confidence.HIGH) & ~Exists(research)


def confidence_unbacked(proposal) -> bool:
    """The Python twin of `unbacked_confidence_q`, for one proposal already loaded (uses the annotation)."""
    annotated = getattr(proposal, "confidence_unbacked", None)
    if annotated is not None:
        return bool(annotated)
    # `.all()` reads prefetched research links when the caller prefetched them.
    return proposal.confidence == Proposal.Confidence.HIGH and not list(proposal.research_links.all())


class Proposal(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        CLOSED = "closed", "Closed"

    class Confidence(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    STAGE_CHOICES = [(stage.value, label) for stage, label in STAGE_LABELS.items()]

    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="proposals")
    # Co-authors edit like the owner; only the owner (or an admin) names them and hands the proposal over.
    co_authors = models.ManyToManyField(User, blank=True, related_name="co_authored_proposals")
    template_version = models.CharField(max_length=20, default=DEFAULT_VERSION)
    stage = models.CharField(max_length=20, choices=STAGE_CHOICES, default=Stage.EXPERIMENT.value)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)

    # Experiment
    user_problem = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    solution_hypothesis = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    assumptions = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    personas = models.TextField(
        blank=True, max_length=TEXT_MAX_LENGTH, help_text="Free text about who has this problem."
    )
    persona_tags = models.ManyToManyField(Persona, blank=True, related_name="proposals")
    proposal = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    success = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)

    # General Availability
    main_job_story = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    proposal_updates = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    problem_validation = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    business_objective = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    confidence = models.CharField(max_length=10, choices=Confidence.choices, blank=True)

    # Technical needs beyond the ORR areas (those live in reviews.Review)
    dependency_needs = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    legal_needs = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)

    confidential = models.BooleanField(default=False)
    labels = models.JSONField(default=list, blank=True)
    # Answers to fields that only other template versions have, by field name.
    extra_fields = models.JSONField(default=dict, blank=True)
    # Markdown blocks an import or a GitLab edit brought that the template has no place for.
    kept_blocks = models.JSONField(default=list, blank=True)

    version = models.PositiveIntegerField(default=1, help_text="Bumped on every save; guards concurrent edits.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "state"], name="proposal_stage_state"),
            models.Index(fields=["-updated_at", "-id"], name="proposal_recent"),
            # The dashboard asks on each visit which proposals are confidential and which its reader owns.
            models.Index(fields=["owner", "id"], condition=Q(confidential=True), name="proposal_confidential"),
            # The list's page count over what a reader may see, read from the index instead of the wide rows:
            # `visible_to` asks the owner, the flag and (for co-authors) the id, so all three are in it.
            models.Index(fields=["owner", "confidential"], include=["id"], name="proposal_visible_count"),
            # The dashboard's matrix sorted by title.
            models.Index(fields=["title", "id"], name="proposal_title"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("proposals:detail", args=[self.pk])

    @property
    def definition(self):
        return get_definition(self.template_version)

    def field_value(self, name: str) -> str:
        if hasattr(self, name) and name in {f.name for f in self._meta.get_fields()}:
            return getattr(self, name)
        return self.extra_fields.get(name, "")

    def is_editable_by(self, user) -> bool:
        return may_edit(user, self)


class Approval(models.Model):
    """Approval for General Availability: a decision of the working group (or an admin), never the author's.

    Recorded like an ORR decision: who, when, and exactly which content (the proposal's version and the
    SHA-256 of its Markdown as GitLab would show it). Never edited; a later approval adds a row.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="approvals")
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    proposal_version = models.PositiveIntegerField()
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-approved_at", "-id"]

    def __str__(self) -> str:
        return f"{self.proposal} approved by {self.approved_by} on {self.approved_at:%Y-%m-%d}"


class ResearchLink(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="research_links")
    title = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title or self.url


class Requirement(models.Model):
    """One line of "The user needs to be able to:"."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="requirements")
    text = models.CharField(max_length=1000)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class ChecklistItem(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="checklist_items")
    stage = models.CharField(max_length=20, choices=Proposal.STAGE_CHOICES)
    key = models.CharField(max_length=60)
    checked = models.BooleanField(default=False)
    # True when the app ticked it because the data says so (a field filled, a label present).
    checked_by_app = models.BooleanField(default=False)
    # GitLab's [~] (15.3+): the item does not apply. Kept so an edit here never turns it into [ ].
    inapplicable = models.BooleanField(default=False)
    checked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["stage", "position"]
        constraints = [models.UniqueConstraint(fields=["proposal", "stage", "key"], name="checklist_item_unique")]

    def __str__(self) -> str:
        return f"{self.stage}:{self.key}"

    @property
    def entry(self):
        checklist = self.proposal.definition.checklist(Stage(self.stage))
        for item in checklist.items if checklist else ():
            if item.key == self.key:
                return item
        return None


class ActivityQuerySet(models.QuerySet):
    def record(
        self,
        proposal: Proposal,
        *,
        kind: str,
        message: str,
        actor=None,
        data: dict | None = None,
        unless_within: timedelta | None = None,
        same: tuple[str, ...] = (),
    ) -> Activity | None:
        """Append one entry to the proposal's timeline: the one way entries are written.

        With ``unless_within``, nothing is written when the proposal's latest entry is of the
        same kind, by the same person, equal on the ``same`` keys of ``data`` and younger than
        that: autosave sends many saves a minute and the timeline keeps one line for them.
        """
        data = data or {}
        if unless_within is not None:
            latest = self.filter(proposal=proposal).order_by("-created_at", "-id").first()
            if (
                latest is not None
                and latest.kind == kind
                and latest.actor_id == (actor.pk if actor is not None else None)
                and all(latest.data.get(key) == data.get(key) for key in same)
                and timezone.now() - latest.created_at < unless_within
            ):
                return None
        return self.create(proposal=proposal, actor=actor, kind=kind, message=message[:MESSAGE_MAX_LENGTH], data=data)

    def update(self, **kwargs):
        raise TypeError("The activity timeline is append-only.")

    def delete(self):
        raise TypeError("The activity timeline is append-only.")


class Activity(models.Model):
    """The proposal's timeline: every change, decision and sync event, never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        CHECKLIST = "checklist", "Checklist"
        REQUIREMENT = "requirement", "Requirement"
        RESEARCH = "research", "Research link"
        STATE = "state", "State change"
        REVIEW = "review", "Review"
        COMMENT = "comment", "Comment"
        SYNC = "sync", "GitLab sync"
        CONFLICT = "conflict", "Conflict"

    # PROTECT: a proposal is never deleted with its timeline (close it instead).
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="activities")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=MESSAGE_MAX_LENGTH)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["proposal", "-created_at"], name="activity_proposal_recent"),
            models.Index(fields=["kind", "created_at"], name="activity_kind_created"),
        ]

    def __str__(self) -> str:
        return self.message

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("The activity timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The activity timeline is append-only.")


# --- History, search, saved views (issue 15) ------------------------------------------------------


class FieldChangeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The field history is append-only.")

    def delete(self):
        raise TypeError("The field history is append-only.")


class FieldChange(models.Model):
    """One change to one part of a proposal, with the text before and after: the proposal's history.

    Append-only, with one exception readers never see as a rewrite: autosave's burst of saves by one
    person to one part within `proposals.history.COALESCE_WINDOW` extends the newest row (its ``after``
    and ``changed_at``) instead of adding a row per keystroke (see `proposals.history`).
    """

    class Origin(models.TextChoices):
        WEB = "web", "Stagegate"
        API = "api", "API"
        ADMIN = "admin", "Django admin"
        GITLAB = "gitlab", "GitLab"
        IMPORT = "import", "Import"
        SYSTEM = "system", "Stagegate (automatic)"

    # PROTECT: a proposal is never deleted with its history.
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="field_changes")
    field = models.CharField(max_length=120, help_text="The content key: title, field:<name>, orr:<area>, …")
    section = models.CharField(max_length=60, db_index=True)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who, in words: the person's username, or the GitLab user for a change made on GitLab.
    actor_name = models.CharField(max_length=255, blank=True)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.WEB)
    started_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    objects = FieldChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["proposal", "-changed_at", "-id"], name="fieldchange_proposal_recent"),
            models.Index(fields=["proposal", "field", "-changed_at"], name="fieldchange_proposal_field"),
        ]

    def __str__(self) -> str:
        return f"{self.field} of {self.proposal_id} by {self.actor_name or 'someone'}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("extending_burst", False):
            raise TypeError("The field history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The field history is append-only.")


class ProposalSeen(models.Model):
    """When a person last read a proposal: "what changed since I last looked" starts there."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="proposal_seen_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.proposal_id} at {self.seen_at:%Y-%m-%d %H:%M}"


class SearchEntry(models.Model):
    """One searchable part of a proposal (a field, an ORR answer, a requirement, a comment, …).

    Kept in step by `proposals.search.search_index_proposal`, which the writers' `proposal_changed`
    triggers. On PostgreSQL ``vector`` holds the part's tsvector (GIN-indexed); elsewhere it stays
    empty and search falls back to matching ``text``.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="search_entries")
    part = models.CharField(max_length=120)
    label = models.CharField(max_length=255)
    text = models.TextField()
    weight = models.CharField(max_length=1, default="B")
    vector = SearchVectorField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["proposal", "part"], name="searchentry_proposal_part")]

    def __str__(self) -> str:
        return f"{self.label} of {self.proposal_id}"


class SavedView(models.Model):
    """A person's named filters of the proposal list or the dashboard: the page and its query string."""

    class Page(models.TextChoices):
        PROPOSALS = "proposals:list", "Proposals"
        DASHBOARD = "dashboard:index", "Dashboard"

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    page = models.CharField(max_length=40, choices=Page.choices)
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "page", "name"], name="saved_view_unique_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse(self.page) + (f"?{self.query}" if self.query else "")
