"""The demo GitLab's teammate (`python -m gitlab_fake --demo`, started by `make run`): once the bot opens the
first demo proposal's issue, what the teammate did is readable through GitLab's API, as Stagegate reads it."""

from __future__ import annotations

import gitlab
import pytest

from gitlab_fake import FakeGitLab
from gitlab_fake.demo import DEMO_PROPOSAL_TITLE, DESIGNS, RELATED_ISSUES, play_teammate
from gitlab_sync.client import designs_query


@pytest.fixture
def fake():
    server = FakeGitLab().start()
    yield server
    server.stop()


def test_the_teammate_links_issues_adds_designs_and_discusses_the_demo_proposal(fake):
    teammate = play_teammate(fake, timeout=30)
    fake.create_issue(title="Another proposal", user=fake.bot)
    issue = fake.create_issue(title=f"🤖 [AI Proposal] {DEMO_PROPOSAL_TITLE}", user=fake.bot)
    teammate.join(timeout=30)
    assert not teammate.is_alive()

    gl = gitlab.Gitlab(fake.url, private_token=fake.token)
    project = gl.projects.get(fake.project.id)
    links = project.issues.get(issue.iid).links.list()
    assert sorted((link.title, link.link_type) for link in links) == sorted(RELATED_ISSUES)

    discussions = project.issues.get(issue.iid).discussions.list()
    threads = [[note["body"] for note in d.attributes["notes"] if not note["system"]] for d in discussions]
    threads = [thread for thread in threads if thread]
    assert [len(thread) for thread in threads] == [2, 1]  # a question with its reply, then an internal note
    internal = [n for d in discussions for n in d.attributes["notes"] if n.get("internal")]
    assert len(internal) == 1

    graphql = gitlab.GraphQL(fake.url, token=fake.token)
    nodes = graphql.execute(designs_query(fake.project.path_with_namespace, issue.iid))["project"]["issue"][
        "designCollection"
    ]["designs"]["nodes"]
    assert sorted(node["filename"] for node in nodes) == sorted(DESIGNS)


def test_the_teammate_leaves_issues_not_opened_by_the_bot_alone(fake):
    teammate = play_teammate(fake, timeout=1)
    issue = fake.create_issue(title=DEMO_PROPOSAL_TITLE)  # opened by a person, not by Stagegate
    teammate.join(timeout=10)
    assert not teammate.is_alive()
    assert fake.issue(issue.iid).designs == []
