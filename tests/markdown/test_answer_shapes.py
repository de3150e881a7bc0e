"""Issue 11, "Reading what people really write": answers where people put them, reworded checklist items,
issues re-saved by GitLab's rich-text editor, on every template version; nothing lost on the way back."""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proposals import markdown
from proposals.markdown import ProposalContent
from proposals.markdown.items import item_for_wording
from proposals.markdown.lines import norm
from proposals.template import DEFINITIONS, ORR_CHECKLIST_LINK, Kind

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VERSIONS = sorted(DEFINITIONS)
SPEC = Path(__file__).parent / "spec"
PLACEHOLDER = "Placeholder answer 4711"

# Words people write, never a prompt, a marker or Markdown structure.
word = st.sampled_from(
    [
        "squash",
        "commits",
        "pile",
        "up",
        "reviewers",
        "lose",
        "track",
        "of",
        "threads",
        "we",
        "measured",
        "weekly",
        "users",
        "two",
        "backend",
        "engineers",
        "one",
        "frontend",
        "cost",
        "per",
        "call",
        "is",
        "low",
        "data",
        "comes",
        "from",
        "feedback",
        "model",
        "is",
        "hosted",
    ]
)
sentence = st.lists(word, min_size=2, max_size=8).map(lambda words: " ".join(words).capitalize() + ".")
answer_lines = st.lists(sentence, min_size=1, max_size=3)


def text_fields(version: str):
    return [f for f in DEFINITIONS[version].fields if f.kind in (Kind.TEXT, Kind.PERSONAS) and f.level]


def prompts_of(name: str) -> list[str]:
    """The raw prompt every version asks this field with."""
    return sorted({f.prompt for d in DEFINITIONS.values() for f in d.fields if f.name == name and f.prompt})


def body_with_answer(version: str, name: str, written: str) -> str:
    """The empty template of this version with ``written`` standing where the field's answer goes."""
    body = markdown.render(ProposalContent(template_version=version, fields={name: PLACEHOLDER}))
    assert body.count(PLACEHOLDER) == 1
    return body.replace(PLACEHOLDER, written)


FIELD_CASES = [(version, f.name) for version in VERSIONS for f in text_fields(version)]


def same_line_shapes(prompt: str, first: str) -> list[str]:
    """The prompt with the answer on its line: italic, bold, plain, after a list marker, colon or not."""
    bare = prompt.rstrip("?:")
    return [
        f"_{prompt}_ {first}",
        f"*{prompt}* {first}",
        f"**{prompt}** {first}",
        f"**{bare}:** {first}",
        f"{prompt} {first}",
        f"{bare}: {first}",
        f"1. {prompt} {first}",
        f"- _{prompt}_ {first}",
        f"   * **{prompt}** {first}",
    ]


@PROPERTY
@given(st.sampled_from(FIELD_CASES), answer_lines, st.data())
def test_an_answer_on_the_prompts_own_line_is_the_answer_alone(case, lines, data):
    version, name = case
    prompts = prompts_of(name)
    if not prompts:
        return
    prompt = data.draw(st.sampled_from(prompts))
    first, *rest = lines
    shape = data.draw(st.sampled_from(same_line_shapes(prompt, first)))
    result = markdown.parse(body_with_answer(version, name, "\n".join([shape, *rest])), version=version)
    assert result.content.fields.get(name) == "\n".join(lines)


MARKERS = ["**Our answer:**", "Our answer:", "Answer:", "**Answer:**", "_Answer_:", "**A:**", "A:", "**Response:**"]


@PROPERTY
@given(st.sampled_from(FIELD_CASES), answer_lines, st.sampled_from(MARKERS), st.data())
def test_an_answer_after_a_marker_below_the_prompt_is_the_answer_alone(case, lines, marker, data):
    version, name = case
    prompt = data.draw(st.sampled_from(prompts_of(name) or [""]))
    above = [f"_{prompt}_", ""] if prompt else []
    first, *rest = lines
    on_its_own_line = data.draw(st.booleans())
    written = [*above, marker, first] if on_its_own_line else [*above, f"{marker} {first}"]
    result = markdown.parse(body_with_answer(version, name, "\n".join([*written, *rest])), version=version)
    assert result.content.fields.get(name) == "\n".join(lines)


