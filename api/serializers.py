"""What the API reads and writes. Writes are validated here and by the pages' own forms, then done by services."""

from __future__ import annotations

from rest_framework import serializers

from gitlab_sync.models import SyncConflict
from proposals.models import ChecklistItem, Proposal, Requirement, ResearchLink, confidence_unbacked
from proposals.template import DEFINITIONS
from proposals.views_import import MAX_CHARACTERS
from reviews.models import Decision, Review


class ProposalSummarySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    confidence = serializers.ChoiceField(
        choices=[("", "Not set"), *Proposal.Confidence.choices], read_only=True, help_text='"" while not set.'
    )
    url = serializers.SerializerMethodField()
    confidence_unbacked = serializers.SerializerMethodField(
        help_text="High confidence with no research link behind it (the list's and dashboard's marker)."
    )

    class Meta:
        model = Proposal
        fields = [
            "id",
            "title",
            "owner",
            "stage",
            "state",
            "confidence",
            "confidential",
            "labels",
            "version",
            "created_at",
            "updated_at",
            "url",
            "confidence_unbacked",
        ]
        read_only_fields = fields

    def get_url(self, proposal: Proposal) -> str:
        return self.context["request"].build_absolute_uri(proposal.get_absolute_url())

    def get_confidence_unbacked(self, proposal: Proposal) -> bool:
        return confidence_unbacked(proposal)


class SectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    stage = serializers.CharField()
    values = serializers.DictField(help_text="The section's fields by name, as the edit page shows them.")
    base = serializers.CharField(help_text="Fingerprint of these values; send it back with the version when saving.")


class ChecklistItemSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistItem
        fields = ["id", "stage", "key", "text", "checked", "checked_by_app", "checked_at"]
        read_only_fields = fields

    def get_text(self, item: ChecklistItem) -> str:
        entry = item.entry
        return entry.text if entry else item.key


class RequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Requirement
        fields = ["id", "text", "position"]
        read_only_fields = ["id", "position"]


class ResearchLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResearchLink
        fields = ["id", "url", "title", "position"]
        read_only_fields = ["id", "position"]

    def validate_url(self, url: str) -> str:
        if not url.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError("Enter an http or https address.")
        return url


class ReviewSummarySerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area.key", read_only=True)
    area_title = serializers.CharField(source="area.title", read_only=True)
    proposal = serializers.IntegerField(source="proposal_id", read_only=True)
    proposal_title = serializers.CharField(source="proposal.title", read_only=True)
    reviewer = serializers.CharField(source="reviewer.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Review
        fields = [
            "id",
            "proposal",
            "proposal_title",
            "area",
            "area_title",
            "status",
            "reviewer",
            "assigned_at",
            "due_on",
            "updated_at",
        ]
        read_only_fields = fields


class SubmittedReviewSerializer(ReviewSummarySerializer):
    """A review just submitted, with the people who were told about it (empty: nobody could be)."""

    told = serializers.SerializerMethodField()

    class Meta(ReviewSummarySerializer.Meta):
        fields = [*ReviewSummarySerializer.Meta.fields, "told"]
        read_only_fields = fields

    def get_told(self, review) -> list[str]:
        return sorted(self.context["told"].get(review.pk, []))


class DecisionSerializer(serializers.ModelSerializer):
    """Needs ``request`` in its context: the reason shown depends on who reads (`Decision.reason_for`)."""

    decided_by = serializers.CharField(source="decided_by.username", read_only=True)
    comment = serializers.SerializerMethodField(
        help_text="The reason; empty for a reader who may not see GitLab's internal notes when it was given in one."
    )
    reason_internal = serializers.BooleanField(
        read_only=True, help_text="Decided in one of GitLab's internal notes: the reason is for those who see them."
    )

    class Meta:
        model = Decision
        fields = [
            "id",
            "kind",
            "comment",
            "reason_internal",
            "decided_by",
            "decided_as_admin",
            "decided_at",
            "answer_sha256",
            "waiver_expires_on",
            "source",
        ]
        read_only_fields = fields

    def get_comment(self, decision: Decision) -> str:
        # The review (and its proposal) come with the decision: prefetched from the review, or just decided.
        return decision.reason_for(self.context["request"].user, decision.review.proposal)


class ReviewDetailSerializer(ReviewSummarySerializer):
    answer_sha256 = serializers.CharField(read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta(ReviewSummarySerializer.Meta):
        fields = [*ReviewSummarySerializer.Meta.fields, "answer", "answer_sha256", "decisions"]
        read_only_fields = fields


class ProposalDetailSerializer(ProposalSummarySerializer):
    co_authors = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="username", help_text="They edit the proposal like its owner."
    )
    watchers = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Who is told of its decisions and comments."
    )
    sections = SectionSerializer(many=True, read_only=True)
    checklist = ChecklistItemSerializer(many=True, read_only=True, source="checklist_items")
    requirements = RequirementSerializer(many=True, read_only=True)
    research_links = ResearchLinkSerializer(many=True, read_only=True)
    reviews = ReviewSummarySerializer(many=True, read_only=True)
    editable = serializers.BooleanField(read_only=True)

    class Meta(ProposalSummarySerializer.Meta):
        fields = [
            *ProposalSummarySerializer.Meta.fields,
            "template_version",
            "editable",
            "co_authors",
            "watchers",
            "sections",
            "checklist",
            "requirements",
            "research_links",
            "reviews",
        ]
        read_only_fields = fields


