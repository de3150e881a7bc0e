"""ProposalContent <-> Proposal: a proposal's content, in and out, and the one writer of it.

`ProposalContent` (proposals.markdown, which touches no database) is what the form, the
Markdown import, a template move and the GitLab sync all speak. `content_from_proposal`
reads a saved proposal into it (``render(content_from_proposal(p))`` is the issue body).
`content_values` flattens it into keys the sync merges one by one (``title``,
``field:<name>``, ``confidence``, ``check:<stage>:<key>``, ``na:<stage>:<key>`` (GitLab's ``[~]``), ``list:<name>``,
``research_links``, ``persona_tags``, ``orr:<area>``, ``kept_blocks``).
`proposal_apply_content` writes content (all of it, or only some keys) onto a proposal and
is the only code that does: it validates what enters first, so a bad link or a control
character is refused the same way whichever path it came by.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from proposals import history
from proposals.checklists import create_checklist_items, refresh_verified_checklist
from proposals.markdown import (
    START,
    KeptBlock,
    Link,
    OrrAnswer,
    PersonaMention,
    ProposalContent,
    canonical,
    render_persona,
    text_field_names,
)
from proposals.models import (
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    ChecklistItem,
    Persona,
    Proposal,
    Requirement,
    ResearchLink,
)
from proposals.signals import Origin, orr_answers_received, send_proposal_changed
from proposals.template import DEFINITIONS, NEEDS_FIELDS, Kind, TemplateDefinition, field_label, get_definition
from proposals.validators import (
    LINK_TITLE_MAX_LENGTH,
    REQUIREMENT_MAX_LENGTH,
    ContentInvalid,
    link_error,
    one_line_error,
    text_error,
)

TITLE = "title"


# --- Reading ---------------------------------------------------------------------------------


# What ``content_from_proposal`` reads; prefetch these and rendering runs no query.
RENDER_PREFETCH = ("persona_tags", "research_links", "requirements", "checklist_items", "reviews__area")


def content_from_proposal(proposal: Proposal) -> ProposalContent:
    """Read a saved proposal into content. With ``RENDER_PREFETCH`` prefetched this runs no query."""
    definition = get_definition(proposal.template_version)
    fields = {name: proposal.field_value(name) or "" for name in text_field_names(definition)}
    lists: dict[str, tuple[str, ...]] = {}
    for f in definition.fields:
        if f.kind != Kind.REQUIREMENTS:
            continue
        if f.name == "requirements":
            lists[f.name] = tuple(r.text for r in proposal.requirements.all())
        else:
            value = (proposal.extra_fields or {}).get(f.name) or ()
            lists[f.name] = tuple(value.split("\n") if isinstance(value, str) else value)
    orr = {}
    for review in _reviews(proposal):
        orr[review.area.key] = OrrAnswer(review.answer or "", review.get_status_display())
    kept = []
    for block in proposal.kept_blocks or ():
        if isinstance(block, dict):
            kept.append(KeptBlock(str(block.get("after") or ""), str(block.get("markdown") or "")))
        elif isinstance(block, str):
            kept.append(KeptBlock(START, block))
    return canonical(
        ProposalContent(
            template_version=definition.version,
            fields=fields,
            persona_tags=tuple(PersonaMention(p.name, p.role, p.handbook_url) for p in proposal.persona_tags.all()),
            confidence=proposal.confidence or "",
            research_links=tuple(Link(link.title, link.url) for link in proposal.research_links.all()),
            lists=lists,
            checked=frozenset((item.stage, item.key) for item in proposal.checklist_items.all() if item.checked),
            inapplicable=frozenset(
                (item.stage, item.key) for item in proposal.checklist_items.all() if item.inapplicable
            ),
            orr=orr,
            kept_blocks=tuple(kept),
        )
    )


def _reviews(proposal):
    """The proposal's ORR reviews with their areas, in one query at most (none when prefetched)."""
    if proposal.pk is None:
        return ()
    cached = getattr(proposal, "_prefetched_objects_cache", {}).get("reviews")
    if cached is not None and all(type(r).area.is_cached(r) for r in cached):
        return cached
    return proposal.reviews.select_related("area")


# --- Flat values, for the sync's key-by-key merge ---------------------------------------------


def normalise_title(text: Any) -> str:
    return " ".join(str(text or "").split())


