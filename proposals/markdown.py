"""A proposal as its GitLab issue body, and any filled-in issue body back as a proposal.

``render(proposal) -> str`` writes the issue description in the shape of the
proposal's template definition (``proposals.template``): the same headings, levels
and order; an empty field keeps the template's italic prompt (and its notes,
tables and ``- ...`` bullets); a filled field shows the answer instead; the
confidence table holds the value and the research links; checklists are GitLab
task lists with the items verbatim; each ORR area carries the author's answer and
the area's review status. Quick actions (``/label``, ``/confidential``, ``/cc``)
are never written: the sync sets labels and confidentiality through the API.

``parse(markdown) -> ParseResult`` reads an issue written from any of the five
template versions back: the detected version, the content, which fields were
found, left empty or missing, persona mentions, and the quick actions left in
the body. Whatever it does not understand is kept as a ``KeptBlock`` anchored to
the template section it stood in or after, and written back there; only the
template's own text (its headings, prompts, hint comments, unticked items) is
ever left out. It never raises, and its time is linear in the input.

Both speak ``ProposalContent``, a plain frozen snapshot with no database behind
it, so ``render(parse(m))`` works without the database;
``content_from_proposal`` builds one from a saved ``Proposal``. This module does
no I/O and no database writes; given a proposal whose relations are prefetched
(``RENDER_PREFETCH``) it runs no query at all.

Escaping
--------
Text that authors type goes into the issue as Markdown, unchanged, except for
lines that the parser would otherwise read as the template's own structure.
Those get one backslash, put after the line's leading spaces, which GitLab does
not show (``\\#``, ``\\_``, ``\\<``, ``\\/``, ``\\-`` are CommonMark escapes of
ASCII punctuation):

- a heading that would end the answer: any heading whose text is a heading of
  any template version, or whose level is at most the level of the answer's own
  heading (``### Success`` inside an answer becomes ``\\### Success``);
- the field's italic prompt, in any version's wording;
- a line that GitLab could run as a quick action (``\\/label ~x``);
- a code fence or HTML comment opened in the answer and never closed in it
  (it would swallow the rest of the issue), and a comment that is word for word
  one of the template's hint comments (the parser drops those);
- a task item whose text is one of the template's checklist items (it would
  tell the wrong template version);
- in the ORR answers, a ``_Review status: …_`` line; in the personas text, a
  bullet that starts with a link (it would read as a persona mention); anywhere,
  the caption line of a UX maturity table.

A line that already starts with backslashes before such a text gets one more,
so the scheme is reversible: the parser removes exactly one backslash from any
line of the same shape. Lines inside closed code fences and HTML comments are
never touched. Answers to ORR areas are indented under their area (three
spaces), dependency and legal needs under their item (two). A requirement gets a
backslash before a first character Markdown would read as syntax (``\\- item``,
``\\...``); link texts escape ``\\ [ ] | < > ` &`` and URLs with spaces, brackets
or pipes use ``<…>``. Kept blocks are written back as they were, except that a
code fence or comment they leave open is closed at their end.

A text field is canonical when line endings are ``\\n`` and blank lines at its
start and end are dropped (``canonical``); round trips are exact on canonical
content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from proposals.template import (
    DEFAULT_VERSION,
    NEEDS_FIELDS,
    Boilerplate,
    Checklist,
    ChecklistGroup,
    Field,
    Heading,
    Kind,
    TemplateDefinition,
    get_definition,
)

START = ""  # anchor of blocks that stand before the template's first heading

# What ``content_from_proposal`` reads; prefetch these and rendering runs no query.
RENDER_PREFETCH = ("persona_tags", "research_links", "requirements", "checklist_items", "reviews__area")


# ---------------------------------------------------------------------------
# The content both sides speak
# ---------------------------------------------------------------------------


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


def canonical_text(text: str | None) -> str:
    """Line endings as ``\\n``; whitespace-only lines at the start and end dropped."""
    if not text:
        return ""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


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


def canonical(content: ProposalContent) -> ProposalContent:
    """The same content in the one form render and parse agree on."""
    definition = content.definition
    facts = _facts(definition.version)
    fields = {name: canonical_text(content.fields.get(name)) for name in facts.names}
    fields = {name: value for name, value in fields.items() if value}
    for f in facts.captions:
        if f.name in fields and _same_lines(fields[f.name], f.notes):
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
        answer = OrrAnswer(canonical_text(value.answer), _one_line(value.status).replace("_", " ").strip())
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
        orr=orr,
        kept_blocks=_merge_kept(
            definition.version,
            (
                KeptBlock(block.after, canonical_text(block.markdown))
                for block in content.kept_blocks
                if canonical_text(block.markdown)
            ),
        ),
    )


def _merge_kept(version: str, blocks: Iterable[KeptBlock]) -> tuple[KeptBlock, ...]:
    """One block per anchor, in the order they render: blocks of one anchor stand next to each other anyway."""
    merged: dict[str, list[str]] = {}
    for block in blocks:
        merged.setdefault(block.after, []).append(block.markdown)
    order = anchor_order(version)
    anchors = sorted(merged, key=lambda anchor: order.get(anchor, len(order)))
    return tuple(KeptBlock(after, "\n\n".join(merged[after])) for after in anchors)


@cache
def anchor_order(version: str) -> dict[str, int]:
    """Every anchor of a definition, in the order the renderer writes its blocks."""
    definition = get_definition(version)
    order = [START]
    for node, anchor in zip(definition.body, node_anchors(version), strict=True):
        if isinstance(node, Checklist):
            order += [group_anchor(node, group) for group in node.groups]
        order.append(anchor)
    return {anchor: position for position, anchor in enumerate(order)}


def text_field_names(definition: TemplateDefinition) -> list[str]:
    names = [f.name for f in definition.fields if f.kind in (Kind.TEXT, Kind.PERSONAS)]
    if any(group.title in NEEDS_FIELDS.values() for c in definition.checklists for group in c.groups):
        names += [name for name in NEEDS_FIELDS if name not in names]
    return names


CONFIDENCE_LEVELS = ("high", "medium", "low")


def content_from_proposal(proposal) -> ProposalContent:
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


# ---------------------------------------------------------------------------
# Line shapes (shared by the renderer's escaping and the parser)
# ---------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_QUICK_ACTION = re.compile(r" {0,3}/[A-Za-z][A-Za-z0-9_-]*(?:[ \t]|$)")
_BULLET_LINK = re.compile(r" {0,3}[-*+][ \t]+\[")


@lru_cache(maxsize=8192)
def heading_of(line: str) -> tuple[int, str] | None:
    """(level, text) of an ATX heading line, else None."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or not stripped.startswith("#"):
        return None
    level = len(stripped) - len(stripped.lstrip("#"))
    rest = stripped[level:]
    if level > 6 or (rest and rest[0] not in " \t"):
        return None
    text = rest.strip(" \t")
    closing = text.rstrip("#")
    if not closing:
        text = ""
    elif len(closing) < len(text) and closing[-1] in " \t":
        text = closing.rstrip(" \t")
    return level, text


def fence_of(line: str) -> tuple[str, int] | None:
    """(fence character, length) of a code fence opening line, else None."""
    if "``" not in line and "~~" not in line:
        return None
    match = _FENCE_OPEN.match(line)
    if not match:
        return None
    marker, info = match.group(1), match.group(2)
    if marker[0] == "`" and "`" in info:
        return None
    return marker[0], len(marker)


def closes_fence(line: str, fence: tuple[str, int]) -> bool:
    match = _FENCE_CLOSE.fullmatch(line)
    return bool(match) and match.group(1)[0] == fence[0] and len(match.group(1)) >= fence[1]


def opens_comment(line: str) -> bool:
    if "<!--" not in line:
        return False
    stripped = line.lstrip(" ")
    return len(line) - len(stripped) <= 3 and stripped.startswith("<!--")


def comment_closes_on_opening_line(line: str) -> bool:
    return "-->" in line[line.index("<!--") + 4 :]


@lru_cache(maxsize=8192)  # the template's own lines come back in every issue
def norm(text: str) -> str:
    """Compare texts the way a reader does: link targets, emphasis, punctuation, emoji and case aside."""
    if "](" in text:
        text = _without_link_targets(text)
    return " ".join(_NOT_WORD.sub(" ", text).replace("_", " ").split()).casefold()


_NOT_WORD = re.compile(r"[^\w/]+")


