"""Writing Markdown content onto proposals: importing an issue body, moving to another template version.

``proposal_import_markdown`` creates a proposal from a filled-in issue body (any template
version) and records what the parser found, left empty, missed and kept.

A move goes through the issue body itself: the proposal is rendered in its
current version and read back with the target version (``parse(…, version=)``).
So a field keeps its answer wherever the target has a section of that name
(the latest version's Beta "Main Job story" takes June 2023's), checklist ticks
follow their item, and whatever has no place in the target (June 2023's
confidence table, the latest version's Small Jobs) becomes a kept block standing
where it stood, shown in the issue and on the page. Moving back reads those
blocks into their fields again.
"""

from __future__ import annotations

from dataclasses import asdict, replace

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from proposals import markdown, services
from proposals.content import content_from_proposal
from proposals.markdown import ProposalContent
from proposals.models import Activity, ChecklistItem, Persona, Proposal, Requirement, ResearchLink
from proposals.template import DEFINITIONS, NEEDS_FIELDS, Kind, get_definition


class UnknownTemplateVersion(ValueError):
    pass


@transaction.atomic
def proposal_import_markdown(*, markdown_text: str, title: str, owner) -> tuple[Proposal, markdown.ParseResult]:
    """A new proposal owned by ``owner`` holding what the issue body says, in the version it was written from.

    Labels and confidentiality left in the body as quick actions are applied; persona names mentioned in
    the personas text become persona tags. The parse report is kept on the proposal's timeline.
    """
    personas = {persona.name: persona for persona in Persona.objects.all()}
    result = markdown.parse(markdown_text, personas=list(personas))
    proposal = services.proposal_create(
        title=title, owner=owner, confidential=result.confidential, template_version=result.version
    )
    proposal_set_content(proposal=proposal, content=result.content, by=owner)
    mentioned = [personas[name] for name in result.persona_mentions if name in personas]
    if mentioned:
        proposal.persona_tags.add(*mentioned)
    labels = [*proposal.labels, *(label for label in result.labels if label not in proposal.labels)]
    if labels != proposal.labels:
        proposal.labels = labels
        proposal.save(update_fields=["labels"])
    Activity.objects.create(
        proposal=proposal,
        actor=owner,
        kind=Activity.Kind.EDITED,
        message=f"{owner} imported the proposal from Markdown ({get_definition(result.version).name})",
        data={"import": import_report(result)},
    )
    return proposal, result


def import_report(result: markdown.ParseResult) -> dict:
    """What an import found, as plain data for the timeline and the report page."""
    return {
        "version": result.version,
        "found": list(result.found),
        "empty": list(result.empty),
        "missing": list(result.missing),
        "checked": len(result.content.checked),
        "orr_answers": sorted(key for key, answer in result.content.orr.items() if answer.answer),
        "kept_blocks": len(result.content.kept_blocks),
        "quick_actions": list(result.quick_actions),
    }


@transaction.atomic
def proposal_change_template(*, proposal: Proposal, version: str, by) -> Proposal:
    """Move a proposal to another template version without losing a word (see the module docstring)."""
    if version not in DEFINITIONS:
        raise UnknownTemplateVersion(f"There is no template version “{version}”.")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not proposal.is_editable_by(by):
        raise PermissionDenied("Only the proposal's author or an admin can change its template.")
    source = proposal.template_version
    if version == source:
        return proposal
    content = content_from_proposal(proposal)
    # Ticks the app sets from the answers are not carried: the target version sets its own from the same
    # answers. Ticks a person set are, to the same item or as a ticked line where it has no place.
    verified = {
        (c.stage.value, item.key) for c in content.definition.checklists for item in c.items if item.verified_by
    }
    content = replace(content, checked=content.checked - verified)
    moved = markdown.parse(markdown.render(content), version=version).content
    proposal_set_content(proposal=proposal, content=moved, by=by)
    Activity.objects.create(
        proposal=proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} moved the proposal to “{get_definition(version).name}”",
        data={"template_from": source, "template_to": version, "kept_blocks": len(moved.kept_blocks)},
    )
    return proposal