# --- requests ------------------------------------------------------------------------------------


class ProposalCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    confidential = serializers.BooleanField(default=False)


class SectionSaveSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    base = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        help_text="The section's `base` from when it was read. Without it, any newer version is a conflict.",
    )
    values = serializers.DictField(help_text="Only the fields to change, by name; the others stay as they are.")


class SectionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField()
    submitted = serializers.DictField()
    version = serializers.IntegerField()
    base = serializers.CharField()


class ChecklistToggleSerializer(serializers.Serializer):
    checked = serializers.BooleanField()


class DecisionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Decision.Kind.choices)
    comment = serializers.CharField(max_length=20_000, required=False, default="", allow_blank=True)
    answer_sha256 = serializers.CharField(
        max_length=64,
        help_text="`answer_sha256` of the answer you read (GET the review); refused when the answer changed since.",
        error_messages={
            "required": "Send answer_sha256, the hash of the answer you read (GET the review): a decision is bound "
            "to the answer it was made on.",
        },
    )
    waiver_expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class AnswerSaveSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=20_000, allow_blank=True, trim_whitespace=False)
    base_sha256 = serializers.CharField(max_length=64, help_text="`answer_sha256` of the answer you edited.")


class AnswerConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.CharField()
    current_sha256 = serializers.CharField()
    submitted = serializers.CharField()


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField(), required=False)


class RequirementEditSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1000, help_text="The requirement's new text; it keeps its place.")


class RowMoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class TemplateMoveSerializer(serializers.Serializer):
    version = serializers.ChoiceField(choices=sorted(DEFINITIONS), help_text="The template version to move to.")


class TemplateMovePreviewFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(help_text="The answer the field would hold after the move (lists one a line).")


class TemplateMovePreviewSectionSerializer(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    fields = TemplateMovePreviewFieldSerializer(many=True)


class KeptBlockSerializer(serializers.Serializer):
    after = serializers.CharField(allow_blank=True, help_text="The heading it stood after (empty: the top).")
    markdown = serializers.CharField(allow_blank=True)


class TemplateMovePreviewSerializer(serializers.Serializer):
    version = serializers.CharField()
    target = serializers.CharField(help_text="The target template's name.")
    same = serializers.BooleanField(help_text="The proposal already follows this version: nothing would change.")
    sections = TemplateMovePreviewSectionSerializer(many=True)
    kept_blocks = KeptBlockSerializer(many=True, help_text="Text the target version has no place for, kept.")


class SyncConflictSerializer(serializers.ModelSerializer):
    base_value = serializers.JSONField(read_only=True, help_text="The text both sides started from.")
    local_value = serializers.JSONField(read_only=True, help_text="Stagegate's text.")
    remote_value = serializers.JSONField(read_only=True, help_text="GitLab's text.")
    resolution = serializers.CharField(read_only=True, help_text='`local` or `remote` once resolved, "" while open.')

    class Meta:
        model = SyncConflict
        fields = ["id", "field", "label", "base_value", "local_value", "remote_value", "detected_at", "resolution"]
        read_only_fields = fields


class ConflictResolveSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=SyncConflict.Resolution.choices)
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=20_000,
        help_text="An edited text to keep instead of either side's (a text field's conflict only).",
    )


