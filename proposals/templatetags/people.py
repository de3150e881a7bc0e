"""The proposal's authors on its page: owner, co-authors, and (for the owner or an admin) handing over."""

from __future__ import annotations

from django import template

from proposals import access, services

register = template.Library()


@register.inclusion_tag("proposals/_people.html", takes_context=True)
def proposal_people(context, proposal):
    user = context["request"].user
    manages = access.may_manage_authors(user, proposal)
    co_authors = list(proposal.co_authors.order_by("username"))
    # Who could become owner or co-author: asked only of those who may hand over or name co-authors.
    possible = list(services.possible_authors()) if manages else []
    taken = {proposal.owner_id, *(person.pk for person in co_authors)}
    return {
        "proposal": proposal,
        "co_authors": co_authors,
        "manages": manages,
        "candidates": [person for person in possible if person.pk not in taken],
        "new_owners": [person for person in possible if person.pk != proposal.owner_id],
        "csrf_token": context.get("csrf_token"),
    }
