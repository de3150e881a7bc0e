"""The proposal page's discussion and its linked issues and designs: htmx partials of the proposal page.

Every view loads the proposal as the person may read it (``visible_to``); the services decide the rest.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from gitlab_sync import discussion, links
from gitlab_sync.connection import sync_enabled
from gitlab_sync.designs import designs_shown
from gitlab_sync.models import IssueComment, SyncState
from proposals import access
from proposals.models import Proposal

DISCUSSION_PAGE = "proposals/_discussion.html"
LINKS_PAGE = "proposals/_links.html"


def _visible(request: HttpRequest, pk: int) -> Proposal | None:
    return Proposal.objects.visible_to(request.user).filter(pk=pk).first()


def _not_visible() -> HttpResponse:
    return HttpResponse("This proposal does not exist or is not visible to you.", status=404)


def discussion_context(proposal: Proposal, user, *, error: str = "", draft: str = "") -> dict:
    return {
        "proposal": proposal,
        "threads": discussion.threads_for(proposal, user),
        "may_comment": access.may_comment(user, proposal),
        "sync_on": sync_enabled(),
        "comment_error": error,
        "draft": draft,
        "viewer_id": user.pk,
    }


def links_context(proposal: Proposal, user, *, error: str = "", reference: str = "") -> dict:
    state = SyncState.objects.filter(proposal=proposal).only("issue_iid", "web_url", "link_broken").first()
    issue_url = state.web_url if state is not None else ""
    return {
        "proposal": proposal,
        "links": links.visible_links(proposal, user),
        "designs": designs_shown(proposal.issue_designs.all(), issue_url),
        "may_link": bool(
            state is not None
            and state.issue_iid
            and not state.link_broken
            and access.may_change_content(user, proposal)
        ),
        "link_types": links.LINK_TYPES.items(),
        "link_error": error,
        "reference": reference,
    }


def _partial(request: HttpRequest, page: str, name: str) -> str:
    if request.htmx and not request.htmx.history_restore_request:
        return f"{page}#{name}"
    return page


@require_GET
@login_required
def discussion_view(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _visible(request, pk)
    if proposal is None:
        return _not_visible()
    if not request.htmx:
        return redirect(f"{proposal.get_absolute_url()}#discussion")
    return render(request, _partial(request, DISCUSSION_PAGE, "discussion"), discussion_context(proposal, request.user))


def _after_discussion_change(request: HttpRequest, proposal: Proposal, *, error: str = "", draft: str = ""):
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(f"{proposal.get_absolute_url()}#discussion")
    context = discussion_context(proposal, request.user, error=error, draft=draft)
    return render(request, _partial(request, DISCUSSION_PAGE, "discussion"), context)


@require_POST
@login_required
def comment_create(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _visible(request, pk)
    if proposal is None:
        return _not_visible()
    body = request.POST.get("body", "")
    reply_to = None
    if request.POST.get("reply_to", "").isdigit():
        reply_to = IssueComment.objects.filter(proposal=proposal, pk=int(request.POST["reply_to"])).first()
        if reply_to is None:
            return _after_discussion_change(request, proposal, error="That comment is no longer there to reply to.")
    try:
        discussion.comment_post(proposal=proposal, body=body, by=request.user, reply_to=reply_to)
    except discussion.CommentRefused as refused:
        return _after_discussion_change(request, proposal, error=refused.message, draft=body if not reply_to else "")
    return _after_discussion_change(request, proposal)


@require_POST
@login_required
def comment_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit (``body``) or delete (``delete``) one's own comment written in Stagegate."""
    comment = IssueComment.objects.filter(pk=pk).select_related("proposal").first()
    proposal = _visible(request, comment.proposal_id) if comment is not None else None
    if proposal is None:
        return _not_visible()
    if comment.written_by_id is None or comment.written_by_id != request.user.pk:
        return HttpResponse("Only its writer can change a comment written in Stagegate.", status=403)
    try:
        if request.POST.get("delete"):
            discussion.comment_delete(comment=comment, by=request.user)
        else:
            discussion.comment_edit(comment=comment, body=request.POST.get("body", ""), by=request.user)
    except discussion.CommentRefused as refused:
        return _after_discussion_change(request, proposal, error=refused.message)
    return _after_discussion_change(request, proposal)


def _after_links_change(request: HttpRequest, proposal: Proposal, *, error: str = "", reference: str = ""):
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(f"{proposal.get_absolute_url()}#linked-items")
    context = links_context(proposal, request.user, error=error, reference=reference)
    return render(request, _partial(request, LINKS_PAGE, "linked-items"), context)


def _editable(request: HttpRequest, pk: int) -> tuple[Proposal | None, HttpResponse | None]:
    proposal = _visible(request, pk)
    if proposal is None:
        return None, _not_visible()
    if not access.may_change_content(request.user, proposal):
        return None, HttpResponse("Only the proposal's author or an admin can change its links.", status=403)
    return proposal, None


@require_POST
@login_required
def link_create(request: HttpRequest, pk: int) -> HttpResponse:
    proposal, refusal = _editable(request, pk)
    if refusal is not None:
        return refusal
    reference = request.POST.get("reference", "")
    try:
        links.link_add(
            proposal=proposal, reference=reference, link_type=request.POST.get("link_type", ""), by=request.user
        )
    except links.LinkRefused as refused:
        return _after_links_change(request, proposal, error=refused.message, reference=reference)
    return _after_links_change(request, proposal)


@require_POST
@login_required
def link_delete(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    proposal, refusal = _editable(request, pk)
    if refusal is not None:
        return refusal
    link = proposal.linked_issues.filter(pk=link_pk).first()
    if link is None:
        return _after_links_change(request, proposal, error="That link is already gone.")
    try:
        links.link_remove(proposal=proposal, link=link, by=request.user)
    except links.LinkRefused as refused:
        return _after_links_change(request, proposal, error=refused.message)
    return _after_links_change(request, proposal)