@PROPERTY
@given(st.sampled_from(FIELD_CASES), answer_lines, st.sampled_from(["- ", "* ", "   - ", "+ "]))
def test_a_lone_list_marker_before_an_answer_is_markdown_not_answer(case, lines, marker):
    version, name = case
    first, *rest = lines
    indent = " " * len(marker)
    written = "\n".join([f"{marker}{first}", *(indent + line for line in rest)])
    result = markdown.parse(body_with_answer(version, name, written), version=version)
    assert result.content.fields.get(name) == "\n".join(lines)


@PROPERTY
@given(st.sampled_from(FIELD_CASES), st.lists(sentence, min_size=2, max_size=4))
def test_a_list_of_several_items_stays_a_list(case, items):
    version, name = case
    written = "\n".join(f"- {item}" for item in items)
    result = markdown.parse(body_with_answer(version, name, written), version=version)
    assert result.content.fields.get(name) == written


@PROPERTY
@given(st.sampled_from(FIELD_CASES), answer_lines, st.data())
def test_every_shape_renders_back_stably_and_keeps_the_answer(case, lines, data):
    version, name = case
    prompt = data.draw(st.sampled_from(prompts_of(name) or ["x"]))
    first, *rest = lines
    shape = data.draw(st.sampled_from([*same_line_shapes(prompt, first), f"**Our answer:** {first}", f"- {first}"]))
    once = markdown.render(markdown.parse(body_with_answer(version, name, "\n".join([shape, *rest]))).content)
    assert markdown.render(markdown.parse(once).content) == once
    for line in lines:
        assert line in once


# ORR areas: the answer on the area's own line, the title cut short, bold or not, numbered or not.

ORR_CASES = [(version, area) for version in VERSIONS for area in DEFINITIONS[version].orr_areas]


