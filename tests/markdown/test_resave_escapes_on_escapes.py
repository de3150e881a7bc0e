"""The rich-text editor's escapes on top of Stagegate's own: a line Stagegate writes with a backslash at its
start (so that the parser does not read it as the template's structure) shows as plain text in GitLab, and
the editor writes that text back with its own escapes (prosemirror-markdown's ``esc``: ``\\[``, ``\\]``,
``\\_``...). Read back, the line is the author's again."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proposals import markdown
from proposals.markdown import ProposalContent
from proposals.markdown.normal import _shown
from proposals.template import DEFINITIONS, Kind
from tests.markdown.test_answer_shapes import FIELD_CASES, PROPERTY, VERSIONS, esc, sentence


def editor_resave(body: str, *, old_start: bool) -> str:
    """What the editor writes for each line Stagegate escaped at its start: the text GitLab shows, escaped."""
    out = []
    for line in body.split("\n"):
        if line.startswith("\\") and not line.startswith("\\\\"):
            line = esc(_shown(line), old_start=old_start, all_underscores=False)
        out.append(line)
    return "\n".join(out)


def template_task_lines(version: str) -> list[str]:
    """The version's checklist items as task lines (those without a link: the editor writes a link as one)."""
    items = [item.text for c in DEFINITIONS[version].checklists for item in c.items if "](" not in item.text]
    return sorted({f"- [{mark}] {text}" for text in items for mark in "x "})


@PROPERTY
@given(st.sampled_from(FIELD_CASES), st.data())
def test_a_template_item_in_an_answer_resaved_by_the_editor_reads_as_the_answer(case, data):
    version, name = case
    item = data.draw(st.sampled_from(template_task_lines(version)))
    lines = data.draw(st.lists(sentence, min_size=0, max_size=2))
    lines.insert(data.draw(st.integers(0, len(lines))), item)
    content = markdown.canonical(ProposalContent(template_version=version, fields={name: "\n".join(lines)}))
    body = markdown.render(content)
    assert "\\" + item in body  # Stagegate's own escape: not the template's item
    resaved = editor_resave(body, old_start=data.draw(st.booleans()))
    assert resaved != body
    assert markdown.parse(resaved, version=version).content == content


REQUIREMENT_CASES = [
    (version, f.name) for version in VERSIONS for f in DEFINITIONS[version].fields if f.kind == Kind.REQUIREMENTS
]
# Requirements that start with a character Markdown may read: emphasis, code, a bracket, a number sign...
STARTS = ["_private_ helper", "*bold* start", "`code` first", "[WIP] thing", "#1 priority", "~5 users", ":tada: yes"]


def editor_resave_items(body: str, *, old_start: bool) -> str:
    """An item Stagegate escaped at its start shows as plain text, which the editor escapes; the others it
    writes as they were (emphasis with ``_``, code as code)."""
    out = []
    for line in body.split("\n"):
        if line.startswith("- \\") and not line.startswith("- \\\\"):
            line = "- " + esc(_shown(line[2:]), old_start=old_start, all_underscores=False)
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("case", REQUIREMENT_CASES)
@pytest.mark.parametrize("old_start", [False, True])
def test_requirements_that_start_with_markdown_resaved_by_the_editor_read_the_same(case, old_start):
    version, name = case
    content = markdown.canonical(ProposalContent(template_version=version, lists={name: tuple(STARTS)}))
    body = markdown.render(content)
    assert markdown.parse(editor_resave_items(body, old_start=old_start), version=version).content == content
    # Emphasis and code at an item's start are written as they are: GitLab shows them as the author meant.
    assert "- _private_ helper\n- _bold_ start\n- `code` first\n- \\[WIP] thing" in body


def test_an_item_that_would_read_as_structure_keeps_its_backslash():
    content = ProposalContent(
        template_version="2023-06", lists={"requirements": ("* nested", "***", "___", "```", "- dash", "\\d+ regex")}
    )
    body = markdown.render(content)
    assert "- \\- nested\n- \\***\n- \\___\n- \\```\n- \\- dash\n- \\\\d+ regex" in body
    assert markdown.parse(body).content == markdown.canonical(content)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_template_item_with_code_in_an_answer_resaved_by_the_editor_reads_as_the_answer(version):
    answer = "Before we start:\n\n- [x] Your `proposal`"
    content = markdown.canonical(ProposalContent(template_version=version, fields={"user_problem": answer}))
    body = markdown.render(content)
    assert "\\- [x] Your `proposal`" in body
    resaved = editor_resave(body, old_start=False)
    assert "\\- \\[x\\] Your `proposal`" in resaved
    assert markdown.parse(resaved, version=version).content == content
