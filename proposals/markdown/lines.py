"""Lines of an issue body as GitLab reads them: headings, task items, code fences, HTML comments.

``LineWalker`` is the one place that follows code fences and HTML comments through a document; the
escaping, the parser and the ``/orr`` command reader all ask it which lines are text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import NamedTuple

_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
QUICK_ACTION = re.compile(r" {0,3}/[A-Za-z][A-Za-z0-9_-]*(?:[ \t]|$)")
BULLET_LINK = re.compile(r" {0,3}[-*+][ \t]+\[")
_TASK = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]+\[([ xX~])\](?:[ \t]+|$)")
BULLET = re.compile(r"( {0,3})(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
AREA_LINE = re.compile(r" {0,2}(\d{1,2})[.)][ \t]")
THEMATIC_BREAK = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")  # a rule
_DETAILS_TAGS = ("<details>", "</details>", "<summary>", "</summary>")


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


TEXT, FENCE, COMMENT = "text", "fence", "comment"


class WalkedLine(NamedTuple):
    text: str
    where: str  # TEXT, FENCE or COMMENT
    opens: bool  # the line opens the fence or comment it stands in


class LineWalker:
    """Walks a document's lines and says of each whether it stands in a code fence, an HTML comment or text.

    A fence or comment left open runs to the end, as in GitLab. With ``closed_only`` one that is never closed
    is text instead, and so is a closed comment that ``comment_is_text`` accepts (the escaping writes such
    openers out with a backslash). After the walk, ``open_fence`` and ``in_comment`` tell what was left open.
    Each line is looked at a fixed number of times: the walk is linear in the document.
    """

    def __init__(
        self,
        lines: Sequence[str],
        *,
        closed_only: bool = False,
        comment_is_text: Callable[[Sequence[str]], bool] | None = None,
    ):
        self.lines = lines
        self.closed_only = closed_only
        self.comment_is_text = comment_is_text
        self.open_fence: tuple[str, int] | None = None
        self.in_comment = False

    def __iter__(self) -> Iterator[WalkedLine]:
        lines, n = self.lines, len(self.lines)
        fence_closers, comment_closers = _closers(lines) if self.closed_only else ({}, [])
        i = 0
        while i < n:
            line = lines[i]
            fence = fence_of(line)
            if fence is not None and (not self.closed_only or fence_closers[fence[0]][i + 1] >= fence[1]):
                self.open_fence = fence
                yield WalkedLine(line, FENCE, True)
                i += 1
                while i < n:
                    line = lines[i]
                    i += 1
                    yield WalkedLine(line, FENCE, False)
                    if closes_fence(line, fence):
                        self.open_fence = None
                        break
                continue
            if opens_comment(line):
                one_line = comment_closes_on_opening_line(line)
                if one_line or not self.closed_only or comment_closers[i + 1]:
                    end = i
                    if not one_line:
                        end = i + 1
                        while end < n and "-->" not in lines[end]:
                            end += 1
                    closed = end < n
                    if not (closed and self.comment_is_text and self.comment_is_text(lines[i : end + 1])):
                        self.in_comment = not closed
                        for j in range(i, min(end, n - 1) + 1):
                            yield WalkedLine(lines[j], COMMENT, j == i)
                        i = end + 1
                        continue
            yield WalkedLine(line, TEXT, False)
            i += 1


def _closers(lines: Sequence[str]) -> tuple[dict[str, list[int]], list[bool]]:
    """For each line: the longest closing fence of each fence character at or after it, and whether a
    ``-->`` stands at or after it."""
    n = len(lines)
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
    return longest, comment_end


@lru_cache(maxsize=8192)
def task_item(line: str) -> tuple[str, str, int] | None:
    """(mark, text, indent) of a task list item, else None. The mark is GitLab's three states:
    ``"x"`` ticked (``[x]``, ``[X]``), ``" "`` open, ``"~"`` inapplicable (``[~]``, GitLab 15.3+)."""
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
    mark = match.group(1)
    return ("x" if mark in "xX" else mark), line[match.end() :].strip(), indent


@lru_cache(maxsize=8192)
def strip_details(line: str) -> str:
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
def is_details_line(line: str) -> bool:
    stripped = line.strip().lower()
    return bool(stripped) and any(tag in stripped for tag in _DETAILS_TAGS) and not strip_details(line).strip()


def dedent(line: str, width: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, width) :]


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
    if stripped.endswith("|") and not is_escaped(stripped, len(stripped) - 1) and cells:
        cells = cells[:-1]
    return [cell.strip() for cell in cells]


def is_delimiter_row(line: str) -> bool:
    if "-" not in line:
        return False
    cells = split_cells(line)
    return bool(cells) and all(cell and set(cell) <= set(":- ") and "-" in cell for cell in cells)


def is_escaped(text: str, i: int) -> bool:
    """Is the character at ``i`` preceded by an odd number of backslashes?"""
    count = 0
    while i - count - 1 >= 0 and text[i - count - 1] == "\\":
        count += 1
    return count % 2 == 1