def orr_shapes(number: int, title: str, answer: str) -> list[str]:
    words = title.rstrip(".").split()
    cut = " ".join(words[: max(2, len(words) // 2)])
    return [
        f"{number}. {title}: {answer}",
        f"{number}. **{title}:** {answer}",
        f"**{title}:** {answer}",
        f"{title}: {answer}",
        f"{number}. {cut}…: {answer}",
        f"{number}. {cut}... {answer}",
        f"**{cut}…** {answer}",
        f"{number}. {title} - {answer}",
    ]


def body_with_area_line(version: str, number: int, written: str) -> str:
    body = markdown.render(ProposalContent(template_version=version))
    lines = body.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{number}. "))
    lines[index] = written
    return "\n".join(lines)


@PROPERTY
@given(st.sampled_from(ORR_CASES), sentence, st.data())
def test_an_orr_answer_on_the_areas_line_is_the_answer_alone(case, answer, data):
    version, area = case
    shape = data.draw(st.sampled_from(orr_shapes(area.number, area.title, answer)))
    result = markdown.parse(body_with_area_line(version, area.number, shape), version=version)
    assert result.content.orr[area.key].answer == answer
    assert not result.content.kept_blocks


@PROPERTY
@given(st.sampled_from(ORR_CASES), answer_lines, st.sampled_from(["   Answer: ", "   **Our answer:** ", "   - "]))
def test_an_orr_answer_under_its_area_after_a_marker_or_lone_bullet(case, lines, lead):
    version, area = case
    first, *rest = lines
    content = ProposalContent(template_version=version, orr={area.key: markdown.OrrAnswer(PLACEHOLDER)})
    body = markdown.render(content).replace(f"   {PLACEHOLDER}", "\n".join([lead + first, *("   " + r for r in rest)]))
    assert markdown.parse(body, version=version).content.orr[area.key].answer == "\n".join(lines)


# Checklist items reworded a little.

ITEM_CASES = [
    (version, checklist.stage.value, item)
    for version in VERSIONS
    for checklist in DEFINITIONS[version].checklists
    for item in checklist.items
    # an item whose text another item of the checklist shares (the ORR link) is told apart by its place
    if sum(norm(other.text) == norm(item.text) for other in checklist.items) == 1
]


def typo(text: str) -> str:
    """Two letters of the longest plain word swapped, as a hurried typist does."""
    words = [w for w in re.findall(r"[A-Za-z]+", re.sub(r"\]\([^)]*\)", "]", text)) if len(w) >= 6]
    if not words:
        return text
    longest = max(words, key=len)
    swapped = longest[:2] + longest[3] + longest[2] + longest[4:]
    return re.sub(rf"\b{longest}\b", swapped, text, count=1)


def rewordings(text: str) -> list[str]:
    return [
        f"{text} (see #12)",
        f"{text} - done, notes in the epic",
        f"{text} @alice",
        f"@bob {text}",
        typo(text),
        f"{typo(text)} (fixed in &3)",
    ]


def body_with_item(version: str, stage: str, key: str, line: str) -> str:
    """The empty template with this item's line (the only one ticked: two checklists share texts) replaced."""
    definition = DEFINITIONS[version]
    item = next(i for c in definition.checklists if c.stage.value == stage for i in c.items if i.key == key)
    body = markdown.render(ProposalContent(template_version=version, checked=frozenset({(stage, key)})))
    template_line = f"- [x] {item.text}"
    assert body.count(template_line) == 1
    return body.replace(template_line, line)


@PROPERTY
@given(st.sampled_from(ITEM_CASES), st.sampled_from(["x", "X", "~", " "]), st.sampled_from(["-", "*"]), st.data())
def test_a_reworded_item_is_still_that_item_with_its_tick(case, mark, bullet, data):
    version, stage, item = case
    wording = data.draw(st.sampled_from(rewordings(item.text)))
    body = body_with_item(version, stage, item.key, f"{bullet} [{mark}] {wording}")
    content = markdown.parse(body, version=version).content
    expected = {(stage, item.key)}
    states = {"x": (expected, set()), "X": (expected, set()), "~": (set(), expected), " ": (set(), set())}
    assert (content.checked, content.inapplicable) == states[mark]
    once = markdown.render(content)
    assert wording in once  # the author's words stay
    assert markdown.parse(once, version=version).content == content
    assert markdown.render(markdown.parse(once).content) == once


def test_no_item_is_read_as_another_item_of_its_checklist_however_reworded():
    for version, stage, item in ITEM_CASES:
        assert item_for_wording(version, stage, item.text) == item.key
        for wording in rewordings(item.text):
            assert item_for_wording(version, stage, wording) in (item.key, None), (version, wording)


def test_a_line_close_to_two_items_is_neither():
    # v5's Beta checklist: "Your assumptions have been defined" and "Success metrics have been defined".
    assert item_for_wording("2023-beta", "beta", "Your assumptions have been defined") == "assumptions"
    assert item_for_wording("2023-beta", "beta", "Success metrics have been defined") == "success"
    assert item_for_wording("2023-beta", "beta", "Metrics have been defined") is None
    assert item_for_wording("2023-06", "experiment", "Your users") is None


# GitLab's rich-text editor re-saves what it touches.


def drop_comments(body: str) -> str:
    """HTML comments outside code gone, as GitLab's rich-text editor drops them (the author's own too)."""
    out: list[str] = []
    in_comment = in_fence = False
    for line in body.split("\n"):
        fence = line.lstrip().startswith(("```", "~~~"))
        if (in_fence or fence) and not in_comment:
            in_fence = in_fence != fence
            out.append(line)
            continue
        if in_comment:
            if "-->" not in line:
                continue
            line, in_comment = line.split("-->", 1)[1], False
        line = re.sub(r"<!--.*?-->", "", line)
        if "<!--" in line:
            line, in_comment = line.split("<!--", 1)[0], True
            if not line.strip():
                continue
        out.append(line)
    return "\n".join(out)


def resave(body: str) -> str:
    """What GitLab's rich-text editor writes back: HTML comments dropped, ``_`` emphasis, ``-`` bullets,
    tables padded another way, ``\\`` hard breaks, a blank line between a heading and the prompt, no
    blank-line runs."""
    out: list[str] = []
    in_fence = False
    for line in drop_comments(body).split("\n"):
        fence = line.lstrip().startswith(("```", "~~~"))
        if in_fence or fence:
            in_fence = in_fence != fence
            out.append(line)
            continue
        line = re.sub(r"^(\s*)[*+] ", r"\1- ", line)
        line = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"_\1_", line)
        if line.startswith("|") and line.rstrip().endswith("|"):
            cells = [cell.strip() for cell in line.strip()[1:-1].split("|")]
            if all(set(cell) <= set(":- ") and cell for cell in cells):
                cells = ["-" * 3 for _ in cells]
            line = "|" + "|".join(f"  {cell}  " for cell in cells) + "|"
        if out and out[-1].startswith("#") and line.startswith("_"):
            out.append("")  # between the template's heading and its prompt
        out.append(line)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    # A hard break (two trailing spaces inside a paragraph) as a backslash; other trailing spaces go.
    text = re.sub(r"[ \t]{2,}\n(?=[A-Za-z0-9])", "\\\\\n", text)
    return re.sub(r"[ \t]+\n", "\n", text)


def filled_spec(version_file: str, answers: list[str]) -> str:
    """A template of GitLab's, filled by hand: an answer below each prompt, some items ticked."""
    lines = (SPEC / version_file).read_text(encoding="utf-8").split("\n")
    out: list[str] = []
    answers = iter(answers * 40)
    for line in lines:
        out.append(line)
        if line.startswith("_") and line.endswith("_") and "?" in line:
            out.append(next(answers))
    return "\n".join(out).replace("- [ ] Your proposal", "* [x] Your proposal")


RICH_ANSWERS = [
    "Reviewers lose *track* of threads.  \nEspecially on big merge requests.",
    "* one point\n* another point",
    "| Metric | Today |\n|---|---|\n| Time to review | 3 days |",
    "Plain answer with **bold** words.",
]


@pytest.mark.parametrize("version_file", sorted(path.name for path in SPEC.glob("v*.md")))
def test_an_issue_resaved_by_the_rich_text_editor_reads_the_same(version_file):
    body = filled_spec(version_file, RICH_ANSWERS)
    original = markdown.parse(body)
    assert original.content.fields  # the answers were read
    resaved = markdown.parse(resave(body))
    assert resaved.version == original.version
    assert resaved.content == original.content


@PROPERTY
@given(st.sampled_from(sorted(path.name for path in SPEC.glob("v*.md"))), st.lists(sentence, min_size=1, max_size=3))
def test_any_filled_template_resaved_reads_the_same(version_file, sentences):
    answers = [" ".join(sentences), "* " + "\n* ".join(sentences), sentences[0] + "  \n" + sentences[-1]]
    body = filled_spec(version_file, answers)
    assert markdown.parse(resave(body)).content == markdown.parse(body).content


FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.md"), key=lambda path: path.name)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.stem)
def test_every_hand_written_issue_resaved_reads_the_same_but_for_the_comments_gitlab_drops(path):
    body = path.read_text(encoding="utf-8")
    assert markdown.parse(resave(body)).content == markdown.parse(drop_comments(body)).content


# Nothing lost, and render∘parse idempotent, with the bodies people write.


def test_the_item_line_that_once_moved_into_the_needs_text_stays_an_items_copy(spec_text):
    """Found by Hypothesis: a ticked copy of the ORR link under "Legal needs" came back, one pass later,
    as ``  \\* [X] …`` inside the legal needs text, and ticked the dependency item."""
    link = ORR_CHECKLIST_LINK
    body = spec_text("v2-2023-06.md").replace(
        "<summary>Legal needs</summary>\n\n", f"<summary>Legal needs</summary>\n* [X] {link}\n  * [X] {link}\n\n"
    )
    once = markdown.render(markdown.parse(body).content)
    again = markdown.parse(once).content
    assert markdown.render(again) == once
    assert not again.checked and "legal_needs" not in again.fields
    assert once.count(f"[X] {link}") == 2


@PROPERTY
@given(st.sampled_from(VERSIONS), st.data())
def test_render_parse_is_idempotent_on_bodies_made_of_every_shape(version, data):
    from tests.markdown.strategies import NASTY

    body = markdown.render(ProposalContent(template_version=version)).split("\n")
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(body)))
        body.insert(at, data.draw(st.sampled_from(NASTY)))
    once = markdown.render(markdown.parse("\n".join(body)).content)
    assert markdown.render(markdown.parse(once).content) == once


