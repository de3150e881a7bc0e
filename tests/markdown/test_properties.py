"""The guarantees of issue 3, as properties over arbitrary Unicode and Markdown that looks like the template."""

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from proposals import markdown
from proposals.content import content_values, content_with_values
from proposals.markdown.answers import marker_rest, prompt_rest
from proposals.markdown.known import DROP, all_known_headings, heading_is_known, scan
from proposals.markdown.lines import heading_of, norm, strip_details
from proposals.markdown.parse import after_area_title, area_line
from proposals.template import DEFINITIONS
from tests.markdown.strategies import NASTY, contents, text

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(contents())
def test_parse_of_render_gives_back_exactly_the_content(content):
    expected = markdown.canonical(content)
    result = markdown.parse(markdown.render(content))
    assert result.version == expected.template_version
    assert result.content.fields == expected.fields
    assert result.content.lists == expected.lists
    assert result.content.checked == expected.checked
    assert result.content.inapplicable == expected.inapplicable
    assert result.content.confidence == expected.confidence
    assert result.content.research_links == expected.research_links
    assert result.content.persona_tags == expected.persona_tags
    assert result.content.orr == expected.orr
    assert result.content == expected


@PROPERTY
@given(contents(), st.data())
def test_an_inapplicable_item_stays_inapplicable_through_an_edit_of_other_values(content, data):
    """GitLab's ``[~]`` is read, kept and written back: changing any other value never makes it ``[ ]``."""
    content = markdown.canonical(content)
    values = content_values(content, "A title")
    others = sorted(key for key in values if not key.startswith(("na:", "check:")) and key.startswith("field:"))
    if others:
        key = data.draw(st.sampled_from(others))
        content = content_with_values(content, {key: values[key] + " edited"})
    again = markdown.parse(markdown.render(content)).content
    assert again.inapplicable == content.inapplicable


def visible(line: str) -> str:
    """A line as a reader sees it: surrounding blanks and the escaping backslashes aside."""
    return line.strip().lstrip("\\").strip()


def template_boilerplate() -> set[str]:
    """The template's own lines (headings, prompts, items, notes) in any case, level or list marker."""
    return {norm(line) for line in NASTY[: NASTY.index("")]} | {""}


def without_boilerplate(lines: list[str]) -> list[str]:
    boilerplate = template_boilerplate()
    return [
        visible(line)
        for line in map(answer_part, lines)
        if norm(strip_details(line)) not in boilerplate and plain(line) != "..."
    ]


def answer_part(line: str) -> str:
    """``### Success: weekly`` is the Success heading with its first answer line, ``weekly``;
    ``Confidence: High`` is the value High (it goes into the confidence table); ``_What user problem will
    this solve?_ Toil`` and ``**Our answer:** Toil`` are the answer ``Toil``."""
    rest = prompt_rest(line, all_prompts())
    if rest is None:
        rest = marker_rest(line)
    if rest is not None:
        return rest
    words = norm(line)
    if words.startswith("confidence") and words.removeprefix("confidence").strip() in markdown.CONFIDENCE_LEVELS:
        return words.removeprefix("confidence").strip()
    if words.startswith("research") and ":" in line:
        return line.split(":", 1)[1]
    for definition in DEFINITIONS.values():  # "2. **Data Limitation:** our answer": the answer is "our answer"
        if (area := area_line(line, definition)) is not None:
            return "" if area[1] else after_area_title(line, definition, area[0])
    heading = heading_of(line)
    if heading and ":" in heading[1]:
        head, _, rest = heading[1].partition(":")
        if heading_is_known(head, all_known_headings()):
            return rest
    return line


@PROPERTY
@given(st.lists(st.one_of(st.sampled_from(NASTY), text), max_size=25).map("\n".join))
@example("### User problem\n```\n# not a heading\n### Success\n")
@example("<!-- unclosed\n### Success\nfoo")
@example("## Checklist\n- [x] Your proposal\n### Experiment\n- [x] Your proposal")
def test_nothing_is_lost_and_rendering_is_stable_after_one_pass(body):
    once = markdown.render(markdown.parse(body).content)
    twice = markdown.render(markdown.parse(once).content)
    assert twice == once
    output = "\n".join(plain(line) for line in once.split("\n")).casefold()
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    hints = scan(lines)  # the template's own hint comments are boilerplate too
    lines = [line for line, state in zip(lines, hints, strict=True) if state != DROP]
    for line in without_boilerplate(lines):
        if line and not line.startswith("/"):  # quick actions are read, not kept
            assert plain(line).casefold() in output, f"lost: {line!r}"


def plain(line: str) -> str:
    """A line's words as they stand in the output: escaping backslashes, list markers, outer spaces, runs of
    spaces (a table's alignment) and the emphasis character aside."""
    line = re.sub(r"^(?:[-*+]|\d{1,9}[.)])[ \t]+", "", line.replace("\\", "").strip())
    return " ".join(line.replace("*", "_").split())


def all_prompts() -> tuple[str, ...]:
    return tuple(sorted({norm(f.prompt) for d in DEFINITIONS.values() for f in d.fields if f.prompt}))
