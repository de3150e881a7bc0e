"""Stages, and what a proposal still lacks to move through them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from proposals import access, checklists, history
from proposals.content import content_from_proposal
from proposals.markdown import render
from proposals.models import Activity, Approval, Proposal
from proposals.signals import send_proposal_changed
from proposals.template import NEEDS_FIELDS, STAGE_LABELS, Field, Kind, Stage


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


def section_answers(proposal: Proposal, fields: tuple[str, ...]) -> tuple[int, int]:
    """How many of an edit section's answers are written, of how many; title, labels and visibility don't count."""
    answered = total = 0
    for name in fields:
        try:
            field = proposal.definition.field(name)
        except KeyError:
            if name not in NEEDS_FIELDS:
                continue
            filled = bool(str(proposal.field_value(name)).strip())
        else:
            filled = field_is_filled(proposal, field)
        total += 1
        answered += filled
    return answered, total


def completeness(proposal: Proposal) -> list[StageCompleteness]:
    """One meter per stage of the proposal's template, in the template's order."""
    return [stage_completeness(proposal, stage) for stage in proposal.definition.stages]


# --- Gates -------------------------------------------------------------------------------------
#
# Each gate returns the reasons it is closed, in words the author can act on; an empty list
# means open. Gates read prefetched relations where the caller prefetched them, so a page that
# shows all the buttons costs a fixed number of queries. Apps that depend on proposals add
# their own reasons to a gate (the ORR's sign-off to approval) with `add_gate_check`: the
# proposal's rules stay here, and proposals import none of those apps.

MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")

SUBMIT = "submit"
ADVANCE = "advance"
APPROVE = "approve"
CLOSE = "close"
REOPEN = "reopen"

GateCheck = Callable[..., list[str]]


class Reason(str):
    """A gate's reason: a sentence (every caller may treat it as one) that also knows where it is fixed.

    `group` names the part of the proposal it belongs to (a section, a checklist, the ORR) and `anchor` the
    id of that part on the edit page, so a gate's reasons can be shown grouped, each with a link to its place.
    """

    group: str
    anchor: str

    def __new__(cls, text: str, *, group: str = "", anchor: str = "") -> Reason:
        reason = super().__new__(cls, text)
        reason.group = group
        reason.anchor = anchor
        return reason


def reason_groups(reasons) -> list[tuple[str, str, list[str]]]:
    """Reasons as (group, anchor, reasons) in the order their groups first appear; plain strings go ungrouped."""
    groups: dict[str, tuple[str, str, list[str]]] = {}
    for reason in reasons:
        group, anchor = getattr(reason, "group", ""), getattr(reason, "anchor", "")
        groups.setdefault(group, (group, anchor, []))[2].append(reason)
    return list(groups.values())


_gate_checks: dict[str, list[GateCheck]] = {}


def add_gate_check(transition: str, check: GateCheck) -> None:
    """`check(proposal, today=...)` returns reasons that close `transition`'s gate; added once per check."""
    checks = _gate_checks.setdefault(transition, [])
    if check not in checks:
        checks.append(check)


def _added_reasons(transition: str, proposal: Proposal, *, today=None) -> list[str]:
    return [reason for check in _gate_checks.get(transition, ()) for reason in check(proposal, today=today)]


class GateClosed(Exception):
    """A transition was asked for while its gate is closed."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


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
    group = f"{STAGE_LABELS[stage]} checklist"
    reasons = []
    for entry in checklist.items:
        if (stage.value, entry.key) in checked:
            continue
        if entry.verified_by.startswith("label:"):
            label = entry.verified_by.removeprefix("label:")
            reasons.append(Reason(f"Add the ~{label} label", group="Title and visibility", anchor="section-details"))
        elif checklists.is_app_checked(entry.verified_by):
            # Ticked by Stagegate once the field is filled; the missing field is named already.
            continue
        else:
            text = f"Tick “{_plain(entry.text)}” in the {STAGE_LABELS[stage]} checklist"
            reasons.append(Reason(text, group=group, anchor="checklists"))
    return reasons


def stage_work_reasons(proposal: Proposal, stage: Stage) -> list[str]:
    """What the stage's section and checklist still lack."""
    section = stage_completeness(proposal, stage)
    reasons = [
        Reason(f"Fill in “{field.label}” ({STAGE_LABELS[stage]})", **_field_place(proposal, field))
        for field in section.missing
    ]
    return reasons + checklist_reasons(proposal, stage)


def _field_place(proposal: Proposal, field: Field) -> dict:
    """The edit-page part where a field is filled in: its section, or the requirements list."""
    for section in proposal.definition.edit_sections:
        if field.name in section.fields:
            return {"group": section.title, "anchor": f"section-{section.key}"}
    if field.kind == Kind.REQUIREMENTS:
        return {"group": "Requirements", "anchor": "requirements"}
    return {"group": field.label, "anchor": ""}


APPROVERS_ONLY = "Only the working group or an admin who did not write the proposal approves it"


def _permission_reasons(proposal: Proposal, by) -> list[str]:
    if by is None or not proposal.is_editable_by(by):
        return ["Only the proposal's author or an admin can do this"]
    return []


def submit_gate(proposal: Proposal, *, by) -> list[str]:
    """Submit (or resubmit) the proposal's ORR answers to the reviewers."""
    reasons = _permission_reasons(proposal, by)
    if proposal.state == Proposal.State.CLOSED:
        return [*reasons, "The proposal is closed"]
    if proposal.state == Proposal.State.APPROVED:
        return [*reasons, "The proposal is already approved"]
    return reasons + _added_reasons(SUBMIT, proposal)


