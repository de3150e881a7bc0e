"""A proposal's authors from its page: naming co-authors and handing the proposal over (owner or admin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from proposals import access, services
from proposals.models import Proposal
from proposals.validators import one_line_error
from proposals.views import _refusal, with_proposal

MANAGERS_ONLY = "Only the proposal's owner or an admin names co-authors and hands it over."


def _person(username: str):
    """The person a form names, or None: a name that no account could have is not looked up."""
    username = username.strip()
    if not username or one_line_error(username, max_length=150):
        return None
    return get_user_model().objects.filter(username=username).first()


def _nobody(username: str, ask: str) -> str:
    name = username.strip()
    if not name or one_line_error(name, max_length=150):
        return ask
    return f"No one in Stagegate has the username “{name}”."


@require_POST
@with_proposal()
def co_authors_change(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    if not access.may_manage_authors(request.user, proposal):
        return _refusal(request, status=403, message=MANAGERS_ONLY)
    co_authors = list(proposal.co_authors.all())
    added, removed = _person(request.POST.get("add", "")), request.POST.get("remove", "")
    if added is None and not removed:
        messages.error(request, _nobody(request.POST.get("add", ""), "Name someone to add as co-author."))
        return redirect(proposal)
    if added is not None:
        co_authors.append(added)
    co_authors = [person for person in co_authors if person.get_username() != removed]
    try:
        services.proposal_set_co_authors(proposal=proposal, co_authors=co_authors, by=request.user)
    except (services.AuthorRefused, PermissionDenied) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{added} is now a co-author." if added else f"{removed} is no longer a co-author.")
    return redirect(proposal)


@require_POST
@with_proposal()
def owner_change(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    if not access.may_manage_authors(request.user, proposal):
        return _refusal(request, status=403, message=MANAGERS_ONLY)
    new_owner = _person(request.POST.get("owner", ""))
    if new_owner is None:
        messages.error(request, _nobody(request.POST.get("owner", ""), "Name the new owner."))
        return redirect(proposal)
    if request.POST.get("confirmed") != "yes" and new_owner.pk != proposal.owner_id:
        # Handing over changes who may edit (and, when confidential, read) it: say so, and ask once more.
        context = {
            "proposal": proposal,
            "new_owner": new_owner,
            "still_edits": access.is_admin(request.user),
            "still_reads": access.is_admin(request.user) or access.is_reviewer(request.user),
        }
        return render(request, "proposals/confirm_owner.html", context)
    try:
        proposal = services.proposal_transfer_ownership(proposal=proposal, new_owner=new_owner, by=request.user)
    except (services.AuthorRefused, PermissionDenied) as refused:
        messages.error(request, str(refused))
        return redirect(proposal)
    messages.success(request, f"{new_owner} now owns “{proposal.title}” and has been told.")
    # A confidential proposal handed over may be out of the previous owner's sight now.
    return redirect(proposal if access.may_read(request.user, proposal) else "proposals:list")