# Examples, as people write them.


def test_a_v5_issue_answered_inline_reads_as_answers():
    body = markdown.render(ProposalContent(template_version="2023-beta"))
    body = body.replace(
        "_What user problem will this solve?_",
        "_What user problem will this solve?_ Squash commits hide which lines Duo wrote.",
        1,
    ).replace(
        "_What are the small jobs this feature is solving for?_",
        "_What are the small jobs this feature is solving for?_\n\n**Our answer:**\n\n- Label a hunk\n- Explain it",
    )
    body = re.sub(r"(?m)^1\. Work estimate[^\n]*", "1. Work estimate and skills…: 2 BE, 1 FE", body)
    result = markdown.parse(body)
    assert result.version == "2023-beta"
    assert result.content.fields["user_problem"] == "Squash commits hide which lines Duo wrote."
    assert result.content.fields["small_jobs"] == "- Label a hunk\n- Explain it"
    assert result.content.orr["work_estimate"].answer == "2 BE, 1 FE"


def test_the_appsec_item_with_the_mention_filled_in_is_still_ticked_and_keeps_the_name(spec_text):
    body = spec_text("v4-2023.md").replace(
        "- [ ] @ mention your [AppSec Stable Counterpart]",
        "- [x] @sec-anna mention your [AppSec Stable Counterpart]",
    )
    result = markdown.parse(body)
    assert result.version == "2023-07-appsec"
    assert ("ga", "appsec") in result.content.checked
    assert "- [x] @sec-anna mention your [AppSec Stable Counterpart]" in markdown.render(result.content)


