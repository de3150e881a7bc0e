"""Review data for the proposal pages, which may not import the reviews app themselves.

{% load orr %}
{% orr_answers proposal %}   the author's ORR answers with autosave (edit page)
{% orr_gates proposal %}     submit / stage buttons with the reasons they are disabled, and the ORR status
{% decision_reason decision proposal reader as reason %}   a decision's reason as this reader is shown it
"""

from django import template

register = template.Library()


@register.inclusion_tag("reviews/orr_answers.html#orr-answers", takes_context=True)
def orr_answers(context, proposal):
    from reviews.views import answers_context

    return {**answers_context(proposal, user=context["request"].user), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("reviews/_gates.html", takes_context=True)
def orr_gates(context, proposal):
    from reviews.views import gates_context

    return {**gates_context(proposal, user=context["request"].user), "csrf_token": context.get("csrf_token")}


@register.simple_tag
def decision_reason(decision, proposal, reader) -> str:
    """`Decision.reason_for`: "" when the reason was given in an internal note this reader may not see."""
    return decision.reason_for(reader, proposal) if decision is not None else ""
