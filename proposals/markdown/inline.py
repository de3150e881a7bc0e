"""What the parser reads inside a line: links, persona mentions, table cells, research links, a
confidence value. Each reader walks its text once, without backtracking regular expressions."""

from __future__ import annotations

from proposals.markdown.document import CONFIDENCE_LEVELS, Link, PersonaMention
from proposals.markdown.escaping import autolinkable, unescape_inline
from proposals.markdown.lines import BULLET, BULLET_LINK, is_escaped, norm


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


def whole_link_bullet(line: str) -> tuple[str, str] | None:
    """(raw link text, destination) of a bullet that is one link and nothing else."""
    match = BULLET.match(line)
    if not match or not BULLET_LINK.match(line):
        return None
    rest = line[match.end() :].rstrip()
    link = parse_link(rest, 0)
    if link is None or link[2] != len(rest):
        return None
    return link[0], link[1]


def persona_of(raw: str, url: str) -> PersonaMention:
    """``Name (Role)`` with the role's brackets unescaped, the name's own brackets escaped."""
    if raw.endswith(")") and not is_escaped(raw, len(raw) - 1):
        depth, i = 0, len(raw) - 1
        while i >= 0:
            ch = raw[i]
            if ch in "()" and not is_escaped(raw, i):
                depth += 1 if ch == ")" else -1
                if depth == 0:
                    break
            i -= 1
        if i > 0 and raw[i - 1] == " ":
            return PersonaMention(unescape_inline(raw[: i - 1]).strip(), unescape_inline(raw[i + 1 : -1]).strip(), url)
    return PersonaMention(unescape_inline(raw).strip(), "", url)


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
            if close == -1 or not autolinkable(candidate):
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


def confidence_value(text: str) -> tuple[str, bool]:
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