class MarkdownImportSerializer(serializers.Serializer):
    markdown = serializers.CharField(
        max_length=MAX_CHARACTERS, trim_whitespace=False, help_text="The issue description, from any template version."
    )
    title = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="The issue's title."
    )


class ImportReportSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="The template version the issue was written from.")
    template = serializers.CharField()
    found = serializers.ListField(child=serializers.CharField(), help_text="Fields with an answer.")
    empty = serializers.ListField(child=serializers.CharField(), help_text="Fields whose section is unanswered.")
    missing = serializers.ListField(child=serializers.CharField(), help_text="Fields whose section is absent.")
    checked = serializers.IntegerField(help_text="Ticked checklist items.")
    orr_answers = serializers.ListField(child=serializers.CharField(), help_text="ORR areas answered.")
    kept_blocks = serializers.IntegerField(help_text="Blocks kept without a place in the template.")
    quick_actions = serializers.ListField(child=serializers.CharField())


class ImportResultSerializer(serializers.Serializer):
    proposal = ProposalDetailSerializer()
    report = ImportReportSerializer()


class OwnerTransferSerializer(serializers.Serializer):
    owner = serializers.CharField(max_length=150, help_text="Username of the new owner (an author or admin).")


class OwnerTransferredSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.CharField()
    readable = serializers.BooleanField(
        help_text="Whether you may still read it: a confidential proposal is its authors', reviewers' and admins'."
    )


class CoAuthorsSerializer(serializers.Serializer):
    co_authors = serializers.ListField(
        child=serializers.CharField(max_length=150),
        max_length=50,
        help_text="Usernames: exactly these people become the co-authors (authors or admins).",
    )


class WatchSerializer(serializers.Serializer):
    watching = serializers.BooleanField()
    watchers = serializers.IntegerField()


# --- dashboard -----------------------------------------------------------------------------------


class StageFiguresSerializer(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    total = serializers.IntegerField()
    by_state = serializers.DictField(child=serializers.IntegerField())
    by_confidence = serializers.DictField(child=serializers.IntegerField(), help_text='"" counts unset confidence.')
    moved_week = serializers.IntegerField()
    moved_month = serializers.IntegerField()


class BlockedProposalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class BlockedSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    proposals = BlockedProposalSerializer(many=True)


class StaleSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    proposals = serializers.IntegerField()
    reviews = serializers.IntegerField()


class SpreadSerializer(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()
    median_days = serializers.FloatField(allow_null=True)
    p90_days = serializers.FloatField(allow_null=True)


class ReviewerLoadSerializer(serializers.Serializer):
    reviewer = serializers.CharField()
    open_reviews = serializers.IntegerField()


class SyncFiguresSerializer(serializers.Serializer):
    installed = serializers.BooleanField()
    enabled = serializers.BooleanField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    proposals = serializers.IntegerField(help_text="Proposals the filters select, of those you may see.")
    unbacked_confidence = serializers.IntegerField(
        help_text="Of those, how many claim High confidence with no research link."
    )
    stages = StageFiguresSerializer(many=True)
    ga_blocked = BlockedSerializer()
    stale = StaleSerializer()
    time_in_stage = SpreadSerializer(many=True, allow_null=True)
    review_waits = SpreadSerializer(many=True)
    reviewer_load = ReviewerLoadSerializer(many=True)
    sync = SyncFiguresSerializer()


class ReviewFilterSerializer(serializers.Serializer):
    queue = serializers.BooleanField(required=False, default=False)
    proposal = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    area = serializers.SlugField(required=False, max_length=40)
    status = serializers.ChoiceField(required=False, choices=Review.Status.choices)


# --- pages of lists ------------------------------------------------------------------------------


class _Page(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class ProposalPageSerializer(_Page):
    results = ProposalSummarySerializer(many=True)


class ReviewPageSerializer(_Page):
    results = ReviewSummarySerializer(many=True)
