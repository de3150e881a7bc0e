"""One spelling of Markdown that GitLab shows the same however it was typed.

GitLab's rich-text editor re-serialises what it touches: ``_`` for emphasis, ``-`` bullets, tables with
one space around each cell, ``\\`` for a hard break, one blank line where there were several, one blank line
between any two blocks (a paragraph and the list under it, a heading and its text, a code block and what
follows) with the items of a list tight, and a backslash before what could read as Markdown (its serializer,
prosemirror-markdown's ``esc``: ``\\ ` * _ ~ [ ]`` anywhere but ``_`` within a word, ``# - + > 1.`` where a
block starts; so ``\\[x\\]``, ``a\\*b``, ``\\#1``, ``C:\\\\temp``, and ``snake\\_case`` from other editors). An
answer re-saved there reads the same to people; ``normal_form`` makes it the same text, so a re-saved issue
parses to the same content and nothing looks changed on either side. Applied to every answer and kept block
(``document.canonical_text``), outside code fences and HTML comments; each line is looked at a fixed number
of times.

Only what cannot change how GitLab shows the text changes, so the normal form is idempotent and render∘parse
keeps what the author wrote (as GitLab shows it):

- blank lines (answers and kept Markdown alike; the parser reads kept Markdown by its paragraphs, so it
  reads them in this layout too: ``blank_lines_between_blocks``): one between two blocks that are two blocks
  with or without it (under a heading or a rule; before a heading, a code fence, a quote, a ``***`` rule, a
  list that may interrupt a paragraph: a bullet with text or ``1.``, or a table: a header row starting with
  ``|`` with a delimiter row of as many cells under it, which GitLab's editor writes with a blank line before
  and after;
  after a closed code fence), none between the items of one list (a loose list reads as the same list);
  never after a table, an HTML block or indented code, nor between two quotes or before text that would run
  on into the block above;
- backslashes: dropped before a character that would be plain text without it, kept where the character
  would start a block (``\\- item``, ``\\# Heading``, ``1\\. item``, ``\\> quote``), could pair into
  emphasis or a code span with another one in the paragraph (a backtick wherever another one stands), would
  make a link, a reference or a task item (``- \\[x\\]``), a hard break (``\\\\`` at a line's end) or another
  escape (``\\\\*``). Inside a code span, an inline HTML tag or an autolink a backslash is the author's
  character: those are read as CommonMark reads them and left as they are, and the escapes around them looked
  at (the editor escapes the text beside a code span, never the code); a paragraph with HTML this does not
  read (``<?``, ``<!x``) is left alone. A backslash before a letter is no escape and stays (``\\d+``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from proposals.markdown.lines import (
    BULLET,
    FENCE,
    TEXT,
    THEMATIC_BREAK,
    LineWalker,
    closes_fence,
    fence_of,
    heading_of,
    is_delimiter_row,
    split_cells,
)

_STAR_BULLET = re.compile(r"([ \t]*)[*+]([ \t]+)")
_STAR_EMPHASIS = re.compile(r"(?<![\w*\\])\*(?![\s*])([^*\n]*?[^\s*\\])\*(?![\w*])")
_NO_EMPHASIS = re.compile(r"`[^`]*`?|\S*://\S*|\]\([^)]*\)?|<[^>]*>?")
_TABLE_ROW = re.compile(r" {0,3}\|")


def normal_form(text: str, *, kept: bool = False) -> str:
    """The text in the one spelling. ``kept``: Markdown the template has no place for, which is written back
    with a code fence it leaves open closed at its end (``render.render_kept``), so such a fence is a block
    of its own here too."""
    if not _needs_work(text):
        return text
    lines = text.split("\n")
    kinds = _kinds(lines, text)
    out: list[str] = []
    out_kinds: list[str] = []
    for i, line in enumerate(lines):
        if kinds[i] == TEXT and not line.strip():
            if out and not out[-1] and out_kinds[-1] == TEXT:
                continue  # one blank line between blocks is as good as several
            line = ""
        elif kinds[i] == TEXT:
            following = lines[i + 1] if i + 1 < len(lines) and kinds[i + 1] == TEXT else None
            if line[-1] in " \t":
                stripped = line.rstrip(" \t")
                hard_break = len(line) - len(stripped) >= 2 and not line.endswith("\t")
                line = stripped + "\\" if hard_break and _continues(stripped, following) else stripped
            line = _normal_line(line)
        out.append(line)
        out_kinds.append(kinds[i])
    if _may_have_blocks(text):
        out, out_kinds = _one_blank_line_between_blocks(out, out_kinds, fences_closed=kept)
    if "\\" in text:
        out = _without_needless_escapes(out, [kind == TEXT for kind in out_kinds])
    return "\n".join(out)


def _kinds(lines: list[str], text: str) -> list[str]:
    if "``" in text or "~~" in text or "<!--" in text:
        return [where for _, where, _ in LineWalker(lines)]
    return [TEXT] * len(lines)


def blank_lines_between_blocks(lines: list[str]) -> list[str]:
    """Only the blank lines of ``normal_form(kept=True)``: one between two blocks, none between the items of
    a list, as the rich-text editor writes them. The parser reads kept Markdown by its paragraphs (those
    made of template text are left out), so it reads them as the editor would write them."""
    text = "\n".join(lines)
    kinds = _kinds(lines, text)
    out: list[str] = []
    out_kinds: list[str] = []
    for line, kind in zip(lines, kinds, strict=True):
        blank = kind == TEXT and not line.strip()
        if blank and out and not out[-1] and out_kinds[-1] == TEXT:
            continue  # one blank line between blocks is as good as several
        out.append("" if blank else line)
        out_kinds.append(kind)
    if _may_have_blocks(text):
        out, _ = _one_blank_line_between_blocks(out, out_kinds, fences_closed=True)
    return out


def _needs_work(text: str) -> bool:
    """Could ``normal_form`` change the text? (Substring tests: most answers have none of these.)"""
    return (
        "*" in text
        or "+" in text
        or "|" in text
        or "\\" in text
        or _may_have_blocks(text)
        or "\n\n\n" in text
        or " \n" in text
        or "\t\n" in text
        or text[-1:] in (" ", "\t")
    )


@lru_cache(maxsize=8192)  # the template's own lines (tables, bullets) come back in every issue
def _normal_line(line: str) -> str:
    if _TABLE_ROW.match(line) and line.endswith("|") and len(line) > 1:
        return _table_row(line)
    if not THEMATIC_BREAK.fullmatch(line):
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
        or THEMATIC_BREAK.fullmatch(nxt)
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


# Blank lines.

_ITEM = re.compile(r"[-*+][ \t]+\S")
_ORDERED = re.compile(r"(\d{1,9})([.)])[ \t]+\S")
_BLOCK_START = re.compile(r"\n {0,3}(?:[-*+>#`~_|]|\d{1,9}[.)])")


def _may_have_blocks(text: str) -> bool:
    """Could the text hold two blocks that the blank lines between them may be normalised for?"""
    return "\n" in text and ("\n\n" in text or text.lstrip(" ").startswith("#") or bool(_BLOCK_START.search(text)))


def _one_blank_line_between_blocks(
    lines: list[str], kinds: list[str], *, fences_closed: bool
) -> tuple[list[str], list[str]]:
    """One blank line between two blocks that are two blocks with or without it, as the rich-text editor
    writes them; none between the items of a list, which the editor writes tight.

    Decided on the lines already written: a second pass decides every place the same way (idempotent)."""
    out: list[str] = []
    out_kinds: list[str] = []
    # The run of non-blank text lines the output ends with: can a block start right under it?
    run_holds_block = False  # a table row, an HTML line or indented code: the next line would join it
    run_quote = False
    run_list = False  # the run starts with a list item
    n = len(lines)
    fence: tuple[str, int] | None = None  # the code fence the walk stands in
    in_html = False  # an HTML block runs to the next blank line, fences and all
    for i, line in enumerate(lines):
        kind = kinds[i]
        above = out[-1] if out and out_kinds[-1] == TEXT and out[-1] else None
        opens_fence = kind == FENCE and fence is None
        if opens_fence:
            fence = fence_of(line)
        elif kind == FENCE and fence is not None and closes_fence(line, fence):
            fence = None
        if kind == TEXT and not line:
            following = lines[i + 1] if i + 1 < n and kinds[i + 1] == TEXT else ""
            in_html = False
            if (
                above is not None
                and run_list
                and not run_holds_block
                and _is_item(following)
                and _starts_under(above, following, quote_above=run_quote, in_list=True)
            ):
                continue  # between two items of one list
            run_holds_block = run_quote = run_list = False
            out.append(line)
            out_kinds.append(kind)
            continue
        # A code fence right under text is its opening line; one never closed is code to the end, which the
        # escaping writes as text, so it is left where it stands.
        starts = kind == TEXT or (opens_fence and (fences_closed or _closed_below(lines, kinds, i)))
        if kind == TEXT and _starts_html(line):
            in_html = True
        if in_html:
            pass
        elif above is not None and starts and not run_holds_block:
            if (
                _starts_under(above, line, quote_above=run_quote, in_list=run_list)
                and not (run_list and _is_item(line))
            ) or (not run_list and not run_quote and _opens_table(line, lines[i + 1] if i + 1 < n else "")):
                out.append("")
                out_kinds.append(TEXT)
                run_holds_block = run_quote = run_list = False
        elif starts and out and out[-1] and out_kinds[-1] == FENCE:
            out.append("")  # text or another fence right under a closed code fence
            out_kinds.append(TEXT)
        if kind == TEXT:
            stripped = line.lstrip(" ")
            if not out or not out[-1] or out_kinds[-1] != TEXT:  # the first line of a run
                run_list, run_holds_block, run_quote = _is_item(line), False, False
            run_holds_block = run_holds_block or (
                "|" in line or stripped.startswith("<") or len(line) - len(stripped) > 3
            )
            run_quote = run_quote or stripped.startswith(">")
        out.append(line)
        out_kinds.append(kind)
    return out, out_kinds


def _opens_table(line: str, below: str) -> bool:
    """Is ``line`` the header row of a table, the delimiter row right under it? A table whose header row
    starts with ``|`` interrupts a paragraph (GFM as cmark-gfm reads it: the paragraph ends above the header
    row; one without the leading pipe did not always), and the editor writes a blank line before it."""
    if not _TABLE_ROW.match(line) or "|" not in below or not is_delimiter_row(below):
        return False
    return len(split_cells(line)) == len(split_cells(below))


def _starts_html(line: str) -> bool:
    stripped = line.lstrip(" ")
    return stripped.startswith("<") and len(line) - len(stripped) <= 3


def _closed_below(lines: list[str], kinds: list[str], i: int) -> bool:
    """Is the code fence opened at ``i`` closed? Only the last one can run to the end."""
    fence = fence_of(lines[i])
    j = i + 1
    while j < len(lines) and kinds[j] == FENCE and not (fence and closes_fence(lines[j], fence)):
        j += 1
    return j < len(lines) and kinds[j] == FENCE


def _is_item(line: str) -> bool:
    stripped = line.lstrip(" ")
    return (
        len(line) - len(stripped) <= 3
        and bool(_ITEM.match(stripped) or _ORDERED.match(stripped))
        and not (THEMATIC_BREAK.fullmatch(line))
    )


def _starts_under(above: str, line: str, *, quote_above: bool, in_list: bool) -> bool:
    """Does ``line`` start a block of its own right under ``above``, as it does after a blank line?"""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return False  # indented code after a blank line, a paragraph's continuation without one
    if heading_of(above) is not None or THEMATIC_BREAK.fullmatch(above):
        return True  # a heading or a rule is one line: what follows it is a block of its own
    if heading_of(line) is not None or fence_of(line) is not None:
        return True
    if stripped.startswith(">"):
        return not quote_above  # two quotes would become one
    if THEMATIC_BREAK.fullmatch(line):
        return stripped[0] in "*_"  # ``---`` under text underlines it as a heading
    if _ITEM.match(stripped):
        return True
    ordered = _ORDERED.match(stripped)
    if ordered:
        # Only a list starting at 1 interrupts a paragraph; the next item of a list continues it.
        return ordered.group(1) == "1" or in_list
    return False


# Backslash escapes.

_LINE_START = re.compile(r"(?: {0,3}(?:>[ ]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+))*[ \t]*")
_LIST_MARKER_END = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]+$")
_TASK_BOX = re.compile(r"\[[ xX~]\]")
_REFERENCE_DEFINITION = re.compile(r" {0,3}\[[^\]]+\]:")
_NOT_LINK = ("](", "][", "]:", "[^", "[[", "]]")
_PAIRING = "*_`"  # may pair with another one in the paragraph into emphasis or a code span


def without_needless_escapes(lines: list[str]) -> list[str]:
    """Only the backslashes of ``normal_form`` dropped, but for the run a line starts with (after up to three
    spaces), which the escaping reads: a line Stagegate escaped at its start is read after the editor's
    escapes in it are gone (``\\- \\[x\\] Your proposal`` is ``\\- [x] Your proposal``)."""
    if not any("\\" in line for line in lines) or any(_RUN in line for line in lines):
        return lines
    runs: list[str] = []
    held = []
    for line in lines:
        run = _LEADING_BACKSLASHES.match(line)
        if run:
            runs.append(run.group(1))
            line = line[: run.start(1)] + _RUN + line[run.end() :]
        held.append(line)
    kinds = _kinds(held, "\n".join(held))
    out = _without_needless_escapes(held, [kind == TEXT for kind in kinds])
    if not runs:
        return out
    found = iter(runs)
    return [line.replace(_RUN, next(found), 1) if _RUN in line else line for line in out]


_LEADING_BACKSLASHES = re.compile(r" {0,3}(\\+)")
_RUN = "\ue001"  # stands for the run of backslashes a line starts with


def _without_needless_escapes(lines: list[str], text_lines: list[bool]) -> list[str]:
    """Backslashes dropped where the character after them would be plain text anyway, paragraph by paragraph."""
    out = list(lines)
    # A link reference definition anywhere turns ``[x]`` into a link: brackets then stay escaped.
    brackets = not any(
        is_text and "]:" in line and _REFERENCE_DEFINITION.match(_shown(line) if "\\" in line else line)
        for line, is_text in zip(lines, text_lines, strict=True)
    )
    outside_html = _outside_html_blocks(lines, text_lines)
    i, n = 0, len(lines)
    while i < n:
        if not text_lines[i] or not lines[i]:
            i += 1
            continue
        j = i
        while j < n and text_lines[j] and lines[j]:
            j += 1
        if any("\\" in line for line in lines[i:j]) and all(outside_html[i:j]):
            out[i:j] = _paragraph_without_needless_escapes(lines[i:j], brackets=brackets)
        i = j
    return out


def _outside_html_blocks(lines: list[str], text_lines: list[bool]) -> list[bool]:
    """Text lines, but for those of an HTML block: one opens at a line starting with ``<`` (most may
    interrupt a paragraph) and runs, code fences and all, to the next blank line."""
    out = list(text_lines)
    in_html = False
    for i, line in enumerate(lines):
        if text_lines[i] and not line:
            in_html = False
        elif text_lines[i] and _starts_html(line):
            in_html = True
        if in_html:
            out[i] = False
    return out


def _paragraph_without_needless_escapes(lines: list[str], *, brackets: bool) -> list[str]:
    spans = _held_spans(lines)
    if spans is None:
        return lines
    # An escaped backtick stays wherever another one stands: it may open a code span that another one closes
    # (escaped or not: in a code span a backslash is the author's character), or close one.
    backticks = sum(line.count("`") for line in lines)
    pieces: list[str] = []
    if spans:
        lines, pieces = _hold(lines, spans)
    unescaped = {char: sum(_count_unescaped(line, char) for line in lines) for char in _PAIRING}
    unescaped["`"] += backticks >= 2
    # A link's text may run over lines of its paragraph: brackets stay escaped where one could close into it.
    # (Looked for with every backslash taken out, which dropping some of them does not change: idempotent.)
    plain = "\n".join(lines).replace("\\", "")
    brackets = brackets and not any(mark in plain for mark in _NOT_LINK)
    out = [_line_without_needless_escapes(line, unescaped, brackets=brackets) for line in lines]
    return _release(out, pieces) if spans else out


# Code spans, inline HTML tags and autolinks: what a backslash inside them is, the author's character.
_HELD = "\ue000"  # stands for one of them while the escapes around it are looked at
_TAG_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_ATTRIBUTE = r"""\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?"""
_INLINE_HTML = re.compile(
    rf"<{_TAG_NAME}(?:{_ATTRIBUTE})*+\s*+/?>"
    rf"|</{_TAG_NAME}\s*+>"
    r"|<!--(?:[^-]|-(?!->))*?-->"
    r"|<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>"
)
_BACKTICKS = re.compile(r"`+")


def _held_spans(lines: list[str]) -> list[tuple[int, int]] | None:
    """The spans (offsets into the paragraph's lines joined by newlines) of its code spans and inline HTML;
    None when the paragraph has HTML this does not read (``<?``, ``<!x``): it is left as it is."""
    text = "\n".join(lines)
    if "`" not in text and "<" not in text:
        return []
    if _HELD in text:
        return None
    runs: dict[int, list[int]] = {}  # backtick runs by length: where each starts
    for match in _BACKTICKS.finditer(text):
        runs.setdefault(match.end() - match.start(), []).append(match.start())
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "`":
            end = i
            while end < n and text[end] == "`":
                end += 1
            starts = runs.get(end - i, [])
            closer = bisect_left(starts, end)
            if closer < len(starts):  # the next run of as many backticks closes the span
                close = starts[closer] + end - i
                spans.append((i, close))
                i = close
            else:
                i = end  # no run closes it: the backticks are text
            continue
        if char == "<":
            match = _INLINE_HTML.match(text, i)
            if match:
                spans.append((i, match.end()))
                i = match.end()
                continue
            if text[i + 1 : i + 2] in ("!", "?"):
                return None
        i += 1
    return spans


def _hold(lines: list[str], spans: list[tuple[int, int]]) -> tuple[list[str], list[str]]:
    """The lines with each part of a span on one line written as one ``_HELD`` character, and those parts."""
    text = "\n".join(lines)
    out, pieces, at = [], [], 0
    for start, end in spans:
        out.append(text[at:start])
        parts = text[start:end].split("\n")
        pieces += parts
        out.append("\n".join(_HELD for _ in parts))
        at = end
    out.append(text[at:])
    return "".join(out).split("\n"), pieces


def _release(lines: list[str], pieces: list[str]) -> list[str]:
    """``_hold`` undone (looking at escapes never adds or drops a ``_HELD``)."""
    parts = iter(pieces)
    return [
        "".join(next(parts) if char == _HELD else char for char in line) if _HELD in line else line for line in lines
    ]


def _count_unescaped(line: str, char: str) -> int:
    """How many of ``char`` in the line may pair into emphasis or a code span (an underscore within a word
    never does)."""
    if char not in line:
        return 0
    count = line.count(char) - sum(1 for match in _DROPPABLE.finditer(line) if match.group(1) == char)
    if char == "_":
        count -= len(_INTRAWORD_UNDERSCORE.findall(line))  # after a letter: never escaped
    return count


_INTRAWORD_UNDERSCORE = re.compile(r"(?<=[^\W_])_(?=[^\W_])")


# A backslash escape of a character it may be needless before; the others (``\\(``, ``\\|``, ``\\/``...) never
# match, and since none of them is a backslash, the pairs found are the ones CommonMark reads.
_DROPPABLE = re.compile(r"\\([\\`*_~\[\]#+\-.>:])")


def _line_without_needless_escapes(line: str, unescaped: dict[str, int], *, brackets: bool) -> str:
    if "\\" not in line or not _DROPPABLE.search(line) or line.startswith("    "):
        return line  # nothing to drop, or indented code (where a backslash is the author's character)
    # The line's shape is looked at as it would be without a run of backslashes it starts with (held by
    # ``without_needless_escapes``): the escaping takes one of them out.
    shown = _shown(line.replace(_RUN, "", 1) if _RUN in line else line)
    inner = shown[_LINE_START.match(shown).end() :]  # inside its quote or list item
    if any(THEMATIC_BREAK.fullmatch(text) or _SETEXT_OR_RULE.fullmatch(text.strip()) for text in (shown, inner)):
        return line  # unescaped, the line would be a rule or underline the line above as a heading
    starts = _LINE_START.match(line).end()
    # A task box only after a list marker the line really starts with: after ``\\-`` it is plain text.
    no_links = brackets and not (_LIST_MARKER_END.search(line, 0, starts) and _TASK_BOX.match(_shown(line[starts:])))
    heading = heading_of(inner) is not None  # its ``#`` marks, and a closing run of them, stay escaped
    n = len(line)

    def plain_or_not(match: re.Match) -> str:
        k, escaped = match.start(), match.group(1)
        after = line[k + 2] if k + 2 < n else ""
        if after == "\\" and k + 3 < n and _is_ascii_punctuation(line[k + 3]):
            after = line[k + 3]  # the character shown next is the one escaped there
        plain = _plain_without_backslash(
            escaped,
            line[k - 1] if k else "",
            after,
            raw_after=line[k + 2 : k + 3],
            at_start=k == starts,
            no_links=no_links,
            unescaped=unescaped,
            shown=shown,
            prefix=line[starts:k] if k - starts <= 12 else "",
            heading=heading,
        )
        if not plain:
            return match.group(0)
        before = line[k - 1] if k else ""
        if escaped in unescaped and not (escaped == "_" and _word_char(before) and _word_char(after)):
            unescaped[escaped] += 1  # one more that may pair (an underscore within a word never does)
        return escaped

    return _DROPPABLE.sub(plain_or_not, line)


def _plain_without_backslash(
    escaped: str,
    before: str,
    after: str,
    *,
    raw_after: str,
    at_start: bool,
    no_links: bool,
    unescaped: dict[str, int],
    shown: str,
    prefix: str,
    heading: bool,
) -> bool:
    """Would ``escaped`` read as the same plain character without its backslash, where it stands?"""
    space_after = after in ("", " ", "\t")
    if escaped == "\\":
        # ``\\`` before a letter or a space is one backslash either way; at the line's end it would be a hard
        # break, before punctuation another escape.
        return raw_after not in ("", _HELD) and not _is_ascii_punctuation(raw_after)
    if escaped == "_" and _word_char(before) and _word_char(after):
        return True  # within a word an underscore is never emphasis (``snake_case``)
    if escaped == "*" and at_start and space_after:
        return False  # a bullet
    if escaped == "*" and before in ("", " ", "\t") and space_after and not at_start:
        return True  # between spaces, never emphasis
    if escaped in _PAIRING:
        return unescaped[escaped] == 0  # alone in its paragraph, it has nothing to pair with
    if escaped in "[]":
        return no_links
    if escaped == "~":
        return before != "~" and after != "~"  # ``~~`` is strikethrough, ``~~~`` a fence
    if escaped == "#":
        return not heading and (not at_start or not (space_after or after == "#"))
    if escaped in "-+":
        if at_start:
            return not space_after and not (escaped == "-" and _SETEXT_OR_RULE.fullmatch(shown.strip()))
        return before not in "{[" and after not in "}]"  # GitLab's ``{- deleted -}`` and ``[+ added +]``
    if escaped == ">":
        return not at_start
    if escaped == ".":
        # ``1\\. item`` would be a list item; ``2024\\.`` mid-line or ``1\\.5`` are plain text.
        return not (space_after and before.isdigit() and _ORDERED_NUMBER.fullmatch(prefix))
    return escaped == ":" and before != "]"  # ``[x]:`` would define a link


_SETEXT_OR_RULE = re.compile(r"-+|(?:-[ \t]*){3,}")
_ORDERED_NUMBER = re.compile(r"\d{1,9}")


_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _shown(line: str) -> str:
    """The line with its backslash escapes taken out, as GitLab shows it (code spans aside)."""
    return _ESCAPE.sub(r"\1", line) if "\\" in line else line


def _word_char(char: str) -> bool:
    return char.isalnum()  # as ``[^\W_]``: a letter or digit of any script


def _is_ascii_punctuation(char: str) -> bool:
    return char.isascii() and not char.isalnum() and not char.isspace() and char.isprintable()
