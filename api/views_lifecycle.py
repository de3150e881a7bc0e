"""The rest of what a person does in the browser, through the API: transitions, list rows, template moves,
GitLab conflicts, Markdown import, authors and watching.

Each endpoint calls the same workflow function or service as its page, and loads the proposal as the page
does: an invisible proposal is a 404, a visible one the person may not change a 403.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as s
from api.views import INVALID, NOT_VISIBLE, NOT_YOURS, REFUSED, _detail_data, _editable_proposal, _visible_proposal
from gitlab_sync import exchange
from gitlab_sync.models import SyncConflict
from proposals import access, markdown, services, workflow
from proposals.models import Persona
from proposals.template import get_definition
from proposals.template_moves import (
    UnknownTemplateVersion,
    import_report,
    proposal_change_template,
    proposal_import_markdown,
    proposal_template_move_preview,
)
from proposals.views_import import MarkdownImportForm
from reviews import services as review_services
from reviews.models import Watch

DETAIL_RESPONSES = {200: s.ProposalDetailSerializer, 400: REFUSED, 403: NOT_YOURS, 404: NOT_VISIBLE}


def _refused(error: Exception, *, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": str(error)}, status=code)


# --- transitions ---------------------------------------------------------------------------------

# Each step is the page's own workflow function (reviews.views.proposal_transition asks the same).
TRANSITIONS = {
    workflow.ADVANCE: workflow.proposal_advance_stage,
    workflow.APPROVE: workflow.proposal_approve,
    workflow.CLOSE: workflow.proposal_close,
    workflow.REOPEN: workflow.proposal_reopen,
}


def _transition(request: Request, pk: int, transition: str) -> Response:
    if transition == workflow.APPROVE:
        proposal = _visible_proposal(request, pk)
        if not access.may_approve(request.user, proposal):
            raise PermissionDenied(workflow.APPROVERS_ONLY + ".")
    else:
        proposal = _editable_proposal(request, pk)
    try:
        TRANSITIONS[transition](proposal=proposal, by=request.user)
    except workflow.GateClosed as closed:
        return Response({"detail": "Not yet.", "reasons": closed.reasons}, status=status.HTTP_400_BAD_REQUEST)
    return Response(_detail_data(request, pk))


def _transition_schema(transition: str, summary: str):
    refused = (
        OpenApiResponse(s.RefusalSerializer, description=workflow.APPROVERS_ONLY + ".")
        if transition == workflow.APPROVE
        else NOT_YOURS
    )
    return extend_schema(
        operation_id=f"proposals_{transition}",
        summary=summary,
        description="A closed gate answers 400 with the reasons, in the words the page shows beside the button.",
        request=None,
        responses={**DETAIL_RESPONSES, 403: refused},
    )


@_transition_schema(workflow.ADVANCE, "Move into the next stage's work (Experiment → General Availability)")
@api_view(["POST"])
def proposal_advance(request: Request, pk: int) -> Response:
    return _transition(request, pk, workflow.ADVANCE)


@_transition_schema(
    workflow.APPROVE, "Approve for General Availability (the working group or an admin, never an author)"
)
@api_view(["POST"])
def proposal_approve(request: Request, pk: int) -> Response:
    return _transition(request, pk, workflow.APPROVE)


@_transition_schema(workflow.CLOSE, "Close the proposal: it becomes read-only until reopened")
@api_view(["POST"])
def proposal_close(request: Request, pk: int) -> Response:
    return _transition(request, pk, workflow.CLOSE)


@_transition_schema(workflow.REOPEN, "Reopen a closed proposal as a draft")
@api_view(["POST"])
def proposal_reopen(request: Request, pk: int) -> Response:
    return _transition(request, pk, workflow.REOPEN)


# --- requirements and research links -------------------------------------------------------------

ROW_RELATIONS = {"requirements": "requirements", "research-links": "research_links"}


def _row(request: Request, pk: int, row_id: int, relation: str):
    proposal = _editable_proposal(request, pk)
    return get_object_or_404(getattr(proposal, relation).select_related("proposal"), pk=row_id)


@extend_schema(
    methods=["PATCH"],
    operation_id="proposals_requirement_edit",
    summary="Change a requirement's text; it keeps its place",
    request=s.RequirementEditSerializer,
    responses={200: s.RequirementSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@extend_schema(
    methods=["DELETE"],
    operation_id="proposals_requirement_remove",
    summary="Remove a requirement",
    request=None,
    responses={204: None, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["PATCH", "DELETE"])
def requirement_change(request: Request, pk: int, row_id: int) -> Response:
    requirement = _row(request, pk, row_id, "requirements")
    if request.method == "DELETE":
        services.ordered_row_remove(row=requirement, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
    incoming = s.RequirementEditSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    requirement = services.requirement_edit(
        requirement=requirement, text=incoming.validated_data["text"], by=request.user
    )
    return Response(s.RequirementSerializer(requirement).data)


@extend_schema(
    operation_id="proposals_research_link_remove",
    summary="Remove a research link",
    request=None,
    responses={204: None, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["DELETE"])
def research_link_remove(request: Request, pk: int, row_id: int) -> Response:
    services.ordered_row_remove(row=_row(request, pk, row_id, "research_links"), by=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


def _move(request: Request, pk: int, row_id: int, relation: str, serializer_class) -> Response:
    row = _row(request, pk, row_id, relation)
    incoming = s.RowMoveSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    services.ordered_row_move(row=row, direction=incoming.validated_data["direction"], by=request.user)
    rows = type(row).objects.filter(proposal_id=row.proposal_id).order_by("position", "id")
    return Response(serializer_class(rows, many=True).data)


@extend_schema(
    operation_id="proposals_requirement_move",
    summary="Move a requirement one place up or down; answers the list in its new order",
    request=s.RowMoveSerializer,
    responses={200: s.RequirementSerializer(many=True), 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def requirement_move(request: Request, pk: int, row_id: int) -> Response:
    return _move(request, pk, row_id, "requirements", s.RequirementSerializer)


@extend_schema(
    operation_id="proposals_research_link_move",
    summary="Move a research link one place up or down; answers the list in its new order",
    request=s.RowMoveSerializer,
    responses={200: s.ResearchLinkSerializer(many=True), 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def research_link_move(request: Request, pk: int, row_id: int) -> Response:
    return _move(request, pk, row_id, "research_links", s.ResearchLinkSerializer)


# --- template move -------------------------------------------------------------------------------


def _preview_data(preview: dict) -> dict:
    return {
        **preview,
        "sections": [
            {
                "stage": section["stage"],
                "label": section["label"],
                "fields": [{"label": label, "name": name, "value": value} for label, name, value in section["fields"]],
            }
            for section in preview["sections"]
        ],
        "kept_blocks": [
            {"after": str(block.get("after") or ""), "markdown": str(block.get("markdown") or "")}
            for block in preview["kept_blocks"]
            if isinstance(block, dict)
        ],
    }


@extend_schema(
    methods=["GET"],
    operation_id="proposals_template_move_preview",
    summary="What the proposal would hold after moving to another template version (nothing is changed)",
    parameters=[OpenApiParameter("version", str, required=True, description="The template version to move to.")],
    responses={200: s.TemplateMovePreviewSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@extend_schema(
    methods=["POST"],
    operation_id="proposals_template_move",
    summary="Move the proposal to another template version; what has no place there is kept",
    request=s.TemplateMoveSerializer,
    responses={200: s.ProposalDetailSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["GET", "POST"])
def template_move(request: Request, pk: int) -> Response:
    proposal = _editable_proposal(request, pk)
    incoming = s.TemplateMoveSerializer(data=request.query_params if request.method == "GET" else request.data)
    incoming.is_valid(raise_exception=True)
    version = incoming.validated_data["version"]
    try:
        if request.method == "GET":
            preview = proposal_template_move_preview(proposal=proposal, version=version, by=request.user)
            return Response(s.TemplateMovePreviewSerializer(_preview_data(preview)).data)
        proposal_change_template(proposal=proposal, version=version, by=request.user)
    except UnknownTemplateVersion as unknown:
        raise ValidationError({"version": [str(unknown)]}) from unknown
    return Response(_detail_data(request, pk))


# --- GitLab sync conflicts -----------------------------------------------------------------------


@extend_schema(
    operation_id="proposals_conflicts_list",
    summary="Open conflicts with GitLab: fields changed on both sides since the last sync",
    responses={200: s.SyncConflictSerializer(many=True), 404: NOT_VISIBLE},
)
@api_view(["GET"])
def conflict_list(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    conflicts = SyncConflict.objects.filter(proposal=proposal, resolved_at__isnull=True)
    return Response(s.SyncConflictSerializer(conflicts, many=True).data)


@extend_schema(
    operation_id="proposals_conflict_resolve",
    summary="Resolve a conflict: keep Stagegate's text, take GitLab's, or keep an edited text; GitLab then gets it",
    request=s.ConflictResolveSerializer,
    responses={200: s.SyncConflictSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def conflict_resolve(request: Request, pk: int, conflict_id: int) -> Response:
    proposal = _editable_proposal(request, pk)
    conflict = get_object_or_404(
        SyncConflict.objects.filter(proposal=proposal, resolved_at__isnull=True, proposal__sync_state__isnull=False),
        pk=conflict_id,
    )
    incoming = s.ConflictResolveSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    edited = incoming.validated_data.get("text")
    if edited and not isinstance(conflict.local_value, str):
        raise ValidationError({"text": ["Only a text field's conflict takes an edited text."]})
    exchange.resolve_conflict(
        conflict=conflict, choice=incoming.validated_data["choice"], by=request.user, text=edited or None
    )
    conflict.refresh_from_db()
    return Response(s.SyncConflictSerializer(conflict).data)


# --- import from Markdown ------------------------------------------------------------------------


def _import_form(request: Request) -> MarkdownImportForm:
    """The page's own form decides what an import takes (length, the title when none is given)."""
    if not access.may_create(request.user):
        raise PermissionDenied("Only authors and admins can create proposals.")
    incoming = s.MarkdownImportSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    form = MarkdownImportForm(incoming.validated_data)
    if not form.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    return form


