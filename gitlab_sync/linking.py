"""Link a proposal to an issue that already exists on GitLab, instead of creating a second one.

Called by the import (an issue carrying a proposal's mark, or pasted into Stagegate) and by the
pages that let an author name the issue their proposal was written in.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.db import transaction

from gitlab_sync import client, fields
from gitlab_sync.connection import ensure_healthy, proposal_lock, sync_enabled
from gitlab_sync.exchange import linked_to_issue
from gitlab_sync.models import SyncState
from gitlab_sync.outbox import mark_dirty
from proposals.models import Activity, Proposal
from proposals.signals import IssueLinkRefused

# …/group/project/-/issues/12 (or /-/work_items/12, GitLab 17+), "group/project#12", "#12", "12".
_URL_PATH = re.compile(r"^/?(?P<project>.+?)/-/(?:issues|work_items)/(?P<iid>\d+)/?$")
_REFERENCE = re.compile(r"^(?P<project>[^\s#]+)?#(?P<iid>\d+)$|^(?P<bare>\d+)$")


class LinkRefused(Exception):
    """Why this issue cannot be linked to this proposal, in words for the person who asked."""


def parse_issue_reference(value: int | str) -> tuple[str, int]:
    """(project path or "", iid) from an iid, ``#12``, ``group/project#12`` or an issue URL."""
    if isinstance(value, int):
        return "", value
    text = str(value).strip()
    if "://" in text:
        parsed = urlparse(text)
        path = unquote(parsed.path)
        base_path = urlparse(settings.GITLAB_URL).path.rstrip("/")
        if base_path and path.startswith(base_path + "/"):
            path = path[len(base_path) :]
        match = _URL_PATH.match(path)
        if match is None:
            raise LinkRefused(f"“{text}” is not the address of a GitLab issue.")
        return match.group("project").strip("/"), int(match.group("iid"))
    match = _REFERENCE.match(text)
    if match is None:
        raise LinkRefused(f"“{text}” is not an issue: give its number, #number, group/project#number or address.")
    return (match.group("project") or ""), int(match.group("iid") or match.group("bare"))


def _is_connected_project(path: str) -> bool:
    if not path or path.casefold() == str(settings.GITLAB_PROJECT).casefold():
        return True
    return path.casefold() == str(client.get_project().get("path_with_namespace", "")).casefold()


def link_existing_issue(proposal: Proposal, issue_iid_or_url: int | str, by) -> dict[str, Any]:
    """Link ``proposal`` to an issue of the connected project that already exists; returns the issue.

    Refused (``LinkRefused``) when ``by`` may not edit the proposal, the issue is in another project,
    the bot cannot read it, it was moved or closed as a duplicate, another proposal is linked to it,
    or this proposal is already linked to another issue. What differs is merged by the next push:
    a field empty on one side takes the other side's text, a field both sides wrote differently
    becomes a conflict for the author, never silently overwritten.
    """
    if not sync_enabled():
        raise LinkRefused("GitLab is not connected to Stagegate, so no issue can be linked.")
    if not proposal.is_editable_by(by):
        raise LinkRefused("Only the proposal's author or an admin can link it to a GitLab issue.")
    project, iid = parse_issue_reference(issue_iid_or_url)
    host = urlparse(str(issue_iid_or_url).strip()).netloc if "://" in str(issue_iid_or_url) else ""
    ensure_healthy()
    if not _is_connected_project(project):
        raise LinkRefused(f"{project}#{iid} is not in {settings.GITLAB_PROJECT}, the project Stagegate syncs with.")
    try:
        issue = client.get_issue(iid)
    except client.IssueNotFound:
        raise LinkRefused(
            f"The bot cannot read issue #{iid} of {settings.GITLAB_PROJECT}: it does not exist, or it is "
            "confidential and the bot is below Reporter."
        ) from None
    # An address names its GitLab: ours as configured, or as GitLab calls itself (its external URL).
    if host and host not in {urlparse(settings.GITLAB_URL).netloc, urlparse(issue.get("web_url") or "").netloc}:
        raise LinkRefused(f"{issue_iid_or_url} is on another GitLab than the one Stagegate syncs with.")
    if issue.get("moved_to_id") or issue.get("duplicated_to_id"):
        raise LinkRefused(f"Issue #{iid} was moved or closed as a duplicate; link the issue it became.")
    with proposal_lock(proposal.pk, wait=5.0):
        link_issue(proposal, issue, by=by)
    return issue


