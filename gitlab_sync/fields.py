"""A proposal's synced content as a flat snapshot, from either side.

Both sides go through ``proposals.markdown``'s ``ProposalContent``: the proposal
via ``content_from_proposal``, the issue body via ``parse``. Each becomes the
same flat dict, keyed ``title``, ``field:<name>``, ``confidence``,
``check:<stage>:<key>``, ``list:<name>``, ``research_links``, ``persona_tags``,
``orr:<area>`` and ``kept_blocks``, so the merge in ``sync.py`` compares them
key by key without knowing the template.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import operator
from typing import Any

from django.db.models import F, Q

from proposals import markdown
from proposals.content import content_from_proposal
from proposals.models import Activity, ChecklistItem, Persona, Proposal, Requirement, ResearchLink
from proposals.template import NEEDS_FIELDS

log = logging.getLogger(__name__)

TITLE = "title"
# Ordered collections: merged item by item, never a conflict.
LIST_KEYS = ("research_links", "persona_tags", "kept_blocks")


def is_list_key(key: str) -> bool:
    return key in LIST_KEYS or key.startswith("list:")


def normalise_title(text: Any) -> str:
    return " ".join(str(text or "").split())


def snapshot(content, title: str) -> dict[str, Any]:
    content = markdown.canonical(content)
    values: dict[str, Any] = {TITLE: normalise_title(title)}
    for name in markdown.text_field_names(content.definition):
        values[f"field:{name}"] = content.fields.get(name, "")
    values["confidence"] = content.confidence
    for stage, items in content.checklists.items():
        for key, checked in items.items():
            values[f"check:{stage}:{key}"] = checked
    for f in content.definition.fields:
        if f.kind == "requirements":
            values[f"list:{f.name}"] = list(content.lists.get(f.name, ()))
    values["research_links"] = [[link.title, link.url] for link in content.research_links]
    values["persona_tags"] = [p.name for p in content.persona_tags]
    for area in content.definition.orr_areas:
        values[f"orr:{area.key}"] = content.orr[area.key].answer if area.key in content.orr else ""
    values["kept_blocks"] = [[block.after, block.markdown] for block in content.kept_blocks]
    return values


def local_snapshot(proposal: Proposal) -> dict[str, Any]:
    return snapshot(content_from_proposal(proposal), proposal.title)


def parse_content(description: str):
    return markdown.parse(description or "").content


def remote_snapshot(issue: dict[str, Any]) -> dict[str, Any]:
    return snapshot(parse_content(issue.get("description") or ""), issue.get("title") or "")


def render_description(proposal: Proposal, overrides: dict[str, Any]) -> str:
    """The issue body for this proposal, with ``overrides`` (GitLab's side of conflicts) in place."""
    content = content_from_proposal(proposal)
    if overrides:
        fields = dict(content.fields)
        orr = dict(content.orr)
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key.startswith("field:"):
                fields[key.removeprefix("field:")] = value
            elif key.startswith("orr:"):
                area = key.removeprefix("orr:")
                orr[area] = dataclasses.replace(orr.get(area, markdown.OrrAnswer()), answer=value)
            elif key == "confidence":
                changes["confidence"] = value
        content = dataclasses.replace(content, fields=fields, orr=orr, **changes)
    return markdown.render(content)


# ---------------------------------------------------------------------------
# Writing GitLab's side onto the proposal
# ---------------------------------------------------------------------------


def apply_to_proposal(proposal: Proposal, values: dict[str, Any]) -> list[str]:
    """Write snapshot values taken from GitLab onto the proposal. Returns what changed, by label.

    Runs inside the caller's transaction with the proposal row locked, and does
    not queue the proposal for GitLab: these values came from there.
    """
    changed: list[str] = []
    model_fields = {f.name for f in Proposal._meta.get_fields()}
    update_fields: set[str] = set()
    ticks: dict[bool, list[Q]] = {}
    for key, value in values.items():
        if key == TITLE:
            proposal.title = value[:255]
            update_fields.add("title")
        elif key.startswith("field:"):
            name = key.removeprefix("field:")
            if name in model_fields:
                setattr(proposal, name, value)
                update_fields.add(name)
            else:
                proposal.extra_fields = {**proposal.extra_fields, name: value}
                update_fields.add("extra_fields")
        elif key == "confidence":
            proposal.confidence = value if value in Proposal.Confidence.values else ""
            update_fields.add("confidence")
        elif key == "kept_blocks":
            proposal.kept_blocks = [{"after": after, "markdown": text} for after, text in value]
            update_fields.add("kept_blocks")
        elif key == "list:requirements":
            Requirement.objects.filter(proposal=proposal).delete()
            Requirement.objects.bulk_create(
                Requirement(proposal=proposal, text=text[:1000], position=i) for i, text in enumerate(value)
            )
        elif key.startswith("list:"):
            proposal.extra_fields = {**proposal.extra_fields, key.removeprefix("list:"): list(value)}
            update_fields.add("extra_fields")
        elif key == "research_links":
            ResearchLink.objects.filter(proposal=proposal).delete()
            ResearchLink.objects.bulk_create(
                ResearchLink(proposal=proposal, title=title[:200], url=url[:500], position=i)
                for i, (title, url) in enumerate(value)
                if url
            )
        elif key == "persona_tags":
            # Only personas Stagegate knows can be tagged; other mentions stay in the issue text.
            proposal.persona_tags.set(Persona.objects.filter(name__in=value))
        elif key.startswith("check:"):
            _, stage, item_key = key.split(":", 2)
            ticks.setdefault(bool(value), []).append(Q(stage=stage, key=item_key))
        elif key.startswith("orr:"):
            _apply_orr_answer(proposal, key.removeprefix("orr:"), value)
        changed.append(label_for_key(proposal, key))
    for checked, conditions in ticks.items():
        ChecklistItem.objects.filter(proposal=proposal).filter(functools.reduce(operator.or_, conditions)).update(
            checked=checked, checked_by=None
        )
    if update_fields:
        proposal.save(update_fields=sorted(update_fields))
    Proposal.objects.filter(pk=proposal.pk).update(version=F("version") + 1)
    proposal.refresh_from_db(fields=["version", "updated_at"])
    return changed


def _apply_orr_answer(proposal: Proposal, area_key: str, answer: str) -> None:
    """An ORR answer edited on GitLab goes through the reviews service, so a signed-off area goes stale."""
    from gitlab_sync.sync import sync_suppressed
    from reviews.models import Review
    from reviews.services import review_answer_save

    review = Review.objects.filter(proposal=proposal, area__key=area_key).first()
    if review is None:
        return
    try:
        with sync_suppressed():
            review_answer_save(review=review, answer=answer, base_sha256=review.answer_sha256, by=proposal.owner)
    except Exception:  # a closed proposal refuses answers; GitLab's text stays on GitLab
        log.warning("ORR answer %s of proposal %s from GitLab not applied", area_key, proposal.pk, exc_info=True)


def label_for_key(proposal: Proposal, key: str) -> str:
    if key == TITLE:
        return "Title"
    if key.startswith(("field:", "list:")):
        name = key.split(":", 1)[1]
        try:
            return proposal.definition.field(name).label
        except KeyError:
            return NEEDS_FIELDS.get(name, name.replace("_", " ").capitalize())
    if key.startswith("check:"):
        return f"checklist item “{key.split(':', 2)[2]}”"
    if key.startswith("orr:"):
        return f"ORR answer “{key.removeprefix('orr:')}”"
    return {"confidence": "Confidence", "research_links": "Research links", "persona_tags": "Personas"}.get(
        key, "Sections added on GitLab"
    )


def record(proposal: Proposal, *, kind: str, message: str, data: dict | None = None, actor=None) -> None:
    Activity.objects.create(proposal=proposal, actor=actor, kind=kind, message=message[:500], data=data or {})
