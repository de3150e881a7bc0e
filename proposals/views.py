from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from proposals import access, history, services, timeline
from proposals.checklists import is_app_checked
from proposals.content import RENDER_PREFETCH, content_from_proposal
from proposals.filters import ProposalFilter
from proposals.forms import (
    ProposalCreateForm,
    RequirementForm,
    ResearchLinkForm,
    edit_sections,
    section_form_class,
    template_versions,
)
from proposals.markdown import render as render_markdown
from proposals.models import Activity, ChecklistItem, Proposal
from proposals.template import DEFINITIONS, STAGE_LABELS, Stage
from proposals.template_moves import (
    UnknownTemplateVersion,
    proposal_change_template,
    proposal_template_move_preview,
)
from proposals.textdiff import word_diff
from proposals.validators import ContentInvalid
from proposals.workflow import completeness, section_answers

EDIT_PAGE = "proposals/proposal_edit.html"
LIST_PAGE_SIZE = 25
TIMELINE_LENGTH = 10  # entries on the read page


def _refusal(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    """A 403/404 that reads well as a whole page and as an htmx fragment."""
    template = "proposals/refusal.html#refusal" if request.htmx else "proposals/refusal.html"
    return render(request, template, {"status": status, "message": message}, status=status)


def with_proposal(*, edit: bool = False, queryset=None):
    """Load the proposal named in the URL, as the user may see it (and edit it, when `edit`)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, pk, *args, **kwargs):
            base = queryset() if queryset else Proposal.objects.all()
            proposal = base.visible_to(request.user).filter(pk=pk).first()
            if proposal is None:
                return _refusal(request, status=404, message="This proposal does not exist or is not visible to you.")
            if edit and not proposal.is_editable_by(request.user):
                return _refusal(request, status=403, message="Only the proposal's author or an admin can change it.")
            if edit and not access.may_change_content(request.user, proposal):
                if request.method == "GET" and not request.htmx:
                    messages.info(request, "This proposal is closed and read-only; reopen it to change it.")
                    return redirect(proposal)
                return _refusal(request, status=403, message="This proposal is closed: reopen it to change it.")
            return view(request, proposal, *args, **kwargs)

        signed_in = login_required(wrapper)

        @wraps(view)
        def htmx_aware(request, *args, **kwargs):
            # An htmx request from a page whose session ended must not swap the login page into a form.
            if request.htmx and not request.user.is_authenticated:
                return HttpResponse("Signed out — sign in again to save.", status=401)
            return signed_in(request, *args, **kwargs)

        return htmx_aware

    return decorator


def creators_only(view):
    """Creating and importing need the `author` role (or admin): `access.may_create`."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not access.may_create(request.user):
            return _refusal(request, status=403, message="Only authors and admins can create proposals.")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


# The newest timeline entry's id: with the version it makes the live token, which changes with every change to
# the proposal, its reviews and its sync (each writes the timeline) and costs no query of its own.
LAST_ACTIVITY = Subquery(Activity.objects.filter(proposal=OuterRef("pk")).order_by("-id").values("id")[:1])


def _live_queryset():
    return Proposal.objects.annotate(last_activity_id=LAST_ACTIVITY)


def _edit_queryset():
    return (
        _live_queryset()
        .select_related("owner")
        .prefetch_related("requirements", "research_links", "persona_tags", "checklist_items")
    )


def live_token(proposal: Proposal) -> str:
    """What the open edit page compares to learn the proposal changed (the poll's ETag)."""
    return f"{proposal.version}.{getattr(proposal, 'last_activity_id', None) or 0}"


def _with_live_tokens(response: HttpResponse, *, before: Proposal, after: Proposal | None = None) -> HttpResponse:
    """Tell the page the token before and after its own change: when it knew `before`, the change was all its own,
    so its next poll need not refresh anything (a change from elsewhere in between shows in the poll)."""
    after = after if after is not None else _live_queryset().get(pk=before.pk)
    response["X-Live-Before"] = live_token(before)
    response["X-Live-After"] = live_token(after)
    return response


@require_GET
@login_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    filters = ProposalFilter(request.GET, queryset=Proposal.objects.visible_to(request.user))
    page = Paginator(filters.qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    # What a row shows beyond its columns (the owner, confidence without research) is read for the page's rows
    # only, in the same query: over the whole list the planner would hash every research link to flag 25 rows.
    page.object_list = (
        Proposal.objects.for_list()
        .filter(pk__in=page.object_list.values("pk"))
        .order_by(*(filters.qs.query.order_by or Proposal._meta.ordering))
    )
    context = {"filters": filters, "page": page}
    template = "proposals/proposal_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#proposal-results"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@creators_only
def proposal_create(request: HttpRequest) -> HttpResponse:
    form = ProposalCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        proposal = services.proposal_create(
            title=form.cleaned_data["title"],
            owner=request.user,
            confidential=form.cleaned_data["confidential"],
            template_version=form.cleaned_data["template_version"],
        )
        messages.success(request, "Proposal created. Each section saves itself as you type.")
        return redirect("proposals:edit", pk=proposal.pk)
    context = {"form": form, "versions": template_versions()}
    return render(request, "proposals/proposal_create.html", context)


def _checklists(proposal: Proposal) -> list[dict]:
    """Each stage's checklist with the template's text next to the stored state, in template order."""
    stored = {(item.stage, item.key): item for item in proposal.checklist_items.all()}
    # One reverse for the panel's dozens of tick forms: their URLs differ only in the item's id.
    toggle_prefix = reverse("proposals:checklist-toggle", args=[proposal.pk, 0]).removesuffix("0/")
    checklists = []
    for checklist in proposal.definition.checklists:
        groups = []
        for group in checklist.groups:
            rows = [(entry, stored.get((checklist.stage.value, entry.key))) for entry in group.items]
            for entry, item in rows:
                if item is not None:
                    item.by_app = is_app_checked(entry.verified_by)
                    item.toggle_url = f"{toggle_prefix}{item.pk}/"
            groups.append({"title": group.title, "rows": [(e, item) for e, item in rows if item is not None]})
        done = sum(1 for group in groups for _, item in group["rows"] if item.checked)
        total = sum(len(group["rows"]) for group in groups)
        checklists.append(
            {
                "stage": checklist.stage,
                "label": STAGE_LABELS[checklist.stage],
                "groups": groups,
                "done": done,
                "total": total,
            }
        )
    return checklists


def _section_forms(proposal: Proposal) -> list[dict]:
    sections = []
    for section in edit_sections(proposal):
        form_class = section_form_class(proposal.definition, section.key)
        values = services.section_values(proposal, form_class.section.fields)
        initial = {**values, "version": proposal.version, "base": services.section_fingerprint(values)}
        sections.append(
            {"section": section, "form": form_class(initial=initial), "stage_label": STAGE_LABELS[section.stage]}
        )
    return sections


def _outline(proposal: Proposal, checklists: list[dict] | None = None) -> dict:
    """The edit page's sticky outline: each part with how much of it is written, and the whole in one line."""
    parts, written, asked = [], 0, 0
    for section in edit_sections(proposal):
        answered, total = section_answers(proposal, section.fields)
        written, asked = written + answered, asked + total
        state = f"{answered} of {total} answered" if total else ""
        parts.append(
            {
                "anchor": f"section-{section.key}",
                "title": section.title,
                "state": state,
                "complete": total and answered == total,
            }
        )
    requirements, links = len(proposal.requirements.all()), len(proposal.research_links.all())
    parts.append(
        {
            "anchor": "requirements",
            "title": "Requirements",
            "state": f"{requirements} listed",
            "complete": requirements > 0,
        }
    )
    parts.append(
        {
            "anchor": "research-links",
            "title": "Research links",
            "state": f"{links} link{'s' if links != 1 else ''}",
            "complete": links > 0,
        }
    )
    parts.append({"anchor": "orr-answers", "title": "ORR answers", "state": "", "complete": False})
    checklists = _checklists(proposal) if checklists is None else checklists
    done, total = sum(c["done"] for c in checklists), sum(c["total"] for c in checklists)
    parts.append(
        {"anchor": "checklists", "title": "Checklists", "state": f"{done} of {total} ticked", "complete": done == total}
    )
    parts.append({"anchor": "orr-gates", "title": "Stage and review", "state": "", "complete": False})
    return {"parts": parts, "answered": written, "total": asked}


def _edit_context(proposal: Proposal) -> dict:
    checklists = _checklists(proposal)
    return {
        "proposal": proposal,
        "sections": _section_forms(proposal),
        "checklists": checklists,
        "outline": _outline(proposal, checklists),
        "live_token": live_token(proposal),
        "completeness": completeness(proposal),
        "requirement_form": RequirementForm(),
        "research_form": ResearchLinkForm(),
        "editing_requirement": None,
        "requirement_edit_form": None,
        "template_versions": [(d.version, d.name) for d in DEFINITIONS.values()],
    }


@require_GET
@with_proposal(edit=True, queryset=_edit_queryset)
def proposal_edit(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    return render(request, EDIT_PAGE, _edit_context(proposal))


# How a conflict is resolved: the button's value is "<choice>:<fingerprint of the text the author saw>".
RESOLVE_MINE, RESOLVE_THEIRS, RESOLVE_MERGED = "mine", "theirs", "merged"


@require_POST
@with_proposal(edit=True, queryset=_live_queryset)
def section_save(request: HttpRequest, proposal: Proposal, section_key: str) -> HttpResponse:
    try:
        form_class = section_form_class(proposal.definition, section_key)
    except KeyError:
        return _refusal(request, status=404, message="This proposal has no such section.")
    section = form_class.section
    before = proposal
    resolve, _, resolve_base = request.POST.get("resolve", "").partition(":")
    if resolve == RESOLVE_THEIRS:
        # Their text is already saved: the author's form simply shows it again.
        if not request.htmx:
            return redirect(f"{reverse('proposals:edit', args=[proposal.pk])}#section-{section_key}")
        return _with_live_tokens(
            _section_response(request, proposal, section, form=None, conflict=None, notice="You took their version."),
            before=before,
        )
    data = request.POST.copy()
    if resolve == RESOLVE_MERGED:
        for name in section.fields:
            if f"merged-{name}" in data:
                data[name] = data[f"merged-{name}"]
    form = form_class(data)
    conflict = None
    if form.is_valid():
        base = resolve_base if resolve in (RESOLVE_MINE, RESOLVE_MERGED) and resolve_base else form.cleaned_data["base"]
        try:
            proposal = services.proposal_update_section(
                proposal=proposal,
                fields=section.fields,
                data=form.section_data(),
                version=form.cleaned_data["version"],
                base=base,
                by=request.user,
                section_title=section.title,
            )
        except services.StaleSection as stale:
            conflict = _conflict_rows(form, stale)
            proposal = stale.proposal
    if not request.htmx:
        if form.is_valid() and conflict is None:
            return redirect("proposals:edit", pk=proposal.pk)
        context = _edit_context(proposal)
        for entry in context["sections"]:
            if entry["section"].key == section_key:
                entry["form"] = form
                entry["conflict"] = conflict
                entry["current_base"] = services.section_fingerprint(services.section_values(proposal, section.fields))
        return render(request, EDIT_PAGE, context, status=409 if conflict else 400)
    if resolve:
        # A resolved conflict redraws the whole section: its fields show the text that was kept.
        saved = form.is_valid() and conflict is None
        response = _section_response(
            request, proposal, section, form=None if saved else form, conflict=conflict, notice="", saved=saved
        )
        return _with_live_tokens(response, before=before)

    proposal = _edit_queryset().get(pk=proposal.pk)
    values = services.section_values(proposal, section.fields)
    context = {
        "proposal": proposal,
        "entry": {
            "section": section,
            "form": form,
            "conflict": conflict,
            "current_base": services.section_fingerprint(values),
        },
        # After a conflict the form keeps its stale version and base, so autosave cannot overwrite the other text.
        "version": proposal.version if conflict is None else form.data.get("version", ""),
        "base": services.section_fingerprint(values) if conflict is None else form.data.get("base", ""),
        "saved": form.is_valid() and conflict is None,
        "completeness": completeness(proposal),
        "outline": _outline(proposal),
        "oob": True,
    }
    response = HttpResponse(
        render_to_string(f"{EDIT_PAGE}#section-status", context, request)
        + render_to_string(f"{EDIT_PAGE}#completeness", context, request)
        + render_to_string(f"{EDIT_PAGE}#edit-outline", context, request)
    )
    if context["saved"]:
        trigger_client_event(response, "proposal-changed")
    return _with_live_tokens(response, before=before, after=proposal)


def _section_response(request, proposal, section, *, form, conflict, notice: str, saved: bool = False) -> HttpResponse:
    """The whole section again: a fresh form from what is saved, or the author's form with its conflict."""
    proposal = _edit_queryset().get(pk=proposal.pk)
    values = services.section_values(proposal, section.fields)
    base = services.section_fingerprint(values)
    form_class = section_form_class(proposal.definition, section.key)
    entry = {
        "section": section,
        "stage_label": STAGE_LABELS[section.stage],
        "form": form or form_class(initial={**values, "version": proposal.version, "base": base}),
        "conflict": conflict,
        "current_base": base,
    }
    context = {
        "proposal": proposal,
        "entry": entry,
        "version": proposal.version if conflict is None else form.data.get("version", ""),
        "base": base if conflict is None else form.data.get("base", ""),
        "saved": saved,
        "notice": notice,
        "completeness": completeness(proposal),
        "outline": _outline(proposal),
        "oob": True,
    }
    response = HttpResponse(
        render_to_string(f"{EDIT_PAGE}#section-form", context, request)
        + render_to_string(f"{EDIT_PAGE}#completeness", context, request)
        + render_to_string(f"{EDIT_PAGE}#edit-outline", context, request)
    )
    if saved:
        trigger_client_event(response, "proposal-changed")
    return response


def _conflict_rows(form, stale: services.StaleSection) -> list[dict]:
    rows = []
    for name, mine in stale.submitted.items():
        theirs = stale.current.get(name)
        if theirs != mine:
            label = form.fields[name].label if name in form.fields else name
            row = {"name": name, "label": label, "mine": mine, "theirs": theirs, "mergeable": False}
            if isinstance(mine, str) and isinstance(theirs, str):
                row["theirs_diff"], row["mine_diff"] = word_diff(theirs, mine)
                row["mergeable"] = True
            rows.append(row)
    return rows


# How far back the live poll looks for who last changed each section.
LIVE_ACTIVITY_WINDOW = 50


@require_GET
def proposal_live(request: HttpRequest, pk: int) -> HttpResponse:
    """What an open edit page polls: 304 while its token is current; else the token, each section's fingerprint
    (the form's `base`) and who last changed which section, so the page refreshes what its user is not editing
    and warns on what they are. A fixed handful of queries, however long the proposal or its timeline."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_out": True}, status=401)
    proposal = _live_queryset().visible_to(request.user).filter(pk=pk).first()
    if proposal is None:
        return JsonResponse({"gone": True}, status=404)
    token = live_token(proposal)
    etag = f'"{token}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(_live_state(proposal, token))
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _live_state(proposal: Proposal, token: str) -> dict:
    sections = {}
    for section in edit_sections(proposal):
        fields = section_form_class(proposal.definition, section.key).section.fields
        sections[section.key] = {"title": section.title, "fields": fields}
    activities = list(
        Activity.objects.filter(proposal=proposal).select_related("actor").order_by("-id")[:LIVE_ACTIVITY_WINDOW]
    )

    def change(activity: Activity) -> dict:
        who = activity.actor.get_username() if activity.actor else "GitLab" if activity.kind == "sync" else "someone"
        # Autosave keeps one timeline line per burst: the newest entry's time is the proposal's last save.
        at = proposal.updated_at if activity is activities[0] else activity.created_at
        return {"by": who, "at": at.isoformat()}

    state = {"token": token, "closed": proposal.state == Proposal.State.CLOSED, "sections": {}, "changes": {}}
    for key, section in sections.items():
        state["sections"][key] = services.section_fingerprint(services.section_values(proposal, section["fields"]))
        for activity in activities:
            data = activity.data if isinstance(activity.data, dict) else {}
            if data.get("section") == section["title"] or set(data.get("fields") or ()) & set(section["fields"]):
                state["changes"][key] = change(activity)
                break
    state["latest"] = change(activities[0]) if activities else None
    return state


@require_GET
@with_proposal(edit=True, queryset=_edit_queryset)
def checklist_panel(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    return render(request, f"{EDIT_PAGE}#checklists", {"proposal": proposal, "checklists": _checklists(proposal)})


@require_POST
@with_proposal(edit=True, queryset=_live_queryset)
def checklist_toggle(request: HttpRequest, proposal: Proposal, item_id: int) -> HttpResponse:
    item = ChecklistItem.objects.filter(proposal=proposal, pk=item_id).select_related("proposal").first()
    if item is None:
        return _refusal(request, status=404, message="This checklist item does not exist.")
    error = ""
    try:
        services.checklist_toggle(item=item, checked=request.POST.get("checked") == "on", by=request.user)
    except services.ChecklistItemVerified as refused:
        error = str(refused)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("proposals:edit", pk=proposal.pk)
    before, proposal = proposal, _edit_queryset().get(pk=proposal.pk)
    checklists = _checklists(proposal)
    context = {
        "proposal": proposal,
        "checklists": checklists,
        "checklist_error": error,
        "outline": _outline(proposal, checklists),
        "oob": True,
    }
    response = render(request, f"{EDIT_PAGE}#checklists", context)
    if not error:
        trigger_client_event(response, "proposal-changed")
    return _with_live_tokens(response, before=before, after=proposal)


def _list_response(request, proposal: Proposal, *, partial: str, form_key: str, form, **extra) -> HttpResponse:
    if not request.htmx:
        if form.errors:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("proposals:edit", pk=proposal.pk)
    before, proposal = proposal, _edit_queryset().get(pk=proposal.pk)
    context = {
        "proposal": proposal,
        form_key: form,
        "completeness": completeness(proposal),
        "outline": _outline(proposal),
        "oob": True,
    }
    if partial == "requirements":
        context.update({"editing_requirement": None, "requirement_edit_form": None, **extra})
    response = render(request, f"{EDIT_PAGE}#{partial}", context)
    if not form.errors:
        trigger_client_event(response, "proposal-changed")
    return _with_live_tokens(response, before=before, after=proposal)


@require_POST
@with_proposal(edit=True, queryset=_live_queryset)
def requirement_add(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    form = RequirementForm(request.POST)
    if form.is_valid():
        services.requirement_add(proposal=proposal, text=form.cleaned_data["text"], by=request.user)
        form = RequirementForm()
    return _list_response(request, proposal, partial="requirements", form_key="requirement_form", form=form)


@require_POST
@with_proposal(edit=True, queryset=_live_queryset)
def research_link_add(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    form = ResearchLinkForm(request.POST)
    if form.is_valid():
        services.research_link_add(
            proposal=proposal, url=form.cleaned_data["url"], title=form.cleaned_data["title"], by=request.user
        )
        form = ResearchLinkForm()
    return _list_response(request, proposal, partial="research-links", form_key="research_form", form=form)


# The proposal's ordered lists, by the name their URLs use: related name, partial, form.
ORDERED_LISTS = {
    "requirements": ("requirements", "requirements", "requirement_form", RequirementForm),
    "research": ("research_links", "research-links", "research_form", ResearchLinkForm),
}


@require_POST
@with_proposal(edit=True, queryset=_live_queryset)
def ordered_row_change(request: HttpRequest, proposal: Proposal, kind: str, row_id: str, action: str) -> HttpResponse:
    related_name, partial, form_key, form_class = ORDERED_LISTS[kind]
    row = getattr(proposal, related_name).filter(pk=row_id).first()
    if row is None:
        return _refusal(request, status=404, message="This entry does not exist any more.")
    if action == "remove":
        services.ordered_row_remove(row=row, by=request.user)
    else:
        services.ordered_row_move(row=row, direction=action, by=request.user)
    return _list_response(request, proposal, partial=partial, form_key=form_key, form=form_class())


@require_http_methods(["GET", "POST"])
@with_proposal(edit=True, queryset=_edit_queryset)
def requirement_edit(request: HttpRequest, proposal: Proposal, row_id: int) -> HttpResponse:
    """Edit one requirement's text in place: GET opens its field (or closes it with `?cancel`), POST saves."""
    requirement = next((row for row in proposal.requirements.all() if row.pk == row_id), None)
    if requirement is None:
        return _refusal(request, status=404, message="This requirement does not exist any more.")
    if request.method == "GET":
        editing = None if "cancel" in request.GET else requirement.pk
        edit_form = RequirementForm(initial={"text": requirement.text}, prefix=f"requirement-{requirement.pk}")
        if not request.htmx:
            context = {**_edit_context(proposal), "editing_requirement": editing, "requirement_edit_form": edit_form}
            return render(request, EDIT_PAGE, context)
        context = {
            "proposal": proposal,
            "requirement_form": RequirementForm(),
            "editing_requirement": editing,
            "requirement_edit_form": edit_form,
        }
        return render(request, f"{EDIT_PAGE}#requirements", context)
    edit_form = RequirementForm(request.POST, prefix=f"requirement-{requirement.pk}")
    if edit_form.is_valid():
        try:
            services.requirement_edit(requirement=requirement, text=edit_form.cleaned_data["text"], by=request.user)
        except ContentInvalid as invalid:
            edit_form.add_error("text", str(invalid))
    failed = bool(edit_form.errors)
    return _list_response(
        request,
        proposal,
        partial="requirements",
        form_key="requirement_form",
        form=edit_form if failed else RequirementForm(),
        # The add form below stays empty; the failed edit keeps its field open with the error.
        requirement_form=RequirementForm(),
        editing_requirement=requirement.pk if failed else None,
        requirement_edit_form=edit_form if failed else None,
    )


@require_GET
@with_proposal(queryset=lambda: Proposal.objects.select_related("owner").prefetch_related(*RENDER_PREFETCH))
def proposal_preview(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    context = {"proposal": proposal, "issue_markdown": render_markdown(content_from_proposal(proposal))}
    template = "proposals/proposal_preview.html"
    if request.htmx:
        template += "#preview"
    return render(request, template, context)


@require_GET
@with_proposal(queryset=_edit_queryset)
def proposal_detail(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    sections = []
    for stage in proposal.definition.stages:
        fields = [(f, proposal.field_value(f.name)) for f in proposal.definition.fields_for(stage)]
        sections.append({"label": STAGE_LABELS[stage], "fields": fields})
    look = history.since_last_look(proposal, request.user, mark_seen=True)
    context = {
        "last_looked": look.last_looked,
        "since_last_look": look.changes,
        "changed_names": history.changed_names(look.changes),
        "proposal": proposal,
        "sections": sections,
        "checklists": _checklists(proposal),
        "completeness": completeness(proposal),
        "reviews": proposal.reviews.select_related("area", "reviewer"),
        # The newest few in one query; the timeline page has the rest.
        "timeline": list(timeline.entries_seen_by(request.user, proposal)[:TIMELINE_LENGTH]),
        "can_edit": proposal.is_editable_by(request.user),
        "experiment": Stage.EXPERIMENT,
    }
    return render(request, "proposals/proposal_detail.html", context)


@require_POST
@with_proposal(edit=True)
def template_change(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    """Move the proposal to another version of GitLab's template; what has no place there is kept and shown.

    The first post shows what the move would do (a dry run, rolled back); the confirmed one moves.
    """
    version = request.POST.get("version", "")
    try:
        if request.POST.get("confirmed") != "yes":
            return render(request, "proposals/template_move.html", _template_move_preview(proposal, version, request))
        proposal = proposal_change_template(proposal=proposal, version=version, by=request.user)
    except (UnknownTemplateVersion, ContentInvalid) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"The proposal now follows “{proposal.definition.name}”.")
    return redirect("proposals:edit", pk=proposal.pk)


def _template_move_preview(proposal: Proposal, version: str, request: HttpRequest) -> dict:
    """What the proposal would hold after the move: its answers under the new headings, and what is kept aside."""
    preview = proposal_template_move_preview(proposal=proposal, version=version, by=request.user)
    for section in preview["sections"]:
        section["fields"] = [(label, value) for label, _, value in section["fields"]]
    return {"proposal": proposal, **preview}
