"""A proposal's history: every change to one of its parts, with the text before and after.

The writers call `record_changes` with what a part held before and holds after their write:
`content.proposal_apply_content` (form, import, template move, GitLab), the services of
`proposals.services` (details, checklist ticks, requirements, research links), `workflow`
(stage and state) and the reviews app's answer save (ORR answers). Nothing else writes a
`FieldChange`, and nothing edits or deletes one, with one exception that readers never see as a
rewrite:

**Autosave bursts.** A person typing saves a section every few seconds. A save of a text part
(the title, a template field, an ORR answer) by the same person, from the same place, whose
``before`` is exactly the newest row's ``after`` and which comes within `COALESCE_WINDOW` of that
row's last save extends that row (its ``after`` and ``changed_at``) instead of adding one. A
paragraph typed in one sitting is one entry from the text before to the text after; a pause
longer than the window, another person's edit in between, or a change from GitLab starts a new
entry. Ticks, list edits and stage moves are never merged: each is an event of its own.

Where a change came from (`FieldChange.Origin`) is the signal's origin for GitLab's changes and
otherwise the request's: `HistoryOriginMiddleware` marks API and admin requests, and
`change_origin` marks imports and anything else run outside a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from proposals.models import ChecklistItem, FieldChange, Proposal, Requirement, ResearchLink
from proposals.template import NEEDS_FIELDS, STAGE_LABELS, Stage, TemplateDefinition, field_label

COALESCE_WINDOW = timedelta(minutes=5)

TITLE = "title"
# Parts written by whole saves of a text: what autosave sends many times a minute.
_TYPED_PREFIXES = ("field:", "orr:")

# The proposal's own attributes, outside its content.
ATTRIBUTES = ("labels", "confidential", "state", "stage", "template_version")

Origin = FieldChange.Origin

_origin: ContextVar[tuple[str, str] | None] = ContextVar("history_origin", default=None)


@contextmanager
def change_origin(origin: str, *, actor_name: str = ""):
    """Changes written inside come from ``origin`` (and, for GitLab, from that GitLab user)."""
    token = _origin.set((str(origin), actor_name))
    try:
        yield
    finally:
        _origin.reset(token)


class HistoryOriginMiddleware:
    """API and admin requests write their changes as such; every other request is the web page's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        origin = Origin.API if path.startswith("/api/") else Origin.ADMIN if path.startswith("/admin/") else Origin.WEB
        with change_origin(origin):
            return self.get_response(request)


# --- What a part holds, as text --------------------------------------------------------------


def _lines(values: Iterable[str]) -> str:
    return "\n".join(values)


def current_values(proposal: Proposal, keys: Iterable[str]) -> dict[str, str]:
    """What these parts of the proposal hold now, as the text history keeps.

    Parts stored on the proposal's row cost nothing; lists and ticks are read fresh, once each.
    """
    keys = set(keys)
    values: dict[str, str] = {}
    items = None
    if any(key.startswith(("check:", "na:")) for key in keys):
        items = {(i.stage, i.key): i for i in ChecklistItem.objects.filter(proposal=proposal)}
    for key in keys:
        if key == TITLE:
            values[key] = proposal.title
        elif key.startswith("field:"):
            values[key] = str(proposal.field_value(key.removeprefix("field:")) or "")
        elif key == "confidence":
            values[key] = proposal.get_confidence_display() if proposal.confidence else ""
        elif key == "list:requirements":
            rows = Requirement.objects.filter(proposal=proposal).order_by("position", "id")
            values[key] = _lines(rows.values_list("text", flat=True))
        elif key.startswith("list:"):
            value = (proposal.extra_fields or {}).get(key.removeprefix("list:")) or ""
            values[key] = value if isinstance(value, str) else _lines(value)
        elif key == "research_links":
            rows = ResearchLink.objects.filter(proposal=proposal).order_by("position", "id")
            values[key] = _lines(
                f"{title} — {url}" if title else url for title, url in rows.values_list("title", "url")
            )
        elif key == "persona_tags":
            values[key] = ", ".join(proposal.persona_tags.order_by("name").values_list("name", flat=True))
        elif key.startswith(("check:", "na:")) and items is not None:
            _, stage, item_key = key.split(":", 2)
            item = items.get((stage, item_key))
            if key.startswith("check:"):
                values[key] = "ticked" if item is not None and item.checked else "not ticked"
            else:
                values[key] = "does not apply" if item is not None and item.inapplicable else "applies"
        elif key == "kept_blocks":
            blocks = proposal.kept_blocks or ()
            values[key] = "\n\n".join(str(b.get("markdown", "")) if isinstance(b, dict) else str(b) for b in blocks)
        elif key == "labels":
            values[key] = ", ".join(f"~{label}" for label in proposal.labels or ())
        elif key == "confidential":
            values[key] = "confidential" if proposal.confidential else "public"
        elif key == "state":
            values[key] = proposal.get_state_display()
        elif key == "stage":
            values[key] = str(STAGE_LABELS.get(Stage(proposal.stage), proposal.stage))
        elif key == "template_version":
            values[key] = proposal.definition.name
    return values