def test_an_issue_edited_in_the_rich_text_editor_changes_nothing_in_stagegate():
    body = (Path(__file__).parent / "fixtures" / "12-v2-answers-where-people-stand.md").read_text(encoding="utf-8")
    before = markdown.parse(body).content
    after = markdown.parse(resave(body)).content
    assert after == before
    assert after.fields["success"] == "20% of squashed MRs opened with labels shown,\\\nmeasured weekly."


# What GitLab's rich-text editor writes when it re-saves an answer: one blank line between two blocks
# (prosemirror-markdown's ``closeBlock``), lists tight (``tightLists: true``) or, from a loose list, with a
# blank line between items; and a backslash before what could read as Markdown (``esc`` below).

heading_words = st.lists(word, min_size=1, max_size=3).map(lambda words: " ".join(words).capitalize())
block = st.one_of(
    st.tuples(st.just("paragraph"), st.lists(sentence, min_size=1, max_size=2)),
    st.tuples(st.just("bullets"), st.lists(sentence, min_size=2, max_size=3).map(lambda s: [f"- {x}" for x in s])),
    st.tuples(
        st.just("numbers"),
        st.lists(sentence, min_size=2, max_size=3).map(lambda s: [f"{i}. {x}" for i, x in enumerate(s, 1)]),
    ),
    st.tuples(st.just("heading"), heading_words.map(lambda text: [f"###### {text}"])),
    st.tuples(st.just("quote"), sentence.map(lambda text: [f"> {text}"])),
    st.tuples(st.just("code"), sentence.map(lambda text: ["```", text.lower(), "```"])),
    st.tuples(
        st.just("table"),
        st.lists(st.tuples(heading_words, sentence), min_size=1, max_size=2).map(
            lambda rows: ["| Metric | Today |", "| --- | --- |", *(f"| {a} | {b} |" for a, b in rows)]
        ),
    ),
)
# Blocks that start right under the line above without a blank line (a paragraph or a list would run on
# into a paragraph, a list or a quote above it; a table would be a list item's or a quote's).
STARTS_UNDER = {"bullets", "numbers", "heading", "quote", "code", "table"}


