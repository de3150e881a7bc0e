"""Every write to a proposal goes through here: atomic, recorded on the timeline, queued for GitLab."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from proposals.models import Activity, ChecklistItem, Proposal, Requirement, ResearchLink
from proposals.signals import Origin, proposal_created, send_proposal_changed
from proposals.template import Stage

# Autosave sends many saves a minute; the timeline records one edit per person and section in this window.
EDIT_ACTIVITY_WINDOW = timedelta(minutes=10)


class StaleSection(Exception):
    """Someone else saved this section since the author's form was loaded."""

    def __init__(self, *, current: dict, submitted: dict, proposal: Proposal):
        super().__init__("This section was changed by someone else.")
        self.current = current
        self.submitted = submitted
        self.proposal = proposal


MOVE_UP = "up"
MOVE_DOWN = "down"


def proposal_bump_version(proposal: Proposal) -> None:
    """An open form must learn that the proposal changed: its version is the form's base."""
    Proposal.objects.filter(pk=proposal.pk).update(version=F("version") + 1, updated_at=timezone.now())
    proposal.refresh_from_db(fields=["version", "updated_at"])


def _ensure_editable(proposal: Proposal, by) -> None:
    if not proposal.is_editable_by(by):
        raise PermissionDenied("Only the proposal's author or an admin can change it.")


def section_values(proposal: Proposal, fields: tuple[str, ...]) -> dict:
    values = {}
    for name in fields:
        if name == "persona_tags":
            values[name] = sorted(proposal.persona_tags.values_list("pk", flat=True))
        elif name == "labels":
            values[name] = list(proposal.labels)
        else:
            values[name] = proposal.field_value(name)
    return values


def section_fingerprint(values: dict) -> str:
    """A short hash of a section's values: the base a form was loaded from."""
    encoded = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def create_checklist_items(proposal: Proposal) -> None:
    rows = []
    for checklist in proposal.definition.checklists:
        for position, entry in enumerate(checklist.items):
            rows.append(ChecklistItem(proposal=proposal, stage=checklist.stage.value, key=entry.key, position=position))
    ChecklistItem.objects.bulk_create(rows, ignore_conflicts=True)


@transaction.atomic
def proposal_create(
    *,
    title: str,
    owner,
    confidential: bool = False,
    template_version: str | None = None,
    origin: Origin = Origin.STAGEGATE,
) -> Proposal:
    proposal = Proposal(title=title.strip(), owner=owner, confidential=confidential)
    if template_version:
        proposal.template_version = template_version
    proposal.labels = [proposal.definition.label]
    proposal.full_clean()
    proposal.save()
    create_checklist_items(proposal)
    refresh_verified_checklist(proposal)
    Activity.objects.record(proposal, actor=owner, kind=Activity.Kind.CREATED, message=f"{owner} created the proposal")
    proposal_created.send(sender=Proposal, proposal=proposal, by=owner, origin=Origin(origin))
    send_proposal_changed(proposal, fields=["created"], by=owner, origin=origin)
    return proposal


def _set_values(proposal: Proposal, values: dict) -> None:
    model_fields = {f.name for f in Proposal._meta.get_fields()}
    for name, value in values.items():
        if name == "persona_tags":
            continue
        if name in model_fields:
            setattr(proposal, name, value)
        else:
            proposal.extra_fields[name] = value


@transaction.atomic
def proposal_update_section(
    *, proposal: Proposal, fields: tuple[str, ...], data: dict, version: int, base: str, by, section_title: str
) -> Proposal:
    """Save one section. A stale version is fine when nobody touched this section since the form loaded."""
    _ensure_editable(proposal, by)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    current = section_values(proposal, fields)
    submitted = {name: data[name] for name in fields if name in data}
    if version != proposal.version and section_fingerprint(current) != base:
        if all(current.get(name) == value for name, value in submitted.items()):
            return proposal
        raise StaleSection(current=current, submitted=submitted, proposal=proposal)
    changed = [name for name, value in submitted.items() if current.get(name) != value]
    if not changed:
        return proposal
    _set_values(proposal, submitted)
    proposal.version = F("version") + 1
    proposal.save()
    proposal.refresh_from_db()
    if "persona_tags" in changed:
        proposal.persona_tags.set(submitted["persona_tags"])
    refresh_verified_checklist(proposal)
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} edited {section_title}",
        data={"section": section_title, "fields": changed},
        unless_within=EDIT_ACTIVITY_WINDOW,
        same=("section",),
    )
    send_proposal_changed(proposal, fields=changed, by=by)
    return proposal


# Checks that apps depending on proposals add for the items they can verify (the ORR's sign-off),
# by the name the template gives in an item's `verified_by`.
_verifiers: dict[str, Callable[[Proposal], bool]] = {}


def register_verifier(name: str, check: Callable[[Proposal], bool]) -> None:
    _verifiers[name] = check


