"""History and saved views where other pages show them: "since the sign-off" and the saved-views panel."""

from __future__ import annotations

from django import template

from proposals import history
from proposals.models import SavedView
from proposals.views_history import summary_rows

register = template.Library()


@register.inclusion_tag("proposals/history_since_signoff.html")
def history_since(proposal, since, *, decided_by=None):
    """What changed in the whole proposal after ``since`` (a decision's time), part by part, with diffs."""
    changes = history.changes_since(proposal, since) if since else []
    return {"proposal": proposal, "since": since, "decided_by": decided_by, "summary": summary_rows(changes)}


@register.inclusion_tag("proposals/history_since_signoff.html")
def history_since_decision(review):
    """For a review's page: what changed in the whole proposal since the area's current decision was made.

    ``review`` is anything with ``.proposal`` and ``.current_decision`` (``decided_at``, ``decided_by``).
    """
    decision = review.current_decision
    if decision is None:
        return {"since": None}
    return history_since(review.proposal, decision.decided_at, decided_by=decision.decided_by)


@register.inclusion_tag("proposals/saved_views.html", takes_context=True)
def saved_views(context, page: str):
    """The person's saved views of this page, and a form saving the current filters under a name."""
    request = context["request"]
    views = list(SavedView.objects.filter(owner=request.user, page=page)) if request.user.is_authenticated else []
    return {
        "views": views,
        "page": page,
        "query": request.GET.urlencode(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