def answer_blocks(draw_blocks: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Blocks in an order that keeps them apart: no two lists of one kind or two quotes in a row (they
    would be one list, one quote)."""
    out: list[tuple[str, list[str]]] = []
    for kind, lines in draw_blocks:
        if out and out[-1][0] == kind and kind in ("bullets", "numbers", "quote"):
            continue
        out.append((kind, lines))
    return out


def as_typed(blocks, tight: list[bool]) -> str:
    """The blocks as an author types them in GitLab's plain-text editor: no blank line where none is needed."""
    text = "\n".join(blocks[0][1])
    for (kind_above, _), (kind, lines), squeeze in zip(blocks, blocks[1:], tight, strict=False):
        runs_on = (
            kind not in STARTS_UNDER
            or (kind_above in ("bullets", "numbers", "quote") and kind in ("paragraph", "table"))
            or kind_above == "table"  # a line right under a table is one of its rows
        )
        text += ("\n" if squeeze and not runs_on else "\n\n") + "\n".join(lines)
    return text


def as_resaved(blocks, *, loose_lists: bool) -> str:
    """The blocks as the rich-text editor writes them back."""
    parts = []
    for kind, lines in blocks:
        between = "\n\n" if loose_lists and kind in ("bullets", "numbers") else "\n"
        parts.append(between.join(lines))
    return "\n\n".join(parts)


@PROPERTY
@given(st.sampled_from(FIELD_CASES), st.lists(block, min_size=2, max_size=5), st.data())
def test_an_answer_resaved_with_blank_lines_between_its_blocks_reads_the_same(case, drawn, data):
    version, name = case
    blocks = answer_blocks(drawn)
    typed = as_typed(blocks, data.draw(st.lists(st.booleans(), min_size=len(blocks), max_size=len(blocks))))
    resaved = as_resaved(blocks, loose_lists=data.draw(st.booleans()))
    original = markdown.parse(body_with_answer(version, name, typed), version=version).content
    again = markdown.parse(body_with_answer(version, name, resaved), version=version).content
    assert again == original
    once = markdown.render(original)
    assert markdown.parse(once, version=version).content == original
    for _, lines in blocks:
        for line in lines:
            assert line.split(" ", 1)[-1] in original.fields[name]  # nothing lost


def esc(text: str, *, old_start: bool, all_underscores: bool) -> str:
    """prosemirror-markdown's ``MarkdownSerializerState.esc`` (GitLab's content editor serializes text with
    it), on one line of text at the start of a block: ``old_start`` is its older start-of-line rule
    (``^[:#\\-*+>]`` and ``^\\d+\\.``); ``all_underscores`` escapes ``_`` within words too, as other editors do."""
    out = []
    # A code span is written as it is (the code mark does not escape); the text nodes around it are escaped,
    # each on its own (the underscore rule looks at the node's own characters).
    for node in re.split(r"(`[^`]+`)", text):
        if node.startswith("`") and node.endswith("`") and len(node) > 1:
            out.append(node)
            continue
        for i, char in enumerate(node):
            inner = 0 < i < len(node) - 1 and node[i - 1].isalnum() and node[i + 1].isalnum()
            if char in "`*\\~[]" or (char == "_" and (all_underscores or not inner)):
                out.append("\\" + char)
            else:
                out.append(char)
    text = "".join(out)
    if old_start:
        text = re.sub(r"^[:#\-*+>]", r"\\\g<0>", text)
        return re.sub(r"^(\s*\d+)\.", r"\1\\.", text)
    text = re.sub(r"^(\+[ ]|[\-*>])", r"\\\g<0>", text)
    text = re.sub(r"^(\s*)(#{1,6})(\s|$)", r"\1\\\2\3", text)
    return re.sub(r"^(\s*\d+)\.\s", r"\1\\. ", text)


# Plain text with characters Markdown reads, as an author types them (each shows as typed): at most one of
# the characters that pair into emphasis or code in a paragraph.
ANYWHERE = ["snake_case", "C:\\temp", "~5", "v1.5", "[draft]", "a\\b"]
PAIRING_ONCE = ["2*3", "_private", "it`s"]
LINE_STARTS = ["-5", "+1", "#1", "1.5", "[x]", ":tada:"]
# Code spans and inline HTML (the editor writes neither escaped), with characters it escapes around them.
CODE_AND_HTML = ["`make_test`", "`a*b`", "`[x]`", "`C:\\temp`", "`a_b`", "<sub>[1]</sub>", "x<sup>2</sup>"]


@st.composite
def typed_line(draw, *, first: bool, pairing: list[str], code: bool = False):
    words = draw(st.lists(st.one_of(word, st.sampled_from(ANYWHERE)), min_size=2, max_size=6))
    if code:
        for _ in range(draw(st.integers(1, 2))):
            words.insert(draw(st.integers(1, len(words))), draw(st.sampled_from(CODE_AND_HTML)))
    if pairing and draw(st.booleans()):
        words.insert(draw(st.integers(1, len(words))), pairing.pop())
    if first:
        words.insert(0, draw(st.sampled_from(LINE_STARTS)))
    return " ".join(words)


@PROPERTY
@given(st.sampled_from(FIELD_CASES), st.data())
def test_an_answer_resaved_with_the_editors_backslash_escapes_reads_the_same(case, data):
    version, name = case
    code = data.draw(st.booleans())
    # A backtick typed as text would pair with a code span's.
    pairing = [shape for shape in data.draw(st.permutations(PAIRING_ONCE)) if not (code and "`" in shape)]
    as_list = data.draw(st.booleans())
    lines = [
        data.draw(typed_line(first=not as_list and data.draw(st.booleans()), pairing=pairing, code=code))
        for _ in range(data.draw(st.integers(2 if as_list else 1, 3)))  # a one-item list is its item
    ]
    old_start, all_underscores = data.draw(st.booleans()), data.draw(st.booleans())
    if as_list:
        typed = "\n".join(f"- {line}" for line in lines)
        resaved = "\n".join(f"- {esc(line, old_start=old_start, all_underscores=all_underscores)}" for line in lines)
    else:
        typed = "\n".join(lines)
        resaved = "\n".join(esc(line, old_start=old_start, all_underscores=all_underscores) for line in lines)
    original = markdown.parse(body_with_answer(version, name, typed), version=version).content
    again = markdown.parse(body_with_answer(version, name, resaved), version=version).content
    assert again == original
    assert original.fields[name] == typed  # the author's backslashes and characters stay as typed
    once = markdown.render(original)
    assert markdown.parse(once, version=version).content == original
    assert markdown.render(markdown.parse(once).content) == once


# Examples: bodies as the rich-text editor saves them.

TYPED_ANSWERS = [
    "Reviewers lose track of snake_case names:\n* one in a*b\n* one in C:\\temp",
    "#1 on the board: [x] marks the spot\n1. first\n2. second",
    "Plain answer with **bold** words.",
]
RESAVED_ANSWERS = [
    "Reviewers lose track of snake\\_case names:\n\n- one in a\\*b\n- one in C:\\\\temp",
    "\\#1 on the board: \\[x\\] marks the spot\n\n1. first\n\n2. second",
    "Plain answer with **bold** words.",
]


@pytest.mark.parametrize("version_file", sorted(path.name for path in SPEC.glob("v*.md")))
def test_an_issue_resaved_with_blank_lines_and_escapes_reads_the_same(version_file):
    typed = filled_spec(version_file, TYPED_ANSWERS)
    resaved = resave(filled_spec(version_file, RESAVED_ANSWERS))
    original = markdown.parse(typed)
    assert "snake_case" in " ".join(original.content.fields.values())
    assert markdown.parse(resaved).content == original.content


def test_the_editors_escapes_read_as_what_they_escape_and_a_backslash_typed_on_purpose_stays():
    body = body_with_answer(
        "2023-06",
        "user_problem",
        "\\[WIP\\] the \\_private\\_ helper and snake\\_case\\_name cost 2\\*3 hours; see \\#12 and C:\\\\temp\n"
        "\\- not a list: 1\\. not a number either, \\~5 users, it\\`s fine",
    )
    answer = markdown.parse(body).content.fields["user_problem"]
    assert answer == (
        "[WIP] the _private\\_ helper and snake_case_name cost 2*3 hours; see #12 and C:\\temp\n"
        "\\- not a list: 1. not a number either, ~5 users, it`s fine"
    )
    # Kept where they mean something: ``_private_`` would be emphasis, ``- not`` a list item.
    typed = body_with_answer("2023-06", "user_problem", "A regex like \\d+ and a path like \\\\server\\share")
    assert markdown.parse(typed).content.fields["user_problem"] == "A regex like \\d+ and a path like \\server\\share"


@pytest.mark.parametrize("version", VERSIONS)
def test_an_answer_with_a_sub_heading_resaved_by_the_editor_reads_the_same(version):
    typed = "Measured weekly:\n* merged MRs\n* reverted MRs\n###### Risks\n-5 minutes per review\n```\nsql\n```\nDone."
    resaved = (
        "Measured weekly:\n\n- merged MRs\n- reverted MRs\n\n###### Risks\n\n\\-5 minutes per review\n\n"
        "```\nsql\n```\n\nDone."
    )
    name = "success" if any(f.name == "success" for f in text_fields(version)) else text_fields(version)[0].name
    original = markdown.parse(body_with_answer(version, name, typed), version=version).content
    assert markdown.parse(body_with_answer(version, name, resaved), version=version).content == original
    assert original.fields[name] == resaved.replace("\\-5", "-5")  # kept in the editor's layout


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("#\\# \\#", "#\\# \\#"),  # unescaped: a level-two heading
        ("- # Title \\#", "- # Title \\#"),  # a heading's closing run
        ("\\`a\\` and \\`b", "\\`a\\` and \\`b"),  # an escaped backtick closes a code span opened by another
        ("-\\- -", "-\\- -"),  # a rule
        ("> \\-\\-\\-", "> \\-\\-\\-"),  # a rule in a quote
        ("[\\>]\\: a", "[>]\\: a"),  # a link reference definition
        ("see \\[the\nplan\\](https://x.test)", "see \\[the\nplan\\](https://x.test)"),  # a link over two lines
        ("- \\[x\\] not a task", "- \\[x\\] not a task"),  # a task item
        ("\\*a\\*", "*a\\*"),  # emphasis: the first one alone is plain
        ("1\\. not a list", "1\\. not a list"),
        ("\\> not a quote", "\\> not a quote"),
        ("ends with a backslash\\\\", "ends with a backslash\\\\"),  # a hard break
        ('<span title="a\\_b">x</span>', '<span title="a\\_b">x</span>'),  # raw HTML
        ("Code:\n\n    C:\\\\temp \\- x", "Code:\n\n    C:\\\\temp \\- x"),  # indented code
        ("<div>\n```\ncode\n```\n\\_y", "<div>\n```\ncode\n```\n\\_y"),  # an HTML block runs to a blank line
        ("a \\*b\n<b>c*</b>", "a \\*b\n<b>c*</b>"),  # inline HTML in the paragraph
    ],
)
def test_a_backslash_that_keeps_text_plain_stays(text, kept):
    from proposals.markdown.normal import normal_form

    assert normal_form(text) == kept
    assert normal_form(kept) == kept


