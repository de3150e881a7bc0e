"""Contract tests of the fake GitLab's issue links, discussions and GraphQL designs, through python-gitlab
over real HTTP, as GitLab documents them (doc/api/issue_links.md, doc/api/discussions.md,
GraphQL designCollection). No database."""

from __future__ import annotations

import gitlab
import pytest
import requests

from gitlab_fake import FakeGitLab
from gitlab_sync.client import designs_query


@pytest.fixture(scope="module")
def server():
    fake = FakeGitLab().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    yield server


@pytest.fixture
def gl(fake):
    return gitlab.Gitlab(fake.url, private_token=fake.token)


def _issues(fake, count=2):
    return [fake.create_issue(title=f"Issue {n}") for n in range(count)]


def test_a_link_is_listed_from_both_ends_with_the_type_seen_from_each(fake, gl):
    source, target = _issues(fake)
    project = gl.projects.get(fake.project.id)
    # python-gitlab reads POST's answer as the (source_issue, target_issue) pair GitLab documents.
    source_issue, target_issue = project.issues.get(source.iid).links.create(
        {"target_project_id": fake.project.id, "target_issue_iid": target.iid, "link_type": "blocks"}
    )
    assert (source_issue.iid, target_issue.iid) == (source.iid, target.iid)

    from_source = gl.http_get(f"/projects/{fake.project.id}/issues/{source.iid}/links")
    from_target = gl.http_get(f"/projects/{fake.project.id}/issues/{target.iid}/links")
    assert [(row["iid"], row["link_type"], row["title"]) for row in from_source] == [(target.iid, "blocks", "Issue 1")]
    assert [(row["iid"], row["link_type"]) for row in from_target] == [(source.iid, "is_blocked_by")]
    assert from_source[0]["issue_link_id"] == from_target[0]["issue_link_id"]


def test_linking_writes_system_notes_on_both_issues_and_a_duplicate_is_refused(fake, gl):
    source, target = _issues(fake)
    path = f"/projects/{fake.project.id}/issues/{source.iid}/links"
    data = {"target_project_id": fake.project.path_with_namespace, "target_issue_iid": target.iid}
    gl.http_post(path, post_data=data)
    assert [n.body for n in source.notes.values() if n.system] == [f"marked this issue as related to #{target.iid}"]
    assert [n.body for n in target.notes.values() if n.system] == [f"marked this issue as related to #{source.iid}"]
    with pytest.raises(gitlab.GitlabHttpError) as refused:
        gl.http_post(path, post_data=data)
    assert refused.value.response_code == 409


def test_unknown_target_is_404_and_bad_link_type_is_400(fake, gl):
    (source,) = _issues(fake, 1)
    path = f"/projects/{fake.project.id}/issues/{source.iid}/links"
    with pytest.raises(gitlab.GitlabHttpError) as missing:
        gl.http_post(path, post_data={"target_project_id": fake.project.id, "target_issue_iid": 999})
    assert missing.value.response_code == 404
    with pytest.raises(gitlab.GitlabHttpError) as bad:
        gl.http_post(
            path, post_data={"target_project_id": fake.project.id, "target_issue_iid": source.iid, "link_type": "x"}
        )
    assert bad.value.response_code == 400


def test_deleting_a_link_removes_it_from_both_ends(fake, gl):
    source, target = _issues(fake)
    fake.human_link(source.iid, target)
    link_id = gl.http_get(f"/projects/{fake.project.id}/issues/{target.iid}/links")[0]["issue_link_id"]
    # Deleted from the other end: a link belongs to both issues.
    answer = gl.http_delete(f"/projects/{fake.project.id}/issues/{target.iid}/links/{link_id}").json()
    assert answer["target_issue"]["iid"] == source.iid
    assert gl.http_get(f"/projects/{fake.project.id}/issues/{source.iid}/links") == []
    with pytest.raises(gitlab.GitlabHttpError) as gone:
        gl.http_delete(f"/projects/{fake.project.id}/issues/{source.iid}/links/{link_id}")
    assert gone.value.response_code == 404


