"""``{% load gitlab_sync %}{% sync_badge proposal %}``: the proposal's sync status, last error, retry button.
``{% connection_alerts %}``: what stops or soon stops the GitLab connection, on every page, for admins."""

from __future__ import annotations

from django import template

from gitlab_sync.views import badge_context, connection_alerts_context

register = template.Library()


@register.inclusion_tag("gitlab_sync/sync_badge.html", takes_context=True)
def sync_badge(context, proposal):
    request = context.get("request")
    user = getattr(request, "user", None)
    return badge_context(proposal, can_edit=bool(user and proposal.is_editable_by(user)))


@register.inclusion_tag("gitlab_sync/connection_alerts.html", takes_context=True)
def connection_alerts(context):
    request = context.get("request")
    return connection_alerts_context(getattr(request, "user", None))
