"""Import of existing GitLab issues: a proposal for every issue with the working-group label that has none."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction

from gitlab_sync import client, fields
from gitlab_sync.exchange import linked_to_issue
from gitlab_sync.linking import LinkRefused, link_issue
from gitlab_sync.managed import MANAGED_PREFIXES
from gitlab_sync.models import SyncState
from gitlab_sync.template_actions import proposal_labels, proposal_title
from proposals import search
from proposals.content import TITLE, content_values
from proposals.models import Activity, Proposal
from proposals.services import proposal_create
from proposals.signals import Origin

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    imported: list[tuple[int, int, str, int]] = field(default_factory=list)  # iid, proposal id, title, fields
    already_linked: list[int] = field(default_factory=list)
    linked_existing: list[tuple[int, int]] = field(default_factory=list)  # iid, proposal id
    failed: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        relinked = f"{len(self.linked_existing)} linked to their proposal; " if self.linked_existing else ""
        out = [
            f"Imported {len(self.imported)} issue(s); {relinked}{len(self.already_linked)} already linked; "
            f"{len(self.failed)} failed."
        ]
        out += [f"  #{iid} → proposal {pk}: {title} ({n} field(s) filled)" for iid, pk, title, n in self.imported]
        out += [f"  #{iid} → its proposal {pk}, which had lost its link" for iid, pk in self.linked_existing]
        out += [f"  #{iid} failed: {reason}" for iid, reason in self.failed]
        return out


def proposal_issues(label: str | None = None, *, per_page: int = 100):
    """Every issue carrying ``label``, or any template version's proposal label, once, oldest first.
    Issues closed by a move or as a duplicate are left out: their content lives on elsewhere."""
    seen: set[int] = set()
    for name in [label] if label else proposal_labels():
        for issue in client.iter_issues(labels=name, order_by="created_at", sort="asc", per_page=per_page):
            if issue["id"] not in seen and not (issue.get("moved_to_id") or issue.get("duplicated_to_id")):
                seen.add(issue["id"])
                yield issue


IMPORT_BATCH = 50  # issues per transaction: one commit for many new proposals, each still in a savepoint


def import_issues(*, owner, label: str | None = None) -> ImportReport:
    """Create a proposal for every issue carrying a proposal label (of any template version) that has
    none yet; an issue that carries the mark of a proposal without issue is linked to that proposal."""
    linked = set(SyncState.objects.exclude(issue_iid=None).filter(project_path="").values_list("issue_iid", flat=True))
    report = ImportReport()
    batch: list[dict] = []
    for issue in proposal_issues(label):
        batch.append(issue)
        if len(batch) == IMPORT_BATCH:
            _import_batch(batch, owner=owner, linked=linked, report=report)
            batch = []
    if batch:
        _import_batch(batch, owner=owner, linked=linked, report=report)
    return report


def _import_batch(issues: list[dict], *, owner, linked: set[int], report: ImportReport) -> None:
    links: dict[Proposal, dict] = {}
    # The batch's search entries and links are written once for all its proposals, in its transaction.
    with transaction.atomic(), search.deferred_indexing():
        for issue in issues:
            _import_issue(issue, owner=owner, linked=linked, report=report, links=links)
        if links:
            # A receiver of the new proposal may have made its SyncState row already: then it is updated.
            SyncState.objects.bulk_create(
                [SyncState(proposal=proposal, **link) for proposal, link in links.items()],
                update_conflicts=True,
                unique_fields=["proposal"],
                update_fields=sorted({name for link in links.values() for name in link}),
            )


def _import_issue(issue: dict, *, owner, linked: set[int], report: ImportReport, links: dict[Proposal, dict]) -> None:
    if issue["iid"] in linked:
        report.already_linked.append(issue["iid"])
        return
    mark = fields.marked_proposal(issue.get("description"))
    marked = Proposal.objects.filter(pk=mark).first() if mark is not None else None
    if marked is not None and not SyncState.objects.filter(proposal=marked, issue_iid__isnull=False).exists():
        try:
            with transaction.atomic():
                link_issue(marked, issue)
        except LinkRefused as refused:
            report.failed.append((issue["iid"], str(refused)))
            return
        report.linked_existing.append((issue["iid"], marked.pk))
        linked.add(issue["iid"])
        return
    try:
        with transaction.atomic():
            content = fields.parse_content(issue.get("description") or "")  # read once
            proposal = proposal_create(
                title=proposal_title(issue.get("title") or "") or f"GitLab issue #{issue['iid']}",
                owner=owner,
                confidential=bool(issue.get("confidential")),
                # Pinned to the template version the issue was written from, as the paste import
                # does: a proposal of an older version would drop the newer sections on its next push.
                template_version=content.template_version,
                origin=Origin.GITLAB,
                labels=[name for name in issue.get("labels") or [] if not name.startswith(MANAGED_PREFIXES)],
            )
            remote_values = content_values(content, proposal_title(issue.get("title") or ""))
            changes = {
                key: value
                for key, value in remote_values.items()
                if key != TITLE and value not in ("", [], None, False)
            }
            if changes:
                # Also ticks the items verified by data; those verified by labels were ticked at creation.
                fields.apply_remote(proposal, changes, issue_content=content)
            link = {**linked_to_issue(issue, proposal, remote_values), "needs_push": False, "push_enqueued_at": None}
            Activity.objects.record(
                proposal,
                kind=Activity.Kind.SYNC,
                message=f"Imported from GitLab issue #{issue['iid']}",
                data={"iid": issue["iid"], "web_url": issue.get("web_url", "")},
            )
    except Exception as exc:  # one odd issue must not stop the import; it is reported
        log.exception("Import of GitLab issue #%s failed", issue.get("iid"))
        report.failed.append((issue["iid"], str(exc)[:300]))
        return
    links[proposal] = link
    filled = sum(1 for key in changes if key.startswith("field:"))
    report.imported.append((issue["iid"], proposal.pk, proposal.title, filled))
    linked.add(issue["iid"])