# --- Recording ---------------------------------------------------------------------------------


def _who(by, origin) -> tuple[str, object, str]:
    """(origin, actor, actor name) of a change: GitLab's changes are the GitLab user's, not the author's."""
    context_origin, context_name = _origin.get() or (Origin.SYSTEM, "")
    if str(origin) == Origin.GITLAB:
        return Origin.GITLAB, None, context_name or "GitLab"
    actor = by if by is not None and getattr(by, "pk", None) is not None else None
    return context_origin, actor, context_name or (actor.get_username() if actor is not None else "")


def record_changes(
    proposal: Proposal, *, before: dict[str, str], after: dict[str, str], by, origin: str | None = None
) -> list[FieldChange]:
    """Keep each part whose text differs between ``before`` and ``after``; returns the rows written or extended."""
    changed = [key for key in sorted(after) if before.get(key, "") != after[key]]
    if not changed:
        return []
    origin, actor, actor_name = _who(by, origin)
    definition = proposal.definition
    now = timezone.now()
    latest_by_key = {}
    typed = [key for key in changed if key == TITLE or key.startswith(_TYPED_PREFIXES)]
    if typed:
        recent = FieldChange.objects.filter(proposal=proposal, field__in=typed, changed_at__gte=now - COALESCE_WINDOW)
        for row in recent.defer("before"):  # a burst is extended from its last text, never its first
            current = latest_by_key.get(row.field)
            if current is None or (row.changed_at, row.pk) > (current.changed_at, current.pk):
                latest_by_key[row.field] = row
    rows = []
    new_rows = []
    for key in changed:
        old, new = before.get(key, ""), after[key]
        latest = latest_by_key.get(key)
        if (
            latest is not None
            and latest.after == old
            and latest.origin == origin
            and latest.actor_id == (actor.pk if actor is not None else None)
            and latest.actor_name == actor_name
        ):
            latest.after, latest.changed_at = new, now
            latest.save(update_fields=["after", "changed_at"], extending_burst=True)
            rows.append(latest)
            continue
        row = FieldChange(
            proposal=proposal,
            field=key,
            section=section_of(definition, key),
            before=old,
            after=new,
            actor=actor,
            actor_name=actor_name[:255],
            origin=origin,
            started_at=now,
            changed_at=now,
        )
        rows.append(row)
        new_rows.append(row)
    # One statement for every new row: an import or a GitLab edit changes many parts at once.
    FieldChange.objects.bulk_create(new_rows)
    return rows


# --- Where a part lives, in a reader's words ----------------------------------------------------

DETAILS = "details"
STATUS = "status"
REQUIREMENTS = "requirements"
KEPT = "kept"


