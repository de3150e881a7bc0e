"""A proposal as its GitLab issue body, and any filled-in issue body back as a proposal.

``render(content) -> str`` writes the issue description in the shape of the content's template definition;
``parse(markdown) -> ParseResult`` reads an issue written from any of the five template versions back.
Both speak ``ProposalContent``, a plain frozen snapshot, so ``render(parse(m).content)`` works without the
database. This package does no I/O and touches no database: ``proposals.content`` turns a saved
``Proposal`` into content.

    lines      line shapes, and ``LineWalker``: which lines stand in a code fence or an HTML comment
    normal     one Markdown spelling (``_`` emphasis, ``-`` bullets, aligned tables, ``\\`` hard breaks)
    known      what the template versions themselves say (headings, prompts, items, hint comments)
    answers    where an answer starts: a prompt on its line, ``Answer:`` markers, a lone list marker
    items      which checklist item a task line is, reworded a little or not
    escaping   how answers are escaped so that no line reads as the template's structure, and back
    anchors    where kept blocks stand, and how to name that place to people
    document   ``ProposalContent`` and ``canonical``
    render     content -> issue body
    detect     which template version a body was written from
    inline     links, table cells and confidence values inside a line
    parse      issue body -> ``ParseResult``
"""

from proposals.markdown.anchors import START, anchor_label, anchor_order
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
    text_field_names,
)
from proposals.markdown.parse import ParseResult, parse
from proposals.markdown.render import render, render_persona

__all__ = [
    "CONFIDENCE_LEVELS",
    "START",
    "KeptBlock",
    "Link",
    "OrrAnswer",
    "ParseResult",
    "PersonaMention",
    "ProposalContent",
    "anchor_label",
    "anchor_order",
    "canonical",
    "canonical_text",
    "detect_version",
    "parse",
    "render",
    "render_persona",
    "text_field_names",
]