def content_values(content: ProposalContent, title: str) -> dict[str, Any]:
    """The content (and the title) as flat values by key."""
    content = canonical(content)
    values: dict[str, Any] = {TITLE: normalise_title(title)}
    for name in text_field_names(content.definition):
        values[f"field:{name}"] = content.fields.get(name, "")
    values["confidence"] = content.confidence
    for stage, items in content.checklists.items():
        for key, checked in items.items():
            values[f"check:{stage}:{key}"] = checked
            # GitLab's third state ([~]) as its own key: bases stored before it existed lack it, and
            # an absent key equal on both sides is no change.
            values[f"na:{stage}:{key}"] = (stage, key) in content.inapplicable
    for f in content.definition.fields:
        if f.kind == Kind.REQUIREMENTS:
            values[f"list:{f.name}"] = list(content.lists.get(f.name, ()))
    values["research_links"] = [[link.title, link.url] for link in content.research_links]
    values["persona_tags"] = [p.name for p in content.persona_tags]
    for area in content.definition.orr_areas:
        values[f"orr:{area.key}"] = content.orr[area.key].answer if area.key in content.orr else ""
    values["kept_blocks"] = [[block.after, block.markdown] for block in content.kept_blocks]
    return values


def content_with_values(content: ProposalContent, values: dict[str, Any]) -> ProposalContent:
    """The content with these flat values in place (the inverse of `content_values` for those keys)."""
    fields, lists, orr = dict(content.fields), dict(content.lists), dict(content.orr)
    checked, inapplicable = set(content.checked), set(content.inapplicable)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key.startswith("field:"):
            fields[key.removeprefix("field:")] = value
        elif key.startswith("list:"):
            lists[key.removeprefix("list:")] = tuple(value)
        elif key.startswith("orr:"):
            area = key.removeprefix("orr:")
            orr[area] = dataclasses.replace(orr.get(area, OrrAnswer()), answer=value)
        elif key.startswith("check:"):
            _, stage, item = key.split(":", 2)
            (checked.add if value else checked.discard)((stage, item))
        elif key.startswith("na:"):
            _, stage, item = key.split(":", 2)
            (inapplicable.add if value else inapplicable.discard)((stage, item))
        elif key == "confidence":
            changes["confidence"] = value
        elif key == "research_links":
            changes["research_links"] = tuple(Link(title, url) for title, url in value)
        elif key == "persona_tags":
            changes["persona_tags"] = tuple(PersonaMention(name) for name in value)
        elif key == "kept_blocks":
            changes["kept_blocks"] = tuple(KeptBlock(after, markdown) for after, markdown in value)
    return dataclasses.replace(
        content,
        fields=fields,
        lists=lists,
        orr=orr,
        checked=frozenset(checked),
        inapplicable=frozenset(inapplicable),
        **changes,
    )


def key_label(definition: TemplateDefinition, key: str) -> str:
    """What a person calls the part of the proposal a key stands for."""
    if key == TITLE or key.startswith(("field:", "list:")):
        return field_label(definition, key)
    if key.startswith(("check:", "na:")):
        return f"checklist item “{key.split(':', 2)[2]}”"
    if key.startswith("orr:"):
        return f"ORR answer “{key.removeprefix('orr:')}”"
    return {"confidence": "Confidence", "research_links": "Research links", "persona_tags": "Personas"}.get(
        key, "Sections added on GitLab"
    )


# --- What may enter ---------------------------------------------------------------------------


def content_errors(content: ProposalContent, *, keys: set[str], title: str | None = None) -> dict[str, str]:
    """What in these keys of the content may not be stored, by the label a person knows it by."""
    errors: dict[str, str] = {}
    definition = content.definition

    def check(key: str, problem: str | None) -> None:
        if problem and key_label(definition, key) not in errors:
            errors[key_label(definition, key)] = problem

    if TITLE in keys and title is not None:
        check(TITLE, "is empty" if not title.strip() else one_line_error(title, max_length=TITLE_MAX_LENGTH))
    for key in keys:
        if key.startswith("field:"):
            check(key, text_error(content.fields.get(key.removeprefix("field:"), "")))
        elif key.startswith("orr:"):
            answer = content.orr.get(key.removeprefix("orr:"))
            check(key, text_error(answer.answer if answer else ""))
        elif key.startswith("list:"):
            for item in content.lists.get(key.removeprefix("list:"), ()):
                check(key, one_line_error(item, max_length=REQUIREMENT_MAX_LENGTH))
        elif key == "research_links":
            for link in content.research_links:
                check(key, link_error(link.url))
                check(key, one_line_error(link.title, max_length=LINK_TITLE_MAX_LENGTH))
        elif key == "kept_blocks":
            for block in content.kept_blocks:
                check(key, text_error(block.markdown, max_length=TEXT_MAX_LENGTH * 10))
    return errors


