"""The proposals API: token auth, the pages' visibility and edit rules, pagination, optimistic locking."""

import pytest
from rest_framework.test import APIClient

from proposals.models import ChecklistItem, Proposal
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_without_a_token_nothing_is_readable(proposal):
    assert APIClient().get("/api/proposals/").status_code == 401
    assert APIClient().get(f"/api/proposals/{proposal.pk}/").status_code == 401


def test_a_wrong_token_is_refused(proposal):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get("/api/proposals/").status_code == 401


def test_a_token_reads_what_its_owner_may_see(api_client_for, proposal, other_author):
    response = api_client_for(other_author).get("/api/proposals/")

    assert response.status_code == 200
    assert [row["title"] for row in response.json()["results"]] == ["Explain this vulnerability"]


def test_a_signed_in_browser_session_reads_the_api_too(author_client, proposal):
    assert author_client.get("/api/proposals/").json()["count"] == 1


def test_confidential_proposals_are_invisible_to_other_authors_and_the_working_group(
    api_client_for, author, other_author, working_group_member, reviewer, admin_user
):
    secret = ProposalFactory(owner=author, title="Secret acquisition", confidential=True)
    ProposalFactory(owner=author, title="Public idea")

    for outsider in (other_author, working_group_member):
        client = api_client_for(outsider)
        listing = client.get("/api/proposals/").json()
        assert [row["title"] for row in listing["results"]] == ["Public idea"]
        assert listing["count"] == 1
        assert client.get(f"/api/proposals/{secret.pk}/").status_code == 404
        assert client.get("/api/proposals/", {"q": "Secret"}).json()["count"] == 0
        assert client.get("/api/dashboard/").json()["proposals"] == 1
        assert client.get("/api/reviews/", {"proposal": secret.pk}).json()["count"] == 0

    for insider in (author, reviewer, admin_user):
        client = api_client_for(insider)
        assert client.get(f"/api/proposals/{secret.pk}/").status_code == 200
        assert client.get("/api/dashboard/").json()["proposals"] == 2


def test_list_is_paginated(api_client_for, author):
    for n in range(30):
        ProposalFactory(owner=author, title=f"Proposal {n:02}")
    client = api_client_for(author)

    first = client.get("/api/proposals/").json()
    assert first["count"] == 30
    assert len(first["results"]) == 25
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    seen = {row["id"] for row in first["results"]} | {row["id"] for row in second["results"]}
    assert len(seen) == 30

    small = client.get("/api/proposals/", {"page_size": 10, "page": 3}).json()
    assert len(small["results"]) == 10
    assert client.get("/api/proposals/", {"page_size": 1000}).json()["results"].__len__() == 30  # capped at 100
    assert client.get("/api/proposals/", {"page": 99}).status_code == 404


