"""Everything a person does in the browser, through the API: the same functions, the same refusals."""

import pytest

from gitlab_sync.models import SyncConflict, SyncState
from proposals import services
from proposals.content import content_from_proposal
from proposals.markdown import render
from proposals.models import Activity, Approval, Proposal
from proposals.template import Stage
from reviews.models import InAppNotification, Watch
from tests.factories import ProposalFactory, UserFactory
from tests.workflow.conftest import fill, reviewers, sign_off_all  # noqa: F401 - `reviewers` is a fixture

pytestmark = pytest.mark.django_db


def url(proposal, tail: str = "") -> str:
    return f"/api/proposals/{proposal.pk}/{tail}"


# --- transitions -----------------------------------------------------------------------------------


def test_a_closed_gate_answers_its_reasons_and_an_open_one_moves_the_proposal(api_client_for, author):
    client = api_client_for(author)
    proposal = ProposalFactory(owner=author)

    refused = client.post(url(proposal, "advance/"), format="json")
    assert refused.status_code == 400
    assert "Fill in “User problem” (Experiment)" in refused.json()["reasons"]

    fill(proposal, Stage.EXPERIMENT)
    moved = client.post(url(proposal, "advance/"), format="json")
    assert moved.status_code == 200
    assert moved.json()["stage"] == Stage.GA
    assert Proposal.objects.get(pk=proposal.pk).stage == Stage.GA


