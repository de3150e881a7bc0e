"""Where an answer starts: the template's prompt, an answer marker or a lone list marker left out.

People answer where they stand: on the prompt's own line (``_What user problem will this solve?_ Squash
commits…``, ``**Work estimate and skills…:** 2 BE``), after a marker (``**Our answer:**``, ``Answer:``,
``A:``), or as a one-item list (``   - the answer``). ``answer_head`` reads the first line of an answer
that way; the escaping gives a backslash to an answer's first line that would read so, which is how a
Stagegate answer that really starts with ``Answer:`` comes back whole. Each function looks at each line a
fixed number of times: a prompt is matched word by word against a bounded prefix of the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from proposals.markdown.lines import task_item

_LIST_MARKER = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+")
_LONE_BULLET = re.compile(r"( {0,3})[-*+][ \t]+")
_TOKEN = re.compile(r"(?:[^\W_]|/)+")
_MARKER_WORDS = frozenset({"answer", "our answer", "my answer", "a", "response", "our response", "reply"})
_TERMINATORS = "?!.:…"
_DASHES = ("-", "–", "—")
PROMPT_SCAN = 400  # characters of a line a prompt is looked for in: the longest prompt with its link


def _opener(text: str, i: int) -> str:
    """The emphasis run (``*``, ``**``, ``_``, ``__``, ``***``) at ``i``."""
    j = i
    while j < len(text) and j - i < 3 and text[j] == text[i] and text[j] in "*_":
        j += 1
    return text[i:j]


def _start(line: str) -> tuple[int, str] | None:
    """Where the words of a head line start (after indentation, a list marker, emphasis), and the emphasis."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or stripped.startswith("\\"):
        return None  # indented code, or escaped: an answer that only looks like a prompt
    i = len(line) - len(stripped)
    marker = _LIST_MARKER.match(line)
    if marker and task_item(line) is None:
        i = marker.end()
    if i < len(line) and line[i] == "\\":
        return None
    opener = _opener(line, i)
    return i + len(opener), opener


def _link_targets(text: str) -> list[tuple[int, int]]:
    spans, i = [], 0
    while (j := text.find("](", i)) != -1:
        close = text.find(")", j + 2)
        if close == -1:
            break
        spans.append((j + 1, close + 1))
        i = close + 1
    return spans


def _words(text: str, start: int):
    """(word as ``norm`` has it, end offset) of the words from ``start``, link targets aside."""
    limit = min(len(text), start + PROMPT_SCAN)
    spans = _link_targets(text[:limit])
    for match in _TOKEN.finditer(text, start, limit):
        if any(a <= match.start() < b for a, b in spans):
            continue
        yield match.group().casefold(), match.end()


def _after_words(line: str, end: int, opener: str, *, cut_short: bool) -> str | None:
    """The rest of the line after a prompt's last word: its ``?``/``:``, the closing emphasis, a dash.
    None when the prompt is not closed there (a plain prompt needs a ``?``, ``:``, ``…`` or dash)."""
    n, j = len(line), end
    if cut_short:
        while j < n and line[j] in ",;":
            j += 1
        if line.startswith("...", j):
            j += 3
        elif line.startswith("…", j):
            j += 1
        else:
            return None
    while j < n and line[j] in _TERMINATORS:
        j += 1
    closed = j > end
    if opener:
        if not line.startswith(opener[::-1], j):
            return None
        j += len(opener)
        closed = True
        while j < n and line[j] in _TERMINATORS:
            j += 1
    rest = line[j:]
    if rest.strip()[:1] in _DASHES and rest[:1] in " \t":
        rest, closed = rest.strip()[1:], True
    if not closed or (rest and rest[0] not in " \t"):
        return None
    return rest.lstrip(" \t")  # trailing spaces may be a hard break


def prompt_rest(line: str, prompts: Iterable[str]) -> str | None:
    """The rest of a line that starts with one of ``prompts`` (normalised, as ``norm`` gives them), in
    italics, bold or plain, after a list marker or not, whole or cut short with an ellipsis; else None.
    A prompt cut short must be the start of exactly one of the prompts."""
    match = prompt_match(line, tuple(prompts))
    return match[1] if match else None


