"""Every write to a proposal goes through here: atomic, recorded on the timeline, queued for GitLab."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from proposals import access, checklists, history
from proposals.checklists import create_checklist_items, refresh_verified_checklist
from proposals.content import TITLE, content_from_proposal, content_with_values, normalise_title, proposal_apply_content
from proposals.markdown import ProposalContent, canonical_text, text_field_names
from proposals.models import TITLE_MAX_LENGTH, Activity, ChecklistItem, Persona, Proposal, Requirement, ResearchLink
from proposals.signals import (
    IssueLinkRefused,
    Origin,
    proposal_authors_changed,
    proposal_created,
    send_proposal_changed,
)
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


def proposal_create(
    *,
    title: str,
    owner,
    confidential: bool = False,
    template_version: str | None = None,
    origin: Origin = Origin.STAGEGATE,
    gitlab_issue_ref: str = "",
    title_from_issue: bool = False,
    labels: list[str] | None = None,
    by=None,
) -> Proposal:
    """A new proposal with its checklists. With `gitlab_issue_ref` it is linked to that existing GitLab
    issue (and, with `title_from_issue`, takes the issue's title) instead of a new issue being created.
    ``labels``: the labels it starts with (an imported issue's), instead of its template's label.
    `by` is who created it when that is not its owner (an admin creating it for an author)."""
    by = by if by is not None else owner
    problem = "is empty" if not title.strip() else one_line_error(title.strip(), max_length=TITLE_MAX_LENGTH)
    if problem:
        raise ContentInvalid({"Title": problem})
    proposal = Proposal(title=normalise_title(title), owner=owner, confidential=confidential)
    if template_version:
        proposal.template_version = template_version
    proposal.labels = [proposal.definition.label] if labels is None else list(labels)
    proposal.full_clean(exclude=["owner"])  # the owner is a user in hand: no query asks whether it exists
    # Checked before any write, so no savepoint: inside a caller's transaction a refused link fails it whole
    # (a caller that goes on after an error, such as the import of many issues, keeps its own).
    with transaction.atomic(savepoint=False):
        proposal.save()
        create_checklist_items(proposal, verified=True)
        message = f"{by} created the proposal" + (f" for {owner}" if by != owner else "")
        Activity.objects.record(proposal, actor=by, kind=Activity.Kind.CREATED, message=message)
        answers = proposal_created.send(
            sender=Proposal, proposal=proposal, by=by, origin=Origin(origin), gitlab_issue_ref=gitlab_issue_ref
        )
        if gitlab_issue_ref:
            issue_titles = [answer for _, answer in answers if isinstance(answer, str) and answer]
            if not issue_titles:
                raise IssueLinkRefused("GitLab is not connected to Stagegate, so no issue can be linked")
            if title_from_issue and not one_line_error(issue_titles[0], max_length=TITLE_MAX_LENGTH):
                proposal.title = normalise_title(issue_titles[0])
                proposal.save(update_fields=["title"])
        send_proposal_changed(proposal, fields=["created"], by=by, origin=origin)
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
        refresh_verified_checklist(proposal, changed=set(attributes))  # items verified by a label
    values = _content_values({name: submitted[name] for name in changed if name not in PROPOSAL_ATTRIBUTES})
    if values:
        content = content_with_values(_content_to_change(proposal, values), values)
        proposal_apply_content(proposal=proposal, content=content, keys=set(values), title=values.get(TITLE), by=by)
    else:
        proposal_bump_version(proposal)
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


def _content_to_change(proposal: Proposal, values: dict) -> ProposalContent:
    """The content these values go into. Text, title and confidence are columns of the proposal row, and
    writing them reads nothing else of the content: autosave then skips reading the proposal's lists, links,
    checklists and ORR answers (five queries a save)."""
    if all(key.startswith("field:") or key in (TITLE, "confidence") for key in values):
        definition = proposal.definition
        return ProposalContent(
            template_version=definition.version,
            fields={name: proposal.field_value(name) or "" for name in text_field_names(definition)},
            confidence=proposal.confidence or "",
        )
    return content_from_proposal(proposal)


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
    if entry is not None and checklists.is_app_checked(entry.verified_by):
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
def requirement_edit(*, requirement: Requirement, text: str, by) -> Requirement:
    """Change a requirement's text in place; it keeps its place in the list."""
    # Read the proposal as it is now (it may have been closed since the requirement was loaded), locked.
    proposal = Proposal.objects.select_for_update().get(pk=requirement.proposal_id)
    ensure_content_changeable(proposal, by)
    requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
    before, requirement.text = requirement.text, text.strip()
    errors = {"Requirement": "is empty"} if not requirement.text else _row_errors(requirement)
    if errors:
        raise ContentInvalid(errors)
    if requirement.text == before:
        return requirement
    requirement.full_clean()
    listed = history.current_values(proposal, [_list_key(requirement)])
    requirement.save(update_fields=["text"])
    history.record_changes(proposal, before=listed, after=history.current_values(proposal, listed), by=by)
    proposal_bump_version(proposal)
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.REQUIREMENT,
        message=f"{by} edited a requirement: {requirement.text[:200]}",
        data={"requirement": requirement.pk, "text": [before, requirement.text]},
    )
    send_proposal_changed(proposal, fields=["requirements"], by=by)
    return requirement


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


# --- Authors: co-authors and the owner -----------------------------------------------------------


class AuthorRefused(Exception):
    """This person cannot become the proposal's owner or co-author; the message says why."""


def possible_authors():
    """People who may own or co-author a proposal (`access.may_create`): active authors and admins."""
    people = get_user_model().objects.filter(is_active=True)
    role = Q(groups__name__in=[access.AUTHORS, access.ADMINS]) | Q(is_superuser=True)
    return people.filter(pk__in=people.filter(role).values("pk")).order_by("username")


def _ensure_may_author(proposal: Proposal, person) -> None:
    if person is None or not person.is_active:
        raise AuthorRefused("Only active people can write a proposal.")
    if not access.may_create(person):
        raise AuthorRefused(f"{person} is neither an author nor an admin, so cannot write proposals.")


def _ensure_may_manage_authors(proposal: Proposal, by) -> None:
    if not access.may_manage_authors(by, proposal):
        raise PermissionDenied("Only the proposal's owner or an admin names its co-authors and hands it over.")


@transaction.atomic
def proposal_transfer_ownership(*, proposal: Proposal, new_owner, by) -> Proposal:
    """Hand the proposal to another author: recorded on the timeline, the new owner told.

    The previous owner keeps nothing by right: the new owner (or an admin) names them co-author if wanted.
    """
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    _ensure_may_manage_authors(proposal, by)
    _ensure_may_author(proposal, new_owner)
    previous = proposal.owner
    if new_owner.pk == previous.pk:
        return proposal
    proposal.owner = new_owner
    proposal.save(update_fields=["owner", "updated_at"])
    proposal.co_authors.remove(new_owner)
    access.forget_co_authors(proposal)
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} handed the proposal from {previous} to {new_owner}",
        data={"owner": [previous.get_username(), new_owner.get_username()]},
    )
    proposal_authors_changed.send(sender=Proposal, proposal=proposal, new_owner=new_owner, added_co_authors=[], by=by)
    return proposal


