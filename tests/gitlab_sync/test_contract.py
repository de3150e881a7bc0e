"""Contract tests: what Stagegate relies on GitLab doing, checked through Stagegate's own client.

They run against the fake GitLab by default. Point them at a real GitLab sandbox project to check the
fake against the real thing (they create, comment on and close a few issues titled "stagegate contract"):

    STAGEGATE_CONTRACT_GITLAB_URL=https://gitlab.example.com \\
    STAGEGATE_CONTRACT_GITLAB_TOKEN=glpat-... \\
    STAGEGATE_CONTRACT_GITLAB_PROJECT=group/sandbox \\
    .venv/bin/pytest tests/gitlab_sync/test_contract.py

The token needs the `api` scope and Reporter (or more) on the project. No database is used.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import pytest

from gitlab_fake import FakeGitLab
from gitlab_sync import client
from gitlab_sync.template_actions import quick_actions
from proposals.template import DEFINITIONS

ENV = {name: os.environ.get(f"STAGEGATE_CONTRACT_GITLAB_{name}", "") for name in ("URL", "TOKEN", "PROJECT")}
REAL = all(ENV.values())


@pytest.fixture(scope="module")
def gitlab_under_test():
    if REAL:
        yield ENV["URL"], ENV["TOKEN"], ENV["PROJECT"]
        return
    fake = FakeGitLab().start()
    yield fake.url, fake.token, fake.project.path_with_namespace
    fake.stop()


@pytest.fixture
def gitlab(gitlab_under_test, settings):
    settings.GITLAB_URL, settings.GITLAB_TOKEN, settings.GITLAB_PROJECT = gitlab_under_test
    client._client.cache_clear()
    created: list[int] = []
    yield created
    for iid in created:  # leave a sandbox as it was found: closed
        client.update_issue(iid, {"state_event": "close"})
    client._client.cache_clear()


def new_issue(created: list[int], **attrs) -> dict:
    marker = uuid.uuid4().hex[:8]
    issue = client.create_issue({"title": f"stagegate contract {marker}", "description": "", **attrs})
    created.append(issue["iid"])
    return issue


def test_labels_come_back_as_a_set_in_gitlabs_order(gitlab):
    issue = new_issue(gitlab, labels="zz-contract,aa-contract,wg-ai-integration")
    assert set(issue["labels"]) == {"zz-contract", "aa-contract", "wg-ai-integration"}
    assert client.get_issue(issue["iid"])["labels"] == sorted(issue["labels"])


def test_a_description_comes_back_byte_for_byte_but_for_its_end(gitlab):
    body = "# Heading\n\n- [x] done\n- [~] not applicable\n- [ ] open\n\n<!-- stagegate:proposal=1 -->"
    issue = new_issue(gitlab, description=body + "\n\n")
    # GitLab's quick-action extractor (lib/gitlab/quick_actions/extractor.rb) strips the end of the text.
    assert client.get_issue(issue["iid"])["description"] == body


def test_a_confidential_issue_is_confidential_from_its_create(gitlab):
    issue = new_issue(gitlab, confidential=True)
    assert issue["confidential"] is True


def test_the_templates_quick_actions_run_on_create_and_leave_the_text(gitlab):
    actions = [line for line in quick_actions(DEFINITIONS["2023-beta"]) if line.startswith("/label")]
    issue = new_issue(gitlab, description="Body\n\n" + "\n".join(actions) + "\n")
    assert {"AI Feature Proposal", "AI-Seeking community feedback"} <= set(issue["labels"])
    assert "/label" not in (issue["description"] or "")


def test_a_comment_touches_its_issue_and_moves_it_in_an_updated_at_listing(gitlab):
    issue = new_issue(gitlab, labels="stagegate-contract")
    before = datetime.fromisoformat(issue["updated_at"].replace("Z", "+00:00"))
    note = client.create_note(issue["iid"], "contract comment")
    assert note["system"] is False and note["body"] == "contract comment"
    after = client.get_issue(issue["iid"])
    assert datetime.fromisoformat(after["updated_at"].replace("Z", "+00:00")) > before
    listed = client.list_issues_page(
        labels="stagegate-contract",
        order_by="updated_at",
        sort="asc",
        updated_after=(before + timedelta(milliseconds=1)).isoformat(),
        per_page=100,
    )
    assert issue["iid"] in [row["iid"] for row in listed]


def test_comments_list_oldest_first_with_their_flags(gitlab):
    issue = new_issue(gitlab)
    client.create_note(issue["iid"], "first")
    client.create_note(issue["iid"], "second")
    notes = [n for n in client.list_notes(issue["iid"]) if not n.get("system")]
    assert [n["body"] for n in notes] == ["first", "second"]
    assert all("internal" in n or "confidential" in n for n in notes)


def test_an_issue_that_does_not_exist_is_an_issue_not_found_not_a_project_gone(gitlab):
    with pytest.raises(client.IssueNotFound):
        client.get_issue(999_999_999)


def test_the_token_says_when_it_expires_where_gitlab_has_the_endpoint(gitlab):
    try:
        token = client.token_self()
    except client.IssueNotFound:
        pytest.skip("this GitLab has no GET /personal_access_tokens/self (before 15.5)")
    assert "expires_at" in token
