"""A stand-in ``render``/``parse`` pair for the sync tests, used only while
``proposals.markdown`` has no ``parse`` yet (issue 3 lands it).

It keeps the real ``ProposalContent`` and ``content_from_proposal`` and writes
the content as readable JSON, so the sync's merge, echo and conflict logic can be
tested on its own. Tests edit issues through ``edit_issue_fields`` below, which
works the same with the real pair.
"""

from __future__ import annotations

import dataclasses
import json

from proposals import markdown

MARKER = "<!-- stagegate test stand-in -->"


def _render(proposal_or_content, *, content=None) -> str:
    if content is None:
        content = proposal_or_content
        if not isinstance(content, markdown.ProposalContent):
            content = markdown.content_from_proposal(proposal_or_content)
    content = markdown.canonical(content)
    data = {
        "template_version": content.template_version,
        "fields": content.fields,
        "persona_tags": [dataclasses.astuple(p) for p in content.persona_tags],
        "confidence": content.confidence,
        "research_links": [dataclasses.astuple(link) for link in content.research_links],
        "lists": {k: list(v) for k, v in content.lists.items()},
        "checked": sorted(list(pair) for pair in content.checked),
        "orr": {k: dataclasses.astuple(v) for k, v in content.orr.items()},
        "kept_blocks": [dataclasses.astuple(b) for b in content.kept_blocks],
    }
    return f"{MARKER}\n```json\n{json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True)}\n```\n"


def _parse(text: str):
    try:
        data = json.loads(text.split("```json\n", 1)[1].rsplit("\n```", 1)[0])
    except (IndexError, ValueError):
        return markdown.ProposalContent(fields={"user_problem": text.strip()} if text.strip() else {})
    return markdown.canonical(
        markdown.ProposalContent(
            template_version=data["template_version"],
            fields=data["fields"],
            persona_tags=tuple(markdown.PersonaMention(*p) for p in data["persona_tags"]),
            confidence=data["confidence"],
            research_links=tuple(markdown.Link(*link) for link in data["research_links"]),
            lists={k: tuple(v) for k, v in data["lists"].items()},
            checked=frozenset(tuple(pair) for pair in data["checked"]),
            orr={k: markdown.OrrAnswer(*v) for k, v in data["orr"].items()},
            kept_blocks=tuple(markdown.KeptBlock(*b) for b in data["kept_blocks"]),
        )
    )


def install_if_missing() -> None:
    if not hasattr(markdown, "parse"):
        markdown.render = _render
        markdown.parse = _parse


def edit_issue_fields(description: str, **fields: str) -> str:
    """An issue body with some text fields changed, as a person editing on GitLab would leave it."""
    result = markdown.parse(description)
    content = getattr(result, "content", result)
    content = dataclasses.replace(content, fields={**content.fields, **fields})
    return markdown.render(content)
