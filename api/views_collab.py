"""The proposal's discussion, its linked issues and its history, through the API.

The same services as the proposal page's partials (``gitlab_sync.collab_views``, ``proposals.views_history``)
with the same refusals: an invisible proposal is a 404; an internal note does not exist for a reader who may
not see internal notes; a comment is changed by its writer only; links by those who change the proposal.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api import serializers_collab as c
from api.views import INVALID, NOT_VISIBLE, NOT_YOURS, REFUSED, _visible_proposal
from gitlab_sync import discussion, links
from gitlab_sync.models import IssueComment
from proposals import access, history
from proposals.models import FieldChange, Proposal
from proposals.views_history import FieldChangeFilter


def _page(request: Request, rows, serializer_class, context: dict) -> Response:
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(rows, request)
    data = serializer_class(page, many=True, context={"request": request, "viewer": request.user, **context}).data
    return paginator.get_paginated_response(data)


# --- the discussion ------------------------------------------------------------------------------


def _comment(request: Request, proposal: Proposal, comment_id: int) -> IssueComment:
    """A comment this reader may see and that is still there; any other is a 404."""
    comments = IssueComment.objects.filter(proposal=proposal, deleted_at__isnull=True)
    if not access.may_see_internal_notes(request.user, proposal):
        comments = comments.filter(internal=False)
    comment = comments.filter(pk=comment_id).first()
    if comment is None:
        raise Http404("No such comment, or not visible to you.")
    return comment


def _posted(request: Request, proposal: Proposal, reply_to: IssueComment | None) -> Response:
    if not access.may_comment(request.user, proposal):
        raise PermissionDenied("You may not comment on this proposal.")
    incoming = c.CommentWriteSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    try:
        comment = discussion.comment_post(
            proposal=proposal, body=incoming.validated_data["body"], by=request.user, reply_to=reply_to
        )
    except discussion.CommentRefused as refused:
        raise ValidationError({"body": [refused.message]}) from refused
    data = c.CommentSerializer(comment, context={"viewer": request.user}).data
    return Response(data, status=status.HTTP_201_CREATED)


@extend_schema(
    methods=["GET"],
    operation_id="proposals_comments_list",
    summary="The discussion mirrored with the GitLab issue: threads in order, internal notes only for those allowed",
    responses={200: c.ThreadPageSerializer, 404: NOT_VISIBLE},
)
@extend_schema(
    methods=["POST"],
    operation_id="proposals_comment_create",
    summary="Start a thread; the worker posts it to the GitLab issue (as you, or signed with your name)",
    request=c.CommentWriteSerializer,
    responses={201: c.CommentSerializer, 400: INVALID, 403: REFUSED, 404: NOT_VISIBLE},
)
@api_view(["GET", "POST"])
def comments(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    if request.method == "POST":
        return _posted(request, proposal, None)
    return _page(request, discussion.threads_for(proposal, request.user), c.ThreadSerializer, {})


@extend_schema(
    operation_id="proposals_comment_reply",
    summary="Reply in a comment's thread; the reply keeps the thread (and an internal thread stays internal)",
    request=c.CommentWriteSerializer,
    responses={201: c.CommentSerializer, 400: INVALID, 403: REFUSED, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def comment_reply(request: Request, pk: int, comment_id: int) -> Response:
    proposal = _visible_proposal(request, pk)
    return _posted(request, proposal, _comment(request, proposal, comment_id))


@extend_schema(
    methods=["PATCH"],
    operation_id="proposals_comment_edit",
    summary="Change a comment you wrote in Stagegate; its GitLab note changes too",
    request=c.CommentWriteSerializer,
    responses={200: c.CommentSerializer, 400: INVALID, 403: REFUSED, 404: NOT_VISIBLE},
)
@extend_schema(
    methods=["DELETE"],
    operation_id="proposals_comment_delete",
    summary="Delete a comment you wrote in Stagegate; its GitLab note is deleted too",
    request=None,
    responses={204: None, 403: REFUSED, 404: NOT_VISIBLE},
)
@api_view(["PATCH", "DELETE"])
def comment_change(request: Request, pk: int, comment_id: int) -> Response:
    proposal = _visible_proposal(request, pk)
    comment = _comment(request, proposal, comment_id)
    if comment.written_by_id is None or comment.written_by_id != request.user.pk:
        raise PermissionDenied("Only its writer can change a comment written in Stagegate.")
    if request.method == "DELETE":
        discussion.comment_delete(comment=comment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
    incoming = c.CommentWriteSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    try:
        comment = discussion.comment_edit(comment=comment, body=incoming.validated_data["body"], by=request.user)
    except discussion.CommentRefused as refused:
        raise ValidationError({"body": [refused.message]}) from refused
    return Response(c.CommentSerializer(comment, context={"viewer": request.user}).data)


# --- linked issues -------------------------------------------------------------------------------


def _linkable(request: Request, pk: int) -> Proposal:
    proposal = _visible_proposal(request, pk)
    if not access.may_change_content(request.user, proposal):
        raise PermissionDenied("Only the proposal's author or an admin can change its links.")
    return proposal


@extend_schema(
    methods=["GET"],
    operation_id="proposals_linked_issues_list",
    summary="The GitLab issue's linked issues and how they are linked (a confidential issue's title for members only)",
    responses={200: c.LinkedIssuePageSerializer, 404: NOT_VISIBLE},
)
@extend_schema(
    methods=["POST"],
    operation_id="proposals_linked_issue_add",
    summary="Link another issue on GitLab; answers the links as GitLab now has them",
    request=c.LinkAddSerializer,
    responses={201: c.LinkedIssueSerializer(many=True), 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["GET", "POST"])
def linked_issues(request: Request, pk: int) -> Response:
    if request.method == "GET":
        proposal = _visible_proposal(request, pk)
        return _page(request, links.visible_links(proposal, request.user), c.LinkedIssueSerializer, {})
    proposal = _linkable(request, pk)
    incoming = c.LinkAddSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    try:
        links.link_add(proposal=proposal, by=request.user, **incoming.validated_data)
    except links.LinkRefused as refused:
        raise ValidationError({"reference": [refused.message]}) from refused
    shown = links.visible_links(proposal, request.user)
    return Response(c.LinkedIssueSerializer(shown, many=True).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="proposals_linked_issue_remove",
    summary="Remove a link on GitLab (a link already gone there is gone here too)",
    request=None,
    responses={204: None, 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["DELETE"])
def linked_issue_remove(request: Request, pk: int, link_id: int) -> Response:
    proposal = _linkable(request, pk)
    link = proposal.linked_issues.filter(pk=link_id).first()
    if link is None:
        raise Http404("That link is already gone.")
    try:
        links.link_remove(proposal=proposal, link=link, by=request.user)
    except links.LinkRefused as refused:
        return Response({"detail": refused.message}, status=status.HTTP_400_BAD_REQUEST)
    return Response(status=status.HTTP_204_NO_CONTENT)


# --- history -------------------------------------------------------------------------------------

HISTORY_FILTERS = [
    OpenApiParameter("section", str, description="A section key (`section` of a change)."),
    OpenApiParameter("kind", str, enum=list(history.KINDS), description="What kind of part changed."),
    OpenApiParameter("person", str, description="Who made the change (`person` of a change)."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Changed on or after this day."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Changed on or before this day."),
]


@extend_schema(
    operation_id="proposals_history",
    summary="Every change to the proposal's parts with before and after, newest first; the history page's filters",
    parameters=HISTORY_FILTERS,
    responses={200: c.FieldChangePageSerializer, 400: INVALID, 404: NOT_VISIBLE},
)
@api_view(["GET"])
def proposal_history(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    rows = FieldChange.objects.filter(proposal=proposal).order_by("-changed_at", "-id")
    # The page offers the people who changed something; a script may name anyone (no change is no row).
    person = request.query_params.get("person", "")
    if "\x00" in person:
        raise ValidationError({"person": ["Null characters are not allowed."]})
    if person:
        rows = rows.filter(actor_name=person)
    wanted = QueryDict(mutable=True)
    for name in FieldChangeFilter.base_filters:
        if name in request.query_params and name != "person":
            wanted[name] = request.query_params[name]
    filters = FieldChangeFilter(wanted, queryset=rows, proposal=proposal)
    if not filters.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in filters.errors.items()})
    definition = proposal.definition
    context = {
        "labels": lambda key: history.part_label(definition, key),
        "section_titles": history.section_titles(definition),
    }
    return _page(request, filters.qs, c.FieldChangeSerializer, context)