def _without_link_targets(text: str) -> str:
    """``[text](target)`` -> ``[text``: one pass, each ``](`` jumps to the next ``)``."""
    out, i = [], 0
    while (j := text.find("](", i)) != -1:
        close = text.find(")", j + 2)
        if close == -1:
            break
        out.append(text[i:j])
        i = close + 1
    out.append(text[i:])
    return "".join(out)


def italic_norm(line: str) -> str | None:
    """The normalised text of a line written wholly in italics (a template prompt), else None."""
    stripped = line.strip()
    if len(stripped) < 2 or stripped[0] not in "_*" or stripped[-1] not in "_*":
        return None
    return norm(stripped)


def _split_backslashes(line: str) -> tuple[str, int, str]:
    """(leading spaces, number of backslashes after them, the rest)."""
    spaces = len(line) - len(line.lstrip(" "))
    rest = line[spaces:]
    slashes = len(rest) - len(rest.lstrip("\\"))
    return line[:spaces], slashes, rest[slashes:]


@dataclass(frozen=True)
class _Context:
    """What a line means at the place a block of text stands."""

    level: int  # headings at or above this level end the block
    prompts: frozenset[str] = frozenset()
    headings: frozenset[str] | None = None  # known heading texts; None: every template version's
    extra: Callable[[str], bool] | None = None


@cache
def _all_known_headings() -> frozenset[str]:
    from proposals.template import DEFINITIONS

    return frozenset(text for definition in DEFINITIONS.values() for text in _definition_headings(definition.version))


def heading_is_known(text: str, known: frozenset[str]) -> bool:
    """Is this heading text (or the part before a colon: ``### Success: …``) one of ``known``?"""
    if _alias(text) in known:
        return True
    return ":" in text and _alias(text.partition(":")[0]) in known


@cache
def _definition_headings(version: str) -> frozenset[str]:
    definition = get_definition(version)
    texts = set()
    for node in definition.body:
        if isinstance(node, Heading):
            texts.add(_alias(node.text))
        elif isinstance(node, Field):
            if node.level:
                texts.add(_alias(node.heading))
            if node.list_heading:
                texts.add(_alias(node.list_heading.text))
        elif isinstance(node, Checklist):
            texts.add(_alias(node.heading.text))
    return frozenset(texts)


@cache
def _all_item_texts() -> frozenset[str]:
    from proposals.template import DEFINITIONS

    return frozenset(norm(item.text) for d in DEFINITIONS.values() for c in d.checklists for item in c.items)


@cache
def _all_captions() -> frozenset[str]:
    from proposals.template import DEFINITIONS

    return frozenset(norm(f.heading) for definition in DEFINITIONS.values() for f in definition.fields if f.level == 0)


@cache
def known_comments() -> frozenset[str]:
    from proposals.template import DEFINITIONS, TEMPLATE_COMMENTS

    texts = set(TEMPLATE_COMMENTS)
    for definition in DEFINITIONS.values():
        texts.update(definition.comments)
    return frozenset(" ".join(text.split()) for text in texts)


def _is_known_comment(lines: list[str]) -> bool:
    text = "\n".join(lines).strip()
    if not (text.startswith("<!--") and text.endswith("-->")):
        return False
    return " ".join(text[4:-3].split()) in known_comments()


def _dangerous(base: str, context: _Context) -> bool:
    """Would the parser read this (backslash-free) line as structure where the block stands?"""
    heading = heading_of(base)
    if heading is not None:
        known = _all_known_headings() if context.headings is None else context.headings
        return heading[0] <= context.level or heading_is_known(heading[1], known)
    stripped = base.strip()
    if not stripped:
        return False
    if _QUICK_ACTION.match(base):
        return True
    if context.prompts and stripped[0] in "_*" and italic_norm(stripped) in context.prompts:
        return True
    if norm(stripped) in _all_captions() and stripped[0] in "*_":
        return True
    if context.level and (task := task_item(base)) is not None and norm(task[1]) in _all_item_texts():
        return True  # a template checklist item in an answer would tell the wrong template version
    return bool(context.extra and context.extra(base))


def _dangerous_any(base: str, context: _Context) -> bool:
    return _dangerous(base, context) or fence_of(base) is not None or opens_comment(base)


def escape_lines(lines: list[str], context: _Context) -> list[str]:
    """Escape lines (as they stand in the issue, indentation included) so that none reads as structure."""
    n = len(lines)
    # For every fence character, the longest closing fence at or after each line; whether a "-->" follows.
    longest = {"`": [0] * (n + 1), "~": [0] * (n + 1)}
    comment_end = [False] * (n + 1)
    for i in range(n - 1, -1, -1):
        for char in longest:
            longest[char][i] = longest[char][i + 1]
        match = _FENCE_CLOSE.fullmatch(lines[i])
        if match:
            char = match.group(1)[0]
            longest[char][i] = max(longest[char][i], len(match.group(1)))
        comment_end[i] = comment_end[i + 1] or "-->" in lines[i]
    out: list[str] = []
    fence: tuple[str, int] | None = None
    in_comment = False
    i = 0
    while i < n:
        line = lines[i]
        i += 1
        if fence is not None:
            out.append(line)
            if closes_fence(line, fence):
                fence = None
            continue
        if in_comment:
            out.append(line)
            in_comment = "-->" not in line
            continue
        spaces, slashes, rest = _split_backslashes(line)
        base = spaces + rest
        if len(spaces) > 3:
            out.append(line)
        elif slashes:
            out.append(spaces + "\\" * (slashes + 1) + rest if _dangerous_any(base, context) else line)
        elif (opened := fence_of(base)) is not None:
            if longest[opened[0]][i] >= opened[1]:
                fence = opened
                out.append(line)
            else:
                out.append(spaces + "\\" + rest)
        elif opens_comment(base):
            if comment_closes_on_opening_line(base):
                out.append(spaces + "\\" + rest if _is_known_comment([base]) else line)
            elif comment_end[i]:
                end = i
                while "-->" not in lines[end]:
                    end += 1
                if _is_known_comment([base, *lines[i : end + 1]]):
                    out.append(spaces + "\\" + rest)
                else:
                    in_comment = True
                    out.append(line)
            else:
                out.append(spaces + "\\" + rest)
        elif _dangerous(base, context):
            out.append(spaces + "\\" + rest)
        else:
            out.append(line)
    return out


def unescape_lines(lines: list[str], context: _Context) -> list[str]:
    """The inverse of ``escape_lines`` on what it wrote."""
    out: list[str] = []
    fence: tuple[str, int] | None = None
    in_comment = False
    for line in lines:
        if fence is not None:
            out.append(line)
            if closes_fence(line, fence):
                fence = None
            continue
        if in_comment:
            out.append(line)
            in_comment = "-->" not in line
            continue
        spaces, slashes, rest = _split_backslashes(line)
        base = spaces + rest
        if len(spaces) > 3:
            out.append(line)
        elif slashes:
            out.append(spaces + "\\" * (slashes - 1) + rest if _dangerous_any(base, context) else line)
        else:
            if (opened := fence_of(base)) is not None:
                fence = opened
            elif opens_comment(base) and not comment_closes_on_opening_line(base):
                in_comment = True
            out.append(line)
    return out


def _indent(lines: list[str], prefix: str) -> list[str]:
    return [prefix + line if line else "" for line in lines]


def _same_lines(text: str, lines: tuple[str, ...]) -> bool:
    ours = [line.strip() for line in text.split("\n") if line.strip()]
    theirs = [line.strip() for line in lines if line.strip()]
    return ours == theirs


# Inline escaping for links and list items.
_LINK_TEXT_SPECIAL = set("\\[]|<>`&")
_ITEM_START_SPECIAL = set("\\#>-+*[<`~|.=_!:")


def escape_inline(text: str, special: set[str] = _LINK_TEXT_SPECIAL) -> str:
    return "".join("\\" + ch if ch in special else ch for ch in text)


def unescape_inline(text: str) -> str:
    """CommonMark backslash escapes: a backslash before ASCII punctuation stands for that character."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and _is_ascii_punctuation(text[i + 1]):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _is_ascii_punctuation(ch: str) -> bool:
    return ch.isascii() and not ch.isalnum() and not ch.isspace() and ch.isprintable()


def _link_destination(url: str) -> str:
    if url and not any(ch in url for ch in " \t<>()\\|") and all(ch.isprintable() for ch in url):
        return url
    return "<" + "".join("\\" + ch if ch in "\\<>|" else ch for ch in url) + ">"


def render_link(title: str, url: str) -> str:
    return f"[{escape_inline(title)}]({_link_destination(url)})"


def escape_item(text: str) -> str:
    """A list item's first line: a backslash before a first character Markdown would read as syntax."""
    return "\\" + text if text and text[0] in _ITEM_START_SPECIAL else text