@transaction.atomic
def proposal_set_content(*, proposal: Proposal, content: ProposalContent, by) -> Proposal:
    """Make the proposal hold exactly this content (its template version included).

    Text fields the model has go to their columns, the others to ``extra_fields``;
    requirements, research links, persona tags and checklist ticks replace the
    proposal's; ORR answers go through the reviews service (a signed-off area
    whose answer changes goes stale). Review statuses are never taken from
    Markdown: reviewers decide them in Stagegate.
    """
    content = markdown.canonical(content)
    definition = content.definition
    model_fields = {f.name for f in Proposal._meta.get_fields()}
    text_names = markdown.text_field_names(definition)

    proposal.template_version = definition.version
    extra: dict[str, object] = {}
    for name in text_names:
        value = content.fields.get(name, "")
        if name in model_fields:
            setattr(proposal, name, value)
        elif value:
            extra[name] = value
    for name in _text_columns(model_fields) - set(text_names):
        setattr(proposal, name, "")  # what this version has no place for is in content.kept_blocks
    for f in definition.fields:
        if f.kind == Kind.REQUIREMENTS and f.name != "requirements" and content.lists.get(f.name):
            extra[f.name] = "\n".join(content.lists[f.name])  # edited as one text, one requirement a line
    proposal.extra_fields = extra
    has_confidence = any(f.kind == Kind.CONFIDENCE for f in definition.fields)
    proposal.confidence = content.confidence if has_confidence else ""

    personas_text, tags = _persona_tags(content)
    if personas_text is not None:
        proposal.personas = personas_text
    proposal.kept_blocks = [asdict(block) for block in content.kept_blocks]
    proposal.save()
    Proposal.objects.filter(pk=proposal.pk).update(version=F("version") + 1)
    proposal.refresh_from_db(fields=["version", "updated_at"])

    proposal.persona_tags.set(tags)
    Requirement.objects.filter(proposal=proposal).delete()
    Requirement.objects.bulk_create(
        Requirement(proposal=proposal, text=text[:1000], position=position)
        for position, text in enumerate(content.lists.get("requirements", ()))
    )
    ResearchLink.objects.filter(proposal=proposal).delete()
    ResearchLink.objects.bulk_create(
        ResearchLink(proposal=proposal, title=link.title[:200], url=link.url[:500], position=position)
        for position, link in enumerate(content.research_links)
    )
    _set_checklist(proposal, content)
    _set_orr_answers(proposal, content, by)
    services.mark_for_sync(proposal)
    return proposal


def _text_columns(model_fields: set[str]) -> set[str]:
    """The proposal's text columns that hold template answers (in any version)."""
    names = {f.name for definition in DEFINITIONS.values() for f in definition.fields if f.kind != Kind.REQUIREMENTS}
    names |= set(NEEDS_FIELDS)
    return (names & model_fields) - {"confidence"}


def _persona_tags(content: ProposalContent) -> tuple[str | None, list[Persona]]:
    """Persona rows for the mentions; a mention of a persona Stagegate does not know stays in the text."""
    if not any(f.kind == Kind.PERSONAS for f in content.definition.fields):
        return None, []
    known = {persona.name.casefold(): persona for persona in Persona.objects.all()}
    tags: list[Persona] = []
    unknown: list[str] = []
    for mention in content.persona_tags:
        persona = known.get(mention.name.casefold())
        if persona is not None:
            if persona not in tags:
                tags.append(persona)
        else:
            unknown.append(markdown.render_persona(mention))
    text = content.fields.get("personas", "")
    if unknown:
        text = "\n".join(unknown) + ("\n\n" + text if text else "")
    return text, tags


def _set_checklist(proposal: Proposal, content: ProposalContent) -> None:
    services.create_checklist_items(proposal)
    wanted = {(c.stage.value, item.key) for c in content.definition.checklists for item in c.items}
    stale = [item.pk for item in proposal.checklist_items.all() if (item.stage, item.key) not in wanted]
    ChecklistItem.objects.filter(pk__in=stale).delete()
    for checked in (True, False):
        pairs = [pair for pair in wanted if (pair in content.checked) == checked]
        for stage in {stage for stage, _ in pairs}:
            keys = [key for pair_stage, key in pairs if pair_stage == stage]
            ChecklistItem.objects.filter(proposal=proposal, stage=stage, key__in=keys, checked_by_app=False).update(
                checked=checked
            )
    services.refresh_verified_checklist(proposal)


def _set_orr_answers(proposal: Proposal, content: ProposalContent, by) -> None:
    # reviews owns the ORR; like the GitLab sync, the write goes through its service (imported here,
    # not at the top, because reviews imports proposals).
    from reviews.services import review_answer_save

    for review in proposal.reviews.select_related("area"):
        answer = content.orr.get(review.area.key)
        text = answer.answer if answer else ""
        if text != review.answer:
            review_answer_save(review=review, answer=text, base_sha256=review.answer_sha256, by=by)
