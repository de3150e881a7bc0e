"""The sync badge, "retry now" and the conflict resolution page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from gitlab_sync import exchange, outbox
from gitlab_sync.connection import sync_enabled
from gitlab_sync.models import GitLabConnection, SyncConflict, SyncState
from proposals import access
from proposals.models import Proposal


def badge_context(proposal: Proposal, *, can_edit: bool) -> dict:
    state = SyncState.objects.filter(proposal=proposal).first()
    open_conflicts = SyncConflict.objects.filter(proposal=proposal, resolved_at__isnull=True).count()
    if not sync_enabled():
        status, label = "off", "GitLab sync off"
    elif open_conflicts:
        status, label = "conflict", f"{open_conflicts} conflict{'s' if open_conflicts != 1 else ''} with GitLab"
    elif state is None:
        status, label = "pending", "Waiting for GitLab"
    else:
        status = state.status
        label = {"synced": "Synced with GitLab", "pending": "Sync pending", "failed": "Sync failed"}[status]
    return {
        "proposal": proposal,
        "sync_state": state,
        "sync_status": status,
        "sync_label": label,
        "open_conflicts": open_conflicts,
        "can_edit": can_edit,
    }


def connection_alerts_context(user) -> dict:
    """For admins: the connection's stop (blocked, token refused) and its warnings (token expiring, webhook
    disabled by GitLab), on every page until fixed. Nobody else is told: they cannot act on it."""
    alerts: list[str] = []
    if sync_enabled() and user is not None and access.is_admin(user):
        conn = GitLabConnection.objects.filter(project_path=settings.GITLAB_PROJECT).first()
        if conn is not None:
            if not conn.healthy:
                why = conn.blocked_message or "GitLab rejected the bot token (401)."
                alerts.append(f"GitLab sync is stopped: {why} Fix it, then resume sync in GitLab connections.")
            alerts += conn.warnings(timezone.localdate())
    return {"gitlab_alerts": alerts, "show_admin_link": bool(alerts) and user.is_staff}


@require_GET
@login_required
def sync_badge(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user), pk=pk)
    context = badge_context(proposal, can_edit=proposal.is_editable_by(request.user))
    return render(request, "gitlab_sync/sync_badge.html", context)


@require_POST
@login_required
def retry_now(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.editable_by(request.user), pk=pk)
    outbox.retry_now(proposal)
    if request.htmx:
        return render(request, "gitlab_sync/sync_badge.html", badge_context(proposal, can_edit=True))
    return redirect(proposal)


@require_GET
@login_required
def conflicts(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user), pk=pk)
    context = {
        "proposal": proposal,
        "conflicts": SyncConflict.objects.filter(proposal=proposal, resolved_at__isnull=True),
        "can_edit": proposal.is_editable_by(request.user),
    }
    template = "gitlab_sync/conflicts.html"
    if request.htmx:
        template += "#conflict-list"
    return render(request, template, context)


@require_POST
@login_required
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    conflict = get_object_or_404(
        SyncConflict.objects.filter(
            proposal__in=Proposal.objects.editable_by(request.user), resolved_at__isnull=True
        ).select_related("proposal"),
        pk=pk,
    )
    choice = request.POST.get("choice", "")
    if choice not in SyncConflict.Resolution.values:
        return HttpResponse("Choose Stagegate's text or GitLab's text.", status=400)
    edited = request.POST.get("text")
    exchange.resolve_conflict(conflict=conflict, choice=choice, by=request.user, text=edited if edited else None)
    return redirect("gitlab_sync:conflicts", pk=conflict.proposal_id)
