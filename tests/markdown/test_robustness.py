"""parse never raises, and its time grows linearly with the body (GitLab allows about a million characters)."""

import time

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


def parse_seconds(body: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        markdown.parse(body)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_parse_time_grows_linearly(name):
    unit = PATHOLOGICAL[name]
    small, large = parse_seconds(unit * 2), parse_seconds(unit * 8)
    # Four times the text may take four times as long, plus room for a noisy machine, not sixteen times.
    assert large < 10 * small + 0.05, f"{name}: {small:.4f}s -> {large:.4f}s"


def test_a_one_megabyte_body_parses_in_well_under_a_few_seconds():
    body = markdown.render(markdown.ProposalContent(fields={"user_problem": "A line of text.\n" * 65_000}))
    assert len(body) > 1_000_000
    start = time.perf_counter()
    result = markdown.parse(body)
    assert time.perf_counter() - start < 5
    assert result.content.fields["user_problem"].count("\n") == 64_999