def test_creating_a_proposal_makes_the_caller_its_author(api_client_for, author):
    response = api_client_for(author).post(
        "/api/proposals/", {"title": "Triage flaky tests", "confidential": True}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == "ada"
    assert body["confidential"] is True
    assert body["editable"] is True
    assert {section["key"] for section in body["sections"]} >= {"details"}
    assert Proposal.objects.get(pk=body["id"]).owner == author


def test_a_blank_title_is_refused(api_client_for, author):
    response = api_client_for(author).post("/api/proposals/", {"title": "   "}, format="json")

    assert response.status_code == 400
    assert not Proposal.objects.exists()


def _section(body: dict, key: str) -> dict:
    return next(section for section in body["sections"] if key == section["key"])


def _first_text_section(body: dict) -> tuple[dict, str]:
    for section in body["sections"]:
        if "user_problem" in section["values"]:
            return section, "user_problem"
    raise AssertionError("no section holds the user problem")


def test_author_saves_a_section_and_reads_it_back(api_client_for, author, proposal):
    client = api_client_for(author)
    body = client.get(f"/api/proposals/{proposal.pk}/").json()
    section, field = _first_text_section(body)

    response = client.patch(
        f"/api/proposals/{proposal.pk}/sections/{section['key']}/",
        {"version": body["version"], "base": section["base"], "values": {field: "Reviewers drown in threads."}},
        format="json",
    )

    assert response.status_code == 200
    assert _section(response.json(), section["key"])["values"][field] == "Reviewers drown in threads."
    assert response.json()["version"] == body["version"] + 1
    proposal.refresh_from_db()
    assert proposal.user_problem == "Reviewers drown in threads."


def test_a_stale_save_is_refused_with_both_texts(api_client_for, author, proposal):
    client = api_client_for(author)
    body = client.get(f"/api/proposals/{proposal.pk}/").json()
    section, field = _first_text_section(body)
    url = f"/api/proposals/{proposal.pk}/sections/{section['key']}/"
    first = {"version": body["version"], "base": section["base"], "values": {field: "Mine, saved first."}}
    assert client.patch(url, first, format="json").status_code == 200

    stale = {"version": body["version"], "base": section["base"], "values": {field: "Theirs, from an old form."}}
    response = client.patch(url, stale, format="json")

    assert response.status_code == 409
    conflict = response.json()
    assert conflict["current"][field] == "Mine, saved first."
    assert conflict["submitted"][field] == "Theirs, from an old form."
    assert conflict["version"] == body["version"] + 1
    proposal.refresh_from_db()
    assert proposal.user_problem == "Mine, saved first."
    # Retrying with what the conflict returned succeeds.
    retry = {"version": conflict["version"], "base": conflict["base"], "values": {field: "Merged text."}}
    assert client.patch(url, retry, format="json").status_code == 200


def test_unknown_fields_and_wrong_types_are_refused_without_saving(api_client_for, author, proposal):
    client = api_client_for(author)
    body = client.get(f"/api/proposals/{proposal.pk}/").json()
    section, field = _first_text_section(body)
    url = f"/api/proposals/{proposal.pk}/sections/{section['key']}/"

    for values in ({"owner": "grace"}, {field: 42}, {field: "a\x00b"}, {}):
        response = client.patch(url, {"version": body["version"], "base": section["base"], "values": values}, "json")
        assert response.status_code == 400, values
    assert client.patch(f"/api/proposals/{proposal.pk}/sections/nope/", {}, format="json").status_code == 404
    proposal.refresh_from_db()
    assert proposal.version == body["version"]


def test_other_authors_get_403_on_every_write_and_nothing_changes(api_client_for, author, other_author, proposal):
    owner_view = api_client_for(author).get(f"/api/proposals/{proposal.pk}/").json()
    section, field = _first_text_section(owner_view)
    item = ChecklistItem.objects.filter(proposal=proposal).first()
    client = api_client_for(other_author)

    writes = [
        client.patch(
            f"/api/proposals/{proposal.pk}/sections/{section['key']}/",
            {"version": owner_view["version"], "base": section["base"], "values": {field: "hijacked"}},
            format="json",
        ),
        client.post(f"/api/proposals/{proposal.pk}/checklist/{item.pk}/", {"checked": True}, format="json"),
        client.post(f"/api/proposals/{proposal.pk}/requirements/", {"text": "hijack"}, format="json"),
        client.post(f"/api/proposals/{proposal.pk}/research-links/", {"url": "https://example.com"}, format="json"),
        client.post(f"/api/proposals/{proposal.pk}/submit/", format="json"),
    ]

    assert [response.status_code for response in writes] == [403] * 5
    assert client.get(f"/api/proposals/{proposal.pk}/").json()["editable"] is False
    proposal.refresh_from_db()
    assert proposal.version == owner_view["version"]
    assert not proposal.requirements.exists()
    assert not proposal.research_links.exists()


def test_writes_to_an_invisible_proposal_are_404_not_403(api_client_for, author, other_author):
    secret = ProposalFactory(owner=author, confidential=True)

    response = api_client_for(other_author).post(f"/api/proposals/{secret.pk}/requirements/", {"text": "x"}, "json")

    assert response.status_code == 404


def test_an_admin_may_edit_someone_elses_proposal(api_client_for, admin_user, proposal):
    response = api_client_for(admin_user).post(
        f"/api/proposals/{proposal.pk}/requirements/", {"text": "See the summary beside the thread"}, format="json"
    )

    assert response.status_code == 201
    assert list(proposal.requirements.values_list("text", flat=True)) == ["See the summary beside the thread"]


def test_author_ticks_a_checklist_item_and_adds_research(api_client_for, author, proposal):
    client = api_client_for(author)
    checklist = client.get(f"/api/proposals/{proposal.pk}/").json()["checklist"]
    manual = next(item for item in checklist if not item["checked_by_app"])
    verified = next((item for item in checklist if item["checked_by_app"]), None)

    ticked = client.post(f"/api/proposals/{proposal.pk}/checklist/{manual['id']}/", {"checked": True}, format="json")
    link = client.post(
        f"/api/proposals/{proposal.pk}/research-links/",
        {"url": "https://gitlab.example.com/ux/research/-/issues/1", "title": "Interviews"},
        format="json",
    )
    bad_link = client.post(f"/api/proposals/{proposal.pk}/research-links/", {"url": "javascript:alert(1)"}, "json")

    assert ticked.status_code == 200 and ticked.json()["checked"] is True
    assert ChecklistItem.objects.get(pk=manual["id"]).checked is True
    assert link.status_code == 201
    assert bad_link.status_code == 400
    if verified is not None:
        refused = client.post(f"/api/proposals/{proposal.pk}/checklist/{verified['id']}/", {"checked": True}, "json")
        assert refused.status_code == 400


def test_filters_are_validated(api_client_for, author, proposal):
    client = api_client_for(author)

    assert client.get("/api/proposals/", {"stage": "nonsense"}).status_code == 400
    assert client.get("/api/proposals/", {"q": "vulnerabilities"}).json()["count"] == 1
    assert client.get("/api/proposals/", {"q": "nothing like it"}).json()["count"] == 0


def test_the_openapi_schema_describes_every_operation(api_client_for, author):
    schema = api_client_for(author).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert schema["openapi"].startswith("3.")
    assert "/api/proposals/{id}/sections/{section_key}/" in schema["paths"]
    assert "409" in schema["paths"]["/api/proposals/{id}/sections/{section_key}/"]["patch"]["responses"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_users_without_a_role_read_but_never_edit(api_client_for, proposal):
    nobody = UserFactory(username="visitor")
    client = api_client_for(nobody)

    assert client.get(f"/api/proposals/{proposal.pk}/").status_code == 200
    assert client.post(f"/api/proposals/{proposal.pk}/requirements/", {"text": "x"}, format="json").status_code == 403