def unescape_item(text: str) -> str:
    return text[1:] if text.startswith("\\") else text


# ---------------------------------------------------------------------------
# Anchors: where kept blocks stand
# ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    return "-".join(norm(text).replace("/", " ").split()) or "section"


@cache
def node_anchors(version: str) -> tuple[str, ...]:
    """One anchor per body node of the definition (a checklist's anchor is its end)."""
    definition = get_definition(version)
    anchors: list[str] = []
    seen: set[str] = set()
    last_heading = "top"
    for node in definition.body:
        if isinstance(node, Heading):
            anchor = "heading:" + _slug(node.text)
            last_heading = _slug(node.text)
        elif isinstance(node, Field):
            anchor = node.name
        elif isinstance(node, Boilerplate):
            anchor = "boilerplate:" + last_heading
        else:
            anchor = "checklist:" + node.stage.value
        base, count = anchor, 2
        while anchor in seen:
            anchor = f"{base}-{count}"
            count += 1
        seen.add(anchor)
        anchors.append(anchor)
    return tuple(anchors)


def group_anchor(checklist: Checklist, group: ChecklistGroup) -> str:
    return f"checklist:{checklist.stage.value}:{_slug(group.title)}"


def anchor_label(version: str, anchor: str) -> str:
    """Where a kept block stands, in the template's words ("after Success")."""
    if anchor == START:
        return "at the top, before the template"
    definition = get_definition(version)
    for node, node_anchor in zip(definition.body, node_anchors(version), strict=True):
        if isinstance(node, Checklist):
            for group in node.groups:
                if group_anchor(node, group) == anchor:
                    return f"in the {node.heading.text} checklist, under “{group.title}”"
        if node_anchor != anchor:
            continue
        if isinstance(node, Heading):
            return f"under “{_plain(node.text)}”"
        if isinstance(node, Field):
            return f"after “{node.label}”"
        if isinstance(node, Boilerplate):
            return "after the template's resources"
        return f"after the {node.heading.text} checklist"
    return "at the end"


def _plain(text: str) -> str:
    """Heading text without Markdown link targets."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "]" and text[i + 1 : i + 2] == "(" and (close := text.find(")", i)) != -1:
            i = close + 1
            continue
        if text[i] not in "[]":
            out.append(text[i])
        i += 1
    return "".join(out).strip()


# ---------------------------------------------------------------------------
# Render
# ---------------------------------------------------------------------------

STATUS_PREFIX = "_Review status: "
ANSWER_INDENT = "   "
NEEDS_INDENT = "  "


def render(proposal_or_content) -> str:
    """The issue description of a saved ``Proposal`` (prefetch ``RENDER_PREFETCH``) or of ``ProposalContent``."""
    if isinstance(proposal_or_content, ProposalContent):
        return render_content(proposal_or_content)
    return render_content(content_from_proposal(proposal_or_content))


def render_content(content: ProposalContent) -> str:
    content = canonical(content)
    definition = content.definition
    kept: dict[str, list[str]] = {}
    for block in content.kept_blocks:
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
                block = _render_group(node, group, content, definition, kept.pop(group_anchor(node, group), []))
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
    fence: tuple[str, int] | None = None
    in_comment = False
    for line in lines:
        if fence is not None:
            fence = None if closes_fence(line, fence) else fence
        elif in_comment:
            in_comment = "-->" not in line
        elif (opened := fence_of(line)) is not None:
            fence = opened
        elif opens_comment(line):
            in_comment = not comment_closes_on_opening_line(line)
    if fence is not None:
        lines.append(fence[0] * fence[1])
    elif in_comment:
        lines.append("-->")
    return "\n".join(escape_lines(lines, _kept_context()))


def _kept_context() -> _Context:
    """Kept Markdown is written back as it was: its headings stay headings (a template heading in it is a
    second copy of a section, kept right after the first, so it reads as a copy again)."""
    return _Context(level=0, headings=frozenset())


@cache
def field_context(f: Field) -> _Context:
    prompts = _field_prompts(f.name) | ({norm(f.prompt)} if f.prompt else set())
    extra = _is_persona_bullet if f.kind == Kind.PERSONAS else None
    return _Context(level=f.level or 6, prompts=prompts, extra=extra)


@cache
def _field_prompts(name: str) -> frozenset[str]:
    """The prompts every template version asks for this field with."""
    return frozenset(norm(f.prompt) for d in _definitions().values() for f in d.fields if f.name == name and f.prompt)


def _is_persona_bullet(line: str) -> bool:
    return bool(_BULLET_LINK.match(line))


def _render_field(f: Field, content: ProposalContent) -> str:
    lines = [f.markdown_heading]
    empty = [f.markdown_prompt] if f.prompt else []
    empty += list(f.notes)
    if f.kind == Kind.TEXT:
        text = content.fields.get(f.name, "")
        lines += escape_lines(text.split("\n"), field_context(f)) if text else empty
    elif f.kind == Kind.PERSONAS:
        text = content.fields.get(f.name, "")
        mentions = [render_persona(p) for p in content.persona_tags]
        body = escape_lines(text.split("\n"), field_context(f)) if text else []
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


_PERSONA_SPECIAL = _LINK_TEXT_SPECIAL | {"(", ")"}


def render_persona(persona: PersonaMention) -> str:
    """``- [Name (Role)](handbook link)``: brackets inside the name or role are escaped, the role's own are not."""
    text = escape_inline(persona.name, _PERSONA_SPECIAL)
    if persona.role:
        text += f" ({escape_inline(persona.role, _PERSONA_SPECIAL)})"
    return f"- [{text}]({_link_destination(persona.url)})"


def _confidence_row(content: ProposalContent) -> str:
    value = content.confidence.capitalize() if content.confidence else ""
    return f"| {value} | {'<br>'.join(map(_research_item, content.research_links))} |"


def _research_item(link: Link) -> str:
    if not link.title and _autolinkable(link.url):
        return f"<{link.url}>"
    return render_link(link.title, link.url)


