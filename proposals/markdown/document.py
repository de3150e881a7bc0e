"""The content both sides speak: ``ProposalContent``, a plain frozen snapshot of a proposal with no
database behind it, and ``canonical``, the one form of it that render and parse agree on.

A text field is canonical when line endings are ``\\n`` and blank lines at its start and end are dropped
(``canonical_text``); round trips are exact on canonical content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from proposals.markdown.anchors import anchor_order, item_of_anchor
from proposals.markdown.items import item_for_wording
from proposals.markdown.known import without_inline_hints
from proposals.markdown.lines import norm
from proposals.markdown.normal import normal_form
from proposals.template import DEFAULT_VERSION, NEEDS_FIELDS, Field, Kind, TemplateDefinition, get_definition


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class PersonaMention:
    name: str
    role: str = ""
    url: str = ""


@dataclass(frozen=True)
class OrrAnswer:
    answer: str = ""
    status: str = ""  # the review status as shown ("Approved"), empty when unknown


@dataclass(frozen=True)
class KeptBlock:
    """Markdown the template has no place for, and the node it stood in or after."""

    after: str  # a node anchor of the definition (see ``node_anchors``); "" for the very top
    markdown: str


@dataclass(frozen=True)
class ProposalContent:
    template_version: str = DEFAULT_VERSION
    # Every text field by name: the template's text fields, the personas' free text,
    # dependency_needs and legal_needs.
    fields: dict[str, str] = field(default_factory=dict)
    persona_tags: tuple[PersonaMention, ...] = ()
    confidence: str = ""  # "high", "medium", "low" or ""
    research_links: tuple[Link, ...] = ()
    # Requirement-list fields by name; "requirements" is the proposal's Requirement rows.
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    checked: frozenset[tuple[str, str]] = frozenset()  # (stage, key) of every ticked checklist item
    # (stage, key) of every item marked inapplicable (GitLab's ``[~]``): neither ticked nor open.
    inapplicable: frozenset[tuple[str, str]] = frozenset()
    orr: dict[str, OrrAnswer] = field(default_factory=dict)  # by ORR area key
    kept_blocks: tuple[KeptBlock, ...] = ()

    @property
    def definition(self) -> TemplateDefinition:
        return get_definition(self.template_version)

    @property
    def requirements(self) -> tuple[str, ...]:
        return self.lists.get("requirements", ())

    @property
    def checklists(self) -> dict[str, dict[str, bool]]:
        """Every checklist item of the definition, ticked or not, by stage then key."""
        return {
            checklist.stage.value: {
                item.key: (checklist.stage.value, item.key) in self.checked for item in checklist.items
            }
            for checklist in self.definition.checklists
        }


def canonical_text(text: str | None, *, kept: bool = False, seen: set[tuple[str, bool]] | None = None) -> str:
    """Line endings as ``\\n``; whitespace-only lines at the start and end dropped; the Markdown in the
    one spelling GitLab's editors agree on (``normal.normal_form``). ``kept``: Markdown the template has no
    place for, written back with a code fence it leaves open closed. ``seen``: texts already made canonical
    (the parser reads each text into this form, then ``canonical`` has it again), returned as they are."""
    if not text:
        return ""
    if seen is not None and (text, kept) in seen:
        return text
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if "<!--" in text:
        text = without_inline_hints(text)
    lines = normal_form(text, kept=kept).split("\n")
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    out = "\n".join(lines[start:end])
    if seen is not None:
        seen.add((out, kept))
    return out


def _one_line(text: str | None) -> str:
    return " ".join(str(text or "").split())


def _list_item(text: str | None) -> str:
    lines = (line.strip() for line in canonical_text(text).split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class _Facts:
    """What canonical() needs to know of a definition, worked out once per version."""

    names: tuple[str, ...]
    captions: tuple[Field, ...]
    lists: tuple[str, ...]
    items: frozenset[tuple[str, str]]
    areas: frozenset[str]
    has_confidence: bool
    has_personas: bool


@cache
def _facts(version: str) -> _Facts:
    definition = get_definition(version)
    return _Facts(
        names=tuple(text_field_names(definition)),
        captions=tuple(f for f in definition.fields if f.level == 0),
        lists=tuple(f.name for f in definition.fields if f.kind == Kind.REQUIREMENTS),
        items=frozenset((c.stage.value, item.key) for c in definition.checklists for item in c.items),
        areas=frozenset(area.key for area in definition.orr_areas),
        has_confidence=any(f.kind == Kind.CONFIDENCE for f in definition.fields),
        has_personas=any(f.kind == Kind.PERSONAS for f in definition.fields),
    )


def canonical(content: ProposalContent, *, seen: set[tuple[str, bool]] | None = None) -> ProposalContent:
    """The same content in the one form render and parse agree on; ``seen`` as for ``canonical_text``."""
    definition = content.definition
    facts = _facts(definition.version)
    fields = {name: canonical_text(content.fields.get(name), seen=seen) for name in facts.names}
    fields = {name: value for name, value in fields.items() if value}
    for f in facts.captions:
        if f.name in fields and same_lines(fields[f.name], f.notes):
            del fields[f.name]
    lists = {}
    for name in facts.lists:
        items = tuple(item for item in map(_list_item, content.lists.get(name, ())) if item)
        if items:
            lists[name] = items
    stages = facts.items
    orr = {}
    area_keys = facts.areas
    for key, value in content.orr.items():
        answer = OrrAnswer(canonical_text(value.answer, seen=seen), _one_line(value.status).replace("_", " ").strip())
        if key in area_keys and (answer.answer or answer.status):
            orr[key] = answer
    has_confidence, has_personas = facts.has_confidence, facts.has_personas
    confidence = (content.confidence or "").strip().lower()
    return ProposalContent(
        template_version=definition.version,
        fields=fields,
        persona_tags=tuple(
            PersonaMention(_one_line(p.name), _one_line(p.role), _one_line(p.url))
            for p in content.persona_tags
            if has_personas and _one_line(p.name)
        ),
        confidence=confidence if has_confidence and confidence in CONFIDENCE_LEVELS else "",
        research_links=tuple(
            Link(_one_line(link.title), _one_line(link.url))
            for link in content.research_links
            if has_confidence and (_one_line(link.title) or _one_line(link.url))
        ),
        lists=lists,
        checked=frozenset(pair for pair in content.checked if pair in stages),
        # An item is in one state: ticked wins over inapplicable.
        inapplicable=frozenset(pair for pair in content.inapplicable if pair in stages and pair not in content.checked),
        orr=orr,
        kept_blocks=_merge_kept(
            definition.version,
            (
                KeptBlock(block.after, text)
                for block in content.kept_blocks
                if (text := canonical_text(block.markdown, kept=True, seen=seen))
            ),
        ),
    )


def _merge_kept(version: str, blocks: Iterable[KeptBlock]) -> tuple[KeptBlock, ...]:
    """One block per anchor, in the order they render: blocks of one anchor stand next to each other anyway.
    An item's wording is one line that still reads as that item (and not as its template text): else it
    says nothing the item does not, and is dropped."""
    merged: dict[str, list[str]] = {}
    for block in blocks:
        item = item_of_anchor(block.after)
        if item is not None:
            if block.after not in merged and _is_wording_of(version, item, block.markdown):
                merged[block.after] = [block.markdown.strip()]
            continue
        merged.setdefault(block.after, []).append(block.markdown)
    order = anchor_order(version)
    anchors = sorted(merged, key=lambda anchor: order.get(anchor, len(order)))
    return tuple(KeptBlock(after, "\n\n".join(merged[after])) for after in anchors)


def _is_wording_of(version: str, item: tuple[str, str], text: str) -> bool:
    stage, key = item
    text = text.strip()
    if "\n" in text or not text or item_for_wording(version, stage, text) != key:
        return False
    checklist = next(c for c in get_definition(version).checklists if c.stage.value == stage)
    template_text = next(entry.text for entry in checklist.items if entry.key == key)
    return norm(text) != norm(template_text)


def text_field_names(definition: TemplateDefinition) -> list[str]:
    names = [f.name for f in definition.fields if f.kind in (Kind.TEXT, Kind.PERSONAS)]
    if any(group.title in NEEDS_FIELDS.values() for c in definition.checklists for group in c.groups):
        names += [name for name in NEEDS_FIELDS if name not in names]
    return names


CONFIDENCE_LEVELS = ("high", "medium", "low")


def same_lines(text: str, lines: tuple[str, ...]) -> bool:
    """Is the text these template lines, however its tables are aligned, and with or without the hint
    comments inside them (GitLab's rich-text editor drops them)?"""
    return _comparable(text) == _template_comparable(lines)


@cache
def _template_comparable(lines: tuple[str, ...]) -> tuple[str, ...]:
    return _comparable("\n".join(lines))


@lru_cache(maxsize=1024)
def _comparable(text: str) -> tuple[str, ...]:
    out = []
    for line in normal_form(text).split("\n"):
        while (start := line.find("<!--")) != -1 and (end := line.find("-->", start + 4)) != -1:
            line = line[:start] + line[end + 3 :]
        if line.strip():
            out.append(" ".join(line.split()))
    return tuple(out)
