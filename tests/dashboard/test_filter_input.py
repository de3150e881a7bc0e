"""The proposal filters shared by the list, the dashboard (page and CSV) and the API: one spelling of "unset"
for proposals without a confidence, and hostile input that is ignored (pages) or refused (API), never a 500."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from proposals.filters import UNSET
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db

LIST = reverse("proposals:list")
DASHBOARD = reverse("dashboard:index")
CSV = reverse("dashboard:csv")

LIST_FILTERS = ("q", "stage", "state", "confidence", "owner")
DASHBOARD_FILTERS = (*LIST_FILTERS, "area", "area_state", "label", "sort")
# The pages also take the page number from the same query; the API's pagination answers 404 to a page it lacks.
LIST_PARAMS = (*LIST_FILTERS, "page")
DASHBOARD_PARAMS = (*DASHBOARD_FILTERS, "page")
HOSTILE = ("\x00", "ga\x00", "a\x01b", "\x1b[31m", "\x7f", "\r\n")


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def unsure_and_sure(author):
    unsure = ProposalFactory(owner=author, title="Nobody knows yet")
    ProposalFactory(owner=author, title="Quite sure", confidence="high")
    return unsure


def test_unset_confidence_finds_proposals_without_one_on_the_list(author_client, unsure_and_sure):
    html = author_client.get(LIST, {"confidence": UNSET}).content.decode()
    assert "Nobody knows yet" in html
    assert "Quite sure" not in html


def test_unset_confidence_finds_proposals_without_one_on_the_dashboard(client, working_group_member, unsure_and_sure):
    client.force_login(working_group_member)
    page = client.get(DASHBOARD, {"confidence": UNSET})
    assert [row.proposal.title for row in page.context["matrix"]] == ["Nobody knows yet"]
    csv = b"".join(client.get(CSV, {"confidence": UNSET}).streaming_content).decode()
    assert "Nobody knows yet" in csv
    assert "Quite sure" not in csv


def test_unset_confidence_finds_proposals_without_one_in_the_api(author, unsure_and_sure):
    client = api_client(author)
    listed = client.get("/api/proposals/", {"confidence": UNSET}).json()
    assert [row["title"] for row in listed["results"]] == ["Nobody knows yet"]
    assert client.get("/api/dashboard/", {"confidence": UNSET}).json()["proposals"] == 1


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("param", LIST_PARAMS)
def test_control_characters_in_a_list_filter_are_ignored(author_client, unsure_and_sure, param, value):
    response = author_client.get(LIST, {param: value})
    assert response.status_code == 200
    assert "Nobody knows yet" in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("param", DASHBOARD_PARAMS)
def test_control_characters_in_a_dashboard_filter_are_ignored(
    client, working_group_member, unsure_and_sure, param, value
):
    client.force_login(working_group_member)
    page = client.get(DASHBOARD, {param: value})
    assert page.status_code == 200
    assert page.context["total"] == 2
    csv = client.get(CSV, {param: value})
    assert csv.status_code == 200
    assert "Nobody knows yet" in b"".join(csv.streaming_content).decode()


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("param", LIST_FILTERS)
def test_control_characters_in_an_api_list_filter_are_refused(author, unsure_and_sure, param, value):
    response = api_client(author).get("/api/proposals/", {param: value})
    # A filter answers 400 with the field's error; whitespace alone is no filter at all.
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert param in response.json()


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("param", DASHBOARD_PARAMS)
def test_control_characters_in_an_api_dashboard_filter_are_ignored(working_group_member, unsure_and_sure, param, value):
    response = api_client(working_group_member).get("/api/dashboard/", {param: value})
    assert response.status_code == 200
    assert response.json()["proposals"] == 2