# --- The writer -------------------------------------------------------------------------------


def _text_columns(model_fields: set[str]) -> set[str]:
    """The proposal's text columns that hold template answers (in any version)."""
    names = {f.name for definition in DEFINITIONS.values() for f in definition.fields if f.kind != Kind.REQUIREMENTS}
    names |= set(NEEDS_FIELDS)
    return (names & model_fields) - {"confidence"}


def _persona_tags(content: ProposalContent) -> tuple[list[Persona], list[str]]:
    """Persona rows for the mentions, and the mentions Stagegate has no persona for (kept as text)."""
    known = {persona.name.casefold(): persona for persona in Persona.objects.all()}
    tags: list[Persona] = []
    unknown: list[str] = []
    for mention in content.persona_tags:
        persona = known.get(mention.name.casefold())
        if persona is None:
            unknown.append(render_persona(mention))
        elif persona not in tags:
            tags.append(persona)
    return tags, unknown


def proposal_apply_content(
    *,
    proposal: Proposal,
    content: ProposalContent,
    keys: set[str] | None = None,
    title: str | None = None,
    by,
    origin: Origin = Origin.STAGEGATE,
) -> list[str]:
    """Write content onto the proposal; return what changed, in the words of the template.

    With ``keys=None`` the proposal holds exactly this content afterwards, its template version
    included: what that version has no place for is in ``content.kept_blocks``. With keys, only
    those parts are written (the sync applies GitLab's side of a merge this way). ``title`` is
    written when given and, with keys, when ``"title"`` is among them.

    Raises ContentInvalid, and writes nothing, when a part may not be stored. ORR answers go to
    the reviews app (`orr_answers_received`); review statuses never come from content. The change
    is announced with `origin`, so what came from GitLab is not sent back to it.
    """
    whole = keys is None
    if whole:
        keys = set(content_values(content, title or proposal.title))
        if title is None:
            keys.discard(TITLE)
    errors = content_errors(content, keys=keys, title=title if TITLE in keys else None)
    if errors:
        raise ContentInvalid(errors)
    # Checked before any write, so no savepoint: inside a caller's transaction a failed write fails it
    # whole (a caller that goes on after an error, such as the import of many issues, keeps its own).
    with transaction.atomic(savepoint=False):
        return _write_content(proposal, content, keys=keys, whole=whole, title=title, by=by, origin=origin)