def _report_data(report: dict) -> dict:
    return {**report, "template": get_definition(report["version"]).name}


@extend_schema(
    operation_id="proposals_import_preview",
    summary="What importing this issue description would find, leave empty, miss and keep (nothing is created)",
    request=s.MarkdownImportSerializer,
    responses={200: s.ImportReportSerializer, 400: INVALID, 403: REFUSED},
)
@api_view(["POST"])
def import_preview(request: Request) -> Response:
    form = _import_form(request)
    personas = list(Persona.objects.values_list("name", flat=True))
    result = markdown.parse(form.cleaned_data["text"], personas=personas)
    return Response(s.ImportReportSerializer(_report_data(import_report(result))).data)


@extend_schema(
    operation_id="proposals_import",
    summary="Create a proposal owned by you from a filled-in issue description, with the import's report",
    request=s.MarkdownImportSerializer,
    responses={201: s.ImportResultSerializer, 400: INVALID, 403: REFUSED},
)
@api_view(["POST"])
def import_create(request: Request) -> Response:
    form = _import_form(request)
    proposal, result = proposal_import_markdown(
        markdown_text=form.cleaned_data["text"], title=form.cleaned_data["title"], owner=request.user
    )
    body = {"proposal": _detail_data(request, proposal.pk), "report": _report_data(import_report(result))}
    return Response(body, status=status.HTTP_201_CREATED)


