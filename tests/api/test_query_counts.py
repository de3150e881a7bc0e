"""Each API read costs a fixed number of queries, however many rows it returns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import services
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def test_proposal_list(api_client_for, author):
    client = api_client_for(author)
    ProposalFactory.create_batch(2, owner=author)
    few = count_queries(client, "/api/proposals/")

    ProposalFactory.create_batch(20, owner=author)

    assert count_queries(client, "/api/proposals/") == few


def test_proposal_detail(api_client_for, author, proposal):
    client = api_client_for(author)
    url = f"/api/proposals/{proposal.pk}/"
    bare = count_queries(client, url)

    for n in range(8):
        services.requirement_add(proposal=proposal, text=f"Requirement {n}", by=author)
        services.research_link_add(proposal=proposal, url=f"https://example.com/{n}", title=f"Study {n}", by=author)

    assert count_queries(client, url) == bare


def test_review_list(api_client_for, reviewer, author):
    client = api_client_for(reviewer)
    ProposalFactory.create_batch(1, owner=author)
    few = count_queries(client, "/api/reviews/")

    ProposalFactory.create_batch(4, owner=author)

    assert count_queries(client, "/api/reviews/") == few


def test_dashboard(api_client_for, working_group_member, author):
    client = api_client_for(working_group_member)
    ProposalFactory.create_batch(2, owner=author)
    few = count_queries(client, "/api/dashboard/")

    ProposalFactory.create_batch(15, owner=author)

    assert count_queries(client, "/api/dashboard/") == few
