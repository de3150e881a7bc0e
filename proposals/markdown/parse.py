"""``parse(markdown) -> ParseResult``: an issue written from any of the five template versions, read back.

The result holds the detected version, the content, which fields were found, left empty or missing,
persona mentions, and the quick actions left in the body. Whatever the parser does not understand is kept
as a ``KeptBlock`` anchored to the template section it stood in or after, and written back there; only the
template's own text (its headings, prompts, hint comments, unticked items) is ever left out. It never
raises, and its time is linear in the input.

The parser reads lines, tracking code fences and HTML comments as GitLab does (``lines.LineWalker``:
nothing inside them is structure). It first tells the template version from the headings, items, lines
and hint comments the body shares with each (``detect``). Then headings anywhere (any level, any case,
with or without links, emoji or a trailing colon) are matched to the definition's headings by their text;
when a text occurs more than once in a definition (v5's three "Assumption"s) the first unused one at the
same level after the last match wins. An unknown heading at or above the level of the section it
interrupts, or any heading of another template version, starts a block the parser keeps, anchored to the
section before it; a second copy of a section is kept right after the first. Inside a section, each kind
of field reads what it understands; every other line is kept, anchored to that section. A requirement runs
on over indented lines and lazy continuation lines, up to a line that starts a block of its own (a heading,
a code fence, a quote, a rule), as in GitLab. Kept Markdown is read with one blank line between its blocks,
as the rich-text editor writes it, so the paragraphs of template text left out of it are the same however
it was typed. An answer's first
line is read as people write answers: the prompt with the answer after it, ``**Our answer:**``, a lone list
marker (``answers``); an ORR area's answer may stand on the area's line, its title cut short. Checklist
items match by their text, by the text another version gives the same item, or reworded a little
(``items``: the author's wording is kept as the item's own kept block and written back in its place).
Each step looks at each line a fixed number of times, without backtracking regular expressions: time is
linear in the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache

from proposals.markdown.anchors import START, group_anchor, item_anchor, node_anchors
from proposals.markdown.answers import answer_head, prompt_end, prompt_match
from proposals.markdown.detect import detect_version
from proposals.markdown.document import (
    CONFIDENCE_LEVELS,
    KeptBlock,
    Link,
    OrrAnswer,
    PersonaMention,
    ProposalContent,
    canonical,
    canonical_text,
    same_lines,
    text_field_names,
)
from proposals.markdown.escaping import (
    STATUS_PREFIX,
    Context,
    answer_context,
    answer_text_context,
    field_context,
    kept_context,
    needs_context,
    unescape_inline,
    unescape_item,
    unescape_lines,
)
from proposals.markdown.inline import (
    confidence_value,
    persona_of,
    research_links_of,
    whole_link_bullet,
)
from proposals.markdown.items import item_for_wording
from proposals.markdown.known import (
    DROP,
    NORMAL,
    alias,
    all_area_lines,
    all_known_headings,
    area_guidance,
    area_titles,
    boilerplate_lines,
    heading_is_known,
    is_template_line,
    item_notes,
    needs_field,
    requirement_notes,
    scan,
    trailer_lines,
)
from proposals.markdown.lines import (
    AREA_LINE,
    BULLET,
    QUICK_ACTION,
    THEMATIC_BREAK,
    dedent,
    fence_of,
    heading_of,
    is_delimiter_row,
    is_details_line,
    italic_norm,
    norm,
    split_cells,
    strip_details,
    task_item,
)
from proposals.markdown.normal import blank_lines_between_blocks
from proposals.template import (
    DEFINITIONS,
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

UNKNOWN = -1  # a section that starts at an unknown heading


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
    states = scan(lines)
    end, actions = _strip_trailer(lines, states)
    detected = version if version in DEFINITIONS else detect_version(lines[:end], states)
    return _Reader(lines[:end], states[:end], get_definition(detected), tuple(personas), actions).read()


def _strip_trailer(lines: list[str], states: list[int]) -> tuple[int, list[str]]:
    """Where the body ends before the template's closing quick actions and links; the quick actions."""
    trailer = trailer_lines()
    end = len(lines)
    actions: list[str] = []
    while end > 0:
        line, state = lines[end - 1], states[end - 1]
        if state == DROP or not line.strip():
            end -= 1
        elif state == NORMAL and QUICK_ACTION.match(line):
            actions.append(line.strip())
            end -= 1
        elif state == NORMAL and norm(line) in trailer:
            end -= 1
        else:
            break
    return end, actions[::-1]


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
        self.inapplicable: set[tuple[str, str]] = set()
        self.seen_items: set[tuple[str, str]] = set()
        self.orr_answers: dict[str, list[str]] = {}
        self.orr_status: dict[str, str] = {}
        self.kept: list[KeptBlock] = []
        self.seen: set[tuple[str, bool]] = set()  # texts this parse made canonical (``canonical`` has them again)
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
                key = alias(text)
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
                    nodes = [n for n in index.get(alias(head), ()) if isinstance(self.d.body[n], Field)]
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
                elif heading_is_known(text, all_known_headings()) or level <= current.level:
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
        text = canonical_text("\n".join(unescape_lines(lines, kept_context())), kept=True, seen=self.seen)
        if text:
            self.kept.append(KeptBlock(anchor, text))

    def _read_loose(self, section: _Section, *, top: bool) -> None:
        kept = []
        for line, state in section.lines:
            if state == DROP:
                continue
            if top and state == NORMAL and QUICK_ACTION.match(line):
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
        known = boilerplate_lines()
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
                if QUICK_ACTION.match(line):
                    self.actions.append(line.strip())
                    continue
                if norm(line) in trailer_lines():
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
                    self._mark(key, task[0])
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

    def _context(self, f: Field, level: int) -> Context:
        return _field_context_at(f, level)

    def _read_text(self, f: Field, lines: list[tuple[str, int]], level: int) -> None:
        context = _text_context_at(f, level)
        body: list[str] = []
        for line, state in lines:
            if state == NORMAL and context.prompts and italic_norm(line) in context.prompts:
                continue
            if f.kind == Kind.PERSONAS and state == NORMAL and (link := whole_link_bullet(line)):
                self.tags.append(persona_of(*link))
                continue
            body.append(line)
        body = answer_head(body, context.head)
        text = canonical_text("\n".join(unescape_lines(body, context)), seen=self.seen)
        if f.level == 0 and same_lines(text, f.notes):
            text = ""
        if text:
            self.fields[f.name] = text

    def _read_requirements(self, f: Field, lines: list[tuple[str, int]], level: int) -> None:
        context = self._context(f, level)
        notes = {norm(line) for line in f.notes} | requirement_notes()
        items: list[list[str]] = []  # first line, then continuation lines as they stand
        kept: list[str] = []
        open_item = False
        for line, state in lines:
            if open_item and line.startswith(("  ", "\t")) and line.strip():
                items[-1].append(line)  # a continuation line, whatever it looks like
                continue
            if open_item and _starts_block(line):
                open_item = False  # not a lazy continuation: the block ends the list, as in GitLab
            if state == NORMAL:
                if not line.strip():
                    open_item = False
                    kept.append(line)
                    continue
                bullet = BULLET.match(line)
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
            if not in_table and "|" in stripped and i < len(lines) and is_delimiter_row(lines[i][0]):
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
        value, clean = confidence_value(unescape_inline(cells[0]) if cells else "")
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
            value, clean = confidence_value(words[len("confidence") :])
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
        needs_of = {id(g): needs_field(g) for g in checklist.groups}
        notes = item_notes()
        area_lines = all_area_lines()
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
                if (
                    needs_name
                    and indent >= 2
                    and needs.get(needs_name) is not None
                    and not self._reads_as_item(checklist, line)  # a copy of an item, kept next to it
                ):
                    needs[needs_name].append(line)
                    continue
                if is_details_line(line):
                    if "</details>" in stripped.lower():
                        area = None
                    continue
                title = titles.get(norm(strip_details(line)))
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
                            self.orr_answers[area].append(after_area_title(line, self.d, area))
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
            lines = answer_head(lines, ())
            text = "\n".join(dedent(line, 2) for line in unescape_lines(lines, needs_context(section.level)))
            if text := canonical_text(text, seen=self.seen):
                self.fields[name] = text
            self.present.add(name)
        for anchor, lines in kept.items():
            self._keep(anchor, lines)
        if areas_group is not None:
            self.answer_level = section.level

    def _match_item(self, checklist: Checklist, group: ChecklistGroup, task, own_keys: set[str]):
        """(the item's group, True) for the first template item with this text not read yet (its own
        group first); (the item's group, False) when it was read already; (None, False) for no item."""
        mark, text, _ = task
        candidates = _items_by_text(self.d.version, checklist.stage.value).get(norm(text), ())
        if not candidates:
            return self._match_reworded_item(checklist, task)
        wanted = norm(text)
        last_owner = None
        for owner_group, item in sorted(candidates, key=lambda pair: pair[0] is not group):
            if norm(item.text) != wanted and item.key in own_keys:
                continue  # this version's own words for the item are in the issue too: they count
            key = (checklist.stage.value, item.key)
            if key not in self.seen_items:
                self.seen_items.add(key)
                self._mark(key, mark)
                return owner_group, True
        # A copy is kept after the last item with its text (template order), where it reads as a copy again.
        for owner_group, item in candidates:
            if not (norm(item.text) != wanted and item.key in own_keys):
                last_owner = _later_group(checklist, last_owner, owner_group)
        return last_owner, False

    def _reads_as_item(self, checklist: Checklist, line: str) -> bool:
        """Is this a task line with one of the checklist's items' texts, exactly or reworded a little?"""
        task = task_item(line)
        if task is None:
            return False
        stage = checklist.stage.value
        return norm(task[1]) in _items_by_text(self.d.version, stage) or (
            item_for_wording(self.d.version, stage, task[1]) is not None
        )

    def _match_reworded_item(self, checklist: Checklist, task):
        """``_match_item`` for an item the author reworded a little; the wording is kept for the item."""
        mark, text, _ = task
        stage = checklist.stage.value
        found = item_for_wording(self.d.version, stage, text)
        if found is None:
            return None, False
        owner = next(group for group in checklist.groups if any(item.key == found for item in group.items))
        key = (stage, found)
        if key in self.seen_items:
            return owner, False
        self.seen_items.add(key)
        self._mark(key, mark)
        self.kept.append(KeptBlock(item_anchor(stage, found), text))
        return owner, True

    def _mark(self, key: tuple[str, str], mark: str) -> None:
        if mark == "x":
            self.checked.add(key)
        elif mark == "~":
            self.inapplicable.add(key)

    def _area_line(self, line: str) -> tuple[str, bool] | None:
        return area_line(line, self.d)

    # the result

    def _result(self) -> ParseResult:
        level = getattr(self, "answer_level", 3)
        orr = {}
        for key, lines in self.orr_answers.items():
            lines = answer_head(lines, ())
            text = "\n".join(dedent(line, 3) for line in unescape_lines(lines, answer_context(level)))
            orr[key] = OrrAnswer(canonical_text(text, seen=self.seen), self.orr_status.get(key, ""))
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
                inapplicable=frozenset(self.inapplicable),
                orr=orr,
                kept_blocks=tuple(self.kept),
            ),
            seen=self.seen,
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
def _field_context_at(f: Field, level: int) -> Context:
    base = field_context(f)
    return Context(level=level, prompts=base.prompts, extra=base.extra)


