"""What each template version asks of GitLab beyond its text: the quick actions at its end
(``/label``, ``/cc``, ``/parent_epic``, ``/confidential``), its title pattern, and the label that
marks its issues as proposals. Read from the template definitions, so a new version brings its own.
"""

from __future__ import annotations

import functools
import re

from proposals.template import DEFINITIONS, TemplateDefinition

# `~name` or `~"name with spaces"`, as the `/label` quick action takes them.
_LABEL_REF = re.compile(r'~"(?P<quoted>[^"]+)"|~(?P<plain>[^\s~"]+)')
# "TITLE FORMAT\n🤖 [AI Proposal] {Need/outcome} …" or "title format: 🤖 [AI Proposal] {…} + {…}".
_TITLE_FORMAT = re.compile(r"title format:?\s*(?P<prefix>[^{\n]*?)\s*\{", re.IGNORECASE)

# Stagegate's own: a proposal's confidentiality is the proposal's, sent as the issue's field.
NOT_SENT = ("/confidential",)


def quick_actions(definition: TemplateDefinition) -> list[str]:
    """The template's quick-action lines that a new issue's body carries, as GitLab runs them on create."""
    return [
        line.rstrip()
        for line in definition.trailer
        if line.startswith("/") and line.split(maxsplit=1)[0].lower() not in NOT_SENT
    ]


def quick_action_labels(definition: TemplateDefinition) -> list[str]:
    """The labels the template's `/label` quick actions put on a new issue, in order."""
    labels: list[str] = []
    for line in definition.trailer:
        if line.split(maxsplit=1)[:1] == ["/label"]:
            for match in _LABEL_REF.finditer(line):
                name = (match.group("quoted") or match.group("plain")).strip()
                if name and name not in labels:
                    labels.append(name)
    return labels


def title_prefix(definition: TemplateDefinition) -> str:
    """The fixed start of the template's title pattern (``🤖 [AI Proposal]``), or "" when it has none."""
    for comment in definition.comments:
        match = _TITLE_FORMAT.search(comment)
        if match and match.group("prefix").strip():
            return match.group("prefix").strip()
    return ""


def issue_title(definition: TemplateDefinition, title: str) -> str:
    """A new issue's title as the template's pattern asks, unless the author already wrote it so."""
    prefix = title_prefix(definition)
    if not prefix or title.startswith(prefix):
        return title
    return f"{prefix} {title}"


@functools.cache
def _all_prefixes() -> tuple[str, ...]:
    return tuple(sorted({p for d in DEFINITIONS.values() if (p := title_prefix(d))}, key=len, reverse=True))


def proposal_title(issue_title_text: str) -> str:
    """The proposal's title read from an issue's: the template's fixed prefix is the pattern's, not the author's."""
    text = normalise(issue_title_text)
    for prefix in _all_prefixes():
        if text.startswith(prefix) and text[len(prefix) :].strip():
            return text[len(prefix) :].strip()
    return text


def retitled(issue_title_text: str, title: str) -> str:
    """The issue's new title for a proposal retitled ``title``: the pattern's prefix stays when the issue has it."""
    current = normalise(issue_title_text)
    for prefix in _all_prefixes():
        if current.startswith(prefix) and not title.startswith(prefix):
            return f"{prefix} {title}"
    return title


def normalise(title: str | None) -> str:
    return " ".join(str(title or "").split())


@functools.cache
def proposal_labels() -> tuple[str, ...]:
    """The labels that mark an issue as a proposal, across every template version: each version's
    working-group label and the first label its `/label` quick action applies (the newest template
    marks its issues ``AI Feature Proposal``; the others ``wg-ai-integration``). GitLab's label filter
    is AND, so listings walk them one at a time."""
    labels: list[str] = []
    for definition in DEFINITIONS.values():
        for name in (definition.label, *quick_action_labels(definition)[:1]):
            if name not in labels:
                labels.append(name)
    return tuple(labels)
