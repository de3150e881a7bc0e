"""What the template versions themselves say: headings, prompts, items, notes, hint comments.

The parser leaves this text out and the escaping keeps answers from looking like it; all of it is
worked out once from ``proposals.template.DEFINITIONS``.
"""

from __future__ import annotations

from functools import cache, lru_cache

from proposals.markdown.lines import (
    COMMENT,
    TEXT,
    LineWalker,
    heading_of,
    is_details_line,
    norm,
    task_item,
)
from proposals.markdown.normal import normal_form
from proposals.template import (
    DEFINITIONS,
    NEEDS_FIELDS,
    TEMPLATE_COMMENTS,
    Boilerplate,
    Checklist,
    ChecklistGroup,
    Field,
    Heading,
    Kind,
    get_definition,
)

NORMAL, CODE, DROP = 0, 1, 2


_HEADING_ALIASES = {
    "generally available": "general availability",
    "feature release": "general availability",
    "experiment/prototype": "experiment",
}


def alias(text: str) -> str:
    key = norm(text)
    return _HEADING_ALIASES.get(key, key)


@cache
def all_known_headings() -> frozenset[str]:
    return frozenset(text for definition in DEFINITIONS.values() for text in _definition_headings(definition.version))


def heading_is_known(text: str, known: frozenset[str]) -> bool:
    """Is this heading text (or the part before a colon: ``### Success: …``) one of ``known``?"""
    if alias(text) in known:
        return True
    return ":" in text and alias(text.partition(":")[0]) in known


@cache
def _definition_headings(version: str) -> frozenset[str]:
    definition = get_definition(version)
    texts = set()
    for node in definition.body:
        if isinstance(node, Heading):
            texts.add(alias(node.text))
        elif isinstance(node, Field):
            if node.level:
                texts.add(alias(node.heading))
            if node.list_heading:
                texts.add(alias(node.list_heading.text))
        elif isinstance(node, Checklist):
            texts.add(alias(node.heading.text))
    return frozenset(texts)


@cache
def all_item_texts() -> frozenset[str]:
    return frozenset(norm(item.text) for d in DEFINITIONS.values() for c in d.checklists for item in c.items)


@cache
def all_captions() -> frozenset[str]:
    return frozenset(norm(f.heading) for definition in DEFINITIONS.values() for f in definition.fields if f.level == 0)


@cache
def known_comments() -> frozenset[str]:
    texts = set(TEMPLATE_COMMENTS)
    for definition in DEFINITIONS.values():
        texts.update(definition.comments)
    return frozenset(" ".join(text.split()) for text in texts)


def is_known_comment(lines: list[str]) -> bool:
    text = "\n".join(lines).strip()
    if not (text.startswith("<!--") and text.endswith("-->")):
        return False
    return " ".join(text[4:-3].split()) in known_comments()


@cache
def field_prompts(name: str) -> frozenset[str]:
    """The prompts every template version asks for this field with."""
    return frozenset(norm(f.prompt) for d in DEFINITIONS.values() for f in d.fields if f.name == name and f.prompt)


def needs_field(group: ChecklistGroup) -> str | None:
    for name, title in NEEDS_FIELDS.items():
        if norm(title) == norm(group.title):
            return name
    return None


@cache
def boilerplate_lines() -> frozenset[str]:
    return frozenset(
        norm(line)
        for d in DEFINITIONS.values()
        for node in d.body
        if isinstance(node, Boilerplate)
        for line in node.lines
        if norm(line)
    )


@cache
def requirement_notes() -> frozenset[str]:
    return frozenset(
        norm(line)
        for d in DEFINITIONS.values()
        for f in d.fields
        if f.kind == Kind.REQUIREMENTS
        for line in f.notes
        if norm(line)
    )


@cache
def item_notes() -> frozenset[str]:
    return frozenset(
        norm(line) for d in DEFINITIONS.values() for c in d.checklists for item in c.items for line in item.notes
    )


@cache
def all_area_lines() -> frozenset[str]:
    return frozenset(
        norm(line) for d in DEFINITIONS.values() for c in d.checklists for g in c.groups for line in g.after
    )


@cache
def trailer_lines() -> frozenset[str]:
    return frozenset(
        norm(line) for d in DEFINITIONS.values() for line in d.trailer if not line.startswith("/") and norm(line)
    )


@cache
def area_guidance() -> dict[str, tuple[str, ...]]:
    """Every version's guidance text per ORR area title (normalised)."""
    guidance: dict[str, set[str]] = {}
    for d in DEFINITIONS.values():
        for area in d.orr_areas:
            guidance.setdefault(norm(area.title), set()).add(norm(area.guidance))
    return {title: tuple(texts) for title, texts in guidance.items()}


@cache
def area_titles(version: str) -> tuple[tuple[str, str], ...]:
    return tuple((area.key, norm(area.title)) for area in get_definition(version).orr_areas)


@lru_cache(maxsize=8192)
def is_template_line(line: str) -> bool:
    """A line of some template version's own text: a heading, prompt, note, unticked item, resource line…"""
    stripped = line.strip()
    if not stripped or is_details_line(line):
        return True
    heading = heading_of(line)
    if heading is not None:
        return alias(heading[1]) in all_known_headings()
    task = task_item(line)
    if task is not None:
        return task[0] == " " and norm(task[1]) in all_item_texts()
    words = norm(stripped)
    return words in _template_line_words() if words else normal_form(stripped) in _template_line_words()


@cache
def _template_line_words() -> frozenset[str]:
    """Every template line's normalised words; a line with no words (a table rule, ``- ...``) as written
    (in ``normal_form``: a table rule however aligned)."""
    lines: set[str] = set()
    for d in DEFINITIONS.values():
        for node in d.body:
            if isinstance(node, Field):
                lines.update((node.markdown_prompt, node.heading, *node.notes, *node.placeholder))
            elif isinstance(node, Boilerplate):
                lines.update(node.lines)
            elif isinstance(node, Checklist):
                for group in node.groups:
                    lines.update((group.title, *group.after))
                    lines.update(note for item in group.items for note in item.notes)
        lines.update(line for line in d.trailer if not line.startswith("/"))
    return frozenset(norm(line) or normal_form(line.strip()) for line in lines if line.strip())


def scan(lines: list[str]) -> list[int]:
    """NORMAL, CODE (inside a fence or an unknown HTML comment) or DROP (a template hint comment), per line."""
    walked = list(LineWalker(lines))
    states = [NORMAL if line.where == TEXT else CODE for line in walked]
    for start, line in enumerate(walked):
        if line.where == COMMENT and line.opens:
            end = start + 1
            while end < len(walked) and walked[end].where == COMMENT and not walked[end].opens:
                end += 1
            if is_known_comment(lines[start:end]):
                states[start:end] = [DROP] * (end - start)
    return states


@cache
def _inline_hints() -> tuple[str, ...]:
    """The hint comments the template puts inside its lines (the UX maturity tables' cells)."""
    hints: set[str] = set()
    for d in DEFINITIONS.values():
        for f in d.fields:
            for line in f.notes:
                start = line.find("<!--")
                while start != -1 and (end := line.find("-->", start)) != -1:
                    hints.add(line[start : end + 3])
                    start = line.find("<!--", end)
    return tuple(sorted(hints, key=len, reverse=True))


def without_inline_hints(text: str) -> str:
    """The text without the template's own hint comments inside a line: GitLab's rich-text editor drops
    them, and they say nothing the author wrote."""
    for hint in _inline_hints():
        if hint in text:
            text = text.replace(" " + hint, "").replace(hint, "")
    return text
