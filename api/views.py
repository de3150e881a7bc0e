"""The JSON API: thin views over the same querysets and services as the pages.

Who sees what is decided by ``Proposal.objects.visible_to`` and who changes what by
``Proposal.objects.editable_by`` and the services' own checks, exactly as on the pages:
an invisible proposal is a 404, a visible one the user may not change is a 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api import serializers as s
from dashboard import queries as dashboard
from dashboard.filters import DashboardFilter
from proposals import access, services
from proposals.filters import UNSET, ProposalFilter
from proposals.forms import ProposalCreateForm, edit_sections, section_form_class
from proposals.models import ChecklistItem, Proposal
from proposals.workflow import GateClosed
from reviews import services as review_services
from reviews.models import Decision, Review, Watch

REFUSED = OpenApiResponse(s.RefusalSerializer, description="Refused: the message says why.")
INVALID = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Invalid input (the errors by field) or refused (`detail` says why)."
)
NOT_VISIBLE = OpenApiResponse(s.RefusalSerializer, description="No such proposal or review, or not visible to you.")
NOT_YOURS = OpenApiResponse(
    s.RefusalSerializer, description="Visible, but only its authors (owner, co-authors) or an admin may change it."
)


def _paginated(request: Request, queryset, serializer_class) -> Response:
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(queryset, request)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


def _form_errors(form) -> ValidationError:
    return ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})


def _visible_proposal(request: Request, pk: int, queryset=None) -> Proposal:
    base = queryset if queryset is not None else Proposal.objects.all()
    return get_object_or_404(base.visible_to(request.user), pk=pk)


def _editable_proposal(request: Request, pk: int) -> Proposal:
    proposal = _visible_proposal(request, pk)
    if not Proposal.objects.editable_by(request.user).filter(pk=proposal.pk).exists():
        raise PermissionDenied("Only the proposal's author or an admin can change it.")
    return proposal


def _sections(proposal: Proposal) -> list[dict]:
    sections = []
    for section in edit_sections(proposal):
        fields = section_form_class(proposal.definition, section.key).section.fields
        values = services.section_values(proposal, fields)
        sections.append(
            {
                "key": section.key,
                "title": section.title,
                "stage": section.stage.value,
                "values": values,
                "base": services.section_fingerprint(values),
            }
        )
    return sections


def _detail_data(request: Request, pk: int) -> dict:
    queryset = Proposal.objects.select_related("owner").prefetch_related(
        "persona_tags",
        "requirements",
        "research_links",
        "checklist_items",
        "co_authors",
        Prefetch("watches", queryset=Watch.objects.select_related("user").order_by("user__username")),
        Prefetch("reviews", queryset=Review.objects.select_related("area", "reviewer")),
    )
    proposal = _visible_proposal(request, pk, queryset)
    proposal.sections = _sections(proposal)
    proposal.editable = proposal.is_editable_by(request.user)
    proposal.watchers = [watch.user.get_username() for watch in proposal.watches.all()]
    return s.ProposalDetailSerializer(proposal, context={"request": request}).data


def _detail_response(request: Request, pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(_detail_data(request, pk), status=status_code)


# --- proposals -----------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    operation_id="proposals_list",
    summary="Proposals you may see, newest change first",
    parameters=[
        OpenApiParameter("q", str, description="Search title, user problem, job story and owner."),
        OpenApiParameter("stage", str, enum=[value for value, _ in Proposal.STAGE_CHOICES]),
        OpenApiParameter("state", str, enum=Proposal.State.values),
        OpenApiParameter("confidence", str, enum=[*Proposal.Confidence.values, UNSET]),
        OpenApiParameter("owner", str, description="Owner's username."),
        OpenApiParameter("unbacked", bool, description="Only High confidence with no research link behind it."),
    ],
    responses={200: s.ProposalPageSerializer, 400: OpenApiTypes.OBJECT, 404: NOT_VISIBLE},
)
@extend_schema(
    methods=["POST"],
    operation_id="proposals_create",
    summary="Create a proposal owned by you",
    request=s.ProposalCreateSerializer,
    responses={201: s.ProposalDetailSerializer, 400: OpenApiTypes.OBJECT, 403: REFUSED},
)
@api_view(["GET", "POST"])
def proposal_list(request: Request) -> Response:
    if request.method == "POST":
        if not access.may_create(request.user):
            raise PermissionDenied("Only authors and admins can create proposals.")
        incoming = s.ProposalCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = ProposalCreateForm(incoming.validated_data)
        if not form.is_valid():
            raise _form_errors(form)
        proposal = services.proposal_create(
            title=form.cleaned_data["title"], owner=request.user, confidential=form.cleaned_data["confidential"]
        )
        return _detail_response(request, proposal.pk, status_code=status.HTTP_201_CREATED)

    filters = ProposalFilter(request.query_params, queryset=Proposal.objects.visible_to(request.user).for_list())
    if not filters.is_valid():
        raise _form_errors(filters)
    proposals = filters.qs.order_by("-updated_at", "-id")
    return _paginated(request, proposals, s.ProposalSummarySerializer)


@extend_schema(
    operation_id="proposals_retrieve",
    summary="One proposal: its sections with their lock values, checklists, requirements, research and reviews",
    responses={200: s.ProposalDetailSerializer, 404: NOT_VISIBLE},
)
@api_view(["GET"])
def proposal_detail(request: Request, pk: int) -> Response:
    return _detail_response(request, pk)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _form_data(name: str, value) -> object:
    """A JSON value as the section form expects it from a browser."""
    if name == "labels":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError({"values": {name: ["A list of label names."]}})
        return ", ".join(value)
    if name == "persona_tags":
        if not isinstance(value, list) or not all(_is_id(item) for item in value):
            raise ValidationError({"values": {name: ["A list of persona ids."]}})
        return [str(item) for item in value]
    if name == "confidential":
        if not isinstance(value, bool):
            raise ValidationError({"values": {name: ["true or false."]}})
        return value
    if not isinstance(value, str):
        raise ValidationError({"values": {name: ["A string."]}})
    return value


@extend_schema(
    operation_id="proposals_section_save",
    summary="Save some fields of one section, guarded by the version and base you read",
    description=(
        "Send the proposal's `version` and the section's `base` as read. When someone changed the same "
        "section since, nothing is saved and the answer is 409 with their values and yours."
    ),
    request=s.SectionSaveSerializer,
    responses={
        200: s.ProposalDetailSerializer,
        400: OpenApiTypes.OBJECT,
        403: NOT_YOURS,
        404: NOT_VISIBLE,
        409: s.SectionConflictSerializer,
    },
)
@api_view(["PATCH"])
def section_save(request: Request, pk: int, section_key: str) -> Response:
    proposal = _editable_proposal(request, pk)
    try:
        form_class = section_form_class(proposal.definition, section_key)
    except KeyError:
        return Response({"detail": "This proposal has no such section."}, status=status.HTTP_404_NOT_FOUND)
    incoming = s.SectionSaveSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    section = form_class.section
    submitted = incoming.validated_data["values"]
    unknown = sorted(set(submitted) - set(section.fields))
    if unknown:
        raise ValidationError({"values": [f"Not a field of this section: {', '.join(unknown)}."]})
    if not submitted:
        raise ValidationError({"values": ["Send at least one field."]})

    current = services.section_values(proposal, section.fields)
    data = {name: _form_data(name, value) for name, value in {**current, **submitted}.items()}
    data.update(version=incoming.validated_data["version"], base=incoming.validated_data["base"] or "none")
    form = form_class(data)
    if not form.is_valid():
        raise _form_errors(form)
    cleaned = form.section_data()
    try:
        services.proposal_update_section(
            proposal=proposal,
            fields=section.fields,
            data={name: cleaned[name] for name in submitted},
            version=form.cleaned_data["version"],
            base=form.cleaned_data["base"],
            by=request.user,
            section_title=section.title,
        )
    except services.StaleSection as stale:
        current_values = services.section_values(stale.proposal, section.fields)
        body = {
            "detail": str(stale),
            "current": stale.current,
            "submitted": stale.submitted,
            "version": stale.proposal.version,
            "base": services.section_fingerprint(current_values),
        }
        return Response(s.SectionConflictSerializer(body).data, status=status.HTTP_409_CONFLICT)
    return _detail_response(request, pk)


@extend_schema(
    operation_id="proposals_checklist_toggle",
    summary="Tick or untick a checklist item",
    request=s.ChecklistToggleSerializer,
    responses={200: s.ChecklistItemSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def checklist_toggle(request: Request, pk: int, item_id: int) -> Response:
    proposal = _editable_proposal(request, pk)
    item = get_object_or_404(ChecklistItem.objects.select_related("proposal"), pk=item_id, proposal=proposal)
    incoming = s.ChecklistToggleSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    try:
        item = services.checklist_toggle(item=item, checked=incoming.validated_data["checked"], by=request.user)
    except services.ChecklistItemVerified as verified:
        return Response({"detail": str(verified)}, status=status.HTTP_400_BAD_REQUEST)
    return Response(s.ChecklistItemSerializer(item).data)


@extend_schema(
    operation_id="proposals_requirement_add",
    summary="Add a requirement (“The user needs to be able to: …”) at the end of the list",
    request=s.RequirementSerializer,
    responses={201: s.RequirementSerializer, 400: OpenApiTypes.OBJECT, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def requirement_add(request: Request, pk: int) -> Response:
    proposal = _editable_proposal(request, pk)
    incoming = s.RequirementSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    text = incoming.validated_data["text"]
    if not text.strip():
        raise ValidationError({"text": ["Write the requirement."]})
    requirement = services.requirement_add(proposal=proposal, text=text, by=request.user)
    return Response(s.RequirementSerializer(requirement).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="proposals_research_link_add",
    summary="Add a research link backing the confidence",
    request=s.ResearchLinkSerializer,
    responses={201: s.ResearchLinkSerializer, 400: OpenApiTypes.OBJECT, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def research_link_add(request: Request, pk: int) -> Response:
    proposal = _editable_proposal(request, pk)
    incoming = s.ResearchLinkSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    link = services.research_link_add(
        proposal=proposal,
        url=incoming.validated_data["url"],
        title=incoming.validated_data.get("title", ""),
        by=request.user,
    )
    return Response(s.ResearchLinkSerializer(link).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="proposals_submit",
    summary="Submit the ORR answers to the reviewers (or resubmit after changes were requested); "
    "each review names who was told (`told`, empty when nobody could be)",
    request=None,
    responses={200: s.SubmittedReviewSerializer(many=True), 400: REFUSED, 403: NOT_YOURS, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def proposal_submit(request: Request, pk: int) -> Response:
    proposal = _editable_proposal(request, pk)
    try:
        reviews = review_services.review_submit_for_review(proposal=proposal, by=request.user)
    except GateClosed as closed:
        return Response({"detail": "Not yet.", "reasons": closed.reasons}, status=status.HTTP_400_BAD_REQUEST)
    except review_services.ReviewRefused as refused:
        return Response({"detail": str(refused)}, status=status.HTTP_400_BAD_REQUEST)
    told = {review.pk: [user.username for user in review.told] for review in reviews}
    reviews = Review.objects.filter(pk__in=list(told)).select_related("proposal", "area", "reviewer")
    return Response(s.SubmittedReviewSerializer(reviews, many=True, context={"told": told}).data)


# --- reviews -------------------------------------------------------------------------------------


def _visible_reviews(request: Request):
    return Review.objects.filter(proposal__in=Proposal.objects.visible_to(request.user))


@extend_schema(
    operation_id="reviews_list",
    summary="ORR reviews of the proposals you may see",
    parameters=[
        OpenApiParameter("queue", bool, description="Only what waits for your decision."),
        OpenApiParameter("proposal", int),
        OpenApiParameter("area", str, description="Area key, e.g. `data`."),
        OpenApiParameter("status", str, enum=Review.Status.values),
    ],
    responses={200: s.ReviewPageSerializer, 400: OpenApiTypes.OBJECT, 404: NOT_VISIBLE},
)
@api_view(["GET"])
def review_list(request: Request) -> Response:
    params = s.ReviewFilterSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    wanted = params.validated_data
    reviews = _visible_reviews(request)
    if wanted.get("queue"):
        reviews = reviews.filter(pk__in=Review.objects.for_reviewer(request.user).waiting().values("pk"))
    if wanted.get("proposal") is not None:
        reviews = reviews.filter(proposal_id=wanted["proposal"])
    if wanted.get("area"):
        reviews = reviews.filter(area__key=wanted["area"])
    if wanted.get("status"):
        reviews = reviews.filter(status=wanted["status"])
    reviews = reviews.select_related("proposal", "area", "reviewer").order_by("proposal_id", "area__number", "pk")
    return _paginated(request, reviews, s.ReviewSummarySerializer)


def _review_detail(request: Request, pk: int) -> Review:
    queryset = _visible_reviews(request).select_related(
        "proposal", "proposal__owner", "area", "area__reviewer_group", "reviewer", "current_decision"
    )
    queryset = queryset.prefetch_related(
        Prefetch("decisions", queryset=Decision.objects.select_related("decided_by").order_by("-decided_at", "-pk"))
    )
    return get_object_or_404(queryset, pk=pk)


@extend_schema(
    operation_id="reviews_retrieve",
    summary="One review: the author's answer, its hash and every decision made on it",
    responses={200: s.ReviewDetailSerializer, 404: NOT_VISIBLE},
)
@api_view(["GET"])
def review_detail(request: Request, pk: int) -> Response:
    return Response(s.ReviewDetailSerializer(_review_detail(request, pk), context={"request": request}).data)


@extend_schema(
    operation_id="reviews_decide",
    summary="Approve, request changes or mark not applicable, bound to the answer you read",
    request=s.DecisionCreateSerializer,
    responses={201: s.DecisionSerializer, 400: INVALID, 403: REFUSED, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def review_decide(request: Request, pk: int) -> Response:
    review = _review_detail(request, pk)
    # Who may not decide hears so first, whatever they sent.
    forbidden = review_services.decide_refusal(review, by=request.user)
    if isinstance(forbidden, review_services.DecisionForbidden):
        return Response({"detail": str(forbidden)}, status=status.HTTP_403_FORBIDDEN)
    incoming = s.DecisionCreateSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    data = incoming.validated_data
    try:
        decision = review_services.review_decide(
            review=review,
            kind=data["kind"],
            comment=data["comment"],
            answer_sha256_read=data["answer_sha256"],
            waiver_expires_on=data["waiver_expires_on"],
            by=request.user,
        )
    except review_services.DecisionForbidden as forbidden:
        return Response({"detail": str(forbidden)}, status=status.HTTP_403_FORBIDDEN)
    except review_services.ReviewRefused as refused:
        return Response({"detail": str(refused)}, status=status.HTTP_400_BAD_REQUEST)
    return Response(s.DecisionSerializer(decision, context={"request": request}).data, status=status.HTTP_201_CREATED)


def _hold(request: Request, pk: int, *, take: bool) -> Response:
    review = _review_detail(request, pk)
    try:
        review_services.review_hold(review=review, by=request.user, take=take)
    except review_services.DecisionForbidden as forbidden:
        return Response({"detail": str(forbidden)}, status=status.HTTP_403_FORBIDDEN)
    except review_services.ReviewRefused as refused:
        return Response({"detail": str(refused)}, status=status.HTTP_400_BAD_REQUEST)
    return Response(s.ReviewDetailSerializer(_review_detail(request, pk), context={"request": request}).data)


@extend_schema(
    operation_id="reviews_take",
    summary="Take a group review (assign it to yourself); you must be a current reviewer of its area",
    request=None,
    responses={200: s.ReviewDetailSerializer, 400: REFUSED, 403: REFUSED, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def review_take(request: Request, pk: int) -> Response:
    return _hold(request, pk, take=True)


@extend_schema(
    operation_id="reviews_hand_back",
    summary="Hand a review you have back to its area's reviewer group",
    request=None,
    responses={200: s.ReviewDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
)
@api_view(["POST"])
def review_hand_back(request: Request, pk: int) -> Response:
    return _hold(request, pk, take=False)


@extend_schema(
    operation_id="reviews_answer_save",
    summary="Save the author's answer for the area, guarded by the hash of the answer you edited",
    request=s.AnswerSaveSerializer,
    responses={
        200: s.ReviewDetailSerializer,
        400: INVALID,
        403: NOT_YOURS,
        404: NOT_VISIBLE,
        409: s.AnswerConflictSerializer,
    },
)
@api_view(["PUT"])
def review_answer(request: Request, pk: int) -> Response:
    review = _review_detail(request, pk)
    incoming = s.AnswerSaveSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    try:
        review_services.review_answer_save(
            review=review,
            answer=incoming.validated_data["answer"],
            base_sha256=incoming.validated_data["base_sha256"],
            by=request.user,
        )
    except review_services.AnswerConflict as conflict:
        body = {
            "detail": str(conflict),
            "current": conflict.current,
            "current_sha256": conflict.current_sha256,
            "submitted": conflict.submitted,
        }
        return Response(body, status=status.HTTP_409_CONFLICT)
    except review_services.ReviewRefused as refused:
        return Response({"detail": str(refused)}, status=status.HTTP_400_BAD_REQUEST)
    return Response(s.ReviewDetailSerializer(_review_detail(request, pk), context={"request": request}).data)


# --- dashboard -----------------------------------------------------------------------------------


@extend_schema(
    operation_id="dashboard_figures",
    summary="The working group's figures over the proposals you may see",
    description="Takes the dashboard page's filters (`stage`, `state`, `confidence`, `unbacked`, `owner`, `area`, "
    "`label`, `q`).",
    responses={200: s.DashboardSerializer},
)
@api_view(["GET"])
def dashboard_figures(request: Request) -> Response:
    # The page's own figures, computed once by the dashboard module: the API and the page cannot disagree.
    filters = DashboardFilter.for_viewer(request.query_params, user=request.user)
    page = dashboard.dashboard_figures(filters, now=timezone.now())
    blocked, stale, spreads, sync = page["blocked"], page["stale"], page["time_in_stage"], page["sync"]
    figures = {
        "proposals": page["total"],
        "unbacked_confidence": page["unbacked_confidence"],
        "stages": [
            {
                "stage": row.stage.value,
                "label": row.label,
                "total": row.total,
                "by_state": row.by_state,
                "by_confidence": row.by_confidence,
                "moved_week": row.moved_week,
                "moved_month": row.moved_month,
            }
            for row in page["stages"]
        ],
        "ga_blocked": {
            "total": blocked.total,
            "proposals": [{"id": b.proposal.pk, "title": b.proposal.title, "reasons": b.reasons} for b in blocked.rows],
        },
        "stale": {"days": stale.days, "proposals": stale.proposals.total, "reviews": stale.reviews.total},
        "time_in_stage": [vars(spread) for spread in spreads] if spreads is not None else None,
        "review_waits": [vars(spread) for spread in page["review_waits"]],
        "reviewer_load": [{"reviewer": name, "open_reviews": count} for name, count in page["reviewer_load"]],
        "sync": {
            "installed": sync.installed,
            "enabled": sync.enabled,
            "failed": sync.counts.get("failed", 0),
            "pending": sync.counts.get("pending", 0),
        },
    }
    return Response(s.DashboardSerializer(figures).data)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def not_found(request: Request, path: str = "") -> Response:
    """Any other address under /api/: a JSON 404, like every other API answer (no HTML page)."""
    return Response({"detail": "No such API address."}, status=status.HTTP_404_NOT_FOUND)
