"""Linked issues and designs: read from GitLab (the fake, over real HTTP), shown on the proposal page,
added and removed from Stagegate, and ticking the checklist items they verify."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gitlab_sync import inbound, outbox
from gitlab_sync.models import LinkedIssue, SyncState
from proposals import services
from tests.factories import ProposalFactory

from .conftest import issue_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, proposal) -> str:
    response = client.get(proposal.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_an_issue_linked_on_gitlab_appears_with_its_type_and_title_after_reconcile(fake, linked, author_client):
    other = fake.create_issue(title="Research: how reviewers read threads")
    fake.human_link(issue_of(fake, linked).iid, other, "is_blocked_by")
    inbound.reconcile()
    [row] = LinkedIssue.objects.filter(proposal=linked)
    assert (row.link_type, row.issue_iid, row.title) == ("is_blocked_by", other.iid, other.title)
    html = page(author_client, linked)
    assert "is blocked by" in html and "Research: how reviewers read threads" in html
    assert f"/-/issues/{other.iid}" in html


def test_the_author_links_and_unlinks_an_issue_from_the_page_without_reload(fake, linked, author_client):
    other = fake.create_issue(title="Feature: summaries")
    url = f"/gitlab/proposals/{linked.pk}/links/"
    html = author_client.post(url, {"reference": f"#{other.iid}", "link_type": "blocks"}, **HTMX).content.decode()
    assert html.lstrip().startswith('<section class="side-card" id="linked-items"')
    assert "blocks" in html and "Feature: summaries" in html
    issue = issue_of(fake, linked)
    assert [n.body for n in issue.notes.values() if n.system] == [f"marked this issue as blocking #{other.iid}"]
    link = LinkedIssue.objects.get(proposal=linked)
    assert linked.activities.filter(message__contains=f"linked #{other.iid}").exists()

    html = author_client.post(f"{url}{link.pk}/remove/", **HTMX).content.decode()
    assert "Feature: summaries" not in html and "No linked issues." in html
    assert fake.store.issue_links == {}
    assert not LinkedIssue.objects.filter(proposal=linked).exists()


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("#999", "GitLab has no issue #999"),
        ("ai-group/nowhere#1", "GitLab has no issue ai-group/nowhere#1"),
        ("not an issue", "is not an issue"),
        ("https://elsewhere.example/ai-group/proposals/-/issues/1", "another GitLab"),
    ],
)
def test_a_link_gitlab_cannot_make_is_refused_with_the_reason(fake, linked, author_client, reference, reason):
    html = author_client.post(
        f"/gitlab/proposals/{linked.pk}/links/", {"reference": reference, "link_type": "relates_to"}, **HTMX
    ).content.decode()
    assert reason in html and 'role="alert"' in html
    assert fake.store.issue_links == {}


def test_an_issue_url_of_our_gitlab_links_too(fake, linked, author_client):
    other = fake.create_issue(title="By URL")
    url = f"{fake.url}/{fake.project.path_with_namespace}/-/issues/{other.iid}"
    author_client.post(f"/gitlab/proposals/{linked.pk}/links/", {"reference": url, "link_type": "relates_to"})
    assert LinkedIssue.objects.get(proposal=linked).issue_iid == other.iid


def test_linking_twice_says_it_is_already_linked(fake, linked, author_client):
    other = fake.create_issue(title="Once")
    data = {"reference": f"#{other.iid}", "link_type": "relates_to"}
    author_client.post(f"/gitlab/proposals/{linked.pk}/links/", data, **HTMX)
    html = author_client.post(f"/gitlab/proposals/{linked.pk}/links/", data, **HTMX).content.decode()
    assert f"#{other.iid} is already linked" in html


def test_only_those_who_may_change_the_proposal_link_issues(fake, linked, client, working_group_member):
    other = fake.create_issue(title="Not yours")
    client.force_login(working_group_member)
    html = page(client, linked)
    assert 'name="reference"' not in html
    response = client.post(f"/gitlab/proposals/{linked.pk}/links/", {"reference": f"#{other.iid}"}, **HTMX)
    assert response.status_code == 403
    assert fake.store.issue_links == {}


def test_a_confidential_linked_issue_keeps_its_title_from_readers_gitlab_would_not_show_it_to(
    fake, linked, client, working_group_member, reviewer
):
    secret = fake.create_issue(title="Security incident 4711", confidential=True)
    fake.human_link(issue_of(fake, linked).iid, secret)
    inbound.reconcile()
    client.force_login(working_group_member)
    html = page(client, linked)
    assert "Security incident 4711" not in html and "Confidential issue" in html
    client.force_login(reviewer)
    assert "Security incident 4711" in page(client, linked)


def test_links_gitlab_does_not_let_the_bot_read_are_not_shown(fake, linked, author_client):
    hidden_project = fake.store.add_project("secret/plans")
    hidden = fake.app.store.create_issue(hidden_project, {"title": "Hidden plan"}, fake.human)
    fake.human_link(issue_of(fake, linked).iid, hidden)
    hidden_project.members = {fake.human.id}
    inbound.reconcile()
    assert "Hidden plan" not in page(author_client, linked)


def test_designs_show_as_thumbnails_linking_to_gitlab_and_tick_the_designs_item(fake, linked, author_client):
    item = linked.checklist_items.get(stage="experiment", key="designs")
    assert not item.checked
    iid = issue_of(fake, linked).iid
    fake.add_design(iid, "summary flow.png")
    inbound.reconcile()
    html = page(author_client, linked)
    assert re.search(r'<img src="[^"]+/resized_image/v432x230"', html)
    assert "/designs/summary%20flow.png" in html and "summary flow.png" in html
    item.refresh_from_db()
    assert item.checked and item.checked_by_app

    fake.remove_design(iid, "summary flow.png")
    inbound.reconcile()
    item.refresh_from_db()
    assert not item.checked
    assert "No designs" in page(author_client, linked)


def test_the_linked_features_item_follows_the_links(fake, author, author_client):
    proposal = services.proposal_create(title="Beta proposal", owner=author, template_version="2023-beta")
    outbox.push(proposal.pk)
    other = fake.create_issue(title="Feature issue")
    author_client.post(
        f"/gitlab/proposals/{proposal.pk}/links/", {"reference": f"#{other.iid}", "link_type": "relates_to"}
    )
    assert proposal.checklist_items.get(stage="beta", key="linked_features").checked


def test_the_page_reads_links_and_designs_in_the_same_queries_for_1_or_30(fake, linked, author_client):
    iid = issue_of(fake, linked).iid

    def queries() -> int:
        inbound.reconcile()
        with CaptureQueriesContext(connection) as captured:
            page(author_client, linked)
        return len(captured)

    fake.human_link(iid, fake.create_issue(title="One"))
    fake.add_design(iid, "one.png")
    few = queries()
    for n in range(29):
        fake.human_link(iid, fake.create_issue(title=f"Issue {n}"))
        fake.add_design(iid, f"design-{n}.png")
    many = queries()
    assert LinkedIssue.objects.filter(proposal=linked).count() == 30
    print(f"proposal page queries: {few} with 1 link and 1 design, {many} with 30 of each")
    assert many == few


def test_a_proposal_without_an_issue_says_links_wait_for_sync(fake, author, author_client):
    proposal = ProposalFactory(owner=author, title="Not synced yet")
    SyncState.objects.filter(proposal=proposal).update(issue_iid=None)
    html = page(author_client, proposal)
    assert 'name="reference"' not in html
    response = author_client.post(
        f"/gitlab/proposals/{proposal.pk}/links/", {"reference": "#1", "link_type": "blocks"}, **HTMX
    )
    assert "no GitLab issue yet" in response.content.decode()


def test_links_are_read_once_per_change_on_gitlab_not_on_every_reconcile(fake, linked):
    iid = issue_of(fake, linked).iid
    fake.human_link(iid, fake.create_issue(title="Once"))
    fake.clear_request_log()
    inbound.reconcile()
    assert (len(fake.requests_to("discussions.list")), len(fake.requests_to("links.list"))) == (1, 1)
    fake.clear_request_log()
    inbound.reconcile()
    assert fake.requests_to("discussions.list") == [] and fake.requests_to("links.list") == []
    fake.human_comment(iid, "A plain comment changes no link")
    fake.clear_request_log()
    inbound.reconcile()
    assert (len(fake.requests_to("discussions.list")), len(fake.requests_to("links.list"))) == (1, 0)


def test_a_designs_new_version_on_gitlab_moves_its_updated_time_which_the_api_answers(fake, linked, author):
    from rest_framework.test import APIClient

    from gitlab_sync.models import IssueDesign

    iid = issue_of(fake, linked).iid
    fake.add_design(iid, "flow.png")
    inbound.reconcile()
    first = IssueDesign.objects.get(proposal=linked).updated_at
    assert first is not None

    fake.add_design(iid, "flow.png")  # uploaded again: a new version of the same design
    inbound.reconcile()

    design = IssueDesign.objects.get(proposal=linked)
    assert design.updated_at > first
    api = APIClient()
    api.force_authenticate(author)
    (shown,) = api.get(f"/api/proposals/{linked.pk}/designs/").json()["results"]
    assert shown["filename"] == "flow.png" and shown["updated_at"] is not None
    assert shown["gitlab_url"].endswith("/designs/flow.png")
