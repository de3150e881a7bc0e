"""Every write to a proposal goes through here: atomic, recorded on the timeline, queued for GitLab."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from proposals import access, history
from proposals.checklists import create_checklist_items, refresh_verified_checklist
from proposals.content import TITLE, content_from_proposal, content_with_values, normalise_title, proposal_apply_content
from proposals.markdown import canonical_text
from proposals.models import TITLE_MAX_LENGTH, Activity, ChecklistItem, Persona, Proposal, Requirement, ResearchLink
from proposals.signals import Origin, proposal_created, send_proposal_changed
from proposals.template import Stage
from proposals.validators import (
    LINK_TITLE_MAX_LENGTH,
    REQUIREMENT_MAX_LENGTH,
    ContentInvalid,
    link_error,
    one_line_error,
)

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


def ensure_content_changeable(proposal: Proposal, by) -> None:
    """The one check before a person changes a proposal's content, whichever way the change comes."""
    if not proposal.is_editable_by(by):
        raise PermissionDenied("Only the proposal's author or an admin can change it.")
    if not access.may_change_content(by, proposal):
        raise PermissionDenied("The proposal is closed; reopen it to change it.")


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


@transaction.atomic
def proposal_create(
    *,
    title: str,
    owner,
    confidential: bool = False,
    template_version: str | None = None,
    origin: Origin = Origin.STAGEGATE,
) -> Proposal:
    problem = "is empty" if not title.strip() else one_line_error(title.strip(), max_length=TITLE_MAX_LENGTH)
    if problem:
        raise ContentInvalid({"Title": problem})
    proposal = Proposal(title=normalise_title(title), owner=owner, confidential=confidential)
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


# The issue's own attributes in the details section; everything else a section saves is content.
PROPOSAL_ATTRIBUTES = ("labels", "confidential")


def _content_values(submitted: dict) -> dict:
    """A section's submitted values as content values (see proposals.content)."""
    values = {}
    for name, value in submitted.items():
        if name == "title":
            values[TITLE] = value
        elif name == "confidence":
            values["confidence"] = value
        elif name == "persona_tags":
            values["persona_tags"] = list(Persona.objects.filter(pk__in=value).values_list("name", flat=True))
        else:
            values[f"field:{name}"] = value
    return values


@transaction.atomic
def proposal_update_section(
    *, proposal: Proposal, fields: tuple[str, ...], data: dict, version: int, base: str, by, section_title: str
) -> Proposal:
    """Save one section. A stale version is fine when nobody touched this section since the form loaded."""
    ensure_content_changeable(proposal, by)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    current = section_values(proposal, fields)
    submitted = {name: _as_stored(name, data[name]) for name in fields if name in data}
    if version != proposal.version and section_fingerprint(current) != base:
        if all(current.get(name) == value for name, value in submitted.items()):
            return proposal
        raise StaleSection(current=current, submitted=submitted, proposal=proposal)
    changed = [name for name, value in submitted.items() if current.get(name) != value]
    if not changed:
        return proposal
    attributes = [name for name in changed if name in PROPOSAL_ATTRIBUTES]
    attributes_before = history.current_values(proposal, attributes)
    for name in attributes:
        setattr(proposal, name, submitted[name])
    if attributes:
        proposal.save(update_fields=[*attributes, "updated_at"])
        history.record_changes(
            proposal, before=attributes_before, after=history.current_values(proposal, attributes), by=by
        )
    values = _content_values({name: submitted[name] for name in changed if name not in PROPOSAL_ATTRIBUTES})
    if values:
        content = content_with_values(content_from_proposal(proposal), values)
        proposal_apply_content(proposal=proposal, content=content, keys=set(values), title=values.get(TITLE), by=by)
    else:
        proposal_bump_version(proposal)
        refresh_verified_checklist(proposal)
        send_proposal_changed(proposal, fields=changed, by=by)
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} edited {section_title}",
        data={"section": section_title, "fields": changed},
        unless_within=EDIT_ACTIVITY_WINDOW,
        same=("section",),
    )
    return proposal