def section_of(definition: TemplateDefinition, key: str) -> str:
    """The section a part belongs to: an edit section's key, ``orr-<area>``, ``checklist-<stage>``, …"""
    if key in (TITLE, "labels", "confidential", "template_version"):
        return DETAILS
    if key in ("state", "stage"):
        return STATUS
    if key.startswith("orr:"):
        return "orr-" + key.removeprefix("orr:")
    if key.startswith(("check:", "na:")):
        return "checklist-" + key.split(":", 2)[1]
    if key.startswith("list:"):
        return REQUIREMENTS
    if key == "kept_blocks":
        return KEPT
    name = {"persona_tags": "personas", "research_links": "confidence"}.get(key, key.removeprefix("field:"))
    for section in definition.edit_sections:
        if name in section.fields:
            return section.key
    return "needs" if name in NEEDS_FIELDS else KEPT


def section_titles(definition: TemplateDefinition) -> dict[str, str]:
    """Every section key history uses, with its title, in the order the proposal shows them."""
    titles = {DETAILS: "Title and visibility", STATUS: "Stage and state"}
    titles |= {section.key: section.title for section in definition.edit_sections}
    titles.setdefault("needs", "Dependency and legal needs")
    titles[REQUIREMENTS] = "Requirements"
    for area in definition.orr_areas:
        titles[f"orr-{area.key}"] = f"ORR {area.number}. {area.title}"
    for checklist in definition.checklists:
        titles[f"checklist-{checklist.stage.value}"] = f"{STAGE_LABELS[checklist.stage]} checklist"
    titles[KEPT] = "Sections added on GitLab"
    return titles


# Parts that are not content keys (the title, fields and lists are named by `content.key_label`).
_PART_NAMES = {
    "confidence": "Confidence",
    "research_links": "Research links",
    "persona_tags": "Personas impacted",
    "kept_blocks": "Sections added on GitLab",
    "labels": "Labels",
    "confidential": "Visibility",
    "state": "State",
    "stage": "Stage",
    "template_version": "Template version",
}


def part_label(definition: TemplateDefinition, key: str) -> str:
    """What a person calls one part, in full: the ORR area's and the checklist item's own words."""
    if key.startswith("orr:"):
        area = key.removeprefix("orr:")
        titles = {a.key: f"ORR {a.number}. {a.title}" for a in definition.orr_areas}
        return titles.get(area, f"ORR answer “{area}”")
    if key.startswith(("check:", "na:")):
        _, stage, item_key = key.split(":", 2)
        checklist = definition.checklist(Stage(stage)) if stage in {s.value for s in Stage} else None
        for entry in checklist.items if checklist else ():
            if entry.key == item_key:
                return f"Checklist: {entry.text}" + (" (does not apply)" if key.startswith("na:") else "")
        return f"Checklist item “{item_key}”"
    if key in _PART_NAMES:
        return _PART_NAMES[key]
    if key == TITLE or key.startswith(("field:", "list:")):
        return field_label(definition, key)
    return key


# Kinds of change, for filtering: which parts each covers.
KINDS = {
    "text": "Text of a section",
    "orr": "ORR answers",
    "lists": "Requirements, research links, personas",
    "checklist": "Checklist ticks",
    "details": "Title, labels, visibility, template",
    "status": "Stage and state",
}


def kind_of(key: str) -> str:
    if key.startswith("orr:"):
        return "orr"
    if key.startswith(("check:", "na:")):
        return "checklist"
    if key.startswith("list:") or key in ("research_links", "persona_tags"):
        return "lists"
    if key in (TITLE, "labels", "confidential", "template_version"):
        return "details"
    if key in ("state", "stage"):
        return "status"
    return "text"


def kind_q(kind: str):
    """The FieldChange filter for one kind."""
    from django.db.models import Q

    return {
        "orr": Q(field__startswith="orr:"),
        "checklist": Q(field__startswith="check:") | Q(field__startswith="na:"),
        "lists": Q(field__startswith="list:") | Q(field__in=["research_links", "persona_tags"]),
        "details": Q(field__in=[TITLE, "labels", "confidential", "template_version"]),
        "status": Q(field__in=["state", "stage"]),
        "text": Q(field__startswith="field:") | Q(field__in=["confidence", "kept_blocks"]),
    }[kind]


