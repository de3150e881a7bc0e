"""Anchors: where in the template a kept block stands.

Every node of a definition has one: a field's is its name; a heading's ``heading:<slug>``; the
resources after a heading ``boilerplate:<slug of that heading>``; a checklist's ``checklist:<stage>``
and each of its groups ``checklist:<stage>:<slug>``. ``START`` is the top of the issue, before the
template's first heading. ``item:<stage>:<key>`` holds no block but the author's own wording of that
checklist item (``items.item_for_wording``), written in the item's place. The ids are stored with kept
blocks; show people ``anchor_label`` instead.
"""

from __future__ import annotations

from functools import cache

from proposals.markdown.lines import norm
from proposals.template import Boilerplate, Checklist, ChecklistGroup, Field, Heading, get_definition

START = ""


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


ITEM_PREFIX = "item:"


def item_anchor(stage: str, key: str) -> str:
    return f"{ITEM_PREFIX}{stage}:{key}"


def item_of_anchor(anchor: str) -> tuple[str, str] | None:
    """(stage, key) of an item anchor, else None."""
    if not anchor.startswith(ITEM_PREFIX):
        return None
    stage, _, key = anchor.removeprefix(ITEM_PREFIX).partition(":")
    return (stage, key) if key else None


@cache
def anchor_order(version: str) -> dict[str, int]:
    """Every anchor of a definition, in the order the renderer writes its blocks."""
    definition = get_definition(version)
    order = [START]
    for node, anchor in zip(definition.body, node_anchors(version), strict=True):
        if isinstance(node, Checklist):
            for group in node.groups:
                order += [item_anchor(node.stage.value, item.key) for item in group.items]
                order.append(group_anchor(node, group))
        order.append(anchor)
    return {anchor: position for position, anchor in enumerate(order)}


def anchor_label(version: str, anchor: str) -> str:
    """Where a kept block stands, in the template's words ("after Success")."""
    if anchor == START:
        return "at the top, before the template"
    definition = get_definition(version)
    for node, node_anchor in zip(definition.body, node_anchors(version), strict=True):
        if isinstance(node, Checklist):
            for item in node.items:
                if item_anchor(node.stage.value, item.key) == anchor:
                    return f"the wording of “{_plain(item.text)}” in the {node.heading.text} checklist"
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
