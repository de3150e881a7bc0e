"""Stages, and what a proposal still lacks to move through them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from proposals.models import Proposal
from proposals.template import STAGE_LABELS, Field, Kind, Stage


def field_is_filled(proposal: Proposal, field: Field) -> bool:
    """Reads prefetched relations only (requirements, persona_tags), so a list of proposals costs no extra query."""
    if field.kind == Kind.REQUIREMENTS:
        return bool(proposal.requirements.all())
    if field.kind == Kind.CONFIDENCE:
        return bool(proposal.confidence)
    if field.kind == Kind.PERSONAS:
        return bool(proposal.personas.strip()) or bool(proposal.persona_tags.all())
    return bool(str(proposal.field_value(field.name)).strip())


@dataclass(frozen=True)
class StageCompleteness:
    stage: Stage
    filled: int
    total: int
    missing: tuple[Field, ...]

    @property
    def label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def percent(self) -> int:
        return round(100 * self.filled / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return not self.missing


def stage_completeness(proposal: Proposal, stage: Stage) -> StageCompleteness:
    required = [f for f in proposal.definition.fields_for(stage) if f.required]
    missing = tuple(f for f in required if not field_is_filled(proposal, f))
    return StageCompleteness(stage=stage, filled=len(required) - len(missing), total=len(required), missing=missing)


def completeness(proposal: Proposal) -> list[StageCompleteness]:
    """One meter per stage of the proposal's template, in the template's order."""
    return [stage_completeness(proposal, stage) for stage in proposal.definition.stages]


# --- Gates -------------------------------------------------------------------------------------
#
# Each gate returns the reasons it is closed, in words the author can act on; an empty list
# means open. Gates read prefetched relations where the caller prefetched them, so a page that
# shows all the buttons costs a fixed number of queries. Review data comes through the reverse
# relation `proposal.reviews` and plain status strings: proposals never import the reviews app.

# Review statuses, as stored by reviews.models.Review.Status.
ORR_APPROVED = "approved"
ORR_NOT_APPLICABLE = "not_applicable"
ORR_SIGNED_OFF = (ORR_APPROVED, ORR_NOT_APPLICABLE)
ORR_STATUS_REASONS = {
    "not_started": "not submitted for review yet",
    "in_review": "waiting for a reviewer's decision",
    "changes_requested": "changes requested",
    "stale": "sign-off is stale: the answer changed after it was signed",
    "waiver_expired": "the not-applicable waiver expired; it needs a new decision",
}

MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")

SUBMIT = "submit"
ADVANCE = "advance"
APPROVE = "approve"
CLOSE = "close"
REOPEN = "reopen"


class GateClosed(Exception):
    """A transition was asked for while its gate is closed."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _prefetched(proposal: Proposal, name: str):
    cache = getattr(proposal, "_prefetched_objects_cache", {})
    return cache.get(name)


def proposal_reviews(proposal: Proposal) -> list:
    """The proposal's ORR reviews in area order, with area and current decision loaded once."""
    prefetched = _prefetched(proposal, "reviews")
    if prefetched is not None:
        return sorted(prefetched, key=lambda review: review.area.number)
    return list(
        proposal.reviews.select_related(
            "area", "area__reviewer_group", "current_decision", "current_decision__decided_by", "reviewer"
        ).order_by("area__number")
    )


def next_stage(proposal: Proposal) -> Stage | None:
    stages = proposal.definition.stages
    current = Stage(proposal.stage)
    if current not in stages:
        return stages[0] if stages else None
    index = stages.index(current)
    return stages[index + 1] if index + 1 < len(stages) else None


def _plain(markdown: str) -> str:
    """A checklist item's text without its Markdown links, for a sentence on a button."""
    return MARKDOWN_LINK.sub(r"\1", markdown)


