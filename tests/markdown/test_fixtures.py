"""Hand-written issue bodies, filled in the many ways people fill templates, from every template version.

Each ``fixtures/NN-*.md`` comes with the ``.json`` of what it must yield. The bodies are real-looking
proposals: GitLab's raw template with its comments and ``<details>`` left in, CRLF line endings and
trailing spaces, prompts left or deleted, headings at other levels and case, sections reordered,
missing or added, confidence as plain text, answers with code and tables, no template at all.
"""

import json
from pathlib import Path

import pytest

from proposals import markdown
from proposals.markdown.inline import confidence_value, research_links_of
from proposals.markdown.known import DROP, scan
from proposals.markdown.lines import split_cells
from tests.markdown.test_properties import plain, without_boilerplate

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.md"))


def read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:  # keep CRLF where a fixture has it
        return handle.read()


def yielded(result: markdown.ParseResult) -> dict:
    content = result.content
    return {
        "version": result.version,
        "fields": content.fields,
        "persona_tags": [[p.name, p.role, p.url] for p in content.persona_tags],
        "confidence": content.confidence,
        "research_links": [[link.title, link.url] for link in content.research_links],
        "lists": {name: list(items) for name, items in content.lists.items()},
        "checked": sorted(f"{stage}:{key}" for stage, key in content.checked),
        "orr": {key: {"answer": a.answer, "status": a.status} for key, a in content.orr.items()},
        "kept_blocks": [
            {"where": markdown.anchor_label(result.version, b.after), "markdown": b.markdown}
            for b in content.kept_blocks
        ],
        "missing": list(result.missing),
        "labels": list(result.labels),
        "confidential": result.confidential,
    }


def test_there_are_at_least_ten_fixtures_from_every_template_version():
    versions = {json.loads(path.with_suffix(".json").read_text())["version"] for path in FIXTURES}
    assert len(FIXTURES) >= 10
    assert versions == {"2023-04", "2023-06", "2023-07", "2023-07-appsec", "2023-beta"}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.stem)
def test_a_filled_in_issue_yields_its_fields(path):
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert yielded(markdown.parse(read(path))) == expected


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.stem)
def test_a_filled_in_issue_loses_nothing_and_renders_stably(path):
    body = read(path)
    result = markdown.parse(body)
    once = markdown.render(result.content)
    assert markdown.parse(once).content == result.content
    assert markdown.render(markdown.parse(once).content) == once
    output = "\n".join(plain(line) for line in once.split("\n")).casefold()
    lines = body.replace("\r\n", "\n").split("\n")
    states = scan(lines)
    lines = [line for line, state in zip(lines, states, strict=True) if state != DROP]
    for line in without_boilerplate(lines):
        if line and not line.startswith("/"):
            for part in read_into_structure(line):
                assert plain(part).casefold() in output, f"lost: {part!r} of {line!r}"


def read_into_structure(line: str) -> list[str]:
    """A confidence row or "Research:" line is read into the value and links, which are rendered
    in the table (value capitalised, links joined by <br>): each of those must be in the output."""
    cells = split_cells(line) if "|" in line else ["", line]
    links = research_links_of(cells[1]) if len(cells) > 1 else None
    if not links:
        return [line]
    value, _ = confidence_value(cells[0])
    return [value, *(part for link in links for part in (link.title, link.url) if part)]
