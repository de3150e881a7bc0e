"""The five recovered versions of GitLab's template: each a definition, each recognised."""

import re

import pytest

from proposals import markdown
from proposals.markdown import ProposalContent
from proposals.markdown.lines import strip_details
from proposals.template import DEFINITIONS, Stage

FILES = {
    "2023-04": "v1-2023-04.md",
    "2023-06": "v2-2023-06.md",
    "2023-07": "v3-2023-07.md",
    "2023-07-appsec": "v4-2023.md",
    "2023-beta": "v5-latest.md",
}
TASK_ITEMS = {"2023-04": 19, "2023-06": 19, "2023-07": 22, "2023-07-appsec": 23, "2023-beta": 43}


def visible_lines(text: str) -> list[str]:
    """A template as the definitions hold it: no hint comments, <details> wrappers, quick actions or blank lines."""
    text = re.sub(r"(?ms)^ {0,3}<!--.*?-->[ \t]*\n?", "", text)
    lines = (" ".join(strip_details(line).split()) for line in text.split("\n"))
    return [line for line in lines if line and not line.startswith("/")]


def test_every_version_file_has_a_definition():
    assert set(DEFINITIONS) == set(FILES)


@pytest.mark.parametrize("version", FILES)
def test_an_empty_proposal_renders_as_that_version_of_the_template(version, spec_text):
    rendered = markdown.render(ProposalContent(template_version=version))
    assert visible_lines(rendered) == visible_lines(spec_text(FILES[version]))


@pytest.mark.parametrize("version", FILES)
def test_each_version_has_its_task_items(version):
    assert sum(len(checklist.items) for checklist in DEFINITIONS[version].checklists) == TASK_ITEMS[version]


@pytest.mark.parametrize("version", FILES)
def test_the_blank_template_of_each_version_is_detected_and_reads_empty(version, spec_text):
    result = markdown.parse(spec_text(FILES[version]))
    assert result.version == version
    assert result.content == markdown.canonical(ProposalContent(template_version=version))
    assert result.found == ()


@pytest.mark.parametrize("version", FILES)
def test_a_filled_proposal_of_each_version_is_detected(version):
    definition = DEFINITIONS[version]
    fields = {name: f"Answer for {name}" for name in markdown.text_field_names(definition)}
    content = ProposalContent(template_version=version, fields=fields)
    result = markdown.parse(markdown.render(content))
    assert result.version == version
    assert result.content.fields == fields


def test_the_latest_version_adds_beta_and_drops_confidence():
    latest = DEFINITIONS["2023-beta"]
    assert latest.stages == (Stage.EXPERIMENT, Stage.BETA, Stage.GA)
    assert "confidence" not in {f.name for f in latest.fields}
    assert {"small_jobs", "beta_success", "ux_maturity_beta", "ux_maturity_ga", "ga_requirements"} <= {
        f.name for f in latest.fields
    }