def link_issue(proposal: Proposal, issue: dict[str, Any], *, by=None) -> None:
    """Record the link (the checks of ``link_existing_issue`` aside); the push that follows merges."""
    with transaction.atomic():
        taken = (
            SyncState.objects.select_for_update()
            .filter(issue_iid=issue["iid"], project_path="")
            .exclude(proposal=proposal)
            .select_related("proposal")
            .first()
        )
        if taken is not None:
            raise LinkRefused(
                f"Issue #{issue['iid']} is already linked to proposal {taken.proposal_id}, “{taken.proposal.title}”."
            )
        marked = fields.marked_proposal(issue.get("description"))
        if marked not in (None, proposal.pk) and Proposal.objects.filter(pk=marked).exists():
            raise LinkRefused(f"Issue #{issue['iid']} was written by Stagegate for another proposal ({marked}).")
        state, _ = SyncState.objects.select_for_update().get_or_create(proposal=proposal)
        if state.issue_iid == issue["iid"] and not state.project_path:
            return
        if state.issue_iid is not None:
            raise LinkRefused(f"This proposal is already linked to issue #{state.issue_iid}.")
        if state.create_started_at is not None and fields.marked_proposal(issue.get("description")) != proposal.pk:
            raise LinkRefused(
                "Stagegate already started creating this proposal's issue; let that finish, then relink in the admin."
            )
        remote_values = fields.remote_snapshot(issue)
        SyncState.objects.filter(pk=state.pk).update(
            **{
                **linked_to_issue(issue, proposal, remote_values),
                "base_fields": _first_base(fields.local_snapshot(proposal), remote_values),
                "base_labels": [],  # a first merge keeps the labels of both sides
                # The proposal's confidentiality is the agreed one: a confidential issue makes the proposal
                # confidential, a public issue of a confidential proposal is made confidential again.
                "base_confidential": proposal.confidential,
                "remote_updated_at": None,
                "base_hash": "",  # merged for the first time by the next push
                "create_started_at": None,
            }
        )
        Activity.objects.record(
            proposal,
            actor=by,
            kind=Activity.Kind.SYNC,
            message=f"Linked to the existing GitLab issue #{issue['iid']}",
            data={"iid": issue["iid"], "web_url": issue.get("web_url", "")},
        )
        mark_dirty(proposal)  # the push merges both sides and writes what differs


def _empty(value: Any) -> bool:
    return value in ("", None, [], False)


def _first_base(local: dict[str, Any], remote: dict[str, Any]) -> dict[str, Any]:
    """The base of a first merge: a side with nothing in a field takes the other's; both written
    differently stays unagreed (a conflict)."""
    base: dict[str, Any] = {}
    for key in set(local) | set(remote):
        mine, theirs = local.get(key), remote.get(key)
        if mine == theirs or _empty(mine):
            base[key] = mine
        elif _empty(theirs):
            base[key] = theirs
        else:
            base[key] = None
    return base


def on_proposal_created(sender, *, proposal: Proposal, by, gitlab_issue_ref: str = "", **kwargs) -> str | None:
    """A new proposal that names an existing issue is linked to it (the push then updates that issue
    instead of creating one). Returns the issue's title; a refusal rolls the creation back."""
    if not gitlab_issue_ref:
        return None
    try:
        issue = link_existing_issue(proposal, gitlab_issue_ref, by)
    except (LinkRefused, client.GitLabError) as refusal:
        raise IssueLinkRefused(getattr(refusal, "message", None) or str(refusal)) from None
    return issue.get("title") or ""
