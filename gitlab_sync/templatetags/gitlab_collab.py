"""``{% load gitlab_collab %}``: the proposal page's linked issues and designs, and its discussion."""

from __future__ import annotations

from django import template

from gitlab_sync.collab_views import DISCUSSION_PAGE, LINKS_PAGE, discussion_context, links_context

register = template.Library()


@register.inclusion_tag(LINKS_PAGE, takes_context=True)
def issue_links(context, proposal):
    return {**links_context(proposal, context["request"].user), "request": context["request"]}


@register.inclusion_tag(DISCUSSION_PAGE, takes_context=True)
def issue_discussion(context, proposal):
    return {**discussion_context(proposal, context["request"].user), "request": context["request"]}
