"""The issue's linked items: read from GitLab into `LinkedIssue` rows, added and removed from Stagegate.

GitLab lists only the linked issues the bot may read. Who in Stagegate sees what is decided when the
rows are shown (`visible_links`): a confidential linked issue's title only to those who may see the
project's internal notes, since GitLab shows it to project members only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gitlab_sync import client, linking
from gitlab_sync.connection import ensure_healthy
from gitlab_sync.models import IssueCollabState, LinkedIssue, SyncState
from proposals import access
from proposals.checklists import refresh_verified_checklist
from proposals.models import Activity, Proposal

VERIFIER = "gitlab:linked_issues"
LINK_TYPES = dict(LinkedIssue.LinkType.choices)


class LinkRefused(Exception):
    """Why a link could not be added or removed, in words for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_issue_reference(text: str) -> tuple[str, int]:
    """``#12``, ``12``, ``group/project#12`` or the issue's URL on our GitLab -> (project path, iid).

    An empty project path means the proposal's own project. The forms are the ones an author may name
    their own issue with (``linking``); a related issue may be in another project, never another GitLab.
    """
    text = (text or "").strip()
    try:
        project, iid = linking.parse_issue_reference(text)
    except linking.LinkRefused as refusal:
        raise LinkRefused(str(refusal)) from None
    if "://" in text and urlsplit(text).netloc != urlsplit(settings.GITLAB_URL).netloc:
        raise LinkRefused(f"“{text[:100]}” is on another GitLab than the one Stagegate syncs with.")
    return project, iid


def _issue_of(proposal: Proposal) -> SyncState:
    try:
        ensure_healthy()
    except client.GitLabError as exc:
        raise LinkRefused(f"GitLab sync is paused: {exc.message}") from exc
    state = SyncState.objects.filter(proposal=proposal).first()
    if state is None or state.issue_iid is None or state.link_broken:
        raise LinkRefused("This proposal has no GitLab issue yet: links can be added once it is synced.")
    return state


def _refusal(exc: client.GitLabError, reference: str) -> LinkRefused:
    if isinstance(exc, client.IssueNotFound) or (
        isinstance(exc, client.ConnectionBlocked) and exc.reason == "project_gone"
    ):
        return LinkRefused(f"GitLab has no issue {reference} that Stagegate's bot may read.")
    if exc.status == 409:
        return LinkRefused(f"{reference} is already linked.")
    if isinstance(exc, client.PermanentGitLabError):
        return LinkRefused(f"GitLab refused the link: {exc.message}")
    return LinkRefused(f"GitLab could not be reached ({exc.message}); try again in a moment.")


def link_add(*, proposal: Proposal, reference: str, link_type: str, by) -> LinkedIssue | None:
    """Link another issue to the proposal's issue on GitLab, then read the links again."""
    if link_type not in LINK_TYPES:
        raise LinkRefused("Choose how the issues are linked: relates to, blocks or is blocked by.")
    project_path, iid = parse_issue_reference(reference)
    state = _issue_of(proposal)
    target_project = project_path or state.project_path or settings.GITLAB_PROJECT
    shown = f"{project_path}#{iid}" if project_path else f"#{iid}"
    try:
        answer = client.create_issue_link(
            state.issue_iid, target_project=target_project, target_iid=iid, link_type=link_type, project=state.project
        )
    except client.GitLabError as exc:
        raise _refusal(exc, shown) from exc
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.SYNC,
        message=f"{by.get_username()} linked {shown} on GitLab ({LINK_TYPES[link_type]})",
        data={"link": shown, "link_type": link_type},
    )
    refresh_links(proposal.pk)
    target_id = (answer.get("target_issue") or {}).get("id")
    return LinkedIssue.objects.filter(proposal=proposal, issue_id=target_id).first()


def link_remove(*, proposal: Proposal, link: LinkedIssue, by) -> None:
    """Remove a link on GitLab (a link already gone there is gone here too)."""
    state = _issue_of(proposal)
    try:
        client.delete_issue_link(state.issue_iid, link.link_id, project=state.project)
    except client.IssueNotFound:
        pass
    except client.GitLabError as exc:
        raise _refusal(exc, link.reference) from exc
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.SYNC,
        message=f"{by.get_username()} removed the link to {link.reference or '#' + str(link.issue_iid)} on GitLab",
        data={"link": link.reference},
    )
    refresh_links(proposal.pk)


def _reference(row: dict) -> str:
    references = row.get("references") or {}
    return references.get("full") or references.get("relative") or f"#{row.get('iid')}"


def refresh_links(proposal_id: int) -> int:
    """Read the issue's links again and keep exactly those; returns how many there are."""
    state = SyncState.objects.filter(proposal_id=proposal_id).exclude(issue_iid=None).first()
    if state is None:
        return 0
    rows = client.list_issue_links(state.issue_iid, project=state.project)
    with transaction.atomic():
        kept = []
        for row in rows:
            link, _ = LinkedIssue.objects.update_or_create(
                proposal_id=proposal_id,
                link_id=row["issue_link_id"],
                defaults={
                    "link_type": row.get("link_type") if row.get("link_type") in LINK_TYPES else "relates_to",
                    "issue_id": row["id"],
                    "issue_iid": row["iid"],
                    "project_id": row.get("project_id"),
                    "reference": _reference(row)[:300],
                    "title": (row.get("title") or "")[:255],
                    "state": (row.get("state") or "")[:10],
                    "confidential": bool(row.get("confidential")),
                    "web_url": _http(row.get("web_url")),
                },
            )
            kept.append(link.pk)
        LinkedIssue.objects.filter(proposal_id=proposal_id).exclude(pk__in=kept).delete()
        IssueCollabState.objects.update_or_create(proposal_id=proposal_id, defaults={"links_read_at": timezone.now()})
        refresh_verified_checklist(Proposal.objects.get(pk=proposal_id))
    return len(kept)


def _http(url: str | None) -> str:
    """Only http(s) URLs reach a link on the page."""
    url = (url or "").strip()
    return url[:1000] if url.startswith(("https://", "http://")) else ""


def has_linked_issues(proposal: Proposal) -> bool | None:
    """The checklist's "link related issues" item: GitLab shows at least one linked issue (None: the
    links were never read, e.g. the proposal is not on GitLab yet; the item keeps what it says)."""
    if not IssueCollabState.objects.filter(proposal=proposal, links_read_at__isnull=False).exists():
        return None
    return LinkedIssue.objects.filter(proposal=proposal).exists()


@dataclass(frozen=True)
class ShownLink:
    link: LinkedIssue
    title: str  # the title, or a stand-in when the reader may not see it


def visible_links(proposal: Proposal, user) -> list[ShownLink]:
    """The links as this reader may see them (the caller already checked they may read the proposal)."""
    members = access.may_see_internal_notes(user, proposal)
    return [
        ShownLink(link, link.title if (members or not link.confidential) else "Confidential issue")
        for link in proposal.linked_issues.all()
    ]
