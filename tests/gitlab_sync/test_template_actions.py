"""The template's quick actions, title pattern and labels (issue 11, items 14 and 15), and linking a
proposal to an issue that already exists on GitLab."""

from __future__ import annotations

import pytest

from gitlab_sync import importer, inbound, linking, outbox
from gitlab_sync.models import SyncConflict, SyncState
from proposals import markdown
from proposals.markdown import ProposalContent
from proposals.models import Proposal
from tests.factories import ProposalFactory
from tests.gitlab_sync.conftest import issue_of
from tests.gitlab_sync.issue_text import edit_issue_fields
from tests.helpers import edit

pytestmark = pytest.mark.django_db

NEWEST = "2023-beta"


def newest_body(**fields) -> str:
    """An issue body written from the newest template, its quick actions left at the end as GitLab shows
    them when it could not run them (a text pasted into an issue, or /parent_epic without epics)."""
    body = markdown.render(ProposalContent(template_version=NEWEST, fields=fields))
    return body + "\n/cc @rogerwoo @oregand @jackib\n/parent_epic &9997\n"


# -- item 15: quick actions and the title pattern ----------------------------------------------


def test_a_new_issue_of_the_newest_template_gets_its_quick_actions_and_title_pattern_once(fake, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads", template_version=NEWEST)
    outbox.push(proposal.pk)
    issue = issue_of(fake, proposal)
    create = fake.requests_to("issues.create")[0].body
    assert "/parent_epic &9997" in create["description"] and "/cc @rogerwoo" in create["description"]
    assert issue.title == "🤖 [AI Proposal] Summarise threads"
    # GitLab ran /label and took it out of the text.
    assert {"AI Feature Proposal", "AI-Seeking community feedback"} <= set(issue.labels)
    assert "/label" not in issue.description

    fake.clear_request_log()
    edit(proposal, author, user_problem="Edited later", title="Summarise long threads")
    outbox.push(proposal.pk)
    (update,) = [r.body for r in fake.requests_to("issues.edit")]
    assert "/cc" not in update.get("description", "") and "/parent_epic" not in update.get("description", "")
    assert update["title"] == "🤖 [AI Proposal] Summarise long threads"
    issue = issue_of(fake, proposal)
    # The template's labels stay: they are the proposal's own now.
    assert {"AI Feature Proposal", "AI-Seeking community feedback"} <= set(issue.labels)
    proposal.refresh_from_db()
    assert proposal.title == "Summarise long threads"
    assert "AI Feature Proposal" in proposal.labels


def test_quick_actions_and_the_title_prefix_never_become_content(fake, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads", template_version=NEWEST)
    outbox.push(proposal.pk)
    iid = issue_of(fake, proposal).iid
    text = edit_issue_fields(issue_of(fake, proposal).description, user_problem="Changed on GitLab")
    fake.human_edit(iid, description=text + "\n/cc @someone\n")
    inbound.reconcile()
    proposal.refresh_from_db()
    assert proposal.title == "Summarise threads"
    assert proposal.user_problem == "Changed on GitLab"
    assert all("/cc" not in str(value) and "/parent_epic" not in str(value) for value in vars(proposal).values())


def test_a_version_without_a_title_pattern_keeps_the_title_as_written(fake, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads", template_version="2023-06")
    outbox.push(proposal.pk)
    issue = issue_of(fake, proposal)
    assert issue.title == "Summarise threads"
    assert "/confidential" not in fake.requests_to("issues.create")[0].body["description"]
    assert issue.confidential is False  # the proposal's confidentiality, never the template's /confidential


# -- item 14: the import finds every version's issues and links what exists ---------------------


def test_the_import_finds_issues_labelled_only_by_the_newest_templates_label(fake, author):
    fake.create_issue(
        title="🤖 [AI Proposal] Explain vulnerabilities",
        description=newest_body(user_problem="Imported", beta_success="Beta measure"),
        labels="AI Feature Proposal,AI-Seeking community feedback",
    )
    report = importer.import_issues(owner=author)
    assert len(report.imported) == 1
    proposal = Proposal.objects.get()
    assert proposal.title == "Explain vulnerabilities"
    assert proposal.template_version == NEWEST
    assert proposal.user_problem == "Imported"
    assert proposal.field_value("beta_success") == "Beta measure"  # the quick actions after it are no answer
    # Imported twice is imported once.
    assert importer.import_issues(owner=author).already_linked == [fake.issues()[0].iid]


def test_an_issue_carrying_the_mark_of_a_proposal_without_issue_is_linked_not_imported_again(fake, author):
    proposal = ProposalFactory(owner=author, title="Lost its link")
    outbox.push(proposal.pk)
    iid = issue_of(fake, proposal).iid
    SyncState.objects.filter(proposal=proposal).update(issue_iid=None, issue_id=None)
    report = importer.import_issues(owner=author)
    assert report.imported == [] and report.linked_existing == [(iid, proposal.pk)]
    assert Proposal.objects.count() == 1
    assert SyncState.objects.get(proposal=proposal).issue_iid == iid
    outbox.push(proposal.pk)
    assert len(fake.issues()) == 1


def test_link_existing_issue_links_by_number_or_address_and_merges_without_loss(fake, author):
    issue = fake.create_issue(
        title="Written on GitLab",
        description=edit_issue_fields("", user_problem="GitLab's problem", assumptions="GitLab's assumption"),
        labels="wg-ai-integration,ux",
    )
    proposal = ProposalFactory(owner=author, title="Written on GitLab", user_problem="", assumptions="Mine")
    Proposal.objects.filter(pk=proposal.pk).update(labels=["wg-ai-integration", "security"])
    assert not SyncState.objects.filter(proposal=proposal, issue_iid__isnull=False).exists()  # not pushed yet
    linking.link_existing_issue(proposal, f"{fake.url}/{fake.project.path_with_namespace}/-/issues/{issue.iid}", author)
    outbox.push(proposal.pk)
    proposal.refresh_from_db()
    assert len(fake.issues()) == 1
    assert SyncState.objects.get(proposal=proposal).issue_iid == issue.iid
    assert proposal.user_problem == "GitLab's problem"  # empty here: GitLab's text
    assert {"ux", "security"} <= set(fake.issues()[0].labels) and {"ux", "security"} <= set(proposal.labels)
    # Both sides wrote it differently: a conflict for the author, neither text lost.
    conflict = SyncConflict.objects.get(proposal=proposal, resolved_at__isnull=True)
    assert (conflict.local_value, conflict.remote_value) == ("Mine", "GitLab's assumption")


@pytest.mark.parametrize(
    "reference, reason",
    [
        ("other/project#1", "is not in"),
        ("#99", "cannot read issue #99"),
        ("https://gitlab.example.com/group/project/-/merge_requests/1", "not the address of a GitLab issue"),
        ("next week", "is not an issue"),
        ("https://gitlab.elsewhere.example/ai-group/proposals/-/issues/1", "on another GitLab"),
    ],
)
def test_link_existing_issue_refuses_what_it_cannot_link(fake, author, reference, reason):
    fake.create_issue(title="Someone's", description="", labels="wg-ai-integration")
    proposal = ProposalFactory(owner=author)
    with pytest.raises(linking.LinkRefused, match=reason):
        linking.link_existing_issue(proposal, reference, author)
    assert not SyncState.objects.filter(proposal=proposal, issue_iid__isnull=False).exists()


def test_link_existing_issue_refuses_an_issue_linked_to_another_proposal_and_a_stranger(fake, author, other_author):
    first = ProposalFactory(owner=author)
    outbox.push(first.pk)
    iid = issue_of(fake, first).iid
    second = ProposalFactory(owner=author)
    with pytest.raises(linking.LinkRefused, match=f"already linked to proposal {first.pk}"):
        linking.link_existing_issue(second, iid, author)
    with pytest.raises(linking.LinkRefused, match="author or an admin"):
        linking.link_existing_issue(second, iid, other_author)
    with pytest.raises(linking.LinkRefused, match="already linked to issue"):
        linking.link_existing_issue(first, fake.create_issue(title="x", description="").iid, author)


def test_an_issue_that_cannot_be_imported_is_reported_and_the_others_of_its_batch_kept(fake, author):
    fake.create_issue(title="First good one", description="", labels="wg-ai-integration")
    fake.create_issue(title="Reversed \u202etitle", description="", labels="wg-ai-integration")
    fake.create_issue(title="Second good one", description="", labels="wg-ai-integration")
    report = importer.import_issues(owner=author)
    assert [iid for iid, _ in report.failed] == [2]
    assert sorted(Proposal.objects.values_list("title", flat=True)) == ["First good one", "Second good one"]
    assert SyncState.objects.filter(issue_iid__in=[1, 3]).count() == 2


def test_reconcile_merges_an_issue_only_touched_by_a_comment_no_more(fake, author):
    proposal = ProposalFactory(owner=author)
    outbox.push(proposal.pk)
    inbound.reconcile()
    iid = issue_of(fake, proposal).iid
    fake.human_comment(iid, "Touches the issue")
    stats = inbound.reconcile()
    assert (stats["unchanged"], stats["synced"]) == (1, 0)
    assert proposal.issue_comments.filter(body="Touches the issue").exists()
    fake.human_edit(iid, description=edit_issue_fields(issue_of(fake, proposal).description, user_problem="Edited"))
    stats = inbound.reconcile()
    assert (stats["unchanged"], stats["synced"]) == (0, 1)
    proposal.refresh_from_db()
    assert proposal.user_problem == "Edited"


def test_a_title_typed_with_the_patterns_prefix_is_sent_once_and_never_rewritten(fake, author):
    proposal = ProposalFactory(owner=author, title="🤖 [AI Proposal] Typed in full", template_version=NEWEST)
    outbox.push(proposal.pk)
    assert issue_of(fake, proposal).title == "🤖 [AI Proposal] Typed in full"
    fake.clear_request_log()
    outbox.push(proposal.pk)
    inbound.reconcile()
    assert fake.requests_to("issues.edit") == []
    proposal.refresh_from_db()
    assert proposal.title == "🤖 [AI Proposal] Typed in full"


def test_the_cc_line_gitlab_leaves_in_a_new_issue_is_no_change_to_read_or_write_back(fake, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads", template_version=NEWEST)
    outbox.push(proposal.pk)
    issue = issue_of(fake, proposal)
    # GitLab ran /label, took /parent_epic out (an epic's command: nothing happens on an issue) and left
    # /cc, a command without action, as text whose @mentions are ordinary mentions.
    assert "/cc @rogerwoo" in issue.description
    assert "/label" not in issue.description and "/parent_epic" not in issue.description
    fake.clear_request_log()
    inbound.reconcile()
    outbox.push(proposal.pk)
    assert fake.requests_to("issues.edit") == []
    assert not SyncConflict.objects.filter(proposal=proposal).exists()
    assert markdown.parse(issue.description).content.fields == {}
