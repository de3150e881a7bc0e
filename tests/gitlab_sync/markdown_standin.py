"""A minimal render/parse pair with the interface of ``proposals.markdown``.

Used by the sync tests only while ``proposals.markdown`` has not landed, so the
sync can be tested on its own. Headings name fields; ``- [ ]`` lines are
checklist items; unknown headings are kept blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from proposals.template import NEEDS_FIELDS, Kind


@dataclass
class ParseResult:
    fields: dict = field(default_factory=dict)
    checklist: dict = field(default_factory=dict)
    requirements: list = field(default_factory=list)
    research_links: list = field(default_factory=list)
    confidence: str = ""
    kept_blocks: list = field(default_factory=list)


def _text_fields():
    from proposals.template import get_definition

    names = [(f.name, f.heading) for f in get_definition().fields if f.kind in (Kind.TEXT, Kind.PERSONAS)]
    return names + list(NEEDS_FIELDS.items())


def render(proposal) -> str:
    out = []
    for name, heading in _text_fields():
        out += [f"### {heading}", "", proposal.field_value(name) or "_prompt_", ""]
    out += ["### Confidence", "", proposal.confidence or "_prompt_", ""]
    out += ["### Requirements", ""] + [f"1. {r.text}" for r in proposal.requirements.all()] + [""]
    out += ["### Research", ""] + [f"- [{link.title}]({link.url})" for link in proposal.research_links.all()] + [""]
    out += ["### Checklist", ""]
    out += [f"- [{'x' if i.checked else ' '}] {i.stage}:{i.key}" for i in proposal.checklist_items.all()]
    for block in proposal.kept_blocks or []:
        out += ["", block]
    return "\n".join(out).rstrip() + "\n"


def parse(markdown: str) -> ParseResult:
    by_heading = {heading: name for name, heading in _text_fields()}
    result = ParseResult()
    sections = re.split(r"^### ", markdown.replace("\r\n", "\n"), flags=re.M)
    for section in sections[1:]:
        heading, _, body = section.partition("\n")
        body = body.strip("\n")
        if heading in by_heading:
            result.fields[by_heading[heading]] = "" if body == "_prompt_" else body
        elif heading == "Confidence":
            result.confidence = "" if body == "_prompt_" else body
        elif heading == "Requirements":
            result.requirements = [line[3:] for line in body.splitlines() if line.startswith("1. ")]
        elif heading == "Research":
            result.research_links = re.findall(r"^- \[(.*?)\]\((.*?)\)", body, flags=re.M)
        elif heading == "Checklist":
            chunks = body.split("\n\n", 1)
            for m in re.finditer(r"^- \[([ xX])\] (\S+)$", chunks[0], flags=re.M):
                result.checklist[m.group(2)] = m.group(1) != " "
            if len(chunks) > 1:
                result.kept_blocks = [b for b in chunks[1].split("\n\n") if b.strip()]
        else:
            result.kept_blocks.append(f"### {section}".strip("\n"))
    return result