# --- Reading: what changed since a moment ----------------------------------------------------


@dataclass(frozen=True)
class PartChange:
    """One part's change over a span: the text at its start, the text at its end, and who touched it."""

    field: str
    section: str
    label: str
    before: str
    after: str
    people: tuple[str, ...]
    last_changed_at: datetime


def changes_since(proposal: Proposal, since: datetime | None, *, exclude_actor=None) -> list[PartChange]:
    """Each part changed after ``since``, from its text then to its text now, in the proposal's order.

    One query. Changes by ``exclude_actor`` (the reader's own) do not count, but a part someone else
    changed shows its whole change since then.
    """
    rows = FieldChange.objects.filter(proposal=proposal)
    if since is not None:
        rows = rows.filter(changed_at__gt=since)
    rows = rows.order_by("started_at", "id").values_list(
        "field", "section", "before", "after", "actor_id", "actor_name", "changed_at"
    )
    first: dict[str, str] = {}
    last: dict[str, tuple[str, datetime]] = {}
    people: dict[str, list[str]] = {}
    others: set[str] = set()
    sections: dict[str, str] = {}
    for field, section, before, after, actor_id, actor_name, changed_at in rows:
        first.setdefault(field, before)
        last[field] = (after, changed_at)
        sections[field] = section
        if exclude_actor is None or actor_id != exclude_actor.pk:
            others.add(field)
            if actor_name and actor_name not in people.setdefault(field, []):
                people[field].append(actor_name)
    definition = proposal.definition
    order = {key: i for i, key in enumerate(section_titles(definition))}
    changes = [
        PartChange(
            field=field,
            section=sections[field],
            label=part_label(definition, field),
            before=first[field],
            after=last[field][0],
            people=tuple(people.get(field, ())),
            last_changed_at=last[field][1],
        )
        for field in last
        if field in others and first[field] != last[field][0]
    ]
    return sorted(changes, key=lambda c: (order.get(c.section, len(order)), c.field))


def proposal_seen(proposal: Proposal, user, *, now: datetime | None = None) -> datetime | None:
    """Remember that ``user`` reads the proposal now; return when they last read it before (None: never).

    The read page marks every visit; the API marks only when asked (``POST .../seen/``)."""
    from proposals.models import ProposalSeen

    now = now or timezone.now()
    previous = ProposalSeen.objects.filter(proposal=proposal, user=user).values_list("seen_at", flat=True).first()
    if previous is None:
        ProposalSeen.objects.bulk_create(
            [ProposalSeen(proposal=proposal, user=user, seen_at=now)], ignore_conflicts=True
        )
    else:
        ProposalSeen.objects.filter(proposal=proposal, user=user).update(seen_at=now)
    return previous


def changed_names(changes: list[PartChange]) -> set[str]:
    """The names the read page shows parts under (field names, ORR area keys, list names) that changed."""
    names = set()
    for change in changes:
        key = change.field
        if key.startswith(("field:", "orr:", "list:")):
            names.add(key.split(":", 1)[1])
        elif key == "research_links":
            names.add("confidence")
        elif key == "persona_tags":
            names.add("personas")
    return names


@dataclass(frozen=True)
class LastLook:
    """When a person last looked at a proposal (None: never) and what others changed in it since."""

    last_looked: datetime | None
    changes: list[PartChange]


def since_last_look(proposal: Proposal, user, *, mark_seen: bool) -> LastLook:
    """What others changed since ``user`` last looked: the read page's banner and the API's answer.

    With ``mark_seen`` this look counts (the read page); without, it only tells (the API's GET).
    A first look finds nothing, and still asks, so a page costs the same queries every time.
    """
    from proposals.models import ProposalSeen

    if mark_seen:
        last_looked = proposal_seen(proposal, user)
    else:
        seen = ProposalSeen.objects.filter(proposal=proposal, user=user).values_list("seen_at", flat=True)
        last_looked = seen.first()
    changes = changes_since(proposal, last_looked or timezone.now(), exclude_actor=user)
    return LastLook(last_looked=last_looked, changes=changes)
