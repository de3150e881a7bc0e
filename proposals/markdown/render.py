"""``render(content) -> str``: the GitLab issue description of a proposal's content.

It has the shape of the content's template definition (``proposals.template``): the same headings,
levels and order; an empty field keeps the template's italic prompt (and its notes, tables and ``- ...``
bullets); a filled field shows the answer instead, escaped (see ``escaping``); the confidence table holds
the value and the research links; checklists are GitLab task lists with the items verbatim; each ORR area
carries the author's answer and the area's review status. Answers to ORR areas are indented under their
area (three spaces), dependency and legal needs under their item (two). Kept blocks are written back where
they stood, as they were, except that a code fence or comment they leave open is closed at their end.
Quick actions (``/label``, ``/confidential``, ``/cc``) are never written: the sync sets labels and
confidentiality through the API.
"""

from __future__ import annotations

from proposals.markdown.anchors import START, group_anchor, item_anchor, item_of_anchor, node_anchors
from proposals.markdown.document import Link, PersonaMention, ProposalContent, canonical
from proposals.markdown.escaping import (
    LINK_TEXT_SPECIAL,
    STATUS_PREFIX,
    answer_context,
    answer_text_context,
    autolinkable,
    escape_inline,
    escape_item,
    escape_lines,
    field_context,
    kept_context,
    link_destination,
    needs_context,
    render_link,
)
from proposals.markdown.known import needs_field
from proposals.markdown.lines import AREA_LINE, LineWalker
from proposals.template import Boilerplate, Checklist, ChecklistGroup, Field, Heading, Kind, TemplateDefinition

ANSWER_INDENT = "   "


NEEDS_INDENT = "  "


def render(content: ProposalContent) -> str:
    """The issue description of the content; ``proposals.content.content_from_proposal`` reads a saved
    proposal into content."""
    content = canonical(content)
    definition = content.definition
    kept: dict[str, list[str]] = {}
    wordings: dict[str, str] = {}  # the author's wording of a checklist item, by item anchor
    for block in content.kept_blocks:
        if item_of_anchor(block.after) is not None:
            wordings[block.after] = block.markdown
        else:
            kept.setdefault(block.after, []).append(block.markdown)
    blocks: list[str] = []

    def emit_kept(anchor: str) -> None:
        for text in kept.pop(anchor, ()):
            blocks.append(render_kept(text))

    emit_kept(START)
    for node, anchor in zip(definition.body, node_anchors(definition.version), strict=True):
        if isinstance(node, Heading):
            blocks.append(node.markdown)
        elif isinstance(node, Boilerplate):
            blocks.append("\n".join(node.lines))
        elif isinstance(node, Field):
            blocks.append(_render_field(node, content))
        else:
            for group in node.groups:
                block = _render_group(
                    node, group, content, definition, kept.pop(group_anchor(node, group), []), wordings
                )
                blocks.append(block if group is not node.groups[0] else f"{node.heading.markdown}\n{block}")
        emit_kept(anchor)
    for anchor in list(kept):  # anchors this definition does not have: keep the text, at the end
        emit_kept(anchor)
    trailer = [line for line in definition.trailer if not line.startswith("/")]
    if trailer:
        blocks.append("\n".join(trailer))
    return "\n\n".join(blocks) + "\n"


def render_kept(text: str) -> str:
    """Kept Markdown as it was; a code fence or comment it leaves open is closed at its end, so it
    cannot swallow the template after it."""
    lines = text.split("\n")
    walker = LineWalker(lines)
    for _ in walker:
        pass
    if walker.open_fence is not None:
        lines.append(walker.open_fence[0] * walker.open_fence[1])
    elif walker.in_comment:
        lines.append("-->")
    return "\n".join(escape_lines(lines, kept_context()))