def checklist_reasons(proposal: Proposal, stage: Stage) -> list[str]:
    checklist = proposal.definition.checklist(stage)
    if checklist is None:
        return []
    checked = {(item.stage, item.key) for item in proposal.checklist_items.all() if item.checked}
    reasons = []
    for entry in checklist.items:
        if (stage.value, entry.key) in checked:
            continue
        if entry.verified_by.startswith("label:"):
            reasons.append(f"Add the ~{entry.verified_by.removeprefix('label:')} label")
        elif entry.verified_by:
            # Ticked by Stagegate once the field is filled; the missing field is named already.
            continue
        else:
            reasons.append(f"Tick “{_plain(entry.text)}” in the {STAGE_LABELS[stage]} checklist")
    return reasons


def stage_work_reasons(proposal: Proposal, stage: Stage) -> list[str]:
    """What the stage's section and checklist still lack."""
    section = stage_completeness(proposal, stage)
    reasons = [f"Fill in “{field.label}” ({STAGE_LABELS[stage]})" for field in section.missing]
    return reasons + checklist_reasons(proposal, stage)


def orr_reasons(proposal: Proposal, *, today=None) -> list[str]:
    """Why the five ORR areas are not all signed off (approved or not applicable, none stale)."""
    from django.utils import timezone

    today = today or timezone.localdate()
    reviews = proposal_reviews(proposal)
    if not reviews:
        return ["The ORR areas have not been set up for this proposal"]
    reasons = []
    for review in reviews:
        title = review.area.title
        decision = review.current_decision
        if review.status == ORR_NOT_APPLICABLE and decision and decision.waiver_expires_on:
            if decision.waiver_expires_on < today:
                reasons.append(f"ORR “{title}”: {ORR_STATUS_REASONS['waiver_expired']}")
            continue
        if review.status not in ORR_SIGNED_OFF:
            reasons.append(f"ORR “{title}”: {ORR_STATUS_REASONS.get(review.status, review.status)}")
    return reasons


def _permission_reasons(proposal: Proposal, by) -> list[str]:
    if by is None or not proposal.is_editable_by(by):
        return ["Only the proposal's author or an admin can do this"]
    return []


def submit_gate(proposal: Proposal, *, by) -> list[str]:
    """Submit (or resubmit) the ORR answers to the reviewers."""
    reasons = _permission_reasons(proposal, by)
    if proposal.state == Proposal.State.CLOSED:
        return [*reasons, "The proposal is closed"]
    if proposal.state == Proposal.State.APPROVED:
        return [*reasons, "The proposal is already approved"]
    reviews = proposal_reviews(proposal)
    if not reviews:
        return [*reasons, "The ORR areas have not been set up for this proposal"]
    if proposal.state == Proposal.State.IN_REVIEW:
        if not any(review.status == "changes_requested" for review in reviews):
            reasons.append("Already in review: nothing waits for a resubmission")
        return reasons
    reasons += [f"Answer the ORR area “{review.area.title}”" for review in reviews if not review.answer.strip()]
    return reasons


def advance_gate(proposal: Proposal, *, by) -> list[str]:
    """Move into the next stage's work (Experiment → General Availability, or via Beta)."""
    reasons = _permission_reasons(proposal, by)
    if proposal.state in (Proposal.State.CLOSED, Proposal.State.APPROVED):
        return [*reasons, f"The proposal is {proposal.get_state_display().lower()}"]
    if next_stage(proposal) is None:
        return [*reasons, "This is the last stage"]
    return reasons + stage_work_reasons(proposal, Stage(proposal.stage))


def approve_gate(proposal: Proposal, *, by, today=None) -> list[str]:
    """Approved for General Availability."""
    reasons = _permission_reasons(proposal, by)
    if proposal.state == Proposal.State.CLOSED:
        return [*reasons, "The proposal is closed"]
    if proposal.state == Proposal.State.APPROVED:
        return [*reasons, "The proposal is already approved"]
    if proposal.stage != Stage.GA:
        reasons.append("Move into General Availability work first")
    if proposal.state == Proposal.State.DRAFT:
        reasons.append("Submit the ORR answers for review first")
    reasons += stage_work_reasons(proposal, Stage.GA)
    if proposal.confidence and not list(proposal.research_links.all()):
        reasons.append("Add at least one research link to back the confidence")
    reasons += orr_reasons(proposal, today=today)
    return reasons


