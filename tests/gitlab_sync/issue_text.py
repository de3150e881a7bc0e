"""Edit an issue body the way a person on GitLab would: change some answers, keep the rest."""

from __future__ import annotations

import dataclasses

from proposals import markdown


def edit_issue_fields(description: str, **fields: str) -> str:
    """The issue body with some text fields changed (an empty body gives a freshly filled template)."""
    content = markdown.parse(description).content
    content = dataclasses.replace(content, fields={**content.fields, **fields})
    return markdown.render(content)
