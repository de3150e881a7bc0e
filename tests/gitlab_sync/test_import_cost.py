"""What importing and reconciling issues costs in database queries: a fixed amount per issue, whether
there are 5 issues or 50, against the fake GitLab over real HTTP."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gitlab_sync import importer, inbound
from proposals.models import FieldChange, Proposal, SearchEntry
from tests.gitlab_sync.issue_text import edit_issue_fields

pytestmark = pytest.mark.django_db

# Per imported issue, in a savepoint of its own: the proposal with its checklist (verified as it is made,
# with no query: a new proposal has no rows of its own to ask), ORR reviews and timeline entry; GitLab's text
# applied (content, the checklist items its answers verify, history), the import's timeline entry. Per batch
# of 50 (and per call): the search entries (with what they read: requirements, links, ORR answers and
# threads, GitLab comments) and the sync links of all its proposals.
IMPORT_PER_ISSUE = 14
IMPORT_FIXED = 12
# Per reconciled issue: the link, GitLab's text applied under the proposal's lock (content, the checklist
# items its answers verify, history, search entries of the changed field: one statement on PostgreSQL, two
# elsewhere), the timeline, conflicts, the link's new base. Per page of 100 issues: the changed proposals with
# what their merge reads (content, reviews), and the pushes that follow. Per call: the links, comment counts,
# the connection (its health read once) and its watermark.
RECONCILE_PER_ISSUE = 12 if connection.vendor == "postgresql" else 13
RECONCILE_FIXED = 20


def import_and_reconcile(fake, author, count: int) -> tuple[int, int]:
    for n in range(count):
        body = edit_issue_fields("", user_problem=f"Imported problem {n}", assumptions="Some assumption")
        fake.create_issue(title=f"Imported proposal {n}", description=body, labels="wg-ai-integration")
    with CaptureQueriesContext(connection) as imported:
        report = importer.import_issues(owner=author)
    assert len(report.imported) == count and report.failed == []
    for issue in fake.issues():
        fake.human_edit(issue.iid, description=edit_issue_fields(issue.description, user_problem="Changed on GitLab"))
    with CaptureQueriesContext(connection) as reconciled:
        stats = inbound.reconcile()
    assert stats["synced"] == count
    return len(imported), len(reconciled)


@pytest.mark.parametrize("count", [5, 50])
def test_import_and_reconcile_cost_the_same_queries_per_issue_at_5_and_50_issues(fake, author, count):
    import_queries, reconcile_queries = import_and_reconcile(fake, author, count)
    assert import_queries == IMPORT_FIXED + IMPORT_PER_ISSUE * count
    assert reconcile_queries == RECONCILE_FIXED + RECONCILE_PER_ISSUE * count


def test_a_batched_import_still_writes_history_search_and_timeline_for_every_issue(fake, author):
    import_and_reconcile(fake, author, 3)
    for proposal in Proposal.objects.all():
        assert proposal.user_problem == "Changed on GitLab"
        assert proposal.assumptions == "Some assumption"
        # GitLab's edit within minutes of the import extends the import's history row (one burst).
        history = FieldChange.objects.filter(proposal=proposal, field="field:user_problem")
        assert [(row.before, row.after, row.origin) for row in history] == [("", "Changed on GitLab", "gitlab")]
        assumptions = FieldChange.objects.get(proposal=proposal, field="field:assumptions")
        assert (assumptions.before, assumptions.after) == ("", "Some assumption")
        assert SearchEntry.objects.get(proposal=proposal, part="field:user_problem").text == "Changed on GitLab"
        assert SearchEntry.objects.get(proposal=proposal, part="title").text == proposal.title
        messages = list(proposal.activities.values_list("message", flat=True))
        assert any(message.startswith("Imported from GitLab issue #") for message in messages)
        assert proposal.checklist_items.get(stage="experiment", key="user_problem").checked


def test_a_proposal_read_with_its_page_then_edited_here_keeps_the_edit(fake, linked, author):
    """Reconcile reads a page's proposals before merging them one by one: one edited here in between is
    read again, so the merge takes GitLab's change without undoing the edit made here."""
    from gitlab_sync import client, exchange
    from tests.gitlab_sync.conftest import issue_of
    from tests.helpers import edit

    iid = issue_of(fake, linked).iid
    fake.human_edit(iid, description=edit_issue_fields(fake.issue(iid).description, assumptions="Said on GitLab"))
    read_early = exchange.proposals_for_sync([linked.pk], push=False)[linked.pk]
    edit(linked, author, user_problem="Typed in Stagegate meanwhile")

    result = exchange.sync_proposal(linked.pk, remote=client.get_issue(iid), push=False, read=read_early)

    linked.refresh_from_db()
    assert linked.user_problem == "Typed in Stagegate meanwhile"
    assert linked.assumptions == "Said on GitLab"
    assert "Assumptions" in ", ".join(result.pulled)