def _as_stored(name: str, value):
    """Text as the proposal keeps it (line endings as \\n, no blank lines around), so a resave is no change."""
    if isinstance(value, str) and name not in ("title", "confidence"):
        return canonical_text(value)
    if name == "title":
        return normalise_title(value)
    return value


class ChecklistItemVerified(Exception):
    """The item follows the data; it cannot be ticked by hand."""


@transaction.atomic
def checklist_toggle(*, item: ChecklistItem, checked: bool, by) -> ChecklistItem:
    proposal = item.proposal
    ensure_content_changeable(proposal, by)
    entry = item.entry
    if entry is not None and entry.verified_by:
        raise ChecklistItemVerified(
            f"Stagegate ticks “{entry.text}” itself when the proposal satisfies it; fill in the proposal instead."
        )
    if item.checked == checked:
        return item
    key = f"check:{item.stage}:{item.key}"
    history.record_changes(
        proposal,
        before={key: history.current_values(proposal, [key])[key]},
        after={key: "ticked" if checked else "not ticked"},
        by=by,
    )
    item.checked = checked
    item.checked_by = by if checked else None
    item.checked_at = timezone.now() if checked else None
    item.inapplicable = item.inapplicable and not checked  # a tick is the one way out of [~]
    item.save(update_fields=["checked", "checked_by", "checked_at", "inapplicable"])
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


def _list_key(row) -> str:
    """The history's name for the list a row belongs to."""
    return "list:requirements" if isinstance(row, Requirement) else "research_links"


def _list_changed(proposal: Proposal, *, row, by, message: str, before: dict[str, str]) -> None:
    history.record_changes(proposal, before=before, after=history.current_values(proposal, before), by=by)
    proposal_bump_version(proposal)
    kind, _, plural = ORDERED_ROWS[type(row)]
    Activity.objects.record(proposal, actor=by, kind=kind, message=f"{by} {message}")
    send_proposal_changed(proposal, fields=[plural.replace(" ", "_")], by=by)


def _row_errors(row) -> dict[str, str]:
    if isinstance(row, Requirement):
        problem = one_line_error(row.text, max_length=REQUIREMENT_MAX_LENGTH)
        return {"Requirement": problem} if problem else {}
    errors = {
        "Research link": link_error(row.url),
        "Link title": one_line_error(row.title, max_length=LINK_TITLE_MAX_LENGTH),
    }
    return {label: problem for label, problem in errors.items() if problem}


def _add_row(row, *, by):
    proposal = row.proposal
    ensure_content_changeable(proposal, by)
    errors = _row_errors(row)
    if errors:
        raise ContentInvalid(errors)
    before = history.current_values(proposal, [_list_key(row)])
    row.position = _next_position(type(row).objects.filter(proposal=proposal))
    row.full_clean()
    row.save()
    _list_changed(
        proposal, row=row, by=by, before=before, message=f"added a {ORDERED_ROWS[type(row)][1]}: {str(row)[:200]}"
    )
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
    ensure_content_changeable(proposal, by)
    ordered = list(type(row).objects.filter(proposal=proposal).select_for_update().order_by("position", "id"))
    index = next(i for i, sibling in enumerate(ordered) if sibling.pk == row.pk)
    target = index - 1 if direction == MOVE_UP else index + 1
    if not 0 <= target < len(ordered):
        return
    before = history.current_values(proposal, [_list_key(row)])
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, sibling in enumerate(ordered):
        sibling.position = position
    type(row).objects.bulk_update(ordered, ["position"])
    _list_changed(proposal, row=row, by=by, before=before, message=f"reordered the {ORDERED_ROWS[type(row)][2]}")


@transaction.atomic
def ordered_row_remove(*, row: Requirement | ResearchLink, by) -> None:
    proposal = row.proposal
    ensure_content_changeable(proposal, by)
    label = str(row)[:200]
    before = history.current_values(proposal, [_list_key(row)])
    row.delete()
    _list_changed(proposal, row=row, by=by, before=before, message=f"removed a {ORDERED_ROWS[type(row)][1]}: {label}")
