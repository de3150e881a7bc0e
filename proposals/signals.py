"""What proposals tell the apps that depend on them. Sent inside the writing transaction.

The receivers (reviews, the GitLab sync) act in the same transaction, so a save and
everything it implies commit or roll back together; nothing here knows who listens.
"""

from __future__ import annotations

from enum import StrEnum

from django.dispatch import Signal


class Origin(StrEnum):
    """Where a change came from. The GitLab sync does not send GitLab's own changes back to it."""

    STAGEGATE = "stagegate"
    GITLAB = "gitlab"


# proposal_created(sender, proposal, by, origin, gitlab_issue_ref): the proposal and its checklists exist.
# `gitlab_issue_ref` ("" or an existing issue's URL or "#iid") asks for the proposal to be linked to that
# issue instead of a new one being created; the receiver that links it returns the issue's title, or
# raises IssueLinkRefused, which rolls the creation back.
proposal_created = Signal()


class IssueLinkRefused(Exception):
    """The GitLab issue a new proposal was to be linked to cannot be linked; the message says why."""


# orr_answers_received(sender, proposal, answers, by, origin): content written onto the proposal
# (an import, a template move, GitLab) carried these ORR answers, {area key: text}. The reviews
# app owns the answers and saves them, so a signed-off area whose answer changed goes stale.
orr_answers_received = Signal()

# proposal_changed(sender, proposal, fields, by, origin): something the issue shows changed.
# `fields` names what changed, in the proposal's own words ("user_problem", "checklist",
# "orr_answer", "state", ...); receivers that only care whether anything changed ignore it.
proposal_changed = Signal()


def send_proposal_changed(proposal, *, fields: list[str], by=None, origin: Origin = Origin.STAGEGATE) -> None:
    proposal_changed.send(sender=type(proposal), proposal=proposal, fields=list(fields), by=by, origin=Origin(origin))


# proposal_authors_changed(sender, proposal, new_owner, added_co_authors, by): the proposal was handed to
# `new_owner` (None when the owner stayed) and/or these people became co-authors. The reviews app tells them.
proposal_authors_changed = Signal()
