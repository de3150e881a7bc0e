"""Hypothesis strategies: proposal content and Markdown made of what trips template parsers up."""

from hypothesis import strategies as st

from proposals import markdown
from proposals.markdown import KeptBlock, Link, OrrAnswer, PersonaMention, ProposalContent
from proposals.template import DEFINITIONS, Checklist, Field, Heading, Kind


def _template_lines() -> list[str]:
    """Every heading, prompt, item and template line of every template version, as written."""
    lines: set[str] = set()
    for definition in DEFINITIONS.values():
        for node in definition.body:
            if isinstance(node, Heading):
                lines.add(node.markdown)
            elif isinstance(node, Field):
                lines.add(node.markdown_heading)
                if node.prompt:
                    lines.add(node.markdown_prompt)
                lines.update(node.notes)
                lines.update(node.placeholder)
                if node.list_heading:
                    lines.add(node.list_heading.markdown)
            elif isinstance(node, Checklist):
                lines.add(node.heading.markdown)
                for group in node.groups:
                    lines.add(group.title)
                    lines.update(group.after)
                    for item in group.items:
                        lines.add(f"- [ ] {item.text}")
                        lines.add(f"* [X] {item.text}")
                        lines.update(item.notes)
            else:
                lines.update(getattr(node, "lines", ()))
        lines.update(definition.trailer)
        lines.update(f"<!-- {comment} -->" for comment in definition.comments)
    return sorted(lines)


NASTY = [
    *_template_lines(),
    "",
    " ",
    "```",
    "```python",
    "~~~",
    "````",
    "    ```",
    "<!--",
    "-->",
    "<!-- a note -->",
    "<!-- unclosed",
    "<details>",
    "</details>",
    "<summary>Technical needs</summary>",
    "| Confidence | Research |",
    "| --- | --- |",
    "| High | [x](https://x.test) |",
    "| a \\| b | c |",
    "- [ ] a task",
    "- [x] Your proposal",
    "- [~] Legal review",
    "* [ ] TBD",
    "1. [X] done",
    "- ...",
    "...",
    "- [Sasha (Software Developer)](https://handbook.gitlab.com/handbook/product/personas/)",
    "_Review status: Approved_",
    "   _Review status: In review_",
    "2. **Data Limitation:** ours",
    "3. Model Limitation",
    "/label ~wg-ai-integration",
    "/confidential",
    "\\### Success",
    "\\\\",
    "\\",
    "# Title",
    "## Rollout plan",
    "#### Deeper",
    "###### ",
    "#",
    "### Success: measured weekly",
    "### confidence",
    "## USER PROBLEM",
    "Confidence: High",
    "High",
    "Research: [a](https://a.test)",
    "Dependency needs",
    "Legal needs",
    "Issue information",
    "   indented three",
    "  two",
    "\tTabbed",
    "trailing spaces   ",
    "emoji 🚀🤖 ✅",
    "Ünïcödé — “quotes”",
    "a\u2028b",
    "\x00",
    "\r",
    "\r\n",
    *[
        # How people answer where they stand (issue 11): on the prompt's line, after a marker, as one item.
        "_What user problem will this solve?_ Squash commits pile up",
        "*Why do you believe this AI solution is a good way to solve this problem?* It summarises",
        "**What job to be done will this solve?** Triage",
        "What validation exists that customers have this problem: 12 interviews",
        "- _How will you measure whether this experiment is a success?_ Adoption",
        "**Our answer:** yes",
        "**Our answer:**",
        "Answer: 2 BE, 1 FE",
        "**A:** none",
        "A:",
        "   - the answer",
        "* the answer",
        "  - a nested answer",
        "1. Work estimate and skills…: 2 BE, 1 FE",
        "Work estimate and skills... one engineer",
        "**Data Limitation:** none needed",
        "3. Model Limitation we fine-tune",
        "**Cost, Scalability, Reliability** - $3 a day",
        "- [x] Your asumptions (see below)",
        "* [X] Your proposal @alice",
        "- [~] The user problem being solved, see &12",
        "Line with a hard break\\",
        "Line with trailing spaces  ",
        "| Confidence | Research |",
        "|---|---|",
        "| High   |   [a](https://a.test) |",
    ],
]

line = st.one_of(st.sampled_from(NASTY), st.text(max_size=30).filter(lambda t: "\n" not in t), st.text(max_size=10))
text = st.lists(line, max_size=12).map("\n".join)
one_line = st.one_of(st.text(max_size=30), st.sampled_from(NASTY)).map(lambda t: " ".join(t.split()))
url = st.one_of(
    st.sampled_from(["https://gitlab.com/g/p/-/issues/1", "https://x.test/a b", "https://x.test/(a)|b", "Link", ""]),
    one_line,
)


@st.composite
def contents(draw, versions=None) -> ProposalContent:
    version = draw(st.sampled_from(versions or sorted(DEFINITIONS)))
    definition = DEFINITIONS[version]
    fields = {name: draw(text) for name in markdown.text_field_names(definition) if draw(st.booleans())}
    lists = {f.name: tuple(draw(st.lists(text, max_size=4))) for f in definition.fields if f.kind == Kind.REQUIREMENTS}
    items = [(c.stage.value, item.key) for c in definition.checklists for item in c.items]
    statuses = st.sampled_from(["", "Not started", "In review", "Changes requested", "Approved", "Not applicable"])
    return ProposalContent(
        template_version=version,
        fields=fields,
        persona_tags=tuple(
            PersonaMention(name, role, address)
            for name, role, address in draw(st.lists(st.tuples(one_line, one_line, url), max_size=3))
        ),
        confidence=draw(st.sampled_from(["", "high", "medium", "low"])),
        research_links=tuple(
            Link(title, address) for title, address in draw(st.lists(st.tuples(one_line, url), max_size=3))
        ),
        lists=lists,
        checked=frozenset(draw(st.lists(st.sampled_from(items), max_size=len(items)))) if items else frozenset(),
        # GitLab's [~]; canonical() keeps an item both ticked and inapplicable as ticked.
        inapplicable=frozenset(draw(st.lists(st.sampled_from(items), max_size=len(items)))) if items else frozenset(),
        orr={area.key: OrrAnswer(draw(text), draw(statuses)) for area in definition.orr_areas if draw(st.booleans())},
    )


def kept_blocks(version: str):
    return st.lists(st.tuples(st.sampled_from(sorted(markdown.anchor_order(version))), text), max_size=3).map(
        lambda pairs: tuple(KeptBlock(anchor, body) for anchor, body in pairs)
    )
