"""The sync badge, "retry now" and the conflict resolution page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
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
from proposals.textdiff import word_diff


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


MERGED = "merged"  # the author's own text, written from both sides


def _shown(value) -> str:
    """A conflicting value as the page shows it: text as is, a list one item a line, a tick in words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ticked" if value else "not ticked"
    if isinstance(value, list | tuple):
        return "\n".join(" — ".join(map(str, item)) if isinstance(item, list | tuple) else str(item) for item in value)
    return str(value)


def conflict_rows(conflicts) -> list[dict]:
    """Each open conflict with both sides as text, the words that differ marked, and whether a merged
    text can be written (only for text; a list or a tick is kept or taken whole)."""
    rows = []
    for conflict in conflicts:
        mine, theirs = _shown(conflict.local_value), _shown(conflict.remote_value)
        theirs_diff, mine_diff = word_diff(theirs, mine)
        rows.append(
            {
                "conflict": conflict,
                "mine": mine,
                "mine_diff": mine_diff,
                "theirs_diff": theirs_diff,
                "mergeable": all(isinstance(v, str | None) for v in (conflict.local_value, conflict.remote_value)),
            }
        )
    return rows


@require_GET
@login_required
def conflicts(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user), pk=pk)
    context = {
        "proposal": proposal,
        "rows": conflict_rows(SyncConflict.objects.filter(proposal=proposal, resolved_at__isnull=True)),
        "can_edit": proposal.is_editable_by(request.user),
    }
    template = "gitlab_sync/conflicts.html"
    if request.htmx:
        template += "#conflict-list"
    return render(request, template, context)


@require_POST
@login_required
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep mine, take GitLab's, or save a merged text: one plain form post, settled on the first click."""
    conflict = get_object_or_404(
        SyncConflict.objects.filter(
            proposal__in=Proposal.objects.editable_by(request.user), resolved_at__isnull=True
        ).select_related("proposal"),
        pk=pk,
    )
    choice = request.POST.get("choice", "")
    if choice not in {*SyncConflict.Resolution.values, MERGED}:
        return HttpResponse("Choose Stagegate's text, GitLab's text or a merged text.", status=400)
    if choice == MERGED:
        # The merged text is the author's own: it is kept as Stagegate's text and goes to GitLab.
        exchange.resolve_conflict(
            conflict=conflict,
            choice=SyncConflict.Resolution.KEEP_LOCAL,
            by=request.user,
            text=request.POST.get("text", ""),
        )
        messages.success(request, f"Saved your merged {conflict.label or conflict.field}; it goes to GitLab next.")
    else:
        edited = request.POST.get("text")
        exchange.resolve_conflict(conflict=conflict, choice=choice, by=request.user, text=edited if edited else None)
        kept = "Kept your text" if choice == SyncConflict.Resolution.KEEP_LOCAL else "Took GitLab's text"
        messages.success(request, f"{kept} for {conflict.label or conflict.field}.")
    if not SyncConflict.objects.filter(proposal_id=conflict.proposal_id, resolved_at__isnull=True).exists():
        return redirect(conflict.proposal)
    return redirect("gitlab_sync:conflicts", pk=conflict.proposal_id)