def advance_gate(proposal: Proposal, *, by) -> list[str]:
    """Move into the next stage's work (Experiment → General Availability, or via Beta)."""
    reasons = _permission_reasons(proposal, by)
    if proposal.state in (Proposal.State.CLOSED, Proposal.State.APPROVED):
        return [*reasons, f"The proposal is {proposal.get_state_display().lower()}"]
    if next_stage(proposal) is None:
        return [*reasons, "This is the last stage"]
    return reasons + stage_work_reasons(proposal, Stage(proposal.stage))


def approve_gate(proposal: Proposal, *, by, today=None) -> list[str]:
    """Approved for General Availability: the working group's (or an admin's) decision, never the author's."""
    reasons = [] if by is not None and access.may_approve(by, proposal) else [APPROVERS_ONLY]
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
        reasons.append(
            Reason(
                "Add at least one research link to back the confidence", group="Research links", anchor="research-links"
            )
        )
    return reasons + _added_reasons(APPROVE, proposal, today=today)


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
    """The buttons this person sees on the proposal, each with the reasons it is disabled.

    The author (and admins) see the author's steps; the working group (and admins who did not write the
    proposal) see approval. Nobody sees a button the rules would never let them press.
    """
    editor = by is not None and access.may_edit(by, proposal)
    approver = by is not None and access.may_approve(by, proposal)
    if proposal.state == Proposal.State.CLOSED:
        return [Transition(REOPEN, "Reopen", tuple(reopen_gate(proposal, by=by)))] if editor else []
    shown = []
    if proposal.state != Proposal.State.APPROVED and editor:
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
    if proposal.state != Proposal.State.APPROVED and approver and Stage.GA in proposal.definition.stages:
        shown.append(
            Transition(APPROVE, "Approve for General Availability", tuple(approve_gate(proposal, by=by, today=today)))
        )
    if editor:
        shown.append(Transition(CLOSE, "Close", tuple(close_gate(proposal, by=by))))
    return shown


def _locked(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def _move(proposal: Proposal, *, by, message: str, recorded: dict | None = None, **changes) -> Proposal:
    """The one way a proposal's stage or state changes: versioned, on the timeline, announced."""
    before = {name: getattr(proposal, name) for name in changes}
    shown_before = history.current_values(proposal, changes)
    for name, value in changes.items():
        setattr(proposal, name, value)
    proposal.version = F("version") + 1
    proposal.save(update_fields=[*changes, "version", "updated_at"])
    proposal.refresh_from_db(fields=["version", "updated_at"])
    history.record_changes(proposal, before=shown_before, after=history.current_values(proposal, changes), by=by)
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.STATE,
        message=message,
        data={name: [str(before[name]), str(value)] for name, value in changes.items()} | (recorded or {}),
    )
    send_proposal_changed(proposal, fields=list(changes), by=by)
    return proposal


@transaction.atomic
def proposal_advance_stage(*, proposal: Proposal, by) -> Proposal:
    proposal = _locked(proposal)
    reasons = advance_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    before, after = Stage(proposal.stage), next_stage(proposal)
    message = f"{by} moved the proposal from {STAGE_LABELS[before]} into {STAGE_LABELS[after]} work"
    return _move(proposal, by=by, message=message, stage=after.value)


@transaction.atomic
def proposal_approve(*, proposal: Proposal, by) -> Proposal:
    proposal = _locked(proposal)
    reasons = approve_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    approval = Approval.objects.create(
        proposal=proposal,
        approved_by=by,
        proposal_version=proposal.version,
        content_sha256=content_sha256(proposal),
    )
    message = f"{by} approved the proposal for General Availability"
    recorded = {"approval": approval.pk, "version": approval.proposal_version, "sha256": approval.content_sha256}
    return _move(proposal, by=by, message=message, recorded=recorded, state=Proposal.State.APPROVED)


def content_sha256(proposal: Proposal) -> str:
    """The fingerprint an approval is bound to: the proposal's Markdown as GitLab shows it."""
    return hashlib.sha256(render(content_from_proposal(proposal)).encode("utf-8")).hexdigest()


@transaction.atomic
def proposal_close(*, proposal: Proposal, by) -> Proposal:
    proposal = _locked(proposal)
    reasons = close_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    return _move(proposal, by=by, message=f"{by} closed the proposal", state=Proposal.State.CLOSED)


@transaction.atomic
def proposal_reopen(*, proposal: Proposal, by) -> Proposal:
    """A reopened proposal starts again as a draft; its reviews keep their decisions."""
    proposal = _locked(proposal)
    reasons = reopen_gate(proposal, by=by)
    if reasons:
        raise GateClosed(reasons)
    return _move(proposal, by=by, message=f"{by} reopened the proposal", state=Proposal.State.DRAFT)


def proposal_enter_review(*, proposal: Proposal, by) -> Proposal:
    """A draft whose ORR answers went to the reviewers. Call inside the submitting transaction,
    after `submit_gate` allowed it, with the proposal row locked."""
    message = f"{by} submitted the proposal for the Operational Requirements Review"
    return _move(proposal, by=by, message=message, state=Proposal.State.IN_REVIEW)


def proposal_return_to_review(*, proposal: Proposal, by, why: str) -> Proposal:
    """An approved proposal whose sign-off no longer holds goes back into review (nothing else moves)."""
    if proposal.state != Proposal.State.APPROVED:
        return proposal
    return _move(proposal, by=by, message=f"Back in review: {why}", state=Proposal.State.IN_REVIEW)
