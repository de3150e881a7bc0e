"""The discussion, the linked issues and the history through the API: the page's services and refusals,
against the fake GitLab over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gitlab_sync import discussion, inbound
from gitlab_sync.models import IssueComment, LinkedIssue
from proposals import services
from proposals.models import FieldChange
from tests.factories import ProposalFactory
from tests.gitlab_sync.conftest import fake, fake_server, issue_of, linked, tasks_go_nowhere  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client_for(api_client_for):
    """Scripts send JSON: every request body here is JSON."""

    def make(user):
        client = api_client_for(user)
        client.default_format = "json"
        return client

    return make


def url(proposal, tail: str = "") -> str:
    return f"/api/proposals/{proposal.pk}/{tail}"


def deliver_all() -> None:
    """What the worker does: every comment waiting for GitLab is delivered."""
    waiting = IssueComment.objects.filter(posting="pending") | IssueComment.objects.filter(edit_pending=True)
    for comment_id in waiting.values_list("pk", flat=True):
        discussion.comment_deliver(comment_id)


def gitlab_notes(fake, proposal) -> list:  # noqa: F811 - the fixture imported above
    notes = issue_of(fake, proposal).notes.values()
    return [note for note in sorted(notes, key=lambda n: n.id) if not note.system]


# --- comments --------------------------------------------------------------------------------------


def test_a_comment_and_its_reply_reach_gitlab_in_one_thread_and_list_as_one(
    fake,  # noqa: F811
    linked,  # noqa: F811
    api_client_for,
    author,
    reviewer,
):
    posted = api_client_for(author).post(url(linked, "comments/"), {"body": "Which regions first?"})
    assert posted.status_code == 201
    assert posted.json()["yours"] is True and posted.json()["posting"] == "pending"
    head = posted.json()["id"]
    replied = api_client_for(reviewer).post(
        url(linked, f"comments/{head}/replies/"), {"body": "EU, then @ada decides"}, format="json"
    )
    assert replied.status_code == 201 and replied.json()["reply_to"] == head
    deliver_all()

    notes = gitlab_notes(fake, linked)
    assert [n.body.split("\n")[0] for n in notes] == ["Which regions first?", "EU, then @ada decides"]
    assert len({n.discussion_id for n in notes}) == 1
    listed = api_client_for(reviewer).get(url(linked, "comments/")).json()
    assert listed["count"] == 1
    [thread] = listed["results"]
    assert thread["discussion_id"] == notes[0].discussion_id
    assert [(c["body"], c["yours"], c["posting"]) for c in thread["comments"]] == [
        ("Which regions first?", False, "posted"),
        ("EU, then @ada decides", True, "posted"),
    ]


def test_a_gitlab_comment_is_listed_in_full_and_a_reply_keeps_its_thread(
    fake,  # noqa: F811
    linked,  # noqa: F811
    api_client_for,
    author,
):
    iid = issue_of(fake, linked).iid
    long_text = "We measured it. " + "Reviewers read every thread from the top. " * 40
    first = fake.human_comment(iid, long_text)
    inbound.pull_comments(linked.pk)
    client = api_client_for(author)
    [thread] = client.get(url(linked, "comments/")).json()["results"]
    assert thread["comments"][0]["body"] == long_text and thread["comments"][0]["posting"] == "from_gitlab"

    reply = client.post(url(linked, f"comments/{thread['comments'][0]['id']}/replies/"), {"body": "Thanks"})
    assert reply.status_code == 201
    deliver_all()
    assert [n.discussion_id for n in gitlab_notes(fake, linked)] == [first.discussion_id] * 2


def test_only_the_writer_edits_or_deletes_a_comment_and_gitlab_follows(
    fake,  # noqa: F811
    linked,  # noqa: F811
    api_client_for,
    author,
    reviewer,
):
    mine = discussion.comment_post(proposal=linked, body="Draft wording", by=author)
    deliver_all()
    fake.human_comment(issue_of(fake, linked).iid, "Written on GitLab")
    inbound.pull_comments(linked.pk)
    theirs = IssueComment.objects.get(proposal=linked, written_by=None)
    comment_url = url(linked, f"comments/{mine.pk}/")

    assert api_client_for(reviewer).patch(comment_url, {"body": "Hijacked"}).status_code == 403
    assert api_client_for(reviewer).delete(comment_url).status_code == 403
    client = api_client_for(author)
    assert client.patch(url(linked, f"comments/{theirs.pk}/"), {"body": "x"}).status_code == 403
    assert client.patch(comment_url, {"body": "  "}).json() == {"body": ["Write something first."]}

    edited = client.patch(comment_url, {"body": "Final wording"})
    assert edited.status_code == 200 and edited.json()["body"] == "Final wording"
    deliver_all()
    assert [n.body.split("\n")[0] for n in gitlab_notes(fake, linked)] == ["Final wording", "Written on GitLab"]

    assert client.delete(comment_url).status_code == 204
    deliver_all()
    assert [n.body for n in gitlab_notes(fake, linked)] == ["Written on GitLab"]
    assert client.patch(comment_url, {"body": "Back"}).status_code == 404
    bodies = [c["body"] for t in client.get(url(linked, "comments/")).json()["results"] for c in t["comments"]]
    assert bodies == ["Written on GitLab"]


def test_internal_notes_exist_only_for_those_allowed_to_see_them(
    fake,  # noqa: F811
    linked,  # noqa: F811
    api_client_for,
    reviewer,
    working_group_member,
):
    fake.human_comment(issue_of(fake, linked).iid, "Internal: the customer is Acme", internal=True)
    inbound.pull_comments(linked.pk)
    note = IssueComment.objects.get(proposal=linked)

    outsider = api_client_for(working_group_member)
    assert outsider.get(url(linked, "comments/")).json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert outsider.post(url(linked, f"comments/{note.pk}/replies/"), {"body": "Who?"}).status_code == 404
    assert not IssueComment.objects.filter(written_by=working_group_member).exists()

    member = api_client_for(reviewer)
    [thread] = member.get(url(linked, "comments/")).json()["results"]
    assert thread["comments"][0]["internal"] is True
    reply = member.post(url(linked, f"comments/{note.pk}/replies/"), {"body": "Noted"})
    assert reply.status_code == 201 and reply.json()["internal"] is True


@pytest.mark.parametrize("body", ["", "   ", "x" * (discussion.COMMENT_MAX_LENGTH + 1), "bad \x00 byte"])
def test_an_empty_or_invalid_comment_is_refused_and_nothing_is_posted(api_client_for, author, proposal, body):
    answer = api_client_for(author).post(url(proposal, "comments/"), {"body": body})
    assert answer.status_code == 400 and answer.json()["body"]
    assert not IssueComment.objects.exists()


def test_a_confidential_proposal_has_no_discussion_links_or_history_for_those_who_may_not_read_it(
    api_client_for, author, working_group_member
):
    secret = ProposalFactory(owner=author, confidential=True)
    comment = discussion.comment_post(proposal=secret, body="Secret plan", by=author)
    outsider = api_client_for(working_group_member)
    for path in ("comments/", "linked-issues/", "history/"):
        assert outsider.get(url(secret, path)).status_code == 404
    assert outsider.post(url(secret, "comments/"), {"body": "Hi"}).status_code == 404
    assert outsider.post(url(secret, f"comments/{comment.pk}/replies/"), {"body": "Hi"}).status_code == 404
    assert outsider.post(url(secret, "linked-issues/"), {"reference": "#1"}).status_code == 404
    assert IssueComment.objects.filter(proposal=secret).count() == 1
    assert api_client_for(author).get(url(secret, "history/")).status_code == 200


# --- linked issues ---------------------------------------------------------------------------------


def test_the_author_links_and_unlinks_an_issue_and_readers_list_it(
    fake,  # noqa: F811
    linked,  # noqa: F811
    api_client_for,
    author,
    other_author,
):
    other = fake.create_issue(title="Feature: summaries")
    client = api_client_for(author)
    refused = api_client_for(other_author).post(url(linked, "linked-issues/"), {"reference": f"#{other.iid}"})
    assert refused.status_code == 403 and fake.store.issue_links == {}

    added = client.post(url(linked, "linked-issues/"), {"reference": f"#{other.iid}", "link_type": "blocks"})
    assert added.status_code == 201
    [link] = added.json()
    assert (link["link_type"], link["issue_iid"], link["title"]) == ("blocks", other.iid, "Feature: summaries")
    assert fake.store.issue_links != {}
    listed = api_client_for(other_author).get(url(linked, "linked-issues/")).json()
    assert [row["title"] for row in listed["results"]] == ["Feature: summaries"]

    assert api_client_for(other_author).delete(url(linked, f"linked-issues/{link['id']}/")).status_code == 403
    assert client.delete(url(linked, f"linked-issues/{link['id']}/")).status_code == 204
    assert fake.store.issue_links == {} and not LinkedIssue.objects.filter(proposal=linked).exists()
    assert client.delete(url(linked, f"linked-issues/{link['id']}/")).status_code == 404


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("#999", "GitLab has no issue #999"),
        ("not an issue", "is not an issue"),
        ("https://elsewhere.example/ai-group/proposals/-/issues/1", "another GitLab"),
    ],
)
def test_a_link_gitlab_cannot_make_is_refused_with_the_reason(
    fake,  # noqa: F811
    linked,  # noqa: F811
    api_client_for,
    author,
    reference,
    reason,
):
    answer = api_client_for(author).post(url(linked, "linked-issues/"), {"reference": reference})
    assert answer.status_code == 400 and reason in answer.json()["reference"][0]
    assert fake.store.issue_links == {}


def test_a_proposal_not_on_gitlab_yet_cannot_be_linked(api_client_for, author, proposal):
    answer = api_client_for(author).post(url(proposal, "linked-issues/"), {"reference": "#1"})
    assert answer.status_code == 400


def test_a_confidential_linked_issue_title_is_only_for_members(api_client_for, proposal, author, working_group_member):
    LinkedIssue.objects.create(
        proposal=proposal,
        link_id=1,
        issue_id=10,
        issue_iid=3,
        reference="g/p#3",
        title="Acme outage",
        confidential=True,
    )
    assert api_client_for(author).get(url(proposal, "linked-issues/")).json()["results"][0]["title"] == "Acme outage"
    shown = api_client_for(working_group_member).get(url(proposal, "linked-issues/")).json()["results"][0]
    assert shown["title"] == "Confidential issue" and shown["reference"] == "g/p#3"


# --- history ---------------------------------------------------------------------------------------


def test_history_lists_changes_newest_first_with_the_pages_filters(
    api_client_for, author, other_author, proposal, working_group_member
):
    services.requirement_add(proposal=proposal, text="Read a summary", by=author)
    long_ago = timezone.now() - timedelta(days=30)
    FieldChange.objects.create(
        proposal=proposal,
        field="field:user_problem",
        section="problem",
        before="",
        after="Threads are long",
        actor=other_author,
        actor_name="grace",
        origin=FieldChange.Origin.GITLAB,
        started_at=long_ago,
        changed_at=long_ago,
    )
    client = api_client_for(working_group_member)
    everything = client.get(url(proposal, "history/")).json()
    assert everything["count"] >= 2
    newest = everything["results"][0]
    assert (newest["person"], newest["section_title"], newest["after"]) == ("ada", "Requirements", "Read a summary")

    by_grace = client.get(url(proposal, "history/"), {"person": "grace"}).json()["results"]
    assert [(r["label"], r["origin"], r["after"]) for r in by_grace] == [("User problem", "gitlab", "Threads are long")]
    assert by_grace[0]["diff"] == [{"op": "+", "text": "Threads are long"}]
    assert client.get(url(proposal, "history/"), {"person": "nobody"}).json()["results"] == []
    assert client.get(url(proposal, "history/"), {"kind": "lists"}).json()["results"][0]["field"].startswith("list:")
    assert all(
        r["section"] == "problem" for r in client.get(url(proposal, "history/?section=problem")).json()["results"]
    )
    day = (long_ago + timedelta(days=1)).date().isoformat()
    assert [r["person"] for r in client.get(url(proposal, f"history/?date_to={day}")).json()["results"]] == ["grace"]
    assert all(r["person"] != "grace" for r in client.get(url(proposal, f"history/?date_from={day}")).json()["results"])
    assert client.get(url(proposal, "history/?page_size=1")).json()["next"]

    bad = client.get(url(proposal, "history/"), {"date_from": "yesterday", "kind": "everything"})
    assert bad.status_code == 400 and set(bad.json()) == {"date_from", "kind"}
    assert client.get(url(proposal, "history/"), {"person": "a\x00b"}).status_code == 400


# --- flat queries ----------------------------------------------------------------------------------


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_list_endpoints_read_10_or_100_rows_in_the_same_queries(api_client_for, author, proposal):
    client = api_client_for(author)
    now = timezone.now()

    def grow(count: int) -> None:
        for n in range(IssueComment.objects.filter(proposal=proposal).count(), count):
            IssueComment.objects.create(
                proposal=proposal,
                gitlab_note_id=1000 + n,
                discussion_id=f"d{n // 2}",
                written_by=author if n % 3 == 0 else None,
                author_username="ada" if n % 3 == 0 else "someone",
                body=f"Comment {n}",
                internal=n % 5 == 0,
                created_at=now,
                updated_at=now,
            )
        for n in range(LinkedIssue.objects.filter(proposal=proposal).count(), count):
            LinkedIssue.objects.create(
                proposal=proposal, link_id=n + 1, issue_id=n + 100, issue_iid=n + 1, title=f"Issue {n}"
            )
        for n in range(FieldChange.objects.filter(proposal=proposal).count(), count):
            FieldChange.objects.create(
                proposal=proposal, field="field:user_problem", section="problem", after=f"v{n}", actor_name=f"p{n % 7}"
            )

    paths = [url(proposal, f"{tail}?page_size=100") for tail in ("comments/", "linked-issues/", "history/")]
    grow(10)
    few = [_queries(client, path) for path in paths]
    grow(100)
    many = [_queries(client, path) for path in paths]
    print(f"comments, linked issues, history queries: {few} with 10 rows, {many} with 100")
    assert few == many
