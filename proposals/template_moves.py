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

from dataclasses import replace

from django.db import transaction

from proposals import checklists, history, markdown, services
from proposals.content import content_from_proposal, proposal_apply_content
from proposals.models import Activity, Persona, Proposal
from proposals.template import DEFINITIONS, STAGE_LABELS, Field, Kind, get_definition


class UnknownTemplateVersion(ValueError):
    pass


@transaction.atomic
def proposal_import_markdown(
    *, markdown_text: str, title: str, owner, gitlab_issue_ref: str = "", title_from_issue: bool = False
) -> tuple[Proposal, markdown.ParseResult]:
    """A new proposal owned by ``owner`` holding what the issue body says, in the version it was written from.

    Labels and confidentiality left in the body as quick actions are applied; persona names mentioned in
    the personas text become persona tags. The parse report is kept on the proposal's timeline. With
    ``gitlab_issue_ref`` the proposal is linked to that existing issue instead of getting a new one.
    """
    personas = {persona.name: persona for persona in Persona.objects.all()}
    result = parse_import(markdown_text, personas=list(personas))
    proposal = services.proposal_create(
        title=title,
        owner=owner,
        confidential=result.confidential,
        template_version=result.version,
        gitlab_issue_ref=gitlab_issue_ref,
        title_from_issue=title_from_issue,
    )
    with history.change_origin(history.Origin.IMPORT):
        proposal_apply_content(proposal=proposal, content=result.content, by=owner)
    mentioned = [personas[name] for name in result.persona_mentions if name in personas]
    if mentioned:
        proposal.persona_tags.add(*mentioned)
    labels = [*proposal.labels, *(label for label in result.labels if label not in proposal.labels)]
    if labels != proposal.labels:
        proposal.labels = labels
        proposal.save(update_fields=["labels"])
    Activity.objects.record(
        proposal,
        actor=owner,
        kind=Activity.Kind.EDITED,
        message=f"{owner} imported the proposal from Markdown ({get_definition(result.version).name})",
        data={"import": import_report(result)},
    )
    return proposal, result


def parse_import(markdown_text: str, *, personas: list[str] | None = None) -> markdown.ParseResult:
    """What an import would read from an issue body: the preview and the import itself both call this."""
    if personas is None:
        personas = list(Persona.objects.values_list("name", flat=True))
    return markdown.parse(markdown_text, personas=personas)


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
    services.ensure_content_changeable(proposal, by)
    source = proposal.template_version
    if version == source:
        return proposal
    content = content_from_proposal(proposal)
    # Ticks the app sets from the answers are not carried: the target version sets its own from the same
    # answers. Ticks a person set are, to the same item or as a ticked line where it has no place; so are
    # ticks of items the app has no data for yet (GitLab's links and designs not read).
    verified = {
        (c.stage.value, item.key)
        for c in content.definition.checklists
        for item in c.items
        if item.verified_by and checklists.verified_state(proposal, item.verified_by) is not None
    }
    content = replace(content, checked=content.checked - verified)
    moved = markdown.parse(markdown.render(content), version=version).content
    proposal_apply_content(proposal=proposal, content=moved, by=by)
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} moved the proposal to “{get_definition(version).name}”",
        data={"template_from": source, "template_to": version, "kept_blocks": len(moved.kept_blocks)},
    )
    return proposal


def _shown_value(proposal: Proposal, field: Field) -> str:
    """A field's answer as text: the list kinds (requirements, persona tags) are rows, not one value."""
    if field.kind == Kind.REQUIREMENTS:
        return "\n".join(requirement.text for requirement in proposal.requirements.all())
    if field.kind == Kind.PERSONAS:
        tags = ", ".join(persona.name for persona in proposal.persona_tags.all())
        return "\n".join(part for part in (tags, proposal.personas) if part)
    if field.kind == Kind.CONFIDENCE:
        return proposal.get_confidence_display() if proposal.confidence else ""
    return str(proposal.field_value(field.name) or "")


def proposal_template_move_preview(*, proposal: Proposal, version: str, by) -> dict:
    """What the proposal would hold after the move (a dry run, rolled back): the page and the API show this.

    `sections` lists each stage's fields as (label, name, value); `kept_blocks` what has no place there.
    """
    with transaction.atomic():
        moved = proposal_change_template(proposal=proposal, version=version, by=by)
        moved = Proposal.objects.get(pk=moved.pk)
        sections = [
            {
                "label": STAGE_LABELS[stage],
                "stage": stage.value,
                "fields": [(f.label, f.name, _shown_value(moved, f)) for f in moved.definition.fields_for(stage)],
            }
            for stage in moved.definition.stages
        ]
        preview = {
            "version": version,
            "target": moved.definition.name,
            "sections": sections,
            "kept_blocks": list(moved.kept_blocks),
            "same": version == proposal.template_version,
        }
        transaction.set_rollback(True)
    return preview
