"""Import from Markdown linked to an existing GitLab issue: the proposal follows that issue, no new one is made."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gitlab_sync import outbox
from gitlab_sync.models import SyncState
from proposals.models import Proposal
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("proposals:import")
BODY = "### User problem\nReviewers drown in long threads.\n\n### Proposal\nA summary above the thread.\n"


def confirm(client, **data):
    return client.post(IMPORT, {"markdown": BODY, "step": "confirm", **data})


@pytest.mark.parametrize("reference", ["#{iid}", "{iid}", "{web_url}"])
def test_an_import_linked_to_an_issue_updates_that_issue_and_creates_none(fake, author_client, reference):
    issue = fake.create_issue(title="🤖 [AI Proposal] Summaries for reviewers", description=BODY)
    ref = reference.format(iid=issue.iid, web_url=f"{fake.url}/{fake.project.path_with_namespace}/-/issues/{issue.iid}")
    response = confirm(author_client, title="Summaries for reviewers", gitlab_issue=ref)
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert SyncState.objects.get(proposal=proposal).issue_iid == issue.iid
    fake.clear_request_log()
    outbox.push(proposal.pk)
    assert fake.requests_to("issues.create") == []
    # The title is Stagegate's; the template's title prefix stays once, as GitLab shows it.
    assert fake.issue(issue.iid).title == "🤖 [AI Proposal] Summaries for reviewers"
    assert "Reviewers drown in long threads." in fake.issue(issue.iid).description
    assert len(fake.issues()) == 1


def test_left_without_a_title_the_proposal_takes_the_issues(fake, author_client):
    issue = fake.create_issue(title="🤖 [AI Proposal] Faster triage for maintainers", description=BODY)
    confirm(author_client, title="", gitlab_issue=f"#{issue.iid}")
    proposal = Proposal.objects.get()
    assert proposal.title == "🤖 [AI Proposal] Faster triage for maintainers"
    outbox.push(proposal.pk)
    assert fake.issue(issue.iid).title == "🤖 [AI Proposal] Faster triage for maintainers"


def test_an_issue_already_linked_to_a_proposal_is_refused_and_nothing_is_created(fake, author, author_client):
    existing = ProposalFactory(owner=author, title="Already there")
    outbox.push(existing.pk)
    iid = SyncState.objects.get(proposal=existing).issue_iid
    page = confirm(author_client, title="Second", gitlab_issue=f"#{iid}").content.decode()
    assert "Nothing was imported" in page and "already linked" in page and "Already there" in page
    assert list(Proposal.objects.values_list("title", flat=True)) == ["Already there"]
    # The preview is shown again with the text carried, ready to import without the link.
    assert "Reviewers drown in long threads." in page and 'name="step" value="confirm"' in page


def test_an_issue_that_does_not_exist_is_refused_with_the_project_named(fake, author_client):
    page = confirm(author_client, gitlab_issue="#9999").content.decode()
    assert "cannot read issue #9999" in page and fake.project.path_with_namespace in page
    assert not Proposal.objects.exists()


def test_an_issue_of_another_project_is_refused(fake, author_client):
    issue = fake.create_issue(title="Elsewhere")
    for elsewhere in (
        f"{fake.url}/other/project/-/issues/{issue.iid}",
        f"{fake.url}/other/{fake.project.path_with_namespace}/-/issues/{issue.iid}",  # a subgroup of the same name
        f"https://gitlab.example.com/{fake.project.path_with_namespace}/-/issues/{issue.iid}",  # another GitLab
    ):
        page = confirm(author_client, gitlab_issue=elsewhere).content.decode()
        assert ("is not in" in page or "another GitLab" in page) and fake.project.path_with_namespace in page
    assert not Proposal.objects.exists()
