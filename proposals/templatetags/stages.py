"""A proposal's stage and state as one phrase that says what they mean: "GA work · draft", "Approved for GA"."""

from __future__ import annotations

from django import template

from proposals.template import Stage

register = template.Library()

SHORT_STAGE = {Stage.EXPERIMENT: "Experiment", Stage.BETA: "Beta", Stage.GA: "GA"}


@register.filter
def stage_meaning(proposal) -> str:
    stage = SHORT_STAGE.get(Stage(proposal.stage), proposal.get_stage_display())
    state = proposal.state
    if state == proposal.State.APPROVED:
        return f"Approved for {stage}"
    if state == proposal.State.IN_REVIEW:
        return f"{stage} work · in review"
    if state == proposal.State.CLOSED:
        return f"Closed during {stage} work"
    return f"{stage} work · draft"
