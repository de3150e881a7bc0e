"""Changes made on GitLab are kept in the history as the GitLab user's; GitLab comments are searchable."""

from gitlab_sync import exchange, inbound
from gitlab_sync.models import SyncState
from proposals import search
from proposals.models import FieldChange, Proposal
from tests.factories import UserFactory
from tests.gitlab_sync import conftest as sync
from tests.gitlab_sync.issue_text import edit_issue_fields

# The GitLab stand-in and a proposal linked to its issue, shared with the sync's tests.
fake_server, fake, linked, tasks_go_nowhere = sync.fake_server, sync.fake, sync.linked, sync.tasks_go_nowhere
issue_of = sync.issue_of


def test_an_edit_made_on_gitlab_is_kept_as_the_gitlab_users(fake, linked):
    issue = issue_of(fake, linked)
    fake.human_edit(issue.iid, description=edit_issue_fields(issue.description, user_problem="Written on GitLab."))
    exchange.sync_proposal(linked.pk, actor="alice")
    row = FieldChange.objects.get(proposal=linked, field="field:user_problem")
    assert (row.after, row.origin, row.actor, row.actor_name) == ("Written on GitLab.", "gitlab", None, "alice")


def test_labels_changed_on_gitlab_are_kept_too(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.human_edit(iid, confidential=True)
    exchange.sync_proposal(linked.pk, actor="alice")
    row = FieldChange.objects.get(proposal=linked, field="confidential")
    assert (row.before, row.after, row.actor_name) == ("public", "confidential", "alice")


def test_gitlab_comments_are_found_but_internal_notes_never(fake, linked):
    iid = SyncState.objects.get(proposal=linked).issue_iid
    fake.human_comment(iid, "Have we asked the capybara team?")
    fake.human_comment(iid, "Internal: the narwhal budget.", internal=True)
    inbound.pull_comments(linked.pk)
    reviewer = UserFactory(username="rosalind", groups=["reviewer"])
    visible = Proposal.objects.visible_to(reviewer)
    (hit,) = search.search("capybara", visible=visible)[0:10]
    assert hit.proposal == linked and hit.snippets[0].label == "GitLab comment by alice"
    assert search.search("narwhal", visible=visible).count() == 0
