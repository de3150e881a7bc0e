"""``{% load gitlab_sync %}{% sync_badge proposal %}``: the proposal's sync status, last error, retry button."""

from __future__ import annotations

from django import template

from gitlab_sync.views import badge_context

register = template.Library()


@register.inclusion_tag("gitlab_sync/sync_badge.html", takes_context=True)
def sync_badge(context, proposal):
    request = context.get("request")
    user = getattr(request, "user", None)
    return badge_context(proposal, can_edit=bool(user and proposal.is_editable_by(user)))