@transaction.atomic
def proposal_set_co_authors(*, proposal: Proposal, co_authors, by) -> Proposal:
    """Make exactly these people the proposal's co-authors (they edit it like its owner)."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    _ensure_may_manage_authors(proposal, by)
    wanted = {person.pk: person for person in co_authors if person.pk != proposal.owner_id}
    current = {person.pk: person for person in proposal.co_authors.all()}
    added = [person for pk, person in wanted.items() if pk not in current]
    removed = [person for pk, person in current.items() if pk not in wanted]
    for person in added:
        _ensure_may_author(proposal, person)
    if not added and not removed:
        return proposal
    proposal.co_authors.remove(*removed)
    proposal.co_authors.add(*added)
    access.forget_co_authors(proposal)
    parts = []
    if added:
        parts.append("added " + ", ".join(sorted(person.get_username() for person in added)))
    if removed:
        parts.append("removed " + ", ".join(sorted(person.get_username() for person in removed)))
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} {' and '.join(parts)} as co-author{'s' if len(added) + len(removed) > 1 else ''}",
        data={
            "co_authors_added": sorted(person.get_username() for person in added),
            "co_authors_removed": sorted(person.get_username() for person in removed),
        },
    )
    if added:
        proposal_authors_changed.send(sender=Proposal, proposal=proposal, new_owner=None, added_co_authors=added, by=by)
    return proposal