# --- authors and watchers ------------------------------------------------------------------------


def _people(usernames: list[str], field: str) -> list:
    found = {user.get_username(): user for user in get_user_model().objects.filter(username__in=usernames)}
    unknown = sorted(set(usernames) - set(found))
    if unknown:
        raise ValidationError({field: [f"No such person: {', '.join(unknown)}."]})
    return [found[name] for name in dict.fromkeys(usernames)]


@extend_schema(
    operation_id="proposals_owner_transfer",
    summary="Hand the proposal to another author (its owner or an admin); the new owner is told",
    request=s.OwnerTransferSerializer,
    responses={
        200: s.OwnerTransferredSerializer,
        400: INVALID,
        403: OpenApiResponse(s.RefusalSerializer, description="Only the owner or an admin hands a proposal over."),
        404: NOT_VISIBLE,
    },
)
@api_view(["POST"])
def owner_transfer(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    incoming = s.OwnerTransferSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    (new_owner,) = _people([incoming.validated_data["owner"]], "owner")
    try:
        proposal = services.proposal_transfer_ownership(proposal=proposal, new_owner=new_owner, by=request.user)
    except services.AuthorRefused as refused:
        raise ValidationError({"owner": [str(refused)]}) from refused
    # The previous owner of a confidential proposal may no longer read it: the answer says so, and no more.
    body = {"id": proposal.pk, "owner": new_owner.get_username(), "readable": access.may_read(request.user, proposal)}
    return Response(s.OwnerTransferredSerializer(body).data)


@extend_schema(
    operation_id="proposals_co_authors_set",
    summary="Name the proposal's co-authors (its owner or an admin); they edit it like the owner",
    request=s.CoAuthorsSerializer,
    responses={
        200: s.ProposalDetailSerializer,
        400: INVALID,
        403: OpenApiResponse(s.RefusalSerializer, description="Only the owner or an admin names co-authors."),
        404: NOT_VISIBLE,
    },
)
@api_view(["PUT"])
def co_authors_set(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    incoming = s.CoAuthorsSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    people = _people(incoming.validated_data["co_authors"], "co_authors")
    try:
        services.proposal_set_co_authors(proposal=proposal, co_authors=people, by=request.user)
    except services.AuthorRefused as refused:
        raise ValidationError({"co_authors": [str(refused)]}) from refused
    return Response(_detail_data(request, pk))


@extend_schema(
    methods=["PUT"],
    operation_id="proposals_watch",
    summary="Watch the proposal: its decisions, comments and resubmissions are told to you too",
    request=None,
    responses={200: s.WatchSerializer, 404: NOT_VISIBLE},
)
@extend_schema(
    methods=["DELETE"],
    operation_id="proposals_unwatch",
    summary="Stop watching the proposal",
    request=None,
    responses={200: s.WatchSerializer, 404: NOT_VISIBLE},
)
@api_view(["PUT", "DELETE"])
def watch(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    wanted = request.method == "PUT"
    watching = Watch.objects.filter(proposal=proposal, user=request.user).exists()
    if watching != wanted:
        watching = review_services.proposal_watch_toggle(proposal=proposal, user=request.user)
    body = {"watching": watching, "watchers": Watch.objects.filter(proposal=proposal).count()}
    return Response(s.WatchSerializer(body).data)