def _write_content(
    proposal: Proposal, content: ProposalContent, *, keys: set[str], whole: bool, title: str | None, by, origin
) -> list[str]:
    definition = content.definition
    model_fields = {f.name for f in Proposal._meta.get_fields()}
    content = canonical(content)
    # ORR answers are the reviews app's: its answer save keeps their history.
    tracked = {key for key in keys if not key.startswith("orr:")} | ({"template_version"} if whole else set())
    before = history.current_values(proposal, tracked) if proposal.pk else {}

    update_fields: set[str] = set()
    extra = {} if whole else dict(proposal.extra_fields or {})
    if whole:
        proposal.template_version = definition.version
        for name in _text_columns(model_fields) - set(text_field_names(definition)):
            setattr(proposal, name, "")  # what this version has no place for is in content.kept_blocks
        update_fields |= {"template_version", "extra_fields", *_text_columns(model_fields)}
    if TITLE in keys and title is not None:
        proposal.title = normalise_title(title)
        update_fields.add("title")
    tags: list[Persona] | None = None
    for key in keys:
        if key.startswith("field:"):
            name = key.removeprefix("field:")
            value = content.fields.get(name, "")
            if name in model_fields:
                setattr(proposal, name, value)
                update_fields.add(name)
            elif value:
                extra[name] = value
            else:
                extra.pop(name, None)
        elif key == "confidence":
            has_confidence = any(f.kind == Kind.CONFIDENCE for f in definition.fields)
            proposal.confidence = content.confidence if has_confidence else ""
            update_fields.add("confidence")
        elif key == "kept_blocks":
            proposal.kept_blocks = [asdict(block) for block in content.kept_blocks]
            update_fields.add("kept_blocks")
        elif key.startswith("list:") and key != "list:requirements":
            # Edited as one text, one requirement a line.
            items = content.lists.get(key.removeprefix("list:"), ())
            if items:
                extra[key.removeprefix("list:")] = "\n".join(items)
            else:
                extra.pop(key.removeprefix("list:"), None)
    if "persona_tags" in keys:
        tags, unknown = _persona_tags(content)
        if unknown and "field:personas" in keys:
            # A persona Stagegate does not know stays a mention in the personas text.
            text = content.fields.get("personas", "")
            proposal.personas = "\n".join(unknown) + ("\n\n" + text if text else "")
            update_fields.add("personas")
    if extra != (proposal.extra_fields or {}):
        proposal.extra_fields = extra
        update_fields.add("extra_fields")
    values = {name: getattr(proposal, name) for name in update_fields}
    if values:
        proposal.updated_at = values["updated_at"] = timezone.now()
    # One statement, the version going up in it (an open form must see that the proposal changed); then the
    # version it gave.
    Proposal.objects.filter(pk=proposal.pk).update(**values, version=F("version") + 1)
    proposal.version = Proposal.objects.values_list("version", flat=True).get(pk=proposal.pk)

    if tags is not None:
        proposal.persona_tags.set(tags)
    if "list:requirements" in keys:
        Requirement.objects.filter(proposal=proposal).delete()
        Requirement.objects.bulk_create(
            Requirement(proposal=proposal, text=text, position=position)
            for position, text in enumerate(content.lists.get("requirements", ()))
        )
    if "research_links" in keys:
        ResearchLink.objects.filter(proposal=proposal).delete()
        ResearchLink.objects.bulk_create(
            ResearchLink(proposal=proposal, title=link.title, url=link.url, position=position)
            for position, link in enumerate(content.research_links)
        )
    _write_checklist(proposal, content, keys=keys, whole=whole)
    answers = {
        key.removeprefix("orr:"): content.orr[key.removeprefix("orr:")].answer
        if key.removeprefix("orr:") in content.orr
        else ""
        for key in keys
        if key.startswith("orr:")
    }
    if answers:
        orr_answers_received.send(sender=Proposal, proposal=proposal, answers=answers, by=by, origin=origin)
    # Only the checks that read what was written: the others' data did not change.
    refresh_verified_checklist(proposal, changed=None if whole else keys)
    history.record_changes(
        proposal, before=before, after=history.current_values(proposal, tracked), by=by, origin=origin
    )
    send_proposal_changed(proposal, fields=sorted(keys), by=by, origin=origin)
    return [key_label(definition, key) for key in sorted(keys)]


def _write_checklist(proposal: Proposal, content: ProposalContent, *, keys: set[str], whole: bool) -> None:
    """Ticks a person set follow the content; the items the app verifies follow the data instead."""
    if whole:
        create_checklist_items(proposal)
        wanted = {(c.stage.value, item.key) for c in content.definition.checklists for item in c.items}
        stale = [item.pk for item in proposal.checklist_items.all() if (item.stage, item.key) not in wanted]
        ChecklistItem.objects.filter(pk__in=stale).delete()
    items = ChecklistItem.objects.filter(proposal=proposal)
    # GitLab's [~] is kept on every item; a tick only on those a person ticks, not the app.
    _write_item_state(items, keys, "na:", content.inapplicable, lambda value: {"inapplicable": value})
    _write_item_state(
        items.filter(checked_by_app=False),
        keys,
        "check:",
        content.checked,
        lambda value: {"checked": value, "checked_by": None},
    )


def _write_item_state(items, keys: set[str], prefix: str, chosen_pairs: frozenset, changes) -> None:
    """For the ``<prefix><stage>:<key>`` keys: set the items in ``chosen_pairs`` on, the others off."""
    pairs = [tuple(key.split(":", 2)[1:]) for key in keys if key.startswith(prefix)]
    for value in (True, False):
        chosen = [(stage, key) for stage, key in pairs if ((stage, key) in chosen_pairs) == value]
        for stage in {stage for stage, _ in chosen}:
            items.filter(stage=stage, key__in=[key for item_stage, key in chosen if item_stage == stage]).update(
                **changes(value)
            )
