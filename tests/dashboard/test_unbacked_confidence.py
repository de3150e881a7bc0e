"""Confidence without evidence on the dashboard: a marker in the matrix, a count, and the filter."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from proposals import services

DASHBOARD = reverse("dashboard:index")
pytestmark = pytest.mark.django_db


@pytest.fixture
def claims(make_proposal):
    unbacked = make_proposal(title="Unbacked claim", confidence="high")
    researched = make_proposal(title="Researched claim", confidence="high")
    services.research_link_add(proposal=researched, url="https://example.com/r", title="R", by=researched.owner)
    make_proposal(title="Modest claim", confidence="low")
    make_proposal(title="Secret claim", confidence="high", confidential=True)
    return unbacked


def test_the_matrix_marks_and_the_dashboard_counts_high_confidence_without_research(wg_client, claims):
    response = wg_client.get(DASHBOARD)

    flagged = {row.proposal.title for row in response.context["matrix"] if row.proposal.confidence_unbacked}
    assert flagged == {"Unbacked claim"}  # the confidential one is not the working group's to see
    assert response.context["unbacked_confidence"] == 1
    html = response.content.decode()
    assert "1 proposal with High confidence and no research link" in html
    assert html.count('class="badge badge-unbacked"') == 1


def test_the_filter_keeps_only_those_and_the_api_agrees(wg_client, claims, working_group_member):
    response = wg_client.get(DASHBOARD, {"unbacked": "on"})

    assert [row.proposal.title for row in response.context["matrix"]] == ["Unbacked claim"]
    api = APIClient()
    api.force_authenticate(working_group_member)
    figures = api.get("/api/dashboard/").json()
    assert (figures["proposals"], figures["unbacked_confidence"]) == (3, 1)
    assert api.get("/api/dashboard/", {"unbacked": "true"}).json()["proposals"] == 1


def test_adding_research_clears_the_flag(wg_client, claims):
    services.research_link_add(proposal=claims, url="https://example.com/s", title="Survey", by=claims.owner)

    assert wg_client.get(DASHBOARD).context["unbacked_confidence"] == 0
