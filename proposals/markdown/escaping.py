"""Escaping: answers go into the issue as the author typed them, except lines the parser would read as
the template's own structure.

Those lines get one backslash, put after the line's leading spaces, which GitLab does not show (``\\#``,
``\\_``, ``\\<``, ``\\/``, ``\\-`` are CommonMark escapes of ASCII punctuation):

- a heading that would end the answer: any heading whose text is a heading of any template version, or
  whose level is at most the level of the answer's own heading (``### Success`` inside an answer becomes
  ``\\### Success``);
- the field's italic prompt, in any version's wording;
- a line that GitLab could run as a quick action (``\\/label ~x``);
- a code fence or HTML comment opened in the answer and never closed in it (it would swallow the rest of
  the issue), and a comment that is word for word one of the template's hint comments (the parser drops
  those);
- a task item whose text is one of the template's checklist items (it would tell the wrong template
  version);
- the first line of an answer that the parser would read as the prompt with the answer after it, an
  answer marker (``Answer:``) or a lone list marker (``answers.answer_head``);
- in the dependency and legal needs, a task line that reads as a template item, even reworded;
- in the ORR answers, a ``_Review status: …_`` line; in the personas text, a bullet that starts with a link
  (it would read as a persona mention); anywhere, the caption line of a UX maturity table.

A line that already starts with backslashes before such a text gets one more, so the scheme is
reversible: the parser removes exactly one backslash from any line of the same shape. Lines inside
closed code fences and HTML comments are never touched. A requirement gets a backslash before a first
character Markdown would read as syntax (``\\- item``, ``\\...``, ``\\* nested``), not before emphasis or
code it starts with (``_private_``: GitLab shows it, and its rich-text editor writes it back, as it is); link
texts escape ``\\ [ ] | < > ` &`` and URLs with spaces, brackets or pipes use ``<…>``.

The parser reads a line Stagegate escaped at its start as GitLab shows it: the rich-text editor writes that
text back with escapes of its own (``\\- \\[x\\] Your proposal``), which are dropped first
(``normal.without_needless_escapes``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

from proposals.markdown.answers import head_changes
from proposals.markdown.items import reads_as_any_item
from proposals.markdown.known import (
    all_captions,
    all_item_texts,
    all_known_headings,
    field_prompts,
    heading_is_known,
    is_known_comment,
)
from proposals.markdown.lines import (
    BULLET_LINK,
    QUICK_ACTION,
    TEXT,
    THEMATIC_BREAK,
    LineWalker,
    fence_of,
    heading_of,
    italic_norm,
    norm,
    opens_comment,
    task_item,
)
from proposals.markdown.normal import without_needless_escapes
from proposals.template import Field, Kind

STATUS_PREFIX = "_Review status: "


def _split_backslashes(line: str) -> tuple[str, int, str]:
    """(leading spaces, number of backslashes after them, the rest)."""
    spaces = len(line) - len(line.lstrip(" "))
    rest = line[spaces:]
    slashes = len(rest) - len(rest.lstrip("\\"))
    return line[:spaces], slashes, rest[slashes:]


@dataclass(frozen=True)
class Context:
    """What a line means at the place a block of text stands."""

    level: int  # headings at or above this level end the block
    prompts: frozenset[str] = frozenset()
    headings: frozenset[str] | None = None  # known heading texts; None: every template version's
    extra: Callable[[str], bool] | None = None
    # An answer's first line is read as people write answers (``answers.answer_head``) with these prompts;
    # None: the block is no answer (kept Markdown, a requirement's continuation lines).
    head: tuple[str, ...] | None = None


def _dangerous(base: str, context: Context) -> bool:
    """Would the parser read this (backslash-free) line as structure where the block stands?"""
    heading = heading_of(base)
    if heading is not None:
        known = all_known_headings() if context.headings is None else context.headings
        return heading[0] <= context.level or heading_is_known(heading[1], known)
    stripped = base.strip()
    if not stripped:
        return False
    if QUICK_ACTION.match(base):
        return True
    if context.prompts and stripped[0] in "_*" and italic_norm(stripped) in context.prompts:
        return True
    if norm(stripped) in all_captions() and stripped[0] in "*_":
        return True
    if context.level and (task := task_item(base)) is not None and norm(task[1]) in all_item_texts():
        return True  # a template checklist item in an answer would tell the wrong template version
    return bool(context.extra and context.extra(base))


def _dangerous_any(base: str, context: Context) -> bool:
    return _dangerous(base, context) or fence_of(base) is not None or opens_comment(base)


def _first_line(lines: list[str], context: Context) -> int:
    """The index of the answer's first line, when the block is an answer; else -1."""
    if context.head is None:
        return -1
    for i, line in enumerate(lines):
        if line and not line.isspace():
            return i
    return -1


def _head_danger(base: str, index: int, lines: list[str], context: Context) -> bool:
    """Would the parser leave part of an answer's first line out, as a prompt, marker or list marker?"""
    return head_changes(base, lines[index + 1 :], context.head or ())