@cache
def _text_context_at(f: Field, level: int) -> Context:
    return replace(_field_context_at(f, level), head=answer_text_context(f).head)


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
            index.setdefault(alias(node.text), []).append(i)
            levels[i] = node.level
        elif isinstance(node, Field):
            if node.level:
                index.setdefault(alias(node.heading), []).append(i)
                levels[i] = node.level
            else:
                captions[norm(node.heading)] = i
            if node.list_heading:
                lists.setdefault(alias(node.list_heading.text), []).append(i)
                list_levels[i] = node.list_heading.level
        elif isinstance(node, Checklist):
            index.setdefault(alias(node.heading.text), []).append(i)
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
    for other in DEFINITIONS.values():
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
    The title may be bold or not, numbered or not, cut short (``Work estimate and skills…:``); the
    template's guidance after it may be cut short (``…``) or worded as in another version."""
    head = _area_head(line, definition)
    if head is None:
        return None
    key, rest = head
    title = next(title for area_key, title in area_titles(definition.version) if area_key == key)
    words = norm(rest)
    guidance = area_guidance().get(title, ())
    cut_short = line.rstrip().endswith(("...", "…"))
    return key, not words or words in guidance or (cut_short and any(g.startswith(words) for g in guidance))


def after_area_title(line: str, definition: TemplateDefinition, key: str) -> str:
    """``2. **Data Limitation:** our answer`` -> ``our answer``; the whole line when the title is worded
    otherwise."""
    head = _area_head(line, definition)
    if head is None or head[0] != key or not head[1]:
        return line
    return head[1]


