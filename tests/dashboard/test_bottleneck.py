"""The dashboard leads with the bottleneck: the ORR area holding most proposals, how long, who is loaded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.models import Proposal
from reviews.models import Review
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard:index")


def waiting(make_proposal, author, title, *, areas, days, reviewer=None):
    proposal = make_proposal(title=title, owner=author, state=Proposal.State.IN_REVIEW)
    Review.objects.filter(proposal=proposal, area__key__in=areas).update(
        status=Review.Status.IN_REVIEW, assigned_at=timezone.now() - timedelta(days=days), reviewer=reviewer
    )
    return proposal


def test_the_bottleneck_names_the_area_holding_most_proposals_how_long_and_who_is_loaded(
    wg_client, make_proposal, author
):
    rosalind = UserFactory(username="rosalind", groups=["reviewer"])
    for n, days in enumerate((2, 4, 6)):
        waiting(make_proposal, author, f"Data {n}", areas=["data"], days=days, reviewer=rosalind)
    waiting(make_proposal, author, "Cost only", areas=["cost"], days=30)
    html = wg_client.get(DASHBOARD).content.decode()
    card = html[html.index('data-testid="bottleneck"') :]
    card = card[: card.index("</section>")]
    assert "Data Limitation" in card and "3 proposals" in card and "against 1 in all the other areas" in card
    assert "4.0 days" in card  # the median wait, on PostgreSQL and SQLite alike
    assert "rosalind (3 reviews)" in card
    # It comes before the funnel.
    assert html.index('data-testid="bottleneck"') < html.index('id="funnel-title"')


def test_with_nothing_waiting_the_bottleneck_says_so(wg_client, make_proposal, author):
    make_proposal(title="Just a draft", owner=author)
    html = wg_client.get(DASHBOARD).content.decode()
    assert "nothing is held up in the ORR" in html


def test_counts_read_in_the_singular_for_one(wg_client, make_proposal, author):
    waiting(make_proposal, author, "Alone", areas=["legal"], days=1, reviewer=UserFactory(username="ada_r"))
    html = wg_client.get(DASHBOARD + "?q=Alone").content.decode()
    assert "1 proposal matches these filters" in html
    assert "1 proposal</strong> waits" in html and "ada_r (1 review)" in html and "1.0 day " in html
    assert "1 proposals" not in html and "1 reviews" not in html


def test_the_bottleneck_costs_no_query_per_proposal(wg_client, make_proposal, author):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            wg_client.get(DASHBOARD)
        return len(captured)

    waiting(make_proposal, author, "First", areas=["data"], days=1)
    few = queries()
    for n in range(10):
        waiting(make_proposal, author, f"More {n}", areas=["data", "cost"], days=n, reviewer=UserFactory())
    assert queries() == few
