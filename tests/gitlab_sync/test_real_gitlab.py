"""What real GitLab does that a kind fake did not (issue 11), against the fake over real HTTP."""

from __future__ import annotations

import pytest

from gitlab_sync import exchange, outbox
from gitlab_sync.models import SyncState
from proposals.models import Activity, Proposal
from proposals.signals import send_proposal_changed
from tests.gitlab_sync.conftest import issue_of

pytestmark = pytest.mark.django_db


def set_labels(proposal: Proposal, labels: list[str]) -> None:
    Proposal.objects.filter(pk=proposal.pk).update(labels=labels)
    send_proposal_changed(proposal, fields=["labels"])


def sync_activities(proposal: Proposal, text: str) -> list[Activity]:
    return list(proposal.activities.filter(kind=Activity.Kind.SYNC, message__contains=text))


# -- labels ------------------------------------------------------------------


def test_labels_gitlab_lists_in_another_order_are_no_change(fake, linked):
    set_labels(linked, ["wg-ai-integration", "zeta", "alpha"])
    outbox.push(linked.pk)
    version = Proposal.objects.get(pk=linked.pk).version
    fake.clear_request_log()
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.labels == ["wg-ai-integration", "zeta", "alpha"]
    assert linked.version == version
    assert sync_activities(linked, "Labels changed on GitLab") == []
    assert fake.requests_to("issues.edit") == []


def test_the_working_group_label_stays_on_the_issue_but_out_of_the_authors_labels(fake, linked):
    set_labels(linked, ["ux"])
    outbox.push(linked.pk)
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.labels == ["ux"]
    assert "wg-ai-integration" in issue_of(fake, linked).labels
    assert sync_activities(linked, "Labels changed on GitLab") == []


def test_a_stage_label_dragged_on_a_board_is_recorded_and_set_back_by_the_stated_rule(fake, linked):
    iid = issue_of(fake, linked).iid
    fake.human_edit(iid, add_labels="stage::beta", remove_labels="stage::experiment")
    exchange.sync_proposal(linked.pk, actor="alice")
    linked.refresh_from_db()
    assert linked.stage == "experiment"
    labels = fake.issue(iid).labels
    assert "stage::experiment" in labels and "stage::beta" not in labels
    [entry] = sync_activities(linked, "stage::beta set on GitLab by alice")
    assert "move only in Stagegate" in entry.message


def test_a_label_the_bot_may_not_create_is_reported_once_and_not_resent(fake, linked, author):
    fake.store.create_label(fake.project, {"name": "ux", "color": "#428BCA"}, fake.human)
    fake.forbid_label_creation()
    set_labels(linked, ["wg-ai-integration", "brand-new"])
    outbox.push(linked.pk)
    iid = issue_of(fake, linked).iid
    assert "brand-new" not in fake.issue(iid).labels
    assert len(sync_activities(linked, "did not add the label(s) brand-new")) == 1
    set_labels(linked, ["wg-ai-integration", "brand-new", "ux"])
    fake.clear_request_log()
    outbox.push(linked.pk)
    [put] = fake.requests_to("issues.edit")
    assert put.body["add_labels"] == "ux"
    exchange.sync_proposal(linked.pk)
    assert len(sync_activities(linked, "did not add the label(s)")) == 1
    assert "ux" in fake.issue(iid).labels
    assert SyncState.objects.get(proposal=linked).refused_labels == ["brand-new"]
    linked.refresh_from_db()
    assert "brand-new" in linked.labels  # the author's label is kept in Stagegate