def _area_head(line: str, definition: TemplateDefinition) -> tuple[str, str] | None:
    """(area key, what follows the title) of a line that starts with an ORR area's title."""
    titles = area_titles(definition.version)
    match = prompt_match(line, tuple(title for _, title in titles))
    if match is not None:
        return titles[match[0]][0], match[1]
    numbered = AREA_LINE.match(line)
    if not numbered:
        return None
    for key, title in titles:  # "3. Model Limitation we would fine-tune": no colon, still the area's line
        end = prompt_end(line, title)
        if end is not None:
            return key, line[end:].lstrip(" \t:*_").strip()
    return None


@cache
def _own_item_texts(version: str, stage: str) -> dict[str, tuple[str, ...]]:
    """A checklist's item keys by the text this version gives them."""
    checklist = next(c for c in get_definition(version).checklists if c.stage.value == stage)
    keys: dict[str, list[str]] = {}
    for item in checklist.items:
        keys.setdefault(norm(item.text), []).append(item.key)
    return {text: tuple(found) for text, found in keys.items()}


def _later_group(checklist: Checklist, a: ChecklistGroup | None, b: ChecklistGroup) -> ChecklistGroup:
    if a is None:
        return b
    groups = list(checklist.groups)
    return b if groups.index(b) > groups.index(a) else a


