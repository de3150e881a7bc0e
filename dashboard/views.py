from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from dashboard import queries as dashboard
from proposals.models import Proposal

PAGE = "dashboard/index.html"


@require_GET
@login_required
def dashboard_index(request: HttpRequest) -> HttpResponse:
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    # The filter form sits outside the swapped part, so an htmx update skips its choices.
    context = dashboard.dashboard_context(
        user=request.user, params=request.GET, now=timezone.now(), with_choices=not partial
    )
    response = render(request, PAGE + "#dashboard-body" if partial else PAGE, context)
    if partial:
        # The form sends every field, empty ones too; the address bar gets the tidy URL of the same view.
        query = context["filters"].querystring()
        push_url(response, request.path + (f"?{query}" if query else ""))
    return response


@require_GET
@login_required
def dashboard_csv(request: HttpRequest) -> StreamingHttpResponse:
    areas = list(dashboard.OrrArea.objects.order_by("number"))
    filters = dashboard.DashboardFilters.from_query(request.GET, area_keys={area.key for area in areas})
    shown = filters.apply(Proposal.objects.visible_to(request.user))
    chunks = dashboard.csv_chunks(shown, areas=areas, sort=filters.sort)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return StreamingHttpResponse(
        chunks,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="stagegate-proposals-{stamp}.csv"'},
    )