@lru_cache(maxsize=8192)  # the template's own lines come back in every issue
def prompt_match(line: str, prompts: tuple[str, ...]) -> tuple[int, str] | None:
    """(index of the prompt in ``prompts``, the rest of the line): see ``prompt_rest``."""
    start = _start(line)
    if start is None or not prompts:
        return None
    i, opener = start
    first = _TOKEN.search(line, i, i + PROMPT_SCAN)
    if first is None or first.group().casefold() not in _first_words(prompts):
        return None
    longest = max(len(prompt.split()) for prompt in prompts)
    words = []
    for word in _words(line, i):
        words.append(word)
        if len(words) > longest:
            break
    if not words:
        return None
    short: list[tuple[int, str]] = []
    for index, prompt in enumerate(prompts):
        wanted = prompt.split()
        count = 0
        while count < len(wanted) and count < len(words) and words[count][0] == wanted[count]:
            count += 1
        if wanted and count == len(wanted):
            rest = _after_words(line, words[count - 1][1], opener, cut_short=False)
            if rest is not None:
                return index, rest
        if count >= 2:
            rest = _after_words(line, words[count - 1][1], opener, cut_short=True)
            if rest is not None:
                short.append((index, rest))
    return short[0] if len(short) == 1 else None


def prompt_end(line: str, prompt: str) -> int | None:
    """Where the words of ``prompt`` end when the line starts with them (after a list marker and
    emphasis), however the line goes on; else None."""
    start = _start(line)
    wanted = prompt.split()
    if start is None or not wanted:
        return None
    for count, (word, end) in enumerate(_words(line, start[0]), start=1):
        if word != wanted[count - 1]:
            return None
        if count == len(wanted):
            return end
    return None


@lru_cache(maxsize=64)
def _first_words(prompts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(prompt.split()[0] for prompt in prompts if prompt.split())


@lru_cache(maxsize=8192)
def marker_rest(line: str) -> str | None:
    """The rest of a line that starts with an answer marker (``**Our answer:**``, ``Answer:``, ``A:``),
    else None. A marker needs its colon, or emphasis and nothing after it."""
    start = _start(line)
    if start is None:
        return None
    i, opener = start
    n = len(line)
    j = i
    while j < n and (line[j].isalpha() or line[j] == " ") and j - i < 20:
        j += 1
    phrase = " ".join(line[i:j].split()).casefold()
    if phrase not in _MARKER_WORDS:
        return None
    j = i + len(line[i:j].rstrip())
    colon = line.startswith(":", j)
    j += colon
    if opener:
        if not line.startswith(opener[::-1], j):
            return None
        j += len(opener)
        if not colon and line.startswith(":", j):
            colon, j = True, j + 1
    rest = line[j:]
    if rest and rest[0] not in " \t":
        return None
    if not colon and not (opener and not rest.strip()):
        return None
    return rest.lstrip(" \t")


def lone_item(lines: list[str]) -> list[str] | None:
    """The lines of an answer written as a one-item list, without its marker; None for anything else
    (a real list of several items stays a list)."""
    first = next((i for i, line in enumerate(lines) if line and not line.isspace()), None)
    if first is None:
        return None
    line = lines[first]
    match = _LONE_BULLET.match(line)
    if not match or task_item(line) is not None or not line[match.end() :].strip():
        return None
    indent, column = len(match.group(1)), match.end()
    rest = lines[first + 1 :]
    after_blank = False
    for later in rest:
        if not later.strip():
            after_blank = True
            continue
        if len(later) - len(later.lstrip(" ")) <= indent and (after_blank or _starts_block(later)):
            return None  # another item, or a paragraph after the list
    return [*lines[:first], line[column:], *(_dedent(later, column) for later in rest)]


def _starts_block(line: str) -> bool:
    """Does this line start a block of its own (so it cannot continue a list item's paragraph lazily)?"""
    # An escaped line counts as the line it stands for, so that the escaping cannot change the answer.
    stripped = line.lstrip(" ").lstrip("\\")
    return bool(
        _LIST_MARKER.match(stripped) or stripped.startswith(("#", ">", "|", "```", "~~~", "<", "---", "***", "___"))
    )


def _dedent(line: str, width: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, width) :]


def answer_head(lines: list[str], prompts: Iterable[str]) -> list[str]:
    """An answer's lines, its first line read as people write it (see the module's docstring)."""
    prompts = tuple(prompts)
    lines = list(lines)
    for _ in range(3):  # a prompt, then a marker, on one line or on lines of their own
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            return lines
        rest = prompt_rest(lines[first], prompts)
        if rest is None:
            rest = marker_rest(lines[first])
        if rest is None:
            break
        lines[first : first + 1] = [rest] if rest.strip() else []
    return lone_item(lines) or lines


def head_changes(line: str, following: list[str], prompts: Iterable[str]) -> bool:
    """Would ``answer_head`` read this first line of an answer as anything but the answer's own text?"""
    if not line.strip():
        return False
    if prompt_match(line, tuple(prompts)) is not None or marker_rest(line) is not None:
        return True
    return _LONE_BULLET.match(line) is not None and lone_item([line, *following]) is not None