def close_gate(proposal: Proposal, *, by) -> list[str]:
    reasons = _permission_reasons(proposal, by)
    if proposal.state == Proposal.State.CLOSED:
        reasons.append("The proposal is already closed")
    return reasons


def reopen_gate(proposal: Proposal, *, by) -> list[str]:
    reasons = _permission_reasons(proposal, by)
    if proposal.state != Proposal.State.CLOSED:
        reasons.append("Only a closed proposal can be reopened")
    return reasons


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    reasons: tuple[str, ...]

    @property
    def enabled(self) -> bool:
        return not self.reasons


def transitions(proposal: Proposal, *, by, today=None) -> list[Transition]:
    """The buttons the author sees on the proposal, each with the reasons it is disabled."""
    if proposal.state == Proposal.State.CLOSED:
        return [Transition(REOPEN, "Reopen", tuple(reopen_gate(proposal, by=by)))]
    shown = []
    if proposal.state != Proposal.State.APPROVED:
        resubmit = proposal.state == Proposal.State.IN_REVIEW
        shown.append(
            Transition(
                SUBMIT, "Resubmit for review" if resubmit else "Submit for review", tuple(submit_gate(proposal, by=by))
            )
        )
        upcoming = next_stage(proposal)
        if upcoming is not None:
            shown.append(
                Transition(ADVANCE, f"Move into {STAGE_LABELS[upcoming]} work", tuple(advance_gate(proposal, by=by)))
            )
        if Stage.GA in proposal.definition.stages:
            shown.append(
                Transition(
                    APPROVE, "Approve for General Availability", tuple(approve_gate(proposal, by=by, today=today))
                )
            )
    shown.append(Transition(CLOSE, "Close", tuple(close_gate(proposal, by=by))))
    return shown


def _record_state(proposal: Proposal, *, by, message: str, data: dict) -> None:
    from proposals.models import Activity

    Activity.objects.create(proposal=proposal, actor=by, kind=Activity.Kind.STATE, message=message, data=data)


def _locked(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def _save_state(proposal: Proposal, fields: list[str]) -> None:
    from django.db.models import F

    from proposals.services import mark_for_sync

    proposal.version = F("version") + 1
    proposal.save(update_fields=[*fields, "version", "updated_at"])
    proposal.refresh_from_db(fields=["version", "updated_at"])
    mark_for_sync(proposal)


@transaction.atomic
def proposal_advance_stage(*, proposal: Proposal, by) -> Proposal:
    proposal = _locked(proposal)
    reasons = advance_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    before = Stage(proposal.stage)
    after = next_stage(proposal)
    proposal.stage = after.value
    _save_state(proposal, ["stage"])
    _record_state(
        proposal,
        by=by,
        message=f"{by} moved the proposal from {STAGE_LABELS[before]} into {STAGE_LABELS[after]} work",
        data={"stage": [before.value, after.value]},
    )
    return proposal


@transaction.atomic
def proposal_approve(*, proposal: Proposal, by) -> Proposal:
    proposal = _locked(proposal)
    reasons = approve_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    before = proposal.state
    proposal.state = Proposal.State.APPROVED
    _save_state(proposal, ["state"])
    _record_state(
        proposal,
        by=by,
        message=f"{by} approved the proposal for General Availability",
        data={"state": [before, proposal.state]},
    )
    return proposal


@transaction.atomic
def proposal_close(*, proposal: Proposal, by) -> Proposal:
    proposal = _locked(proposal)
    reasons = close_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    before = proposal.state
    proposal.state = Proposal.State.CLOSED
    _save_state(proposal, ["state"])
    _record_state(proposal, by=by, message=f"{by} closed the proposal", data={"state": [before, proposal.state]})
    return proposal


@transaction.atomic
def proposal_reopen(*, proposal: Proposal, by) -> Proposal:
    """A reopened proposal starts again as a draft; its reviews keep their decisions."""
    proposal = _locked(proposal)
    reasons = reopen_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    proposal.state = Proposal.State.DRAFT
    _save_state(proposal, ["state"])
    _record_state(
        proposal, by=by, message=f"{by} reopened the proposal", data={"state": [Proposal.State.CLOSED, proposal.state]}
    )
    return proposal
