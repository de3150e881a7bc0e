"""Which template version an issue body was written from: the one whose headings, task items (reworded a
little or not), template lines and hint comments the body shares most of."""

from __future__ import annotations

from functools import cache, lru_cache

from proposals.markdown.items import item_for_wording
from proposals.markdown.known import DROP, NORMAL, all_item_texts, scan
from proposals.markdown.lines import heading_of, norm, strip_details, task_item
from proposals.template import (
    DEFAULT_VERSION,
    DEFINITIONS,
    TEMPLATE_COMMENTS,
    Boilerplate,
    Checklist,
    Field,
    Heading,
)


@cache
def _signatures() -> dict[str, frozenset[tuple]]:
    """Per version: the heading texts and levels, task items and template lines that mark it."""
    signatures = {}
    for version, d in DEFINITIONS.items():
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
            keys.update(("c", " ".join(text.split())) for text in TEMPLATE_COMMENTS)
        signatures[version] = frozenset(keys)
    return signatures


@lru_cache(maxsize=4096)
def _reworded_item_texts(text: str) -> frozenset[str]:
    """The template texts (as ``norm`` has them) of the items, in any version, that a reworded task is."""
    found = set()
    for version, definition in DEFINITIONS.items():
        for checklist in definition.checklists:
            key = item_for_wording(version, checklist.stage.value, text)
            if key is not None:
                found.add(norm(next(item.text for item in checklist.items if item.key == key)))
    return frozenset(found)


def detect_version(lines: list[str], states: list[int] | None = None) -> str:
    """The template version whose headings, items and template lines the body shares most of."""
    states = states if states is not None else scan(lines)
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
            words = norm(task[1])
            seen.add(("t", words))
            if words not in all_item_texts():
                seen.update(("t", text) for text in _reworded_item_texts(task[1]))
            continue
        seen.add(("l", norm(strip_details(line))))
    best, best_key = DEFAULT_VERSION, None
    for version, keys in _signatures().items():
        matched = len(keys & seen)
        key = (matched, -(len(keys) - matched), version == DEFAULT_VERSION)
        if best_key is None or key > best_key:
            best, best_key = version, key
    return best if best_key and best_key[0] else DEFAULT_VERSION
