from django.contrib import admin, messages

from proposals import access
from proposals.admin import record_admin_edit
from reviews import services
from reviews.models import Decision, GitLabAccount, Notification, OrrArea, Review, ReviewComment


@admin.register(OrrArea)
class OrrAreaAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "reviewer_group", "lead", "service_level_days", "has_slack"]
    list_select_related = ["reviewer_group", "lead"]
    fields = [
        "number",
        "key",
        "title",
        "guidance",
        "reviewer_group",
        "reviewers",
        "reviewers_now",
        "lead",
        "service_level_days",
        "slack_webhook_url",
    ]
    readonly_fields = ["number", "key", "reviewers_now"]
    autocomplete_fields = ["lead"]
    filter_horizontal = ["reviewers"]

    @admin.display(description="Reviewers now")
    def reviewers_now(self, area: OrrArea) -> str:
        """Who decides this area: the `reviewer` role and the area's group, or a place among its named reviewers."""
        people = area.reviewers.filter(is_active=True, groups__name=access.REVIEWERS)
        if area.reviewer_group is not None:
            people = people | area.reviewer_group.user_set.filter(is_active=True, groups__name=access.REVIEWERS)
        names = sorted(set(people.values_list("username", flat=True)))
        if area.reviewer_group is None and not names:
            return "Nobody yet: choose a reviewer group or name reviewers."
        return ", ".join(names) or "Nobody with the reviewer role is in the group yet."

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # The setup goes through the same service as the ORR setup page, so it lands on the same timeline.
        setup = {name: form.cleaned_data[name] for name in services.SETUP_FIELDS if name in form.cleaned_data}
        services.orr_area_update(area=obj, by=request.user, **setup)
        obj.save(update_fields=["title", "guidance"])

    def save_related(self, request, form, formsets, change):
        if not change:
            super().save_related(request, form, formsets, change)  # the named reviewers were set by the service

    @admin.display(boolean=True, description="Slack")
    def has_slack(self, area: OrrArea) -> bool:
        return bool(area.slack_webhook_url)

    def has_add_permission(self, request):
        return False  # the areas come from the template

    def has_delete_permission(self, request, obj=None):
        return False


class DecisionInline(admin.TabularInline):
    """Read-only: decisions are superseded, never edited."""

    model = Decision
    extra = 0
    can_delete = False
    fields = ["decided_at", "kind", "decided_by", "decided_as_admin", "comment", "waiver_expires_on", "source"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReviewCommentInline(admin.TabularInline):
    model = ReviewComment
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "body"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["proposal", "area", "status", "reviewer", "due_on", "updated_at"]
    list_filter = ["status", "area"]
    list_select_related = ["proposal", "area", "reviewer"]
    search_fields = ["proposal__title", "reviewer__username"]
    fields = ["proposal", "area", "status", "reviewer", "answer", "assigned_at", "due_on", "escalated_at"]
    readonly_fields = ["proposal", "area", "status", "answer", "assigned_at", "due_on", "escalated_at"]
    autocomplete_fields = ["reviewer"]
    inlines = [DecisionInline, ReviewCommentInline]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # Assignment goes through the service: same rules as everywhere, the reviewer is told.
        if "reviewer" in form.changed_data:
            try:
                services.review_assign(review=obj, reviewer=form.cleaned_data["reviewer"], by=request.user)
            except services.ReviewRefused as refusal:
                messages.error(request, str(refusal))

    # Assignment is recorded by the service; removing a review is recorded here, on its proposal's timeline.
    def delete_model(self, request, obj):
        proposal, area = obj.proposal, obj.area.title
        super().delete_model(request, obj)
        record_admin_edit(proposal, by=request.user, what=f"removed the ORR review of “{area}”")

    def delete_queryset(self, request, queryset):
        removed = [(review.proposal, review.area.title) for review in queryset.select_related("proposal", "area")]
        super().delete_queryset(request, queryset)
        for proposal, area in removed:
            record_admin_edit(proposal, by=request.user, what=f"removed the ORR review of “{area}”")


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["decided_at", "review", "kind", "decided_by", "decided_as_admin", "source"]
    list_filter = ["kind", "source", "decided_as_admin"]
    list_select_related = ["review__proposal", "review__area", "decided_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GitLabAccount)
class GitLabAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "gitlab_username", "gitlab_user_id"]
    search_fields = ["user__username", "gitlab_username"]
    autocomplete_fields = ["user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "subject", "sent_at", "attempts", "last_error"]
    list_filter = ["event"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
