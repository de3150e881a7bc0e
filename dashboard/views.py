from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from dashboard.bottleneck import bottleneck
from dashboard.charts import dashboard_charts, sort_headers
from dashboard.export import csv_chunks
from dashboard.filters import DashboardFilter
from dashboard.queries import dashboard_figures, filter_choices
from dashboard.summary import summary_choices, summary_figures
from proposals.filters import CONFIDENCE_CHOICES
from proposals.models import Proposal

PAGE = "dashboard/index.html"


@require_GET
@login_required
def dashboard_index(request: HttpRequest) -> HttpResponse:
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    filters = DashboardFilter.for_viewer(request.GET, user=request.user)
    now = timezone.now()
    figures = summary_figures(filters, user=request.user, now=now) or dashboard_figures(filters, now=now)
    # The filter form sits outside the swapped part, so an htmx update skips its choices.
    choices = figures.pop("choices", None)
    if choices is None and not partial:
        # Filtered figures are live, but the form lists what the reader may see whatever the filters.
        choices = (filters.active and summary_choices(request.user, now=now)) or filter_choices(filters.queryset)
    context = {
        **figures,
        **dashboard_charts(figures),
        "bottleneck": bottleneck(figures["review_waits"], figures["reviewer_load"]),
        "filters": filters,
        "sort_headers": sort_headers(filters.ordering),
        "choices": None if partial else choices,
        "states": Proposal.State.choices,
        "confidences": CONFIDENCE_CHOICES,
    }
    response = render(request, PAGE + "#dashboard-body" if partial else PAGE, context)
    if partial:
        # The form sends every field, empty ones too; the address bar gets the tidy URL of the same view.
        query = filters.query.urlencode()
        push_url(response, request.path + (f"?{query}" if query else ""))
    return response


@require_GET
@login_required
def dashboard_csv(request: HttpRequest) -> StreamingHttpResponse:
    filters = DashboardFilter.for_viewer(request.GET, user=request.user)
    chunks = csv_chunks(filters.qs, areas=filters.areas, sort=filters.ordering)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return StreamingHttpResponse(
        chunks,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="stagegate-proposals-{stamp}.csv"'},
    )
