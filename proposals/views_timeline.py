"""A proposal's timeline page: every entry, filtered by kind, person and date, paged and exported as CSV."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from proposals import timeline
from proposals.csv_export import streamed_csv
from proposals.models import Activity, Proposal
from proposals.views import with_proposal

TIMELINE_PAGE = "proposals/timeline.html"
TIMELINE_PAGE_SIZE = 50


class ActivityFilter(django_filters.FilterSet):
    """The timeline's filters: what kind of entry, whose, and when."""

    kind = django_filters.ChoiceFilter(label="Kind", choices=Activity.Kind.choices, empty_label="Every kind")
    person = django_filters.ChoiceFilter(label="Person", method="by_person", empty_label="Anyone")
    date_from = django_filters.DateFilter(
        label="From", field_name="created_at", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label="To", field_name="created_at", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Activity
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people on entries this reader sees: an internal note's author is not named to others.
        # Read when the form needs them (to show or to check a name), not for a reader who names nobody.
        entries = self.queryset
        self.filters["person"].extra["choices"] = lambda: [(name, name) for name in timeline.people_in(entries)]

    def by_person(self, queryset, name: str, value: str):
        return queryset.filter(timeline.person_q(value))


def _entries(request: HttpRequest, proposal: Proposal) -> ActivityFilter:
    return ActivityFilter(request.GET, queryset=timeline.entries_seen_by(request.user, proposal))


@require_GET
@with_proposal()
def proposal_timeline(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    """The proposal's whole timeline, newest first, a page at a time."""
    filters = _entries(request, proposal)
    page = Paginator(filters.qs, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "proposal": proposal,
        "filters": filters,
        "page": page,
        "rows": [
            {"entry": entry, "person": timeline.person_of(entry), "internal": timeline.is_internal_note(entry)}
            for entry in page.object_list
        ],
    }
    template = TIMELINE_PAGE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#timeline-results"
    return render(request, template, context)


@require_GET
@with_proposal()
def proposal_timeline_csv(request: HttpRequest, proposal: Proposal) -> StreamingHttpResponse:
    """The filtered timeline as CSV, streamed however long it is."""
    entries = _entries(request, proposal).qs
    kinds = dict(Activity.Kind.choices)
    rows = (
        (
            entry.created_at.isoformat(),
            timeline.person_of(entry),
            kinds.get(entry.kind, entry.kind),
            "yes" if timeline.is_internal_note(entry) else "no",
            entry.message,
        )
        for entry in entries.iterator(chunk_size=500)
    )
    return streamed_csv(
        header=["created_at", "person", "kind", "internal", "message"],
        rows=rows,
        filename=f"proposal-{proposal.pk}-timeline.csv",
    )
