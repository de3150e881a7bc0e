"""Each API read costs a fixed number of queries, however many rows it returns."""

import pytest

from gitlab_sync.models import SyncConflict
from proposals import services
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db

# Token and groups, then what each read needs; the same with 10 rows as with 50.
QUERIES_PROPOSAL_LIST = 4
QUERIES_PROPOSAL_DETAIL = 11  # with the co-authors and the watchers
QUERIES_REVIEW_LIST = 4
QUERIES_DASHBOARD = 15  # the page's figures (decision turnaround too), without the filter form's choices


@pytest.fixture
def get_in_queries(django_assert_num_queries):
    def get(client, url: str, queries: int) -> None:
        with django_assert_num_queries(queries):
            response = client.get(url)
        assert response.status_code == 200, response.content

    return get


def test_proposal_list(api_client_for, author, get_in_queries):
    client = api_client_for(author)
    ProposalFactory.create_batch(10, owner=author)
    get_in_queries(client, "/api/proposals/", QUERIES_PROPOSAL_LIST)

    ProposalFactory.create_batch(40, owner=author)

    get_in_queries(client, "/api/proposals/", QUERIES_PROPOSAL_LIST)


def test_proposal_detail(api_client_for, author, proposal, get_in_queries):
    client = api_client_for(author)
    url = f"/api/proposals/{proposal.pk}/"
    get_in_queries(client, url, QUERIES_PROPOSAL_DETAIL)

    for n in range(8):
        services.requirement_add(proposal=proposal, text=f"Requirement {n}", by=author)
        services.research_link_add(proposal=proposal, url=f"https://example.com/{n}", title=f"Study {n}", by=author)

    get_in_queries(client, url, QUERIES_PROPOSAL_DETAIL)


def test_review_list(api_client_for, reviewer, author, get_in_queries):
    client = api_client_for(reviewer)
    ProposalFactory.create_batch(2, owner=author)
    get_in_queries(client, "/api/reviews/", QUERIES_REVIEW_LIST)

    ProposalFactory.create_batch(8, owner=author)

    get_in_queries(client, "/api/reviews/", QUERIES_REVIEW_LIST)


def test_dashboard(api_client_for, working_group_member, author, get_in_queries):
    client = api_client_for(working_group_member)
    ProposalFactory.create_batch(10, owner=author)
    get_in_queries(client, "/api/dashboard/", QUERIES_DASHBOARD)

    ProposalFactory.create_batch(40, owner=author)

    get_in_queries(client, "/api/dashboard/", QUERIES_DASHBOARD)


QUERIES_CONFLICT_LIST = 4  # token and groups, the proposal, its open conflicts


def test_conflict_list(api_client_for, author, proposal, get_in_queries):
    client = api_client_for(author)
    url = f"/api/proposals/{proposal.pk}/conflicts/"
    SyncConflict.objects.create(proposal=proposal, field="field:0", local_value="a", remote_value="b")
    get_in_queries(client, url, QUERIES_CONFLICT_LIST)

    for n in range(1, 20):
        SyncConflict.objects.create(proposal=proposal, field=f"field:{n}", local_value="a", remote_value="b")

    get_in_queries(client, url, QUERIES_CONFLICT_LIST)