def _render_field(f: Field, content: ProposalContent) -> str:
    lines = [f.markdown_heading]
    empty = [f.markdown_prompt] if f.prompt else []
    empty += list(f.notes)
    if f.kind == Kind.TEXT:
        text = content.fields.get(f.name, "")
        lines += escape_lines(text.split("\n"), answer_text_context(f)) if text else empty
    elif f.kind == Kind.PERSONAS:
        text = content.fields.get(f.name, "")
        mentions = [render_persona(p) for p in content.persona_tags]
        body = escape_lines(text.split("\n"), answer_text_context(f)) if text else []
        if mentions and body:
            mentions.append("")
        lines += mentions + body if (mentions or body) else empty
    elif f.kind == Kind.CONFIDENCE:
        if content.confidence or content.research_links:
            lines += [*f.notes[:2], _confidence_row(content)]
        else:
            lines += empty
    elif f.kind == Kind.REQUIREMENTS:
        items = content.lists.get(f.name, ())
        list_heading = [f.list_heading.markdown] if f.list_heading else []
        if items:
            lines += list_heading + [line for item in items for line in _requirement_lines(item, f)]
        else:
            lines += empty + list_heading + list(f.placeholder)
    return "\n".join(lines)


_PERSONA_SPECIAL = LINK_TEXT_SPECIAL | {"(", ")"}


def render_persona(persona: PersonaMention) -> str:
    """``- [Name (Role)](handbook link)``: brackets inside the name or role are escaped, the role's own are not."""
    text = escape_inline(persona.name, _PERSONA_SPECIAL)
    if persona.role:
        text += f" ({escape_inline(persona.role, _PERSONA_SPECIAL)})"
    return f"- [{text}]({link_destination(persona.url)})"


def _confidence_row(content: ProposalContent) -> str:
    value = content.confidence.capitalize() if content.confidence else ""
    return f"| {value} | {'<br>'.join(map(_research_item, content.research_links))} |"


def _research_item(link: Link) -> str:
    if not link.title and autolinkable(link.url):
        return f"<{link.url}>"
    return render_link(link.title, link.url)


def _requirement_lines(item: str, f: Field) -> list[str]:
    first, *more = item.split("\n")
    return [f"- {escape_item(first)}", *escape_lines(_indent(more, "  "), field_context(f))]


def _render_group(
    checklist: Checklist,
    group: ChecklistGroup,
    content: ProposalContent,
    definition: TemplateDefinition,
    kept: list[str],
    wordings: dict[str, str],
) -> str:
    stage = checklist.stage.value
    lines = [group.title]
    for item in group.items:
        pair = (stage, item.key)
        mark = "x" if pair in content.checked else "~" if pair in content.inapplicable else " "
        text = wordings.get(item_anchor(stage, item.key), item.text) if wordings else item.text
        lines.append(f"{'  ' * item.depth}- [{mark}] {text}")
        lines += list(item.notes)
    parts = ["\n".join(lines)]
    parts += [render_kept(text) for text in kept]
    if group.after:
        parts.append(_render_orr_areas(group, content, definition, checklist_level(checklist)))
    needs = needs_field(group)
    if needs and content.fields.get(needs):
        text = content.fields[needs]
        parts.append(
            "\n".join(escape_lines(_indent(text.split("\n"), NEEDS_INDENT), needs_context(checklist_level(checklist))))
        )
    return "\n\n".join(parts)


def checklist_level(checklist: Checklist) -> int:
    return checklist.heading.level


def _render_orr_areas(group: ChecklistGroup, content: ProposalContent, definition, level: int) -> str:
    by_number = {area.number: area for area in definition.orr_areas}
    chunks: list[list[str]] = []
    for line in group.after:
        match = AREA_LINE.match(line)
        if match or not chunks:
            chunks.append([line])
        else:
            chunks[-1].append(line)
    out: list[str] = []
    context = answer_context(level)
    for chunk in chunks:
        match = AREA_LINE.match(chunk[0])
        area = by_number.get(int(match.group(1))) if match else None
        part = ["\n".join(chunk)]
        answer = content.orr.get(area.key) if area else None
        if answer and answer.status:
            part.append(f"{ANSWER_INDENT}{STATUS_PREFIX}{answer.status}_")
        if answer and answer.answer:
            part.append("\n".join(escape_lines(_indent(answer.answer.split("\n"), ANSWER_INDENT), context)))
        out.append("\n\n".join(part))
    return "\n\n".join(out)


def _indent(lines: list[str], prefix: str) -> list[str]:
    return [prefix + line if line else "" for line in lines]
