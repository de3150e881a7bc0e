from django.contrib import admin

from proposals import history, search
from proposals.models import Activity, ChecklistItem, Persona, Proposal, Requirement, ResearchLink


class RequirementInline(admin.TabularInline):
    model = Requirement
    extra = 0


class ResearchLinkInline(admin.TabularInline):
    model = ResearchLink
    extra = 0


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    readonly_fields = ["checked_by", "checked_at", "checked_by_app"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "stage", "state", "confidence", "confidential", "updated_at"]
    list_filter = ["stage", "state", "confidence", "confidential", "template_version"]
    search_fields = ["title", "owner__username", "user_problem"]
    list_select_related = ["owner"]
    readonly_fields = ["version", "created_at", "updated_at"]
    filter_horizontal = ["persona_tags"]
    inlines = [RequirementInline, ResearchLinkInline, ChecklistItemInline]

    def has_delete_permission(self, request, obj=None):
        # A proposal is never deleted with its history and timeline: close it instead.
        return False

    # What the admin's form and inlines may change, as history names the parts.
    HISTORY_KEYS = (
        "title",
        "confidence",
        "labels",
        "confidential",
        "state",
        "stage",
        "template_version",
        "list:requirements",
        "research_links",
        "persona_tags",
    )

    def _history_keys(self, obj) -> list[str]:
        text = [
            f"field:{f.name}"
            for f in obj._meta.get_fields()
            if getattr(f, "get_internal_type", None)
            and f.get_internal_type() == "TextField"
            and f.name not in ("kept_blocks",)
        ]
        return [*self.HISTORY_KEYS, *text]

    def save_model(self, request, obj, form, change):
        # An admin edit bypasses the services: keep its history like any other change.
        saved = Proposal.objects.filter(pk=obj.pk).first() if change else None
        request._history_before = history.current_values(saved, self._history_keys(obj)) if saved else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        proposal = form.instance
        if change:
            after = history.current_values(proposal, self._history_keys(proposal))
            history.record_changes(proposal, before=request._history_before, after=after, by=request.user)
        search.search_index_proposal(proposal)


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["name", "role"]
    search_fields = ["name", "role"]


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = ["text", "proposal", "position"]
    list_select_related = ["proposal"]


@admin.register(ResearchLink)
class ResearchLinkAdmin(admin.ModelAdmin):
    list_display = ["title", "url", "proposal"]
    list_select_related = ["proposal"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["proposal", "stage", "key", "checked", "checked_by_app", "checked_by", "checked_at"]
    list_filter = ["stage", "checked", "checked_by_app"]
    list_select_related = ["proposal", "checked_by"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Read-only: the timeline is append-only."""

    list_display = ["created_at", "proposal", "actor", "kind", "message"]
    list_filter = ["kind"]
    list_select_related = ["proposal", "actor"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