def verified_state(proposal: Proposal, verified_by: str) -> bool:
    """Whether the data itself satisfies a checklist item the app can check."""
    if verified_by in _verifiers:
        return _verifiers[verified_by](proposal)
    if verified_by.startswith("label:"):
        return verified_by.removeprefix("label:") in proposal.labels
    if verified_by == "personas":
        return bool(proposal.personas.strip()) or proposal.persona_tags.exists()
    return bool(str(proposal.field_value(verified_by)).strip())


def refresh_verified_checklist(proposal: Proposal) -> None:
    """Tick and untick the items the app can verify, so they always agree with the data."""
    now = timezone.now()
    items = {(item.stage, item.key): item for item in proposal.checklist_items.all()}
    for checklist in proposal.definition.checklists:
        for entry in checklist.items:
            item = items.get((checklist.stage.value, entry.key))
            if item is None or not entry.verified_by:
                continue
            should_be = verified_state(proposal, entry.verified_by)
            if item.checked != should_be or not item.checked_by_app:
                item.checked = should_be
                item.checked_by_app = True
                item.checked_by = None
                item.checked_at = now if should_be else None
                item.save(update_fields=["checked", "checked_by_app", "checked_by", "checked_at"])


class ChecklistItemVerified(Exception):
    """The item follows the data; it cannot be ticked by hand."""


@transaction.atomic
def checklist_toggle(*, item: ChecklistItem, checked: bool, by) -> ChecklistItem:
    proposal = item.proposal
    _ensure_editable(proposal, by)
    entry = item.entry
    if entry is not None and entry.verified_by:
        raise ChecklistItemVerified(
            f"Stagegate ticks “{entry.text}” itself when the proposal satisfies it; fill in the proposal instead."
        )
    if item.checked == checked:
        return item
    item.checked = checked
    item.checked_by = by if checked else None
    item.checked_at = timezone.now() if checked else None
    item.save(update_fields=["checked", "checked_by", "checked_at"])
    proposal_bump_version(proposal)
    verb = "ticked" if checked else "unticked"
    stage_label = Stage(item.stage).name.title()
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.CHECKLIST,
        message=f"{by} {verb} “{entry.text if entry else item.key}” ({stage_label})",
        data={"stage": item.stage, "key": item.key, "checked": checked},
    )
    send_proposal_changed(proposal, fields=["checklist"], by=by)
    return item


def _next_position(queryset) -> int:
    last = queryset.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


# The two ordered lists of a proposal: how the timeline names them.
ORDERED_ROWS = {
    Requirement: (Activity.Kind.REQUIREMENT, "requirement", "requirements"),
    ResearchLink: (Activity.Kind.RESEARCH, "research link", "research links"),
}


def _list_changed(proposal: Proposal, *, row, by, message: str) -> None:
    proposal_bump_version(proposal)
    kind, _, plural = ORDERED_ROWS[type(row)]
    Activity.objects.record(proposal, actor=by, kind=kind, message=f"{by} {message}")
    send_proposal_changed(proposal, fields=[plural.replace(" ", "_")], by=by)


def _add_row(row, *, by):
    proposal = row.proposal
    _ensure_editable(proposal, by)
    row.position = _next_position(type(row).objects.filter(proposal=proposal))
    row.full_clean()
    row.save()
    _list_changed(proposal, row=row, by=by, message=f"added a {ORDERED_ROWS[type(row)][1]}: {str(row)[:200]}")
    return row


@transaction.atomic
def requirement_add(*, proposal: Proposal, text: str, by) -> Requirement:
    return _add_row(Requirement(proposal=proposal, text=text.strip()), by=by)


@transaction.atomic
def research_link_add(*, proposal: Proposal, url: str, title: str, by) -> ResearchLink:
    return _add_row(ResearchLink(proposal=proposal, url=url.strip(), title=title.strip()), by=by)


@transaction.atomic
def ordered_row_move(*, row: Requirement | ResearchLink, direction: str, by) -> None:
    """Swap a requirement or research link with its neighbour; nothing happens at either end."""
    proposal = row.proposal
    _ensure_editable(proposal, by)
    ordered = list(type(row).objects.filter(proposal=proposal).select_for_update().order_by("position", "id"))
    index = next(i for i, sibling in enumerate(ordered) if sibling.pk == row.pk)
    target = index - 1 if direction == MOVE_UP else index + 1
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, sibling in enumerate(ordered):
        sibling.position = position
    type(row).objects.bulk_update(ordered, ["position"])
    _list_changed(proposal, row=row, by=by, message=f"reordered the {ORDERED_ROWS[type(row)][2]}")


@transaction.atomic
def ordered_row_remove(*, row: Requirement | ResearchLink, by) -> None:
    proposal = row.proposal
    _ensure_editable(proposal, by)
    label = str(row)[:200]
    row.delete()
    _list_changed(proposal, row=row, by=by, message=f"removed a {ORDERED_ROWS[type(row)][1]}: {label}")
