"""What a reader of a proposal sees around it, through the API: the GitLab issue's designs, the timeline
and what changed since they last looked.

The same functions as the pages (``gitlab_sync.designs.designs_shown``, ``proposals.timeline.entries_seen_by``
with the timeline page's filters, ``proposals.history.since_last_look``) and the same refusal: a proposal
the reader may not read is a 404.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api import serializers_reading as r
from api.views import INVALID, NOT_VISIBLE, _visible_proposal
from gitlab_sync.designs import designs_shown
from gitlab_sync.models import IssueCollabState, SyncState
from proposals import history, timeline
from proposals.models import Activity
from proposals.views_timeline import ActivityFilter


def _page(request: Request, rows, serializer_class, context: dict) -> Response:
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(rows, request)
    data = serializer_class(page, many=True, context={"request": request, **context}).data
    return paginator.get_paginated_response(data)


# --- designs -------------------------------------------------------------------------------------


@extend_schema(
    operation_id="proposals_designs_list",
    summary="The designs in the GitLab issue's Design Management area, as the proposal page shows them",
    responses={200: r.DesignPageSerializer, 404: NOT_VISIBLE},
)
@api_view(["GET"])
def designs(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    issue_url = SyncState.objects.filter(proposal=proposal).values_list("web_url", flat=True).first() or ""
    read_at = IssueCollabState.objects.filter(proposal=proposal).values_list("designs_read_at", flat=True).first()
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(proposal.issue_designs.order_by("position", "id"), request)
    shown = [{**entry, "read_at": read_at} for entry in designs_shown(page, issue_url)]
    return paginator.get_paginated_response(r.DesignSerializer(shown, many=True).data)


# --- timeline ------------------------------------------------------------------------------------

TIMELINE_FILTERS = [
    OpenApiParameter("kind", str, enum=Activity.Kind.values, description="What kind of entry."),
    OpenApiParameter("person", str, description="Whose entry (`person` of an entry)."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Made on or after this day."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Made on or before this day."),
]


@extend_schema(
    operation_id="proposals_timeline",
    summary="The proposal's timeline, newest first, with the timeline page's filters; "
    "GitLab's internal notes only for those who may see them",
    parameters=TIMELINE_FILTERS,
    responses={200: r.TimelinePageSerializer, 400: INVALID, 404: NOT_VISIBLE},
)
@api_view(["GET"])
def proposal_timeline(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    entries = timeline.entries_seen_by(request.user, proposal)
    # The page offers the people on the entries; a script may name anyone (nobody's entries: no rows).
    person = request.query_params.get("person", "")
    if "\x00" in person:
        raise ValidationError({"person": ["Null characters are not allowed."]})
    if person:
        entries = entries.filter(timeline.person_q(person))
    wanted = QueryDict(mutable=True)
    for name in ActivityFilter.base_filters:
        if name in request.query_params and name != "person":
            wanted[name] = request.query_params[name]
    filters = ActivityFilter(wanted, queryset=entries)
    if not filters.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in filters.errors.items()})
    context = {"person_of": timeline.person_of, "is_internal_note": timeline.is_internal_note}
    return _page(request, filters.qs, r.TimelineEntrySerializer, context)


# --- changed since I last looked -----------------------------------------------------------------


@extend_schema(
    operation_id="proposals_changes_since_last_look",
    summary="What others changed since you last looked (the read page's banner), before and after per part; "
    "does not count as a look",
    responses={200: r.LastLookSerializer, 404: NOT_VISIBLE},
)
@api_view(["GET"])
def changes_since_last_look(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    look = history.since_last_look(proposal, request.user, mark_seen=False)
    context = {"section_titles": history.section_titles(proposal.definition)}
    return Response(r.LastLookSerializer(look, context=context).data)


@extend_schema(
    operation_id="proposals_seen",
    summary="Count this as a look, as opening the read page does: what changed so far is no longer new to you",
    request=None,
    responses={200: r.SeenSerializer, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def proposal_seen(request: Request, pk: int) -> Response:
    proposal = _visible_proposal(request, pk)
    now = timezone.now()
    previous = history.proposal_seen(proposal, request.user, now=now)
    return Response(r.SeenSerializer({"last_looked": now, "previous": previous}).data)