def test_close_makes_the_proposal_read_only_and_reopen_makes_it_a_draft(api_client_for, author, proposal):
    client = api_client_for(author)

    closed = client.post(url(proposal, "close/"), format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert client.post(url(proposal, "requirements/"), {"text": "Late idea"}, format="json").status_code == 403
    assert client.post(url(proposal, "close/"), format="json").json()["reasons"] == ["The proposal is already closed"]

    reopened = client.post(url(proposal, "reopen/"), format="json")
    assert reopened.status_code == 200 and reopened.json()["state"] == "draft"
    assert client.post(url(proposal, "requirements/"), {"text": "Late idea"}, format="json").status_code == 201
    assert client.post(url(proposal, "reopen/"), format="json").status_code == 400


def test_the_working_group_approves_through_the_api_and_the_author_never_does(
    api_client_for,
    answered_proposal,
    author,
    reviewers,  # noqa: F811 - the fixture imported above
    working_group_member,
):
    proposal = fill(answered_proposal, Stage.EXPERIMENT)
    author_api = api_client_for(author)
    assert author_api.post(url(proposal, "advance/"), format="json").status_code == 200
    fill(proposal, Stage.GA)
    assert author_api.post(url(proposal, "submit/"), format="json").status_code == 200
    sign_off_all(proposal, reviewers)

    assert author_api.post(url(proposal, "approve/"), format="json").status_code == 403
    approved = api_client_for(working_group_member).post(url(proposal, "approve/"), format="json")

    assert approved.status_code == 200
    assert approved.json()["state"] == "approved"
    assert Approval.objects.get(proposal=proposal).approved_by == working_group_member


def test_nobody_else_moves_closes_or_reopens_and_confidential_proposals_stay_hidden(
    api_client_for, author, other_author, working_group_member
):
    public = ProposalFactory(owner=author)
    secret = ProposalFactory(owner=author, confidential=True)
    for step in ("advance/", "close/", "reopen/"):
        assert api_client_for(other_author).post(url(public, step), format="json").status_code == 403
        assert api_client_for(working_group_member).post(url(public, step), format="json").status_code == 403
        assert api_client_for(other_author).post(url(secret, step), format="json").status_code == 404
    assert api_client_for(working_group_member).post(url(secret, "approve/"), format="json").status_code == 404
    assert Proposal.objects.get(pk=public.pk).state == "draft"


# --- requirements and research links --------------------------------------------------------------


def test_a_requirement_is_edited_in_place_moved_and_removed(api_client_for, author, proposal):
    client = api_client_for(author)
    first, second, third = (
        services.requirement_add(proposal=proposal, text=text, by=author) for text in ("Read", "Share", "Mute")
    )

    edited = client.patch(url(proposal, f"requirements/{second.pk}/"), {"text": "Share a summary"}, format="json")
    assert edited.status_code == 200 and edited.json()["text"] == "Share a summary"
    assert edited.json()["position"] == second.position
    assert proposal.activities.filter(kind=Activity.Kind.REQUIREMENT, message__contains="edited").exists()

    moved = client.post(url(proposal, f"requirements/{third.pk}/move/"), {"direction": "up"}, format="json")
    assert [row["text"] for row in moved.json()] == ["Read", "Mute", "Share a summary"]

    assert client.delete(url(proposal, f"requirements/{first.pk}/")).status_code == 204
    assert list(proposal.requirements.values_list("text", flat=True)) == ["Mute", "Share a summary"]


def test_a_requirement_edit_is_validated_like_the_page(api_client_for, author, proposal):
    requirement = services.requirement_add(proposal=proposal, text="Read", by=author)
    client = api_client_for(author)

    for text in ("   ", "two\nlines", "nul\x00byte", "x" * 1001):
        response = client.patch(url(proposal, f"requirements/{requirement.pk}/"), {"text": text}, format="json")
        assert response.status_code == 400, text
    sideways = client.post(url(proposal, f"requirements/{requirement.pk}/move/"), {"direction": "left"}, "json")
    assert sideways.status_code == 400
    requirement.refresh_from_db()
    assert requirement.text == "Read"


def test_rows_of_another_proposal_are_not_found(api_client_for, author, proposal):
    elsewhere = services.requirement_add(proposal=ProposalFactory(owner=author), text="Elsewhere", by=author)

    response = api_client_for(author).patch(url(proposal, f"requirements/{elsewhere.pk}/"), {"text": "x"}, "json")

    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.text == "Elsewhere"


def test_a_research_link_is_moved_and_removed(api_client_for, author, proposal):
    client = api_client_for(author)
    first = services.research_link_add(proposal=proposal, url="https://example.com/1", title="One", by=author)
    services.research_link_add(proposal=proposal, url="https://example.com/2", title="Two", by=author)

    moved = client.post(url(proposal, f"research-links/{first.pk}/move/"), {"direction": "down"}, format="json")
    assert [row["title"] for row in moved.json()] == ["Two", "One"]
    assert client.delete(url(proposal, f"research-links/{first.pk}/")).status_code == 204
    assert list(proposal.research_links.values_list("title", flat=True)) == ["Two"]


def test_other_authors_change_no_row(api_client_for, author, other_author, proposal):
    requirement = services.requirement_add(proposal=proposal, text="Read", by=author)
    link = services.research_link_add(proposal=proposal, url="https://example.com/1", title="One", by=author)
    client = api_client_for(other_author)

    answers = [
        client.patch(url(proposal, f"requirements/{requirement.pk}/"), {"text": "x"}, format="json"),
        client.delete(url(proposal, f"requirements/{requirement.pk}/")),
        client.post(url(proposal, f"requirements/{requirement.pk}/move/"), {"direction": "up"}, format="json"),
        client.delete(url(proposal, f"research-links/{link.pk}/")),
    ]

    assert [answer.status_code for answer in answers] == [403] * 4
    assert proposal.requirements.get().text == "Read" and proposal.research_links.exists()


# --- template move -----------------------------------------------------------------------------------


def test_the_template_preview_changes_nothing_and_the_move_keeps_every_answer(api_client_for, author, proposal):
    Proposal.objects.filter(pk=proposal.pk).update(user_problem="Threads are long.", confidence="high")
    services.requirement_add(proposal=proposal, text="Read a summary", by=author)
    client = api_client_for(author)
    version = Proposal.objects.get(pk=proposal.pk).version

    preview = client.get(url(proposal, "template/"), {"version": "2023-07"})
    assert preview.status_code == 200
    values = {f["name"]: f["value"] for section in preview.json()["sections"] for f in section["fields"]}
    assert values["user_problem"] == "Threads are long."
    assert "Read a summary" in values.values()
    assert Proposal.objects.get(pk=proposal.pk).template_version == "2023-06"
    assert Proposal.objects.get(pk=proposal.pk).version == version

    moved = client.post(url(proposal, "template/"), {"version": "2023-07"}, format="json")
    assert moved.status_code == 200 and moved.json()["template_version"] == "2023-07"
    assert Proposal.objects.get(pk=proposal.pk).user_problem == "Threads are long."
    assert client.get(url(proposal, "template/"), {"version": "1999-01"}).status_code == 400
    assert client.get(url(proposal, "template/")).status_code == 400


# --- GitLab conflicts ----------------------------------------------------------------------------------


@pytest.fixture
def conflict(proposal):
    SyncState.objects.get_or_create(proposal=proposal)
    return SyncConflict.objects.create(
        proposal=proposal,
        field="field:user_problem",
        label="User problem",
        base_value="",
        local_value="Stagegate's words",
        remote_value="GitLab's words",
    )


def test_conflicts_are_listed_to_readers_and_resolved_by_editors(
    api_client_for, author, working_group_member, proposal, conflict
):
    listed = api_client_for(working_group_member).get(url(proposal, "conflicts/"))
    assert [(row["label"], row["local_value"], row["remote_value"]) for row in listed.json()] == [
        ("User problem", "Stagegate's words", "GitLab's words")
    ]
    resolve = url(proposal, f"conflicts/{conflict.pk}/resolve/")
    assert api_client_for(working_group_member).post(resolve, {"choice": "remote"}, format="json").status_code == 403

    resolved = api_client_for(author).post(resolve, {"choice": "remote"}, format="json")

    assert resolved.status_code == 200 and resolved.json()["resolution"] == "remote"
    assert Proposal.objects.get(pk=proposal.pk).user_problem == "GitLab's words"
    assert api_client_for(author).get(url(proposal, "conflicts/")).json() == []
    assert api_client_for(author).post(resolve, {"choice": "local"}, format="json").status_code == 404


def test_an_edited_text_resolves_a_conflict(api_client_for, author, proposal, conflict):
    response = api_client_for(author).post(
        url(proposal, f"conflicts/{conflict.pk}/resolve/"), {"choice": "local", "text": "Both, merged."}, "json"
    )

    assert response.status_code == 200
    assert Proposal.objects.get(pk=proposal.pk).user_problem == "Both, merged."


def test_conflicts_of_a_confidential_proposal_are_hidden(api_client_for, author, other_author):
    secret = ProposalFactory(owner=author, confidential=True)
    SyncState.objects.get_or_create(proposal=secret)
    SyncConflict.objects.create(proposal=secret, field="title", local_value="a", remote_value="b")

    assert api_client_for(other_author).get(url(secret, "conflicts/")).status_code == 404


# --- import from Markdown ----------------------------------------------------------------------------


@pytest.fixture
def issue_body(author):
    source = ProposalFactory(owner=author, title="Source")
    Proposal.objects.filter(pk=source.pk).update(user_problem="Threads are long.", success="Half read it.")
    return render(content_from_proposal(Proposal.objects.get(pk=source.pk)))


def test_the_import_preview_reports_and_creates_nothing(api_client_for, author, issue_body):
    count = Proposal.objects.count()

    response = api_client_for(author).post("/api/proposals/import/preview/", {"markdown": issue_body}, format="json")

    assert response.status_code == 200
    assert {"user_problem", "success"} <= set(response.json()["found"])
    assert response.json()["template"]
    assert Proposal.objects.count() == count


def test_importing_creates_a_proposal_owned_by_the_caller(api_client_for, author, issue_body):
    response = api_client_for(author).post(
        "/api/proposals/import/", {"markdown": issue_body, "title": "Imported via API"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["proposal"]["title"] == "Imported via API" and body["proposal"]["owner"] == "ada"
    assert "user_problem" in body["report"]["found"]
    assert Proposal.objects.get(pk=body["proposal"]["id"]).user_problem == "Threads are long."


def test_only_authors_and_admins_import_and_empty_bodies_are_refused(api_client_for, author, working_group_member):
    count = Proposal.objects.count()
    for path in ("/api/proposals/import/", "/api/proposals/import/preview/"):
        assert api_client_for(working_group_member).post(path, {"markdown": "## X"}, format="json").status_code == 403
        assert api_client_for(author).post(path, {"markdown": "   "}, format="json").status_code == 400
    assert Proposal.objects.count() == count


# --- authors and watchers ------------------------------------------------------------------------------


def test_a_co_author_edits_reads_the_confidential_proposal_but_never_hands_it_over(
    api_client_for, author, other_author
):
    secret = ProposalFactory(owner=author, confidential=True)
    assert api_client_for(other_author).get(url(secret)).status_code == 404

    named = api_client_for(author).put(url(secret, "co-authors/"), {"co_authors": ["grace"]}, format="json")

    assert named.status_code == 200 and named.json()["co_authors"] == ["grace"]
    co_author = api_client_for(other_author)
    assert co_author.get(url(secret)).json()["editable"] is True
    assert co_author.post(url(secret, "requirements/"), {"text": "Written together"}, format="json").status_code == 201
    assert co_author.post(url(secret, "owner/"), {"owner": "grace"}, format="json").status_code == 403
    assert co_author.put(url(secret, "co-authors/"), {"co_authors": []}, format="json").status_code == 403
    assert InAppNotification.objects.filter(user=other_author, proposal=secret).exists()
    assert secret.activities.filter(message__contains="as co-author").exists()


def test_handing_over_makes_the_new_owner_tells_them_and_says_so_on_the_timeline(api_client_for, author, other_author):
    secret = ProposalFactory(owner=author, confidential=True)

    response = api_client_for(author).post(url(secret, "owner/"), {"owner": "grace"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"id": secret.pk, "owner": "grace", "readable": False}
    assert Proposal.objects.get(pk=secret.pk).owner == other_author
    assert api_client_for(author).get(url(secret)).status_code == 404  # handed over, and confidential
    assert InAppNotification.objects.filter(user=other_author, proposal=secret).exists()
    entry = secret.activities.filter(message__contains="handed the proposal").get()
    assert entry.actor == author and entry.data["owner"] == ["ada", "grace"]


def test_only_authors_and_admins_become_owners_or_co_authors(api_client_for, author, working_group_member, proposal):
    client = api_client_for(author)

    for body in ({"owner": "katherine"}, {"owner": "nobody-by-that-name"}):
        assert client.post(url(proposal, "owner/"), body, format="json").status_code == 400
    for names in (["katherine"], ["nobody-by-that-name"]):
        assert client.put(url(proposal, "co-authors/"), {"co_authors": names}, format="json").status_code == 400
    UserFactory(username="gone", groups=["author"], is_active=False)
    assert client.post(url(proposal, "owner/"), {"owner": "gone"}, format="json").status_code == 400
    proposal.refresh_from_db()
    assert proposal.owner == author and not proposal.co_authors.exists()


def test_an_admin_hands_over_someone_elses_proposal(api_client_for, admin_user, author, other_author, proposal):
    response = api_client_for(admin_user).post(url(proposal, "owner/"), {"owner": "grace"}, format="json")

    assert response.status_code == 200 and response.json()["readable"] is True
    assert Proposal.objects.get(pk=proposal.pk).owner == other_author


def test_watching_through_the_api(api_client_for, working_group_member, author, proposal):
    client = api_client_for(working_group_member)

    assert client.put(url(proposal, "watch/")).json() == {"watching": True, "watchers": 1}
    assert client.put(url(proposal, "watch/")).json() == {"watching": True, "watchers": 1}
    assert api_client_for(author).get(url(proposal)).json()["watchers"] == ["katherine"]
    assert client.delete(url(proposal, "watch/")).json() == {"watching": False, "watchers": 0}
    assert not Watch.objects.exists()
    secret = ProposalFactory(owner=author, confidential=True)
    assert client.put(url(secret, "watch/")).status_code == 404


# --- confidence without evidence -----------------------------------------------------------------------


def test_high_confidence_without_research_is_flagged_and_filtered(api_client_for, author):
    unbacked = ProposalFactory(owner=author, title="Unbacked", confidence="high")
    backed = ProposalFactory(owner=author, title="Backed", confidence="high")
    services.research_link_add(proposal=backed, url="https://example.com/r", title="R", by=author)
    ProposalFactory(owner=author, title="Low", confidence="low")
    client = api_client_for(author)

    rows = {row["title"]: row["confidence_unbacked"] for row in client.get("/api/proposals/").json()["results"]}
    assert rows == {"Unbacked": True, "Backed": False, "Low": False}
    filtered = client.get("/api/proposals/", {"unbacked": "true"}).json()
    assert [row["title"] for row in filtered["results"]] == ["Unbacked"]
    assert client.get(url(unbacked)).json()["confidence_unbacked"] is True


def test_the_schema_documents_every_new_operation(api_client_for, author):
    schema = api_client_for(author).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}

    assert {
        "proposals_advance",
        "proposals_approve",
        "proposals_close",
        "proposals_reopen",
        "proposals_requirement_edit",
        "proposals_requirement_move",
        "proposals_requirement_remove",
        "proposals_research_link_remove",
        "proposals_research_link_move",
        "proposals_template_move_preview",
        "proposals_template_move",
        "proposals_conflicts_list",
        "proposals_conflict_resolve",
        "proposals_import_preview",
        "proposals_import",
        "proposals_owner_transfer",
        "proposals_co_authors_set",
        "proposals_watch",
        "proposals_unwatch",
    } <= operations
    requirement_edit = schema["paths"]["/api/proposals/{id}/requirements/{row_id}/"]["patch"]
    assert "requestBody" in requirement_edit and {"200", "400", "403", "404"} <= set(requirement_edit["responses"])
