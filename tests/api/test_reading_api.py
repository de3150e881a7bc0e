"""Through the API, a reader sees what the proposal's pages show around it: the GitLab issue's designs, the
timeline with its filters, and what changed since they last looked; a proposal they may not read is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gitlab_sync.models import IssueCollabState, IssueDesign, SyncState
from proposals import history
from proposals.models import Activity, ProposalSeen
from tests.factories import ProposalFactory, UserFactory
from tests.helpers import edit

pytestmark = pytest.mark.django_db

ISSUE_URL = "https://gitlab.example.com/ai/proposals/-/issues/7"


@pytest.fixture
def confidential(author):
    return ProposalFactory(owner=author, confidential=True, title="Acquire the start-up")


def with_designs(proposal, *filenames: str) -> None:
    SyncState.objects.update_or_create(proposal=proposal, defaults={"issue_iid": 7, "web_url": ISSUE_URL})
    IssueCollabState.objects.update_or_create(proposal=proposal, defaults={"designs_read_at": timezone.now()})
    for position, filename in enumerate(filenames):
        IssueDesign.objects.create(
            proposal=proposal,
            gitlab_id=f"gid://gitlab/DesignManagement::Design/{position + 1}",
            filename=filename,
            image_url=f"https://gitlab.example.com/raw/{position + 1}",
            thumbnail_url=f"https://gitlab.example.com/small/{position + 1}",
            position=position,
        )


# --- designs -------------------------------------------------------------------------------------


def test_a_reader_lists_the_issues_designs_with_their_links_to_gitlab(api_client_for, working_group_member, proposal):
    with_designs(proposal, "flow chart.png", "summary.png")

    response = api_client_for(working_group_member).get(f"/api/proposals/{proposal.pk}/designs/")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    first = response.json()["results"][0]
    assert first["filename"] == "flow chart.png"
    assert first["gitlab_url"] == f"{ISSUE_URL}/designs/flow%20chart.png"
    assert first["thumbnail_url"] == "https://gitlab.example.com/small/1"
    assert first["image_url"] == "https://gitlab.example.com/raw/1"
    assert first["read_at"] is not None


def test_a_confidential_proposals_designs_are_a_404_to_those_who_may_not_read_it(
    api_client_for, author, working_group_member, confidential
):
    with_designs(confidential, "secret.png")

    assert api_client_for(working_group_member).get(f"/api/proposals/{confidential.pk}/designs/").status_code == 404
    assert api_client_for(author).get(f"/api/proposals/{confidential.pk}/designs/").json()["count"] == 1


def test_designs_cost_the_same_queries_for_one_design_and_for_many(
    api_client_for, author, proposal, django_assert_num_queries
):
    client = api_client_for(author)
    url = f"/api/proposals/{proposal.pk}/designs/"
    with_designs(proposal, "one.png")
    client.get(url)  # the token's first use
    with django_assert_num_queries(7) as few:
        assert client.get(url).status_code == 200
    IssueDesign.objects.bulk_create(
        IssueDesign(proposal=proposal, gitlab_id=f"more-{n}", filename=f"more {n}.png", position=n + 1)
        for n in range(40)
    )
    with django_assert_num_queries(len(few)):
        assert client.get(url).json()["count"] == 41


# --- timeline ------------------------------------------------------------------------------------


def timeline(client, proposal, **params):
    return client.get(f"/api/proposals/{proposal.pk}/timeline/", params)


def test_the_timeline_answers_each_entry_with_who_and_what(api_client_for, author, working_group_member, proposal):
    edit(proposal, author, user_problem="Threads are long.")

    body = timeline(api_client_for(working_group_member), proposal).json()

    kinds = [entry["kind"] for entry in body["results"]]
    assert kinds[-1] == "created"
    assert body["results"][-1]["person"] == author.username
    assert body["results"][-1]["internal"] is False
    assert "edited" in kinds


def test_internal_notes_are_on_the_timeline_only_for_those_gitlab_would_show_them_to(
    api_client_for, author, working_group_member, proposal
):
    Activity.objects.create(
        proposal=proposal, kind=Activity.Kind.COMMENT, message="An internal note", data={"internal": True, "by": "ann"}
    )
    Activity.objects.create(proposal=proposal, kind=Activity.Kind.COMMENT, message="A public note", data={"by": "bob"})

    for_reader = [e["message"] for e in timeline(api_client_for(working_group_member), proposal).json()["results"]]
    for_author = timeline(api_client_for(author), proposal).json()["results"]

    assert "A public note" in for_reader and "An internal note" not in for_reader
    assert any(e["message"] == "An internal note" and e["internal"] for e in for_author)
    # Naming the internal note's writer finds nothing either.
    assert timeline(api_client_for(working_group_member), proposal, person="ann").json()["count"] == 0


def test_the_timeline_takes_the_pages_filters(api_client_for, author, other_author, proposal, monkeypatch):
    Activity.objects.create(proposal=proposal, actor=other_author, kind=Activity.Kind.COMMENT, message="Looks fine")
    last_month = timezone.now() - timedelta(days=30)
    monkeypatch.setattr(timezone, "now", lambda: last_month)
    Activity.objects.create(proposal=proposal, kind=Activity.Kind.SYNC, message="Pushed", data={"by": "gl_bot"})
    monkeypatch.undo()
    client = api_client_for(author)

    by_kind = timeline(client, proposal, kind="comment").json()["results"]
    by_person = timeline(client, proposal, person="gl_bot").json()["results"]
    today = timezone.localdate()
    recent = timeline(client, proposal, date_from=(today - timedelta(days=1)).isoformat()).json()["results"]
    long_ago = timeline(client, proposal, date_to=(today - timedelta(days=20)).isoformat()).json()["results"]

    assert [e["message"] for e in by_kind] == ["Looks fine"]
    assert [e["message"] for e in by_person] == ["Pushed"]
    assert "Pushed" not in [e["message"] for e in recent] and "Looks fine" in [e["message"] for e in recent]
    assert [e["message"] for e in long_ago] == ["Pushed"]
    assert timeline(client, proposal, kind="gossip").status_code == 400
    assert timeline(client, proposal, date_from="yesterday").status_code == 400


def test_a_confidential_proposals_timeline_is_a_404_to_those_who_may_not_read_it(
    api_client_for, working_group_member, confidential
):
    assert timeline(api_client_for(working_group_member), confidential).status_code == 404


def test_the_timeline_costs_the_same_queries_at_10_and_1000_entries(
    api_client_for, author, proposal, django_assert_num_queries
):
    client = api_client_for(author)

    def grow(n: int) -> None:
        Activity.objects.bulk_create(
            Activity(proposal=proposal, kind=Activity.Kind.COMMENT, message=f"Note {i}", data={"by": f"gl{i % 7}"})
            for i in range(n)
        )

    grow(10)
    timeline(client, proposal)  # the token's first use
    narrowed = {"kind": "comment", "person": "gl3", "page_size": 3}
    counts = {}
    for name, params in (("all", {}), ("narrowed", narrowed)):
        with django_assert_num_queries(30, exact=False) as small:
            assert timeline(client, proposal, **params).status_code == 200
        counts[name] = len(small)
    grow(990)
    for name, params in (("all", {}), ("narrowed", narrowed)):
        with django_assert_num_queries(counts[name]):
            assert timeline(client, proposal, **params).status_code == 200


# --- changed since I last looked -----------------------------------------------------------------


def test_a_reader_sees_what_others_changed_since_they_marked_it_seen(
    api_client_for, author, working_group_member, proposal, monkeypatch
):
    monkeypatch.setattr(history, "COALESCE_WINDOW", timedelta(0))  # two saves, two entries
    edit(proposal, author, user_problem="Threads are long.")
    client = api_client_for(working_group_member)
    url = f"/api/proposals/{proposal.pk}/changes-since-last-look/"

    never = client.get(url).json()
    assert never == {"last_looked": None, "changes": []}

    seen = client.post(f"/api/proposals/{proposal.pk}/seen/").json()
    assert seen["previous"] is None and seen["last_looked"]
    edit(proposal, author, user_problem="Threads are long and noisy.")

    body = client.get(url).json()
    assert body["last_looked"] == seen["last_looked"]
    (change,) = body["changes"]
    assert change["field"] == "field:user_problem"
    assert change["before"] == "Threads are long."
    assert change["after"] == "Threads are long and noisy."
    assert change["people"] == [author.username]
    assert change["last_changed_at"]
    assert change["label"] and change["section_title"]
    # Asking is not looking: the same answer again.
    assert client.get(url).json() == body


def test_the_read_page_and_the_api_share_one_last_look(client, api_client_for, author, working_group_member, proposal):
    api = api_client_for(working_group_member)
    url = f"/api/proposals/{proposal.pk}/changes-since-last-look/"
    api.post(f"/api/proposals/{proposal.pk}/seen/")
    edit(proposal, author, user_problem="Written after the look.")
    assert len(api.get(url).json()["changes"]) == 1

    client.force_login(working_group_member)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "1 part changed since you last looked" in page

    assert api.get(url).json()["changes"] == []  # the page's visit counted as a look
    edit(proposal, author, user_problem="Written after the page.")
    api.post(f"/api/proposals/{proposal.pk}/seen/")
    assert 'id="since-last-look"' not in client.get(proposal.get_absolute_url()).content.decode()


def test_ones_own_changes_are_not_news(api_client_for, author, proposal):
    client = api_client_for(author)
    client.post(f"/api/proposals/{proposal.pk}/seen/")
    edit(proposal, author, user_problem="My own words.")

    assert client.get(f"/api/proposals/{proposal.pk}/changes-since-last-look/").json()["changes"] == []


def test_a_confidential_proposals_changes_are_a_404_to_those_who_may_not_read_it(
    api_client_for, working_group_member, confidential
):
    client = api_client_for(working_group_member)
    assert client.get(f"/api/proposals/{confidential.pk}/changes-since-last-look/").status_code == 404
    assert client.post(f"/api/proposals/{confidential.pk}/seen/").status_code == 404
    assert not ProposalSeen.objects.filter(proposal=confidential, user=working_group_member).exists()


def test_changes_since_cost_the_same_queries_at_few_and_many_changes(
    api_client_for, author, proposal, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(history, "COALESCE_WINDOW", timedelta(0))  # each save its own row
    reader = UserFactory(username="reader", groups=["working group"])
    client = api_client_for(reader)
    url = f"/api/proposals/{proposal.pk}/changes-since-last-look/"
    client.post(f"/api/proposals/{proposal.pk}/seen/")
    edit(proposal, author, user_problem="One.")
    with django_assert_num_queries(30, exact=False) as few:
        assert len(client.get(url).json()["changes"]) == 1
    for n in range(30):
        edit(proposal, author, user_problem=f"Change {n}")
    with django_assert_num_queries(len(few)):
        assert len(client.get(url).json()["changes"]) == 1
