"""A proposal's history pages: every change with a word-level diff, filtered, paged and exported."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from proposals import history
from proposals.csv_export import streamed_csv
from proposals.models import FieldChange, Proposal
from proposals.textdiff import inline_word_diff
from proposals.views import with_proposal

HISTORY_PAGE = "proposals/history.html"
HISTORY_PAGE_SIZE = 25


class FieldChangeFilter(django_filters.FilterSet):
    """The history's filters: which section, what kind of change, whose, and when."""

    section = django_filters.ChoiceFilter(label="Section", empty_label="Every section")
    kind = django_filters.ChoiceFilter(
        label="Kind", choices=list(history.KINDS.items()), method="of_kind", empty_label="Every kind"
    )
    person = django_filters.ChoiceFilter(label="Person", field_name="actor_name", empty_label="Anyone")
    date_from = django_filters.DateFilter(
        label="From", field_name="changed_at", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label="To", field_name="changed_at", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = FieldChange
        fields: list[str] = []

    def __init__(self, *args, proposal: Proposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["section"].extra["choices"] = list(history.section_titles(proposal.definition).items())
        people = (
            FieldChange.objects.filter(proposal=proposal).exclude(actor_name="").values_list("actor_name", flat=True)
        )
        self.filters["person"].extra["choices"] = [(name, name) for name in sorted(set(people), key=str.casefold)]

    def of_kind(self, queryset, name: str, value: str):
        return queryset.filter(history.kind_q(value))


def _changes(request: HttpRequest, proposal: Proposal) -> FieldChangeFilter:
    rows = FieldChange.objects.filter(proposal=proposal).order_by("-changed_at", "-id")
    return FieldChangeFilter(request.GET, queryset=rows, proposal=proposal)


def _since(request: HttpRequest) -> datetime | None:
    value = parse_datetime(request.GET.get("since", "") or "")
    return value if value is not None and value.tzinfo is not None else None


def history_rows(rows, proposal: Proposal) -> list[dict]:
    """Each change ready to show: who, where from, which part, and its word diff."""
    definition = proposal.definition
    titles = history.section_titles(definition)
    return [
        {
            "change": row,
            "label": history.part_label(definition, row.field),
            "section": titles.get(row.section, row.section),
            "diff": inline_word_diff(row.before, row.after),
        }
        for row in rows
    ]


@require_GET
@with_proposal()
def proposal_history(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    """The proposal's history, newest first; with ``since``, first what changed since then, part by part."""
    filters = _changes(request, proposal)
    page = Paginator(filters.qs, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    since = _since(request)
    context = {
        "proposal": proposal,
        "filters": filters,
        "page": page,
        "rows": history_rows(page.object_list, proposal),
        "since": since,
        "summary": summary_rows(history.changes_since(proposal, since)) if since else [],
    }
    template = HISTORY_PAGE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#history-results"
    return render(request, template, context)


def summary_rows(changes: list[history.PartChange]) -> list[dict]:
    return [{"change": change, "diff": inline_word_diff(change.before, change.after)} for change in changes]


@require_GET
@with_proposal()
def proposal_history_csv(request: HttpRequest, proposal: Proposal) -> StreamingHttpResponse:
    """The filtered history as CSV, streamed row by row however long it is."""
    filters = _changes(request, proposal)
    definition = proposal.definition
    titles = history.section_titles(definition)
    rows = (
        (
            row.changed_at.isoformat(),
            row.started_at.isoformat(),
            row.actor_name,
            row.get_origin_display(),
            titles.get(row.section, row.section),
            history.part_label(definition, row.field),
            row.before,
            row.after,
        )
        for row in filters.qs.iterator(chunk_size=500)
    )
    return streamed_csv(
        header=["changed_at", "started_at", "person", "origin", "section", "part", "before", "after"],
        rows=rows,
        filename=f"proposal-{proposal.pk}-history.csv",
    )
