"""The rich-text editor's re-save of Markdown the template has no place for, and of what stands right under a
requirement: one blank line between any two blocks (prosemirror-markdown's ``closeBlock``; GitLab's
``renderTable`` writes one before and after a table), and a heading, code fence, quote or rule under a list
item is a block of its own, not the item's (CommonMark has no lazy continuation for them). On every template
version the re-saved issue reads as the issue the author typed, and render∘parse keeps what they wrote."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proposals import markdown
from proposals.markdown import ProposalContent
from proposals.template import DEFINITIONS, Kind
from tests.markdown.test_answer_shapes import (
    PROPERTY,
    VERSIONS,
    answer_blocks,
    as_resaved,
    as_typed,
    block,
    body_with_answer,
    heading_words,
    sentence,
)


def with_kept_section(version: str, section: str) -> str:
    """The empty template of this version with a section of the author's own at its end."""
    return markdown.render(ProposalContent(template_version=version)).rstrip("\n") + "\n\n" + section + "\n"


@PROPERTY
@given(st.sampled_from(VERSIONS), heading_words, st.lists(block, min_size=1, max_size=5), st.data())
def test_a_section_of_the_authors_own_resaved_with_blank_lines_between_its_blocks_reads_the_same(
    version, title, drawn, data
):
    blocks = [("heading", [f"## {title}"]), *answer_blocks(drawn)]
    blocks = answer_blocks(blocks)
    typed = as_typed(blocks, data.draw(st.lists(st.booleans(), min_size=len(blocks), max_size=len(blocks))))
    resaved = as_resaved(blocks, loose_lists=data.draw(st.booleans()))
    original = markdown.parse(with_kept_section(version, typed), version=version).content
    again = markdown.parse(with_kept_section(version, resaved), version=version).content
    assert again == original
    once = markdown.render(original)
    assert markdown.parse(once, version=version).content == original
    assert markdown.render(markdown.parse(once).content) == once
    kept = "\n".join(kept_block.markdown for kept_block in original.kept_blocks)
    for _, lines in blocks:
        for line in lines:
            assert line.split(" ", 1)[-1] in kept  # nothing lost


def test_a_kept_section_is_read_in_the_editors_layout_and_its_template_text_left_out_either_way():
    typed = "## Rollout plan\nWe ship weekly.\n- step one\n- step two\n#### Risks\n```\nnone\n```\nDone."
    resaved = "## Rollout plan\n\nWe ship weekly.\n\n- step one\n- step two\n\n#### Risks\n\n```\nnone\n```\n\nDone."
    original = markdown.parse(with_kept_section("2023-06", typed)).content
    assert [kept.markdown for kept in original.kept_blocks] == [resaved]
    assert markdown.parse(with_kept_section("2023-06", resaved)).content == original
    # A template prompt typed right under the author's heading is the template's, as it is with a blank line.
    prompt = "_What user problem will this solve?_"
    under = markdown.parse(with_kept_section("2023-06", f"## Rollout plan\n{prompt}\nWe ship weekly.")).content
    apart = markdown.parse(with_kept_section("2023-06", f"## Rollout plan\n\n{prompt}\nWe ship weekly.")).content
    assert under == apart
    assert prompt in under.kept_blocks[-1].markdown  # in a paragraph with the author's words: kept


@pytest.mark.parametrize("version", VERSIONS)
def test_a_table_right_under_a_paragraph_resaved_with_a_blank_line_reads_the_same(version):
    name = "user_problem"
    typed = "Measured weekly:\n| Metric | Today |\n|---|---|\n| Time to review | 3 days |"
    resaved = "Measured weekly:\n\n| Metric | Today |\n| --- | --- |\n| Time to review | 3 days |"
    original = markdown.parse(body_with_answer(version, name, typed), version=version).content
    assert original.fields[name] == resaved
    assert markdown.parse(body_with_answer(version, name, resaved), version=version).content == original
    section = "## Rollout plan\nMeasured weekly:\n| Metric | Today |\n|---|---|\n| Time to review | 3 days |"
    kept = markdown.parse(with_kept_section(version, section), version=version).content.kept_blocks
    assert kept[-1].markdown == "## Rollout plan\n\n" + resaved


def test_a_paragraph_with_a_pipe_or_a_table_in_a_list_is_left_as_it_stands():
    from proposals.markdown.normal import normal_form

    for text in [
        "a | b\n| Metric | Today |\n| --- | --- |",  # the line above may be the table's header
        "- item\n| Metric | Today |\n| --- | --- |",  # lazily in the list item
        "> quote\n| Metric | Today |\n| --- | --- |",
        "Text\n| one cell |\n| --- | --- |",  # no table: the cells do not match
        "Text\nMetric | Today\n--- | ---",  # without a leading pipe, cmark-gfm did not always end the paragraph
    ]:
        assert normal_form(text) == text


# Requirements: what stands right under an item.

REQUIREMENT_CASES = [
    (version, f.name) for version in VERSIONS for f in DEFINITIONS[version].fields if f.kind == Kind.REQUIREMENTS
]
UNDER_AN_ITEM = st.sampled_from(
    [
        ["#### Notes", "Only for merge requests."],
        ["##### Out of scope"],
        ["```", "gitlab duo explain", "```"],
        ["> Asked for by three customers."],
        ["***", "Later, maybe."],
    ]
)


@PROPERTY
@given(st.sampled_from(REQUIREMENT_CASES), st.lists(sentence, min_size=1, max_size=3, unique=True), UNDER_AN_ITEM)
def test_a_block_right_under_a_requirement_is_not_read_into_the_item(case, items, under):
    version, name = case
    body = markdown.render(ProposalContent(template_version=version, lists={name: tuple(items)}))
    last = f"- {items[-1]}\n"
    assert body.count(last) == 1
    typed = body.replace(last, last + "\n".join(under) + "\n")
    resaved = body.replace(last, last + "\n" + "\n\n".join(resaved_blocks(under)) + "\n")
    original = markdown.parse(typed, version=version).content
    assert original.lists[name] == tuple(items)
    assert markdown.parse(resaved, version=version).content == original
    once = markdown.render(original)
    assert markdown.parse(once, version=version).content == original
    for line in under:
        assert line in once  # kept, after the list


def resaved_blocks(lines: list[str]) -> list[str]:
    """The lines as blocks, as the editor writes them: a heading, a rule and a quote are one line each."""
    if lines[0].startswith("```"):
        return ["\n".join(lines)]
    return lines


def test_a_heading_right_under_a_requirement_stays_a_heading_of_its_own():
    body = markdown.render(ProposalContent(template_version="2023-06", lists={"requirements": ("Label a hunk",)}))
    typed = body.replace("- Label a hunk\n", "- Label a hunk\n#### Notes\nOnly for merge requests.\n")
    content = markdown.parse(typed).content
    assert content.lists["requirements"] == ("Label a hunk",)
    assert [kept.markdown for kept in content.kept_blocks] == ["#### Notes\n\nOnly for merge requests."]
    # An indented line is still the item's, whatever it looks like.
    nested = body.replace("- Label a hunk\n", "- Label a hunk\n  #### Notes\n")
    assert markdown.parse(nested).content.lists["requirements"] == ("Label a hunk\n#### Notes",)
