"""parse never raises, and its work grows linearly with the body (GitLab allows about a million characters).

The work is counted in lines of Python run, not seconds, so the checks hold on a busy machine; the parse
times themselves are what ``bench/markdown.py`` prints.
"""

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proposals import markdown
from proposals.template import DEFINITIONS
from tests.markdown.strategies import NASTY

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
anything = st.one_of(
    st.text(),
    st.binary().map(lambda raw: raw.decode("utf-8", "surrogateescape")),  # lone surrogates too
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=40).map("\r\n".join),
)


@FUZZ
@given(anything, st.sampled_from([None, *DEFINITIONS]), st.lists(st.text(max_size=5), max_size=3))
def test_parse_and_render_never_raise(body, version, personas):
    result = markdown.parse(body, version=version, personas=personas)
    markdown.render(result.content)
    markdown.anchor_label(result.version, result.content.kept_blocks[0].after) if result.content.kept_blocks else None


@pytest.mark.parametrize("value", [None, "", "\ufeff", "\x00", "\r", "#", "|", "<!--", "```", "\\"])
def test_odd_inputs(value):
    assert markdown.parse(value).version in DEFINITIONS


# Inputs that make naive parsers slow: unclosed brackets, comments and fences, deep quotes, long headings.
PATHOLOGICAL = {
    "brackets": "[" * 2000 + "](" * 2000,
    "table row of brackets": "### Confidence\n| Confidence | Research |\n|--|--|\n| high | " + "[a](" * 3000 + " |",
    "comment openers": "<!--\n" * 2000,
    "fences": "```\n~~~\n````\n" * 1000,
    "quotes": ">" * 5000 + " - [ ] TBD",
    "hashes": "#" * 5000 + " x\n" + "### " + "#" * 5000,
    "backslashes": "\\" * 10000 + "###",
    "spaces then dash": " " * 10000 + "-",
    "link text": "### Personas\n- [" + "\\(" * 5000 + "](u)",
    "cells": "### Confidence\n| Confidence | Research |\n|--|--|\n" + "|" * 10000,
    "details tags": "<details><summary>x</summary>" * 3000,
    "template lines": "\n".join(NASTY) * 3,
}


def lines_run(body: str) -> int:
    """How many lines of Python one parse of the body runs (function calls included)."""
    for version in DEFINITIONS:  # the per-version indexes are built once per process, not per body
        markdown.parse(markdown.render(markdown.ProposalContent(template_version=version)))
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        markdown.parse(body)
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_parse_work_grows_linearly(name):
    unit = PATHOLOGICAL[name]
    small, large = lines_run(unit * 2), lines_run(unit * 8)
    # Four times the text may take four times the work (and a little more), not sixteen times.
    assert large < 5 * small, f"{name}: {small} -> {large} lines run"


def test_a_one_megabyte_body_parses_whole():
    body = markdown.render(markdown.ProposalContent(fields={"user_problem": "A line of text.\n" * 65_000}))
    assert len(body) > 1_000_000
    result = markdown.parse(body)
    assert result.content.fields["user_problem"].count("\n") == 64_999
