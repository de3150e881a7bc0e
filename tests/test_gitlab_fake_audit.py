"""What the audit against GitLab's source added to the fake, checked over HTTP with python-gitlab.

Quick actions in comments: GitLab interprets a comment's ``/command`` lines
(``QuickActions::InterpretService``) with the rights of whoever posts it, through the notes and
discussions APIs too, and saves the comment without them; a comment of nothing but commands is no
note at all, and the API answers 202 with what changed
(``lib/api/helpers/notes_helpers.rb``, ``process_note_creation_result``; gitlab MR !174935).

Token scopes: a token without ``api`` (``read_api``) reads but may not write; GitLab answers a write with
403 and ``{"error": "insufficient_scope", …, "scope": "api"}`` (``lib/api/api_guard.rb``, the
``InsufficientScopeError`` branch of ``oauth2_bearer_token_error_handler``).

No database: these only talk HTTP to the fake.
"""

from __future__ import annotations

import gitlab
import pytest
import requests

from gitlab_fake import FakeGitLab


@pytest.fixture(scope="module")
def server():
    fake = FakeGitLab().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def issue(fake):
    gl = gitlab.Gitlab(fake.url, private_token=fake.token)
    project = gl.projects.get(fake.project.path_with_namespace)
    return project.issues.create({"title": "A proposal", "labels": "wg-ai-integration"})


def test_a_comment_through_the_api_runs_its_quick_actions_and_keeps_the_rest(fake, issue):
    note = issue.notes.create({"body": "/label ~urgent\n/confidential\nPlease look at this."})
    assert note.body == "Please look at this."
    stored = fake.issue(issue.iid)
    assert stored.confidential is True
    assert set(stored.labels) == {"urgent", "wg-ai-integration"}


def test_a_thread_started_through_the_discussions_api_runs_them_too(fake, issue):
    path = f"/projects/{fake.project.id}/issues/{issue.iid}/discussions"
    thread = issue.manager.gitlab.http_post(path, post_data={"body": "/unlabel ~wg-ai-integration\nNoted."})
    assert thread["notes"][0]["body"] == "Noted."
    assert fake.issue(issue.iid).labels == []


def test_a_comment_of_commands_only_is_no_note_and_answers_202(fake, issue):
    response = requests.post(
        f"{fake.url}/api/v4/projects/{fake.project.id}/issues/{issue.iid}/notes",
        headers={"PRIVATE-TOKEN": fake.token},
        json={"body": "/confidential"},
        timeout=5,
    )
    assert response.status_code == 202
    assert response.json()["commands_changes"] == {"confidential": True}
    assert [note for note in fake.issue(issue.iid).notes.values() if not note.system] == []


def test_a_comment_without_commands_is_kept_as_written(fake, issue):
    body = "A path like /label in a sentence, and\n    /confidential indented as code\n"
    assert issue.notes.create({"body": body}).body == body
    assert fake.issue(issue.iid).confidential is False


def test_a_read_api_token_reads_but_every_write_is_refused_for_its_scope(fake, issue):
    fake.set_token_scopes(["read_api"])
    gl = gitlab.Gitlab(fake.url, private_token=fake.token)
    project = gl.projects.get(fake.project.path_with_namespace)
    assert project.issues.get(issue.iid).title == "A proposal"
    with pytest.raises(gitlab.GitlabUpdateError) as refused:
        project.issues.update(issue.iid, {"title": "Renamed"})
    assert refused.value.response_code == 403
    assert refused.value.error_message == "insufficient_scope"
    assert fake.issue(issue.iid).title == "A proposal"
