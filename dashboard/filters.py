"""The dashboard's filters: the proposal list's, plus the ORR area, its review state, a label and the sort."""

from __future__ import annotations

from functools import cached_property

import django_filters
from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import QueryDict

from proposals.filters import ProposalFilter, no_control_characters
from proposals.models import Proposal
from proposals.template import Stage
from reviews.models import OrrArea, Review

STAGES = tuple(Stage)
CONFIDENCES = tuple(Proposal.Confidence)


def _stage_order():
    return Case(
        *(When(stage=stage.value, then=Value(i)) for i, stage in enumerate(STAGES)),
        default=Value(len(STAGES)),
        output_field=IntegerField(),
    )


def _confidence_order():
    return Case(
        *(When(confidence=c.value, then=Value(i)) for i, c in enumerate(CONFIDENCES)),
        default=Value(len(CONFIDENCES)),
        output_field=IntegerField(),
    )


SORTS = {
    "title": ("Title", lambda: F("title")),
    "owner": ("Owner", lambda: F("owner__username")),
    "stage": ("Stage", _stage_order),
    "state": ("State", lambda: F("state")),
    "confidence": ("Confidence", _confidence_order),
    "created": ("Created", lambda: F("created_at")),
    "updated": ("Updated", lambda: F("updated_at")),
}
SORT_CHOICES = [(prefix + key, prefix + key) for key in SORTS for prefix in ("", "-")]
DEFAULT_SORT = "-updated"


def sorted_proposals(proposals: QuerySet[Proposal], sort: str) -> QuerySet[Proposal]:
    key = sort.removeprefix("-")
    expression = SORTS[key][1]()
    if sort.startswith("-"):
        return proposals.order_by(expression.desc(), "-id")
    return proposals.order_by(expression.asc(), "id")


def _has_label(label: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(labels__contains=[label])
    # SQLite cannot ask "does this JSON list hold this item"; the quoted item in its text is the same question.
    return Q(labels__icontains=f'"{label}"')


class DashboardFilter(ProposalFilter):
    """What the URL asks of the dashboard. An invalid value drops that filter alone, so a stale link still opens.

    An area alone keeps every proposal (it narrows the matrix columns and the review figures); with an area
    state it keeps those whose review there is in that state. The sort orders the matrix and the CSV.
    """

    area = django_filters.ChoiceFilter(label="ORR area", method="keep_every_proposal", empty_label="All areas")
    area_state = django_filters.ChoiceFilter(
        label="Area state", choices=Review.Status.choices, method="with_review_in_state", empty_label="Any state"
    )
    label = django_filters.CharFilter(method="with_label", max_length=100, validators=[no_control_characters])
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="keep_every_proposal")

    def __init__(self, data: QueryDict, *, queryset: QuerySet[Proposal], areas: list[OrrArea]):
        super().__init__(data, queryset=queryset)
        self.areas = areas
        # The areas are read once per request, here, rather than by a ModelChoiceField's own query.
        self.filters["area"].extra["choices"] = [(area.key, f"{area.number}. {area.title}") for area in areas]
        page = data.get("page", "1")
        self.page = page if page.isdecimal() and len(page) <= 10 else "1"

    @classmethod
    def for_viewer(cls, data: QueryDict, *, user) -> DashboardFilter:
        """The filters over the proposals this person may see: one query, for the ORR areas."""
        areas = list(OrrArea.objects.order_by("number"))
        return cls(data, queryset=Proposal.objects.visible_to(user), areas=areas)

    @cached_property
    def chosen(self) -> dict[str, str]:
        """Each filter's applied value, "" where it is unset or was invalid (read once per option of the
        form's owner list: worked out once)."""
        self.is_valid()
        return {name: self.form.cleaned_data.get(name, "") for name in self.filters}

    @property
    def ordering(self) -> str:
        return self.chosen["sort"] or DEFAULT_SORT

    @property
    def orr_area(self) -> OrrArea | None:
        return next((area for area in self.areas if area.key == self.chosen["area"]), None)

    @property
    def active(self) -> bool:
        return any(value for name, value in self.chosen.items() if name != "sort")

    @property
    def query(self) -> QueryDict:
        """The URL query of what is applied: no empty field, no default sort, no first page."""
        query = QueryDict(mutable=True)
        for name, value in self.chosen.items():
            if value and value != {"sort": DEFAULT_SORT}.get(name):
                query[name] = value
        if self.page != "1":
            query["page"] = self.page
        return query

    def keep_every_proposal(self, proposals: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        return proposals

    def with_review_in_state(self, proposals: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        reviews = Review.objects.filter(proposal=OuterRef("pk"), status=value)
        if self.orr_area is not None:
            reviews = reviews.filter(area=self.orr_area)
        return proposals.filter(Exists(reviews))

    def with_label(self, proposals: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        return proposals.filter(_has_label(value))