def escape_lines(lines: list[str], context: Context) -> list[str]:
    """Escape lines (as they stand in the issue, indentation included) so that none reads as structure."""
    out: list[str] = []
    first = _first_line(lines, context)
    # Only fences and comments closed inside the block stay as they are; the template's own hint comments
    # are read as text here, so that their opening line gets its backslash below.
    walked = LineWalker(lines, closed_only=True, comment_is_text=is_known_comment)
    for index, (line, where, _) in enumerate(walked):
        if where != TEXT:
            out.append(line)
            continue
        spaces, slashes, rest = _split_backslashes(line)
        base = spaces + rest
        if len(spaces) > 3:
            out.append(line)
        elif slashes:
            dangerous = _dangerous_any(base, context) or (index == first and _head_danger(base, index, lines, context))
            out.append(spaces + "\\" * (slashes + 1) + rest if dangerous else line)
        elif (
            fence_of(base) is not None
            or opens_comment(base)
            or _dangerous(base, context)
            or (index == first and _head_danger(base, index, lines, context))
        ):
            out.append(spaces + "\\" + rest)  # a fence or comment read as text here: left open, or a template hint
        else:
            out.append(line)
    return out


def unescape_lines(lines: list[str], context: Context) -> list[str]:
    """The inverse of ``escape_lines`` on what it wrote."""
    if not any("\\" in line for line in lines):
        return list(lines)  # nothing escaped (most answers)
    if any(line.lstrip(" ").startswith("\\") for line in lines):
        # The rich-text editor writes a line Stagegate escaped at its start with escapes of its own
        # (``\\- \\[x\\]``): read it as it shows, without them.
        lines = without_needless_escapes(list(lines))
    out: list[str] = []
    first = _first_line(lines, context)
    for index, (line, where, _) in enumerate(LineWalker(lines)):
        spaces, slashes, rest = _split_backslashes(line)
        base = spaces + rest
        if (
            where == TEXT
            and slashes
            and len(spaces) <= 3
            and (_dangerous_any(base, context) or (index == first and _head_danger(base, index, lines, context)))
        ):
            out.append(spaces + "\\" * (slashes - 1) + rest)
        else:
            out.append(line)
    return out


LINK_TEXT_SPECIAL = set("\\[]|<>`&")


_ITEM_START_SPECIAL = set("\\#>-+[<~|.=!:")
# Emphasis and code at an item's start are written as they are (GitLab shows them as the author meant, and
# the rich-text editor writes them back so); only where they would start a block do they get a backslash.
_ITEM_START_IF_BLOCK = set("*_`")


def escape_inline(text: str, special: set[str] = LINK_TEXT_SPECIAL) -> str:
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


def link_destination(url: str) -> str:
    if url and not any(ch in url for ch in " \t<>()\\|") and all(ch.isprintable() for ch in url):
        return url
    return "<" + "".join("\\" + ch if ch in "\\<>|" else ch for ch in url) + ">"


def render_link(title: str, url: str) -> str:
    return f"[{escape_inline(title)}]({link_destination(url)})"


def escape_item(text: str) -> str:
    """A list item's first line: a backslash before a first character Markdown would read as syntax (a
    nested list, a rule or a code fence for ``* _ ```)."""
    if not text:
        return text
    if text[0] in _ITEM_START_SPECIAL:
        return "\\" + text
    if text[0] in _ITEM_START_IF_BLOCK and (
        text[:2] in ("* ", "*\t") or text == "*" or THEMATIC_BREAK.fullmatch(text) or fence_of(text) is not None
    ):
        return "\\" + text
    return text


def unescape_item(text: str) -> str:
    return text[1:] if text.startswith("\\") else text


def autolinkable(url: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>\\|`]*", url)) and all(ch.isprintable() for ch in url)


@cache
def kept_context() -> Context:
    """Kept Markdown is written back as it was: its headings stay headings (a template heading in it is a
    second copy of a section, kept right after the first, so it reads as a copy again)."""
    return Context(level=0, headings=frozenset())


@cache
def field_context(f: Field) -> Context:
    prompts = field_prompts(f.name) | ({norm(f.prompt)} if f.prompt else set())
    extra = _is_persona_bullet if f.kind == Kind.PERSONAS else None
    return Context(level=f.level or 6, prompts=prompts, extra=extra)


@cache
def answer_text_context(f: Field) -> Context:
    """A text field's answer: its first line may carry the prompt, a marker or a lone list marker."""
    context = field_context(f)
    return replace(context, head=tuple(sorted(context.prompts)))


def _is_persona_bullet(line: str) -> bool:
    return bool(BULLET_LINK.match(line))


@cache
def answer_context(level: int) -> Context:
    """An ORR area's answer, under the area's line."""
    return Context(level=level, extra=_is_status_line, head=())


@cache
def needs_context(level: int) -> Context:
    """The dependency or legal needs, under their checklist item: there, a task line that reads as a
    template item, even reworded, is that item (or a copy of it)."""
    return Context(level=level, head=(), extra=_reads_as_item)


def _reads_as_item(line: str) -> bool:
    task = task_item(line)
    return task is not None and reads_as_any_item(task[1])


def _is_status_line(line: str) -> bool:
    return line.strip().startswith(STATUS_PREFIX.strip())
