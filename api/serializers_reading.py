"""The API's shapes for what a reader of a proposal sees around it: its designs, its timeline and what
changed since they last looked."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import _Page
from proposals.models import Activity


class DesignSerializer(serializers.Serializer):
    """One design in the GitLab issue's Design Management area, as the proposal page shows it."""

    id = serializers.IntegerField(source="design.pk")
    filename = serializers.CharField(source="design.filename")
    image_url = serializers.CharField(source="design.image_url", help_text="The full image on GitLab ('' if none).")
    thumbnail_url = serializers.CharField(
        source="design.thumbnail_url", help_text="GitLab's 432×230 thumbnail ('' if none)."
    )
    gitlab_url = serializers.CharField(
        source="page", help_text="The design's page in the issue on GitLab (without a known issue URL: the image)."
    )
    updated_at = serializers.DateTimeField(
        source="design.updated_at", allow_null=True, help_text="When its newest version was uploaded on GitLab."
    )
    read_at = serializers.DateTimeField(
        allow_null=True, help_text="When Stagegate last read the issue's designs from GitLab: the list is as of then."
    )


class DesignPageSerializer(_Page):
    results = DesignSerializer(many=True)


class TimelineEntrySerializer(serializers.ModelSerializer):
    """One entry of the proposal's timeline, as the timeline page shows it."""

    kind_label = serializers.CharField(source="get_kind_display")
    person = serializers.SerializerMethodField(help_text="Who: a Stagegate user, a GitLab user, GitLab or Stagegate.")
    internal = serializers.SerializerMethodField(help_text="Copied from one of GitLab's internal notes.")

    class Meta:
        model = Activity
        fields = ["id", "kind", "kind_label", "message", "person", "internal", "created_at"]
        read_only_fields = fields

    def get_person(self, entry: Activity) -> str:
        return self.context["person_of"](entry)

    def get_internal(self, entry: Activity) -> bool:
        return self.context["is_internal_note"](entry)


class TimelinePageSerializer(_Page):
    results = TimelineEntrySerializer(many=True)


class PartChangeSerializer(serializers.Serializer):
    """One part of the proposal changed by others since the reader last looked: its text then and now."""

    field = serializers.CharField(help_text="The part's key, as in the history (`field:user_problem`, `orr:data`…).")
    label = serializers.CharField(help_text="The part, in the page's words.")
    section = serializers.CharField()
    section_title = serializers.SerializerMethodField()
    before = serializers.CharField(help_text="Its text when the reader last looked.")
    after = serializers.CharField(help_text="Its text now.")
    people = serializers.ListField(child=serializers.CharField(), help_text="Who changed it since (not the reader).")
    last_changed_at = serializers.DateTimeField()

    def get_section_title(self, change) -> str:
        return self.context["section_titles"].get(change.section, change.section)


class LastLookSerializer(serializers.Serializer):
    last_looked = serializers.DateTimeField(
        allow_null=True, help_text="When you last looked at the proposal (null: never; then nothing is new to you)."
    )
    changes = PartChangeSerializer(many=True)


class SeenSerializer(serializers.Serializer):
    last_looked = serializers.DateTimeField(help_text="Now: what changes from here on is new to you.")
    previous = serializers.DateTimeField(allow_null=True, help_text="When you had looked before (null: never).")