@pytest.mark.parametrize(
    ("resaved", "typed"),
    [
        ("Run `make test` on \\[draft\\] branches in C:\\\\temp", "Run `make test` on [draft] branches in C:\\temp"),
        ("`a\\_b` and snake\\_case, \\~5 users", "`a\\_b` and snake_case, ~5 users"),  # the code keeps its own
        ("Press <kbd>Ctrl</kbd> and \\[x\\]", "Press <kbd>Ctrl</kbd> and [x]"),
        ('see <span title="a\\_b">x</span> and a\\_b', 'see <span title="a\\_b">x</span> and a_b'),
        ("See <https://x.test/a\\_b> and 2\\*3", "See <https://x.test/a\\_b> and 2*3"),
        ("``a`b`` then it\\`s", "``a`b`` then it\\`s"),  # a backtick beside code may pair: it stays
        ("`a\\` then \\[x\\]", "`a\\` then [x]"),  # the span ends at the escaped-looking backtick
        ("a\\\\`code`", "a\\\\`code`"),  # unescaped, the backslash would escape the backtick
        ("<? a\\_b", "<? a\\_b"),  # HTML this does not read: left alone
    ],
)
def test_the_editors_escapes_beside_a_code_span_or_inline_html_are_dropped_and_those_inside_stay(resaved, typed):
    from proposals.markdown.normal import normal_form

    assert normal_form(resaved) == typed
    assert normal_form(typed) == typed
