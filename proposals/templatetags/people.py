"""The proposal's authors on its page: owner, co-authors, and (for the owner or an admin) handing over."""

from __future__ import annotations

from django import template

from proposals import access

register = template.Library()


@register.inclusion_tag("proposals/_people.html", takes_context=True)
def proposal_people(context, proposal):
    user = context["request"].user
    manages = access.may_manage_authors(user, proposal)
    # People are named by username, checked when the form is sent (`services.possible_authors` is the rule):
    # a list of every possible author would grow with the organisation on every visit of the page.
    return {
        "proposal": proposal,
        "co_authors": list(proposal.co_authors.order_by("username")),
        "manages": manages,
        "csrf_token": context.get("csrf_token"),
    }