def _autolinkable(url: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>\\|`]*", url)) and all(ch.isprintable() for ch in url)


def _requirement_lines(item: str, f: Field) -> list[str]:
    first, *more = item.split("\n")
    return [f"- {escape_item(first)}", *escape_lines(_indent(more, "  "), field_context(f))]


def _render_group(
    checklist: Checklist,
    group: ChecklistGroup,
    content: ProposalContent,
    definition: TemplateDefinition,
    kept: list[str],
) -> str:
    stage = checklist.stage.value
    lines = [group.title]
    for item in group.items:
        mark = "x" if (stage, item.key) in content.checked else " "
        lines.append(f"{'  ' * item.depth}- [{mark}] {item.text}")
        lines += list(item.notes)
    parts = ["\n".join(lines)]
    parts += [render_kept(text) for text in kept]
    if group.after:
        parts.append(_render_orr_areas(group, content, definition, checklist_level(checklist)))
    needs = _needs_field(group)
    if needs and content.fields.get(needs):
        text = content.fields[needs]
        parts.append(
            "\n".join(escape_lines(_indent(text.split("\n"), NEEDS_INDENT), _Context(checklist_level(checklist))))
        )
    return "\n\n".join(parts)


def checklist_level(checklist: Checklist) -> int:
    return checklist.heading.level


def _needs_field(group: ChecklistGroup) -> str | None:
    for name, title in NEEDS_FIELDS.items():
        if norm(title) == norm(group.title):
            return name
    return None


_AREA_LINE = re.compile(r" {0,2}(\d{1,2})[.)][ \t]")


def _render_orr_areas(group: ChecklistGroup, content: ProposalContent, definition, level: int) -> str:
    by_number = {area.number: area for area in definition.orr_areas}
    chunks: list[list[str]] = []
    for line in group.after:
        match = _AREA_LINE.match(line)
        if match or not chunks:
            chunks.append([line])
        else:
            chunks[-1].append(line)
    out: list[str] = []
    context = answer_context(level)
    for chunk in chunks:
        match = _AREA_LINE.match(chunk[0])
        area = by_number.get(int(match.group(1))) if match else None
        part = ["\n".join(chunk)]
        answer = content.orr.get(area.key) if area else None
        if answer and answer.status:
            part.append(f"{ANSWER_INDENT}{STATUS_PREFIX}{answer.status}_")
        if answer and answer.answer:
            part.append("\n".join(escape_lines(_indent(answer.answer.split("\n"), ANSWER_INDENT), context)))
        out.append("\n\n".join(part))
    return "\n\n".join(out)


def answer_context(level: int) -> _Context:
    return _Context(level=level, extra=_is_status_line)


def _is_status_line(line: str) -> bool:
    return line.strip().startswith(STATUS_PREFIX.strip())


# ---------------------------------------------------------------------------
# Parse
# ---------------------------------------------------------------------------
#
# The parser reads lines, tracking code fences and HTML comments as GitLab does
# (nothing inside them is structure). It first tells the template version from
# the headings, items, lines and hint comments the body shares with each. Then
# headings anywhere (any level, any case, with or without links, emoji or a
# trailing colon) are matched to the definition's headings by their text; when a
# text occurs more than once in a definition (v5's three "Assumption"s) the first
# unused one at the same level after the last match wins. An unknown heading at
# or above the level of the section it interrupts, or any heading of another
# template version, starts a block the parser keeps, anchored to the section
# before it; a second copy of a section is kept right after the first. Inside a
# section, each kind of field reads what it understands; every other line is
# kept, anchored to that section. Checklist items match by their text, or by the
# text another version gives the same item. Each step looks at each line a fixed
# number of times, without backtracking regular expressions: time is linear in
# the input.

NORMAL, CODE, DROP = 0, 1, 2
UNKNOWN = -1  # a section that starts at an unknown heading
_DETAILS_TAGS = ("<details>", "</details>", "<summary>", "</summary>")
_HEADING_ALIASES = {
    "generally available": "general availability",
    "feature release": "general availability",
    "experiment/prototype": "experiment",
}


@dataclass(frozen=True)
class ParseResult:
    content: ProposalContent
    version: str  # the template version the issue was written from (or the one asked for)
    found: tuple[str, ...] = ()  # fields whose section is in the issue, with an answer
    empty: tuple[str, ...] = ()  # fields whose section is in the issue, still unanswered
    missing: tuple[str, ...] = ()  # fields whose section is not in the issue at all
    persona_mentions: tuple[str, ...] = ()  # persona names: the mention links, and known names in the text
    labels: tuple[str, ...] = ()  # from /label quick actions left in the body
    confidential: bool = False  # a /confidential quick action was left in the body
    quick_actions: tuple[str, ...] = ()

    # The content's parts, for callers that read a result like content.
    @property
    def fields(self) -> dict[str, str]:
        return {name: self.content.fields.get(name, "") for name in text_field_names(self.content.definition)}

    @property
    def confidence(self) -> str:
        return self.content.confidence

    @property
    def research_links(self) -> tuple[Link, ...]:
        return self.content.research_links

    @property
    def requirements(self) -> tuple[str, ...]:
        return self.content.requirements

    @property
    def checklists(self) -> dict[str, dict[str, bool]]:
        return self.content.checklists

    @property
    def kept_blocks(self) -> tuple[KeptBlock, ...]:
        return self.content.kept_blocks


def parse(markdown: str, *, version: str | None = None, personas: Iterable[str] = ()) -> ParseResult:
    """Read an issue body. ``version`` forces a definition instead of detecting it; ``personas``
    are persona names to recognise in the personas text. Never raises on any text."""
    text = (markdown or "").replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    states = _scan(lines)
    end, actions = _strip_trailer(lines, states)
    detected = version if version in _definitions() else detect_version(lines[:end], states)
    return _Reader(lines[:end], states[:end], get_definition(detected), tuple(personas), actions).read()


def _definitions() -> dict[str, TemplateDefinition]:
    from proposals.template import DEFINITIONS

    return DEFINITIONS


def _scan(lines: list[str]) -> list[int]:
    """NORMAL, CODE (inside a fence or an unknown HTML comment) or DROP (a template hint comment), per line."""
    n = len(lines)
    states = [NORMAL] * n
    i = 0
    while i < n:
        line = lines[i]
        fence = fence_of(line)
        if fence is not None:
            states[i] = CODE
            i += 1
            while i < n:
                states[i] = CODE
                i += 1
                if closes_fence(lines[i - 1], fence):
                    break
            continue
        if opens_comment(line):
            end = i
            if not comment_closes_on_opening_line(line):
                end = i + 1
                while end < n and "-->" not in lines[end]:
                    end += 1
            end = min(end, n - 1)
            state = DROP if _is_known_comment(lines[i : end + 1]) else CODE
            for j in range(i, end + 1):
                states[j] = state
            i = end + 1
            continue
        i += 1
    return states


def _strip_trailer(lines: list[str], states: list[int]) -> tuple[int, list[str]]:
    """Where the body ends before the template's closing quick actions and links; the quick actions."""
    trailer = _trailer_lines()
    end = len(lines)
    actions: list[str] = []
    while end > 0:
        line, state = lines[end - 1], states[end - 1]
        if state == DROP or not line.strip():
            end -= 1
        elif state == NORMAL and _QUICK_ACTION.match(line):
            actions.append(line.strip())
            end -= 1
        elif state == NORMAL and norm(line) in trailer:
            end -= 1
        else:
            break
    return end, actions[::-1]


@cache
def _trailer_lines() -> frozenset[str]:
    return frozenset(
        norm(line) for d in _definitions().values() for line in d.trailer if not line.startswith("/") and norm(line)
    )


# Version detection -----------------------------------------------------------


@cache
def _signatures() -> dict[str, frozenset[tuple]]:
    """Per version: the heading texts and levels, task items and template lines that mark it."""
    signatures = {}
    for version, d in _definitions().items():
        keys: set[tuple] = set()
        for node in d.body:
            if isinstance(node, Heading):
                keys.add(("h", node.level, norm(node.text)))
            elif isinstance(node, Field):
                if node.level:
                    keys.add(("h", node.level, norm(node.heading)))
                else:
                    keys.add(("l", norm(node.heading)))
                if node.list_heading:
                    keys.add(("h", node.list_heading.level, norm(node.list_heading.text)))
                if node.prompt:
                    keys.add(("l", norm(node.prompt)))
                keys.update(("l", norm(line)) for line in node.notes if norm(line))
            elif isinstance(node, Boilerplate):
                keys.update(("l", norm(line)) for line in node.lines if norm(line))
            elif isinstance(node, Checklist):
                keys.add(("h", node.heading.level, norm(node.heading.text)))
                for group in node.groups:
                    keys.update(("t", norm(item.text)) for item in group.items)
                    keys.update(("l", norm(line)) for line in group.after if norm(line))
        keys.update(("c", " ".join(text.split())) for text in d.comments)
        if version == DEFAULT_VERSION:
            from proposals.template import TEMPLATE_COMMENTS

            keys.update(("c", " ".join(text.split())) for text in TEMPLATE_COMMENTS)
        signatures[version] = frozenset(keys)
    return signatures


def detect_version(lines: list[str], states: list[int] | None = None) -> str:
    """The template version whose headings, items and template lines the body shares most of."""
    states = states if states is not None else _scan(lines)
    seen: set[tuple] = set()
    i, n = 0, len(lines)
    while i < n:
        line, state = lines[i], states[i]
        if state == DROP:
            end = i
            while end + 1 < n and states[end + 1] == DROP and "-->" not in lines[end]:
                end += 1
            text = "\n".join(lines[i : end + 1]).strip()
            seen.add(("c", " ".join(text[4:-3].split())))
            i = end + 1
            continue
        i += 1
        if state != NORMAL or not line.strip():
            continue
        heading = heading_of(line)
        if heading is not None:
            seen.add(("h", heading[0], norm(heading[1])))
            continue
        task = task_item(line)
        if task is not None:
            seen.add(("t", norm(task[1])))
            continue
        seen.add(("l", norm(_strip_details(line))))
    best, best_key = DEFAULT_VERSION, None
    for version, keys in _signatures().items():
        matched = len(keys & seen)
        key = (matched, -(len(keys) - matched), version == DEFAULT_VERSION)
        if best_key is None or key > best_key:
            best, best_key = version, key
    return best if best_key and best_key[0] else DEFAULT_VERSION


# Line readers ----------------------------------------------------------------


@lru_cache(maxsize=8192)
def task_item(line: str) -> tuple[bool | None, str, int] | None:
    """(ticked, text, indent) of a task list item (``- [ ]``, ``* [x]``, ``1. [X]``, ``[~]``), else None.
    ``[~]`` (inapplicable) reads as not ticked."""
    if "[" not in line:
        return None
    n = len(line)
    i = 0
    while i < n and line[i] in " \t":
        i += 1
    indent = i
    while i < n and line[i] == ">":  # blockquote markers, as GitLab's task counter allows
        i += 1
        while i < n and line[i] in " \t":
            i += 1
    match = _TASK.match(line, i)
    if not match:
        return None
    return match.group(1) in "xX", line[match.end() :].strip(), indent


_TASK = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]+\[([ xX~])\](?:[ \t]+|$)")
_BULLET = re.compile(r"( {0,3})(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")


@lru_cache(maxsize=8192)
def _strip_details(line: str) -> str:
    """A line without the ``<details>``/``<summary>`` tags the template wraps its checklists in."""
    if "<" not in line:
        return line
    lowered = line.lower()
    for tag in _DETAILS_TAGS:
        if tag in lowered:
            out, i = [], 0
            while True:
                j = lowered.find(tag, i)
                if j == -1:
                    out.append(line[i:])
                    break
                out.append(line[i:j])
                i = j + len(tag)
            line = "".join(out)
            lowered = line.lower()
    return line


@lru_cache(maxsize=8192)
def _is_details_line(line: str) -> bool:
    stripped = line.strip().lower()
    return bool(stripped) and any(tag in stripped for tag in _DETAILS_TAGS) and not _strip_details(line).strip()


def _dedent(line: str, width: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, width) :]


def parse_link(text: str, start: int) -> tuple[str, str, int] | None:
    """A Markdown link ``[text](destination)`` at ``start``: (raw text, destination, end), else None."""
    n = len(text)
    if start >= n or text[start] != "[":
        return None
    i, depth = start + 1, 1
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                break
        i += 1
    if i >= n or i + 1 >= n or text[i + 1] != "(":
        return None
    raw = text[start + 1 : i]
    i += 2
    if i < n and text[i] == "<":
        j = i + 1
        while j < n and text[j] not in "<>\n":
            j += 2 if text[j] == "\\" else 1
        if j >= n or text[j] != ">":
            return None
        destination = unescape_inline(text[i + 1 : j])
        j += 1
    else:
        j, depth = i, 0
        while j < n:
            ch = text[j]
            if ch == "\\":
                j += 2
                continue
            if ch.isspace() or (ch == ")" and depth == 0):
                break
            depth += ch == "("
            depth -= ch == ")"
            j += 1
        destination = unescape_inline(text[i:j])
    if j >= n or text[j] != ")":
        return None
    return raw, destination, j + 1


def _whole_link_bullet(line: str) -> tuple[str, str] | None:
    """(raw link text, destination) of a bullet that is one link and nothing else."""
    match = _BULLET.match(line)
    if not match or not _BULLET_LINK.match(line):
        return None
    rest = line[match.end() :].rstrip()
    link = parse_link(rest, 0)
    if link is None or link[2] != len(rest):
        return None
    return link[0], link[1]


def _persona_of(raw: str, url: str) -> PersonaMention:
    """``Name (Role)`` with the role's brackets unescaped, the name's own brackets escaped."""
    if raw.endswith(")") and not _is_escaped(raw, len(raw) - 1):
        depth, i = 0, len(raw) - 1
        while i >= 0:
            ch = raw[i]
            if ch in "()" and not _is_escaped(raw, i):
                depth += 1 if ch == ")" else -1
                if depth == 0:
                    break
            i -= 1
        if i > 0 and raw[i - 1] == " ":
            return PersonaMention(unescape_inline(raw[: i - 1]).strip(), unescape_inline(raw[i + 1 : -1]).strip(), url)
    return PersonaMention(unescape_inline(raw).strip(), "", url)


def _is_escaped(text: str, i: int) -> bool:
    """Is the character at ``i`` preceded by an odd number of backslashes?"""
    count = 0
    while i - count - 1 >= 0 and text[i - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def split_cells(row: str) -> list[str]:
    """The raw cells of a table row; ``\\|`` stays inside its cell."""
    stripped = row.strip()
    cells, current, i, n = [], [], 0, len(stripped)
    while i < n:
        ch = stripped[i]
        if ch == "\\" and i + 1 < n:
            current.append(stripped[i : i + 2])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    if stripped.startswith("|"):
        cells = cells[1:]
    if stripped.endswith("|") and not _is_escaped(stripped, len(stripped) - 1) and cells:
        cells = cells[:-1]
    return [cell.strip() for cell in cells]


def _is_delimiter_row(line: str) -> bool:
    if "-" not in line:
        return False
    cells = split_cells(line)
    return bool(cells) and all(cell and set(cell) <= set(":- ") and "-" in cell for cell in cells)


_BR = ("<br>", "<br/>", "<br />")


def research_links_of(cell: str) -> list[Link] | None:
    """The links of a research cell (links, ``<autolinks>``, bare URLs, separated by ``<br>``, commas,
    semicolons or spaces); None when the cell holds other text too. The template's placeholder is skipped."""
    links: list[Link] = []
    i, n = 0, len(cell)
    while i < n:
        ch = cell[i]
        if ch.isspace() or ch in ",;":
            i += 1
            continue
        lowered = cell[i : i + 6].lower()
        br = next((tag for tag in _BR if lowered.startswith(tag)), None)
        if br:
            i += len(br)
            continue
        if ch == "[":
            link = parse_link(cell, i)
            if link is None:
                return None
            title, url = unescape_inline(link[0]).strip(), link[1].strip()
            if not (norm(title) == "research/insight issue" and url == "Link"):
                links.append(Link(" ".join(title.split()), url))
            i = link[2]
            continue
        if ch == "<":
            close = cell.find(">", i)
            candidate = cell[i + 1 : close] if close != -1 else ""
            if close == -1 or not _autolinkable(candidate):
                return None
            links.append(Link("", candidate))
            i = close + 1
            continue
        if cell.startswith(("http://", "https://"), i):
            j = i
            while j < n and not cell[j].isspace() and cell[j] not in "<|":
                j += 1
            links.append(Link("", cell[i:j].rstrip(",;")))
            i = j
            continue
        return None
    return links


def _confidence_value(text: str) -> tuple[str, bool]:
    """(level, the text says nothing else) for a confidence cell or line."""
    words = norm(text)
    if words in CONFIDENCE_LEVELS:
        return words, True
    if not words or words == "high/medium/low":
        return "", True
    for word in words.replace("/", " ").split():
        if word in CONFIDENCE_LEVELS:
            return word, False
    return "", False


# The reader ------------------------------------------------------------------


@dataclass
class _Section:
    node: int  # index into the definition's body; UNKNOWN; or -2 for the top of the issue
    anchor: str
    level: int  # the heading's level in the issue
    lines: list[tuple[str, int]]


TOP = -2


class _Reader:
    def __init__(self, lines, states, definition, personas, actions):
        self.lines = lines
        self.states = states
        self.d = definition
        self.anchors = node_anchors(definition.version)
        self.personas = personas
        self.actions = list(actions)
        self.fields: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}
        self.tags: list[PersonaMention] = []
        self.confidence = ""
        self.fallback_confidence = ""
        self.links: list[Link] = []
        self.checked: set[tuple[str, str]] = set()
        self.seen_items: set[tuple[str, str]] = set()
        self.orr_answers: dict[str, list[str]] = {}
        self.orr_status: dict[str, str] = {}
        self.kept: list[KeptBlock] = []
        self.present: set[str] = set()

    # structure

    def read(self) -> ParseResult:
        sections = self._sections()
        found_checklists = {
            self.d.body[s.node].stage.value
            for s in sections
            if s.node >= 0 and isinstance(self.d.body[s.node], Checklist)
        }
        self.loose_checklists = [c for c in self.d.checklists if c.stage.value not in found_checklists]
        by_node: dict[int, list[_Section]] = {}
        for section in sections:
            by_node.setdefault(section.node, []).append(section)
        for section in sections:
            if section.node in (TOP, UNKNOWN):
                self._read_loose(section, top=section.node == TOP)
                continue
            group = by_node.pop(section.node, None)
            if group is None:
                continue
            node = self.d.body[section.node]
            if isinstance(node, Field):
                self.present.add(node.name)
                self._read_field(node, group)
            elif isinstance(node, Checklist):
                for part in group:
                    self._read_checklist(node, part)
            else:
                for part in group:
                    self._read_heading(section.node, part)
        return self._result()

    def _sections(self) -> list[_Section]:
        index, levels, lists, list_levels, captions = _heading_index(self.d.version)
        sections = [_Section(TOP, START, 0, [])]
        used: set[int] = set()
        listed: set[int] = set()  # requirements fields whose "The user needs to be able to:" was seen
        last = -1
        current = sections[0]
        for i, line in enumerate(self.lines):
            state = self.states[i]
            if state != NORMAL:
                current.lines.append((line, state))
                continue
            heading = heading_of(line)
            start: _Section | None = None
            if heading is not None:
                level, text = heading
                key = _alias(text)
                owners = lists.get(key, ())
                if current.node in owners and current.node not in listed:
                    listed.add(current.node)
                    current.lines.append(("", NORMAL))  # the list heading: the requirements' bullets follow
                    continue
                # "The user needs to be able to:" stands for its requirements field when that has no heading.
                nodes, node_levels = (list(owners), list_levels) if owners else (list(index.get(key, ())), levels)
                inline = ""
                if not nodes and ":" in text:  # "### Success: the answer"
                    head, _, inline = text.partition(":")
                    nodes = [n for n in index.get(_alias(head), ()) if isinstance(self.d.body[n], Field)]
                same_level = [n for n in nodes if node_levels[n] == level]
                candidates = [n for n in nodes if n not in used]
                if same_level and not set(same_level) - used:
                    candidates = []  # a second copy of the section at this level, not another section
                if candidates:
                    node = _choose(candidates, last, level, node_levels)
                    if owners:
                        listed.add(node)
                    used.add(node)
                    last = node
                    start = _Section(node, self.anchors[node], levels.get(node, 6), [])
                    if inline.strip():
                        start.lines.append((inline.strip(), NORMAL))
                elif nodes:
                    # A second copy of a template section: kept whole, after the last section of that name.
                    copy = max(same_level or nodes)
                    anchor = self._tail_anchor(_Section(copy, self.anchors[copy], 0, []))
                    start = _Section(UNKNOWN, anchor, level, [(line, NORMAL)])
                elif heading_is_known(text, _all_known_headings()) or level <= current.level:
                    start = _Section(UNKNOWN, self._tail_anchor(current), level, [(line, NORMAL)])
            elif (
                line.lstrip()[:1] in ("*", "_")
                and (caption := captions.get(norm(line))) is not None
                and caption not in used
            ):
                used.add(caption)
                last = caption
                start = _Section(caption, self.anchors[caption], 6, [])
            if start is None or (start.node == UNKNOWN == current.node and start.anchor == current.anchor):
                current.lines.append((line, state))  # content, or one more heading of the same kept block
            else:
                sections.append(start)
                current = start
        return sections

    def _tail_anchor(self, section: _Section) -> str:
        """Where a block that interrupts this section is kept: after the section, boilerplate included."""
        if section.node >= 0 and isinstance(self.d.body[section.node], Heading):
            following = section.node + 1
            if following < len(self.d.body) and isinstance(self.d.body[following], Boilerplate):
                return self.anchors[following]
        return section.anchor

    # kept text

    def _keep(self, anchor: str, lines: list[str]) -> None:
        """Keep what the template has no place for; a block of nothing but template text (another
        version's empty sections, unticked items) carries no answer and is not kept."""
        lines = _without_template_paragraphs(lines)
        text = canonical_text("\n".join(unescape_lines(lines, _kept_context())))
        if text:
            self.kept.append(KeptBlock(anchor, text))

    def _read_loose(self, section: _Section, *, top: bool) -> None:
        kept = []
        for line, state in section.lines:
            if state == DROP:
                continue
            if top and state == NORMAL and _QUICK_ACTION.match(line):
                self.actions.append(line.strip())
                continue
            kept.append(line)
        self._keep(section.anchor, kept)

    # headings and boilerplate

    def _read_heading(self, node_index: int, section: _Section) -> None:
        anchor = section.anchor
        following = node_index + 1
        boilerplate_anchor = None
        if following < len(self.d.body) and isinstance(self.d.body[following], Boilerplate):
            boilerplate_anchor = self.anchors[following]
        known = _boilerplate_lines()
        kept: dict[str, list[str]] = {}
        for line, state in section.lines:
            if state == DROP:
                continue
            if state == NORMAL:
                if not line.strip():
                    kept.setdefault(anchor, []).append(line)
                    continue
                if norm(line) in known:
                    if boilerplate_anchor:
                        anchor = boilerplate_anchor
                    continue
                if _QUICK_ACTION.match(line):
                    self.actions.append(line.strip())
                    continue
                if norm(line) in _trailer_lines():
                    continue
                task = task_item(line)
                if task is not None and self._tick_loose(task):
                    continue
            kept.setdefault(anchor, []).append(line)
        for where, lines in kept.items():
            self._keep(where, lines)

    def _tick_loose(self, task) -> bool:
        """A task item outside its checklist's section, when that checklist's heading is gone."""
        for checklist in self.loose_checklists:
            for item in checklist.items:
                key = (checklist.stage.value, item.key)
                if key not in self.seen_items and norm(item.text) == norm(task[1]):
                    self.seen_items.add(key)
                    if task[0]:
                        self.checked.add(key)
                    return True
        return False

    # fields

    def _read_field(self, f: Field, sections: list[_Section]) -> None:
        lines = [(line, state) for section in sections for line, state in section.lines if state != DROP]
        level = f.level or 6
        if f.kind == Kind.CONFIDENCE:
            self._read_confidence(f, lines)
        elif f.kind == Kind.REQUIREMENTS:
            self._read_requirements(f, lines, level)
        else:
            self._read_text(f, lines, level)

    def _context(self, f: Field, level: int) -> _Context:
        base = field_context(f)
        return _Context(level=level, prompts=base.prompts, extra=base.extra)

    def _read_text(self, f: Field, lines: list[tuple[str, int]], level: int) -> None:
        context = self._context(f, level)
        body: list[str] = []
        for line, state in lines:
            if state == NORMAL and context.prompts and italic_norm(line) in context.prompts:
                continue
            if f.kind == Kind.PERSONAS and state == NORMAL and (link := _whole_link_bullet(line)):
                self.tags.append(_persona_of(*link))
                continue
            body.append(line)
        text = canonical_text("\n".join(unescape_lines(body, context)))
        if f.level == 0 and _same_lines(text, f.notes):
            text = ""
        if text:
            self.fields[f.name] = text

    def _read_requirements(self, f: Field, lines: list[tuple[str, int]], level: int) -> None:
        context = self._context(f, level)
        notes = {norm(line) for line in f.notes} | _requirement_notes()
        items: list[list[str]] = []  # first line, then continuation lines as they stand
        kept: list[str] = []
        open_item = False
        for line, state in lines:
            if open_item and line.startswith(("  ", "\t")) and line.strip():
                items[-1].append(line)  # a continuation line, whatever it looks like
                continue
            if state == NORMAL:
                if not line.strip():
                    open_item = False
                    kept.append(line)
                    continue
                bullet = _BULLET.match(line)
                if bullet:
                    first = line[bullet.end() :].strip()
                    if first == "...":
                        open_item = False
                        continue
                    items.append([unescape_item(first)])
                    open_item = True
                    continue
                if italic_norm(line) in context.prompts or norm(line) in notes:
                    open_item = False
                    continue
            if open_item:
                items[-1].append(line)
            else:
                kept.append(line)
        values = []
        for first, *more in items:
            more = [line.strip() for line in unescape_lines(more, context)]
            value = "\n".join(line for line in [first, *more] if line)
            if value:
                values.append(value)
        if values:
            self.lists[f.name] = values
        self._keep(f.name, kept)

    def _read_confidence(self, f: Field, lines: list[tuple[str, int]]) -> None:
        prompts = field_context(f).prompts
        kept: list[str] = []
        in_table = False
        i = 0
        while i < len(lines):
            line, state = lines[i]
            i += 1
            if state != NORMAL:
                in_table = False
                kept.append(line)
                continue
            stripped = line.strip()
            if not stripped:
                in_table = False
                kept.append(line)
                continue
            if italic_norm(line) in prompts:
                continue
            if not in_table and "|" in stripped and i < len(lines) and _is_delimiter_row(lines[i][0]):
                header = [norm(cell) for cell in split_cells(stripped)]
                if header[:1] == ["confidence"]:
                    in_table = True
                    i += 1
                    continue
            if in_table and "|" in stripped:
                if self._read_confidence_row(split_cells(stripped)):
                    continue
                kept.append(line)
                continue
            in_table = False
            if self._read_confidence_line(stripped):
                continue
            kept.append(line)
        self._keep(f.name, kept)

    def _read_confidence_row(self, cells: list[str]) -> bool:
        value, clean = _confidence_value(unescape_inline(cells[0]) if cells else "")
        links = research_links_of(cells[1]) if len(cells) > 1 else []
        if len(cells) > 2 and any(cell.strip() for cell in cells[2:]):
            links = None
        if clean and links is not None and not (value and self.confidence and value != self.confidence):
            self.confidence = self.confidence or value
            self.links.extend(links)
            return True
        self.fallback_confidence = self.fallback_confidence or value
        return False

    def _read_confidence_line(self, stripped: str) -> bool:
        words = norm(stripped)
        if words.startswith("confidence"):
            value, clean = _confidence_value(words[len("confidence") :])
            if clean and value:
                self.confidence = self.confidence or value
                return value == self.confidence
            self.fallback_confidence = self.fallback_confidence or value
            return False
        if words in CONFIDENCE_LEVELS:
            self.confidence = self.confidence or words
            return words == self.confidence
        if words.startswith("research") and ":" in stripped:
            links = research_links_of(stripped.split(":", 1)[1])
            if links:
                self.links.extend(links)
                return True
        return False

    # checklists and the ORR

    def _read_checklist(self, checklist: Checklist, section: _Section) -> None:
        group = checklist.groups[0]
        areas_group = next((g for g in checklist.groups if g.after), None)
        titles = {norm(g.title): g for g in checklist.groups}
        needs_of = {id(g): _needs_field(g) for g in checklist.groups}
        notes = _item_notes()
        area_lines = _area_lines()
        area: str | None = None
        needs: dict[str, list[str]] = {}
        kept: dict[str, list[str]] = {}
        # Items written in this version's words; another version's words for them only count when absent.
        own = _own_item_texts(self.d.version, checklist.stage.value)
        own_keys = {
            key
            for line, state in section.lines
            if state == NORMAL and (task := task_item(line)) is not None
            for key in own.get(norm(task[1]), ())
        }
        for line, state in section.lines:
            if state == DROP:
                continue
            stripped = line.strip()
            indent = len(line) - len(line.lstrip(" "))
            needs_name = needs_of[id(group)]
            if state == NORMAL and stripped:
                if area and not self.orr_status.get(area) and _status_of(line):
                    self.orr_status[area] = _status_of(line)
                    continue
                if area and indent >= 3:
                    self.orr_answers[area].append(line)
                    continue
                if needs_name and indent >= 2 and needs.get(needs_name) is not None:
                    needs[needs_name].append(line)
                    continue
                if _is_details_line(line):
                    if "</details>" in stripped.lower():
                        area = None
                    continue
                title = titles.get(norm(_strip_details(line)))
                if title is not None and indent < 2:
                    group, area = title, None
                    if needs_of[id(group)]:
                        needs.setdefault(needs_of[id(group)], [])
                    continue
                task = task_item(line)
                if task is not None and (not area or indent < 3):
                    owner, new = self._match_item(checklist, group, task, own_keys)
                    if owner is not None and not new:  # a second copy of an item: kept next to the first
                        kept.setdefault(group_anchor(checklist, owner), []).append(line)
                        continue
                    if owner is not None:
                        group, area = owner, None
                        if needs_of[id(group)]:
                            needs.setdefault(needs_of[id(group)], [])
                        continue
                if areas_group is not None and indent < 3:
                    matched = self._area_line(line)
                    if matched is not None:
                        group, (area, template_text) = areas_group, matched
                        self.orr_answers.setdefault(area, [])
                        if not template_text:  # the answer written on the area's own line
                            self.orr_answers[area].append(_after_area_title(line, self.d, area))
                        continue
                    if norm(line) in area_lines:
                        continue
                if norm(line) in notes:
                    continue
            if area:
                self.orr_answers[area].append(line)
            elif needs_name and needs.get(needs_name) is not None:
                needs[needs_name].append(line)
            else:
                kept.setdefault(group_anchor(checklist, group), []).append(line)
        for name, lines in needs.items():
            text = "\n".join(_dedent(line, 2) for line in unescape_lines(lines, _Context(section.level)))
            if canonical_text(text):
                self.fields[name] = canonical_text(text)
            self.present.add(name)
        for anchor, lines in kept.items():
            self._keep(anchor, lines)
        if areas_group is not None:
            self.answer_level = section.level

    def _match_item(self, checklist: Checklist, group: ChecklistGroup, task, own_keys: set[str]):
        """(the item's group, True) for the first template item with this text not read yet (its own
        group first); (the item's group, False) when it was read already; (None, False) for no item."""
        ticked, text, _ = task
        candidates = _items_by_text(self.d.version, checklist.stage.value).get(norm(text), ())
        wanted = norm(text)
        first_owner = None
        for owner_group, item in sorted(candidates, key=lambda pair: pair[0] is not group):
            if norm(item.text) != wanted and item.key in own_keys:
                continue  # this version's own words for the item are in the issue too: they count
            first_owner = first_owner or owner_group
            key = (checklist.stage.value, item.key)
            if key not in self.seen_items:
                self.seen_items.add(key)
                if ticked:
                    self.checked.add(key)
                return owner_group, True
        return first_owner, False

    def _area_line(self, line: str) -> tuple[str, bool] | None:
        return area_line(line, self.d)

    # the result

    def _result(self) -> ParseResult:
        level = getattr(self, "answer_level", 3)
        orr = {}
        for key, lines in self.orr_answers.items():
            text = "\n".join(_dedent(line, 3) for line in unescape_lines(lines, answer_context(level)))
            orr[key] = OrrAnswer(canonical_text(text), self.orr_status.get(key, ""))
        for key, status in self.orr_status.items():
            orr.setdefault(key, OrrAnswer("", status))
        labels, confidential = _quick_action_values(self.actions)
        content = canonical(
            ProposalContent(
                template_version=self.d.version,
                fields=self.fields,
                persona_tags=tuple(self.tags),
                confidence=self.confidence or self.fallback_confidence,
                research_links=tuple(self.links),
                lists={name: tuple(values) for name, values in self.lists.items()},
                checked=frozenset(self.checked),
                orr=orr,
                kept_blocks=tuple(self.kept),
            )
        )
        names = [f.name for f in self.d.fields] + [n for n in text_field_names(self.d) if n in NEEDS_FIELDS]
        answered = set(content.fields) | set(content.lists)
        if content.confidence or content.research_links:
            answered |= {f.name for f in self.d.fields if f.kind == Kind.CONFIDENCE}
        if content.persona_tags:
            answered |= {f.name for f in self.d.fields if f.kind == Kind.PERSONAS}
        mentions = [p.name for p in content.persona_tags]
        mentions += _names_in(content.fields.get("personas", ""), self.personas, mentions)
        return ParseResult(
            content=content,
            version=self.d.version,
            found=tuple(n for n in names if n in answered),
            empty=tuple(n for n in names if n in self.present and n not in answered),
            missing=tuple(n for n in names if n not in self.present and n not in answered),
            persona_mentions=tuple(mentions),
            labels=tuple(labels),
            confidential=confidential,
            quick_actions=tuple(self.actions),
        )


@cache
def _heading_index(version: str):
    """Per definition: body nodes by heading text, their levels, requirement fields by list heading text
    (and that heading's level), caption fields by caption text."""
    index: dict[str, list[int]] = {}
    levels: dict[int, int] = {}
    lists: dict[str, list[int]] = {}
    list_levels: dict[int, int] = {}
    captions: dict[str, int] = {}
    for i, node in enumerate(get_definition(version).body):
        if isinstance(node, Heading):
            index.setdefault(_alias(node.text), []).append(i)
            levels[i] = node.level
        elif isinstance(node, Field):
            if node.level:
                index.setdefault(_alias(node.heading), []).append(i)
                levels[i] = node.level
            else:
                captions[norm(node.heading)] = i
            if node.list_heading:
                lists.setdefault(_alias(node.list_heading.text), []).append(i)
                list_levels[i] = node.list_heading.level
        elif isinstance(node, Checklist):
            index.setdefault(_alias(node.heading.text), []).append(i)
            levels[i] = node.heading.level
    return index, levels, lists, list_levels, captions


@cache
def _items_by_text(version: str, stage: str) -> dict[str, tuple[tuple[ChecklistGroup, object], ...]]:
    """A checklist's items by their text, and by the text other versions give the item with the same key
    ("Your assumptions" is "Your assumptions have been defined" in the latest version)."""
    checklist = next(c for c in get_definition(version).checklists if c.stage.value == stage)
    index: dict[str, list] = {}
    by_key: dict[str, tuple[ChecklistGroup, object]] = {}
    for group in checklist.groups:
        for item in group.items:
            index.setdefault(norm(item.text), []).append((group, item))
            by_key.setdefault(item.key, (group, item))
    own = set(index)
    for other in _definitions().values():
        for other_checklist in other.checklists:
            if other_checklist.stage.value != stage:
                continue
            for item in other_checklist.items:
                text = norm(item.text)
                if item.key in by_key and text not in own and by_key[item.key] not in index.setdefault(text, []):
                    index[text].append(by_key[item.key])
    return {text: tuple(pairs) for text, pairs in index.items() if pairs}


def area_line(line: str, definition: TemplateDefinition) -> tuple[str, bool] | None:
    """(area key, the line is the template's own text) of an ORR area line, else None.
    The template's text may be cut short (``…``) or worded as in another version."""
    match = _AREA_LINE.match(line)
    if not match:
        return None
    words = norm(line[match.end() :])
    for key, title in _area_titles(definition.version):
        if words.startswith(title):
            rest = words[len(title) :].strip()
            guidance = _area_guidance().get(title, ())
            cut_short = line.rstrip().endswith(("...", "…"))
            return key, not rest or rest in guidance or (cut_short and any(g.startswith(rest) for g in guidance))
    return None


def _after_area_title(line: str, definition: TemplateDefinition, key: str) -> str:
    """``2. **Data Limitation:** our answer`` -> ``our answer``; the whole line when the title is worded
    otherwise."""
    title = next(area.title for area in definition.orr_areas if area.key == key)
    match = _AREA_LINE.match(line)
    rest = line[match.end() :].lstrip() if match else line
    bold = rest.startswith("**")
    body = rest[2:] if bold else rest
    if not body.casefold().startswith(title.casefold()):
        return line
    body = body[len(title) :].lstrip(" :")
    if bold and body.startswith("**"):
        body = body[2:]
    return body.lstrip(" :") or line


@cache
def _own_item_texts(version: str, stage: str) -> dict[str, tuple[str, ...]]:
    """A checklist's item keys by the text this version gives them."""
    checklist = next(c for c in get_definition(version).checklists if c.stage.value == stage)
    keys: dict[str, list[str]] = {}
    for item in checklist.items:
        keys.setdefault(norm(item.text), []).append(item.key)
    return {text: tuple(found) for text, found in keys.items()}


@cache
def _area_guidance() -> dict[str, tuple[str, ...]]:
    """Every version's guidance text per ORR area title (normalised)."""
    guidance: dict[str, set[str]] = {}
    for d in _definitions().values():
        for area in d.orr_areas:
            guidance.setdefault(norm(area.title), set()).add(norm(area.guidance))
    return {title: tuple(texts) for title, texts in guidance.items()}


@cache
def _area_titles(version: str) -> tuple[tuple[str, str], ...]:
    return tuple((area.key, norm(area.title)) for area in get_definition(version).orr_areas)


def _alias(text: str) -> str:
    key = norm(text)
    return _HEADING_ALIASES.get(key, key)


def _choose(candidates: list[int], last: int, level: int, levels: dict[int, int]) -> int:
    """The section a heading names: the first one after the last match at the same level, else any at the
    same level, else the first one after the last match, else the first."""
    after = [n for n in candidates if n > last]
    same = [n for n in candidates if levels.get(n) == level]
    for pool in ([n for n in after if n in same], same, after, candidates):
        if pool:
            return pool[0]
    return candidates[0]


def _status_of(line: str) -> str:
    """The review status of a ``_Review status: …_`` line indented at most three spaces, else ""."""
    if len(line) - len(line.lstrip(" ")) > 3:
        return ""
    stripped = line.strip()
    prefix = STATUS_PREFIX.strip()
    if stripped.startswith(prefix) and stripped.endswith("_") and len(stripped) > len(prefix):
        return stripped[len(prefix) : -1].strip()
    return ""


@cache
def _boilerplate_lines() -> frozenset[str]:
    return frozenset(
        norm(line)
        for d in _definitions().values()
        for node in d.body
        if isinstance(node, Boilerplate)
        for line in node.lines
        if norm(line)
    )


@cache
def _requirement_notes() -> frozenset[str]:
    return frozenset(
        norm(line)
        for d in _definitions().values()
        for f in d.fields
        if f.kind == Kind.REQUIREMENTS
        for line in f.notes
        if norm(line)
    )


@cache
def _item_notes() -> frozenset[str]:
    return frozenset(
        norm(line) for d in _definitions().values() for c in d.checklists for item in c.items for line in item.notes
    )


@cache
def _area_lines() -> frozenset[str]:
    return frozenset(
        norm(line) for d in _definitions().values() for c in d.checklists for g in c.groups for line in g.after
    )


def _without_template_paragraphs(lines: list[str]) -> list[str]:
    """Drop the paragraphs (runs between blank lines, outside code) made only of template text, but for
    those with a heading that answers follow: the heading still says where those answers belong."""
    states = _scan(lines)
    paragraphs: list[tuple[list[str], bool, bool]] = []  # lines (blank lines after it included), template, heading
    current: list[str] = []
    template, heading = True, False
    for line, state in zip(lines, states, strict=True):
        if state == NORMAL and not line.strip():
            current.append(line)
            continue
        if state == NORMAL and task_item(line) is not None and _is_template_line(line):
            continue  # an unticked template item says nothing
        if current and current[-1].strip() == "" and any(entry.strip() for entry in current):
            paragraphs.append((current, template, heading))
            current, template, heading = [], True, False
        current.append(line)
        template = template and state == NORMAL and _is_template_line(line)
        heading = heading or (state == NORMAL and heading_of(line) is not None)
    paragraphs.append((current, template, heading))
    kept: list[list[str]] = []
    answers_follow = False
    for block, template, heading in reversed(paragraphs):
        if not template or (heading and answers_follow):
            kept.append(block)
        answers_follow = answers_follow or not template
    return [line for block in reversed(kept) for line in block]


@lru_cache(maxsize=8192)
def _is_template_line(line: str) -> bool:
    """A line of some template version's own text: a heading, prompt, note, unticked item, resource line…"""
    stripped = line.strip()
    if not stripped or _is_details_line(line):
        return True
    heading = heading_of(line)
    if heading is not None:
        return _alias(heading[1]) in _all_known_headings()
    task = task_item(line)
    if task is not None:
        return not task[0] and norm(task[1]) in _all_item_texts()
    words = norm(stripped)
    return words in _template_line_words() if words else stripped in _template_line_words()


@cache
def _template_line_words() -> frozenset[str]:
    """Every template line's normalised words; a line with no words (a table rule, ``- ...``) as written."""
    lines: set[str] = set()
    for d in _definitions().values():
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
    return frozenset(norm(line) or line.strip() for line in lines if line.strip())


def _quick_action_values(actions: list[str]) -> tuple[list[str], bool]:
    labels: list[str] = []
    confidential = False
    for action in actions:
        command, _, argument = action.partition(" ")
        if command == "/confidential":
            confidential = True
        elif command in ("/label", "/labels"):
            labels += [name for name in _label_names(argument) if name not in labels]
    return labels, confidential


def _label_names(text: str) -> list[str]:
    names, i, n = [], 0, len(text)
    while i < n:
        if text[i] != "~":
            i += 1
            continue
        if text.startswith('~"', i):
            close = text.find('"', i + 2)
            close = n if close == -1 else close
            names.append(text[i + 2 : close])
            i = close + 1
        else:
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != "~":
                j += 1
            names.append(text[i + 1 : j])
            i = j
    return [name.strip() for name in names if name.strip()]


def _names_in(text: str, names: Iterable[str], already: list[str]) -> list[str]:
    found = []
    words = set(re.findall(r"\w+", text.casefold()))
    for name in names:
        if name not in already and name not in found and name.casefold() in words:
            found.append(name)
    return found


__all__ = [
    "KeptBlock",
    "Link",
    "OrrAnswer",
    "PersonaMention",
    "ParseResult",
    "ProposalContent",
    "RENDER_PREFETCH",
    "canonical",
    "canonical_text",
    "content_from_proposal",
    "parse",
    "render",
]
