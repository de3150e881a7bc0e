"""A proposal as its GitLab issue body, and any filled-in issue body back as a proposal.

``render(proposal) -> str`` writes the issue description in the shape of the
proposal's template definition (``proposals.template``): the same headings, levels
and order; an empty field keeps the template's italic prompt; a filled field
shows the text instead; checklists as GitLab task lists; the ORR areas with each
author's answer and the area's review status. Quick actions (``/label``,
``/confidential``, ``/cc``) are never written: the sync sets labels and
confidentiality through the API.

``parse(markdown) -> ParseResult`` reads any issue written from any of the
template versions back (see the parser section below).

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
not show (``\\#``, ``\\_``, ``\\<``, ``\\/``, ``\\``` are CommonMark escapes of
ASCII punctuation):

- a heading that would end the answer: any heading whose text is a heading of
  any template version, or whose level is at most the level of the answer's own
  heading (``### Success`` inside an answer becomes ``\\### Success``);
- the field's own italic prompt (``\\_What user problem will this solve?_``);
- a line that GitLab could run as a quick action (``\\/label ~x``);
- a code fence or HTML comment opened in the answer and never closed in it
  (it would swallow the rest of the issue), and a comment that is word for word
  one of the template's hint comments (the parser drops those);
- in the ORR answers, a ``_Review status: …_`` line; in the personas text, a
  bullet that starts with a link (it would read as a persona mention);
- a caption line of a template table (the UX maturity tables).

A line that already starts with backslashes before such a text gets one more,
so the scheme is reversible: the parser removes exactly one backslash from any
line of the same shape. Lines inside closed code fences and HTML comments are
never touched. List items (requirements) get a backslash before a first
character that Markdown would read as syntax (``\\- item``, ``\\...``).
Links (research, personas) escape ``\\ [ ] | < > ` &`` in their text and use
``<…>`` destinations for URLs with spaces, brackets or pipes.

A text field is canonical when line endings are ``\\n`` and blank lines at its
start and end are dropped (``canonical_text``); round trips are exact on
canonical content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

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


def canonical(content: ProposalContent) -> ProposalContent:
    """The same content in the one form render and parse agree on."""
    definition = content.definition
    names = text_field_names(definition)
    fields = {name: canonical_text(content.fields.get(name)) for name in names}
    fields = {name: value for name, value in fields.items() if value}
    for f in definition.fields:
        if f.name in fields and f.level == 0 and _same_lines(fields[f.name], f.notes):
            del fields[f.name]
    lists = {}
    for f in definition.fields:
        if f.kind == Kind.REQUIREMENTS:
            items = tuple(item for item in map(_list_item, content.lists.get(f.name, ())) if item)
            if items:
                lists[f.name] = items
    stages = {(c.stage.value, item.key) for c in definition.checklists for item in c.items}
    orr = {}
    area_keys = {area.key for area in definition.orr_areas}
    for key, value in content.orr.items():
        answer = OrrAnswer(canonical_text(value.answer), _one_line(value.status).replace("_", " ").strip())
        if key in area_keys and (answer.answer or answer.status):
            orr[key] = answer
    has_confidence = any(f.kind == Kind.CONFIDENCE for f in definition.fields)
    has_personas = any(f.kind == Kind.PERSONAS for f in definition.fields)
    confidence = (content.confidence or "").strip().lower()
    return ProposalContent(
        template_version=definition.version,
        fields=fields,
        persona_tags=tuple(
            PersonaMention(_one_line(p.name), _one_line(p.role), p.url.strip())
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
            KeptBlock(block.after, canonical_text(block.markdown))
            for block in content.kept_blocks
            if canonical_text(block.markdown)
        ),
    )


def _merge_kept(blocks: Iterable[KeptBlock]) -> tuple[KeptBlock, ...]:
    """One block per anchor, in first-seen order: blocks of one anchor render next to each other anyway."""
    merged: dict[str, list[str]] = {}
    for block in blocks:
        merged.setdefault(block.after, []).append(block.markdown)
    return tuple(KeptBlock(after, "\n\n".join(texts)) for after, texts in merged.items())


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
    stripped = line.lstrip(" ")
    return len(line) - len(stripped) <= 3 and stripped.startswith("<!--")


def comment_closes_on_opening_line(line: str) -> bool:
    return "-->" in line[line.index("<!--") + 4 :]


def norm(text: str) -> str:
    """Compare texts the way a reader does: link targets, emphasis, punctuation, emoji and case aside."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "]" and i + 1 < n and text[i + 1] == "(":
            close = text.find(")", i + 2)
            if close != -1:
                i = close + 1
                continue
        if ch.isalnum() or ch == "/":
            out.append(ch)
        elif ch.isspace() or ch in "-–—":
            out.append(" ")
        i += 1
    return " ".join("".join(out).split()).casefold()


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


def _known_headings(version: str | None = None) -> frozenset[str]:
    return _definition_headings(version) if version else _all_known_headings()


@cache
def _all_known_headings() -> frozenset[str]:
    from proposals.template import DEFINITIONS

    return frozenset(text for definition in DEFINITIONS.values() for text in _definition_headings(definition.version))


@cache
def _definition_headings(version: str) -> frozenset[str]:
    definition = get_definition(version)
    texts = set()
    for node in definition.body:
        if isinstance(node, Heading):
            texts.add(norm(node.text))
        elif isinstance(node, Field):
            texts.add(norm(node.heading))
            if node.list_heading:
                texts.add(norm(node.list_heading.text))
        elif isinstance(node, Checklist):
            texts.add(norm(node.heading.text))
    return frozenset(texts)


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
        return heading[0] <= context.level or norm(heading[1]) in known
    stripped = base.strip()
    if not stripped:
        return False
    if _QUICK_ACTION.match(base):
        return True
    if context.prompts and stripped[0] in "_*" and italic_norm(stripped) in context.prompts:
        return True
    if norm(stripped) in _all_captions() and stripped[0] in "*_":
        return True
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
    return [prefix + line if line.strip() else "" for line in lines]


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


def render(proposal_or_content, *, content: ProposalContent | None = None) -> str:
    """The issue description of a proposal (or of ``ProposalContent``)."""
    if content is None:
        if isinstance(proposal_or_content, ProposalContent):
            content = proposal_or_content
        else:
            content = content_from_proposal(proposal_or_content)
    return render_content(content)


def render_content(content: ProposalContent) -> str:
    content = canonical(content)
    definition = content.definition
    kept: dict[str, list[str]] = {}
    for block in content.kept_blocks:
        kept.setdefault(block.after, []).append(block.markdown)
    headings = _definition_headings(definition.version)
    blocks: list[str] = []

    def emit_kept(anchor: str) -> None:
        for text in kept.pop(anchor, ()):
            blocks.append("\n".join(escape_lines(text.split("\n"), _kept_context(headings))))

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


def _kept_context(headings: frozenset[str]) -> _Context:
    return _Context(level=0, headings=headings)


def field_context(f: Field) -> _Context:
    prompts = frozenset({norm(f.prompt)}) if f.prompt else frozenset()
    extra = _is_persona_bullet if f.kind == Kind.PERSONAS else None
    return _Context(level=f.level or 6, prompts=prompts, extra=extra)


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
        mentions = [_render_persona(p) for p in content.persona_tags]
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


def _render_persona(persona: PersonaMention) -> str:
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
    headings = _definition_headings(definition.version)
    parts += ["\n".join(escape_lines(text.split("\n"), _kept_context(headings))) for text in kept]
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


__all__ = [
    "KeptBlock",
    "Link",
    "OrrAnswer",
    "PersonaMention",
    "ProposalContent",
    "RENDER_PREFETCH",
    "canonical",
    "canonical_text",
    "content_from_proposal",
    "render",
]
