"""The template definition must say exactly what GitLab's template says: headings, prompts, checklists."""

from pathlib import Path

import pytest

from proposals.template import JUNE_2023, Boilerplate, Checklist, Field, Heading

VENDORED = Path(__file__).parent / "spec" / "ai-project-proposal.md"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "spec" / "ai-project-proposal.md"


def spec_text() -> str:
    return (SHARED if SHARED.exists() else VENDORED).read_text(encoding="utf-8")


def structural_lines(text: str) -> list[str]:
    """Headings, italic prompts, task items, group titles and ORR lines: everything a proposal must echo."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if (
            stripped.startswith("#")
            or (stripped.startswith("_") and stripped.endswith("_"))
            or stripped.startswith("- [ ]")
            or stripped in {"Issue information", "Technical needs", "Dependency needs", "Legal needs"}
            or stripped[:3] in {"1. ", "2. ", "3. ", "4. ", "5. "}
            or stripped.startswith("| ")
            or stripped.startswith("> ")
        ):
            lines.append(stripped)
    return lines


def definition_lines() -> list[str]:
    lines = []
    for node in JUNE_2023.body:
        if isinstance(node, Heading):
            lines.append(node.markdown)
        elif isinstance(node, Field):
            lines.append(node.markdown_heading)
            if node.prompt:
                lines.append(node.markdown_prompt)
            lines.extend(node.notes)
            if node.list_heading:
                lines.append(node.list_heading.markdown)
        elif isinstance(node, Checklist):
            lines.append(node.heading.markdown)
            for group in node.groups:
                lines.append(group.title)
                lines.extend(f"- [ ] {item.text}" for item in group.items)
                lines.extend(group.after)
        elif isinstance(node, Boilerplate):
            continue
    return lines


def test_vendored_spec_matches_the_shared_spec():
    if not SHARED.exists():
        pytest.skip("../shared is not beside this checkout")
    assert VENDORED.read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8")


def test_every_heading_prompt_and_checklist_item_matches_the_template():
    assert definition_lines() == structural_lines(spec_text())


def test_boilerplate_lines_stand_in_the_template_verbatim():
    text = spec_text()
    for node in JUNE_2023.body:
        if isinstance(node, Boilerplate):
            for line in node.lines:
                assert line in text


def test_checklist_items_have_unique_keys_per_stage():
    for checklist in JUNE_2023.checklists:
        keys = [item.key for item in checklist.items]
        assert len(keys) == len(set(keys))


def test_verified_items_name_fields_the_template_has():
    names = {f.name for f in JUNE_2023.fields}
    for checklist in JUNE_2023.checklists:
        for item in checklist.items:
            if item.verified_by and not item.verified_by.startswith(("label:", "orr:", "gitlab:")):
                assert item.verified_by in names
