"""Contract tests: the fake GitLab answers python-gitlab over real HTTP as GitLab does.

No database: these only talk HTTP to the fake and to a small webhook receiver.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import gitlab
import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

import gitlab_fake
from gitlab_fake import FakeGitLab

PAYLOADS = Path(gitlab_fake.__file__).parent / "payloads"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Receiver:
    """A webhook endpoint that records what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict]] = []
        self.status = 200
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/gitlab/webhook/"

    def _app(self, environ, start_response):
        request = Request(environ)
        self.received.append((dict(request.headers), json.loads(request.get_data())))
        return Response("", status=self.status)(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


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


@pytest.fixture(scope="module")
def receiver_server():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(receiver_server, fake):
    receiver_server.received.clear()
    receiver_server.status = 200
    fake.add_hook(receiver_server.url, token="hook-secret")
    return receiver_server


@pytest.fixture
def gl(fake):
    return gitlab.Gitlab(fake.url, private_token=fake.token, timeout=5)


@pytest.fixture
def project(gl, fake):
    return gl.projects.get(fake.project.id, lazy=True)


def wait_until(condition, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


# -- auth ------------------------------------------------------------------


def test_private_token_bearer_and_access_token_all_authenticate(fake):
    api = f"{fake.url}/api/v4/user"
    assert requests.get(api, headers={"PRIVATE-TOKEN": fake.token}).json()["username"] == "stagegate-bot"
    assert requests.get(api, headers={"Authorization": f"Bearer {fake.token}"}).status_code == 200
    assert requests.get(api, params={"access_token": fake.token}).status_code == 200


def test_bad_or_revoked_token_gets_gitlabs_401_body(fake, gl):
    response = requests.get(f"{fake.url}/api/v4/projects/1", headers={"PRIVATE-TOKEN": "nope"})
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}
    fake.revoke_token()
    with pytest.raises(gitlab.GitlabAuthenticationError):
        gl.projects.get(1)


# -- projects and issues ---------------------------------------------------


def test_project_found_by_id_and_by_url_encoded_path(gl, fake):
    by_path = gl.projects.get("ai-group/proposals")
    assert by_path.id == fake.project.id
    missing = requests.get(f"{fake.url}/api/v4/projects/ai-group%2Fnope", headers={"PRIVATE-TOKEN": fake.token})
    assert missing.status_code == 404
    assert missing.json() == {"message": "404 Project Not Found"}


def test_created_issue_has_gitlabs_fields(project, fake):
    issue = project.issues.create(
        {"title": "Summaries", "description": "- [ ] one\n- [x] two\n  - [X] nested\n- [~] n/a", "labels": "a,b"}
    )
    assert issue.iid == 1
    assert issue.labels == ["a", "b"]
    assert issue.state == "opened"
    assert issue.web_url == f"{fake.url}/ai-group/proposals/-/issues/1"
    assert issue.references["full"] == "ai-group/proposals#1"
    assert issue.task_completion_status == {"count": 3, "completed_count": 2}
    assert issue.updated_at.endswith("Z") and len(issue.updated_at) == len("2026-01-01T00:00:00.000Z")
    assert {label.name for label in project.labels.list(get_all=True)} == {"a", "b"}


def test_tasks_inside_code_and_comments_are_not_counted(project):
    body = "- [x] real\n```\n- [ ] in code\n```\n<!-- - [ ] hidden -->"
    issue = project.issues.create({"title": "t", "description": body})
    assert issue.task_completion_status == {"count": 1, "completed_count": 1}


def test_put_changes_only_sent_fields_and_bumps_updated_at_only_on_real_change(project):
    issue = project.issues.create({"title": "t", "description": "d", "labels": "x"})
    before = issue.updated_at
    same = project.issues.update(issue.iid, {"title": "t"})
    assert same["updated_at"] == before
    changed = project.issues.update(issue.iid, {"title": "t2"})
    assert changed["updated_at"] > before
    assert changed["description"] == "d" and changed["labels"] == ["x"]


def test_add_and_remove_labels_keep_others(project):
    issue = project.issues.create({"title": "t", "labels": "human,stage::experiment"})
    result = project.issues.update(issue.iid, {"add_labels": "stage::ga", "remove_labels": "stage::experiment"})
    assert result["labels"] == ["human", "stage::ga"]
    replaced = project.issues.update(issue.iid, {"labels": ""})
    assert replaced["labels"] == []


def test_labels_come_back_sorted_by_title_as_gitlab_sorts_them(project):
    issue = project.issues.create({"title": "t", "labels": "zeta,stage::experiment,alpha"})
    assert issue.labels == ["alpha", "stage::experiment", "zeta"]
    updated = project.issues.update(issue.iid, {"add_labels": "beta"})
    assert updated["labels"] == ["alpha", "beta", "stage::experiment", "zeta"]


def test_a_user_who_may_not_create_labels_has_new_ones_dropped_silently(project, fake):
    project.issues.create({"title": "existing", "labels": "known"})
    fake.forbid_label_creation()
    issue = project.issues.create({"title": "t", "labels": "known,brand-new"})
    assert issue.labels == ["known"]
    assert project.issues.update(issue.iid, {"add_labels": "other-new"})["labels"] == ["known"]
    with pytest.raises(gitlab.GitlabCreateError) as refused:
        project.labels.create({"name": "brand-new", "color": "#000000"})
    assert refused.value.response_code == 403


def test_state_event_closes_and_reopens(project):
    issue = project.issues.create({"title": "t"})
    closed = project.issues.update(issue.iid, {"state_event": "close"})
    assert closed["state"] == "closed" and closed["closed_at"]
    assert project.issues.update(issue.iid, {"state_event": "reopen"})["state"] == "opened"


def test_validation_errors_are_400_with_gitlabs_body(project, fake):
    missing = requests.post(
        f"{fake.url}/api/v4/projects/1/issues", headers={"PRIVATE-TOKEN": fake.token}, json={"description": "d"}
    )
    assert missing.status_code == 400 and missing.json() == {"error": "title is missing"}
    issue = project.issues.create({"title": "t"})
    with pytest.raises(gitlab.GitlabUpdateError) as too_long:
        project.issues.update(issue.iid, {"description": "x" * 1_048_577})
    assert too_long.value.response_code == 400
    assert "too long" in str(too_long.value)
    project.issues.update(issue.iid, {"description": "x" * 1_048_576})
    empty = requests.put(f"{fake.url}/api/v4/projects/1/issues/1", headers={"PRIVATE-TOKEN": fake.token}, json={})
    assert empty.status_code == 400 and "at least one parameter" in empty.json()["error"]


def test_missing_issue_is_404(project):
    with pytest.raises(gitlab.GitlabGetError) as error:
        project.issues.get(99)
    assert error.value.response_code == 404


# -- listing ---------------------------------------------------------------


def test_list_paginates_with_gitlabs_headers_and_links(project, fake):
    for n in range(25):
        project.issues.create({"title": f"issue {n}"})
    url = f"{fake.url}/api/v4/projects/ai-group%2Fproposals/issues"
    response = requests.get(url, params={"per_page": 10, "page": 2}, headers={"PRIVATE-TOKEN": fake.token})
    headers = response.headers
    assert len(response.json()) == 10
    assert (headers["x-page"], headers["x-per-page"], headers["x-next-page"], headers["x-prev-page"]) == (
        "2",
        "10",
        "3",
        "1",
    )
    assert (headers["x-total"], headers["x-total-pages"]) == ("25", "3")
    assert response.links["next"]["url"].startswith(url + "?")
    assert "page=3" in response.links["next"]["url"]
    assert {"prev", "next", "first", "last"} <= set(response.links)
    assert len(project.issues.list(get_all=True, per_page=7)) == 25
    capped = requests.get(url, params={"per_page": 500}, headers={"PRIVATE-TOKEN": fake.token})
    assert capped.headers["x-per-page"] == "100"


def test_totals_and_last_link_are_dropped_above_the_threshold(project, fake):
    fake.app.total_threshold = 3
    for n in range(5):
        project.issues.create({"title": f"issue {n}"})
    response = requests.get(f"{fake.url}/api/v4/projects/1/issues", headers={"PRIVATE-TOKEN": fake.token})
    assert "x-total" not in response.headers and "last" not in response.links
    assert len(project.issues.list(get_all=True)) == 5


def test_list_filters(project, fake):
    a = project.issues.create({"title": "a", "labels": "wg-ai-integration"})
    b = project.issues.create({"title": "b", "labels": "wg-ai-integration,other"})
    c = project.issues.create({"title": "c"})
    project.issues.update(c.iid, {"state_event": "close"})
    assert {i.iid for i in project.issues.list(labels="wg-ai-integration", get_all=True)} == {a.iid, b.iid}
    assert [i.iid for i in project.issues.list(state="closed", get_all=True)] == [c.iid]
    assert {i.iid for i in project.issues.list(iids=[a.iid, c.iid], get_all=True)} == {a.iid, c.iid}
    watermark = project.issues.get(b.iid).updated_at
    project.issues.update(a.iid, {"title": "a2"})
    since = project.issues.list(updated_after=watermark, order_by="updated_at", sort="asc", get_all=True)
    assert [i.iid for i in since] == [b.iid, c.iid, a.iid]
    newest_first = project.issues.list(order_by="created_at", sort="desc", get_all=True)
    assert [i.iid for i in newest_first] == [c.iid, b.iid, a.iid]


# -- notes, labels, hooks --------------------------------------------------


def test_notes_crud_and_internal_notes(project):
    issue = project.issues.create({"title": "t"})
    note = issue.notes.create({"body": "hello"})
    internal = issue.notes.create({"body": "secret", "internal": True})
    assert internal.confidential is True and internal.internal is True
    older = issue.notes.create({"body": "older secret", "confidential": True})  # before `internal` existed
    assert older.internal is True
    issue.notes.delete(older.id)
    note.body = "edited"
    note.save()
    assert issue.notes.get(note.id).body == "edited"
    assert [n.body for n in issue.notes.list(sort="asc", get_all=True)] == ["edited", "secret"]
    issue.notes.delete(internal.id)
    assert [n.id for n in issue.notes.list(get_all=True)] == [note.id]
    with pytest.raises(gitlab.GitlabCreateError):
        issue.notes.create({"body": "x" * 1_000_001})


def test_labels_endpoint(project):
    project.labels.create({"name": "wg-ai-integration", "color": "#428BCA"})
    with pytest.raises(gitlab.GitlabCreateError):
        project.labels.create({"name": "wg-ai-integration", "color": "#000000"})
    project.issues.create({"title": "t", "labels": "wg-ai-integration"})
    label = project.labels.get("wg-ai-integration")
    assert label.open_issues_count == 1 and label.color == "#428BCA"


def test_project_hooks_crud(project, fake):
    hook = project.hooks.create({"url": "http://127.0.0.1:1/hook", "issues_events": True, "token": "t"})
    assert hook.issues_events is True and hook.note_events is False
    hook.confidential_issues_events = True
    hook.save()
    assert project.hooks.get(hook.id).confidential_issues_events is True
    project.hooks.delete(hook.id)
    assert project.hooks.list(get_all=True) == []


# -- webhook deliveries ----------------------------------------------------


def test_issue_hook_has_gitlabs_headers_and_payload_shape(project, receiver, fake):
    issue = project.issues.create({"title": "t", "description": "before", "labels": "x"})
    project.issues.update(issue.iid, {"description": "after", "add_labels": "y"})
    headers, payload = wait_until(lambda: len(receiver.received) >= 2 and receiver.received[1])
    assert headers["X-Gitlab-Event"] == "Issue Hook"
    assert headers["X-Gitlab-Token"] == "hook-secret"
    assert headers["X-Gitlab-Instance"] == fake.url
    assert headers["User-Agent"].startswith("GitLab/")
    for name in ("X-Gitlab-Event-Uuid", "X-Gitlab-Webhook-Uuid", "Idempotency-Key"):
        assert headers[name]
    documented = json.loads((PAYLOADS / "webhook_issue_hook.json").read_text())
    assert set(documented) <= set(payload)
    incident_only = {"escalation_status", "escalation_policy", "action"}
    assert set(documented["object_attributes"]) - incident_only <= set(payload["object_attributes"])
    assert payload["object_attributes"]["action"] == "update"
    assert payload["object_attributes"]["iid"] == issue.iid
    assert payload["changes"]["description"] == {"previous": "before", "current": "after"}
    assert [label["title"] for label in payload["changes"]["labels"]["current"]] == ["x", "y"]
    assert payload["user"]["username"] == "stagegate-bot"  # our own API edits fire hooks too


def test_note_hook_and_confidential_event_names(project, receiver, fake):
    issue = project.issues.create({"title": "t"})
    fake.human_comment(issue.iid, "looks good")
    fake.human_edit(issue.iid, confidential=True)
    fake.human_comment(issue.iid, "secret")
    wait_until(lambda: len(receiver.received) == 4)
    events = [h["X-Gitlab-Event"] for h, _ in receiver.received]
    assert events == ["Issue Hook", "Note Hook", "Confidential Issue Hook", "Confidential Note Hook"]
    _, note = receiver.received[1]
    documented = json.loads((PAYLOADS / "webhook_note_hook_issue.json").read_text())
    assert set(documented) <= set(note)
    assert note["object_attributes"]["note"] == "looks good"
    assert note["user"]["username"] == "alice"
    assert receiver.received[2][1]["event_type"] == "confidential_issue"
    assert receiver.received[3][1]["event_type"] == "confidential_note"


def test_hook_without_confidential_flag_gets_no_confidential_events(project, fake, receiver):
    fake.reset()
    fake.add_hook(receiver.url, issues_events=True, confidential_issues_events=False)
    receiver.received.clear()
    project.issues.create({"title": "secret", "confidential": True})
    project.issues.create({"title": "public"})
    wait_until(lambda: receiver.received)
    assert fake.wait_for_hooks()
    assert [p["object_attributes"]["title"] for _, p in receiver.received] == ["public"]


def test_human_edit_acts_as_another_user(project, receiver, fake):
    issue = project.issues.create({"title": "t"})
    fake.human_edit(issue.iid, description="typed on GitLab")
    assert project.issues.get(issue.iid).description == "typed on GitLab"
    wait_until(lambda: len(receiver.received) == 2)
    assert receiver.received[1][1]["user"]["username"] == "alice"


def test_drop_duplicate_and_reorder_deliveries(project, receiver, fake):
    fake.hooks.drop(1)
    project.issues.create({"title": "dropped"})
    fake.hooks.duplicate(1)
    project.issues.create({"title": "twice"})
    wait_until(lambda: len(receiver.received) == 2)
    (h1, p1), (h2, p2) = receiver.received
    assert p1["object_attributes"]["title"] == p2["object_attributes"]["title"] == "twice"
    assert h1["Idempotency-Key"] == h2["Idempotency-Key"]
    assert h1["X-Gitlab-Webhook-Uuid"] != h2["X-Gitlab-Webhook-Uuid"]
    assert [d.payload["object_attributes"]["title"] for d in fake.hooks.dropped] == ["dropped"]

    receiver.received.clear()
    fake.hooks.hold()
    project.issues.create({"title": "first"})
    project.issues.create({"title": "second"})
    assert receiver.received == []
    assert fake.hooks.release(reverse=True) == 2
    wait_until(lambda: len(receiver.received) == 2)
    assert [p["object_attributes"]["title"] for _, p in receiver.received] == ["second", "first"]


def test_resend_keeps_the_idempotency_key(project, receiver, fake):
    project.issues.create({"title": "t"})
    assert fake.wait_for_hooks()
    delivery = fake.deliveries()[0]
    fake.hooks.resend(delivery)
    wait_until(lambda: len(receiver.received) == 2)
    assert receiver.received[0][0]["Idempotency-Key"] == receiver.received[1][0]["Idempotency-Key"]


def test_delayed_deliveries_arrive_later_and_are_logged(project, receiver, fake):
    fake.hooks.delay(0.3)
    project.issues.create({"title": "t"})
    assert receiver.received == []
    assert fake.wait_for_hooks(timeout=5)
    assert len(receiver.received) == 1
    assert fake.deliveries("Issue Hook")[0].status_code == 200


# -- faults ----------------------------------------------------------------


def test_5xx_for_n_requests_then_recovers(project, fake):
    issue = project.issues.create({"title": "t"})
    fake.fail("issues.get", status=502, times=2)
    for _ in range(2):
        with pytest.raises(gitlab.GitlabGetError) as error:
            project.issues.get(issue.iid)
        assert error.value.response_code == 502
    assert project.issues.get(issue.iid).title == "t"


def test_failing_for_a_duration_affects_only_that_route(project, fake):
    issue = project.issues.create({"title": "t"})
    fake.fail("issues.edit", status=503, seconds=60)
    with pytest.raises(gitlab.GitlabUpdateError):
        project.issues.update(issue.iid, {"title": "u"})
    assert project.issues.get(issue.iid).title == "t"
    fake.heal()
    assert project.issues.update(issue.iid, {"title": "u"})["title"] == "u"


def test_429_carries_retry_after_and_ratelimit_headers(fake):
    fake.fail("issues.list", status=429, retry_after=7)
    response = requests.get(f"{fake.url}/api/v4/projects/1/issues", headers={"PRIVATE-TOKEN": fake.token})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["RateLimit-Remaining"] == "0"
    for name in ("RateLimit-Limit", "RateLimit-Reset", "RateLimit-ResetTime", "RateLimit-Name"):
        assert response.headers[name]


def test_409_resource_lock(project, fake):
    issue = project.issues.create({"title": "t"})
    fake.fail("issues.edit", status=409)
    with pytest.raises(gitlab.GitlabUpdateError) as error:
        project.issues.update(issue.iid, {"title": "u"})
    assert error.value.response_code == 409 and "Resource lock" in str(error.value)


def test_hang_beyond_client_timeout_then_the_write_lands(fake, project):
    issue = project.issues.create({"title": "t"})
    fake.fail("issues.edit", status=None, hang=0.5)
    impatient = gitlab.Gitlab(fake.url, private_token=fake.token, timeout=0.1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.projects.get(1, lazy=True).issues.update(issue.iid, {"title": "late"})
    wait_until(lambda: project.issues.get(issue.iid).title == "late")


def test_request_log_records_what_was_called(project, fake):
    issue = project.issues.create({"title": "t"})
    project.issues.update(issue.iid, {"description": "d"})
    edits = fake.requests_to("issues.edit")
    assert len(edits) == 1
    assert edits[0].body == {"description": "d"} and edits[0].status == 200
    assert edits[0].username == "stagegate-bot"


def test_connection_reset(fake, project):
    fake.fail("issues.list", reset=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        project.issues.list(get_all=False)
    assert project.issues.list(get_all=False) == []


# -- moves, duplicates, notes touching their issue --------------------------


def test_move_copies_the_issue_and_closes_the_old_one_with_moved_to_id(gl, project, fake):
    other = fake.store.add_project("ai-group/elsewhere")
    issue = project.issues.create({"title": "t", "description": "body", "labels": "b,a"})
    issue.notes.create({"body": "a comment"})
    old_iid, old_id = issue.iid, issue.id
    issue.move(other.id)  # python-gitlab turns the object into the new issue
    assert issue.project_id == other.id and issue.iid == 1 and issue.id != old_id
    assert issue.description == "body" and issue.labels == ["a", "b"]
    old = project.issues.get(old_iid)
    assert old.state == "closed" and old.moved_to_id == issue.id
    system = [n.body for n in old.notes.list(get_all=True) if n.system]
    # Project#to_reference_base: a project of the same namespace is named by its path alone.
    assert system == [f"moved to elsewhere#{issue.iid}"]
    new_notes = gl.projects.get(other.id, lazy=True).issues.get(issue.iid).notes.list(get_all=True)
    assert {n.body for n in new_notes} == {"a comment", "moved from proposals#1"}


def test_a_move_across_namespaces_names_the_full_path_and_copies_notes_into_new_threads(gl, project, fake):
    other = fake.store.add_project("other-group/elsewhere")
    issue = project.issues.create({"title": "t", "description": "body"})
    note = issue.notes.create({"body": "a comment"})
    old_iid = issue.iid
    old_thread = fake.issue(old_iid).notes[note.id].discussion_id
    issue.move(other.id)
    system = [n.body for n in project.issues.get(old_iid).notes.list(get_all=True) if n.system]
    assert system == [f"moved to other-group/elsewhere#{issue.iid}"]
    [copy] = [n for n in fake.issue(issue.iid, other).notes.values() if not n.system]
    # Notes::CopyService: a new id and a new thread, the same writer, text and created_at.
    assert (copy.body, copy.author.id) == ("a comment", fake.store.bot.id)
    assert copy.id != note.id and copy.discussion_id != old_thread
    assert copy.created_at == fake.issue(old_iid).notes[note.id].created_at
    moved_from = [n.body for n in fake.issue(issue.iid, other).notes.values() if n.system]
    assert moved_from == ["moved from ai-group/proposals#1"]


def test_a_project_the_user_is_no_member_of_is_404_project_not_found(gl, fake):
    hidden = fake.store.add_project("ai-group/secret")
    hidden.members = {fake.human.id}
    response = requests.get(f"{fake.url}/api/v4/projects/{hidden.id}/issues", headers={"PRIVATE-TOKEN": fake.token})
    assert response.status_code == 404 and response.json() == {"message": "404 Project Not Found"}


def test_closed_as_duplicate_carries_duplicated_to_id(project, fake):
    first = project.issues.create({"title": "first"})
    second = project.issues.create({"title": "second"})
    fake.close_as_duplicate(second.iid, first.iid)
    again = project.issues.get(second.iid)
    assert again.state == "closed" and again.duplicated_to_id == first.id


def test_a_note_touches_its_issues_updated_at(project):
    issue = project.issues.create({"title": "t"})
    before = project.issues.get(issue.iid).updated_at
    note = issue.notes.create({"body": "hello"})
    touched = project.issues.get(issue.iid).updated_at
    assert touched > before
    note.body = "edited"
    note.save()
    assert project.issues.get(issue.iid).updated_at > touched


def test_before_request_acts_between_two_pages(project, fake):
    for n in range(3):
        project.issues.create({"title": f"t{n}"})
    fake.before_request("issues.list", lambda: fake.human_edit(1, title="touched"), after=1)
    first = project.issues.list(order_by="updated_at", sort="asc", per_page=2, page=1)
    second = project.issues.list(order_by="updated_at", sort="asc", per_page=2, page=2)
    assert [i.iid for i in first] == [1, 2]
    assert [i.iid for i in second] == [1]  # issue 3 slid onto page 1 when issue 1 moved to the end


# -- errors real GitLab gives ------------------------------------------------


def test_an_expired_token_is_401_with_token_has_expired(fake):
    fake.expire_token()
    response = requests.get(f"{fake.url}/api/v4/user", headers={"PRIVATE-TOKEN": fake.token})
    assert response.status_code == 401
    assert 'error_description="Token has expired."' in response.headers["WWW-Authenticate"]


def test_spam_check_409_asks_for_a_captcha(project, fake):
    issue = project.issues.create({"title": "t"})
    fake.fail("issues.edit", status=409, spam=True)
    with pytest.raises(gitlab.GitlabUpdateError) as held:
        project.issues.update(issue.iid, {"title": "spammy"})
    assert held.value.response_code == 409
    body = json.loads(held.value.response_body)
    assert body["needs_captcha_response"] is True and body["spam_log_id"]


def test_a_redirected_write_is_python_gitlabs_redirect_error(project, fake):
    issue = project.issues.create({"title": "t"})
    fake.fail("issues.edit", status=302, location=f"{fake.url}/api/v4/projects/1/issues/{issue.iid}")
    with pytest.raises(gitlab.RedirectError):
        project.issues.update(issue.iid, {"title": "moved"})


def test_an_archived_project_refuses_writes_with_403(project, fake):
    issue = project.issues.create({"title": "t"})
    fake.project.archived = True
    with pytest.raises(gitlab.GitlabUpdateError) as refused:
        project.issues.update(issue.iid, {"title": "x"})
    assert refused.value.response_code == 403
    assert project.issues.get(issue.iid).title == "t"


def test_hook_bodies_are_rails_escaped_json(project, receiver, fake):
    project.issues.create({"title": "t", "description": "<b>bold</b> & more"})
    assert fake.wait_for_hooks()
    body = fake.deliveries()[0].body
    assert b"\\u003cb\\u003ebold\\u003c/b\\u003e \\u0026 more" in body
    assert b"<" not in body and b"&" not in body
    assert json.loads(body)["object_attributes"]["description"] == "<b>bold</b> & more"


# -- a path prefix and an external URL -----------------------------------------


def test_served_under_a_prefix_with_links_from_the_external_url():
    with FakeGitLab(prefix="/gitlab") as fake:
        fake.external_url = "https://gitlab.example.com/gitlab"
        for n in range(3):
            fake.create_issue(title=f"t{n}")
        headers = {"PRIVATE-TOKEN": fake.token}
        assert fake.url.endswith("/gitlab")
        response = requests.get(f"{fake.url}/api/v4/projects/1/issues", params={"per_page": 2}, headers=headers)
        assert response.status_code == 200 and len(response.json()) == 2
        assert "<https://gitlab.example.com/gitlab/api/v4/projects/1/issues?" in response.headers["Link"]
        assert response.json()[0]["web_url"].startswith("https://gitlab.example.com/gitlab/ai-group/proposals/")
        outside = requests.get(fake.url.removesuffix("/gitlab") + "/api/v4/projects/1/issues", headers=headers)
        assert outside.status_code == 404
        gl = gitlab.Gitlab(fake.url, private_token=fake.token, keep_base_url=True)
        assert len(gl.projects.get(1, lazy=True).issues.list(per_page=2, get_all=True)) == 3


def test_token_self_shows_expiry_and_hooks_show_their_alert_status(fake, gl, project):
    fake.set_token_expiry("2027-01-31")
    assert gl.http_get("/personal_access_tokens/self")["expires_at"] == "2027-01-31"
    hook = fake.add_hook("http://127.0.0.1:9/hook")
    hook.alert_status = "disabled"
    assert [h.alert_status for h in project.hooks.list(get_all=True)] == ["disabled"]


# -- hooks GitLab disables, version profiles, quick actions ----------------------------------


def _events(fake, receiver, count: int) -> None:
    for n in range(count):
        fake.create_issue(title=f"Event {n}")
        fake.wait_for_hooks()


def test_a_hook_failing_four_times_in_a_row_is_disabled_for_a_while_then_tried_again(fake, receiver):
    receiver.status = 500
    _events(fake, receiver, 4)
    (hook,) = fake.project.hooks.values()
    assert hook.alert_status == "temporarily_disabled"
    assert hook.disabled_until is not None
    listed = requests.get(f"{fake.url}/api/v4/projects/{fake.project.id}/hooks", headers={"PRIVATE-TOKEN": fake.token})
    assert listed.json()[0]["alert_status"] == "temporarily_disabled" and listed.json()[0]["disabled_until"]
    sent = len(receiver.received)
    _events(fake, receiver, 1)
    assert len(receiver.received) == sent  # not executed while disabled: the event is lost for it
    receiver.status = 200
    hook.disabled_until = hook.disabled_until.replace(year=2000)  # the back-off is over
    _events(fake, receiver, 1)
    assert len(receiver.received) == sent + 1
    assert hook.alert_status == "executable" and hook.recent_failures == 0


def test_the_back_off_doubles_and_forty_failures_disable_the_hook_for_good(fake, receiver):
    receiver.status = 404  # 4xx counts like 5xx since MR !166329
    (hook,) = fake.project.hooks.values()
    waits = []
    for _ in range(40):
        if hook.disabled_until is not None:
            hook.disabled_until = hook.disabled_until.replace(year=2000)
        _events(fake, receiver, 1)
        if hook.alert_status == "temporarily_disabled":
            waits.append(hook.backoff_count)
    assert waits[:3] == [1, 2, 3]
    assert hook.alert_status == "disabled" and hook.recent_failures == 40
    receiver.status = 200
    assert fake.test_hook(hook).status_code == 200  # the settings' Test button enables it again
    assert hook.alert_status == "executable"


def test_before_17_6_a_client_error_disables_the_hook_for_good_after_four(receiver_server):
    with FakeGitLab(version="16.5") as old:
        old.add_hook(receiver_server.url, token="hook-secret")
        receiver_server.status = 410
        for n in range(4):
            old.create_issue(title=f"Event {n}")
            old.wait_for_hooks()
        (hook,) = old.project.hooks.values()
        assert hook.alert_status == "disabled"
    receiver_server.status = 200


@pytest.mark.parametrize(
    "version, idempotency, note_edits, kind",
    [("16.5", False, False, "issue"), ("16.11", False, True, "issue"), ("17.4", True, True, "issue"),
     ("17.8", True, True, "work_item"), ("18.2", True, True, "issue")],
)  # fmt: skip
def test_version_profiles_send_what_that_release_sends(receiver_server, version, idempotency, note_edits, kind):
    receiver_server.received.clear()
    receiver_server.status = 200
    with FakeGitLab(version=version) as release:
        release.add_hook(receiver_server.url, token="hook-secret")
        issue = release.create_issue(title="Versioned")
        note = release.human_comment(issue.iid, "First")
        release.human_edit_comment(issue.iid, note.id, "Edited")
        release.wait_for_hooks()
    headers = [h for h, _ in receiver_server.received]
    payloads = [p for _, p in receiver_server.received]
    assert all(("Idempotency-Key" in h) is idempotency for h in headers)
    assert all(h["User-Agent"] == f"GitLab/{version}" for h in headers)
    note_actions = [p["object_attributes"]["action"] for p in payloads if p["object_kind"] == "note"]
    assert note_actions == (["create", "update"] if note_edits else ["create"])
    issue_events = [
        (h["X-Gitlab-Event"], p["object_kind"]) for h, p in receiver_server.received if p["object_kind"] != "note"
    ]
    assert issue_events and all(event == ("Issue Hook", kind) for event in issue_events)


def test_quick_actions_in_a_saved_description_run_and_leave_the_text(fake):
    issue = fake.create_issue(
        title="Quick",
        description='Body\n\n/label ~"AI Feature Proposal" ~ux\n/confidential\n/parent_epic &9997\n\n'
        "/cc @rogerwoo @oregand\n\n```\n/label ~code\n```\n",
    )
    assert set(issue.labels) == {"AI Feature Proposal", "ux"} and issue.confidential
    # Taken out with the blank lines right after them; /parent_epic too, though it only works on epics.
    assert issue.description == "Body\n\n/cc @rogerwoo @oregand\n\n```\n/label ~code\n```"
    fake.human_edit(issue.iid, description=issue.description + "\n/UNLABEL ~ux\n")
    assert fake.issue(issue.iid).labels == ["AI Feature Proposal"]
    assert "/UNLABEL" not in fake.issue(issue.iid).description


def test_cc_is_a_command_without_action_left_in_the_text_on_create_and_on_update(fake):
    issue = fake.create_issue(title="Mentions", description="Body\n/cc @rogerwoo\n")
    assert issue.description == "Body\n/cc @rogerwoo"
    fake.human_edit(issue.iid, description="Body edited\n/cc @jackib")
    assert fake.issue(issue.iid).description == "Body edited\n/cc @jackib"


def test_quick_actions_in_an_html_block_or_a_multiline_quote_are_text(fake):
    description = "<details>\n/label ~html\n</details>\n>>>\n/confidential\n>>>"
    issue = fake.create_issue(title="Blocks", description=description)
    assert issue.description == description and issue.labels == [] and not issue.confidential
