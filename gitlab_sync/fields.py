"""A proposal's synced content as flat values, from either side.

Both sides go through ``ProposalContent``: the proposal via ``content_from_proposal``, the
issue body via ``parse``. Each becomes the same flat dict (``proposals.content.content_values``),
so the merge compares them key by key without knowing the template. GitLab's side is written
back through ``proposals.content.proposal_apply_content``, the one writer of content.
"""

from __future__ import annotations

import re
from typing import Any

from gitlab_sync.template_actions import proposal_title, quick_actions
from proposals import markdown
from proposals.content import (
    TITLE,
    content_from_proposal,
    content_values,
    content_with_values,
    proposal_apply_content,
)
from proposals.models import Proposal
from proposals.signals import Origin


def local_snapshot(proposal: Proposal) -> dict[str, Any]:
    # Compared without the title pattern's prefix on both sides: typed here or added on GitLab, it is no change.
    return content_values(content_from_proposal(proposal), proposal_title(proposal.title))


# The proposal's hidden mark at the end of its issue: a create that timed out but landed is found by
# it, not by a title someone else may share. A Markdown comment: GitLab shows nothing.
MARKER = "<!-- stagegate:proposal={} -->"
_MARKER = re.compile(r"\n*<!-- stagegate:proposal=(\d+) -->\s*\Z")


def proposal_marker(proposal_id: int) -> str:
    return MARKER.format(proposal_id)


def marked_proposal(description: str | None) -> int | None:
    """The proposal whose mark the issue body carries, if any."""
    match = _MARKER.search(description or "")
    return int(match.group(1)) if match else None


def issue_template_version(issue: dict[str, Any]) -> str:
    """The template version the issue's body was written from."""
    return parse_content(issue.get("description") or "").template_version


def parse_content(description: str):
    return markdown.parse(_MARKER.sub("", description or "")).content


def remote_snapshot(issue: dict[str, Any]) -> dict[str, Any]:
    # The template's title prefix (🤖 [AI Proposal]) is the pattern's, not part of the proposal's title.
    return content_values(parse_content(issue.get("description") or ""), proposal_title(issue.get("title") or ""))


def render_description(proposal: Proposal, overrides: dict[str, Any], *, new_issue: bool = False) -> str:
    """The issue body for this proposal, with ``overrides`` (GitLab's side of conflicts) in place.

    A new issue also carries the template's quick actions (``/label``, ``/cc``, ``/parent_epic``), which
    GitLab runs once and takes out of the text; never an update, which would run them again (a label
    someone removed would come back).

    No newline at the end: GitLab strips the end of every description it saves (its quick-action
    extractor returns the text ``rstrip``-ed), so the text it holds after our write is the text we sent,
    hash for hash."""
    content = content_from_proposal(proposal)
    if overrides:
        content = content_with_values(content, overrides)
    actions = quick_actions(proposal.definition) if new_issue else []
    actions_block = "\n".join(actions) + "\n\n" if actions else ""
    return f"{markdown.render(content).rstrip()}\n\n{actions_block}{proposal_marker(proposal.pk)}"


def apply_remote(proposal: Proposal, values: dict[str, Any], *, issue_content=None) -> list[str]:
    """Write values taken from GitLab onto the proposal; returns what changed, in the template's words.

    Runs inside the caller's transaction with the proposal row locked. The change is GitLab's own,
    so it is not queued back to GitLab; ORR answers are saved as the author's, as before the sync.
    ``issue_content``: the issue's whole parsed content, which holds ``values`` (an import), so the
    proposal's own content need not be read to put them in.
    """
    content = issue_content or content_with_values(content_from_proposal(proposal), values)
    return proposal_apply_content(
        proposal=proposal,
        content=content,
        keys=set(values),
        title=values.get(TITLE),
        by=proposal.owner,
        origin=Origin.GITLAB,
    )
