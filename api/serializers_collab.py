"""The API's shapes for the discussion, the linked issues and the history (issue 15)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import _Page
from gitlab_sync.models import IssueComment, LinkedIssue
from proposals.models import FieldChange
from proposals.textdiff import inline_word_diff


class CommentSerializer(serializers.ModelSerializer):
    """One comment as its reader sees it: a deleted one keeps its place in the thread, without its text."""

    author_username = serializers.SerializerMethodField()
    author_name = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()
    posting = serializers.SerializerMethodField(help_text="Where a comment written in Stagegate is on GitLab.")
    written_in_stagegate = serializers.SerializerMethodField()
    yours = serializers.SerializerMethodField(help_text="True when you wrote it here: you may edit or delete it.")
    reply_to = serializers.IntegerField(source="in_reply_to_id", allow_null=True, read_only=True)

    class Meta:
        model = IssueComment
        fields = [
            "id",
            "discussion_id",
            "reply_to",
            "author_username",
            "author_name",
            "body",
            "internal",
            "posting",
            "written_in_stagegate",
            "yours",
            "deleted",
            "created_at",
            "updated_at",
        ]

    def get_deleted(self, comment: IssueComment) -> bool:
        return comment.deleted_at is not None

    def get_author_username(self, comment: IssueComment) -> str:
        return "" if comment.deleted_at else comment.author_username

    def get_author_name(self, comment: IssueComment) -> str:
        return "" if comment.deleted_at else comment.author_name

    def get_body(self, comment: IssueComment) -> str:
        return "" if comment.deleted_at else comment.body

    def get_posting(self, comment: IssueComment) -> str:
        """``from_gitlab``, ``pending``, ``posted`` or ``failed``."""
        return comment.posting or "from_gitlab"

    def get_written_in_stagegate(self, comment: IssueComment) -> bool:
        return comment.written_by_id is not None

    def get_yours(self, comment: IssueComment) -> bool:
        viewer = self.context.get("viewer")
        return bool(viewer and comment.written_by_id and comment.written_by_id == viewer.pk)


class ThreadSerializer(serializers.Serializer):
    """A thread: its first comment and the replies, oldest first."""

    discussion_id = serializers.CharField(
        source="head.discussion_id", help_text="GitLab's thread id ('' until posted)."
    )
    comments = CommentSerializer(many=True)


class CommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField(
        trim_whitespace=False, allow_blank=True, help_text="Markdown, as on GitLab; `@name` tells that person."
    )


class LinkedIssueSerializer(serializers.Serializer):
    """A linked issue as its reader may see it: a confidential issue's title only for project members."""

    id = serializers.IntegerField(source="link.pk")
    link_type = serializers.ChoiceField(source="link.link_type", choices=LinkedIssue.LinkType.choices)
    reference = serializers.CharField(source="link.reference")
    issue_iid = serializers.IntegerField(source="link.issue_iid")
    title = serializers.CharField()
    state = serializers.CharField(source="link.state")
    confidential = serializers.BooleanField(source="link.confidential")
    web_url = serializers.CharField(source="link.web_url")


class LinkAddSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=1000, help_text="`#12`, `12`, `group/project#12` or the issue's URL on Stagegate's GitLab."
    )
    link_type = serializers.ChoiceField(choices=LinkedIssue.LinkType.choices, default=LinkedIssue.LinkType.RELATES_TO)


class DiffRunSerializer(serializers.Serializer):
    op = serializers.ChoiceField(
        choices=[("=", "kept"), ("-", "removed"), ("+", "added"), ("…", "unchanged words left out")]
    )
    text = serializers.CharField()


class FieldChangeSerializer(serializers.ModelSerializer):
    """One change to one part of the proposal, with the text before and after."""

    label = serializers.SerializerMethodField(help_text="The part, in the page's words.")
    section_title = serializers.SerializerMethodField()
    person = serializers.CharField(source="actor_name")
    diff = serializers.SerializerMethodField(help_text="The history page's word-level diff from before to after.")

    class Meta:
        model = FieldChange
        fields = [
            "id",
            "field",
            "label",
            "section",
            "section_title",
            "before",
            "after",
            "diff",
            "person",
            "origin",
            "started_at",
            "changed_at",
        ]

    @extend_schema_field(DiffRunSerializer(many=True))
    def get_diff(self, change: FieldChange) -> list[dict]:
        return [{"op": op, "text": text} for op, text in inline_word_diff(change.before, change.after)]

    def get_label(self, change: FieldChange) -> str:
        return self.context["labels"](change.field)

    def get_section_title(self, change: FieldChange) -> str:
        return self.context["section_titles"].get(change.section, change.section)


class ThreadPageSerializer(_Page):
    results = ThreadSerializer(many=True)


class LinkedIssuePageSerializer(_Page):
    results = LinkedIssueSerializer(many=True)


class FieldChangePageSerializer(_Page):
    results = FieldChangeSerializer(many=True)
