"""One spelling of Markdown that GitLab shows the same however it was typed.

GitLab's rich-text editor re-serialises what it touches: ``_`` for emphasis, ``-`` bullets, tables with
one space around each cell, ``\\`` for a hard break, one blank line where there were several. (A blank
line it adds between two blocks that had none, after a heading inside an answer, is not undone: the
answer then reads with that blank line.) An answer re-saved
there reads the same to people; ``normal_form`` makes it the same text, so a re-saved issue parses to the
same content and nothing looks changed on either side. Applied to every answer and kept block
(``document.canonical_text``), outside code fences and HTML comments; each line is looked at a fixed
number of times.
"""

from __future__ import annotations

import re
from functools import lru_cache

from proposals.markdown.lines import (
    BULLET,
    TEXT,
    LineWalker,
    fence_of,
    heading_of,
    is_delimiter_row,
    split_cells,
)

_STAR_BULLET = re.compile(r"([ \t]*)[*+]([ \t]+)")
_THEMATIC_BREAK = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_STAR_EMPHASIS = re.compile(r"(?<![\w*\\])\*(?![\s*])([^*\n]*?[^\s*\\])\*(?![\w*])")
_NO_EMPHASIS = re.compile(r"`[^`]*`?|\S*://\S*|\]\([^)]*\)?|<[^>]*>?")
_TABLE_ROW = re.compile(r" {0,3}\|")


def normal_form(text: str) -> str:
    if not _needs_work(text):
        return text
    lines = text.split("\n")
    if "``" in text or "~~" in text or "<!--" in text:
        text_lines = [where == TEXT for _, where, _ in LineWalker(lines)]
    else:
        text_lines = [True] * len(lines)
    out: list[str] = []
    for i, line in enumerate(lines):
        if not text_lines[i]:
            out.append(line)
            continue
        if not line.strip():
            if out and not out[-1].strip() and text_lines[i - 1]:
                continue  # one blank line between blocks is as good as several
            out.append("")
            continue
        following = lines[i + 1] if i + 1 < len(lines) and text_lines[i + 1] else None
        if line[-1] in " \t":
            stripped = line.rstrip(" \t")
            hard_break = len(line) - len(stripped) >= 2 and not line.endswith("\t")
            line = stripped + "\\" if hard_break and _continues(stripped, following) else stripped
        out.append(_normal_line(line))
    return "\n".join(out)


def _needs_work(text: str) -> bool:
    """Could ``normal_form`` change the text? (Substring tests: most answers have none of these.)"""
    return (
        "*" in text
        or "+" in text
        or "|" in text
        or " \n" in text
        or "\t\n" in text
        or "\n\n\n" in text
        or text[-1:] in (" ", "\t")
    )


@lru_cache(maxsize=8192)  # the template's own lines (tables, bullets) come back in every issue
def _normal_line(line: str) -> str:
    if _TABLE_ROW.match(line) and line.endswith("|") and len(line) > 1:
        return _table_row(line)
    if not _THEMATIC_BREAK.fullmatch(line):
        bullet = _STAR_BULLET.match(line)
        if bullet:
            line = f"{bullet.group(1)}-{bullet.group(2)}{line[bullet.end() :]}"
    if "*" in line:
        line = _underscore_emphasis(line)
    return line


def _continues(line: str, following: str | None) -> bool:
    """Does the next line continue this line's paragraph (so trailing spaces are a hard break)?"""
    if following is None or not following.strip():
        return False
    if heading_of(line) is not None or _TABLE_ROW.match(line):
        return False
    nxt = following
    return not (
        heading_of(nxt) is not None
        or BULLET.match(nxt)
        or fence_of(nxt) is not None
        or nxt.lstrip().startswith((">", "|", "<"))
        or _THEMATIC_BREAK.fullmatch(nxt)
    )


def _table_row(line: str) -> str:
    indent = line[: len(line) - len(line.lstrip(" "))]
    cells = split_cells(line)
    if is_delimiter_row(line):
        cells = [_delimiter(cell) for cell in cells]
    return indent + "| " + " | ".join(cells) + " |"


def _delimiter(cell: str) -> str:
    cell = cell.replace(" ", "")
    return (":" if cell.startswith(":") else "") + "---" + (":" if cell.endswith(":") and len(cell) > 1 else "")


def _underscore_emphasis(line: str) -> str:
    """``*word*`` -> ``_word_`` where both read as emphasis: not inside code, links or URLs, not within a
    word, and not around text with an underscore of its own."""
    protected = [match.span() for match in _NO_EMPHASIS.finditer(line)]

    def swap(match: re.Match) -> str:
        start, end = match.span()
        if "_" in match.group(1) or any(a < end and start < b for a, b in protected):
            return match.group(0)
        return f"_{match.group(1)}_"

    return _STAR_EMPHASIS.sub(swap, line)
