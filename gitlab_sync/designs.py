"""The issue's designs (GitLab Design Management), read through GraphQL into `IssueDesign` rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from gitlab_sync import client
from gitlab_sync.models import IssueCollabState, IssueDesign, SyncState
from proposals.checklists import refresh_verified_checklist
from proposals.models import Proposal

VERIFIER = "gitlab:designs"


def _project_path(state: SyncState) -> str:
    """GraphQL finds projects by full path only: the configured project as a path, or the one the issue moved to."""
    if state.project_path:
        return state.project_path
    configured = str(settings.GITLAB_PROJECT)
    if configured.isdigit():
        return client.get_project()["path_with_namespace"]
    return configured


def refresh_designs(proposal_id: int) -> int:
    """Read the issue's designs again and keep exactly those; returns how many there are."""
    state = SyncState.objects.filter(proposal_id=proposal_id).exclude(issue_iid=None).first()
    if state is None:
        return 0
    try:
        nodes = client.list_designs(state.issue_iid, project_path=_project_path(state))
    except client.PermanentGitLabError as exc:
        # Design Management off (no LFS, or a tier without it) is GitLab's answer, not a failure to retry.
        IssueCollabState.objects.update_or_create(
            proposal_id=proposal_id, defaults={"designs_error": exc.message[:500], "designs_read_at": timezone.now()}
        )
        return IssueDesign.objects.filter(proposal_id=proposal_id).count()
    with transaction.atomic():
        kept = []
        for position, node in enumerate(nodes or []):
            design, _ = IssueDesign.objects.update_or_create(
                proposal_id=proposal_id,
                gitlab_id=str(node.get("id"))[:200],
                defaults={
                    "filename": (node.get("filename") or "")[:255],
                    "full_path": (node.get("fullPath") or "")[:1000],
                    "image_url": _http(node.get("image")),
                    "thumbnail_url": _http(node.get("imageV432x230")),
                    "position": position,
                    "updated_at": _newest_version_at(node),
                },
            )
            kept.append(design.pk)
        IssueDesign.objects.filter(proposal_id=proposal_id).exclude(pk__in=kept).delete()
        IssueCollabState.objects.update_or_create(
            proposal_id=proposal_id, defaults={"designs_read_at": timezone.now(), "designs_error": ""}
        )
        refresh_verified_checklist(Proposal.objects.get(pk=proposal_id))
    return len(kept)


def _newest_version_at(node: dict) -> datetime | None:
    """When the design's newest version was uploaded (GitLab lists versions newest first)."""
    versions = ((node.get("versions") or {}).get("nodes")) or []
    created = versions[0].get("createdAt") if versions and isinstance(versions[0], dict) else None
    try:
        return parse_datetime(created) if isinstance(created, str) else None
    except ValueError:
        return None


def _http(url: str | None) -> str:
    """Only http(s) URLs reach an ``<img src>`` or a link."""
    url = (url or "").strip()
    return url[:2000] if url.startswith(("https://", "http://")) else ""


def designs_shown(designs: Iterable[IssueDesign], issue_url: str) -> list[dict]:
    """Designs as the proposal page and the API show them: each with where it is on GitLab (its page in the
    issue; without an issue URL, the image itself)."""
    return [
        {"design": design, "page": f"{issue_url}/designs/{quote(design.filename)}" if issue_url else design.image_url}
        for design in designs
    ]


def has_designs(proposal: Proposal) -> bool | None:
    """The checklist's "add relevant designs" item: the issue's Design Management area holds a design
    (None: the designs were never read; the item keeps what it says)."""
    if not IssueCollabState.objects.filter(proposal=proposal, designs_read_at__isnull=False).exists():
        return None
    return IssueDesign.objects.filter(proposal=proposal).exists()