def _choose(candidates: list[int], last: int, level: int, levels: dict[int, int]) -> int:
    """The section a heading names: the first one after the last match at the same level, else any at the
    same level, else the first one after the last match, else the first."""
    after = [n for n in candidates if n > last]
    same = [n for n in candidates if levels.get(n) == level]
    for pool in ([n for n in after if n in same], same, after, candidates):
        if pool:
            return pool[0]
    return candidates[0]


def _starts_block(line: str) -> bool:
    """Does the (unindented) line start a block that ends a paragraph above it, so that it cannot be a lazy
    continuation of a list item: a heading, a code fence, a quote or a rule?"""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return False
    return (
        stripped.startswith(">")
        or heading_of(line) is not None
        or fence_of(line) is not None
        or (stripped[:1] in ("*", "-", "_") and THEMATIC_BREAK.fullmatch(line) is not None)
    )


def _status_of(line: str) -> str:
    """The review status of a ``_Review status: …_`` line indented at most three spaces, else ""."""
    if len(line) - len(line.lstrip(" ")) > 3:
        return ""
    stripped = line.strip()
    prefix = STATUS_PREFIX.strip()
    if stripped.startswith(prefix) and stripped.endswith("_") and len(stripped) > len(prefix):
        return stripped[len(prefix) : -1].strip()
    return ""


def _without_template_paragraphs(lines: list[str]) -> list[str]:
    """Drop the paragraphs (runs between blank lines, outside code) made only of template text, but for
    those with a heading that answers follow: the heading still says where those answers belong."""
    states = scan(lines)
    # An unticked template item says nothing; the rest is read in paragraphs as the rich-text editor writes
    # them, one blank line between blocks.
    unticked = [
        state == NORMAL and task_item(line) is not None and is_template_line(line)
        for line, state in zip(lines, states, strict=True)
    ]
    if any(unticked):
        lines = [line for line, drop in zip(lines, unticked, strict=True) if not drop]
    lines = blank_lines_between_blocks(lines)
    states = scan(lines)
    paragraphs: list[tuple[list[str], bool, bool]] = []  # lines (blank lines after it included), template, heading
    current: list[str] = []
    template, heading = True, False
    for line, state in zip(lines, states, strict=True):
        if state == NORMAL and not line.strip():
            current.append(line)
            continue
        if current and current[-1].strip() == "" and any(entry.strip() for entry in current):
            paragraphs.append((current, template, heading))
            current, template, heading = [], True, False
        current.append(line)
        template = template and state == NORMAL and is_template_line(line)
        heading = heading or (state == NORMAL and heading_of(line) is not None)
    paragraphs.append((current, template, heading))
    kept: list[list[str]] = []
    answers_follow = False
    for block, template, heading in reversed(paragraphs):
        if not template or (heading and answers_follow):
            kept.append(block)
        answers_follow = answers_follow or not template
    return [line for block in reversed(kept) for line in block]


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
