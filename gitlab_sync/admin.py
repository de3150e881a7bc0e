from django.contrib import admin, messages
from django.utils import timezone

from gitlab_sync import client, importer, outbox, tasks
from gitlab_sync.models import GitLabConnection, IssueComment, SyncConflict, SyncState, WebhookDelivery


@admin.register(GitLabConnection)
class GitLabConnectionAdmin(admin.ModelAdmin):
    list_display = (
        "project_path",
        "project_id",
        "healthy",
        "blocked_reason",
        "last_success_at",
        "last_error_at",
        "last_reconcile_at",
    )
    readonly_fields = (
        "last_success_at",
        "last_error",
        "last_error_at",
        "last_reconcile_at",
        "blocked_reason",
        "blocked_message",
        "blocked_at",
    )
    actions = ("import_issues", "reconcile_now", "clear_auth_failure")

    @admin.display(boolean=True)
    def healthy(self, obj):
        return obj.healthy

    @admin.action(description="Import issues with a proposal label (any template version) as proposals, owned by you")
    def import_issues(self, request, queryset):
        try:
            report = importer.import_issues(owner=request.user)
        except client.GitLabError as exc:
            self.message_user(request, f"Import failed: {exc.message}", messages.ERROR)
            return
        for line in report.lines()[:50]:
            self.message_user(request, line, messages.INFO)

    @admin.action(description="Reconcile now (apply what webhooks missed)")
    def reconcile_now(self, request, queryset):
        # Both scheduled walks: the issues changed lately, and every issue's comment count (deleted comments).
        tasks.reconcile.delay()
        tasks.recount_comments.delay()
        self.message_user(request, "Reconciliation queued: changed issues, and the comments deleted on GitLab.")

    def changelist_view(self, request, extra_context=None):
        # The connection-level stop, said once where admins look, not on every proposal.
        for conn in GitLabConnection.objects.exclude(blocked_reason="", auth_failed_at=None):
            why = conn.blocked_message or "GitLab rejected the bot token (401)."
            self.message_user(request, f"GitLab sync is stopped: {why}", messages.ERROR)
        for conn in GitLabConnection.objects.all():
            for warning in conn.warnings(timezone.localdate()):
                self.message_user(request, warning, messages.WARNING)
        return super().changelist_view(request, extra_context)

    @admin.action(description="Fixed (token, project, URL or spam check): resume sync")
    def clear_auth_failure(self, request, queryset):
        queryset.update(auth_failed_at=None, blocked_reason="", blocked_message="", blocked_at=None)


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = ("proposal", "issue_iid", "status", "needs_push", "attempts", "last_error_at", "last_synced_at")
    list_filter = ("needs_push", "permanent_error", "link_broken")
    search_fields = ("proposal__title", "issue_iid")
    list_select_related = ("proposal",)
    readonly_fields = [f.name for f in SyncState._meta.fields]
    actions = ("retry_now",)

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        for state in queryset.select_related("proposal"):
            outbox.retry_now(state.proposal)
        self.message_user(request, f"{queryset.count()} push(es) queued.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("received_at", "event", "action", "issue_iid", "actor_username", "status", "duplicates", "attempts")
    list_filter = ("status", "event")
    search_fields = ("idempotency_key", "issue_iid")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ("proposal", "field", "detected_at", "resolved_at", "resolution")
    list_filter = ("resolution",)
    list_select_related = ("proposal",)


@admin.register(IssueComment)
class IssueCommentAdmin(admin.ModelAdmin):
    list_display = ("proposal", "gitlab_note_id", "author_username", "posting", "created_at", "deleted_at")
    list_select_related = ("proposal",)