def test_links_to_issues_the_caller_may_not_read_are_left_out(fake, gl):
    (source,) = _issues(fake, 1)
    private = fake.store.add_project("secret/plans")
    hidden = fake.app.store.create_issue(private, {"title": "Secret plan"}, fake.human)
    fake.human_link(source.iid, hidden)
    assert (
        len(
            gitlab.Gitlab(fake.url, private_token=fake.human_token).http_get(
                f"/projects/{fake.project.id}/issues/{source.iid}/links"
            )
        )
        == 1
    )
    private.members = {fake.human.id}
    assert gl.http_get(f"/projects/{fake.project.id}/issues/{source.iid}/links") == []


def test_discussions_group_replies_and_a_reply_makes_a_lone_comment_a_thread(fake, gl):
    (issue,) = _issues(fake, 1)
    lone = fake.human_comment(issue.iid, "First thought")
    path = f"/projects/{fake.project.id}/issues/{issue.iid}/discussions"
    [before] = gl.http_get(path)
    assert before["individual_note"] is True
    assert before["notes"][0]["body"] == "First thought"

    reply = gl.http_post(f"{path}/{before['id']}/notes", post_data={"body": "A reply"})
    assert reply["type"] == "DiscussionNote"
    started = gl.http_post(path, post_data={"body": "A new thread"})
    assert started["individual_note"] is False

    threads = gl.http_get(path)
    assert [[n["body"] for n in t["notes"]] for t in threads] == [["First thought", "A reply"], ["A new thread"]]
    assert threads[0]["individual_note"] is False
    assert threads[0]["id"] == lone.discussion_id
    with pytest.raises(gitlab.GitlabHttpError) as missing:
        gl.http_post(f"{path}/{'0' * 40}/notes", post_data={"body": "x"})
    assert missing.value.response_code == 404


def test_graphql_design_collection_lists_the_issues_designs(fake):
    (issue,) = _issues(fake, 1)
    fake.add_design(issue.iid, "flow.png")
    fake.add_design(issue.iid, "modal.png")
    graphql = gitlab.GraphQL(fake.url, token=fake.token)
    query = designs_query(fake.project.path_with_namespace, issue.iid)
    nodes = graphql.execute(query)["project"]["issue"]["designCollection"]["designs"]["nodes"]
    assert [n["filename"] for n in nodes] == ["flow.png", "modal.png"]
    assert nodes[0]["id"].startswith("gid://gitlab/DesignManagement::Design/")
    assert nodes[0]["image"].startswith(fake.url) and nodes[0]["imageV432x230"].endswith("/resized_image/v432x230")
    assert [n["versions"]["nodes"][0]["createdAt"].endswith("Z") for n in nodes] == [True, True]
    assert [n.body for n in issue.notes.values() if n.system] == [
        "added [1 design](flow.png)",
        "added [1 design](modal.png)",
    ]


def test_graphql_answers_null_for_a_project_the_caller_may_not_see_and_errors_for_unknown_fields(fake):
    private = fake.store.add_project("secret/plans")
    private.members = {fake.human.id}
    answer = requests.post(
        f"{fake.url}/api/graphql",
        json={"query": 'query { project(fullPath: "secret/plans") { id } }'},
        headers={"Authorization": f"Bearer {fake.token}"},
        timeout=5,
    ).json()
    assert answer == {"data": {"project": None}}
    wrong = requests.post(
        f"{fake.url}/api/graphql",
        json={"query": "query { nothing }"},
        headers={"Authorization": f"Bearer {fake.token}"},
        timeout=5,
    ).json()
    assert wrong["errors"]
    refused = requests.post(f"{fake.url}/api/graphql", json={"query": "{ __typename }"}, timeout=5)
    assert refused.status_code == 401


def test_system_notes_of_links_and_designs_send_no_webhook_but_comments_do(fake):
    source, target = _issues(fake)
    fake.add_hook("http://127.0.0.1:9/never-called/")
    fake.hooks.hold()
    fake.human_link(source.iid, target)
    fake.add_design(source.iid, "flow.png")
    assert fake.hooks.held == []  # Notes::PostProcessService skips system notes
    fake.human_comment(source.iid, "A comment")
    assert [d.event for d in fake.hooks.held] == ["Note Hook"]
